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

**Horizon** (``horizon``, ``age_model``): the inner replays run ``validation_periods``, the levels
may stay frozen longer. With an age model the fill's change with the age of a frozen policy is
measured inside the history too (`age_origins`: a cut at every period from the middle of the
history on, each fit at least as long as the replay after it; the levels fitted before each cut
are replayed to the end of the history), and the units short per age a (periods since the cut)
are modelled as demand x exp(alpha_cut + beta a) (``"exponential"``: Poisson, one level per cut,
one common slope beta, `age_decay`) or as a shortfall rate alpha_cut + beta a (``"linear"``).
The inner replays are then asked for the fill that meets the target averaged over ages
0 .. horizon - 1 once the measured slope is extrapolated (`inner_target`; exponential:
inner shortfall = (1 - target) x mean_{a<validation} e^{beta a} / mean_{a<horizon} e^{beta a}).
The slope depends on the knob it is measured at: knob and slope are iterated to a fixed point
(slope at the knob, knob for the slope). With the horizon equal to the validation window (or
None) nothing changes.

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
from bufferwise.kernels.replay import replay_base_stock, replay_base_stock_by_period
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
AgeModel = Literal["none", "exponential", "linear"]
AGE_MODELS: tuple[str, ...] = ("none", "exponential", "linear")

#: highest quantile level any item is stocked to (keeps a zero-value item finite)
MAX_SERVICE = 0.99999
_X_LOW, _X_HIGH = -40.0, 40.0
#: most cuts the age model replays (evenly spaced; each costs a refit and a replay per knob);
#: None = every period from the middle of the history on
AGE_CUTS: int | None = None
#: most rounds of the age model's fixed point (slope at the knob, knob for the slope), and the
#: knob change that ends it
AGE_ROUNDS = 20
_AGE_TOLERANCE = 1e-3


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
    horizon            periods the calibration aimed the fill at (the validation window's
                       length when no age correction applies)
    age_decay          beta of the age model at the calibrated knob (per period of age; 0 when
                       no age correction applies)
    horizon_fill       the fill over `horizon` the calibration predicts at the knob (the pooled
                       inner fill when no age correction applies; nan when not calibrated)
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
    horizon: int = 0
    age_decay: float = 0.0
    horizon_fill: float = float("nan")


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


def short_by_period(
    demand: np.ndarray, level: np.ndarray, lead: np.ndarray, warm: np.ndarray
) -> np.ndarray:
    """Units short per item and period of base-stock levels replayed with the steady-state warm
    start: `kernels.replay.replay_base_stock_by_period`. demand (n, T) without NaN; level (n,);
    lead (n,) whole periods; warm (n, H) the demand before the replay."""
    return replay_base_stock_by_period(demand, level, np.asarray(lead).astype(np.int64), warm)


def age_decay(
    short: list[np.ndarray], demand: list[np.ndarray], age_model: str = "exponential"
) -> float:
    """Common slope beta of the shortfall with the age of a frozen policy, one level per cut.

    short, demand: per cut, units short and demanded per age 0, 1, ... (summed over items).
    "exponential": units short ~ Poisson(demand_a exp(alpha_cut + beta a)), beta by Newton on
    the profile likelihood (alpha_cut at its optimum for each beta); "linear": shortfall rate
    short_a / demand_a = alpha_cut + beta a, least squares weighted by demand. Cuts without a
    unit short (exponential) or with fewer than two ages with demand carry no information on
    beta; 0 when none does."""
    pairs = [
        (np.asarray(sh, dtype=np.float64), np.asarray(dm, dtype=np.float64))
        for sh, dm in zip(short, demand, strict=True)
    ]
    if age_model == "linear":
        num = den = 0.0
        for sh, dm in pairs:
            ok = dm > 0
            if ok.sum() < 2:
                continue
            a = np.arange(len(dm))[ok].astype(np.float64)
            wt = dm[ok]
            r = sh[ok] / wt
            a_bar = float((wt * a).sum() / wt.sum())
            r_bar = float((wt * r).sum() / wt.sum())
            num += float((wt * (a - a_bar) * (r - r_bar)).sum())
            den += float((wt * (a - a_bar) ** 2).sum())
        return num / den if den > 0 else 0.0
    beta = 0.0
    for _ in range(60):
        grad = curv = 0.0
        for sh, dm in pairs:
            if sh.sum() <= 0 or dm.sum() <= 0:
                continue
            a = np.arange(len(dm), dtype=np.float64)
            e = dm * np.exp(beta * a)
            mu = e * (sh.sum() / e.sum())
            a_bar = float((mu * a).sum() / mu.sum())
            grad += float((sh * a).sum() - (mu * a).sum())
            curv += float((mu * (a - a_bar) ** 2).sum())
        if curv <= 0:
            return 0.0
        step = float(np.clip(grad / curv, -0.5, 0.5))
        beta += step
        if abs(step) < 1e-10:
            break
    return beta


