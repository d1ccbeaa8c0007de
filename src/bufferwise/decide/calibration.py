"""Calibrated levels: the fill decide promises is the fill the levels deliver out of sample.

The cost curves come from the kernel fed with each item's recent demand as if the future were a
resample of it. On real demand that is optimistic: rates drift and items trade places, so on
carparts (monthly, 2,674 parts) the cost-chosen levels promise 86 % fill and deliver 70 % on the
following two years (docs/decide.md, "Backtest"). Issue 8 built a sizing method whose promise
holds out of sample on such data, `sizing.calibrated_order_up_to` (docs/decision-quality.md): a
protection-demand model with the uncertainty of the rate itself, levels allocated across items
by marginal analysis (a unit of stock goes where it buys the most fill per unit of holding cost),
and one knob set by replaying the model inside the history (fit on the first half, replay the
second with the real demand) until the replayed fill equals the target.

Decide uses it for the items it fits, after the stance is chosen by cost:

* **Eligible items**: replenished every bucket (periodic review of one bucket, or (r,Q) with Q at
  most a bucket's mean demand or one unit: base stock in all but name), with only normal risk
  (no supplier disruption, rare outage or machine layer: the calibrated model knows none of
  these). Items silent in the recent window are included: the calibrated model gives them the
  rate at which silent items woke up inside the history. Items held at no buffer by rule are
  not (no demand anywhere in the fitting history, or flagged obsolete by the demand profile:
  `analysis.zero_buffer_rule`); with no demand in the history they add nothing to the replayed
  fill. At least `calibration_min_items` of
  them and `calibration_min_periods` buckets of history, else nothing changes.
* **Target**: the fill the cost-chosen levels of those items promise together (model fill
  weighted by mean demand value): the cost trade-off decides how much service the portfolio
  buys; the calibration decides what stock really delivers it. Held within [0.5, 0.995]
  (`TARGET_RANGE`): below, the promise is no buffer worth calibrating; above, the inner
  replays cannot tell the levels apart.
* **Levels**: `calibrated_order_up_to` on the items' demand matrix with their median lead time
  (buckets), holding cost per unit and year as the value of a unit held, and half the history
  as the inner replay window. The recommended safety stock is the calibrated base-stock level
  S minus the expected demand over the protection interval (never below 0); for (r,Q) items
  minus Q as well, since (r,Q) orders when the position falls to r and lands it in (r, r + Q]
  (r = S - Q is base stock S).
* **Stance** of a calibrated item: the zone its calibrated level falls in (`stance.zones`:
  `jit` at zero safety stock, `lean` above, since these items carry normal risk only); the
  cost curves chose the portfolio's service, the allocation chooses where the stock goes.
* **Figures** of the chosen option at the new level: mean on hand and holding cost and stockout
  periods (and the standard errors) from the kernel; fill rate per item = the calibrated
  target apportioned by the calibrated model (`apportioned_fill`): each item's expected
  shortfall under the fitted protection-demand model at its calibrated level, scaled by one
  common factor so that the fills weighted as the target is (mean demand value) average to
  the target (the calibration guarantees the aggregate, not each item; the model says which
  items carry the shortfall); shortage and stockout cost from that fill and the recent mean
  demand. These figures are the fill target's, not a least cost: a calibrated level can cost
  more a year than JIT by the kernel's figures (which resample the recent demand, e.g. none
  for an item silent in the recent window), and the explanation then says so.

`calibrate = false` in [decide] keeps the cost-chosen levels everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bufferwise.decide.cost_curve import CostEngine, Performance
from bufferwise.decide.settings import DecideSettings
from bufferwise.kernels.inventory import POLICY_ORDER_UP_TO
from bufferwise.profile import DemandMatrix
from bufferwise.sizing import CalibratedLevels, calibrated_order_up_to
from bufferwise.sizing.calibrate import expected_fill

#: the range the calibrated aggregate fill target is held in (module docstring)
TARGET_RANGE = (0.5, 0.995)


@dataclass(frozen=True)
class CalibratedChoice:
    """rows: calibrated item indices; safety_stock [rows]; performance: the chosen option's
    figures at that level (1-D fields, module docstring); target: the aggregate fill promised
    and calibrated to; levels: the calibration's result; validation_periods: inner replay
    length [buckets]."""

    rows: np.ndarray
    safety_stock: np.ndarray
    performance: Performance
    target: float
    levels: CalibratedLevels
    validation_periods: int

    def describe(self) -> str:
        reached = (
            "reached in the replays inside the history"
            if self.levels.validation_reached
            else "out of reach in the replays inside the history even at the highest level"
        )
        return (
            f"{self.rows.size:,} items replenished every bucket got base-stock levels calibrated "
            f"out of sample to the {self.target:.1%} fill their cost-chosen levels promise "
            f"(fitted on the first half of the history, replayed on the last "
            f"{self.validation_periods} buckets: {reached})"
        )


def eligible(engine: CostEngine, exclude: np.ndarray | None = None) -> np.ndarray:
    """Items the calibrated levels apply to, whatever their cost-chosen stance (module
    docstring); `exclude` [n] bool: items held at no buffer by rule (no demand, obsolete)."""
    r = engine.risk
    every_bucket = (r.review_periods <= 1) & (
        (r.policy == POLICY_ORDER_UP_TO) | (r.order_quantity <= np.maximum(r.demand_mean, 1.0))
    )
    machine = np.zeros(r.n_items, dtype=bool)
    machine[r.layer_rows["machine_free"]] = True
    out = every_bucket & (r.full_layer == "normal") & ~machine
    return out if exclude is None else out & ~np.asarray(exclude, dtype=bool)


def apportioned_fill(
    model_fill: np.ndarray, weight: np.ndarray, target: float, iterations: int = 60
) -> np.ndarray:
    """Per-item fill whose weighted mean is the calibrated `target`: each item's shortfall
    under the calibrated model (1 - model_fill) scaled by one factor k, capped at 1,
    1 - min(k (1 - model_fill), 1), k found by bisection so that
    sum(w (1 - fill)) = (1 - target) sum(w). The target itself for every item when the model
    expects no shortfall on any weighted item (or no weight)."""
    short = np.clip(1.0 - np.asarray(model_fill, dtype=float), 0.0, 1.0)
    w = np.maximum(np.asarray(weight, dtype=float), 0.0)
    need = (1.0 - target) * w.sum()
    if w.sum() <= 0 or (w * short).sum() <= 0:
        return np.full(short.shape, target)
    lo, hi = 0.0, 1.0
    while (w * np.minimum(hi * short, 1.0)).sum() < need and hi < 1e12:
        lo, hi = hi, hi * 2.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if (w * np.minimum(mid * short, 1.0)).sum() < need:
            lo = mid
        else:
            hi = mid
    return 1.0 - np.minimum(0.5 * (lo + hi) * short, 1.0)


def calibrate_levels(
    engine: CostEngine,
    matrix: DemandMatrix,
    chosen_ss: np.ndarray,
    chosen_fill: np.ndarray,
    settings: DecideSettings,
    exclude: np.ndarray | None = None,
) -> CalibratedChoice | None:
    """Calibrated safety stocks for the eligible items, or None (module docstring).
    `exclude` [n] bool: items left out (held at no buffer by rule: no demand, obsolete)."""
    r = engine.risk
    mask = eligible(engine, exclude)
    rows = np.flatnonzero(mask)
    if rows.size < settings.calibration_min_items or matrix.quantity.shape[1] < max(
        settings.calibration_min_periods, 4
    ):
        return None
    pos = {str(k): j for j, k in enumerate(matrix.item_ids)}
    history = matrix.quantity[[pos[str(r.item_ids[i])] for i in rows]]
    pools = r.lead_time_periods("normal")
    lead = np.array([int(np.median(pools[i])) if pools[i].size else 0 for i in rows])
    weight = r.demand_mean[rows] * r.unit_cost[rows]
    if weight.sum() <= 0:
        weight = r.demand_mean[rows]
    target = float(np.clip((chosen_fill[rows] * weight).sum() / weight.sum(), *TARGET_RANGE))
    value = np.where(r.holding_per_year[rows] > 0, r.holding_per_year[rows], r.unit_cost[rows])
    validation = history.shape[1] // 2
    levels = calibrated_order_up_to(history, lead, value, target, validation_periods=validation)
    cycle = r.demand_mean[rows] * r.protection_periods("normal")[rows]
    # (r,Q) orders at position <= r and lands in (r, r + Q]: r = S - Q gives base stock S
    lot = np.where(r.policy[rows] == POLICY_ORDER_UP_TO, 0.0, r.order_quantity[rows])
    ss = np.maximum(levels.order_up_to - lot - cycle, 0.0)
    layer_rows = r.layer_rows["normal"]
    at = np.searchsorted(layer_rows, rows)
    all_ss = np.asarray(chosen_ss, dtype=float)[layer_rows].copy()
    all_ss[at] = ss
    perf = engine.evaluate("normal", all_ss)
    engine.release("normal")
    annual = r.demand_mean[rows] * r.periods_per_year
    # the calibration guarantees the aggregate; each item's share of the shortfall is its own
    # under the calibrated model at its level (module docstring, "Figures")
    fill = apportioned_fill(expected_fill(levels.model, levels.order_up_to), weight, target)
    short = (1.0 - fill) * annual
    performance = Performance(
        safety_stock=ss,
        mean_on_hand=perf.mean_on_hand[at, 0],
        short_per_year=short,
        fill_rate=fill,
        stockout_periods_per_year=perf.stockout_periods_per_year[at, 0],
        holding_cost=perf.holding_cost[at, 0],
        stockout_cost=short * r.stockout_cost[rows],
        fill_rate_se=perf.fill_rate_se[at, 0],
        total_cost_se=perf.total_cost_se[at, 0],
    )
    return CalibratedChoice(rows, ss, performance, target, levels, validation)


__all__ = ["CalibratedChoice", "apportioned_fill", "calibrate_levels", "eligible"]
