# The two commands of the README, on a fresh machine with only python3 (>= 3.11):
#   make example   build the example plant, import it into bufferwise.db (SQLite), run the main job
#   make test      run the whole test suite (PostgreSQL tests need the server at 127.0.0.1:5432)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: example test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

example: $(STAMP)
	$(BIN)/bufferwise demo --out examples/plant/data
	$(BIN)/bufferwise analyze examples/plant/data --out out/example

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out bufferwise.db examples/plant/data
