"""`bufferwise profile` reads the settings file's [profile] section, as analyze does; the
options given win over it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bufferwise.cli import app
from bufferwise.services.imports import import_files
from bufferwise.storage import open_repository


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    rng = np.random.default_rng(5)
    demand = pd.DataFrame(
        {
            "item_id": np.repeat(["A", "B"], len(days)),
            "date": np.tile(days.strftime("%Y-%m-%d"), 2),
            "quantity": rng.poisson(4.0, 2 * len(days)).astype(float),
        }
    )
    demand.to_csv(tmp_path / "demand.csv", index=False)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    import_files(url, [tmp_path / "demand.csv"])
    monkeypatch.setenv("BUFFERWISE_DB", url)
    return url


def _last_profile_settings(url: str) -> dict[str, object]:
    with open_repository(url) as repo:
        runs = [r for r in repo.list_runs() if r.kind == "profile"]
    return dict(runs[-1].settings)


def test_profile_takes_bucket_and_forecast_from_the_settings(db: str, tmp_path: Path) -> None:
    plant = tmp_path / "plant.toml"
    plant.write_text('[profile]\nbucket = "month"\nforecast = false\n', encoding="utf-8")
    out = CliRunner().invoke(app, ["profile", "--settings", str(plant), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert _last_profile_settings(db) == {"bucket": "month", "forecast": False}
    # an option given wins over the file
    out = CliRunner().invoke(
        app, ["profile", "--settings", str(plant), "--bucket", "day", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert _last_profile_settings(db) == {"bucket": "day", "forecast": False}


def test_profile_without_settings_uses_the_defaults(db: str) -> None:
    out = CliRunner().invoke(app, ["profile", "--no-forecast", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert _last_profile_settings(db) == {"bucket": "week", "forecast": False}
