"""Simulation-optimised sizing: the level that meets a service target, or costs least, for the
real policy (review period, MOQ, order multiple, backorders or lost sales, random lead times,
supplier outages), found for all items at once.

Every evaluation runs the numba kernel over all items with the same seed, so the candidates of an
item share their random demands, lead times and outages (common random numbers): the search
compares levels, not noise. A level is searched per item:

- base-stock and (R,S): the order-up-to level S;
- (s,S): the reorder level s, with S = s + ``quantity`` (a fixed gap);
- (r,Q): the reorder level r, with Q = ``quantity``.

Confidence intervals come from the independent replications of the final run (mean +- z standard
error, z from the confidence level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bufferwise.kernels.inventory import (
    POLICY_JIT,
    POLICY_MIN_MAX,
    POLICY_REORDER_QUANTITY,
    SimulationInputs,
    SimulationResult,
    resolve_seed,
    run_simulation,
)
from bufferwise.sizing._validate import invalid, non_negative, positive, probability

SERVICE_TYPES = ("cycle_service", "fill_rate")


@dataclass(frozen=True)
class SimulatedSizing:
    """Result of a simulation search, arrays per item.

    level            the searched level [units] (S, s or r, see module docstring)
    reorder_level    [s or r] units as passed to the kernel
    target_level     [S or Q] units as passed to the kernel
    met              whether the target was reached within the search bounds
    result           the simulation at the chosen levels (means, standard errors, replications)
    evaluations      kernel runs the search used
    """

    level: np.ndarray
    reorder_level: np.ndarray
    target_level: np.ndarray
    met: np.ndarray
    result: SimulationResult
    evaluations: int

    def confidence_interval(
        self, metric: str, level: float = 0.95
    ) -> tuple[np.ndarray, np.ndarray]:
        """Interval for a simulated metric at the chosen levels."""
        return self.result.confidence_interval(metric, level)


def _kernel_seed(seed: int | np.random.Generator | None) -> int:
    try:
        return resolve_seed(seed)
    except ValueError as err:
        raise invalid("seed", seed, "must be an int, a numpy Generator or None") from err


def levels_for(
    inputs: SimulationInputs, level: np.ndarray, quantity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(reorder_level, target_level) kernel arrays for a searched level per item."""
    rq = inputs.policy == POLICY_REORDER_QUANTITY
    ss = inputs.policy == POLICY_MIN_MAX
    target = np.where(rq, quantity, np.where(ss, level + quantity, level))
    return level.astype(float), target.astype(float)


def _metric(result: SimulationResult, service_type: str) -> np.ndarray:
    if service_type == "fill_rate":
        return result.mean["fill_rate"]
    csl = result.mean["cycle_service_level"]
    # an item without a completed cycle is judged by whether it ever ran short
    return np.where(np.isfinite(csl), csl, np.where(result.mean["mean_short"] > 0, 0.0, 1.0))


def _check(inputs: SimulationInputs, quantity: np.ndarray) -> None:
    if np.any(inputs.policy == POLICY_JIT):
        raise invalid("policy", "jit", "has no level to search: JIT holds no buffer")
    if np.any((inputs.policy == POLICY_REORDER_QUANTITY) & (quantity <= 0)):
        raise invalid("quantity", quantity, "must be > 0 (the order quantity Q) for (r,Q) items")


def simulate_at(
    inputs: SimulationInputs,
    level: np.ndarray,
    quantity: np.ndarray,
    periods: int,
    replications: int,
    warmup: int,
    lost_sales: bool,
    seed: int,
) -> SimulationResult:
    """Simulate every item at reorder level `level` with its order quantity / order-up-to
    spread `quantity` (see `levels_for`): the one evaluation both searches below repeat."""
    low, high = levels_for(inputs, level, quantity)
    return run_simulation(
        inputs,
        low,
        high,
        periods=periods,
        replications=replications,
        warmup=warmup,
        lost_sales=lost_sales,
        seed=seed,
    )


