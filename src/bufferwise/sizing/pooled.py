"""Protection-interval demand of many items from their histories, with pooling across items.

Per item, from its per-period history (NaN = not observed):

* rate   mean demand per period; optionally shrunk toward the mean of its demand class
         (``shrink_periods`` pseudo-periods of the class mean are added to the item's own),
         optionally recency-weighted (``half_life`` periods: exponential weights, a growth or
         obsolescence signal without a trend model);
* spread variance of demand per period (the item's own, ddof = 1);
* silent items (no demand in the window) borrow an *awakening* rate measured inside the
  window: the mean demand per period, in the second half of the window, of the items silent
  in its first half (and the mean second moment of those periods for their spread). Without
  it an item that never sold so far gets no stock at all, and any later demand is short.

Demand over the protection interval of a base-stock policy reviewed every period,
P = L + 1 periods (docs/sizing.md), then has

    mean = P * rate
    var  = P * var_period + P**2 * var_period / n      (n = observed periods)
                         [+ P**2 * rate**2 * d2 with ``drift``]

The second term is the uncertainty of the rate itself (the variance of the sample mean, scaled
by P**2): on long lead times an error in the rate costs P times over, which is what per-item
quantiles of past demand miss on non-stationary spare-parts demand (DESIGN.md, "Measured
facts"); d2 is the squared relative level drift measured between the window's halves
(`level_drift`). ``protection_demand_quantile`` turns the moments into levels with a gamma
distribution (non-negative, skewed like intermittent demand), rounded up to whole units when
the history is whole units. ``protection_demand_samples`` draws Willemain bootstrap samples
instead (Willemain, Smart & Schwarz 2004: periods resampled, whole-unit sizes jittered).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from bufferwise.errors import InvalidInput
from bufferwise.profile.demand import classify

#: variance floor relative to the mean (a constant demand still gets a proper gamma)
_VAR_FLOOR = 1e-6


@dataclass(frozen=True, slots=True)
class ProtectionDemand:
    """Demand over each item's protection interval P = L + 1 (module docstring).

    rate          (n,) mean demand per period [units]
    var_period    (n,) variance of demand per period [units^2]
    periods       (n,) P, periods of demand the order-up-to level covers
    mean          (n,) P * rate [units]
    sd            (n,) sd of protection-interval demand [units]
    demand_class  (n,) Syntetos-Boylan class of the item's history (profile.classify)
    silent        (n,) bool, no demand in the history (priced with the awakening rate)
    integer       whether the history holds whole units only (levels are then whole units)
    """

    rate: np.ndarray
    var_period: np.ndarray
    periods: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    demand_class: np.ndarray
    silent: np.ndarray
    integer: bool


def demand_classes(history: np.ndarray) -> np.ndarray:
    """Syntetos-Boylan class per item from a (n_items, n_periods) history (NaN = not
    observed): ADI = observed periods / non-zero periods, CV² of the non-zero sizes."""
    q = np.asarray(history, dtype=np.float64)
    obs = ~np.isnan(q)
    x = np.where(obs, q, 0.0)
    nz = (x > 0).sum(axis=1)
    n_obs = obs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(nz > 0, n_obs / np.maximum(nz, 1), np.inf)
        size_mean = np.where(nz > 0, x.sum(axis=1) / np.maximum(nz, 1), 0.0)
        size_sq = np.where(nz > 0, (x * x).sum(axis=1) / np.maximum(nz, 1), 0.0)
        size_var = np.maximum(size_sq - size_mean**2, 0.0) * np.where(
            nz > 1, nz / np.maximum(nz - 1, 1), 0.0
        )
        cv2 = np.where(size_mean > 0, size_var / np.maximum(size_mean, 1e-300) ** 2, 0.0)
    return classify(adi, cv2, nz)


def _awakening(x: np.ndarray, obs: np.ndarray) -> tuple[float, float]:
    """Mean and second moment of per-period demand, in the second half of the window, of the
    items with no demand in its first half."""
    h = x.shape[1]
    half = h // 2
    if half == 0 or h - half == 0:
        return 0.0, 0.0
    first_silent = x[:, :half].sum(axis=1) == 0
    if not first_silent.any():
        return 0.0, 0.0
    late = x[first_silent, half:]
    late_obs = obs[first_silent, half:]
    count = late_obs.sum()
    if count == 0:
        return 0.0, 0.0
    return float(late.sum() / count), float((late * late).sum() / count)


def level_drift(history: np.ndarray) -> float:
    """Squared relative drift of demand levels measured inside the window: over items with
    demand, sum[(m2 - m1)^2 - (v1/n1 + v2/n2)] / sum[((m1 + m2) / 2)^2], m and v the mean and
    variance per period of the first and second half, the subtracted term the part of the
    difference sampling noise explains; 0 when negative. A non-stationarity signal: how far an
    item's level moves from one half of the window to the next, relative to the level."""
    q = np.asarray(history, dtype=np.float64)
    h = q.shape[1]
    half = h // 2
    if half < 2 or h - half < 2:
        return 0.0
    obs = ~np.isnan(q)
    x = np.where(obs, q, 0.0)
    parts = []
    for a, b in ((0, half), (half, h)):
        n = np.maximum(obs[:, a:b].sum(axis=1), 1)
        m = x[:, a:b].sum(axis=1) / n
        v = np.maximum((x[:, a:b] ** 2).sum(axis=1) / n - m * m, 0.0) * n / np.maximum(n - 1, 1)
        parts.append((m, v, n))
    (m1, v1, n1), (m2, v2, n2) = parts
    active = (m1 + m2) > 0
    if not active.any():
        return 0.0
    num = ((m2 - m1) ** 2 - (v1 / n1 + v2 / n2))[active].sum()
    den = (((m1 + m2) / 2) ** 2)[active].sum()
    return float(max(num / den, 0.0)) if den > 0 else 0.0


