"""End to end on the example plant: the planted mistakes are found, well-sized items are left
alone, and the tables keep their contract. Ground truth: truth.json written by
`bufferwise.demo.generate_plant` (docs/example-plant.md, "The current policy and its planted
mistakes")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide import (
    CODES,
    DECISION_COLUMNS,
    FINDING_COLUMNS,
    FRONTIER_COLUMNS,
    STANCES,
    allocate_budget,
)
from bufferwise.demo import MISTAKE_CODES

from .conftest import Decided


def _codes(decided: Decided) -> dict[str, set[str]]:
    table = decided.decisions.items
    return {
        str(i): set(filter(None, str(c).split(";")))
        for i, c in zip(table["item_id"], table["diagnosis"], strict=True)
    }


def test_codes_are_the_generators_codes() -> None:
    assert set(CODES) == set(MISTAKE_CODES)


@pytest.mark.parametrize("code", MISTAKE_CODES)
def test_every_planted_mistake_is_found_with_its_code(decided: Decided, code: str) -> None:
    truth = decided.plant.truth
    found = _codes(decided)
    planted = truth.items_with(code)
    assert planted, f"the generator planted no {code}"
    missed = [i for i in planted if code not in found[i]]
    assert not missed, f"{code} planted on {len(planted)} items, missed on {missed}"


def test_no_well_sized_item_is_flagged(decided: Decided) -> None:
    found = _codes(decided)
    well = decided.plant.truth.well_sized_items()
    assert len(well) == 30  # docs/example-plant.md: 30 well-sized items by default
    flagged = {i: found[i] for i in well if found[i]}
    assert not flagged, f"well-sized items flagged: {flagged}"


def test_one_policy_group_is_exactly_the_planted_group(decided: Decided) -> None:
    truth = decided.plant.truth
    rows = decided.decisions.findings
    groups = rows[rows["code"] == "one_policy_for_all"]
    assert len(groups) == 1
    members = set(str(groups["items"].iloc[0]).split(";"))
    assert members == set(truth.one_policy_group)
    # the finding states the common cover (truth.one_policy_days_of_cover = 10 days)
    assert f"hold {truth.one_policy_days_of_cover:.1f} days of cover" in groups["message"].iloc[0]


def test_findings_are_quantified_in_money(decided: Decided) -> None:
    f = decided.decisions.findings
    assert list(f.columns) == list(FINDING_COLUMNS)
    assert set(f["code"]) == set(CODES)
    money = f["money_per_year"].to_numpy(float)
    assert np.all(np.isfinite(money))
    for code in ("dogmatic_jit", "lazy_jic", "hidden_loss", "one_policy_for_all"):
        assert (f.loc[f["code"] == code, "money_per_year"] > 0).all(), code
    lazy = f[f["code"] == "lazy_jic"]
    assert (lazy["stock_value"] > 0).all()  # cash freed


def test_dogmatic_jit_items_get_a_buffer(decided: Decided) -> None:
    # planted: S04/S05, lumpy or erratic, high or critical, current safety stock 0
    table = decided.decisions.items.set_index("item_id")
    for item in decided.plant.truth.items_with("dogmatic_jit"):
        row = table.loc[item]
        assert row["stance"] != "jit"
        assert row["safety_stock"] > 0
        assert (
            row["jit_annual_cost"]
            > row["expected_annual_holding_cost"] + row["expected_annual_stockout_cost"]
        )


def test_lazy_jic_items_are_lean_or_jit(decided: Decided) -> None:
    table = decided.decisions.items.set_index("item_id")
    for item in decided.plant.truth.items_with("lazy_jic"):
        row = table.loc[item]
        assert row["stance"] in ("jit", "lean")
        assert row["current_safety_stock"] > 3 * row["safety_stock"]


def test_decision_table_contract(decided: Decided) -> None:
    table = decided.decisions.items
    assert list(table.columns) == list(DECISION_COLUMNS)
    assert len(table) == len(decided.plant.items) == 240
    assert set(table["stance"]) <= set(STANCES)
    assert (table["safety_stock"] >= 0).all()
    assert (table["order_up_to"] >= table["reorder_point"] - 1e-9).all()
    fill = table["expected_fill_rate"].to_numpy(float)
    assert np.all((fill >= 0) & (fill <= 1))
    assert table["drivers"].str.contains("->").all()
    # each stance appears on the plant (24 critical items make strategic possible)
    assert set(table["stance"]) == set(STANCES)


def test_the_least_cost_level_is_chosen_up_to_the_tie_rule(decided: Decided) -> None:
    a = decided.decisions.analysis
    cost = a.full.total_cost
    best = cost.min(axis=1)
    tol = np.maximum(a.settings.tie_absolute, a.settings.tie_relative * best)
    # items held at no buffer by rule (no demand, obsolete: decide/analysis.py) are jit at 0
    ruled = a.held_at_zero != ""
    assert np.all(a.recommended_ss[ruled] == 0.0) and np.all(a.stance_index[ruled] == 0)
    rows = np.flatnonzero(~ruled)
    chosen = np.argmin(np.abs(a.full.safety_stock[rows] - a.recommended_ss[rows, None]), axis=1)
    assert np.allclose(a.full.safety_stock[rows, chosen], a.recommended_ss[rows])
    assert np.all(cost[rows, chosen] <= best[rows] + tol[rows] + 1e-9)
    # no smaller level was within the tolerance
    for j, i in enumerate(rows):
        assert not np.any(cost[i, : chosen[j]] <= best[i] + tol[i])
    # and the stance is the zone of that level
    assert np.array_equal(a.zone[rows, chosen], a.stance_index[rows])


def test_the_planted_obsolete_items_hold_no_buffer(decided: Decided) -> None:
    # the generator stops 6 sparse items' demand 90-200 days before the end (demo/plant.py,
    # obsolete_from); the profile flags them obsolete and decide holds them at no buffer
    a = decided.decisions.analysis
    truth = decided.plant.truth
    planted = {k for k, t in truth.items.items() if t.features.get("obsolete_from")}
    ruled = {str(a.risk.item_ids[i]) for i in np.flatnonzero(a.held_at_zero == "obsolete")}
    assert len(planted) == 6 and ruled == planted
    t = decided.decisions.items.set_index("item_id")
    assert (t.loc[sorted(planted), "safety_stock"] == 0).all()
    assert t.loc[sorted(planted), "drivers"].str.contains("obsolete, its demand stopped").all()


def test_frontier_chart_data(decided: Decided) -> None:
    fr = decided.decisions.frontier
    assert list(fr.columns) == list(FRONTIER_COLUMNS)
    front = fr[fr["series"] == "frontier"]
    assert np.all(np.diff(front["buffer_value"]) >= 0)
    assert np.all(np.diff(front["expected_annual_stockout_cost"]) <= 1e-6)
    assert set(fr["series"]) == {"frontier", "one_policy", "current", "recommended"}
    # the same money allocated by risk beats one uniform cover: compare the uniform policy's
    # points with the frontier interpolated at the same buffer value
    uni = fr[(fr["series"] == "one_policy") & (fr["buffer_value"] > 0)]
    at = np.interp(
        uni["buffer_value"], front["buffer_value"], front["expected_annual_stockout_cost"]
    )
    inside = uni["buffer_value"] <= front["buffer_value"].max()
    assert np.all(at[inside] <= uni["expected_annual_stockout_cost"][inside] + 1e-6)


def test_budget_allocation_respects_the_cap(decided: Decided) -> None:
    a = decided.decisions.analysis
    cap = decided.decisions.totals["buffer_value_now"]
    alloc = allocate_budget(a, cap)
    assert alloc["buffer_value"].sum() <= cap + 1e-6
    more = allocate_budget(a, 2 * cap)
    assert (
        more["expected_annual_stockout_cost"].sum() <= alloc["expected_annual_stockout_cost"].sum()
    )


def test_totals_add_up(decided: Decided) -> None:
    t = decided.decisions.totals
    table = decided.decisions.items
    assert t["buffer_value_recommended"] == pytest.approx(table["buffer_value"].sum())
    now = float(np.nansum(table["current_buffer_value"]))
    assert t["buffer_value_now"] == pytest.approx(now)
    assert t["buffer_value_recommended"] - t["buffer_value_now"] == pytest.approx(
        t["cash_needed"] - t["cash_freed"]
    )


def test_same_seed_same_decisions(decided: Decided) -> None:
    from bufferwise.decide import analyse

    p = decided.plant
    keep = decided.decisions.items["item_id"].iloc[:12].tolist()
    items = p.items[p.items["item_id"].isin(keep)]
    demand = p.demand[p.demand["item_id"].isin(keep)]
    receipts = p.receipts[p.receipts["item_id"].isin(keep)]
    one = analyse(items, demand, receipts, seed=5)
    two = analyse(items, demand, receipts, seed=5)
    assert np.array_equal(one.options_ss, two.options_ss, equal_nan=True)
    assert np.array_equal(one.stance_index, two.stance_index)
    pd.testing.assert_frame_equal(
        pd.DataFrame(one.options.total_cost), pd.DataFrame(two.options.total_cost)
    )


def test_runs_without_receipts_or_equipment(decided: Decided) -> None:
    # nominal lead times only, no machine data: still a stance per item, no hidden_loss
    from bufferwise.decide import decide_items

    p = decided.plant
    keep = p.truth.items_with("hidden_loss")[:3] + p.truth.well_sized_items()[:3]
    items = p.items[p.items["item_id"].isin(keep)]
    demand = p.demand[p.demand["item_id"].isin(keep)]
    out = decide_items(items, demand, None, seed=3)
    assert len(out.items) == 6
    assert set(out.items["stance"]) <= set(STANCES)
    assert not out.items["diagnosis"].str.contains("hidden_loss").any()
    assert (out.items["risk_layer"] == "normal").all()


def test_dogmatic_jit_names_the_current_stance_by_its_zone(decided: Decided) -> None:
    # README "Stances": jit is zero safety stock. P-0112 holds none (current_safety_stock 0):
    # its finding says "held jit (no safety stock)", never "held lean (0.0 days of cover)"
    d = decided.decisions
    t = d.items.set_index("item_id")
    f = d.findings[d.findings["code"] == "dogmatic_jit"]
    assert len(f)
    assert not f["message"].str.contains(r"held lean \(0\.0 days").any()
    for item, msg in zip(f["items"], f["message"], strict=True):
        if t.loc[item, "current_safety_stock"] == 0:
            assert msg.startswith("held jit (no safety stock) against")
        else:
            assert not msg.startswith("held jit")
    assert t.loc["P-0112", "current_safety_stock"] == 0
    assert f.set_index("items").loc["P-0112", "message"].startswith("held jit (no safety stock)")
