"""The settings reach every item's costs once, for sizing and decide alike
(services.sizing.resolve_item_inputs; docs/settings.md, "[costs]" and "[[overrides]]").

A three-item plant is imported from CSV with one empty holding_rate cell: the cell stays empty
in storage (no ingest default), and `analyze` prices it with settings [costs]
default_holding_rate; a per-group override of holding_rate and of stockout_cost_multiple reaches
decide's risk model and its decision table.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide import DecideSettings
from bufferwise.services.analyze import AnalysisResult, analyze
from bufferwise.services.imports import import_files
from bufferwise.services.sizing import resolve_item_inputs, sizing_inputs
from bufferwise.settings import CostSettings, Override, ProfileSettings, Settings
from bufferwise.storage import open_repository

#: short cost curves: the figures compared below do not depend on their length
FAST = DecideSettings(sim_years=2.0, grid_points=8, replications=2, calibrate=False)
UNIT_COST = {"E": 10.0, "G": 20.0, "S": 40.0}


def _write_plant(folder: Path) -> None:
    folder.mkdir()
    # E: holding_rate empty; G: its own 0.2; S: its own 0.2, in category "spare" (overridden).
    # order_cost 0 keeps Q = 1 whatever the holding rate, so JIT's mean stock does not move.
    (folder / "items.csv").write_text(
        "item_id,unit_cost,holding_rate,criticality,category,nominal_lead_time_days,order_cost\n"
        "E,10,,medium,,7,0\n"
        "G,20,0.2,medium,,7,0\n"
        "S,40,0.2,high,spare,7,0\n",
        encoding="utf-8",
    )
    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-01-01", periods=364, freq="D")
    rows = [
        (item, d.date().isoformat(), int(q))
        for item in UNIT_COST
        for d, q in zip(dates, rng.poisson(4.0, dates.size), strict=True)
    ]
    pd.DataFrame(rows, columns=["item_id", "date", "quantity"]).to_csv(
        folder / "demand.csv", index=False
    )


def _settings(default_holding_rate: float, overrides: tuple[Override, ...] = ()) -> Settings:
    return Settings(
        profile=ProfileSettings(forecast=False),
        costs=CostSettings(default_holding_rate=default_holding_rate),
        decide=FAST,
        overrides=overrides,
    )


SPARE = Override(
    match={"category": "spare"}, values={"holding_rate": 0.6, "stockout_cost_multiple": 10.0}
)


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("item_inputs")
    _write_plant(base / "plant")
    url = f"sqlite:///{base / 'p.db'}"
    import_files(url, [base / "plant"])
    return url


@pytest.fixture(scope="module")
def runs(plant: str) -> dict[str, AnalysisResult]:
    return {
        "0.25": analyze(plant, _settings(0.25), seed=5),
        "0.4": analyze(plant, _settings(0.4), seed=5),
        "override": analyze(plant, _settings(0.4, (SPARE,)), seed=5),
    }


def _row(result: AnalysisResult, item: str) -> int:
    ids = [str(x) for x in result.decisions.analysis.risk.item_ids]
    return ids.index(item)


def test_an_empty_holding_rate_stays_empty_in_storage(plant: str) -> None:
    repo = open_repository(plant)
    try:
        items = repo.read_table("items").set_index("item_id")
    finally:
        repo.close()
    assert np.isnan(items.loc["E", "holding_rate"])
    assert items.loc["G", "holding_rate"] == pytest.approx(0.2)


def test_default_holding_rate_setting_prices_items_without_one(
    runs: dict[str, AnalysisResult],
) -> None:
    for rate in ("0.25", "0.4"):
        risk = runs[rate].decisions.analysis.risk
        # E: unit cost 10 x the setting; G: 20 x its own 0.2, whatever the setting
        assert risk.holding_per_year[_row(runs[rate], "E")] == pytest.approx(10.0 * float(rate))
        assert risk.holding_per_year[_row(runs[rate], "G")] == pytest.approx(20.0 * 0.2)
    # JIT holds the same stock in both runs (same seed, Q = 1): its holding cost scales with
    # the rate, 0.4 / 0.25 = 1.6 for E, 1 for G
    low, high = runs["0.25"].decisions.analysis, runs["0.4"].decisions.analysis
    e, g = _row(runs["0.25"], "E"), _row(runs["0.25"], "G")
    assert high.options.holding_cost[e, 0] == pytest.approx(1.6 * low.options.holding_cost[e, 0])
    assert high.options.holding_cost[g, 0] == pytest.approx(low.options.holding_cost[g, 0])


def test_overrides_reach_decide(runs: dict[str, AnalysisResult]) -> None:
    result = runs["override"]
    s = _row(result, "S")
    # S: the group's holding_rate 0.6 replaces its own 0.2 (docs/settings.md); its stockout
    # cost is empty, so the group's multiple 10 replaces the "high" level's 7: 40 x 10
    assert result.decisions.analysis.risk.holding_per_year[s] == pytest.approx(40.0 * 0.6)
    table = result.decisions.items.set_index("item_id")
    assert table.loc["S", "stockout_cost_per_unit"] == pytest.approx(400.0)
    assert bool(table.loc["S", "stockout_cost_derived"])
    assert table.loc["E", "stockout_cost_per_unit"] == pytest.approx(10.0 * 2.0)  # medium
    without = runs["0.4"].decisions.items.set_index("item_id")
    assert without.loc["S", "stockout_cost_per_unit"] == pytest.approx(40.0 * 7.0)  # high


def test_sizing_and_decide_resolve_the_same_costs(
    plant: str, runs: dict[str, AnalysisResult]
) -> None:
    repo = open_repository(plant)
    try:
        items = repo.read_table("items")
        demand = repo.read_table("demand")
    finally:
        repo.close()
    settings = _settings(0.4, (SPARE,))
    sized = sizing_inputs(items, demand, pd.DataFrame(), settings).items.set_index("item_id")
    risk = runs["override"].decisions.analysis.risk
    for i, item in enumerate(str(x) for x in risk.item_ids):
        assert sized.loc[item, "holding_rate"] * UNIT_COST[item] == pytest.approx(
            risk.holding_per_year[i]
        )
        assert sized.loc[item, "stockout_cost"] == pytest.approx(risk.stockout_cost[i])


def test_empty_policy_cells_take_the_schema_defaults() -> None:
    items = pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "unit_cost": [1.0, 1.0],
            "holding_rate": [np.nan, 0.3],
            "nominal_lead_time_days": [5.0, 5.0],
            "order_multiple": [np.nan, 0.0],
        }
    )
    out = resolve_item_inputs(items, replace(Settings(), costs=CostSettings(0.4)))
    # items table defaults (docs/data-model.md): review 0, MOQ 0, multiple 1, order cost 0
    assert out["review_period_days"].tolist() == [0.0, 0.0]
    assert out["moq"].tolist() == [0.0, 0.0]
    assert out["order_multiple"].tolist() == [1.0, 0.0]
    assert out["order_cost"].tolist() == [0.0, 0.0]
    assert out["holding_rate"].tolist() == pytest.approx([0.4, 0.3])
    assert items["holding_rate"].isna().iloc[0]  # the caller's frame is left alone
