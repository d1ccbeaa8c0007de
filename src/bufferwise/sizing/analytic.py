"""Analytic buffer sizing: lead-time demand, safety stock, reorder points and order-up-to levels.

Lead-time convention (docs/sizing.md): a lead time of L periods covers L periods of demand. A
continuous-review policy ((r,Q), (s,S)) protects the lead time L; a periodic-review policy (R,S)
protects the review period plus the lead time, R + L. All functions take the protection interval's
ingredients separately and say which they use.

Units: demand in units per period, lead times and review periods in the same periods (days in the
examples), costs as stated per function. Every function accepts scalars or NumPy arrays
(broadcast) and returns floats for scalar input.

Sources: Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains* (4th ed.,
2017), ch. 6-7 ("SPT"); Snyder & Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from bufferwise.sizing import loss
from bufferwise.sizing._validate import (
    finite,
    invalid,
    non_negative,
    positive,
    probability,
    scalar_or_array,
)

ArrayLike = float | np.ndarray

DISTRIBUTIONS = ("normal", "poisson", "negative_binomial", "gamma")
SERVICE_TYPES = ("cycle_service", "fill_rate")

#: the range of a cycle service level the tool aims at (a cost-optimal one is clipped to it, a
#: service_target setting must lie in it): below 0.5 the reorder level would sit under the
#: expected lead-time demand (a negative safety stock under a symmetric model), which a planner
#: meets with no buffer instead; above 0.9999 (z = 3.7) the level rests on a tail that no demand
#: history of a few hundred buckets measures
MIN_SERVICE_LEVEL = 0.5
MAX_SERVICE_LEVEL = 0.9999


def lead_time_demand(
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time_mean: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
) -> tuple[ArrayLike, ArrayLike]:
    """Mean and sd of demand over a random lead time (independent per-period demands).

    demand_mean, demand_sd    [d, sigma_d] units per period
    lead_time_mean, _sd       [L, sigma_L] periods
    Returns (d L, sqrt(L sigma_d^2 + d^2 sigma_L^2))  (SPT eq. 6.9; Hadley & Whitin 1963).
    """
    d = non_negative("demand_mean", demand_mean)
    sd = non_negative("demand_sd", demand_sd)
    lt = non_negative("lead_time_mean", lead_time_mean)
    lsd = non_negative("lead_time_sd", lead_time_sd)
    mean = d * lt
    sigma = np.sqrt(lt * sd * sd + d * d * lsd * lsd)
    return scalar_or_array(mean), scalar_or_array(sigma)


def protection_interval(lead_time: ArrayLike, review_period: ArrayLike = 0.0) -> ArrayLike:
    """Periods a replenishment decision must cover: L (continuous review) or R + L (periodic)."""
    return scalar_or_array(
        non_negative("lead_time", lead_time) + non_negative("review_period", review_period)
    )


def service_factor(cycle_service_level: ArrayLike) -> ArrayLike:
    """z = Phi^-1(CSL): the safety factor for a cycle service level (share of cycles without
    a stockout), e.g. z(0.90) = 1.281552."""
    return scalar_or_array(stats.norm.ppf(probability("cycle_service_level", cycle_service_level)))


def safety_stock_normal(
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time_mean: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
    *,
    service_level: ArrayLike,
    review_period: ArrayLike = 0.0,
) -> ArrayLike:
    """Safety stock for normally distributed lead-time demand and a cycle service level.

    demand_mean, demand_sd   [d, sigma_d] units per period
    lead_time_mean, _sd      [L, sigma_L] periods
    service_level            cycle service level, the probability of no stockout in a cycle
    review_period            [R] periods; 0 = continuous review (protection L), else R + L
    Returns z * sqrt(P sigma_d^2 + d^2 sigma_L^2) with P = R + L  (SPT ch. 6-7) [units].
    """
    interval = protection_interval(lead_time_mean, review_period)
    _, sigma = lead_time_demand(demand_mean, demand_sd, interval, lead_time_sd)
    return scalar_or_array(np.asarray(service_factor(service_level)) * np.asarray(sigma))


def reorder_point_normal(
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time_mean: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
    *,
    service_level: ArrayLike,
) -> ArrayLike:
    """Continuous-review reorder point d L + z sigma_DL [units] (see ``safety_stock_normal``)."""
    mean, _ = lead_time_demand(demand_mean, demand_sd, lead_time_mean, lead_time_sd)
    ss = safety_stock_normal(
        demand_mean, demand_sd, lead_time_mean, lead_time_sd, service_level=service_level
    )
    return scalar_or_array(np.asarray(mean) + np.asarray(ss))


def order_up_to_level_normal(
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time_mean: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
    *,
    review_period: ArrayLike,
    service_level: ArrayLike,
) -> ArrayLike:
    """Periodic-review (R,S) order-up-to level d (R + L) + z sigma_{R+L} [units]."""
    interval = protection_interval(lead_time_mean, positive("review_period", review_period))
    mean, _ = lead_time_demand(demand_mean, demand_sd, interval, lead_time_sd)
    ss = safety_stock_normal(
        demand_mean,
        demand_sd,
        lead_time_mean,
        lead_time_sd,
        service_level=service_level,
        review_period=review_period,
    )
    return scalar_or_array(np.asarray(mean) + np.asarray(ss))


def safety_factor_for_fill_rate(
    fill_rate: ArrayLike, order_quantity: ArrayLike, lead_time_demand_sd: ArrayLike
) -> ArrayLike:
    """k with G(k) = Q (1 - beta) / sigma_DL: the safety factor for a fill rate (type 2).

    fill_rate            [beta] share of demand met from stock
    order_quantity       [Q] units replenished per cycle (d R for periodic review)
    lead_time_demand_sd  [sigma_DL] units over the protection interval
    Expected units short per cycle sigma_DL G(k) <= (1 - beta) Q  (SPT eq. 6.22, which ignores
    the shortage still outstanding from the previous cycle).
    """
    beta = probability("fill_rate", fill_rate)
    q = positive("order_quantity", order_quantity)
    sigma = positive("lead_time_demand_sd", lead_time_demand_sd)
    return loss.inverse_standard_normal_loss(q * (1.0 - beta) / sigma)


def fill_rate_normal(
    safety_factor: ArrayLike, order_quantity: ArrayLike, lead_time_demand_sd: ArrayLike
) -> ArrayLike:
    """Fill rate 1 - sigma_DL G(k) / Q for safety factor k (SPT eq. 6.21), floored at 0."""
    k = finite("safety_factor", safety_factor)
    q = positive("order_quantity", order_quantity)
    sigma = non_negative("lead_time_demand_sd", lead_time_demand_sd)
    g = np.asarray(loss.standard_normal_loss(k))
    return scalar_or_array(np.clip(1.0 - sigma * g / q, 0.0, 1.0))


def cycle_service_level_normal(safety_factor: ArrayLike) -> ArrayLike:
    """Cycle service level Phi(k) of safety factor k."""
    return scalar_or_array(stats.norm.cdf(finite("safety_factor", safety_factor)))


def critical_ratio(stockout_cost: ArrayLike, holding_cost: ArrayLike) -> ArrayLike:
    """p / (p + h): the cost-optimal probability of no stockout in a newsvendor/base-stock period.

    stockout_cost  [p] per unit short (backordered) per period
    holding_cost   [h] per unit held per period
    """
    p = positive("stockout_cost", stockout_cost)
    h = positive("holding_cost", holding_cost)
    return scalar_or_array(p / (p + h))


def cost_optimal_cycle_service_level(
    stockout_cost: ArrayLike,
    holding_cost_per_year: ArrayLike,
    annual_demand: ArrayLike,
    order_quantity: ArrayLike,
    *,
    lost_sales: bool = False,
) -> ArrayLike:
    """Cycle service level that minimises holding + shortage cost for a cost per unit short.

    stockout_cost          [B2] cost per unit short
    holding_cost_per_year  [h] cost per unit held per year (unit_cost x holding_rate)
    annual_demand          [D] units per year
    order_quantity         [Q] units per order
    Backorders: P(stockout per cycle) = Q h / (D B2); lost sales: Q h / (Q h + D B2)
    (SPT eq. 6.28 and 6.37). Clipped to [MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL] (0.5, 0.9999).
    """
    b = positive("stockout_cost", stockout_cost)
    h = positive("holding_cost_per_year", holding_cost_per_year)
    d = positive("annual_demand", annual_demand)
    q = positive("order_quantity", order_quantity)
    risk = q * h / (q * h + d * b) if lost_sales else q * h / (d * b)
    return scalar_or_array(np.clip(1.0 - risk, MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL))


def economic_order_quantity(
    order_cost: ArrayLike, annual_demand: ArrayLike, holding_cost_per_year: ArrayLike
) -> ArrayLike:
    """EOQ sqrt(2 K D / h) [units] (Harris 1913).

    order_cost [K] per order; annual_demand [D] units per year; holding_cost_per_year [h] per
    unit per year.
    """
    k = non_negative("order_cost", order_cost)
    d = non_negative("annual_demand", annual_demand)
    h = positive("holding_cost_per_year", holding_cost_per_year)
    return scalar_or_array(np.sqrt(2.0 * k * d / h))


def round_order_quantity(
    quantity: ArrayLike, moq: ArrayLike = 0.0, order_multiple: ArrayLike = 0.0
) -> ArrayLike:
    """Apply the minimum order quantity, then round up to the order multiple (0 = none) [units]."""
    q = non_negative("quantity", quantity)
    m = non_negative("moq", moq)
    mult = non_negative("order_multiple", order_multiple)
    q = np.maximum(q, m)
    safe = np.where(mult > 0, mult, 1.0)
    q = np.where(mult > 0, np.ceil(q / safe - 1e-9) * safe, q)
    return scalar_or_array(q)


def _distribution_ppf(
    distribution: str, probability_: np.ndarray, mean: np.ndarray, sd: np.ndarray
) -> np.ndarray:
    if distribution == "normal":
        return np.asarray(stats.norm.ppf(probability_, mean, sd))
    if distribution == "poisson":
        return np.asarray(stats.poisson.ppf(probability_, mean))
    if distribution == "negative_binomial":
        n, p = loss.negative_binomial_parameters(mean, sd)
        return np.asarray(stats.nbinom.ppf(probability_, n, p))
    shape = (mean / sd) ** 2
    return np.asarray(stats.gamma.ppf(probability_, shape, scale=sd * sd / mean))


def distribution_loss(distribution: str, x: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> ArrayLike:
    """E[(X - x)^+] [units] for X of the named family with the given mean and sd."""
    if distribution == "normal":
        return loss.normal_loss(x, mean, sd)
    if distribution == "poisson":
        return loss.poisson_loss(x, mean)
    if distribution == "negative_binomial":
        return loss.negative_binomial_loss(x, mean, sd)
    if distribution == "gamma":
        return loss.gamma_loss(x, mean, sd)
    raise invalid("distribution", distribution, f"must be one of {', '.join(DISTRIBUTIONS)}")


def reorder_point_for_distribution(
    distribution: str,
    mean: ArrayLike,
    sd: ArrayLike,
    *,
    service_level: ArrayLike,
    service_type: str = "cycle_service",
    order_quantity: ArrayLike | None = None,
) -> ArrayLike:
    """Reorder point (or order-up-to level) for lead-time demand of a named family [units].

    distribution   'normal' | 'poisson' (sd ignored) | 'negative_binomial' | 'gamma'; the
                   discrete families serve slow movers and return whole units
    mean, sd       [units] of demand over the protection interval
    service_type   'cycle_service': smallest r with P(X <= r) >= service_level;
                   'fill_rate': smallest r with E[(X - r)^+] <= (1 - service_level) Q
    order_quantity [Q] units per cycle, required for 'fill_rate'
    """
    if distribution not in DISTRIBUTIONS:
        raise invalid("distribution", distribution, f"must be one of {', '.join(DISTRIBUTIONS)}")
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", service_type, f"must be one of {', '.join(SERVICE_TYPES)}")
    level = probability("service_level", service_level)
    mm = non_negative("mean", mean)
    ss = non_negative("sd", sd) if distribution == "poisson" else positive("sd", sd)
    if service_type == "cycle_service":
        return scalar_or_array(_distribution_ppf(distribution, level, mm, ss))
    if order_quantity is None:
        raise invalid("order_quantity", None, "is required for a fill-rate target")
    q = positive("order_quantity", order_quantity)
    target = (1.0 - level) * q
    lv, mb, sb, tb = np.broadcast_arrays(level, mm, ss, target)
    out = np.empty(lv.shape)
    discrete = distribution in ("poisson", "negative_binomial")
    for idx in np.ndindex(lv.shape):
        m_i, s_i, t_i = float(mb[idx]), float(sb[idx]), float(tb[idx])
        spread = max(s_i, np.sqrt(max(m_i, 1e-12)))

        def short(x: float, m_i: float = m_i, s_i: float = s_i) -> float:
            return float(distribution_loss(distribution, x, m_i, s_i))

        lo, hi = m_i - 10.0 * spread - t_i, m_i + 10.0 * spread
        while short(hi) > t_i:
            hi += 10.0 * spread
        if discrete:
            lo, hi = np.floor(lo), np.ceil(hi)
            while hi - lo > 1:
                mid = np.floor(0.5 * (lo + hi))
                if short(mid) <= t_i:
                    hi = mid
                else:
                    lo = mid
            out[idx] = hi
        else:
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if short(mid) <= t_i:
                    hi = mid
                else:
                    lo = mid
                if hi - lo < 1e-9 * max(1.0, abs(hi)):
                    break
            out[idx] = hi
    return scalar_or_array(out)


@dataclass(frozen=True)
class PolicyLevels:
    """Levels and expected performance of a normal-approximation policy (arrays per item).

    safety_stock, reorder_point, order_up_to, order_quantity  [units]
    protection_demand_mean, protection_demand_sd              [units] over L or R + L
    expected_fill_rate, expected_cycle_service                [share]
    mean_on_hand                                              [units] on average
    expected_short_per_cycle                                  [units]
    """

    safety_stock: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    order_quantity: np.ndarray
    protection_demand_mean: np.ndarray
    protection_demand_sd: np.ndarray
    safety_factor: np.ndarray
    expected_fill_rate: np.ndarray
    expected_cycle_service: np.ndarray
    expected_short_per_cycle: np.ndarray
    mean_on_hand: np.ndarray


def normal_policy_levels(
    demand_mean: ArrayLike,
    demand_sd: ArrayLike,
    lead_time_mean: ArrayLike,
    lead_time_sd: ArrayLike = 0.0,
    *,
    review_period: ArrayLike = 0.0,
    order_quantity: ArrayLike,
    service_level: ArrayLike,
    service_type: str = "cycle_service",
) -> PolicyLevels:
    """Levels of an (r,Q)/(s,S) (review_period 0) or (R,S) (review_period > 0) policy.

    demand_mean, demand_sd   [d, sigma_d] units per period
    lead_time_mean, _sd      [L, sigma_L] periods
    review_period            [R] periods; 0 = continuous review
    order_quantity           [Q] units per order for continuous review (ignored for (R,S), whose
                             cycle quantity is d R)
    service_level            target share; service_type 'cycle_service' (z = Phi^-1(CSL)) or
                             'fill_rate' (G(k) = Q (1 - beta) / sigma)
    Continuous review: reorder_point = d L + k sigma_L, order_up_to = reorder_point + Q.
    Periodic review: order_up_to = d (R + L) + k sigma_{R+L}, reorder_point = order_up_to
    (an order every review). Mean on hand = SS + Q/2 + expected backorders, with
    backorders (sigma^2 / Q)(G2(k) - G2(k + Q/sigma)) (Hadley & Whitin).
    """
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", service_type, f"must be one of {', '.join(SERVICE_TYPES)}")
    d = non_negative("demand_mean", demand_mean)
    r = non_negative("review_period", review_period)
    level = probability("service_level", service_level)
    periodic = r > 0
    interval = protection_interval(lead_time_mean, r)
    mu, sigma = (
        np.asarray(v, dtype=float) for v in lead_time_demand(d, demand_sd, interval, lead_time_sd)
    )
    q_in = np.asarray(order_quantity, dtype=float)
    q = np.where(periodic, d * r, q_in)
    if np.any(~periodic & ~(q_in > 0)):
        raise invalid("order_quantity", order_quantity, "must be > 0 for continuous review")
    mu, sigma, q, level, periodic, d = np.broadcast_arrays(mu, sigma, q, level, periodic, d)
    safe_sigma = np.where(sigma > 0, sigma, 1.0)
    safe_q = np.where(q > 0, q, 1.0)
    if service_type == "cycle_service":
        k = np.asarray(stats.norm.ppf(level), dtype=float)
    else:
        k = np.asarray(
            loss.inverse_standard_normal_loss(safe_q * (1.0 - level) / safe_sigma), dtype=float
        )
    # Deterministic demand (sigma = 0) is the limit sigma -> 0: a cycle-service target needs no
    # safety stock; a fill-rate target lets each cycle run (1 - beta) Q short.
    planned_short = (1.0 - level) * q if service_type == "fill_rate" else np.zeros_like(q)
    ss = np.where(sigma > 0, k * sigma, -planned_short)
    short = np.where(sigma > 0, sigma * np.asarray(loss.standard_normal_loss(k)), planned_short)
    fill = np.where(q > 0, np.clip(1.0 - short / safe_q, 0.0, 1.0), 1.0)
    csl = np.where(sigma > 0, stats.norm.cdf(k), np.where(planned_short > 0, 0.0, 1.0))
    backorders = np.where(
        sigma > 0,
        sigma
        * sigma
        / safe_q
        * (
            np.asarray(loss.standard_normal_second_loss(k))
            - np.asarray(loss.standard_normal_second_loss(k + safe_q / safe_sigma))
        ),
        0.0,
    )
    level_point = mu + ss
    reorder = level_point
    up_to = np.where(periodic, level_point, level_point + q)
    on_hand = np.maximum(ss + q / 2.0 + backorders, 0.0)
    return PolicyLevels(
        safety_stock=ss,
        reorder_point=reorder,
        order_up_to=up_to,
        order_quantity=q,
        protection_demand_mean=mu,
        protection_demand_sd=sigma,
        safety_factor=k,
        expected_fill_rate=fill,
        expected_cycle_service=csl,
        expected_short_per_cycle=short,
        mean_on_hand=on_hand,
    )


__all__ = [
    "DISTRIBUTIONS",
    "SERVICE_TYPES",
    "PolicyLevels",
    "cost_optimal_cycle_service_level",
    "critical_ratio",
    "cycle_service_level_normal",
    "distribution_loss",
    "economic_order_quantity",
    "fill_rate_normal",
    "lead_time_demand",
    "normal_policy_levels",
    "order_up_to_level_normal",
    "protection_interval",
    "reorder_point_for_distribution",
    "reorder_point_normal",
    "round_order_quantity",
    "safety_factor_for_fill_rate",
    "safety_stock_normal",
    "service_factor",
]
