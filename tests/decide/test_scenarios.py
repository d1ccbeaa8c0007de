"""What-if scenarios on the example plant (scenarios.py docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.decide.scenarios import SCENARIO_COLUMNS, run_scenarios, scenario_from_dict
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
