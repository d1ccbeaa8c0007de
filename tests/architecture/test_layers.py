"""DESIGN.md's one dependency rule: the domain never imports storage, CLI, web, cluster or
I/O layers.

Each domain layer is imported in a clean interpreter; the test fails if any forbidden module was
pulled in, directly or through another module.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

# Every domain layer of DESIGN.md; a layer not built yet is reported as skipped, never passed.
DOMAIN_LAYERS = [
    "bufferwise.model",
    "bufferwise.errors",
    "bufferwise.kernels",
    "bufferwise.profile",
    "bufferwise.sizing",
    "bufferwise.decide",
    "bufferwise.equipment",
    "bufferwise.simulate",
    "bufferwise.demo",
]

# Edge layers of the package, and the third-party libraries that belong to them only.
FORBIDDEN_PREFIXES = [
    "bufferwise.storage",
    "bufferwise.cli",
    "bufferwise.web",
    "bufferwise.distributed",
    "bufferwise.services",
    "bufferwise.ingest",
    "sqlalchemy",
    "alembic",
    "typer",
    "fastapi",
    "dask",
    "distributed",
    "psycopg",
    "openpyxl",
]

# kernels sit at the bottom: they import nothing else from the package.
KERNEL_ALLOWED = {"bufferwise", "bufferwise.kernels"}

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules)))
"""


def _modules_after_import(layer: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, layer], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("layer", DOMAIN_LAYERS)
def test_domain_layer_imports_no_edge_layer(layer: str) -> None:
    if importlib.util.find_spec(layer) is None:
        pytest.skip(f"{layer} does not exist yet")
    loaded = _modules_after_import(layer)
    offending = [
        m for m in loaded if any(m == p or m.startswith(p + ".") for p in FORBIDDEN_PREFIXES)
    ]
    assert not offending, f"{layer} pulls in {offending}"


def test_kernels_import_nothing_else_from_the_package() -> None:
    loaded = _modules_after_import("bufferwise.kernels")
    ours = {m for m in loaded if m == "bufferwise" or m.startswith("bufferwise.")}
    extra = {
        m
        for m in ours
        if not any(m == a or m.startswith("bufferwise.kernels") for a in KERNEL_ALLOWED)
    }
    assert not extra, f"bufferwise.kernels imports {sorted(extra)}"
