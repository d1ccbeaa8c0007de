"""`value_to_uniform` is an inventory ratio AT THE SAME FILL: only the "all" rows of the
policies tuned to (or being) the calibrated fill carry it; rows at other fills are NaN."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.simulate.decision import EQUAL_FILL_POLICIES, POLICIES, decision_quality


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n, fit, test = 80, 48, 12
    rate = rng.gamma(0.6, 2.0, n)[:, None]
    # intermittent and smooth items: more than one demand class
    demand = rng.poisson(rate * (rng.random((n, fit + test)) < rng.uniform(0.2, 1.0, (n, 1))))
    demand = demand.astype(float)
    lead = rng.integers(0, 4, n).astype(float)
    value = rng.uniform(1.0, 50.0, n)
    res = decision_quality(demand[:, :fit], demand[:, fit:], lead, value, (0.9,))
    return res.table


def test_only_equal_fill_rows_have_a_ratio(table) -> None:
    assert table["demand_class"].nunique() > 2  # "all" and at least two classes
    per_class = table[table["demand_class"] != "all"]
    assert per_class["value_to_uniform"].isna().all()
    whole = table[table["demand_class"] == "all"].set_index("policy")
    assert bool(whole.loc["uniform", "reached"])
    for name in POLICIES:
        ratio = whole.loc[name, "value_to_uniform"]
        if name in EQUAL_FILL_POLICIES and bool(whole.loc[name, "reached"]):
            assert np.isfinite(ratio), name
        else:
            assert np.isnan(ratio), name
    assert whole.loc["uniform", "value_to_uniform"] == pytest.approx(1.0)
    # the rows with a ratio are at the calibrated fill; classic's is not
    cal = whole.loc["calibrated", "fill_rate"]
    assert whole.loc["uniform", "fill_rate"] >= cal
    assert whole.loc["classic", "fill_rate"] != pytest.approx(cal, abs=1e-3)
    ratio = whole.loc["calibrated", "inventory_value"] / whole.loc["uniform", "inventory_value"]
    assert whole.loc["calibrated", "value_to_uniform"] == pytest.approx(ratio)
