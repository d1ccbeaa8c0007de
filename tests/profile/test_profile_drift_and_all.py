"""Drift between two windows, and the top-level profile_all API with its stable columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bufferwise.errors import InvalidInput
from bufferwise.profile import (
    DEMAND_COLUMNS,
    SUPPLY_COLUMNS,
    Profiles,
    build_demand_matrix,
    demand_drift,
    profile_all,
    split_for_recent,
    supply_drift,
)


def _weekly(values_by_item: dict[str, np.ndarray], start: str = "2023-01-02") -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "item_id": item,
                "date": pd.date_range(start, periods=len(v), freq="W-MON"),
                "quantity": np.asarray(v, float),
            }
        )
        for item, v in values_by_item.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_demand_drift_level_and_variability() -> None:
    rng = np.random.default_rng(11)
    steady = rng.normal(100, 10, 104).round()
    jump = np.r_[rng.normal(100, 10, 78), rng.normal(150, 10, 26)].round()
    wild = np.r_[rng.normal(100, 5, 78), rng.normal(100, 30, 26)].round()
    m = build_demand_matrix(_weekly({"steady": steady, "jump": jump, "wild": wild}), "week")
    split = split_for_recent(m.period_starts, 26)
    out = demand_drift(m, split).set_index("item_id")
    assert out.loc["jump", "periods_after"] == 26 and out.loc["jump", "periods_before"] == 78
    # the level p-value is Welch's t-test (scipy.stats.ttest_ind with equal_var=False)
    expected_p = stats.ttest_ind(jump[:78], jump[78:], equal_var=False).pvalue
    assert out.loc["jump", "level_p"] == pytest.approx(expected_p, rel=1e-6)
    assert out.loc["jump", "mean_ratio"] == pytest.approx(jump[78:].mean() / jump[:78].mean())
    # variability: Brown-Forsythe = scipy.stats.levene(center="median")
    bf = stats.levene(wild[:78], wild[78:], center="median").pvalue
    assert out.loc["wild", "variability_p"] == pytest.approx(bf, rel=1e-6)
    assert out.loc["wild", "sd_ratio"] > 3
    assert out.loc["wild", "matters"]
    assert not out.loc["steady", "matters"]
    # sigma_LTD: a level jump matters once the lead time varies (sd_L = 1 bucket)
    with_lt = demand_drift(m, split, lead_time_buckets=4.0, lead_time_sd_buckets=1.0)
    assert with_lt.set_index("item_id").loc["jump", "matters"]


def test_supply_drift_on_time_and_lead_time() -> None:
    rng = np.random.default_rng(5)
    n = 80
    order = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(n) * 7, "D")
    lead = np.where(np.arange(n) < 40, rng.integers(9, 12, n), rng.integers(25, 35, n))
    frame = pd.DataFrame(
        {
            "po_id": [f"p{i}" for i in range(n)],
            "item_id": "X",
            "supplier_id": "S",
            "order_date": order,
            "promised_date": order + pd.Timedelta(days=12),
            "received_date": order + pd.to_timedelta(lead, "D"),
            "qty_ordered": 5.0,
            "qty_received": 5.0,
        }
    )
    out = supply_drift(frame, order[40])
    sup = out[out.item_id == ""].iloc[0]
    assert sup["receipts_before"] == 40 and sup["receipts_after"] == 40
    assert sup["on_time_before"] == 1.0 and sup["on_time_after"] == 0.0
    assert sup["on_time_diff"] == -1.0 and sup["on_time_p"] < 1e-6
    mw = stats.mannwhitneyu(lead[:40], lead[40:], alternative="two-sided", method="asymptotic")
    assert sup["lead_time_p"] == pytest.approx(mw.pvalue)
    assert sup["lead_time_ratio"] > 2 and sup["matters"]
    assert (out.item_id == "X").sum() == 1


def test_profile_all_columns_and_forecast() -> None:
    rng = np.random.default_rng(2)
    demand = _weekly(
        {
            "A": rng.poisson(30, 80),
            "B": np.where(rng.random(80) < 0.2, rng.poisson(8, 80) + 1, 0),
        }
    )
    receipts = pd.DataFrame(
        {
            "po_id": ["1", "2", "3"],
            "item_id": ["A", "A", "B"],
            "supplier_id": ["S", "S", "S"],
            "order_date": pd.to_datetime(["2023-01-02", "2023-02-01", "2023-03-01"]),
            "promised_date": pd.to_datetime(["2023-01-16", "2023-02-15", "2023-03-15"]),
            "received_date": pd.to_datetime(["2023-01-16", "2023-02-20", "2023-03-15"]),
            "qty_ordered": [10.0, 10.0, 5.0],
            "qty_received": [10.0, 9.0, 5.0],
        }
    )
    items = pd.DataFrame(
        {"item_id": ["A", "B", "C"], "nominal_lead_time_days": [14.0, 21.0, 7.0],
         "review_period_days": [7.0, 0.0, 0.0]}
    )  # fmt: skip
    stages: list[str] = []
    prof = profile_all(demand, receipts, items, bucket="week",
                       progress=lambda stage, done, total: stages.append(stage))  # fmt: skip
    assert isinstance(prof, Profiles)
    assert tuple(prof.demand.columns) == DEMAND_COLUMNS
    assert tuple(prof.supply.columns) == SUPPLY_COLUMNS
    d = prof.demand.set_index("item_id")
    assert d.loc["A", "demand_class"] == "smooth" and d.loc["A", "forecast_model"] == "SES"
    assert d.loc["B", "forecast_model"] in ("CrostonSBA", "ADIDA")
    assert d.loc["C", "demand_class"] == "no_demand"  # in items, no demand rows
    # protection interval (lead time + review) / 7 days, rounded up: A 3 weeks, B 3, C 1
    assert d["forecast_horizon"].tolist() == [3, 3, 1]
    assert np.isfinite(d.loc["A", "forecast_error_sd"])
    assert prof.supply.loc[0, "item_id"] == "" and prof.supply.loc[0, "receipts"] == 3
    assert {"demand", "forecast", "supply"} <= set(stages)
    fixed = profile_all(demand, None, forecast=True, lead_time_buckets=2)
    assert (fixed.demand["forecast_horizon"] == 2).all() and fixed.supply.empty
    quick = profile_all(demand, receipts, forecast=False)
    assert (quick.demand["forecast_model"] == "").all()
    with pytest.raises(InvalidInput):
        profile_all(demand, None, bucket="quarter")
    no_demand = profile_all(demand.iloc[:0], receipts, items, forecast=False)
    assert no_demand.demand.empty and len(no_demand.supply) == 3  # S, (S, A), (S, B)
    assert "no demand rows" in no_demand.notes[0]
