"""Daily demand series for the example plant, drawn to land in an intended demand class.

Classification (Syntetos & Boylan 2005; cut-offs from Syntetos, Boylan & Croston 2005):
ADI = mean gap in days between consecutive non-zero days, CV² = variance / mean² of the
non-zero sizes; smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² >= 0.49),
intermittent (ADI >= 1.32, CV² < 0.49), lumpy (ADI >= 1.32, CV² >= 0.49).

Model, per item i and day t: the day has demand with probability p_i; its size is
    level_i(t) * exp(sigma_i * Z - sigma_i² / 2),  Z ~ N(0, 1)
rounded to whole units (at least 1), with level_i(t) = base_i * trend * season * drift.
Low-CV classes draw sigma in [0.15, 0.35] (CV² <= 0.13), high-CV classes in [0.95, 1.25]
(CV² >= 1.46); dense classes draw p in [0.92, 0.99] (ADI <= 1.09), sparse in [0.08, 0.42]
(ADI >= 2.4). A series whose measured class (under both ADI conventions, gap-mean and
periods / non-zero periods, and both variance conventions) misses its label is redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
DENSE = ("smooth", "erratic")
HIGH_CV = ("erratic", "lumpy")
_MAX_REDRAWS = 50


def classify(adi: float, cv2: float) -> str:
    """Syntetos-Boylan class from ADI [periods] and CV² [-]."""
    if adi < ADI_CUTOFF:
        return "smooth" if cv2 < CV2_CUTOFF else "erratic"
    return "intermittent" if cv2 < CV2_CUTOFF else "lumpy"


def adi_cv2(quantity: np.ndarray, *, ddof: int = 0) -> tuple[float, float]:
    """ADI as mean gap between non-zero periods and CV² of non-zero sizes of one series."""
    nonzero = np.flatnonzero(quantity > 0)
    if nonzero.size < 2:
        return float("inf"), 0.0
    sizes = quantity[nonzero].astype(float)
    adi = float(np.diff(nonzero).mean())
    mean = sizes.mean()
    cv2 = float(sizes.var(ddof=ddof) / mean**2) if sizes.size > ddof else 0.0
    return adi, cv2


def robust_class(quantity: np.ndarray) -> str | None:
    """The class when every common convention agrees on it, else None."""
    labels = set()
    nonzero = int((quantity > 0).sum())
    for ddof in (0, 1):
        adi, cv2 = adi_cv2(quantity, ddof=ddof)
        labels.add(classify(adi, cv2))
        if nonzero:
            labels.add(classify(quantity.size / nonzero, cv2))
    return labels.pop() if len(labels) == 1 else None


@dataclass(frozen=True, slots=True)
class DemandParams:
    """Per-item arrays (length n) describing each series; dates are day indexes.

    base                  mean size of a non-zero day at the start [units]
    occurrence            probability p that a day has demand
    sigma                 log-sd of the size
    trend                 relative change of the level over the horizon (0 = none)
    seasonal_amplitude    amplitude of the yearly sine on the level (0 = none)
    seasonal_phase_days   shift of that sine [days]
    drift_ratio           level multiplier after drift_day (1 = none)
    drift_day             day index where the drift ramp (30 days) starts
    obsolete_day          day index from which demand stops (>= days: never)
    outliers              number of outlier days (size x 4-8)
    returns               number of days with a small return
    """

    base: np.ndarray
    occurrence: np.ndarray
    sigma: np.ndarray
    trend: np.ndarray
    seasonal_amplitude: np.ndarray
    seasonal_phase_days: np.ndarray
    drift_ratio: np.ndarray
    drift_day: np.ndarray
    obsolete_day: np.ndarray
    outliers: np.ndarray
    returns: np.ndarray


def class_shape(rng: np.random.Generator, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Occurrence probability and log-sd of size for each intended class."""
    dense = np.isin(classes, DENSE)
    high_cv = np.isin(classes, HIGH_CV)
    occurrence = np.where(dense, rng.uniform(0.92, 0.99, classes.size), 0.0)
    occurrence = np.where(dense, occurrence, rng.uniform(0.08, 0.42, classes.size))
    sigma = np.where(high_cv, rng.uniform(0.95, 1.25, classes.size), 0.0)
    sigma = np.where(high_cv, sigma, rng.uniform(0.15, 0.35, classes.size))
    return occurrence, sigma