def horizon_shortfall(
    inner_shortfall: float, beta: float, validation: int, horizon: int, age_model: str
) -> float:
    """Shortfall (1 - fill) over ages 0 .. horizon - 1 predicted from the one measured over ages
    0 .. validation - 1 and the age slope beta (`age_decay`): exponential, the ratio of the
    mean of e^(beta a) over the two spans; linear, plus beta (horizon - validation) / 2.
    Clipped to [0, 1]."""
    if age_model == "none" or horizon == validation:
        return inner_shortfall
    if age_model == "linear":
        out = inner_shortfall + beta * (horizon - validation) / 2.0
    else:
        out = (
            inner_shortfall
            * float(np.exp(beta * np.arange(horizon)).mean())
            / float(np.exp(beta * np.arange(validation)).mean())
        )
    return float(min(max(out, 0.0), 1.0))


def inner_target(
    target: float, beta: float, validation: int, horizon: int, age_model: str
) -> float:
    """The fill the inner replays (ages 0 .. validation - 1) must deliver for the fill over
    ages 0 .. horizon - 1 to meet `target` under the age slope beta (`horizon_shortfall`
    inverted). Clipped to [0, 1]."""
    if age_model == "none" or horizon == validation:
        return target
    if age_model == "linear":
        short = (1.0 - target) - beta * (horizon - validation) / 2.0
    else:
        short = (
            (1.0 - target)
            * float(np.exp(beta * np.arange(validation)).mean())
            / float(np.exp(beta * np.arange(horizon)).mean())
        )
    return float(min(max(1.0 - short, 0.0), 1.0))


def _bisect(fill_at: Callable[[float], float], target: float, iterations: int = 50) -> float:
    lo, hi = _X_LOW, _X_HIGH
    if fill_at(hi) < target:
        return hi
    if fill_at(lo) >= target:
        return lo
    return _narrow(fill_at, target, lo, hi, iterations=iterations)


def _narrow(
    fill_at: Callable[[float], float],
    target: float,
    lo: float,
    hi: float,
    *,
    iterations: int | None = None,
    tol: float = 0.0,
) -> float:
    """Halve [lo, hi] (fill_at(lo) < target <= fill_at(hi)) `iterations` times, or until it
    is `tol` wide; the upper end."""
    done = 0
    while hi - lo > tol and (iterations is None or done < iterations):
        mid = 0.5 * (lo + hi)
        if fill_at(mid) >= target:
            hi = mid
        else:
            lo = mid
        done += 1
    return hi


