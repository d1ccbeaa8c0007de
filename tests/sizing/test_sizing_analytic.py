"""Analytic sizing beyond the reference cases: hand calculations, slow movers, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bufferwise.errors import InvalidInput
from bufferwise.sizing import analytic, loss


def test_periodic_review_protects_review_plus_lead_time() -> None:
    # hand calculation: d = 10/day, sigma_d = 3, L = 5, R = 7 -> P = 12 days,
    # S = 120 + 1.644854 * 3 * sqrt(12) = 137.094
    level = analytic.order_up_to_level_normal(10, 3, 5, review_period=7, service_level=0.95)
    assert level == pytest.approx(120 + stats.norm.ppf(0.95) * 3 * math.sqrt(12), abs=1e-9)
    levels = analytic.normal_policy_levels(
        10, 3, 5, review_period=7, order_quantity=1.0, service_level=0.95
    )
    assert levels.order_up_to == pytest.approx(level)
    assert levels.order_quantity == pytest.approx(70.0)


def test_eoq_and_critical_ratio_hand_values() -> None:
    # EOQ: sqrt(2 * 50 * 1200 / 6) = 141.42 (Harris)
    assert analytic.economic_order_quantity(50, 1200, 6) == pytest.approx(math.sqrt(20000))
    assert analytic.critical_ratio(9, 1) == pytest.approx(0.9)
    # SPT 6.28: P(stockout) = Q h / (D B2) = 100 * 2 / (1000 * 4) = 0.05
    assert analytic.cost_optimal_cycle_service_level(4, 2, 1000, 100) == pytest.approx(0.95)
    # lost sales: 200 / (200 + 4000) -> 0.952381
    assert analytic.cost_optimal_cycle_service_level(
        4, 2, 1000, 100, lost_sales=True
    ) == pytest.approx(1 - 200 / 4200)


def test_round_order_quantity() -> None:
    assert analytic.round_order_quantity(7.0, moq=10.0, order_multiple=4.0) == 12.0
    assert analytic.round_order_quantity(12.0, moq=0.0, order_multiple=4.0) == 12.0
    assert analytic.round_order_quantity(12.5, moq=0.0, order_multiple=0.0) == 12.5
    # docs/data-model.md, items.order_multiple: 1 (the default) = whole units, 0 = any quantity
    assert analytic.round_order_quantity(12.5, moq=0.0, order_multiple=1.0) == 13.0
    assert analytic.round_order_quantity(12.0, moq=0.0, order_multiple=1.0) == 12.0


def test_cost_optimal_level_is_clipped_to_the_service_level_range() -> None:
    # SPT 6.28 with Q h / (D B2) = 100 * 2 / (1000 * 0.1) = 2 -> 1 - 2 < 0.5: clipped up;
    # 1 * 2 / (1000 * 1000) = 2e-6 -> 0.999998 > 0.9999: clipped down
    assert analytic.cost_optimal_cycle_service_level(0.1, 2, 1000, 100) == pytest.approx(
        analytic.MIN_SERVICE_LEVEL
    )
    assert analytic.cost_optimal_cycle_service_level(1000, 2, 1000, 1) == pytest.approx(
        analytic.MAX_SERVICE_LEVEL
    )
    assert (analytic.MIN_SERVICE_LEVEL, analytic.MAX_SERVICE_LEVEL) == (0.5, 0.9999)


def test_settings_accept_the_same_service_level_range() -> None:
    from bufferwise.errors import SettingsError
    from bufferwise.settings import parse_settings

    for ok in (analytic.MIN_SERVICE_LEVEL, analytic.MAX_SERVICE_LEVEL):
        assert parse_settings({"sizing": {"service_target": ok}}).sizing.service_target == ok
        entry = {"match": {"category": "spare"}, "service_target": ok}
        assert parse_settings({"overrides": [entry]}).overrides[0].values["service_target"] == ok
    for bad in (0.49, 0.99995):
        with pytest.raises(SettingsError, match=r"between 0\.5 and 0\.9999"):
            parse_settings({"sizing": {"service_target": bad}})
        with pytest.raises(SettingsError, match=r"between 0\.5 and 0\.9999"):
            parse_settings({"overrides": [{"match": {"item_id": "a"}, "service_target": bad}]})


@pytest.mark.parametrize("family", ["poisson", "negative_binomial", "gamma", "normal"])
def test_fill_rate_level_meets_target_on_its_own_distribution(family: str) -> None:
    mean, sd, q, beta = 4.0, 3.0, 6.0, 0.95
    level = analytic.reorder_point_for_distribution(
        family, mean, sd, service_level=beta, service_type="fill_rate", order_quantity=q
    )
    short = analytic.distribution_loss(family, level, mean, sd)
    assert short <= (1 - beta) * q + 1e-9
    if family in ("poisson", "negative_binomial"):
        assert level == round(level)
        # one unit less misses the target
        assert analytic.distribution_loss(family, level - 1, mean, sd) > (1 - beta) * q


def test_discrete_losses_match_direct_sums() -> None:
    k = np.arange(0, 400)
    pmf = stats.poisson.pmf(k, 6.0)
    assert loss.poisson_loss(4.0, 6.0) == pytest.approx(
        loss.discrete_loss(4.0, pmf / pmf.sum()), abs=1e-9
    )
    n, p = loss.negative_binomial_parameters(5.0, 4.0)
    pmf = stats.nbinom.pmf(k, n, p)
    assert loss.negative_binomial_loss(3.0, 5.0, 4.0) == pytest.approx(
        float(np.sum(np.maximum(k - 3.0, 0) * pmf)), abs=1e-9
    )


def test_gamma_loss_matches_numerical_integral() -> None:
    dist = stats.gamma(a=2.25, scale=4 / 3)
    expected = dist.expect(lambda x: max(x - 5.0, 0.0))
    assert loss.gamma_loss(5.0, 3.0, 2.0) == pytest.approx(expected, abs=1e-7)


def test_second_order_loss_hand_value() -> None:
    # G2(0) = 1/2 (1 * 0.5 - 0) = 0.25
    assert loss.standard_normal_second_loss(0.0) == pytest.approx(0.25)


def test_invalid_inputs_say_what_and_where() -> None:
    with pytest.raises(InvalidInput, match="service_level"):
        analytic.safety_stock_normal(10, 2, 5, service_level=95)
    with pytest.raises(InvalidInput, match="demand_sd"):
        analytic.lead_time_demand(10, -1, 5)
    with pytest.raises(InvalidInput, match="distribution"):
        analytic.reorder_point_for_distribution("weibull", 1, 1, service_level=0.9)
    with pytest.raises(InvalidInput, match="order_quantity"):
        analytic.reorder_point_for_distribution(
            "normal", 1, 1, service_level=0.9, service_type="fill_rate"
        )
    with pytest.raises(InvalidInput, match="sd"):
        loss.negative_binomial_parameters(5.0, 1.0)
