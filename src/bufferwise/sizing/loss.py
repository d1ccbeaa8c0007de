"""Loss functions: expected units short E[(X - x)^+] for the lead-time-demand distributions.

Normal (first and second order), Poisson, negative binomial, any discrete pmf, and gamma.
Sources: Hadley & Whitin (1963); Silver, Pyke & Thomas, *Inventory and Production Management in
Supply Chains* (4th ed., 2017), appendix B; Snyder & Shen, *Fundamentals of Supply Chain Theory*
(2nd ed., 2019), section C.3.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from bufferwise.sizing._validate import finite, invalid, non_negative, positive, scalar_or_array

ArrayLike = float | np.ndarray


def standard_normal_loss(z: ArrayLike) -> ArrayLike:
    """G(z) = phi(z) - z (1 - Phi(z)): expected units short per unit sigma [dimensionless].

    E.g. G(1.3) = 0.045528 (Snyder & Shen, table C.3).
    """
    zz = finite("z", z)
    return scalar_or_array(stats.norm.pdf(zz) - zz * stats.norm.sf(zz))


def standard_normal_second_loss(z: ArrayLike) -> ArrayLike:
    """G2(z) = 1/2 [(z^2 + 1)(1 - Phi(z)) - z phi(z)]: E[((Z - z)^+)^2] / 2."""
    zz = finite("z", z)
    return scalar_or_array(0.5 * ((zz * zz + 1.0) * stats.norm.sf(zz) - zz * stats.norm.pdf(zz)))


def normal_loss(x: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> ArrayLike:
    """E[(X - x)^+] [units] for X ~ N(mean, sd^2); sd = 0 gives (mean - x)^+."""
    xx, mm, ss = finite("x", x), finite("mean", mean), non_negative("sd", sd)
    safe = np.where(ss > 0, ss, 1.0)
    z = (xx - mm) / safe
    value = np.where(
        ss > 0, safe * (stats.norm.pdf(z) - z * stats.norm.sf(z)), np.maximum(mm - xx, 0.0)
    )
    return scalar_or_array(value)


def normal_second_loss(x: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> ArrayLike:
    """n2(x) = E[((X - x)^+)^2] / 2 [units^2] for X ~ N(mean, sd^2) (Snyder & Shen (C.23))."""
    xx, mm, ss = finite("x", x), finite("mean", mean), positive("sd", sd)
    z = (xx - mm) / ss
    return scalar_or_array(ss * ss * np.asarray(standard_normal_second_loss(z)))


def inverse_standard_normal_loss(target: ArrayLike) -> ArrayLike:
    """The k with G(k) = target (target > 0); G is strictly decreasing, solved by bisection."""
    tt = positive("target", target)
    lo = np.full(tt.shape, -40.0)
    hi = np.full(tt.shape, 40.0)
    # G(z) ~ -z for very negative z, so the bracket must reach below -target.
    lo = np.minimum(lo, -tt - 1.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = stats.norm.pdf(mid) - mid * stats.norm.sf(mid)
        above = g > tt
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
        if np.all(hi - lo < 1e-13 * np.maximum(1.0, np.abs(mid))):
            break
    return scalar_or_array(0.5 * (lo + hi))


def poisson_loss(x: ArrayLike, mean: ArrayLike) -> ArrayLike:
    """E[(X - x)^+] [units] for X ~ Poisson(mean), integer or real x (piecewise linear in x).

    n(x) = (mean - x)(1 - F(x)) + mean f(x) at integers (Snyder & Shen (C.37)); between integers
    the loss is linear.
    """
    xx, mm = finite("x", x), non_negative("mean", mean)
    lo = np.floor(xx)
    frac = xx - lo

    def at(k: np.ndarray) -> np.ndarray:
        kk = np.maximum(k, -1.0)
        value = (mm - kk) * stats.poisson.sf(kk, mm) + mm * stats.poisson.pmf(kk, mm)
        return np.where(k < 0, mm - k, value)

    value = (1.0 - frac) * at(lo) + frac * at(lo + 1.0)
    return scalar_or_array(value)


def discrete_loss(x: ArrayLike, pmf: np.ndarray) -> ArrayLike:
    """E[(X - x)^+] [units] for X with pmf[k] = P(X = k), k = 0..len(pmf)-1 (pmf sums to ~1)."""
    p = non_negative("pmf", pmf).ravel()
    if p.size == 0 or abs(p.sum() - 1.0) > 1e-6:
        raise invalid("pmf", pmf, "must be a probability mass function over 0, 1, 2, ... (sum 1)")
    xx = finite("x", x)
    k = np.arange(p.size, dtype=float)
    flat = np.atleast_1d(xx).ravel()
    value = (np.maximum(k[None, :] - flat[:, None], 0.0) * p[None, :]).sum(axis=1)
    return scalar_or_array(value.reshape(np.shape(xx)))


def negative_binomial_parameters(mean: ArrayLike, sd: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(n, p) of scipy's nbinom with the given mean and sd (needs variance > mean)."""
    mm, ss = positive("mean", mean), positive("sd", sd)
    var = ss * ss
    if np.any(var <= mm):
        raise invalid("sd", sd, "must exceed sqrt(mean) for a negative binomial (over-dispersion)")
    p = mm / var
    return mm * p / (1.0 - p), p


def negative_binomial_loss(x: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> ArrayLike:
    """E[(X - x)^+] [units] for a negative binomial X with the given mean and sd.

    n(x) = mean - x + sum_{k < x} (x - k) f(k) at integers, linear in between.
    """
    xx = finite("x", x)
    n, p = negative_binomial_parameters(mean, sd)
    mm = np.asarray(mean, dtype=float)
    xb, nb, pb, mb = np.broadcast_arrays(xx, n, p, mm)
    out = np.empty(xb.shape)
    for idx in np.ndindex(xb.shape):
        xi = float(xb[idx])
        if xi <= 0:
            out[idx] = mb[idx] - xi
            continue
        top = int(np.floor(xi)) + 1
        k = np.arange(top + 1, dtype=float)
        f = stats.nbinom.pmf(k, nb[idx], pb[idx])

        def at(
            level: float, k: np.ndarray = k, f: np.ndarray = f, mean_i: float = float(mb[idx])
        ) -> float:
            below = k < level
            return mean_i - level + float(((level - k[below]) * f[below]).sum())

        lo = np.floor(xi)
        out[idx] = (1.0 - (xi - lo)) * at(lo) + (xi - lo) * at(lo + 1.0)
    return scalar_or_array(out)


def gamma_loss(x: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> ArrayLike:
    """E[(X - x)^+] [units] for X ~ gamma with the given mean and sd (shape k, scale theta).

    n(x) = k theta (1 - F_{k+1}(x)) - x (1 - F_k(x)) for x >= 0, mean - x below 0.
    """
    xx, mm, ss = finite("x", x), positive("mean", mean), positive("sd", sd)
    shape = (mm / ss) ** 2
    scale = ss * ss / mm
    pos = np.maximum(xx, 0.0)
    value = mm * special.gammaincc(shape + 1.0, pos / scale) - pos * special.gammaincc(
        shape, pos / scale
    )
    value = np.where(xx < 0, mm - xx, value)
    return scalar_or_array(value)


__all__ = [
    "discrete_loss",
    "gamma_loss",
    "inverse_standard_normal_loss",
    "negative_binomial_loss",
    "negative_binomial_parameters",
    "normal_loss",
    "normal_second_loss",
    "poisson_loss",
    "standard_normal_loss",
    "standard_normal_second_loss",
]