def optimise_service_level(
    inputs: SimulationInputs,
    *,
    service_level: float | np.ndarray,
    service_type: str = "fill_rate",
    quantity: float | np.ndarray = 0.0,
    lower: float | np.ndarray,
    upper: float | np.ndarray,
    periods: int,
    replications: int = 8,
    warmup: int = 0,
    lost_sales: bool = False,
    seed: int | np.random.Generator | None = None,
    integer: bool = True,
    tolerance: float = 0.01,
    max_expansions: int = 12,
    floor: float | np.ndarray = -np.inf,
) -> SimulatedSizing:
    """Smallest level per item whose simulated service meets the target (vectorised bisection).

    service_level   target share per item; service_type 'fill_rate' or 'cycle_service'
    quantity        [units] Q for (r,Q), S - s for (s,S), ignored otherwise
    lower, upper    [units] starting bracket per item (e.g. the analytic level -/+ a few sigma);
                    upper is widened until the target is met, lower until it is missed (at most
                    max_expansions doublings each; never below ``floor``, e.g. 0 for an
                    order-up-to level, since an item without demand meets any target)
    integer         search whole units (levels are stock counts); otherwise stop at ``tolerance``
    seed            int | numpy Generator | None; one kernel seed for the whole search
    An item whose target is not met even at the widened upper bound is reported with met=False
    at that bound.
    """
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", service_type, f"must be one of {', '.join(SERVICE_TYPES)}")
    n = inputs.n_items
    target = np.broadcast_to(
        probability("service_level", service_level, open_interval=False), (n,)
    ).astype(float)
    qty = np.broadcast_to(non_negative("quantity", quantity), (n,)).astype(float)
    _check(inputs, qty)
    lo = np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy()
    if np.any(~np.isfinite(lo)) or np.any(~np.isfinite(hi)) or np.any(hi < lo):
        raise invalid("upper", upper, "must be finite and >= lower for every item")
    bottom = np.broadcast_to(np.asarray(floor, dtype=float), (n,)).copy()
    if integer:
        lo, hi = np.floor(lo), np.ceil(hi)
        bottom = np.where(np.isfinite(bottom), np.floor(bottom), bottom)
    lo = np.maximum(lo, bottom)
    hi = np.maximum(hi, lo)
    kernel_seed = _kernel_seed(seed)
    evaluations = 0

    def evaluate(level: np.ndarray) -> tuple[np.ndarray, SimulationResult]:
        nonlocal evaluations
        evaluations += 1
        res = simulate_at(
            inputs, level, qty, periods, replications, warmup, lost_sales, kernel_seed
        )
        return _metric(res, service_type) >= target - 1e-12, res

    ok_hi, _ = evaluate(hi)
    width = np.maximum(hi - lo, 1.0)
    for _ in range(max_expansions):
        if np.all(ok_hi):
            break
        hi = np.where(ok_hi, hi, hi + width)
        width = np.where(ok_hi, width, 2.0 * width)
        ok_hi, _ = evaluate(hi)
    met = ok_hi.copy()
    ok_lo, _ = evaluate(lo)
    # an item meeting the target already at `lower`: widen downwards, never below `floor`
    width = np.maximum(hi - lo, 1.0)
    for _ in range(max_expansions):
        widen = ok_lo & (lo > bottom)
        if not np.any(widen):
            break
        hi = np.where(widen, lo, hi)
        lo = np.where(widen, np.maximum(lo - width, bottom), lo)
        width = np.where(widen, 2.0 * width, width)
        ok_lo, _ = evaluate(lo)
    # items meeting the target even at the bottom keep it
    hi = np.where(ok_lo, lo, hi)
    step = 1.0 if integer else float(positive("tolerance", tolerance))
    active = met & ~ok_lo & (hi - lo > step)
    while np.any(active):
        mid = np.where(active, 0.5 * (lo + hi), hi)
        if integer:
            mid = np.where(active, np.floor(mid), mid)
        ok_mid, _ = evaluate(mid)
        hi = np.where(active & ok_mid, mid, hi)
        lo = np.where(active & ~ok_mid, mid, lo)
        active = met & ~ok_lo & (hi - lo > step)
    low, high = levels_for(inputs, hi, qty)
    final = run_simulation(
        inputs,
        low,
        high,
        periods=periods,
        replications=replications,
        warmup=warmup,
        lost_sales=lost_sales,
        seed=kernel_seed,
    )
    return SimulatedSizing(hi, low, high, met, final, evaluations + 1)


def expected_cost_per_period(
    result: SimulationResult,
    *,
    holding_cost: float | np.ndarray,
    stockout_cost: float | np.ndarray,
    backorder_cost: float | np.ndarray = 0.0,
    order_cost: float | np.ndarray = 0.0,
) -> np.ndarray:
    """h E[on hand] + b E[units short] + b' E[backorders] + K orders per period [money/period].

    holding_cost [h] per unit per period; stockout_cost [b] per unit short; backorder_cost [b']
    per unit backordered per period; order_cost [K] per order. Per replication, then averaged.
    """
    return _cost_per_replication(
        result, holding_cost, stockout_cost, backorder_cost, order_cost
    ).mean(axis=1)


