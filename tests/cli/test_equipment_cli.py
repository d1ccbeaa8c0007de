"""`bufferwise equipment` reads the same settings file as `bufferwise analyze`: the OEE
conventions and JIT-readiness thresholds of `[equipment]` (docs/settings.md), with the
command-line options winning over the file; without a file, the settings' defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bufferwise.cli import app
from bufferwise.demo import generate_plant
from bufferwise.equipment import analyze_equipment
from bufferwise.services.imports import import_files
from bufferwise.settings import EquipmentSettings, Settings, load_settings

pytestmark = pytest.mark.slow

MACHINE_TABLES = ("machines", "machine_events", "production_counts", "wip_buffers")


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, pd.DataFrame]]:
    """The example plant's machine tables, stored (only they: the command reads no more)."""
    base = tmp_path_factory.mktemp("plant")
    generate_plant(base / "data")
    files = [base / "data" / f"{name}.csv" for name in MACHINE_TABLES]
    url = f"sqlite:///{base / 'plant.db'}"
    import_files(url, files)
    dates = {"machine_events": ["start", "end"], "production_counts": ["start", "end"]}
    tables = {
        n: pd.read_csv(f, parse_dates=dates.get(n, []))
        for n, f in zip(MACHINE_TABLES, files, strict=True)
    }
    return url, tables


def _machines(url: str, out: Path, *args: str) -> pd.DataFrame:
    result = CliRunner().invoke(app, ["--db", url, "equipment", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "machines.csv").set_index("machine_id")


def _expected(tables: dict[str, pd.DataFrame], eq: EquipmentSettings, seed: int) -> pd.DataFrame:
    # what `bufferwise analyze` computes from the same settings (services.analyze)
    report = analyze_equipment(
        tables["machines"],
        tables["machine_events"],
        tables["production_counts"],
        tables["wip_buffers"],
        conventions=eq.conventions(),
        target_line_efficiency=eq.target_line_efficiency,
        criteria=eq.readiness_criteria(),
        seed=seed,
        simulate=False,
    )
    return report.machines.set_index("machine_id")


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    for col in ("availability", "oee", "mtbf_hours", "mttr_hours", "failures"):
        assert list(got[col]) == pytest.approx(list(want[col]), rel=1e-9), col
    assert list(got["jit_readiness"]) == list(want["jit_readiness"])


def test_equipment_reads_the_settings_file(plant, tmp_path: Path) -> None:
    url, tables = plant
    toml = tmp_path / "plant.toml"
    # a 3-hour micro-stop threshold and stricter readiness thresholds than the defaults
    toml.write_text(
        "[equipment]\nmicro_stop_threshold_s = 10800\nmin_availability = 0.9\n"
        "min_mtbf_cycles = 20\nsmall_buffer_hours = 4\n",
        encoding="utf-8",
    )
    settings = load_settings(toml)
    got = _machines(url, tmp_path / "with", "--settings", str(toml))
    want = _expected(tables, settings.equipment, settings.simulation.seed)
    _same(got, want)
    default = _machines(url, tmp_path / "without")
    _same(default, _expected(tables, Settings().equipment, Settings().simulation.seed))
    # the file changes the figures (longer threshold: fewer failures, longer MTBF)
    assert (got["failures"] < default["failures"]).all()
    assert list(got["jit_readiness"]) != list(default["jit_readiness"])


def test_command_line_options_win_over_the_settings_file(plant, tmp_path: Path) -> None:
    url, tables = plant
    toml = tmp_path / "plant.toml"
    toml.write_text("[equipment]\nmicro_stop_threshold_s = 10800\n", encoding="utf-8")
    got = _machines(url, tmp_path / "o", "--settings", str(toml), "--micro-stop-s", "300")
    eq = dataclasses.replace(load_settings(toml).equipment, micro_stop_threshold_s=300.0)
    _same(got, _expected(tables, eq, Settings().simulation.seed))


def test_bad_settings_file_is_an_error_naming_the_key(plant, tmp_path: Path) -> None:
    url, _ = plant
    toml = tmp_path / "bad.toml"
    toml.write_text("[equipment]\nmin_availability = 7\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--db", url, "equipment", "--settings", str(toml)])
    assert result.exit_code == 1
    assert "[equipment] min_availability = 7" in result.output
