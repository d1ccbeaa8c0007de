"""Synthetic histories shared by the calibration tests."""

from __future__ import annotations

import numpy as np


def stationary(n: int, periods: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(demand [n, periods], lead time [periods], unit value) of n stationary items: Bernoulli
    occurrences at a gamma-distributed rate, Poisson sizes, lead times 0-3 periods."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.5, size=n)
    occur = rng.random((n, periods)) < np.minimum(rate[:, None], 0.9)
    sizes = 1 + rng.poisson(2.0 * rate[:, None], size=(n, periods))
    demand = (occur * sizes).astype(float)
    lead = rng.integers(0, 4, size=n).astype(float)
    value = rng.lognormal(2.0, 1.5, size=n)
    return demand, lead, value