def protection_demand(
    history: np.ndarray,
    lead_periods: np.ndarray,
    *,
    shrink_periods: float = 0.0,
    half_life: float | None = None,
    rate_uncertainty: bool = True,
    awaken_silent: bool = True,
    drift: bool = False,
) -> ProtectionDemand:
    """Moments of demand over P = L + 1 periods for every item (module docstring).

    history         (n_items, n_periods) [units per period]; NaN = not observed
    lead_periods    (n_items,) whole periods L >= 0
    shrink_periods  pseudo-periods of the class mean rate added to each item's own (0 = none)
    half_life       exponential recency weighting of rate and variance [periods]; None = equal
    rate_uncertainty  add the variance of the estimated rate (P**2 var / n)
    awaken_silent   price items without demand at the in-window awakening rate
    drift           add P**2 rate**2 d2, d2 the in-window level drift (`level_drift`)
    """
    q = np.asarray(history, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] == 0:
        raise InvalidInput(f"history must be (items, periods) with periods > 0, got {q.shape}")
    n_items, h = q.shape
    lead = np.asarray(lead_periods, dtype=np.float64).reshape(-1)
    if lead.shape != (n_items,):
        raise InvalidInput(f"lead_periods needs one value per item ({n_items}), got {lead.size}")
    if not np.isfinite(lead).all() or (lead < 0).any():
        raise InvalidInput("lead_periods: every lead time must be finite and >= 0")
    obs = ~np.isnan(q)
    x = np.where(obs, q, 0.0)
    if (x < 0).any():
        raise InvalidInput("history: negative quantities found (returns are kept apart)")
    integer = bool(np.all(x == np.round(x)))
    if half_life is None:
        w = np.ones(h)
    else:
        if half_life <= 0:
            raise InvalidInput(f"half_life must be > 0 periods, got {half_life}")
        w = 0.5 ** ((h - 1 - np.arange(h)) / half_life)
    ww = obs * w[None, :]
    wsum = ww.sum(axis=1)
    n_obs = obs.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(wsum > 0, (ww * x).sum(axis=1) / np.maximum(wsum, 1e-300), 0.0)
        second = np.where(wsum > 0, (ww * x * x).sum(axis=1) / np.maximum(wsum, 1e-300), 0.0)
    var = np.maximum(second - rate**2, 0.0) * np.where(n_obs > 1, n_obs / (n_obs - 1), 1.0)
    classes = demand_classes(q)
    silent = x.sum(axis=1) == 0
    if shrink_periods > 0:
        for cls in np.unique(classes[~silent]):
            members = (classes == cls) & ~silent
            target = float(rate[members].mean())
            rate[members] = (n_obs[members] * rate[members] + shrink_periods * target) / (
                n_obs[members] + shrink_periods
            )
    if awaken_silent and silent.any():
        r0, m2 = _awakening(x, obs)
        rate[silent] = r0
        var[silent] = max(m2 - r0 * r0, 0.0)
    periods = lead + 1.0
    var = np.maximum(var, _VAR_FLOOR * np.maximum(rate, 1e-12))
    total_var = periods * var
    if rate_uncertainty:
        total_var = total_var + periods**2 * var / np.maximum(n_obs, 1.0)
    if drift:
        total_var = total_var + periods**2 * rate**2 * level_drift(q)
    return ProtectionDemand(
        rate=rate,
        var_period=var,
        periods=periods,
        mean=periods * rate,
        sd=np.sqrt(total_var),
        demand_class=classes,
        silent=silent,
        integer=integer,
    )


