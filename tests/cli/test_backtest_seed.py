"""`bufferwise backtest --dataset carparts --decide` seeds the backtest with --seed as given
(0 included), else with the settings' [simulation] seed (docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from bufferwise.cli.backtest import PLANT_COLUMNS
from bufferwise.services import backtest as services_backtest
from bufferwise.settings import Settings


@pytest.fixture
def seeds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    used: list[int] = []

    def fake(name: str, data_dir: Path, *, seed: int) -> SimpleNamespace:
        used.append(seed)
        totals = pd.DataFrame(
            [{c: (0.5 if c != "policy" else "recommended") for c in PLANT_COLUMNS}]
        )
        return SimpleNamespace(totals=totals, split=pd.Timestamp("2000-11-01"), one_policy_days=1.0)

    monkeypatch.setattr(services_backtest, "decide_dataset_backtest", fake)
    monkeypatch.setenv("BUFFERWISE_DB", f"sqlite:///{tmp_path / 'unused.db'}")
    return used


def _run(*args: str) -> None:
    from bufferwise.cli import app

    out = CliRunner().invoke(
        app, ["backtest", "--dataset", "carparts", "--decide", "--format", "json", *args]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["policy"] == "recommended"


def test_explicit_seed_zero_is_used(seeds: list[int]) -> None:
    _run("--seed", "0")
    _run("--seed", "5")
    assert seeds == [0, 5]


def test_default_seed_is_the_settings_seed(seeds: list[int], tmp_path: Path) -> None:
    _run()
    settings = tmp_path / "settings.toml"
    settings.write_text("[simulation]\nseed = 7\n", encoding="utf-8")
    _run("--settings", str(settings))
    assert seeds == [Settings().simulation.seed, 7]
