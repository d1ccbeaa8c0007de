"""Two-machine line models against simulation; buffer sizing; coverage rule; serial lines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bufferwise.equipment import (
    bernoulli_two_machine,
    exponential_two_machine,
    fluid_two_machine,
    repair_coverage_buffer,
    simulate_bernoulli_line,
    simulate_serial_line,
    simulate_two_machine_fluid,
    smallest_buffer,
    zero_buffer_production_rate,
)
from bufferwise.errors import InvalidInput

GRID = [
    (l1, m1, l2, m2, n)
    for (l1, m1) in ((0.01, 0.1), (0.05, 0.5))
    for (l2, m2) in ((0.02, 0.15), (0.1, 0.4))
    for n in (0.0, 2.0, 10.0, 40.0)
]


@pytest.mark.parametrize(("l1", "m1", "l2", "m2", "n"), GRID)
def test_fluid_simulation_agrees_with_analytic_model(
    l1: float, m1: float, l2: float, m2: float, n: float
) -> None:
    # exact event-driven simulation, time-dependent failures (the analytic model's convention);
    # agreement within 4 batch-means standard errors (+ 1e-3 for the warm-up bias)
    analytic = exponential_two_machine(l1, m1, l2, m2, n).production_rate
    sim = simulate_two_machine_fluid(l1, m1, l2, m2, n, horizon=4e5, seed=12345)
    assert abs(sim.production_rate - analytic) <= 4 * sim.standard_error + 1e-3


def test_operation_dependent_failures_simulate_to_their_own_limits() -> None:
    # reference_cases.json buffer_limits_zero_and_infinite: N = 0, operation-dependent: 0.8
    args = (0.01, 0.1, 0.03, 0.2)
    sim0 = simulate_two_machine_fluid(
        *args, 0.0, horizon=1e6, failures="operation_dependent", seed=3
    )
    expected = zero_buffer_production_rate(*args, failures="operation_dependent")
    assert abs(sim0.production_rate - expected) <= 4 * sim0.standard_error + 1e-3
    # reference_cases.json exponential_fluid_two_machine notes: ~0.8284 with operation-dependent
    sim5 = simulate_two_machine_fluid(
        0.01, 0.1, 0.02, 0.15, 5.0, horizon=2e6, failures="operation_dependent", seed=4
    )
    assert sim5.production_rate == pytest.approx(0.8284, abs=4 * sim5.standard_error + 1e-3)


@pytest.mark.parametrize(("p1", "p2", "n"), [(0.9, 0.85, 2), (0.7, 0.95, 5), (0.8, 0.8, 3)])
def test_bernoulli_simulation_agrees_with_formula(p1: float, p2: float, n: int) -> None:
    exact = bernoulli_two_machine(p1, p2, n).production_rate
    sim = simulate_bernoulli_line(p1, p2, n, cycles=400_000, seed=9)
    assert abs(sim.production_rate - exact) <= 4 * sim.standard_error + 5e-4


def test_bernoulli_equal_machines_closed_form() -> None:
    # Li & Meerkov: p1 = p2 = p: Q = (1 - p) / (N + 1 - p), PR = p (1 - Q)
    p, n = 0.8, 3
    q = (1 - p) / (n + 1 - p)
    assert bernoulli_two_machine(p, p, n).production_rate == pytest.approx(p * (1 - q))


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.001, 0.5),
    st.floats(0.01, 2.0),
    st.floats(0.001, 0.5),
    st.floats(0.01, 2.0),
    st.floats(0.0, 500.0),
    st.floats(0.0, 500.0),
)
def test_property_throughput_never_falls_with_a_bigger_buffer(
    l1: float, m1: float, l2: float, m2: float, a: float, b: float
) -> None:
    small, big = sorted((a, b))
    r_small = exponential_two_machine(l1, m1, l2, m2, small)
    r_big = exponential_two_machine(l1, m1, l2, m2, big)
    assert r_big.production_rate >= r_small.production_rate - 1e-12
    e1, e2 = m1 / (l1 + m1), m2 / (l2 + m2)
    assert e1 * e2 - 1e-12 <= r_small.production_rate <= min(e1, e2) + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 0.99), st.floats(0.05, 0.99), st.integers(1, 30))
def test_property_bernoulli_throughput_non_decreasing(p1: float, p2: float, n: int) -> None:
    assert (
        bernoulli_two_machine(p1, p2, n + 1).production_rate
        >= bernoulli_two_machine(p1, p2, n).production_rate - 1e-12
    )


def test_equal_efficiency_branch_is_continuous() -> None:
    # e1 == e2 uses the separate closed form; it must meet the general one at the limit
    exact = exponential_two_machine(0.01, 0.1, 0.02, 0.2, 8.0).production_rate
    near = exponential_two_machine(0.01, 0.1, 0.02, 0.2000001, 8.0).production_rate
    assert exact == pytest.approx(near, abs=1e-6)


def test_smallest_buffer_reaches_the_target_and_no_less() -> None:
    args = (0.01, 0.1, 0.02, 0.15)
    n = smallest_buffer(*args, 0.97)
    assert exponential_two_machine(*args, n).line_efficiency == pytest.approx(0.97, abs=1e-9)
    assert exponential_two_machine(*args, n * 0.95).line_efficiency < 0.97
    # the line at N = 0 already meets a low target; a target of 1 needs an infinite buffer
    assert smallest_buffer(*args, 0.5) == 0.0
    assert math.isinf(smallest_buffer(*args, 1.0))
    # at rate c the buffer scales with c (it is c x time of cover)
    assert smallest_buffer(*args, 0.97, rate=60.0) == pytest.approx(60.0 * n, rel=1e-6)


def test_repair_coverage_rule_and_its_conditions() -> None:
    # 40 parts/h consumed; exponential repairs with MTTR 2 h: p90 = 2 ln 10 = 4.605 h
    cov = repair_coverage_buffer(
        40.0, mttr_hours=2.0, upstream_rate_per_hour=60.0, mtbf_hours=200.0
    )
    assert cov.repair_quantile_hours == pytest.approx(2 * math.log(10))
    assert cov.buffer_units == pytest.approx(40 * 2 * math.log(10))
    assert cov.refill_hours == pytest.approx(cov.buffer_units / 20.0)
    assert cov.conditions_hold
    # no spare capacity: the rule cannot hold
    slow = repair_coverage_buffer(40.0, mttr_hours=2.0, upstream_rate_per_hour=40.0)
    assert not slow.conditions_hold
    # failures too frequent for one-at-a-time cover
    busy = repair_coverage_buffer(
        40.0, mttr_hours=2.0, upstream_rate_per_hour=60.0, mtbf_hours=20.0
    )
    assert not busy.conditions_hold
    emp = repair_coverage_buffer(10.0, repair_times_hours=np.arange(1, 11, dtype=float))
    assert emp.repair_quantile_hours == pytest.approx(9.1)
    with pytest.raises(InvalidInput):
        repair_coverage_buffer(10.0)


def test_serial_line_simulation_matches_two_machine_model() -> None:
    # discrete-time simulation with exponential samples vs the analytic fluid line
    rng = np.random.default_rng(5)
    ups = [rng.exponential(100.0, 50_000), rng.exponential(50.0, 50_000)]
    downs = [rng.exponential(10.0, 50_000), rng.exponential(1 / 0.15, 50_000)]
    res = simulate_serial_line(
        ups, downs, [1.0, 1.0], [5.0], horizon=3e5, failures="time_dependent", seed=6
    )
    analytic = exponential_two_machine(0.01, 0.1, 0.02, 0.15, 5.0).production_rate
    # O(time step) discretisation (step 0.1 h against 5 h of buffer) plus sampling error
    assert abs(res.production_rate - analytic) <= 4 * res.standard_error + 0.005
    assert res.starved[1] == pytest.approx(
        exponential_two_machine(0.01, 0.1, 0.02, 0.15, 5.0).starved_2, abs=0.01
    )


def test_serial_line_of_four_machines() -> None:
    rng = np.random.default_rng(8)
    mtbf = [60.0, 40.0, 80.0, 50.0]
    mttr = [4.0, 3.0, 6.0, 2.0]
    # Weibull up times (wear-out, shape 2) and lognormal repairs: not exponential
    ups = [m / math.gamma(1.5) * rng.weibull(2.0, 5000) for m in mtbf]
    downs = [r * rng.lognormal(-0.32, 0.8, 5000) for r in mttr]
    e = [np.mean(u) / (np.mean(u) + np.mean(d)) for u, d in zip(ups, downs, strict=True)]
    tight = simulate_serial_line(ups, downs, [10.0] * 4, [1.0] * 3, horizon=2e4, seed=1)
    loose = simulate_serial_line(ups, downs, [10.0] * 4, [400.0] * 3, horizon=2e4, seed=1)
    # bigger buffers recover throughput; nothing beats the weakest machine's own efficiency
    assert loose.production_rate > tight.production_rate + 5 * loose.standard_error
    assert loose.production_rate <= 10.0 * min(e) + 4 * loose.standard_error
    # with operation-dependent failures and tiny buffers, the line is close to the
    # zero-buffer Buzacott figure 1 / (1 + sum(MTTR_i / MTBF_i))
    buzacott = 10.0 / (1 + sum(r / m for r, m in zip(mttr, mtbf, strict=True)))
    assert tight.production_rate == pytest.approx(buzacott, rel=0.05)
    # same seed, same answer
    again = simulate_serial_line(ups, downs, [10.0] * 4, [1.0] * 3, horizon=2e4, seed=1)
    assert again.production_rate == tight.production_rate


@pytest.mark.parametrize(
    ("c1", "c2", "n"),
    [(1.2, 1.0, 5.0), (1.0, 1.2, 5.0), (1.5, 1.0, 20.0), (60.0, 50.0, 30.0), (50.0, 60.0, 300.0)],
)
def test_unequal_speed_fluid_line_agrees_with_simulation(c1: float, c2: float, n: float) -> None:
    # spectral solution of the Markov-modulated fluid queue vs the exact event simulation
    args = (0.01, 0.1, 0.02, 0.15)
    analytic = fluid_two_machine(*args, n, c1, c2)
    sim = simulate_two_machine_fluid(*args, n, c1, rate_2=c2, horizon=1e6, seed=21)
    assert abs(sim.production_rate - analytic.production_rate) <= 4 * sim.standard_error + 1e-3 * c2
    e1, e2 = 0.1 / 0.11, 0.15 / 0.17
    assert min(c1, c2) * e1 * e2 <= analytic.production_rate <= min(c1 * e1, c2 * e2)


def test_unequal_speed_model_meets_the_equal_speed_formula() -> None:
    args = (0.01, 0.1, 0.02, 0.15)
    equal = exponential_two_machine(*args, 5.0).production_rate
    assert fluid_two_machine(*args, 5.0, 1.0, 1.0 + 1e-7).production_rate == pytest.approx(
        equal, abs=1e-5
    )
    # a very large buffer approaches PR(inf) = min(c1 e1, c2 e2)
    big = fluid_two_machine(*args, 1e5, 1.3, 1.0)
    assert big.line_efficiency == pytest.approx(1.0, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.001, 0.5),
    st.floats(0.01, 2.0),
    st.floats(0.001, 0.5),
    st.floats(0.01, 2.0),
    st.floats(0.2, 5.0),
    st.floats(0.2, 5.0),
    st.floats(0.0, 200.0),
    st.floats(0.0, 200.0),
    st.sampled_from(["time_dependent", "operation_dependent"]),
)
def test_property_unequal_speed_line_is_monotone_and_bounded(
    l1: float,
    m1: float,
    l2: float,
    m2: float,
    c1: float,
    c2: float,
    a: float,
    b: float,
    failures: str,
) -> None:
    small, big = sorted((a, b))
    lo = fluid_two_machine(l1, m1, l2, m2, small, c1, c2, failures)  # type: ignore[arg-type]
    hi = fluid_two_machine(l1, m1, l2, m2, big, c1, c2, failures)  # type: ignore[arg-type]
    e1, e2 = m1 / (l1 + m1), m2 / (l2 + m2)
    tol = 1e-7 * max(c1, c2)
    assert hi.production_rate >= lo.production_rate - tol
    assert min(c1, c2) * e1 * e2 - tol <= lo.production_rate <= min(c1 * e1, c2 * e2) + tol


@pytest.mark.parametrize(
    ("l1", "m1", "l2", "m2", "n", "c1", "c2"),
    [
        (0.01, 0.1, 0.02, 0.15, 5.0, 1.0, 1.0),
        (0.01, 0.1, 0.02, 0.15, 5.0, 1.2, 1.0),
        (0.05, 0.5, 0.1, 0.4, 2.0, 1.0, 1.0),
        (0.05, 0.5, 0.1, 0.4, 20.0, 1.0, 1.3),
        (0.01, 0.1, 0.03, 0.2, 30.0, 60.0, 50.0),
    ],
)
def test_operation_dependent_fluid_model_agrees_with_simulation(
    l1: float, m1: float, l2: float, m2: float, n: float, c1: float, c2: float
) -> None:
    analytic = fluid_two_machine(l1, m1, l2, m2, n, c1, c2, failures="operation_dependent")
    sim = simulate_two_machine_fluid(
        l1, m1, l2, m2, n, c1, rate_2=c2, horizon=1e6, failures="operation_dependent", seed=17
    )
    assert abs(sim.production_rate - analytic.production_rate) <= (
        4 * sim.standard_error + 1e-3 * c2
    )


def test_operation_dependent_limits_and_reference_note() -> None:
    # reference_cases.json exponential_fluid_two_machine, notes: operation-dependent ~0.8284
    od = fluid_two_machine(0.01, 0.1, 0.02, 0.15, 5.0, failures="operation_dependent")
    assert od.production_rate == pytest.approx(0.8284, abs=2e-3)
    # more output than with time-dependent failures: idle machines do not wear
    assert od.production_rate > exponential_two_machine(0.01, 0.1, 0.02, 0.15, 5.0).production_rate
    # reference_cases.json buffer_limits_zero_and_infinite: N -> 0 gives Buzacott's 0.8
    args = (0.01, 0.1, 0.03, 0.2)
    tiny = fluid_two_machine(*args, 1e-6, failures="operation_dependent").production_rate
    assert tiny == pytest.approx(0.8, abs=1e-4)
    huge = fluid_two_machine(*args, 1e6, failures="operation_dependent").production_rate
    assert huge == pytest.approx(0.869565, abs=1e-5)
