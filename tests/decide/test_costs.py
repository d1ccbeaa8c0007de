"""The cost fallbacks of decide/costs.py: stockout cost by criticality (low 0.5, medium 2, high 7,
critical 25 times unit cost per unit short) or the item's own multiple; holding rate by default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide import (
    DEFAULT_HOLDING_RATE,
    DEFAULT_STOCKOUT_MULTIPLE,
    holding_rates,
    stockout_costs,
)
from bufferwise.errors import InvalidInput


def _items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "e"],
            "unit_cost": [10.0, 10.0, 10.0, 4.0, 2.0],
            "stockout_cost": [np.nan, np.nan, 3.0, np.nan, np.nan],
            "criticality": ["low", "critical", "critical", None, "High"],
        }
    )


def test_given_cost_wins_else_criticality_multiple() -> None:
    cost, derived = stockout_costs(_items())
    # a: 10 x 0.5; b: 10 x 25; c: given 3; d: empty criticality = medium, 4 x 2; e: 2 x 7
    assert cost == pytest.approx([5.0, 250.0, 3.0, 8.0, 14.0])
    assert derived.tolist() == [True, True, False, True, True]


def test_table_can_be_overridden() -> None:
    table = {**DEFAULT_STOCKOUT_MULTIPLE, "critical": 100.0}
    cost, _ = stockout_costs(_items(), table)
    assert cost[1] == pytest.approx(1_000.0)


def test_unknown_criticality_is_an_error() -> None:
    items = _items().assign(criticality=["low", "urgent", "low", "low", "low"])
    with pytest.raises(InvalidInput, match="urgent"):
        stockout_costs(items)


def test_an_items_own_multiple_wins_over_the_table() -> None:
    # stockout_cost_multiple (a settings override, resolved per item) applies where the
    # stockout cost is empty: a 10 x 3 = 30; c keeps its given 3; b, d, e the table
    items = _items().assign(stockout_cost_multiple=[3.0, np.nan, 50.0, np.nan, np.nan])
    cost, derived = stockout_costs(items)
    assert cost == pytest.approx([30.0, 250.0, 3.0, 8.0, 14.0])
    assert derived.tolist() == [True, True, False, True, True]


def test_holding_rate_default_only_for_empty_cells() -> None:
    items = pd.DataFrame({"holding_rate": [0.1, np.nan, 0.0]})
    # decide/costs.py: DEFAULT_HOLDING_RATE = 0.25 unless the caller names another default
    assert holding_rates(items) == pytest.approx([0.1, DEFAULT_HOLDING_RATE, 0.0])
    assert holding_rates(items, 0.4) == pytest.approx([0.1, 0.4, 0.0])
    assert holding_rates(pd.DataFrame(index=range(2)), 0.4) == pytest.approx([0.4, 0.4])
    with pytest.raises(InvalidInput, match="row 1, column holding_rate"):
        holding_rates(pd.DataFrame({"holding_rate": [-0.1]}))
