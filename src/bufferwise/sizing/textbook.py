"""Textbook single-item models with closed or iterative solutions.

Newsvendor / base-stock (normal and Poisson), the (s,S) power approximation, the (r,Q)
loss-function (Hadley-Whitin) iteration, and base-stock with Markov supplier disruptions.
Notation and examples follow Snyder & Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019),
"FoSCT" below.

Lead-time convention (docs/sizing.md): periodic review, every period (R = 1); an order placed at
the end of period t with lead time L arrives at the start of period t + L + 1, so the base-stock
level protects R + L = L + 1 periods. FoSCT's ``lead_time = L`` in chapter 4 is the same L.
Continuous-review (r,Q) models protect the lead time L itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from bufferwise.sizing import loss
from bufferwise.sizing._validate import finite, invalid, non_negative, positive, probability


@dataclass(frozen=True)
class BaseStockSolution:
    """A base-stock level [units] and its expected cost per period."""

    base_stock_level: float
    expected_cost: float


@dataclass(frozen=True)
class MinMaxLevels:
    """(s,S) levels [units]."""

    reorder_point: float
    order_up_to_level: float


@dataclass(frozen=True)
class ReorderQuantityLevels:
    """(r,Q) levels [units] and the number of iterations the solver used."""

    reorder_point: float
    order_quantity: float
    iterations: int


def _positive_scalar(name: str, value: float) -> float:
    return float(positive(name, value))


def _periods_covered(lead_time: float, review_period: float) -> float:
    return float(non_negative("lead_time", lead_time)) + float(
        positive("review_period", review_period)
    )


def newsvendor_normal_cost(
    base_stock_level: float,
    holding_cost: float,
    stockout_cost: float,
    demand_mean: float,
    demand_sd: float,
    *,
    lead_time: float = 0.0,
    review_period: float = 1.0,
) -> float:
    """Expected cost per period h E[(S - D)^+] + p E[(D - S)^+] of base-stock level S.

    holding_cost [h] per unit per period; stockout_cost [p] per unit backordered per period;
    demand_mean, demand_sd [mu, sigma] per period; the demand D is over R + L periods.
    """
    s = float(finite("base_stock_level", base_stock_level))
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    periods = _periods_covered(lead_time, review_period)
    mu = float(non_negative("demand_mean", demand_mean)) * periods
    sigma = float(positive("demand_sd", demand_sd)) * math.sqrt(periods)
    short = float(loss.normal_loss(s, mu, sigma))
    excess = s - mu + short
    return h * excess + p * short


def newsvendor_normal(
    holding_cost: float,
    stockout_cost: float,
    demand_mean: float,
    demand_sd: float,
    *,
    lead_time: float = 0.0,
    review_period: float = 1.0,
) -> BaseStockSolution:
    """Optimal base-stock level for normal demand: S* = mu' + sigma' Phi^-1(p / (p + h)).

    mu' = mu (R + L), sigma' = sigma sqrt(R + L); cost g* = (h + p) sigma' phi(z)
    (FoSCT eq. 4.24 and 4.34-4.35; review_period R = 1 is FoSCT's setting).
    """
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    periods = _periods_covered(lead_time, review_period)
    mu = float(non_negative("demand_mean", demand_mean)) * periods
    sigma = float(positive("demand_sd", demand_sd)) * math.sqrt(periods)
    z = float(stats.norm.ppf(p / (p + h)))
    return BaseStockSolution(mu + z * sigma, (h + p) * sigma * float(stats.norm.pdf(z)))


def newsvendor_poisson_cost(
    base_stock_level: float,
    holding_cost: float,
    stockout_cost: float,
    demand_mean: float,
    *,
    lead_time: float = 0.0,
    review_period: float = 1.0,
) -> float:
    """Expected cost per period of base-stock level S for Poisson demand over R + L periods."""
    s = float(finite("base_stock_level", base_stock_level))
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    mu = float(non_negative("demand_mean", demand_mean)) * _periods_covered(
        lead_time, review_period
    )
    short = float(loss.poisson_loss(s, mu))
    return h * (s - mu + short) + p * short


def newsvendor_poisson(
    holding_cost: float,
    stockout_cost: float,
    demand_mean: float,
    *,
    lead_time: float = 0.0,
    review_period: float = 1.0,
) -> BaseStockSolution:
    """Optimal integer base-stock level for Poisson demand: the smallest S with
    F(S) >= p / (p + h) (FoSCT section 4.3.4)."""
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    mu = float(non_negative("demand_mean", demand_mean)) * _periods_covered(
        lead_time, review_period
    )
    level = float(stats.poisson.ppf(p / (p + h), mu))
    # ppf is the smallest S with F(S) >= ratio; guard its floating-point edge.
    while level > 0 and stats.poisson.cdf(level - 1, mu) >= p / (p + h):
        level -= 1
    cost = newsvendor_poisson_cost(
        level, h, p, demand_mean, lead_time=lead_time, review_period=review_period
    )
    return BaseStockSolution(level, cost)


def min_max_power_approximation(
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    demand_mean: float,
    demand_sd: float,
    *,
    lead_time: float = 0.0,
) -> MinMaxLevels:
    """Periodic-review (s,S) levels by the power approximation (Ehrhardt 1979; Ehrhardt &
    Mosier 1984), FoSCT eq. 4.77-4.80, with demand over the L + 1 periods of our convention:

    Q = 1.30 mu^0.494 (K/h)^0.506 (1 + sigma_L^2 / mu^2)^0.116
    z = sqrt(Q h / (sigma_L p));  s = 0.973 mu_L + sigma_L (0.183 / z + 1.063 - 2.192 z);  S = s + Q
    mu, sigma per period; mu_L = mu (L + 1), sigma_L = sigma sqrt(L + 1); h, p per unit per period,
    K per order. Ehrhardt & Mosier's refinements (S capped by the newsvendor level when Q/mu is
    small) are not applied, as in FoSCT's statement of the approximation.
    """
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    k = _positive_scalar("fixed_cost", fixed_cost)
    mu = _positive_scalar("demand_mean", demand_mean)
    sigma = _positive_scalar("demand_sd", demand_sd)
    periods = float(non_negative("lead_time", lead_time)) + 1.0
    mu_l, sigma_l = mu * periods, sigma * math.sqrt(periods)
    q = 1.30 * mu**0.494 * (k / h) ** 0.506 * (1.0 + sigma_l**2 / mu**2) ** 0.116
    z = math.sqrt(q / sigma_l * h / p)
    s = 0.973 * mu_l + sigma_l * (0.183 / z + 1.063 - 2.192 * z)
    return MinMaxLevels(s, s + q)


def reorder_quantity_hadley_whitin(
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    demand_mean: float,
    demand_sd: float,
    lead_time: float,
    *,
    tolerance: float = 1e-9,
    max_iterations: int = 1000,
) -> ReorderQuantityLevels:
    """Continuous-review (r,Q) by the Hadley-Whitin loss-function iteration (FoSCT eq. 5.28-5.29).

    Start from Q = EOQ; repeat: r solves n(r) = h Q / (h + p);
    Q = sqrt(2 [K lambda + (h + p) n2(r)] / h), until r and Q move less than ``tolerance``.
    holding_cost [h] and stockout_cost [p] per unit per time unit, fixed_cost [K] per order,
    demand_mean / demand_sd [lambda, tau] per time unit, lead_time [L] time units; lead-time
    demand ~ N(lambda L, tau^2 L).
    """
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    k = _positive_scalar("fixed_cost", fixed_cost)
    lam = _positive_scalar("demand_mean", demand_mean)
    tau = _positive_scalar("demand_sd", demand_sd)
    lt = _positive_scalar("lead_time", lead_time)
    mu, sigma = lam * lt, tau * math.sqrt(lt)
    q = math.sqrt(2.0 * k * lam / h)
    r = mu
    for iteration in range(1, max_iterations + 1):
        target = h * q / (h + p)
        z = float(loss.inverse_standard_normal_loss(target / sigma))
        r_new = mu + sigma * z
        q_new = math.sqrt(
            2.0 * (k * lam + (h + p) * float(loss.normal_second_loss(r_new, mu, sigma))) / h
        )
        done = abs(r_new - r) <= tolerance and abs(q_new - q) <= tolerance
        r, q = r_new, q_new
        if done:
            return ReorderQuantityLevels(r, q, iteration)
    raise invalid("tolerance", tolerance, f"not reached in {max_iterations} iterations; loosen it")


def _disruption_distribution(
    disruption_prob: float, recovery_prob: float, horizon: int
) -> np.ndarray:
    """pi_n: probability that the current period is the n-th consecutive down period (n = 0: up).

    pi_0 = beta / (alpha + beta); pi_n = alpha beta / (alpha + beta) (1 - beta)^(n - 1) (FoSCT
    Lemma 9.2).
    """
    a, b = disruption_prob, recovery_prob
    n = np.arange(horizon + 1, dtype=float)
    pi = a * b / (a + b) * (1.0 - b) ** (n - 1.0)
    pi[0] = b / (a + b)
    return pi


def base_stock_with_disruptions_cost(
    base_stock_level: float,
    holding_cost: float,
    stockout_cost: float,
    demand_per_period: float,
    disruption_prob: float,
    recovery_prob: float,
) -> float:
    """Expected cost per period of base-stock level S with deterministic demand d and a supplier
    that follows a two-state Markov chain (FoSCT eq. 9.14):

    g(S) = sum_n pi_n [h (S - (n + 1) d)^+ + p ((n + 1) d - S)^+]

    alpha = disruption_prob (up -> down per period), beta = recovery_prob (down -> up). Review
    every period, lead time 0 (an order arrives at the start of the next period when the
    supplier is up; while it is down, orders wait).
    """
    s = float(finite("base_stock_level", base_stock_level))
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    d = _positive_scalar("demand_per_period", demand_per_period)
    a = float(probability("disruption_prob", disruption_prob))
    b = float(probability("recovery_prob", recovery_prob))
    # Terms decay like (1 - beta)^n n; stop when they are below 1e-18 of the first.
    horizon = math.ceil(45.0 / -math.log1p(-b)) + int(max(0.0, s / d)) + 10
    pi = _disruption_distribution(a, b, horizon)
    need = (np.arange(horizon + 1) + 1.0) * d
    return float(np.sum(pi * (h * np.maximum(s - need, 0.0) + p * np.maximum(need - s, 0.0))))


def base_stock_with_disruptions(
    holding_cost: float,
    stockout_cost: float,
    demand_per_period: float,
    disruption_prob: float,
    recovery_prob: float,
) -> BaseStockSolution:
    """Optimal base-stock level S* = d (n* + 1), n* the smallest n with
    F(n) = 1 - alpha / (alpha + beta) (1 - beta)^n >= p / (p + h) (FoSCT eq. 9.18), and its cost.

    See ``base_stock_with_disruptions_cost`` for the model and units.
    """
    h = _positive_scalar("holding_cost", holding_cost)
    p = _positive_scalar("stockout_cost", stockout_cost)
    d = _positive_scalar("demand_per_period", demand_per_period)
    a = float(probability("disruption_prob", disruption_prob))
    b = float(probability("recovery_prob", recovery_prob))
    ratio = p / (p + h)
    n = 0
    while 1.0 - a / (a + b) * (1.0 - b) ** n < ratio:
        n += 1
    level = d * (n + 1)
    return BaseStockSolution(level, base_stock_with_disruptions_cost(level, h, p, d, a, b))


__all__ = [
    "BaseStockSolution",
    "MinMaxLevels",
    "ReorderQuantityLevels",
    "base_stock_with_disruptions",
    "base_stock_with_disruptions_cost",
    "min_max_power_approximation",
    "newsvendor_normal",
    "newsvendor_normal_cost",
    "newsvendor_poisson",
    "newsvendor_poisson_cost",
    "reorder_quantity_hadley_whitin",
]
