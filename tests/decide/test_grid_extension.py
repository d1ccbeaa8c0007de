"""Grid extension of the cost curve (decide/cost_curve.py, docs/decide.md "Cost curves").

One made item (no receipts, so its machine's stops are its disruption risk), Poisson demand of
10 units a day, lead time 5 days, whose machine stops 6 times a year for 10 days on average
(exponential) and whose stockout costs 40,000x a year's holding (100,000 per unit short,
h = 2.5 a year). 4 sigma_LTD is about 4 sqrt(5 x 10) = 28 units. The kernel draws the stops
from the 16-point exponential pool of mean 10 days (decide/risk.py): p90 23 days, longest
-10 ln(1/32) = 34.7 days. The grid's first top is U = max(4 sigma_LTD, one day) + daily demand
x p90 = about 4 x sqrt(5 x 10) + 10 x 23 = 258 units (238 with the sampled demand's sigma); at
40,000x every stop of the pool is worth covering, up to the longest stop's demand (347 units,
less the cycle stock on hand when it starts), so the least cost lies above U, far above
4 sigma_LTD: one doubling of the grid (2 U) holds it, no doubling does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bufferwise.decide import Analysis, DecideSettings, Decisions, decide_items
from bufferwise.decide.stance import tie_tolerance
from bufferwise.equipment.item_risk import SupplyOutageProcess

STOP_DAYS = 10.0
STOPS_PER_YEAR = 6.0


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, SupplyOutageProcess]]:
    items = pd.DataFrame(
        {
            "item_id": ["W1"],
            "unit_cost": [10.0],
            "holding_rate": [0.25],
            "stockout_cost": [100_000.0],
            "nominal_lead_time_days": [5.0],
            "order_cost": [10.0],
            "machine_id": ["M1"],
            "criticality": ["high"],
        }
    )
    dates = pd.date_range("2024-01-01", periods=400, freq="D")
    rng = np.random.default_rng(3)
    demand = pd.DataFrame(
        {"item_id": "W1", "date": dates, "quantity": rng.poisson(10.0, dates.size).astype(float)}
    )
    proc = SupplyOutageProcess(
        machine_id="M1",
        outage_rate_per_year=STOPS_PER_YEAR,
        mean_outage_days=STOP_DAYS,
        p90_outage_days=-STOP_DAYS * np.log(0.1),
        availability=1.0 / (1.0 + STOPS_PER_YEAR * STOP_DAYS / 365.0),
        failures_observed=12,
        observed_days=730.0,
        duration_model="exponential",
    )
    return items, demand, {"W1": proc}


def _decide(**settings: float) -> Decisions:
    items, demand, risk = _inputs()
    st = DecideSettings(sim_years=4, **settings)  # type: ignore[arg-type]
    return decide_items(items, demand, None, equipment_risk=risk, settings=st, seed=11)


def _rounds(a: Analysis) -> int:
    assert a.grid_rounds is not None
    return int(a.grid_rounds[0])


def test_optimum_above_the_first_grid_is_found_inside_the_extended_grid() -> None:
    capped = _decide(grid_extensions=0)
    a0 = capped.analysis
    first_top = float(a0.full.safety_stock[0, -1])
    # before the extension: the least cost is the grid's top, cost still falling there
    assert a0.recommended_ss[0] == pytest.approx(first_top)
    assert a0.full.total_cost[0, -1] < a0.full.total_cost[0, -2]
    assert bool(capped.items["grid_capped"].iloc[0])
    assert "grid capped" in capped.items["drivers"].iloc[0]

    d = _decide()
    a = d.analysis
    grid, cost = a.full.safety_stock[0], a.full.total_cost[0]
    k = int(np.flatnonzero(np.isclose(grid, a.recommended_ss[0]))[0])
    assert _rounds(a) == 1
    assert grid[-1] == pytest.approx(first_top * 2 ** _rounds(a))
    # an interior minimum: below its lower neighbour, not above its upper one by more than
    # the tie tolerance (the tie rule takes the smaller of two levels that close)
    assert 0 < k < grid.size - 1
    tol = float(tie_tolerance(np.array([cost.min()]), a.settings)[0])
    assert cost[k] < cost[k - 1]
    assert cost[k] <= cost[k + 1] + tol
    assert int(np.argmin(cost)) < grid.size - 1
    # above the first top, at most the longest stop's demand (347 units), far above 4 sigma_LTD
    assert first_top < a.recommended_ss[0] <= 347
    assert a.recommended_ss[0] > 5 * 4 * np.sqrt(5 * 10)
    assert not bool(d.items["grid_capped"].iloc[0])
    assert "grid capped" not in d.items["drivers"].iloc[0]
    # the extension lowered the expected cost the recommendation promises
    assert d.items["expected_annual_cost"].iloc[0] < capped.items["expected_annual_cost"].iloc[0]


def test_bound_reached_is_flagged_and_said() -> None:
    # no doubling allowed: the bound is the first top U, below the least cost
    d = _decide(grid_extensions=0)
    a = d.analysis
    assert _rounds(a) == 0
    assert a.recommended_ss[0] == pytest.approx(a.full.safety_stock[0, -1])
    assert bool(d.items["grid_capped"].iloc[0])
    assert "grid capped" in d.items["drivers"].iloc[0]
    assert any("grid_capped" in n for n in d.notes)


def test_extension_budget_reached_is_flagged() -> None:
    # no room for the extension's item-periods: not extended, flagged
    d = _decide(grid_extension_share=0.0)
    assert _rounds(d.analysis) == 0
    assert bool(d.items["grid_capped"].iloc[0])


def test_extension_is_deterministic() -> None:
    a, b = _decide(), _decide()
    pd.testing.assert_frame_equal(a.items, b.items)
