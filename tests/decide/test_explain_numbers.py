"""The plain-words explanation states the decision table's numbers (docs/decide.md,
"Explanation"): the conclusion's "JIT would cost X a year more in total (Y more in expected
shortages, Z less in holding)" is jit_annual_cost - expected_annual_cost, split into JIT's
expected stockout and holding costs minus the recommended level's; the stockout driver's "JIT
would run W a year of expected shortages" is JIT's own, W - Y the recommended level's.
"""

from __future__ import annotations

import re

from .conftest import Decided


def _money(x: float) -> str:
    # the explanation's money format (decide/explain.py): 2 decimals below 10, else whole
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.0f}"


def _change(x: float, what: str) -> str:
    return f"{_money(abs(x))} {'more' if x >= 0 else 'less'} in {what}"


def test_conclusion_states_the_tables_cost_differences(decided: Decided) -> None:
    d = decided.decisions
    a = d.analysis
    table = d.items
    checked = 0
    for i, row in table.iterrows():
        if row["stance"] == "jit":
            continue
        total = row["jit_annual_cost"] - row["expected_annual_cost"]
        shortages = a.options.stockout_cost[i, 0] - row["expected_annual_stockout_cost"]
        holding = a.options.holding_cost[i, 0] - row["expected_annual_holding_cost"]
        # the three figures add up: the total is the shortage and the holding difference
        assert abs(total - (shortages + holding)) <= 1e-6 * max(1.0, abs(total))
        expected = (
            f"JIT would cost {_money(abs(total))} a year {'more' if total >= 0 else 'less'} in "
            f"total ({_change(shortages, 'expected shortages')}, {_change(holding, 'holding')})"
        )
        assert row["drivers"].endswith(expected), (row["item_id"], row["drivers"], expected)
        # the stockout driver gives JIT's own expected shortage cost
        jit_short = shortages + row["expected_annual_stockout_cost"]
        assert f"JIT would run {_money(jit_short)} a year of expected shortages" in row["drivers"]
        checked += 1
    assert checked > 100  # most plant items hold a buffer


def test_conclusion_numbers_parse_back_to_the_table(decided: Decided) -> None:
    # the same check read from the text, as a planner reads it: P-0016, the docs' example item
    table = decided.decisions.items.set_index("item_id")
    row = table.loc["P-0016"]
    found = re.search(
        r"JIT would cost ([\d,.]+) a year more in total \(([\d,.]+) more in expected shortages, "
        r"([\d,.]+) less in holding\)",
        row["drivers"],
    )
    assert found is not None, row["drivers"]
    total, shortages, holding = (float(g.replace(",", "")) for g in found.groups())
    assert total == round(row["jit_annual_cost"] - row["expected_annual_cost"])
    assert round(shortages - holding) in (total - 1, total, total + 1)  # each rounded apart
