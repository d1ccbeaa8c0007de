"""Order-up-to levels whose promised fill rate is the fill rate delivered out of sample.

`calibrated_order_up_to(history, lead_periods, unit_value, target)` sizes a portfolio of items
reviewed every period (base stock, backorders) so that the *aggregate* unit fill rate (units
filled / units demanded over all items) meets `target` on demand it has not seen:

1. **Model** (`sizing.pooled.protection_demand`): per item, demand over the protection
   interval P = L + 1 (gamma with the item's moments plus the variance of its estimated rate;
   silent items at the in-window awakening rate), or (``distribution="bootstrap"``) Willemain
   bootstrap samples of it.
2. **Allocation** of stock across items by one knob x:
   * ``"portfolio"`` (marginal analysis): item i is stocked to the critical ratio
     lambda / (lambda + c_i) of its protection demand, lambda = exp(x), c_i = its unit value.
     This is the Lagrangian solution of "least inventory value for a given expected number of
     units short": a unit of stock goes where it buys the most fill per unit of money, so cheap
     items get high service and dear ones lower service;
   * ``"per_item"``: every item at the same quantile level sigmoid(x) (the usual per-item
     service level).
3. **Calibration, out of sample, inside the fitting data** (rolling origin): the history is
   cut at inner origins (`inner_origins`); at each, the model is fitted on the periods before
   the cut and the levels are replayed on the ``validation_periods`` after it, on the real
   demand (`kernels.replay`, as `simulate.replay_order_up_to` with a warm start). The knob x is
   set, by bisection, so that the pooled replayed aggregate fill over the origins equals the
   target: a conformal-style correction, the model's own fill promise is not trusted, the knob
   that delivered the target on held-out fitting data is. ``group_by`` calibrates one knob per
   group of items instead.
4. The model is refitted on the whole history and the calibrated knob applied to it.

Nothing but `history` is read: what comes after it (the test period of a backtest) cannot
reach the levels. ``calibrate=False`` instead sets x so that the model's *expected* aggregate
fill (gamma loss functions, docs/sizing.md worked check) equals the target: the uncalibrated
promise, kept to measure what calibration buys (docs/decision-quality.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from bufferwise.errors import InvalidInput
from bufferwise.kernels.replay import replay_base_stock
from bufferwise.sizing.loss import gamma_loss
from bufferwise.sizing.pooled import (
    ProtectionDemand,
    protection_demand,
    protection_demand_quantile,
    protection_demand_samples,
)

Allocation = Literal["portfolio", "per_item"]
ALLOCATIONS: tuple[str, ...] = ("portfolio", "per_item")
Distribution = Literal["gamma", "bootstrap"]
DISTRIBUTIONS: tuple[str, ...] = ("gamma", "bootstrap")
Grouping = Literal["none", "class", "active_class", "silent"]
GROUPINGS: tuple[str, ...] = ("none", "class", "active_class", "silent")

#: highest quantile level any item is stocked to (keeps a zero-value item finite)
MAX_SERVICE = 0.99999
_X_LOW, _X_HIGH = -40.0, 40.0


@dataclass(frozen=True, slots=True)
class CalibratedLevels:
    """Result of `calibrated_order_up_to`.

    order_up_to        (n,) base-stock level S per item [units]
    service_level      (n,) quantile level of each item's protection demand behind S
    group_knobs        group label -> its own calibrated x (group_by), else empty
    knob               the calibrated x (portfolio: log lambda in unit-value units; per item:
                       the logit of the common service level)
    allocation         "portfolio" or "per_item"
    calibrated         whether x comes from the rolling-origin replays (else from the model)
    origins            inner cut periods used for calibration (empty when not calibrated)
    validation_fill    replayed aggregate fill at each origin with the calibrated knob
    validation_reached whether the pooled inner replays reached the target at all (False: even
                       every item at `max_service` fell short, the knob sits at its ceiling)
    expected_fill      the model's own expected aggregate fill at the chosen levels
    model              the protection-demand model fitted on the whole history
    """

    order_up_to: np.ndarray
    service_level: np.ndarray
    knob: float
    group_knobs: dict[str, float]
    allocation: str
    calibrated: bool
    origins: np.ndarray
    validation_fill: np.ndarray
    validation_reached: bool
    expected_fill: float
    model: ProtectionDemand


@dataclass(frozen=True, slots=True)
class _Quantiles:
    """Levels of one fitted window: gamma quantiles of the model, or (bootstrap) quantiles of
    the bootstrap samples for items with demand in the window (silent items keep the gamma
    model with the awakening rate)."""

    model: ProtectionDemand
    samples_p: np.ndarray | None = None
    samples_l: np.ndarray | None = None
    scale: float = 1.0

    def __call__(self, probability: np.ndarray) -> np.ndarray:
        out = protection_demand_quantile(self.model, probability)
        if self.samples_p is None:
            return out
        n_s = self.samples_p.shape[1]
        k = np.clip(np.ceil(probability * n_s).astype(np.int64) - 1, 0, n_s - 1)
        boot = self.samples_p[np.arange(len(k)), k] * self.scale
        if self.model.integer:
            boot = np.ceil(boot - 1e-9)
        return np.where(self.model.silent, out, boot)

    def expected_fill(self, order_up_to: np.ndarray) -> np.ndarray:
        gamma = expected_fill(self.model, order_up_to)
        if self.samples_p is None or self.samples_l is None:
            return gamma
        s = np.asarray(order_up_to, dtype=np.float64)[:, None]
        short = np.maximum(self.samples_p - s, 0.0).mean(axis=1) - np.maximum(
            self.samples_l - s, 0.0
        ).mean(axis=1)
        rate = self.samples_p.mean(axis=1) / self.model.periods
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = np.where(rate > 0, 1.0 - np.maximum(short, 0.0) / rate, 1.0)
        return np.where(self.model.silent, gamma, np.clip(boot, 0.0, 1.0))


def _rescaled(model: ProtectionDemand, window: np.ndarray) -> ProtectionDemand:
    """The model with every item's demand scaled by the portfolio's realised level change:
    (total demand per period in `window`) / (total modelled rate)."""
    modelled = float(model.rate.sum())
    realised = float(window.sum()) / max(window.shape[1], 1)
    if modelled <= 0 or realised <= 0:
        return model
    rho = realised / modelled
    return replace(model, rate=model.rate * rho, mean=model.mean * rho, sd=model.sd * rho)


def _quantiles(
    model: ProtectionDemand,
    window: np.ndarray,
    lead: np.ndarray,
    distribution: str,
    n_samples: int,
    rng: np.random.Generator,
    scale: float,
) -> _Quantiles:
    if distribution == "gamma":
        return _Quantiles(model)
    p, lt = protection_demand_samples(window, lead, n_samples=n_samples, seed=rng)
    return _Quantiles(model, p, lt, scale)


def _group_labels(model: ProtectionDemand, group_by: str) -> np.ndarray:
    """Group label per item; "" = no group of its own (keeps the pooled knob)."""
    if group_by == "class":
        return np.asarray(model.demand_class).astype(str)
    if group_by == "active_class":
        return np.where(model.silent, "", np.asarray(model.demand_class).astype(str))
    return np.where(model.silent, "silent", "active")


def _service_levels(
    x: float | np.ndarray, cost: np.ndarray, allocation: str, max_service: float = MAX_SERVICE
) -> np.ndarray:
    z = x - np.log(cost) if allocation == "portfolio" else np.full(cost.shape, x)
    return np.minimum(0.5 * (1.0 + np.tanh(0.5 * z)), max_service)


def expected_fill(model: ProtectionDemand, order_up_to: np.ndarray) -> np.ndarray:
    """Expected fill per item of base-stock levels under the model: units short per period
    n_{L+1}(S) - n_L(S) (docs/sizing.md, worked check), gamma loss functions."""
    s = np.asarray(order_up_to, dtype=np.float64)
    rate = model.rate
    out = np.ones_like(rate)
    pos = model.mean > 0
    if not pos.any():
        return out
    p = model.periods[pos]
    m_p = model.mean[pos]
    sd_p = np.maximum(model.sd[pos], 1e-9)
    short = np.asarray(gamma_loss(s[pos], m_p, sd_p), dtype=np.float64)
    lead = p - 1.0
    has_lead = lead > 0
    if has_lead.any():
        frac = lead[has_lead] / p[has_lead]
        m_l = m_p[has_lead] * frac
        sd_l = sd_p[has_lead] * np.sqrt(frac)
        short_l = np.asarray(gamma_loss(s[pos][has_lead], m_l, sd_l), dtype=np.float64)
        short[has_lead] = short[has_lead] - short_l
    out[pos] = 1.0 - np.clip(short, 0.0, None) / rate[pos]
    return np.clip(out, 0.0, 1.0)


def _bisect(fill_at: Callable[[float], float], target: float, iterations: int = 50) -> float:
    lo, hi = _X_LOW, _X_HIGH
    if fill_at(hi) < target:
        return hi
    if fill_at(lo) >= target:
        return lo
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if fill_at(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def inner_origins(n_periods: int, validation_periods: int, n_origins: int) -> np.ndarray:
    """Inner cut periods of the rolling-origin calibration: the last one leaves
    `validation_periods` after it; earlier ones step back by a quarter of that, and every
    inner fit keeps at least `validation_periods` periods (at least one origin)."""
    if validation_periods < 1 or validation_periods >= n_periods:
        raise InvalidInput(
            f"validation_periods must be in [1, {n_periods - 1}] for a {n_periods}-period "
            f"history, got {validation_periods}"
        )
    step = max(validation_periods // 4, 1)
    cuts = [n_periods - validation_periods - j * step for j in range(max(n_origins, 1))]
    keep = [c for c in cuts if c >= min(validation_periods, n_periods - validation_periods)]
    return np.array(keep or [n_periods - validation_periods], dtype=np.int64)


def calibrated_order_up_to(
    history: np.ndarray,
    lead_periods: np.ndarray,
    unit_value: np.ndarray | None,
    target: float,
    *,
    allocation: Allocation = "portfolio",
    calibrate: bool = True,
    validation_periods: int | None = None,
    n_origins: int = 3,
    origin_half_life: float | None = None,
    shrink_periods: float = 0.0,
    half_life: float | None = None,
    rate_uncertainty: bool = True,
    awaken_silent: bool = True,
    drift: bool = False,
    sliding: bool = False,
    group_by: Grouping = "none",
    common_level: bool = False,
    distribution: Distribution = "gamma",
    n_samples: int = 1000,
    seed: int | np.random.Generator | None = None,
    max_service: float = MAX_SERVICE,
) -> CalibratedLevels:
    """Base-stock levels meeting an aggregate unit fill-rate target out of sample (module
    docstring).

    history             (n_items, n_periods) demand per period [units]; NaN = not observed
    lead_periods        (n_items,) whole periods L >= 0 (an order arrives L + 1 periods later)
    unit_value          (n_items,) value of a unit held (unit cost, or holding cost per unit and
                        period; only ratios between items matter); None = all equal
    target              aggregate unit fill rate in (0, 1)
    allocation          "portfolio" (marginal analysis) or "per_item" (one quantile level)
    calibrate           set the knob on rolling-origin replays (True) or on the model (False)
    validation_periods  periods after each inner cut (default: a third of the history)
    n_origins           inner cuts (rolling origin)
    origin_half_life    weight the inner origins toward the latest one: origin j cuts back
                        (0 = latest) counts 0.5 ** (j / origin_half_life) in the pooled fill
                        (its units short and demanded alike); None = equal weights; 1 =
                        each origin counts half the next later one (docs/decision-quality.md,
                        "Tried in round 2")
    shrink_periods, half_life, rate_uncertainty, awaken_silent, drift: `protection_demand`
                        options
    sliding             fit every inner model, and the final one, on a window of the same
                        length (the shortest inner fit), so the calibrated knob meets the same
                        estimator it was calibrated on; False = expanding windows from period 0
    group_by            calibrate one knob per group of items, each to the target: "class"
                        (the Syntetos-Boylan class of each model's window), "silent" (items
                        without demand vs the rest), "none" (one knob); a group without
                        validation demand keeps the pooled knob
    common_level        in the inner replays, scale every item's modelled demand by the
                        portfolio's realised level change over the validation window, so the
                        knob corrects item-level miscalibration only and not the one common
                        shock the inner windows happened to see (it will not repeat on cue)
    distribution        "gamma" (moments of `protection_demand`) or "bootstrap" (Willemain
                        bootstrap with jitter, `protection_demand_samples`, `n_samples` per
                        item, for items with demand in the window; random: `seed`)
    max_service         highest quantile level of any item (keeps zero-value items finite)
    """
    if not 0.5 <= max_service < 1.0:
        raise InvalidInput(f"max_service must be in [0.5, 1), got {max_service}")
    q = np.asarray(history, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] < 2:
        raise InvalidInput(f"history must be (items, periods >= 2), got shape {q.shape}")
    n, h = q.shape
    if not 0.0 < target < 1.0:
        raise InvalidInput(f"target must be a fill rate in (0, 1), got {target}")
    if allocation not in ALLOCATIONS:
        raise InvalidInput(f"allocation {allocation!r} is not one of {', '.join(ALLOCATIONS)}")
    lead = np.asarray(lead_periods, dtype=np.float64).reshape(-1)
    if lead.shape != (n,) or (lead < 0).any() or (lead % 1 != 0).any():
        raise InvalidInput(f"lead_periods: {n} whole numbers of periods >= 0 expected")
    if unit_value is None:
        cost = np.ones(n)
    else:
        cost = np.asarray(unit_value, dtype=np.float64).reshape(-1)
        if cost.shape != (n,) or not np.isfinite(cost).all() or (cost < 0).any():
            raise InvalidInput(f"unit_value: {n} finite values >= 0 expected")
        positive = cost[cost > 0]
        floor = 1e-3 * float(np.median(positive)) if positive.size else 1.0
        cost = np.maximum(cost, floor)
    options = {
        "shrink_periods": shrink_periods,
        "half_life": half_life,
        "rate_uncertainty": rate_uncertainty,
        "awaken_silent": awaken_silent,
        "drift": drift,
    }
    if distribution not in DISTRIBUTIONS:
        raise InvalidInput(
            f"distribution {distribution!r} is not one of {', '.join(DISTRIBUTIONS)}"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if group_by not in GROUPINGS:
        raise InvalidInput(f"group_by {group_by!r} is not one of {', '.join(GROUPINGS)}")
    if origin_half_life is not None and not origin_half_life > 0:
        raise InvalidInput(f"origin_half_life must be > 0 origins, got {origin_half_life}")
    start = 0
    group_knobs: dict[str, float] = {}
    if calibrate:
        v = validation_periods if validation_periods is not None else max(h // 3, 1)
        cuts = inner_origins(h, v, n_origins)
        origin_weight = (
            np.ones(len(cuts))
            if origin_half_life is None
            else 0.5 ** (np.arange(len(cuts)) / origin_half_life)
        )
        width = int(cuts.min()) if sliding else 0
        starts = [c - width if sliding else 0 for c in cuts]
        models = [
            protection_demand(q[:, a:c], lead, **options)  # type: ignore[arg-type]
            for a, c in zip(starts, cuts, strict=True)
        ]
        start = h - width if sliding else 0
        clean = np.ascontiguousarray(np.nan_to_num(q, nan=0.0))
        windows = [np.ascontiguousarray(clean[:, c : c + v]) for c in cuts]
        scales = [1.0] * len(cuts)
        if common_level:
            rescaled = [_rescaled(m, w) for m, w in zip(models, windows, strict=True)]
            scales = [
                float(r.rate.sum() / m.rate.sum()) if m.rate.sum() > 0 else 1.0
                for r, m in zip(rescaled, models, strict=True)
            ]
            models = rescaled
        quantiles = [
            _quantiles(m, q[:, a:c], lead, distribution, n_samples, rng, sc)
            for m, a, c, sc in zip(models, starts, cuts, scales, strict=True)
        ]
        warms = [np.ascontiguousarray(clean[:, :c]) for c in cuts]
        lead_i = lead.astype(np.int64)

        def replayed(x: float, labels: list[np.ndarray] | None = None) -> tuple[float, np.ndarray]:
            """Pooled replayed fill over the origins (of the items `labels` selects)."""
            short = demanded = 0.0
            fills = np.empty(len(cuts))
            for j, (qf, w, warm) in enumerate(zip(quantiles, windows, warms, strict=True)):
                sel = slice(None) if labels is None else labels[j]
                lv = _service_levels(x, cost, allocation, max_service)
                s = qf(lv)[sel]
                ww = w[sel]
                s_short = float(replay_base_stock(ww, s, lead_i[sel], warm[sel])[0].sum())
                s_demand = float(ww.sum())
                short += origin_weight[j] * s_short
                demanded += origin_weight[j] * s_demand
                fills[j] = 1.0 - s_short / s_demand if s_demand > 0 else 1.0
            return (1.0 - short / demanded if demanded > 0 else 1.0), fills

        knob = _bisect(lambda x: replayed(x)[0], target)
        pooled, validation = replayed(knob)
        reached = pooled >= target - 1e-9
        if group_by != "none":
            inner_labels = [_group_labels(m, group_by) for m in models]
            for g in sorted({str(x) for lab in inner_labels for x in lab} - {""}):
                masks = [lab == g for lab in inner_labels]
                if sum(float(w[mk].sum()) for w, mk in zip(windows, masks, strict=True)) <= 0:
                    continue  # no validation demand in this group: it keeps the pooled knob
                group_knobs[g] = _bisect(lambda x, mk=masks: replayed(x, mk)[0], target)  # type: ignore[misc]
    else:
        full = protection_demand(q, lead, **options)  # type: ignore[arg-type]
        final = _quantiles(full, q, lead, distribution, n_samples, rng, 1.0)
        reached = True
        cuts = np.zeros(0, dtype=np.int64)
        validation = np.zeros(0)
        weight = np.maximum(full.rate, 0.0)
        total = float(weight.sum())

        def modelled(x: float) -> float:
            s = final(_service_levels(x, cost, allocation, max_service))
            f = final.expected_fill(s)
            return float((f * weight).sum() / total) if total > 0 else 1.0

        knob = _bisect(modelled, target)
    if calibrate:
        full = protection_demand(q[:, start:], lead, **options)  # type: ignore[arg-type]
        final = _quantiles(full, q[:, start:], lead, distribution, n_samples, rng, 1.0)
    item_knob = np.full(n, knob)
    if group_knobs:
        final_labels = _group_labels(full, group_by)
        for g, x in group_knobs.items():
            item_knob[final_labels == g] = x
    levels = _service_levels(item_knob, cost, allocation, max_service)
    s = final(levels)
    weight = np.maximum(full.rate, 0.0)
    total = float(weight.sum())
    promised = float((final.expected_fill(s) * weight).sum() / total) if total > 0 else 1.0
    return CalibratedLevels(
        order_up_to=s,
        service_level=levels,
        knob=float(knob),
        group_knobs={k: float(v) for k, v in group_knobs.items()},
        allocation=allocation,
        calibrated=calibrate,
        origins=cuts,
        validation_fill=validation,
        validation_reached=reached,
        expected_fill=promised,
        model=full,
    )


__all__ = [
    "ALLOCATIONS",
    "DISTRIBUTIONS",
    "GROUPINGS",
    "MAX_SERVICE",
    "CalibratedLevels",
    "calibrated_order_up_to",
    "expected_fill",
    "inner_origins",
]
