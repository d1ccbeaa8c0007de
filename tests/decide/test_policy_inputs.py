"""The replenishment rule and holding cost decide prices each item with (decide/risk.py,
docs/decide.md "Policy"): an empty order_multiple takes the items table's default 1 (whole
units; docs/data-model.md), 0 orders any quantity; an empty holding_rate takes the caller's
default_holding_rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide import DEFAULT_HOLDING_RATE, DecideSettings, decide_matrix
from bufferwise.decide.costs import price_items
from bufferwise.decide.risk import build_risk_model


def _items(**columns: list[float]) -> pd.DataFrame:
    base = {
        "item_id": ["a", "b", "c"],
        "unit_cost": [10.0, 10.0, 10.0],
        "nominal_lead_time_days": [5.0, 5.0, 5.0],
        # EOQ sqrt(2 K D / h) = sqrt(2 x 10 x 365 / 2.5) = 54.04 units at 1 unit a day
        "order_cost": [10.0, 10.0, 10.0],
    }
    return pd.DataFrame({**base, **columns})


def _demand() -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=365, freq="D")
    return pd.DataFrame(
        {
            "item_id": np.repeat(["a", "b", "c"], dates.size),
            "date": np.tile(dates, 3),
            "quantity": 1.0,
        }
    )


def _risk(items: pd.DataFrame, **kwargs: float):  # type: ignore[no-untyped-def]
    """The risk model of `items` priced as analyse prices them (`price_items`)."""
    st = DecideSettings()
    priced = price_items(items, **kwargs)
    return build_risk_model(priced, decide_matrix(priced, _demand(), st), None, None, st)


def test_order_multiple_empty_is_whole_units_zero_is_any_quantity() -> None:
    risk = _risk(_items(holding_rate=[0.25] * 3, order_multiple=[np.nan, 0.0, 20.0]))
    eoq = np.sqrt(2 * 10.0 * 365.0 / (10.0 * 0.25))
    assert risk.order_multiple.tolist() == [1.0, 0.0, 20.0]
    # a: rounded up to whole units; b: the EOQ as it is; c: up to the multiple of 20
    assert risk.order_quantity == pytest.approx([np.ceil(eoq), eoq, 60.0])


def test_empty_holding_rate_takes_the_default_given() -> None:
    items = _items(holding_rate=[np.nan, 0.1, np.nan])
    assert _risk(items).holding_per_year == pytest.approx(
        [10.0 * DEFAULT_HOLDING_RATE, 1.0, 10.0 * DEFAULT_HOLDING_RATE]
    )
    assert _risk(items, default_holding_rate=0.4).holding_per_year == pytest.approx([4.0, 1.0, 4.0])
