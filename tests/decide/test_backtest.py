"""Backtest: the replay by hand, and issue 5's out-of-sample claims on the example plant."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.decide.backtest import BACKTEST_COLUMNS, POLICIES, backtest, replay

from .conftest import Plant


def test_replay_by_hand() -> None:
    # (r,Q) r = 30, Q = 30, demand 10 a day, lead time 4 days; start with r + Q = 60 on hand.
    # end-of-day stock: 50, 40, 30 (order, due day 7), 20, 10, 0 (position 30: order again),
    # day 6: 10 demanded, nothing on hand -> 10 short.
    rep = replay(
        np.full((1, 7), 10.0),
        [np.array([4])],
        periodic=np.array([False]),
        review=np.array([1]),
        level=np.array([30.0]),
        quantity=np.array([30.0]),
        moq=np.array([0.0]),
        multiple=np.array([0.0]),
    )
    assert rep.fill[0] == pytest.approx(1 - 10 / 70)
    assert rep.stockout_periods[0] == 1
    assert rep.mean_on_hand[0] == pytest.approx(150 / 7)


def test_replay_uses_real_lead_times_in_order() -> None:
    # (R,S) R = 1, S = 25, demand 10 a day, lead times 0, 3, 0, 3, ... by order of placement.
    # end of day (net stock, order placed -> due day):
    # 0: 15, 10 -> 1 | 1: +10 = 15, 10 -> 5 | 2: 5, 10 -> 3 | 3: +10 = 5, 10 -> 7
    # 4: 5 - 10 = -5 (5 short), 10 -> 5 | 5: +20 = 5
    rep = replay(
        np.full((1, 6), 10.0),
        [np.array([0, 3])],
        periodic=np.array([True]),
        review=np.array([1]),
        level=np.array([25.0]),
        quantity=np.array([0.0]),
        moq=np.array([0.0]),
        multiple=np.array([0.0]),
    )
    assert rep.short[0] == pytest.approx(5.0)
    assert rep.fill[0] == pytest.approx(1 - 5 / 60)
    assert rep.stockout_periods[0] == 1
    assert rep.mean_on_hand[0] == pytest.approx((15 + 15 + 5 + 5 + 0 + 5) / 6)


@pytest.fixture(scope="module")
def result(plant: Plant):  # type: ignore[no-untyped-def]
    return backtest(
        plant.items,
        plant.demand,
        plant.receipts,
        equipment_risk=plant.equipment_risk,
        seed=5,
    )


def test_backtest_tables(result) -> None:  # type: ignore[no-untyped-def]
    assert list(result.items.columns) == list(BACKTEST_COLUMNS)
    assert list(result.totals["policy"]) == list(POLICIES)
    assert len(result.items) == 240 * len(POLICIES)
    # the default split is the middle of the two years (docs/example-plant.md: 2024-01-01 + 730)
    assert str(result.split.date()) == "2024-12-30"


def test_recommended_meets_its_promise_out_of_sample(result) -> None:  # type: ignore[no-untyped-def]
    # issue 5: the recommended policy reaches its fill-rate target within 2 points out of sample
    rec = result.totals.set_index("policy").loc["recommended"]
    assert abs(rec["fill_rate"] - rec["expected_fill_rate"]) <= 0.02


def test_less_inventory_than_one_policy_at_the_same_fill(result) -> None:  # type: ignore[no-untyped-def]
    t = result.totals.set_index("policy")
    rec = t.loc["recommended"]
    assert abs(rec["fill_rate"] - rec["expected_fill_rate"]) <= 0.02
    # the uniform cover reaches (at least) the recommended fill, with more stock
    assert t.loc["one_policy", "fill_rate"] >= rec["fill_rate"] - 1e-3
    assert rec["mean_inventory_value"] < t.loc["one_policy", "mean_inventory_value"]
    # and it beats the current policy and pure JIT on total cost
    assert t.loc["recommended", "total_cost_per_year"] < t.loc["current", "total_cost_per_year"]
    assert t.loc["recommended", "total_cost_per_year"] < t.loc["jit", "total_cost_per_year"]


@pytest.mark.slow
def test_carparts_backtest(shared_file) -> None:  # type: ignore[no-untyped-def]
    # Hyndman's expsmooth::carparts in ../shared/data, monthly; stated lead time 30 days, unit
    # cost 1, holding 25 %, criticality medium (docs/decide.md, "Backtest"); split where issue
    # 8's protocol splits carparts (fit 1998-01..2000-10, replay 2000-11..2002-03). Issue 5: the
    # recommended policy reaches its promised fill within 2 points out of sample (measured
    # 2026-11-27: 87.2 % against 85.6 %, 12,739 units; 91.4 % against 91.2 % before the
    # no-buffer rule for no-demand and obsolete parts and the per-item calibrated fill; 77.8 %
    # against 87.8 % before the calibrated levels of decide/calibration.py) with less stock
    # than the uniform cover at the same fill.
    import pandas as pd

    from bufferwise.services.backtest import CARPARTS_DECIDE, carparts_items

    path = shared_file("carparts_expsmooth/carparts_long.csv")
    raw = pd.read_csv(path, dtype={"part_id": str})
    demand = pd.DataFrame(
        {
            "item_id": raw["part_id"],
            "date": pd.to_datetime(raw["month"], format="%Y-%m"),
            "quantity": raw["demand"].astype(float),
        }
    )
    items = carparts_items(list(demand["item_id"].unique()))
    result = backtest(items, demand, None, split="2000-11-01", settings=CARPARTS_DECIDE, seed=1)
    t = result.totals.set_index("policy")
    assert len(result.items) == 2674 * len(POLICIES)
    rec = t.loc["recommended"]
    assert abs(rec["fill_rate"] - rec["expected_fill_rate"]) <= 0.02
    # the uniform cover reaches (at least) the recommended fill, with more stock
    assert t.loc["one_policy", "fill_rate"] >= rec["fill_rate"] - 1e-3
    assert rec["mean_inventory_value"] < t.loc["one_policy", "mean_inventory_value"]
    assert t.loc["recommended", "fill_rate"] > t.loc["jit", "fill_rate"]
