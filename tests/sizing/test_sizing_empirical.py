"""Empirical lead-time-demand convolution and levels read off it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bufferwise.sizing import empirical


def test_convolution_moments_match_the_combined_variance_formula() -> None:
    rng = np.random.default_rng(1)
    history = rng.gamma(4.0, 2.5, 5000)  # mean 10, sd 5
    leads = np.array([3.0, 5.0, 7.0])  # mean 5, population sd sqrt(8/3)
    samples = empirical.lead_time_demand_samples(history, leads, n_samples=200_000, seed=2)
    d, sd = history.mean(), history.std()
    sigma_l = leads.std()
    assert samples.mean() == pytest.approx(d * 5, rel=0.01)
    assert samples.std() == pytest.approx(math.sqrt(5 * sd**2 + d**2 * sigma_l**2), rel=0.02)


def test_review_period_and_fractional_lead_times_add_demand() -> None:
    history = np.full(10, 4.0)
    samples = empirical.lead_time_demand_samples(
        history, [2.5], review_period=3, n_samples=10, seed=0
    )
    assert np.allclose(samples, 4.0 * 5.5)


def test_disruption_delays_lengthen_the_interval() -> None:
    history = np.full(10, 1.0)
    samples = empirical.lead_time_demand_samples(
        history,
        [2.0],
        n_samples=20_000,
        seed=3,
        disruption_prob=0.25,
        disruption_delay_samples=[4.0],
    )
    assert set(np.unique(samples)) == {2.0, 6.0}
    assert np.mean(samples == 6.0) == pytest.approx(0.25, abs=0.02)


def test_forecast_errors_are_added_to_the_forecast() -> None:
    errors = np.array([-1.0, 1.0])
    samples = empirical.lead_time_demand_samples(
        errors, [1.0], forecast_per_period=10.0, n_samples=1000, seed=1
    )
    assert set(np.unique(samples)) <= {9.0, 11.0}


def test_levels_meet_their_targets_on_the_sample() -> None:
    rng = np.random.default_rng(4)
    samples = rng.poisson(3.0, 50_000).astype(float)  # intermittent-ish lead-time demand
    level = empirical.reorder_level_from_samples(samples, service_level=0.9)
    assert np.mean(samples <= level) >= 0.9
    assert np.mean(samples <= level - 1) < 0.9
    r = empirical.reorder_level_from_samples(
        samples, service_level=0.97, service_type="fill_rate", order_quantity=5
    )
    perf = empirical.performance_from_samples(samples, r, 5)
    assert perf.fill_rate == pytest.approx(0.97, abs=1e-9)
    assert empirical.expected_shortage(samples, r - 0.01)[0] > 0.03 * 5


def test_same_seed_same_samples() -> None:
    h = np.arange(20.0)
    a = empirical.lead_time_demand_samples(h, [2, 3], n_samples=100, seed=9)
    b = empirical.lead_time_demand_samples(h, [2, 3], n_samples=100, seed=np.random.default_rng(9))
    assert np.array_equal(a, b)


def test_many_items_kernel_matches_the_single_item_distribution() -> None:
    rng = np.random.default_rng(6)
    histories = [rng.poisson(lam, 300).astype(float) for lam in (3.0, 10.0)]
    leads = [np.array([3.0, 5.0, 7.0]), np.array([2.5])]
    many = empirical.lead_time_demand_samples_many(
        histories, leads, review_period=np.array([0.0, 7.0]), n_samples=100_000, seed=1
    )
    for i in range(2):
        one = empirical.lead_time_demand_samples(
            histories[i], leads[i], review_period=[0.0, 7.0][i], n_samples=100_000, seed=2
        )
        assert many[i].mean() == pytest.approx(one.mean(), rel=0.01)
        assert many[i].std() == pytest.approx(one.std(), rel=0.02)


def test_many_items_streams_do_not_depend_on_chunking() -> None:
    histories = [np.arange(10.0), np.arange(5.0), np.arange(7.0)]
    leads = [np.array([2.0, 3.0])] * 3
    whole = empirical.lead_time_demand_samples_many(histories, leads, n_samples=50, seed=4)
    tail = empirical.lead_time_demand_samples_many(
        histories[1:], leads[1:], n_samples=50, seed=4, item_offset=1
    )
    assert np.array_equal(whole[1:], tail)


def test_vectorised_levels_equal_the_single_item_solution() -> None:
    rng = np.random.default_rng(2)
    samples = np.vstack([rng.poisson(4.0, 3000), rng.gamma(2.0, 10.0, 3000)]).astype(float)
    targets = np.array([0.93, 0.8])
    for kind, q in (("cycle_service", None), ("fill_rate", np.array([8.0, 50.0]))):
        many = empirical.reorder_levels_from_samples(
            samples, service_level=targets, service_type=kind, order_quantity=q
        )
        for i in range(2):
            one = empirical.reorder_level_from_samples(
                samples[i],
                service_level=float(targets[i]),
                service_type=kind,
                order_quantity=None if q is None else float(q[i]),
            )
            assert many[i] == pytest.approx(one, abs=1e-9)
    perf = empirical.performance_from_samples_many(samples, many, q)
    assert perf["fill_rate"] == pytest.approx(targets, abs=1e-9)