def protection_demand_quantile(model: ProtectionDemand, probability: np.ndarray) -> np.ndarray:
    """Order-up-to levels: the `probability` quantile of each item's protection-interval demand
    (gamma with the model's mean and sd; 0 for an item with no expected demand), rounded up to
    whole units when the history is whole units."""
    p = np.broadcast_to(np.asarray(probability, dtype=np.float64), model.mean.shape)
    if ((p < 0) | (p >= 1)).any():
        raise InvalidInput("probability: every quantile level must be in [0, 1)")
    mean = model.mean
    pos = mean > 0
    out = np.zeros_like(mean)
    if pos.any():
        m = mean[pos]
        s2 = np.maximum(model.sd[pos] ** 2, _VAR_FLOOR * m)
        shape = m * m / s2
        scale = s2 / m
        out[pos] = special.gammaincinv(shape, p[pos]) * scale
    if model.integer:
        out = np.ceil(out - 1e-9)
    return out


def protection_demand_samples(
    history: np.ndarray,
    lead_periods: np.ndarray,
    *,
    n_samples: int = 1000,
    jitter: bool = True,
    seed: int | np.random.Generator | None = None,
    chunk_items: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap samples of each item's demand over P = L + 1 and over L periods.

    Each sample adds P periods drawn with replacement from the item's observed periods (the
    first L of them give the L-period sample). With ``jitter`` (Willemain, Smart & Schwarz
    2004), a drawn non-zero whole-unit size X becomes 1 + floor(X + Z sqrt(X)), Z standard
    normal, or X again when that is <= 0, so that sizes near but not equal to the past ones
    appear. Returns two (n_items, n_samples) arrays, each row sorted (zeros for an item with no
    observed period).
    """
    q = np.asarray(history, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] == 0:
        raise InvalidInput(f"history must be (items, periods) with periods > 0, got {q.shape}")
    n, _ = q.shape
    lead = np.asarray(lead_periods, dtype=np.float64).reshape(-1)
    if lead.shape != (n,) or (lead < 0).any() or (lead % 1 != 0).any():
        raise InvalidInput(f"lead_periods: {n} whole numbers of periods >= 0 expected")
    if n_samples < 1:
        raise InvalidInput(f"n_samples must be >= 1, got {n_samples}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    obs = ~np.isnan(q)
    integer = bool(np.all(np.where(obs, q, 0.0) == np.round(np.where(obs, q, 0.0))))
    # observed values first in every row (stable), NaN last
    order = np.argsort(~obs, axis=1, kind="stable")
    packed = np.take_along_axis(np.where(obs, q, 0.0), order, axis=1)
    n_obs = obs.sum(axis=1)
    lead_i = lead.astype(np.int64)
    out_p = np.zeros((n, n_samples))
    out_l = np.zeros((n, n_samples))
    for lo in range(0, n, chunk_items):
        hi = min(lo + chunk_items, n)
        p_max = int(lead_i[lo:hi].max()) + 1
        u = rng.random((hi - lo, n_samples, p_max))
        idx = np.floor(u * np.maximum(n_obs[lo:hi], 1)[:, None, None]).astype(np.int64)
        draws = np.take_along_axis(packed[lo:hi, None, :], idx.reshape(hi - lo, 1, -1), axis=2)
        draws = draws.reshape(hi - lo, n_samples, p_max)
        if jitter and integer:
            z = rng.standard_normal(draws.shape)
            jittered = 1.0 + np.floor(draws + z * np.sqrt(draws))
            draws = np.where((draws > 0) & (jittered > 0), jittered, draws)
        step = np.arange(p_max)[None, None, :]
        lead_c = lead_i[lo:hi, None, None]
        out_p[lo:hi] = np.where(step <= lead_c, draws, 0.0).sum(axis=2)
        out_l[lo:hi] = np.where(step < lead_c, draws, 0.0).sum(axis=2)
    out_p[n_obs == 0] = 0.0
    out_l[n_obs == 0] = 0.0
    out_p.sort(axis=1)
    out_l.sort(axis=1)
    return out_p, out_l


__all__ = [
    "ProtectionDemand",
    "demand_classes",
    "level_drift",
    "protection_demand",
    "protection_demand_quantile",
    "protection_demand_samples",
]