def age_origins(n_periods: int, max_cuts: int | None = AGE_CUTS) -> list[int]:
    """Cuts of the age model: every period from the middle of the history (each fit at least
    as long as the replay after it) to two periods before its end; at most `max_cuts`, evenly
    spaced back from the last, when given."""
    first, last = (n_periods + 1) // 2, n_periods - 2
    if last < first:
        return []
    count = last - first + 1
    step = 1 if max_cuts is None else max(-(-count // max(max_cuts, 1)), 1)
    return list(range(last, first - 1, -step))[::-1]


def _bisect_near(
    fill_at: Callable[[float], float], target: float, x0: float, tol: float = 1e-6
) -> float:
    """`_bisect` started from a bracket around x0 (the previous knob of a fixed point): the
    bracket doubles until it holds the crossing or reaches [_X_LOW, _X_HIGH]."""
    width = 0.5
    while True:
        lo, hi = max(x0 - width, _X_LOW), min(x0 + width, _X_HIGH)
        f_lo, f_hi = fill_at(lo), fill_at(hi)
        if f_hi < target and hi >= _X_HIGH:
            return hi
        if f_lo >= target and lo <= _X_LOW:
            return lo
        if f_lo < target <= f_hi:
            break
        width *= 4.0
    return _narrow(fill_at, target, lo, hi, tol=tol)


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
    n_origins: int = 4,
    origin_half_life: float | None = 1.0,
    horizon: int | None = None,
    age_model: AgeModel = "exponential",
    age_cuts: int | None = AGE_CUTS,
    age_rounds: int = AGE_ROUNDS,
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
    validation_periods  periods after each inner cut (default: a quarter of the history)
    n_origins           inner cuts (rolling origin; default 4, each a quarter of the
                        validation window before the next, each inner fit at least as long as
                        the validation window)
    origin_half_life    weight the inner origins toward the latest one: origin j cuts back
                        (0 = latest) counts 0.5 ** (j / origin_half_life) in the pooled fill
                        (its units short and demanded alike); None = equal weights; 1 (the
                        default since round 3) = each origin counts half the next later one
                        (docs/decision-quality.md, "Tried in round 2", "Tried in round 3")
    horizon             periods the levels will stay in force (in a backtest, the length of
                        the replayed period, never its demand); None = validation_periods (no
                        age correction)
    age_model           how the fill of a frozen policy changes with its age, measured inside
                        the history and extrapolated from the validation window to `horizon`
                        (module docstring, "Horizon"): "exponential" (the default since round
                        3: units short ~ e^(beta age)), "linear" (shortfall rate linear in age)
                        or "none" (no correction)
    age_cuts            most cuts of the age model (`age_origins`); None = every period from
                        the middle of the history on
    age_rounds          most rounds of the knob / slope fixed point (1 = the slope measured at
                        the knob the inner replays ask for, used once)
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
    if age_model not in AGE_MODELS:
        raise InvalidInput(f"age_model {age_model!r} is not one of {', '.join(AGE_MODELS)}")
    if horizon is not None and not horizon >= 1:
        raise InvalidInput(f"horizon must be >= 1 period, got {horizon}")
    if origin_half_life is not None and not origin_half_life > 0:
        raise InvalidInput(f"origin_half_life must be > 0 origins, got {origin_half_life}")
    start = 0
    group_knobs: dict[str, float] = {}
    if calibrate:
        v = validation_periods if validation_periods is not None else max(h // 4, 1)
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
        hz = v if horizon is None else int(horizon)
        if age_cuts is not None and age_cuts < 1:
            raise InvalidInput(f"age_cuts must be >= 1 or None, got {age_cuts}")
        age_at = age_origins(h, age_cuts) if age_model != "none" and hz != v else []
        age_models = [protection_demand(q[:, :c], lead, **options) for c in age_at]  # type: ignore[arg-type]
        age_quantiles = [
            _quantiles(m, q[:, :c], lead, distribution, n_samples, rng, 1.0)
            for m, c in zip(age_models, age_at, strict=True)
        ]
        labels: list[np.ndarray] = []
        age_labels: list[np.ndarray] = []
        if group_by != "none":
            labels = [_group_labels(m, group_by) for m in models]
            age_labels = [_group_labels(m, group_by) for m in age_models]

        def replayed(x: float, group: str | None = None) -> tuple[float, np.ndarray]:
            """Pooled replayed fill over the origins and the fill at each (of the items of
            `group`, or all)."""
            short = demanded = 0.0
            fills = np.empty(len(cuts))
            for j, (qf, w, warm) in enumerate(zip(quantiles, windows, warms, strict=True)):
                sel = slice(None) if group is None else labels[j] == group
                lv = _service_levels(x, cost, allocation, max_service)
                s = qf(lv)[sel]
                ww = w[sel]
                s_short = float(replay_base_stock(ww, s, lead_i[sel], warm[sel])[0].sum())
                s_demand = float(ww.sum())
                short += origin_weight[j] * s_short
                demanded += origin_weight[j] * s_demand
                fills[j] = 1.0 - s_short / s_demand if s_demand > 0 else 1.0
            return (1.0 - short / demanded if demanded > 0 else 1.0), fills

        def slope(x: float, group: str | None = None) -> float:
            """Age slope of the fill at knob x (`age_decay` over the age cuts)."""
            lv = _service_levels(x, cost, allocation, max_service)
            by_age_short, by_age_demand = [], []
            for k, (qf, c) in enumerate(zip(age_quantiles, age_at, strict=True)):
                sel = slice(None) if group is None else age_labels[k] == group
                ww = clean[sel, c:]
                by_age = short_by_period(ww, qf(lv)[sel], lead_i[sel], clean[sel, :c])
                by_age_short.append(by_age.sum(axis=0))
                by_age_demand.append(ww.sum(axis=0))
            return age_decay(by_age_short, by_age_demand, age_model)

        def solve(group: str | None = None) -> tuple[float, np.ndarray, float, float]:
            """Knob, fills per origin, age slope and predicted fill over the horizon. With the
            age model: the knob meeting the target in the inner replays, then (fixed point, at
            most `age_rounds` times) the age slope at that knob and the knob meeting the
            inner fill that slope asks for."""
            x = _bisect(lambda y: replayed(y, group)[0], target)
            beta = 0.0
            for _ in range(age_rounds if age_at else 0):
                beta = slope(x, group)
                asked = inner_target(target, beta, v, hz, age_model)
                new = _bisect_near(lambda y: replayed(y, group)[0], asked, x)
                done = abs(new - x) < _AGE_TOLERANCE
                x = new
                if done:
                    break
            inner, fills = replayed(x, group)
            return x, fills, beta, 1.0 - horizon_shortfall(1.0 - inner, beta, v, hz, age_model)

        knob, validation, beta, predicted = solve()
        reached = predicted >= target - 1e-9
        if group_by != "none":
            for g in sorted({str(x) for lab in labels for x in lab} - {""}):
                masks = [lab == g for lab in labels]
                if sum(float(w[mk].sum()) for w, mk in zip(windows, masks, strict=True)) <= 0:
                    continue  # no validation demand in this group: it keeps the pooled knob
                group_knobs[g] = solve(g)[0]
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
        hz, beta, predicted = 0, 0.0, float("nan")
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
        horizon=hz,
        age_decay=float(beta),
        horizon_fill=float(predicted),
    )


__all__ = [
    "AGE_CUTS",
    "AGE_MODELS",
    "AGE_ROUNDS",
    "ALLOCATIONS",
    "DISTRIBUTIONS",
    "GROUPINGS",
    "MAX_SERVICE",
    "CalibratedLevels",
    "age_decay",
    "age_origins",
    "calibrated_order_up_to",
    "expected_fill",
    "horizon_shortfall",
    "inner_origins",
    "inner_target",
    "short_by_period",
]
