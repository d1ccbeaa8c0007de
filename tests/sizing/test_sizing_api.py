"""size_items: the table contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bufferwise.errors import InvalidInput
from bufferwise.sizing import OUTPUT_COLUMNS, size_items


def _items(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"P{i}" for i in range(n)],
            "unit_cost": [10.0, 4.0, 120.0, 2.0][:n],
            "holding_rate": 0.25,
            "stockout_cost": [25.0, 4.0, 400.0, 1.0][:n],
            "nominal_lead_time_days": [7.0, 14.0, 5.0, 21.0][:n],
            "review_period_days": [0.0, 7.0, 0.0, 14.0][:n],
            "moq": [0.0, 50.0, 0.0, 0.0][:n],
            "order_multiple": [0.0, 10.0, 0.0, 0.0][:n],
            "order_cost": [40.0, 20.0, 90.0, 10.0][:n],
        }
    )


def _demand(n: int = 4, days: int = 365, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.vstack([rng.poisson(lam, days).astype(float) for lam in [20, 5, 0.4, 60][:n]])


def test_all_methods_give_every_column_and_agree_roughly() -> None:
    items, demand = _items(), _demand()
    rng = np.random.default_rng(1)
    leads = [rng.gamma(16, lt / 16, 15) for lt in items["nominal_lead_time_days"]]
    out = size_items(
        items,
        demand,
        lead_time_samples_days=leads,
        method=["analytic", "empirical", "simulation"],
        service_target=0.95,
        periods=1500,
        replications=6,
        seed=3,
    )
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert len(out) == 3 * len(items)
    sim = out[out["method"] == "simulation"].reset_index(drop=True)
    ana = out[out["method"] == "analytic"].reset_index(drop=True)
    assert sim["ci_low"].notna().all() and (sim["ci_low"] <= sim["expected_fill_rate"]).all()
    assert (sim["expected_fill_rate"] <= sim["ci_high"]).all()
    assert (sim["expected_fill_rate"] >= 0.95).all()
    assert ana["ci_low"].isna().all()
    # continuous items: order_up_to = reorder_point + Q; periodic: the level itself
    cont = ana["policy"] == "r,Q"
    assert np.allclose(
        ana.loc[cont, "order_up_to"],
        ana.loc[cont, "reorder_point"] + ana.loc[cont, "order_quantity"],
    )
    assert np.allclose(ana.loc[~cont, "order_up_to"], ana.loc[~cont, "reorder_point"])
    # the fast mover's levels agree between methods within a few units of demand
    assert abs(sim.loc[0, "reorder_point"] - ana.loc[0, "reorder_point"]) < 40
    assert (out["expected_holding_cost"] >= 0).all() and (out["expected_stockout_cost"] >= 0).all()


def test_profile_overrides_and_cost_optimal_target() -> None:
    items = _items(2)
    items["demand_mean"] = [10.0, np.nan]
    items["demand_sd"] = [3.0, np.nan]
    items["lead_time_mean_days"] = [5.0, np.nan]
    items["lead_time_sd_days"] = [0.0, np.nan]
    out = size_items(items, _demand(2), service_target=0.9, service_type="cycle_service")
    # item 0 uses the profile's figures: ROP = 10*5 + 1.281552*3*sqrt(5)
    assert out.loc[0, "reorder_point"] == pytest.approx(50 + 1.2815516 * 3 * np.sqrt(5), abs=1e-4)
    assert out.loc[0, "days_of_cover"] == pytest.approx(out.loc[0, "safety_stock"] / 10.0)
    cost = size_items(items, _demand(2), service_target="cost_optimal")
    assert (cost["service_type"] == "cycle_service").all()
    assert ((cost["service_target"] > 0.5) & (cost["service_target"] < 1)).all()


def test_weekly_buckets_and_slow_movers() -> None:
    items = _items(3)
    weekly = _demand(3, 364).reshape(3, 52, 7).sum(axis=2)
    out = size_items(items, weekly, bucket_days=7.0, method="analytic", distribution="auto")
    assert out["reorder_point"][2] == np.round(out["reorder_point"][2])  # discrete family for P2


def test_bad_items_are_reported_with_row_and_column() -> None:
    items = _items()
    items.loc[2, "holding_rate"] = -0.1
    with pytest.raises(InvalidInput) as err:
        size_items(items, _demand())
    assert err.value.problems[0].row == 3 and err.value.problems[0].column == "holding_rate"
    with pytest.raises(InvalidInput, match="missing column"):
        size_items(_items().drop(columns=["moq"]), _demand())
    with pytest.raises(InvalidInput, match="demand"):
        size_items(_items(), _demand()[:2])
    with pytest.raises(InvalidInput, match="method"):
        size_items(_items(), _demand(), method="magic")


def test_supplier_outages_and_lost_sales_move_the_simulated_level() -> None:
    items, demand = _items(1), _demand(1)
    plain = size_items(items, demand, method="simulation", periods=1500, replications=6, seed=5)
    risky = items.assign(outage_start_prob=0.02, outage_recovery_prob=0.25)
    hit = size_items(risky, demand, method="simulation", periods=1500, replications=6, seed=5)
    # four-period outages on average (1 / 0.25) need more stock for the same fill rate
    assert hit.loc[0, "reorder_point"] > plain.loc[0, "reorder_point"]
    lost = size_items(
        items, demand, method="simulation", lost_sales=True, periods=1500, replications=6, seed=5
    )
    assert lost.loc[0, "expected_fill_rate"] >= 0.95


def test_items_without_demand_hold_no_buffer() -> None:
    items = _items(2)
    demand = np.vstack([np.zeros(100), np.full(100, np.nan)])
    out = size_items(
        items, demand, method=["analytic", "empirical", "simulation"], periods=200, replications=3
    )
    assert (out["safety_stock"] == 0).all() and (out["reorder_point"] == 0).all()
    assert (out["expected_fill_rate"] == 1).all() and (out["mean_on_hand"] == 0).all()
    assert out["days_of_cover"].isna().all()


def test_auto_family_thresholds() -> None:
    # docs/sizing.md, "Method notes": integer slow movers below a mean lead-time demand of 20
    # units get Poisson, or the negative binomial when the variance exceeds 1.05 x the mean
    from bufferwise.sizing.api import AUTO_NORMAL_MIN_MEAN, AUTO_OVERDISPERSION_RATIO, _family

    assert (AUTO_NORMAL_MIN_MEAN, AUTO_OVERDISPERSION_RATIO) == (20.0, 1.05)
    mean = 10.0
    assert _family("auto", mean, np.sqrt(1.05 * mean), True) == "poisson"
    assert _family("auto", mean, np.sqrt(1.06 * mean), True) == "negative_binomial"
    assert _family("auto", mean, np.sqrt(3 * mean), False) == "normal"  # not whole units
    assert _family("auto", 19.9, np.sqrt(19.9), True) == "poisson"
    assert _family("auto", 20.0, np.sqrt(60.0), True) == "normal"
