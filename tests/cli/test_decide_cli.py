"""`bufferwise decide` and `bufferwise scenario` on the example plant through the command line
(issue 5: a 30-day outage of the least reliable supplier, run with the current and the
recommended policies, reports the difference in stockout days and cost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bufferwise.cli import app
from bufferwise.demo import generate_plant
from bufferwise.services.imports import import_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plant_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    base = tmp_path_factory.mktemp("plant")
    truth = generate_plant(base / "data")
    url = f"sqlite:///{base / 'plant.db'}"
    import_files(url, [base / "data"])
    return url, truth


def _least_reliable_supplier(truth: object) -> str:
    suppliers = truth.suppliers  # type: ignore[attr-defined]
    return min(suppliers, key=lambda s: suppliers[s].measured_on_time)


def test_decide_prints_every_item_as_json(plant_db: tuple[str, object]) -> None:
    url, truth = plant_db
    result = CliRunner().invoke(app, ["--db", url, "decide", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == len(truth.items)  # type: ignore[attr-defined]
    assert {r["stance"] for r in rows} <= {"jit", "lean", "buffer", "strategic"}
    assert all(r["drivers"] for r in rows)


def test_outage_of_least_reliable_supplier(plant_db: tuple[str, object], tmp_path: Path) -> None:
    url, truth = plant_db
    supplier = _least_reliable_supplier(truth)
    f = tmp_path / "s.toml"
    f.write_text(
        f'[[scenarios]]\nname = "{supplier} out 30 days"\n'
        f'supplier_outage = {{ supplier_id = "{supplier}", days = 30 }}\n'
    )
    result = CliRunner().invoke(app, ["--db", url, "scenario", str(f), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["policy"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"current", "recommended"}
    for r in rows.values():
        # an outage never improves service: stockout days and cost do not fall
        assert r["stockout_days_after"] >= r["stockout_days_before"]
        assert r["stockout_cost_after"] >= r["stockout_cost_before"]
        assert r["items_affected"] > 0
    # the recommended buffers absorb the outage better than the ones in force
    cur, rec = rows["current"], rows["recommended"]
    assert (rec["stockout_days_after"] - rec["stockout_days_before"]) < (
        cur["stockout_days_after"] - cur["stockout_days_before"]
    )


def test_bad_scenario_file_names_the_scenario(plant_db: tuple[str, object], tmp_path: Path) -> None:
    url, _ = plant_db
    f = tmp_path / "bad.toml"
    f.write_text('[[scenarios]]\nname = "x"\nsupplier_outag = { supplier_id = "S05", days = 3 }\n')
    result = CliRunner().invoke(app, ["--db", url, "scenario", str(f)])
    assert result.exit_code == 1
    assert "bad.toml" in result.output and "supplier_outag" in result.output


@pytest.mark.parametrize(
    ("name", "scenario", "parts"),
    [
        # days = "30" raised TypeError: exit code 4 ("unexpected", an internal bug)
        (
            "typed",
            'name = "S05 out"\nsupplier_outage = { supplier_id = "S05", days = "30" }',
            ("'S05 out'", "supplier_outage.days", "'30'", "a number of days"),
        ),
        # a typo of the supplier id matched no item: a silent "no impact"
        (
            "typo",
            'name = "typo"\nsupplier_outage = { supplier_id = "S5", days = 30 }',
            ("'typo'", "supplier_outage.supplier_id", "'S5'", "S05"),
        ),
    ],
)
def test_a_scenario_mistake_is_one_clear_line(
    plant_db: tuple[str, object], tmp_path: Path, name: str, scenario: str, parts: tuple[str, ...]
) -> None:
    url, _ = plant_db
    f = tmp_path / f"{name}.toml"
    f.write_text(f"[[scenarios]]\n{scenario}\n")
    result = CliRunner().invoke(app, ["--db", url, "scenario", str(f)])
    assert result.exit_code == 1, result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
    for part in (f"{name}.toml", *parts):
        assert part in result.output, part
