"""The numba inventory kernel: exact agreement with the plain-Python reference, thread-count
independence, agreement with analytic base-stock formulas, and the policy mechanics."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import stats

from bufferwise.kernels import inventory as inv
from bufferwise.kernels.reference import simulate_policy_reference


def _mixed_inputs(n: int = 8, seed: int = 5) -> tuple[inv.SimulationInputs, np.ndarray, np.ndarray]:
    """Every policy, every demand kind, random lead times, MOQ / multiples and both outage kinds."""
    rng = np.random.default_rng(seed)
    policy = np.array([0, 1, 2, 3, 4, 4, 3, 2])[:n]
    kind = np.array([0, 1, 2, 3, 0, 2, 1, 0])[:n]
    inputs = inv.prepare_inputs(
        n,
        policy=policy,
        lead_time_pool=[rng.integers(0, 6, rng.integers(1, 5)) for _ in range(n)],
        demand_pool=[rng.poisson(3, 40).astype(float) for _ in range(n)],
        demand_kind=kind,
        demand_mean=np.array([3, 5, 4, 2.5, 3, 40.0, 6, 2])[:n],
        demand_sd=np.array([1, 2, 2, 1.5, 1, 6.0, 3, 1])[:n],
        review_period=np.array([1, 1, 3, 1, 1, 2, 2, 5])[:n],
        moq=np.array([0, 0, 5, 0, 2, 0, 4, 0.0])[:n],
        order_multiple=np.array([0, 0, 2, 0, 0, 5, 0, 3.0])[:n],
        outage_start_prob=np.array([0, 0.05, 0, 0.1, 0.02, 0, 0.03, 0.05])[:n],
        outage_recovery_prob=np.array([1, 0.3, 1, 0.5, 0.2, 1, 0.4, 0.5])[:n],
        outage_length_pool=[
            np.array([]),
            np.array([]),
            np.array([]),
            np.array([2, 3]),
            np.array([]),
            np.array([]),
            np.array([1, 4, 6]),
            np.array([]),
        ][:n],
    )
    low = np.array([0, 0, 0, 5, 6, 50.0, 8, 0])[:n]
    high = np.array([2, 15, 20, 14, 8, 20.0, 25, 18])[:n]
    return inputs, low, high


def _run_both(
    inputs: inv.SimulationInputs,
    low: np.ndarray,
    high: np.ndarray,
    *,
    lost_sales: bool,
    periods: int = 240,
    warmup: int = 15,
    reps: int = 3,
    seed: int = 2024,
) -> tuple[np.ndarray, np.ndarray]:
    start = np.where(inputs.policy == inv.POLICY_REORDER_QUANTITY, low + high, high)
    args = inv.kernel_arguments(inputs, low, high, start, periods, warmup, reps, lost_sales)
    fast = inv.simulate_policy_kernel(*args, np.uint64(seed), inputs.ring)
    slow = simulate_policy_reference(*args, seed, inputs.ring)
    return fast, slow


@pytest.mark.parametrize("lost_sales", [False, True])
def test_kernel_equals_reference_exactly(lost_sales: bool) -> None:
    inputs, low, high = _mixed_inputs()
    fast, slow = _run_both(inputs, low, high, lost_sales=lost_sales)
    # same draws -> identical figures, bit for bit (NaN where no cycle completed)
    assert np.array_equal(fast, slow, equal_nan=True)
    assert np.all(np.isfinite(fast[0]))


def test_same_seed_same_result_whatever_the_thread_count() -> None:
    inputs, low, high = _mixed_inputs()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = inv.run_simulation(inputs, low, high, periods=300, replications=4, seed=11)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = inv.run_simulation(inputs, low, high, periods=300, replications=4, seed=11)
    finally:
        numba.set_num_threads(before)
    for metric in inv.METRICS:
        assert np.array_equal(
            one.per_replication[metric], two.per_replication[metric], equal_nan=True
        ), metric
    other = inv.run_simulation(inputs, low, high, periods=300, replications=4, seed=12)
    assert not np.array_equal(
        one.per_replication["mean_on_hand"], other.per_replication["mean_on_hand"]
    )


def _levels(low: np.ndarray, high: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """k levels per item around (low, high), S >= s kept for (s,S) and Q > 0 for (r,Q)."""
    shift = np.linspace(-3.0, 9.0, k)
    return np.maximum(low[:, None] + shift, 0.0), high[:, None] + np.abs(shift) + 1.0


@pytest.mark.parametrize("lost_sales", [False, True])
def test_levels_kernel_equals_the_per_level_kernel_and_the_reference(lost_sales: bool) -> None:
    inputs, low, high = _mixed_inputs()
    lows, highs = _levels(low, high)
    res = inv.run_simulation_levels(
        inputs, lows, highs, periods=240, warmup=15, replications=3, lost_sales=lost_sales, seed=7
    )
    for k in range(lows.shape[1]):
        one = inv.run_simulation(
            inputs,
            lows[:, k],
            highs[:, k],
            periods=240,
            warmup=15,
            replications=3,
            lost_sales=lost_sales,
            seed=7,
        )
        for metric in inv.METRICS:
            assert np.array_equal(
                res[k].per_replication[metric], one.per_replication[metric], equal_nan=True
            ), (k, metric)
            assert np.array_equal(res[k].mean[metric], one.mean[metric], equal_nan=True)
        _, slow = _run_both(inputs, lows[:, k], highs[:, k], lost_sales=lost_sales, seed=7)
        raw = np.stack([res[k].per_replication[metric] for metric in inv.METRICS])
        assert np.array_equal(raw, slow, equal_nan=True), k


def test_levels_kernel_same_result_whatever_the_thread_count() -> None:
    inputs, low, high = _mixed_inputs()
    lows, highs = _levels(low, high)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = inv.run_simulation_levels(inputs, lows, highs, periods=300, replications=2, seed=11)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = inv.run_simulation_levels(inputs, lows, highs, periods=300, replications=2, seed=11)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two, strict=True):
        for metric in inv.METRICS:
            assert np.array_equal(
                a.per_replication[metric], b.per_replication[metric], equal_nan=True
            ), metric


def test_levels_kernel_on_a_subset_with_stream_numbers_equals_those_rows_of_the_whole() -> None:
    # streams number each row's random streams: a subset of items, each given its row number
    # in the whole set, draws exactly what it draws there (decide simulates only the items a
    # risk layer changes and copies the others from the normal layer)
    inputs, low, high = _mixed_inputs()
    lows, highs = _levels(low, high)
    whole = inv.run_simulation_levels(inputs, lows, highs, periods=200, replications=2, seed=5)
    rows = np.array([4, 1, inputs.n_items - 1])
    part_inputs = inv.take_rows(inputs, rows)
    part = inv.run_simulation_levels(
        part_inputs, lows[rows], highs[rows], periods=200, replications=2, seed=5, streams=rows
    )
    plain = inv.run_simulation_levels(
        part_inputs, lows[rows], highs[rows], periods=200, replications=2, seed=5
    )
    for k in range(lows.shape[1]):
        for metric in inv.METRICS:
            assert np.array_equal(
                part[k].per_replication[metric],
                whole[k].per_replication[metric][rows],
                equal_nan=True,
            ), (k, metric)
    # without stream numbers the subset draws other numbers
    assert not np.array_equal(
        plain[0].per_replication["mean_on_hand"], part[0].per_replication["mean_on_hand"]
    )
    with pytest.raises(ValueError, match="streams"):
        inv.run_simulation_levels(
            part_inputs, lows[rows], highs[rows], periods=20, streams=np.array([0, 1])
        )


def test_levels_kernel_checks_its_levels() -> None:
    inputs, low, high = _mixed_inputs()
    lows, highs = _levels(low, high)
    with pytest.raises(ValueError, match="levels"):
        inv.run_simulation_levels(inputs, lows[:, 0], highs[:, 0], periods=10)
    with pytest.raises(ValueError, match="levels"):
        inv.run_simulation_levels(inputs, lows, highs[:, :2], periods=10)
    bad = highs.copy()
    bad[3, 1] = lows[3, 1] - 1.0  # item 3 is (s,S)
    with pytest.raises(ValueError, match="S >= s"):
        inv.run_simulation_levels(inputs, lows, bad, periods=10)


def test_item_results_do_not_depend_on_the_other_items() -> None:
    inputs, low, high = _mixed_inputs()
    full = inv.run_simulation(inputs, low, high, periods=200, replications=2, seed=3)
    # streams are keyed by (seed, item index, replication): an item keeps its draws when
    # the others change
    changed = high.copy()
    changed[0] += 7
    again = inv.run_simulation(inputs, low, changed, periods=200, replications=2, seed=3)
    assert np.array_equal(
        full.per_replication["fill_rate"][1:], again.per_replication["fill_rate"][1:]
    )


def test_base_stock_normal_fixed_lead_time_matches_analytic() -> None:
    # Base-stock S, R = 1, L = 4: net stock at period end is S - D over L + 1 periods.
    # Analytic (hand derivation in docs/sizing.md): E[on hand] = S - mu_5 + n_5(S),
    # E[backorders] = n_5(S), units short per period = n_5(S) - n_4(S),
    # fill rate = 1 - (n_5(S) - n_4(S)) / mu, with n_k the normal loss over k periods.
    mu, sigma, lead, level = 50.0, 8.0, 4, 262.0
    result = inv.simulate_policy(
        policy=inv.POLICY_BASE_STOCK,
        reorder_level=0.0,
        target_level=level,
        lead_time_pool=np.array([[lead]]),
        demand_kind=inv.DEMAND_NORMAL,
        demand_mean=mu,
        demand_sd=sigma,
        periods=50_000,
        warmup=20,
        replications=20,
        seed=7,
        n_items=1,
    )  # 20 x 50,000 = 10^6 periods

    def n_loss(k: int) -> float:
        s = sigma * math.sqrt(k)
        z = (level - mu * k) / s
        return s * (stats.norm.pdf(z) - z * stats.norm.sf(z))

    expected = {
        "mean_on_hand": level - mu * (lead + 1) + n_loss(lead + 1),
        "mean_backorders": n_loss(lead + 1),
        "fill_rate": 1.0 - (n_loss(lead + 1) - n_loss(lead)) / mu,
    }
    for metric, value in expected.items():
        m, se = result.mean[metric][0], result.standard_error[metric][0]
        assert abs(m - value) < 4.0 * se + 1e-4, (metric, m, value, se)
    # and the cycle service level (each period is a cycle) is P(D_5 <= S) minus P(short
    # already at the start), close to Phi((S - 5 mu) / (sigma sqrt 5)) for a small backlog
    z5 = (level - mu * 5) / (sigma * math.sqrt(5))
    assert result.mean["cycle_service_level"][0] == pytest.approx(stats.norm.cdf(z5), abs=0.01)


def test_order_rounding_and_rq_multiples() -> None:
    res = inv.simulate_policy(
        policy=np.array([inv.POLICY_REORDER_QUANTITY, inv.POLICY_ORDER_UP_TO]),
        reorder_level=np.array([10.0, 0.0]),
        target_level=np.array([12.0, 30.0]),
        lead_time_pool=np.array([[2], [1]]),
        demand_pool=np.array([[1.0, 2.0, 7.0], [0.0, 3.0, 4.0]]),
        review_period=np.array([1, 3]),
        moq=np.array([0.0, 9.0]),
        order_multiple=np.array([0.0, 4.0]),
        periods=500,
        replications=2,
        seed=1,
    )
    # (r,Q) orders whole multiples of Q; (R,S) orders are >= MOQ and multiples of 4
    # (demand <= 7 < Q, so every (r,Q) order is exactly one Q)
    assert np.all(res.per_replication["mean_order_quantity"][0] == 12.0)
    # MOQ 9 rounded up to the multiple 4 gives at least 12 per order
    assert np.all(res.per_replication["mean_order_quantity"][1] >= 12.0)


def test_jit_orders_what_was_used_and_holds_no_buffer() -> None:
    demand = np.array([[2.0, 5.0, 0.0, 3.0]])
    res = inv.simulate_policy(
        policy=inv.POLICY_JIT,
        reorder_level=0.0,
        target_level=0.0,
        lead_time_pool=np.array([[0]]),
        demand_pool=demand,
        periods=400,
        replications=2,
        seed=9,
    )
    # with no starting stock every unit is short when demanded and replaced next period
    assert res.mean["fill_rate"][0] == pytest.approx(0.0)
    assert res.mean["mean_on_hand"][0] == pytest.approx(0.0)
    assert res.mean["mean_backorders"][0] == pytest.approx(res.mean["mean_demand"][0])
    buffered = inv.simulate_policy(
        policy=inv.POLICY_JIT,
        reorder_level=0.0,
        target_level=5.0,
        lead_time_pool=np.array([[0]]),
        demand_pool=demand,
        periods=400,
        replications=2,
        seed=9,
    )
    # a starting stock of 5 >= the largest daily demand, replaced every period: never short
    assert buffered.mean["fill_rate"][0] == pytest.approx(1.0)


def test_outages_stop_deliveries() -> None:
    common = dict(
        policy=inv.POLICY_BASE_STOCK,
        reorder_level=0.0,
        target_level=10.0,
        lead_time_pool=np.array([[0]]),
        demand_kind=inv.DEMAND_NORMAL,
        demand_mean=5.0,
        demand_sd=0.0,
        periods=20_000,
        replications=2,
        seed=4,
        n_items=1,
    )
    steady = inv.simulate_policy(**common)
    assert steady.mean["fill_rate"][0] == pytest.approx(1.0)
    # outages of exactly 3 periods: deliveries stop, stock of 2 periods' demand runs out
    hit = inv.simulate_policy(**common, outage_start_prob=0.05, outage_length_pool=np.array([[3]]))
    assert hit.mean["fill_rate"][0] < 0.99
    assert hit.mean["stockout_periods"][0] > 0


def test_lost_sales_never_go_negative() -> None:
    res = inv.simulate_policy(
        policy=inv.POLICY_MIN_MAX,
        reorder_level=2.0,
        target_level=6.0,
        lead_time_pool=np.array([[3, 5]]),
        demand_kind=inv.DEMAND_POISSON,
        demand_mean=2.0,
        periods=2000,
        replications=3,
        lost_sales=True,
        seed=5,
        n_items=1,
    )
    assert res.mean["mean_backorders"][0] == 0.0
    assert res.mean["mean_short"][0] > 0.0


def test_parametric_demand_moments() -> None:
    kinds = np.array(
        [
            inv.DEMAND_NORMAL,
            inv.DEMAND_POISSON,
            inv.DEMAND_POISSON,
            inv.DEMAND_GAMMA,
            inv.DEMAND_GAMMA,
        ]
    )
    mean = np.array([20.0, 3.0, 80.0, 4.0, 0.5])
    sd = np.array([4.0, 0.0, 0.0, 2.0, 1.5])
    res = inv.simulate_policy(
        policy=inv.POLICY_BASE_STOCK,
        reorder_level=0.0,
        target_level=1e6,
        lead_time_pool=np.array([[0]]),
        demand_kind=kinds,
        demand_mean=mean,
        demand_sd=sd,
        periods=20_000,
        replications=4,
        seed=8,
    )
    assert res.mean["mean_demand"] == pytest.approx(mean, rel=0.03)


def test_validation_names_the_argument() -> None:
    with pytest.raises(ValueError, match="lead_time_pool"):
        inv.prepare_inputs(2, policy=1, lead_time_pool=[np.array([1]), np.array([])], demand_kind=1)
    with pytest.raises(ValueError, match="policy"):
        inv.prepare_inputs(1, policy=9, lead_time_pool=np.array([[1]]), demand_kind=1)
    with pytest.raises(ValueError, match="demand_pool"):
        inv.prepare_inputs(1, policy=1, lead_time_pool=np.array([[1]]))
    inputs = inv.prepare_inputs(
        1,
        policy=inv.POLICY_REORDER_QUANTITY,
        lead_time_pool=np.array([[1]]),
        demand_kind=1,
        demand_mean=1.0,
    )
    with pytest.raises(ValueError, match="order quantity"):
        inv.run_simulation(inputs, 1.0, 0.0, periods=10)
    with pytest.raises(ValueError, match="seed"):
        inv.resolve_seed("abc")  # type: ignore[arg-type]


def test_fractional_lead_times_are_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="whole periods"):
        inv.prepare_inputs(1, policy=1, lead_time_pool=np.array([[2.5]]), demand_kind=1)


def test_min_max_poisson_matches_the_exact_zheng_federgruen_cost() -> None:
    # Snyder & Shen, FoSCT example 4.7 (stockpyl s_s_cost_discrete doctest): (s,S) = (4, 10),
    # h = 1, p = 4, K = 5, Poisson demand with mean 6, lead time 0, review every period:
    # exact expected cost 8.034111561471642 per period (Zheng & Federgruen 1991). Same timing
    # as ours with L = 0: an order placed after a period's demand serves the next period.
    periods, reps = 100_000, 10
    res = inv.simulate_policy(
        policy=inv.POLICY_MIN_MAX,
        reorder_level=4.0,
        target_level=10.0,
        lead_time_pool=np.array([[0]]),
        demand_kind=inv.DEMAND_POISSON,
        demand_mean=6.0,
        periods=periods,
        warmup=10,
        replications=reps,
        seed=1,
        n_items=1,
    )
    per = res.per_replication
    cost = (
        per["mean_on_hand"] + 4 * per["mean_backorders"] + 5 * per["orders_placed"] / (periods - 10)
    )
    se = cost.std(ddof=1) / math.sqrt(reps)
    assert abs(cost.mean() - 8.034111561471642) < 4 * se


def test_reorder_quantity_poisson_matches_the_exact_continuous_review_cost() -> None:
    # Snyder & Shen, FoSCT example 5.8 (stockpyl r_q_cost_poisson doctest): (r,Q) = (3, 5),
    # h = 20, p = 150 per unit per year, K = 100, Poisson demand 1.5 per year, lead time 2 years:
    # exact cost 107.92358063314975 per year. Continuous review is approached with periods of
    # dt = 0.01 year (Poisson demand 0.015 per period, lead time 200 periods, which covers 200
    # periods of demand in our convention).
    dt, periods, reps = 0.01, 1_500_000, 6
    res = inv.simulate_policy(
        policy=inv.POLICY_REORDER_QUANTITY,
        reorder_level=3.0,
        target_level=5.0,
        lead_time_pool=np.array([[200]]),
        demand_kind=inv.DEMAND_POISSON,
        demand_mean=1.5 * dt,
        periods=periods,
        warmup=1000,
        replications=reps,
        seed=3,
        n_items=1,
    )
    per = res.per_replication
    years = (periods - 1000) * dt
    cost = (
        20 * per["mean_on_hand"] + 150 * per["mean_backorders"] + 100 * per["orders_placed"] / years
    )
    se = cost.std(ddof=1) / math.sqrt(reps)
    assert abs(cost.mean() - 107.92358063314975) < 4 * se + 0.1
    # orders are whole multiples of Q: one Q each time, as demand comes one unit at a time
    assert np.all(per["mean_order_quantity"] == 5.0)
