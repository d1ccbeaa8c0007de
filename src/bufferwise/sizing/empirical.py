"""Empirical sizing: the lead-time-demand distribution by Monte Carlo convolution of an item's
own demand history with its observed lead times, and levels read off that distribution.

Each sample draws a protection interval P = L + R (L from the observed lead times, plus an
optional disruption delay; R the review period, 0 for continuous review) and adds P bootstrapped
per-period demands; a fractional P adds the fractional share of one more period's draw. With
``forecast_per_period`` the history holds forecast errors instead and each period's demand is
forecast + error, floored at zero. Levels are quantiles (cycle service) or the smallest level
whose expected shortage per cycle E[(X - r)^+] is at most (1 - fill rate) Q.

This is what serves intermittent, lumpy and skewed items, where the normal formulas mislead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bufferwise.kernels.inventory import lead_time_demand_kernel, pack_pools, resolve_seed
from bufferwise.sizing._validate import invalid, non_negative, positive, probability

SERVICE_TYPES = ("cycle_service", "fill_rate")
_CHUNK_CELLS = 4_000_000


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy Generator from an int, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise invalid("seed", seed, "must be an int, a numpy Generator or None")
    return np.random.default_rng(seed)


def lead_time_demand_samples(
    demand_history: np.ndarray | Sequence[float],
    lead_time_samples: np.ndarray | Sequence[float],
    *,
    review_period: float = 0.0,
    n_samples: int = 10_000,
    seed: int | np.random.Generator | None = None,
    forecast_per_period: float | None = None,
    disruption_prob: float = 0.0,
    disruption_delay_samples: np.ndarray | Sequence[float] | None = None,
) -> np.ndarray:
    """Samples [units] of demand over the protection interval of one item.

    demand_history        per-period demands [units/period] (NaN entries are dropped), or
                          forecast errors when forecast_per_period is given
    lead_time_samples     observed lead times [periods] (may be fractional, e.g. days / 7)
    review_period         [R] periods added to every lead time (0 = continuous review)
    disruption_prob       probability that a replenishment also suffers a disruption delay,
                          drawn from disruption_delay_samples [periods]
    seed                  int | numpy Generator | None
    Returns f8[n_samples].
    """
    history = np.asarray(demand_history, dtype=float).ravel()
    history = history[np.isfinite(history)]
    if history.size == 0:
        raise invalid("demand_history", demand_history, "needs at least one finite value")
    if forecast_per_period is None and np.any(history < 0):
        raise invalid("demand_history", demand_history, "must be >= 0 (returns belong elsewhere)")
    leads = non_negative("lead_time_samples", np.asarray(lead_time_samples, dtype=float)).ravel()
    if leads.size == 0:
        raise invalid("lead_time_samples", lead_time_samples, "needs at least one lead time")
    review = float(non_negative("review_period", review_period))
    if n_samples < 1:
        raise invalid("n_samples", n_samples, "must be >= 1")
    p_disrupt = float(probability("disruption_prob", disruption_prob, open_interval=False))
    rng = as_generator(seed)
    interval = leads[rng.integers(0, leads.size, n_samples)] + review
    if p_disrupt > 0:
        if disruption_delay_samples is None or np.size(disruption_delay_samples) == 0:
            raise invalid(
                "disruption_delay_samples",
                disruption_delay_samples,
                "are needed when disruption_prob > 0",
            )
        delays = non_negative(
            "disruption_delay_samples", np.asarray(disruption_delay_samples, dtype=float)
        ).ravel()
        hit = rng.random(n_samples) < p_disrupt
        interval = interval + np.where(hit, delays[rng.integers(0, delays.size, n_samples)], 0.0)
    width = int(np.ceil(interval.max())) if interval.size else 0
    out = np.zeros(n_samples)
    if width == 0:
        return out
    rows = max(1, _CHUNK_CELLS // width)
    steps = np.arange(width, dtype=float)
    for start in range(0, n_samples, rows):
        stop = min(n_samples, start + rows)
        values = history[rng.integers(0, history.size, (stop - start, width))]
        if forecast_per_period is not None:
            values = np.maximum(values + float(forecast_per_period), 0.0)
        weights = np.clip(interval[start:stop, None] - steps[None, :], 0.0, 1.0)
        out[start:stop] = (values * weights).sum(axis=1)
    return out


def expected_shortage(samples: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """E[(X - level)^+] [units] over the samples, for one level or an array of levels."""
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    lv = np.atleast_1d(np.asarray(level, dtype=float))
    tail = np.concatenate([np.cumsum(x[::-1])[::-1], [0.0]])
    pos = np.searchsorted(x, lv, side="right")
    count = x.size - pos
    return (tail[pos] - count * lv) / x.size


def reorder_level_from_samples(
    samples: np.ndarray,
    *,
    service_level: float,
    service_type: str = "cycle_service",
    order_quantity: float | None = None,
) -> float:
    """Level [units] from lead-time-demand samples.

    'cycle_service': the service_level quantile (inverted empirical cdf: the smallest sample
    value with at least that share of samples at or below it);
    'fill_rate': the smallest level r with E[(X - r)^+] <= (1 - service_level) Q, exact on the
    piecewise-linear empirical loss function. order_quantity [Q] units per cycle.
    """
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", service_type, f"must be one of {', '.join(SERVICE_TYPES)}")
    level = float(probability("service_level", service_level))
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise invalid("samples", samples, "must be a non-empty array of finite values")
    if service_type == "cycle_service":
        return float(np.quantile(x, level, method="inverted_cdf"))
    if order_quantity is None:
        raise invalid("order_quantity", None, "is required for a fill-rate target")
    target = (1.0 - level) * float(positive("order_quantity", order_quantity))
    short = expected_shortage(x, x)
    if short[0] <= target:
        # below the smallest sample the loss falls with slope -1: solve mean - r = target
        return float(x.mean() - target) if x.mean() - target < x[0] else float(x[0])
    j = int(np.argmax(short <= target))
    # on [x[j-1], x[j]] the loss is linear with slope -(share of samples above x[j-1])
    slope = (x.size - np.searchsorted(x, x[j - 1], side="right")) / x.size
    return float(x[j - 1] + (short[j - 1] - target) / slope) if slope > 0 else float(x[j])


@dataclass(frozen=True)
class EmpiricalPerformance:
    """Performance of a level on a lead-time-demand sample."""

    cycle_service_level: float
    fill_rate: float
    expected_short_per_cycle: float
    mean: float
    sd: float


def performance_from_samples(
    samples: np.ndarray, level: float, order_quantity: float
) -> EmpiricalPerformance:
    """CSL = P(X <= level); fill = 1 - E[(X - level)^+] / Q (floored at 0)."""
    x = np.asarray(samples, dtype=float).ravel()
    q = float(positive("order_quantity", order_quantity))
    short = float(expected_shortage(x, level)[0])
    return EmpiricalPerformance(
        cycle_service_level=float(np.mean(x <= level)),
        fill_rate=max(0.0, 1.0 - short / q),
        expected_short_per_cycle=short,
        mean=float(x.mean()),
        sd=float(x.std(ddof=1)) if x.size > 1 else 0.0,
    )


__all__ = [
    "EmpiricalPerformance",
    "as_generator",
    "expected_shortage",
    "lead_time_demand_samples",
    "performance_from_samples",
    "reorder_level_from_samples",
]


# ---------------------------------------------------------------- many items at once (numba)

_KERNEL_CHUNK_CELLS = 5_000_000


def lead_time_demand_samples_many(
    demand_histories: np.ndarray | Sequence[np.ndarray],
    lead_time_samples: np.ndarray | Sequence[np.ndarray],
    *,
    review_period: float | np.ndarray = 0.0,
    n_samples: int = 10_000,
    seed: int | np.random.Generator | None = None,
    forecast_per_period: float | np.ndarray | None = None,
    disruption_prob: float | np.ndarray = 0.0,
    disruption_delay_samples: np.ndarray | Sequence[np.ndarray] | None = None,
    item_offset: int = 0,
) -> np.ndarray:
    """``lead_time_demand_samples`` for n items at once (numba, parallel): f8[n, n_samples].

    demand_histories   2-D array (NaN-padded rows) or one array per item [units/period]
    lead_time_samples  2-D array (NaN-padded) or one array per item [periods, may be fractional]
    review_period, forecast_per_period (NaN = none), disruption_prob: scalar or per item
    disruption_delay_samples  one array per item (or a 2-D array) [periods]
    item_offset        index of the first item in a larger set: items keep their random
                       streams however the caller chunks them
    seed               int | numpy Generator | None
    The draws come from the kernels' counter-based generator, not from NumPy's, so they differ
    from ``lead_time_demand_samples`` for the same seed (same distribution).
    """
    if isinstance(demand_histories, np.ndarray) and demand_histories.ndim == 2:
        rows = [r[np.isfinite(r)] for r in np.asarray(demand_histories, dtype=float)]
    else:
        rows = [np.asarray(r, dtype=float).ravel() for r in demand_histories]
        rows = [r[np.isfinite(r)] for r in rows]
    n = len(rows)
    if n == 0:
        return np.zeros((0, n_samples))
    if any(r.size == 0 for r in rows):
        raise invalid("demand_histories", "an empty row", "every item needs at least one value")
    if forecast_per_period is None and any(np.any(r < 0) for r in rows):
        raise invalid(
            "demand_histories", "a negative value", "must be >= 0 (returns belong elsewhere)"
        )
    if n_samples < 1:
        raise invalid("n_samples", n_samples, "must be >= 1")
    try:
        dpool, dlen = pack_pools(rows, n, "demand_histories", np.float64)
        lpool, llen = pack_pools(lead_time_samples, n, "lead_time_samples", np.float64)
        if disruption_delay_samples is None:
            delay, delay_len = np.zeros((n, 1)), np.zeros(n, dtype=np.int64)
        else:
            delay, delay_len = pack_pools(
                disruption_delay_samples, n, "disruption_delay_samples", np.float64
            )
        kernel_seed = resolve_seed(seed)
    except ValueError as err:
        raise invalid("arguments", str(err), "are not valid kernel inputs") from err
    if np.any(llen < 1):
        raise invalid("lead_time_samples", lead_time_samples, "every item needs a lead time")
    if np.any(lpool < 0) or np.any(delay < 0):
        raise invalid("lead_time_samples", lead_time_samples, "lead times and delays must be >= 0")
    review = np.broadcast_to(non_negative("review_period", review_period), (n,)).astype(float)
    if forecast_per_period is None:
        forecast = np.full(n, np.nan)
    else:
        forecast = np.broadcast_to(np.asarray(forecast_per_period, dtype=float), (n,)).copy()
    p = np.broadcast_to(
        probability("disruption_prob", disruption_prob, open_interval=False), (n,)
    ).astype(float)
    if np.any((p > 0) & (delay_len == 0)):
        raise invalid("disruption_delay_samples", None, "are needed where disruption_prob > 0")
    return lead_time_demand_kernel(
        dpool,
        dlen,
        lpool,
        llen,
        np.ascontiguousarray(review),
        np.ascontiguousarray(forecast),
        np.ascontiguousarray(p),
        delay,
        delay_len,
        int(n_samples),
        np.uint64(kernel_seed),
        int(item_offset),
    )


def reorder_levels_from_samples(
    samples: np.ndarray,
    *,
    service_level: float | np.ndarray,
    service_type: str = "cycle_service",
    order_quantity: float | np.ndarray | None = None,
) -> np.ndarray:
    """``reorder_level_from_samples`` for every row of f8[n, n_samples] at once [units]."""
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", service_type, f"must be one of {', '.join(SERVICE_TYPES)}")
    x = np.sort(np.asarray(samples, dtype=float), axis=1)
    n, m = x.shape
    if m == 0 or not np.all(np.isfinite(x)):
        raise invalid("samples", "f8[n, 0] or non-finite", "must hold finite samples")
    level = np.broadcast_to(probability("service_level", service_level), (n,))
    rows = np.arange(n)
    if service_type == "cycle_service":
        idx = np.clip(np.ceil(level * m - 1e-9).astype(np.int64) - 1, 0, m - 1)
        return x[rows, idx]
    if order_quantity is None:
        raise invalid("order_quantity", None, "is required for a fill-rate target")
    q = np.broadcast_to(positive("order_quantity", order_quantity), (n,))
    target = (1.0 - level) * q
    short, count_above = _loss_rows(x)
    ok = short <= target[:, None]
    first = np.argmax(ok, axis=1)
    prev = np.maximum(first - 1, 0)
    x_prev, short_prev = x[rows, prev], short[rows, prev]
    # on [x_prev, x_first] the loss falls linearly with slope -(share of samples above x_prev)
    slope = count_above[rows, prev] / m
    safe = np.where(slope > 0, slope, 1.0)
    inner = np.where(slope > 0, x_prev + (short_prev - target) / safe, x[rows, first])
    # below the smallest sample the loss is mean - r: solve mean - r = target
    mean = x.mean(axis=1)
    low = np.where(mean - target < x[:, 0], mean - target, x[:, 0])
    return np.where(ok[:, 0], low, inner)


def _loss_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted rows: E[(X - x_j)^+] at every sample x_j and the count of samples above it."""
    n, m = x.shape
    tail = np.concatenate([np.cumsum(x[:, ::-1], axis=1)[:, ::-1], np.zeros((n, 1))], axis=1)
    short = np.empty((n, m))
    above = np.empty((n, m), dtype=np.int64)
    for r in range(n):
        pos = np.searchsorted(x[r], x[r], side="right")
        above[r] = m - pos
        short[r] = (tail[r, pos] - above[r] * x[r]) / m
    return short, above


def performance_from_samples_many(
    samples: np.ndarray, levels: np.ndarray, order_quantity: float | np.ndarray
) -> dict[str, np.ndarray]:
    """Per row: cycle_service_level, fill_rate, expected_short_per_cycle, mean, sd."""
    x = np.asarray(samples, dtype=float)
    lv = np.asarray(levels, dtype=float)[:, None]
    q = np.broadcast_to(positive("order_quantity", order_quantity), (x.shape[0],))
    short = np.maximum(x - lv, 0.0).mean(axis=1)
    return {
        "cycle_service_level": (x <= lv).mean(axis=1),
        "fill_rate": np.maximum(0.0, 1.0 - short / q),
        "expected_short_per_cycle": short,
        "mean": x.mean(axis=1),
        "sd": x.std(axis=1, ddof=1) if x.shape[1] > 1 else np.zeros(x.shape[0]),
    }
