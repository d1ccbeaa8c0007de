"""What-if scenarios on the example plant (scenarios.py docstring)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide.scenarios import (
    SCENARIO_COLUMNS,
    Scenario,
    SupplierOutage,
    run_scenarios,
    scenario_from_dict,
)
from bufferwise.errors import InvalidInput

from .conftest import Decided


def test_a_month_without_the_least_reliable_supplier(decided: Decided) -> None:
    # issue 5: a 30-day outage of the least reliable supplier, current vs recommended buffers
    truth = decided.plant.truth
    worst = min(truth.suppliers.values(), key=lambda s: s.measured_on_time).supplier_id
    assert worst == "S05"  # docs/example-plant.md: S05 55 % on time, two long outages
    sc = scenario_from_dict(
        {"name": "worst out 30 days", "supplier_outage": {"supplier_id": worst, "days": 30}}
    )
    detail, summary = run_scenarios(decided.decisions.analysis, [sc], decided.plant.receipts)
    assert list(detail.columns) == list(SCENARIO_COLUMNS)
    s = summary.set_index("policy")
    n_items = int((decided.plant.items["supplier_id"] == worst).sum())
    assert (s["items_affected"] == n_items).all()
    extra_days = s["stockout_days_after"] - s["stockout_days_before"]
    # the outage adds stockout days to the lean current buffers, fewer to the recommended ones
    assert extra_days["current"] > 0
    assert extra_days["recommended"] < extra_days["current"]
    assert s.loc["recommended", "stockout_cost_after"] < s.loc["current", "stockout_cost_after"]
    # items of other suppliers are untouched (same random numbers before and after)
    other = detail[~detail["affected"]]
    assert np.allclose(other["stockout_cost_before"], other["stockout_cost_after"])


def test_a_factor_of_one_changes_nothing(decided: Decided) -> None:
    sc = scenario_from_dict({"name": "same", "lead_time_factor": {"factor": 1.0}})
    detail, _ = run_scenarios(decided.decisions.analysis, [sc], decided.plant.receipts)
    for col in ("fill_rate", "stockout_cost", "holding_cost"):
        assert np.allclose(detail[f"{col}_before"], detail[f"{col}_after"]), col


def test_a_demand_change_is_scaled_by_its_weeks(decided: Decided) -> None:
    a = decided.decisions.analysis
    spec = {"change": 0.5, "category": "raw"}
    full = scenario_from_dict({"name": "year", "demand_change": {**spec, "weeks": 52}})
    half = scenario_from_dict({"name": "half", "demand_change": {**spec, "weeks": 26}})
    detail, _ = run_scenarios(a, [full, half], decided.plant.receipts)
    d = detail.set_index(["scenario", "item_id", "policy"]).sort_index()
    up_full = d.loc["year", "stockout_cost_after"] - d.loc["year", "stockout_cost_before"]
    up_half = d.loc["half", "stockout_cost_after"] - d.loc["half", "stockout_cost_before"]
    assert np.allclose(up_half, 0.5 * up_full)
    raw = set(decided.plant.items.loc[decided.plant.items["category"] == "raw", "item_id"])
    affected = set(d.loc["year"].index.get_level_values(0)[d.loc["year", "affected"]])
    assert affected == raw


def test_repair_times_of_the_poor_machine(decided: Decided) -> None:
    sc = scenario_from_dict(
        {"name": "A2 MTTR x2", "repair_time_factor": {"machine_id": "A2", "factor": 2}}
    )
    detail, summary = run_scenarios(decided.decisions.analysis, [sc], decided.plant.receipts)
    fed = set(decided.plant.truth.items_fed_by("A2"))
    assert set(detail.loc[detail["affected"], "item_id"]) == fed
    cur = summary.set_index("policy").loc["current"]
    assert cur["stockout_cost_after"] > cur["stockout_cost_before"]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"supplier_outage": {"supplier_id": "S05", "days": 30}}, "name"),
        ({"name": "x", "strike": {}}, "unknown key"),
        ({"name": "x"}, "no change"),
        ({"name": "x", "supplier_outage": {"supplier_id": "S05", "days": 0}}, "days"),
        ({"name": "x", "lead_time_factor": {"factor": 2, "supplier": "S1"}}, "lead_time_factor"),
    ],
)
def test_bad_scenarios_are_refused_with_a_reason(spec: dict, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        scenario_from_dict(spec)


def _deltas(detail: pd.DataFrame, name: str) -> pd.DataFrame:
    d = detail[detail["scenario"] == name].set_index(["item_id", "policy"]).sort_index()
    cols = ["fill_rate", "stockout_days", "stockout_cost", "holding_cost"]
    return pd.DataFrame({c: d[f"{c}_after"] - d[f"{c}_before"] for c in cols})


def test_a_demand_change_does_not_scale_the_other_changes(decided: Decided) -> None:
    # an outage sharing a scenario with a 1-week demand change keeps its full annual impact
    # (it was scaled by 1/52 with it); only the demand change's own difference is scaled
    items = decided.plant.items
    other = str(items.loc[items["supplier_id"] != "S05", "item_id"].iloc[0])
    out = {"supplier_outage": {"supplier_id": "S05", "days": 30}}
    bump = {"demand_change": {"change": 0.5, "weeks": 1, "item_ids": [other]}}
    scs = [
        scenario_from_dict({"name": "out", **out}),
        scenario_from_dict({"name": "bump", **bump}),
        scenario_from_dict({"name": "both", **out, **bump}),
    ]
    detail, summary = run_scenarios(decided.decisions.analysis, scs, decided.plant.receipts)
    both, alone, bumped = _deltas(detail, "both"), _deltas(detail, "out"), _deltas(detail, "bump")
    # disjoint items: the combination is the outage's figures plus the bump's, item by item
    assert np.allclose(both, alone + bumped)
    assert np.allclose(both.drop(index=other, level=0), alone.drop(index=other, level=0))
    extra = summary.set_index(["scenario", "policy"])["extra_cost"]
    assert extra["out", "current"] > 0
    assert extra["both", "current"] == pytest.approx(
        extra["out", "current"] + extra["bump", "current"]
    )


def test_each_demand_change_is_scaled_by_its_own_weeks(decided: Decided) -> None:
    # two demand changes: each scaled by its own weeks / 52 (not both by the largest)
    raw = {"change": 0.5, "weeks": 26, "category": "raw"}
    spare = {"change": 0.5, "weeks": 4, "category": "spare"}
    scs = [
        scenario_from_dict({"name": "raw", "demand_change": raw}),
        scenario_from_dict({"name": "spare", "demand_change": spare}),
        scenario_from_dict({"name": "both", "demand_change": [raw, spare]}),
    ]
    detail, summary = run_scenarios(decided.decisions.analysis, scs, decided.plant.receipts)
    assert np.allclose(_deltas(detail, "both"), _deltas(detail, "raw") + _deltas(detail, "spare"))
    extra = summary.set_index(["scenario", "policy"])["extra_cost"]
    assert extra["spare", "current"] > 0
    for policy in ("current", "recommended"):
        assert extra["both", policy] == pytest.approx(extra["raw", policy] + extra["spare", policy])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"supplier_outage": {"supplier_id": "S5", "days": 30}},
            r"supplier_outage\.supplier_id: unknown supplier 'S5'.*S05",
        ),
        (
            {"lead_time_factor": {"factor": 2, "supplier_id": "S99"}},
            r"lead_time_factor\.supplier_id: unknown supplier 'S99'",
        ),
        (
            {"repair_time_factor": {"machine_id": "ZZ", "factor": 3}},
            r"repair_time_factor\.machine_id: unknown machine 'ZZ'.*A2",
        ),
        (
            {"demand_change": {"change": 0.5, "weeks": 4, "item_ids": ["NOPE", "P-0001"]}},
            r"demand_change\.item_ids: unknown item id\(s\) NOPE;",
        ),
        (
            {"demand_change": {"change": 0.5, "weeks": 4, "category": "spares"}},
            r"demand_change\.category: unknown category 'spares'.*spare",
        ),
    ],
)
def test_unknown_ids_are_refused(decided: Decided, change: dict, match: str) -> None:
    # a typo matched nothing and gave a silent "no impact"
    ok = scenario_from_dict({"name": "ok", "supplier_outage": {"supplier_id": "S05", "days": 3}})
    bad = scenario_from_dict({"name": "typo", **change})
    with pytest.raises(InvalidInput, match=r"scenario 'typo', " + match):
        run_scenarios(decided.decisions.analysis, [ok, bad], decided.plant.receipts)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"supplier_outage": {"supplier_id": "S05", "days": "30"}},
            r"supplier_outage\.days: got '30' \(text\); expected a number of days > 0",
        ),
        ({"lead_time_factor": {"factor": None}}, r"lead_time_factor\.factor: got None"),
        (
            {"repair_time_factor": {"machine_id": "A2", "factor": True}},
            r"repair_time_factor\.factor: got True",
        ),
        (
            {"demand_change": {"change": 0.2, "weeks": 4, "item_ids": "ABC"}},
            r"demand_change\.item_ids: got 'ABC' \(text\); expected a list of item ids",
        ),
        (
            {"demand_change": {"change": 0.2, "weeks": 4, "item_ids": []}},
            r"demand_change\.item_ids: got \[\].*leave item_ids out",
        ),
        (
            {"demand_change": {"change": 0.2, "weeks": float("inf")}},
            r"demand_change\.weeks: got inf .*not finite",
        ),
        (
            {"demand_change": {"change": 0.2, "weeks": float("nan")}},
            r"demand_change\.weeks: got nan",
        ),
        ({"demand_change": {"change": -1, "weeks": 4}}, r"demand_change\.change: got -1 .*> -1"),
        ({"demand_change": {"change": 0.2}}, r"demand_change: missing field\(s\) weeks"),
        (
            {"supplier_outage": {"supplier_id": 5, "days": 3}},
            r"supplier_outage\.supplier_id: got 5 \(int\)",
        ),
        (
            {"supplier_outage": {"supplier_id": "S05", "days": 3, "start": "soon"}},
            r"supplier_outage\.start: got 'soon'.*a date",
        ),
        ({"supplier_outage": ["S05"]}, r"supplier_outage: expected a table of values"),
    ],
)
def test_badly_typed_values_are_refused(change: dict, match: str) -> None:
    # they raised TypeError (an internal bug at the command line) or were silently mangled
    with pytest.raises(InvalidInput, match=r"scenario 'x', " + match):
        scenario_from_dict({"name": "x", **change})


def test_a_list_of_changes_names_the_entry() -> None:
    spec = {"name": "x", "demand_change": [{"change": 0.1, "weeks": 4}, {"change": 0.1}]}
    with pytest.raises(InvalidInput, match=r"demand_change\[2\]: missing field"):
        scenario_from_dict(spec)


def test_good_values_are_kept() -> None:
    sc = scenario_from_dict(
        {
            "name": " x ",
            "supplier_outage": {"supplier_id": "S05", "days": 30, "start": dt.date(2026, 1, 5)},
            "demand_change": {"change": 0.25, "weeks": 8, "item_ids": ["P-0001", 1001]},
        }
    )
    assert sc.name == "x"
    out, dem = sc.changes
    assert out == SupplierOutage("S05", 30.0, "2026-01-05")
    assert dem.item_ids == ("P-0001", "1001")  # type: ignore[union-attr]


def test_scenarios_built_in_python_are_checked_too(decided: Decided) -> None:
    sc = Scenario("py", (SupplierOutage("S05", "30"),))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"scenario 'py', change #1 \(supplier_outage\)\.days"):
        run_scenarios(decided.decisions.analysis, [sc], decided.plant.receipts)
