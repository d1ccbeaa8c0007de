"""Items without demand or obsolete hold no buffer; every figure says what its column and the
docs say (docs/decide.md, "Stance", "Explanation", "Decision columns").

A small monthly portfolio replenished every bucket (base stock in all but name, like carparts:
decide/calibration.py applies), 36 months:

* a01..a24  Poisson demand, means 1 .. 6.75 a month, every month of the history;
* nd        no demand at all in the 36 months (profile class no_demand);
* obs       demand in months 0..19, none in months 20..35: a trailing run of 16 zero periods
            against an ADI of 1 (>= 3 x 1: the profile flags it obsolete);
* quiet     one unit every 6th month (months 0, 6, .., 24): ADI 6, trailing run 11 < 3 x 6 (not
            obsolete) and no demand in the recent 6 months (recent_days 180): its recent mean
            demand is 0, so its days of cover are undefined.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide import DecideSettings, decide_items
from bufferwise.decide.calibration import apportioned_fill

SETTINGS = DecideSettings(bucket="month", recent_days=180, warmup_days=360)
MONTHS = pd.date_range("2020-01-01", periods=36, freq="MS")


def _portfolio() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    series: dict[str, np.ndarray] = {}
    for j in range(24):
        series[f"a{j + 1:02d}"] = rng.poisson(1.0 + 0.25 * j, MONTHS.size).astype(float)
    series["nd"] = np.zeros(MONTHS.size)
    obs = np.zeros(MONTHS.size)
    obs[:20] = 3.0
    series["obs"] = obs
    quiet = np.zeros(MONTHS.size)
    quiet[::6] = 1.0
    quiet[30] = 0.0  # last demand month 24: 11 silent months after it
    series["quiet"] = quiet
    ids = list(series)
    demand = pd.DataFrame(
        {
            "item_id": np.repeat(ids, MONTHS.size),
            "date": np.tile(MONTHS, len(ids)),
            "quantity": np.concatenate([series[k] for k in ids]),
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ids,
            "unit_cost": 10.0,
            "holding_rate": 0.25,
            "criticality": "medium",
            "nominal_lead_time_days": 30.0,
            "review_period_days": 0.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "order_cost": 0.0,
            # a large stock on the obsolete item: the rule must drop it
            "current_safety_stock": [np.nan] * 25 + [40.0, np.nan],
        }
    )
    return items, demand


@pytest.fixture(scope="module")
def decided():  # type: ignore[no-untyped-def]
    items, demand = _portfolio()
    return decide_items(items, demand, None, settings=SETTINGS, seed=3)


def _row(d, item: str) -> pd.Series:  # type: ignore[no-untyped-def]
    return d.items.set_index("item_id").loc[item]


def test_profile_classes_of_the_portfolio(decided) -> None:  # type: ignore[no-untyped-def]
    dem = decided.analysis.profiles.demand.drop_duplicates("item_id").set_index("item_id")
    assert dem.loc["nd", "demand_class"] == "no_demand"
    assert bool(dem.loc["obs", "obsolete"]) is True
    assert bool(dem.loc["quiet", "obsolete"]) is False
    assert decided.analysis.held_at_zero.tolist() == [""] * 24 + ["no_demand", "obsolete", ""]


def test_no_demand_and_obsolete_hold_no_buffer_and_say_why(decided) -> None:  # type: ignore[no-untyped-def]
    for item in ("nd", "obs"):
        row = _row(decided, item)
        assert row["stance"] == "jit"
        assert row["safety_stock"] == 0.0
        assert row["buffer_value"] == 0.0
        # the JIT option's own figures: no extra cost over JIT
        assert row["expected_annual_cost"] == pytest.approx(row["jit_annual_cost"])
    assert (
        "no demand at all in its history (36 months), nothing to cover"
        in _row(decided, "nd")["drivers"]
    )
    obs = _row(decided, "obs")["drivers"]
    assert "obsolete, its demand stopped (the last 16 months without any" in obs
    # neither is calibrated: the calibration left them out
    cal = decided.analysis.calibration
    assert cal is not None
    ids = decided.analysis.risk.item_ids
    assert {str(ids[j]) for j in cal.rows}.isdisjoint({"nd", "obs"})
    # the obsolete item's current 40 units (400 in money) can be freed
    assert _row(decided, "obs")["cash_freed"] == pytest.approx(400.0)


def test_no_item_costs_more_than_jit_unless_the_fill_target_sets_it(decided) -> None:  # type: ignore[no-untyped-def]
    t = decided.items
    cal_ids = {str(decided.analysis.risk.item_ids[j]) for j in decided.analysis.calibration.rows}
    dearer = t[t["expected_annual_cost"] > t["jit_annual_cost"] + 1e-9]
    assert set(dearer["item_id"]) <= cal_ids
    for _, row in dearer.iterrows():
        extra = row["expected_annual_cost"] - row["jit_annual_cost"]
        assert "level set by the fill target, not by cost" in row["drivers"]
        assert "more than JIT" in row["drivers"]
        # the amount said is the table's: expected_annual_cost - jit_annual_cost
        said = f"costs {extra:,.0f} a year more than JIT" if extra >= 10 else f"{extra:,.2f}"
        assert said in row["drivers"]
    assert not t["drivers"].str.contains("a year less in total").any()


def test_cover_without_recent_demand_is_said_in_units_never_nan(decided) -> None:  # type: ignore[no-untyped-def]
    quiet = _row(decided, "quiet")
    assert math.isnan(quiet["days_of_cover"])  # safety stock / 0 recent daily demand
    assert not decided.items["drivers"].str.contains(r"\bnan\b").any()
    # calibrated to a level above 0 (1 unit, lean): the cover is said in units, not in days
    assert quiet["safety_stock"] > 0
    assert quiet["stance"] == "lean"
    assert (
        f"-> hold {quiet['safety_stock']:,.2f} units (lean; no recent demand to cover in days)"
        in quiet["drivers"]
    )


def test_expected_fill_rate_is_per_item_and_averages_to_the_target(decided) -> None:  # type: ignore[no-untyped-def]
    a = decided.analysis
    cal = a.calibration
    fill = decided.items["expected_fill_rate"].to_numpy()[cal.rows]
    # per item: not the portfolio figure copied to every calibrated item
    assert np.unique(np.round(fill, 9)).size > 1
    # weighted as the target is (mean demand value), the items' fills give the target back
    w = a.risk.demand_mean[cal.rows] * a.risk.unit_cost[cal.rows]
    assert (fill * w).sum() / w.sum() == pytest.approx(cal.target, abs=1e-9)


def test_apportioned_fill_hand_cases() -> None:
    # shortfalls 0.1, 0.2, 0 (mean 0.1): target 0.9 needs k = 1, target 0.95 needs k = 0.5
    assert apportioned_fill(np.array([0.9, 0.8, 1.0]), np.ones(3), 0.9) == pytest.approx(
        [0.9, 0.8, 1.0]
    )
    assert apportioned_fill(np.array([0.9, 0.8, 1.0]), np.ones(3), 0.95) == pytest.approx(
        [0.95, 0.9, 1.0]
    )
    # cap: shortfalls 0.5, 0.1, target 0.3 (shortfall 1.4 of 2): the first caps at 1 (k >= 2),
    # then 1 + 0.1 k = 1.4 -> k = 4: fills 0 and 0.6
    assert apportioned_fill(np.array([0.5, 0.9]), np.ones(2), 0.3) == pytest.approx(
        [0.0, 0.6], abs=1e-9
    )
    # zero weight (no recent demand) still gets its scaled shortfall; no shortfall anywhere:
    # the target for all
    assert apportioned_fill(np.array([0.8, 0.9]), np.array([0.0, 1.0]), 0.95) == pytest.approx(
        [0.9, 0.95]
    )
    assert apportioned_fill(np.ones(2), np.ones(2), 0.9) == pytest.approx([0.9, 0.9])


def test_fill_now_is_unknown_without_current_levels() -> None:
    items, demand = _portfolio()
    d = decide_items(
        items.drop(columns="current_safety_stock"), demand, None, settings=SETTINGS, seed=3
    )
    assert math.isnan(d.totals["expected_fill_rate_now"])
    assert d.items["current_expected_fill_rate"].isna().all()
    assert 0.0 < d.totals["expected_fill_rate_recommended"] <= 1.0


def test_analyze_summary_says_n_a_for_an_unknown_fill_now(capsys) -> None:  # type: ignore[no-untyped-def]
    from bufferwise.cli import analyze as cli_analyze

    summary = {
        "run_id": 1,
        "items": 3,
        "stances": {"jit": 3},
        "buffer_value_now": 0.0,
        "buffer_value_recommended": 0.0,
        "cash_freed": 0.0,
        "cash_needed": 0.0,
        "expected_fill_rate_now": float("nan"),
        "expected_fill_rate_recommended": 0.9,
        "top_findings": [],
    }
    with cli_analyze.console.capture() as cap:
        cli_analyze._print_summary(summary, "sqlite://", [])
    assert "expected fill rate: now n/a, recommended 90.0%" in cap.get()
