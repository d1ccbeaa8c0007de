"""Simulation-optimised sizing: targets met within confidence intervals, least-cost levels."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.errors import InvalidInput
from bufferwise.kernels import (
    DEMAND_EMPIRICAL,
    DEMAND_NORMAL,
    POLICY_BASE_STOCK,
    POLICY_JIT,
    POLICY_MIN_MAX,
    POLICY_ORDER_UP_TO,
    POLICY_REORDER_QUANTITY,
    prepare_inputs,
    run_simulation,
)
from bufferwise.sizing import simulated, textbook


def _real_policies() -> tuple:
    rng = np.random.default_rng(12)
    n = 4
    inputs = prepare_inputs(
        n,
        policy=np.array(
            [POLICY_REORDER_QUANTITY, POLICY_ORDER_UP_TO, POLICY_MIN_MAX, POLICY_BASE_STOCK]
        ),
        lead_time_pool=[rng.integers(2, 9, 10) for _ in range(n)],
        demand_pool=[rng.negative_binomial(2, 0.3, 200).astype(float) for _ in range(n)],
        demand_kind=DEMAND_EMPIRICAL,
        review_period=np.array([1, 5, 1, 1]),
        moq=np.array([0.0, 20.0, 0.0, 0.0]),
        order_multiple=np.array([5.0, 0.0, 0.0, 0.0]),
        outage_start_prob=np.array([0.0, 0.01, 0.0, 0.02]),
        outage_recovery_prob=np.array([1.0, 0.3, 1.0, 0.5]),
    )
    quantity = np.array([40.0, 0.0, 30.0, 0.0])
    return inputs, quantity


@pytest.mark.parametrize("lost_sales", [False, True])
def test_level_meets_the_target_and_an_independent_run_agrees_within_its_ci(
    lost_sales: bool,
) -> None:
    inputs, quantity = _real_policies()
    target = 0.95
    found = simulated.optimise_service_level(
        inputs,
        service_level=target,
        quantity=quantity,
        lower=0.0,
        upper=60.0,
        periods=2000,
        warmup=50,
        replications=8,
        lost_sales=lost_sales,
        seed=21,
    )
    assert found.met.all()
    assert np.all(found.result.mean["fill_rate"] >= target)
    # one unit less misses the target (same seed, common random numbers)
    lower = simulated.levels_for(inputs, found.level - 1, quantity)
    below = run_simulation(
        inputs, *lower, periods=2000, warmup=50, replications=8, lost_sales=lost_sales, seed=21
    )
    assert np.all(below.mean["fill_rate"] < target)
    # an independent run at the chosen level: the target lies below the upper confidence bound
    check = run_simulation(
        inputs,
        found.reorder_level,
        found.target_level,
        periods=2000,
        warmup=50,
        replications=8,
        lost_sales=lost_sales,
        seed=22,
    )
    _, high = check.confidence_interval("fill_rate", 0.99)
    assert np.all(high >= target)


def test_cycle_service_target() -> None:
    inputs, quantity = _real_policies()
    found = simulated.optimise_service_level(
        inputs,
        service_level=0.9,
        service_type="cycle_service",
        quantity=quantity,
        lower=0.0,
        upper=10.0,
        periods=2000,
        replications=6,
        seed=5,
    )
    assert np.all(found.result.mean["cycle_service_level"] >= 0.9)
    low, high = found.confidence_interval("cycle_service_level")
    assert np.all(low <= high)


def test_least_cost_base_stock_matches_the_newsvendor() -> None:
    # FoSCT example 4.4 data (h = 0.18, p = 0.7 per unit-period backordered, L = 4, R = 1):
    # the simulated least-cost S is the analytic 264.77 within a unit or two.
    inputs = prepare_inputs(
        1,
        policy=POLICY_BASE_STOCK,
        lead_time_pool=np.array([[4]]),
        demand_kind=DEMAND_NORMAL,
        demand_mean=50.0,
        demand_sd=8.0,
    )
    best = simulated.optimise_cost(
        inputs,
        holding_cost=0.18,
        stockout_cost=0.0,
        backorder_cost=0.7,
        lower=220,
        upper=320,
        periods=20_000,
        replications=6,
        seed=3,
    )
    expected = textbook.newsvendor_normal(0.18, 0.7, 50, 8, lead_time=4)
    assert best.sizing.level[0] == pytest.approx(expected.base_stock_level, abs=2.5)
    assert best.cost_per_period[0] == pytest.approx(expected.expected_cost, rel=0.03)
    assert best.cost_standard_error[0] > 0


def test_jit_has_no_level_to_search() -> None:
    inputs = prepare_inputs(
        1,
        policy=POLICY_JIT,
        lead_time_pool=np.array([[1]]),
        demand_kind=DEMAND_NORMAL,
        demand_mean=1.0,
    )
    with pytest.raises(InvalidInput, match="JIT"):
        simulated.optimise_service_level(inputs, service_level=0.9, lower=0, upper=5, periods=10)


def test_search_widens_downwards_and_stops_at_the_floor() -> None:
    # item 0: the bracket [300, 320] already meets a 90% fill rate, the search must come down;
    # item 1: no demand meets any target, the level stops at the floor 0
    inputs = prepare_inputs(
        2,
        policy=POLICY_BASE_STOCK,
        lead_time_pool=np.array([[4], [4]]),
        demand_kind=DEMAND_NORMAL,
        demand_mean=np.array([50.0, 0.0]),
        demand_sd=np.array([8.0, 0.0]),
    )
    found = simulated.optimise_service_level(
        inputs,
        service_level=0.9,
        lower=300,
        upper=320,
        periods=3000,
        replications=4,
        seed=8,
        floor=0.0,
    )
    assert found.level[0] < 300
    assert found.level[1] == 0.0
    low, high = simulated.levels_for(inputs, found.level - 1, np.zeros(2))
    below = run_simulation(inputs, low, high, periods=3000, replications=4, seed=8)
    assert below.mean["fill_rate"][0] < 0.9