def _cost_per_replication(
    result: SimulationResult,
    holding_cost: float | np.ndarray,
    stockout_cost: float | np.ndarray,
    backorder_cost: float | np.ndarray,
    order_cost: float | np.ndarray,
) -> np.ndarray:
    per = result.per_replication
    counted = result.periods - result.warmup
    h = np.asarray(holding_cost, dtype=float).reshape(-1, 1)
    b = np.asarray(stockout_cost, dtype=float).reshape(-1, 1)
    bb = np.asarray(backorder_cost, dtype=float).reshape(-1, 1)
    k = np.asarray(order_cost, dtype=float).reshape(-1, 1)
    return (
        h * per["mean_on_hand"]
        + b * per["mean_short"]
        + bb * per["mean_backorders"]
        + k * per["orders_placed"] / counted
    )


@dataclass(frozen=True)
class CostOptimalSizing:
    """Least-cost level per item and its simulated cost per period with a confidence interval."""

    sizing: SimulatedSizing
    cost_per_period: np.ndarray
    cost_standard_error: np.ndarray


def optimise_cost(
    inputs: SimulationInputs,
    *,
    holding_cost: float | np.ndarray,
    stockout_cost: float | np.ndarray,
    backorder_cost: float | np.ndarray = 0.0,
    order_cost: float | np.ndarray = 0.0,
    quantity: float | np.ndarray = 0.0,
    lower: float | np.ndarray,
    upper: float | np.ndarray,
    periods: int,
    replications: int = 8,
    warmup: int = 0,
    lost_sales: bool = False,
    seed: int | np.random.Generator | None = None,
    grid_points: int = 11,
    integer: bool = True,
) -> CostOptimalSizing:
    """Level per item with the least simulated expected cost per period (see
    ``expected_cost_per_period`` for the cost terms and units).

    A grid of ``grid_points`` levels over [lower, upper] brackets the minimum, then a
    golden-section search narrows it to one unit (or 1e-3 of the bracket when not integer), all
    with common random numbers. The cost of a base-stock or (s,S) policy is convex or close to
    it in the level, which the bracketing assumes.
    """
    n = inputs.n_items
    qty = np.broadcast_to(non_negative("quantity", quantity), (n,)).astype(float)
    _check(inputs, qty)
    lo = np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy()
    if np.any(~np.isfinite(lo)) or np.any(~np.isfinite(hi)) or np.any(hi <= lo):
        raise invalid("upper", upper, "must be finite and > lower for every item")
    if grid_points < 3:
        raise invalid("grid_points", grid_points, "must be >= 3")
    kernel_seed = _kernel_seed(seed)
    evaluations = 0

    def cost(level: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        evaluations += 1
        res = simulate_at(
            inputs, level, qty, periods, replications, warmup, lost_sales, kernel_seed
        )
        return expected_cost_per_period(
            res,
            holding_cost=holding_cost,
            stockout_cost=stockout_cost,
            backorder_cost=backorder_cost,
            order_cost=order_cost,
        )

    fractions = np.linspace(0.0, 1.0, grid_points)
    grid = lo[:, None] + (hi - lo)[:, None] * fractions[None, :]
    if integer:
        grid = np.round(grid)
    costs = np.column_stack([cost(grid[:, j]) for j in range(grid_points)])
    best = np.argmin(costs, axis=1)
    rows = np.arange(n)
    a = grid[rows, np.maximum(best - 1, 0)]
    b = grid[rows, np.minimum(best + 1, grid_points - 1)]
    best_level = grid[rows, best]
    best_cost = costs[rows, best]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    stop = 1.0 if integer else 1e-3 * float(np.max(hi - lo))
    c = b - ratio * (b - a)
    d = a + ratio * (b - a)
    fc, fd = cost(np.round(c) if integer else c), cost(np.round(d) if integer else d)
    for _ in range(60):
        if np.all(b - a <= stop):
            break
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c = b - ratio * (b - a)
        d = a + ratio * (b - a)
        fc, fd = cost(np.round(c) if integer else c), cost(np.round(d) if integer else d)
    for cand, fcand in ((c, fc), (d, fd)):
        level = np.round(cand) if integer else cand
        better = fcand < best_cost
        best_level = np.where(better, level, best_level)
        best_cost = np.where(better, fcand, best_cost)
    low, high = levels_for(inputs, best_level, qty)
    final = run_simulation(
        inputs,
        low,
        high,
        periods=periods,
        replications=replications,
        warmup=warmup,
        lost_sales=lost_sales,
        seed=kernel_seed,
    )
    per = _cost_per_replication(final, holding_cost, stockout_cost, backorder_cost, order_cost)
    reps = per.shape[1]
    se = per.std(axis=1, ddof=1) / np.sqrt(reps) if reps > 1 else np.full(n, np.nan)
    sizing = SimulatedSizing(best_level, low, high, np.ones(n, dtype=bool), final, evaluations + 1)
    return CostOptimalSizing(sizing, per.mean(axis=1), se)


__all__ = [
    "CostOptimalSizing",
    "SimulatedSizing",
    "expected_cost_per_period",
    "levels_for",
    "optimise_cost",
    "optimise_service_level",
]
