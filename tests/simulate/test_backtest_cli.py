"""`bufferwise backtest` without --dataset: the plant in the database through decide.backtest
(issue 5's backtest, reused, not duplicated).

The plant's canonical tables are handed to the service directly (the example plant's CSV
files read with pandas, as tests/decide/conftest.py does), so this tests the command's wiring
and not the import path, which has its own tests."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from bufferwise.decide.backtest import POLICIES
from bufferwise.decide.costs import ITEM_STOCKOUT_MULTIPLE
from bufferwise.demo import generate_plant
from bufferwise.services import backtest as services_backtest


def _app() -> typer.Typer:
    # the real app: its callback resets the global --db option between invocations
    from bufferwise.cli import app

    assert "backtest" in {c.name for c in app.registered_commands}
    return app


class _NoRepository:
    def close(self) -> None:
        return None


@pytest.mark.slow
def test_plant_backtest_prints_every_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    generate_plant(folder, n_items=200, days=365)
    tables = {
        "items": pd.read_csv(folder / "items.csv", parse_dates=["buffer_set_on"]),
        "demand": pd.read_csv(folder / "demand.csv", parse_dates=["date"]),
        "receipts": pd.read_csv(
            folder / "receipts.csv", parse_dates=["order_date", "promised_date", "received_date"]
        ),
    }
    monkeypatch.setattr(services_backtest, "open_repository", lambda url: _NoRepository())
    monkeypatch.setattr(services_backtest, "load_tables", lambda repo, names: tables)
    monkeypatch.setenv("BUFFERWISE_DB", f"sqlite:///{tmp_path / 'unused.db'}")
    out = CliRunner().invoke(_app(), ["backtest", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["policy"] for r in rows] == list(POLICIES)
    assert all(0.0 <= r["fill_rate"] <= 1.0 for r in rows)


def test_empty_database_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    from bufferwise.storage import open_repository

    open_repository(url).close()
    monkeypatch.setenv("BUFFERWISE_DB", url)
    out = CliRunner().invoke(_app(), ["backtest"])
    assert out.exit_code != 0
    assert "--dataset" in out.output


def test_a_target_outside_zero_one_is_refused() -> None:
    out = CliRunner().invoke(_app(), ["backtest", "--dataset", "raf", "--target", "1.5"])
    assert out.exit_code != 0
    assert "--target 1.5" in out.output


def test_plant_backtest_prices_items_as_analyze_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # the backtested "recommended" policy is analyze's: the same resolved costs
    # (services.sizing.resolve_item_inputs) and the settings' [costs], not decide's defaults
    from bufferwise.settings import CostSettings, Settings

    items = pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "unit_cost": [10.0, 10.0],
            "holding_rate": [float("nan"), 0.1],
            "criticality": ["high", "low"],
        }
    )
    tables = {
        "items": items,
        "demand": pd.DataFrame({"item_id": ["A"], "date": ["2024-01-01"], "quantity": [1.0]}),
        "receipts": pd.DataFrame(),
    }
    seen: dict[str, object] = {}

    def fake_backtest(items: pd.DataFrame, demand: object, receipts: object, **kw: object) -> str:
        seen.update(kw, items=items)
        return "done"

    monkeypatch.setattr(services_backtest, "open_repository", lambda url: _NoRepository())
    monkeypatch.setattr(services_backtest, "load_tables", lambda repo, names: tables)
    monkeypatch.setattr(services_backtest, "backtest", fake_backtest)
    multiples = {"critical": 20.0, "high": 9.0, "medium": 3.0, "low": 1.0}
    settings = Settings(
        costs=CostSettings(default_holding_rate=0.4, stockout_cost_multiple=multiples)
    )
    assert services_backtest.plant_backtest("sqlite://", settings) == "done"
    priced = seen["items"]
    assert isinstance(priced, pd.DataFrame)
    assert priced.set_index("item_id")["holding_rate"].to_dict() == {"A": 0.4, "B": 0.1}
    assert priced.set_index("item_id")[ITEM_STOCKOUT_MULTIPLE].to_dict() == {"A": 9.0, "B": 1.0}
    # the items carry the costs: nothing else prices them (resolve_item_inputs is the one place)
    assert "stockout_multiples" not in seen and "default_holding_rate" not in seen