def level_matrix(params: DemandParams, days: int) -> np.ndarray:
    """level_i(t) [units per non-zero day], shape (n, days)."""
    t = np.arange(days, dtype=float)[None, :]
    trend = 1.0 + params.trend[:, None] * (t / days - 0.5)
    season = 1.0 + params.seasonal_amplitude[:, None] * np.sin(
        2.0 * np.pi * (t + params.seasonal_phase_days[:, None]) / 365.25
    )
    ramp = np.clip((t - params.drift_day[:, None]) / 30.0, 0.0, 1.0)
    drift = 1.0 + (params.drift_ratio[:, None] - 1.0) * ramp
    return params.base[:, None] * trend * season * drift


def _draw_rows(
    rng: np.random.Generator, params: DemandParams, level: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    days = level.shape[1]
    occur = rng.random((rows.size, days)) < params.occurrence[rows, None]
    sigma = params.sigma[rows, None]
    size = level[rows] * np.exp(sigma * rng.standard_normal((rows.size, days)) - sigma**2 / 2)
    qty = np.where(occur, np.maximum(np.rint(size), 1.0), 0.0)
    qty[np.arange(days)[None, :] >= params.obsolete_day[rows, None]] = 0.0
    return qty


def _add_outliers(
    rng: np.random.Generator, qty: np.ndarray, counts: np.ndarray
) -> dict[int, list[int]]:
    """Multiply `counts[i]` random non-zero days of row i by 4-8; returns the day indexes."""
    placed: dict[int, list[int]] = {}
    for row in np.flatnonzero(counts):
        nonzero = np.flatnonzero(qty[row] > 0)
        chosen = np.sort(rng.choice(nonzero, size=int(counts[row]), replace=False))
        qty[row, chosen] = np.rint(qty[row, chosen] * rng.uniform(4.0, 8.0, chosen.size))
        placed[int(row)] = [int(d) for d in chosen]
    return placed


def draw_demand(
    rng: np.random.Generator, params: DemandParams, classes: np.ndarray, days: int
) -> tuple[np.ndarray, dict[int, list[int]]]:
    """Daily quantities (n, days) whose measured class equals `classes`, and outlier days.

    Rows are redrawn (same parameters, fresh noise) until their class matches; raises
    RuntimeError if a row cannot be made to match, which means its parameters contradict it.
    """
    level = level_matrix(params, days)
    rows = np.arange(classes.size)
    qty = np.zeros((classes.size, days))
    outliers: dict[int, list[int]] = {}
    for _ in range(_MAX_REDRAWS):
        qty[rows] = _draw_rows(rng, params, level, rows)
        sub = np.zeros(classes.size, dtype=int)
        sub[rows] = params.outliers[rows]
        outliers.update(_add_outliers(rng, qty, sub))
        rows = np.array(
            [i for i in rows if robust_class(qty[i]) != classes[i]],
            dtype=int,
        )
        if rows.size == 0:
            return qty, outliers
    raise RuntimeError(f"demand rows {rows.tolist()} never matched their intended class")


def draw_returns(rng: np.random.Generator, qty: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Small returns (10-50% of the day's mean non-zero size) on `counts[i]` days of row i."""
    returns = np.zeros_like(qty)
    days = qty.shape[1]
    for row in np.flatnonzero(counts):
        positive = qty[row][qty[row] > 0]
        mean = positive.mean() if positive.size else 1.0
        chosen = rng.choice(days, size=int(counts[row]), replace=False)
        returns[row, chosen] = np.maximum(1.0, np.rint(mean * rng.uniform(0.1, 0.5, chosen.size)))
    return returns
