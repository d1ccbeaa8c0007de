"""Reliability: failures, MTBF / MTTR / MTTF, exponential and Weibull fits with right-censoring.

A *failure* is a stop of the machine itself: `machine_events` rows with state "down", merged
when they touch or overlap (one stop logged as several records), kept when the stop lasts at
least `micro_stop_threshold_s` (shorter ones are small stops, an OEE performance loss) or when
it is instantaneous (start == end: a failure whose repair time is unknown, as in the Azure PdM
failure log). Starved and blocked time is caused by the neighbours and is reported apart, never
counted as a failure.

Time between failures is calendar time from the end of one repair (or the start of the
observation window) to the start of the next failure; the interval from the last repair to the
end of the window is right-censored. The window start is treated as a renewal (the age of the
machine then is unknown).

    MTBF = exposure / failures      exposure = window time - repair time; this is the
                                    exponential maximum-likelihood estimate with censoring
    MTBF CI (time-terminated data): [2T / chi2(1 - a/2; 2r + 2), 2T / chi2(a/2; 2r)]
    MTTR = mean repair time over failures with a known (non-zero) duration; NaN if none
    MTTF = mean of the fitted Weibull, scale x Gamma(1 + 1/shape)
    Weibull MLE with right-censoring (profile likelihood in the shape); CI: likelihood ratio for
    the shape, observed Fisher information (Wald on log scale) for the scale.
(Meeker & Escobar, Statistical Methods for Reliability Data, 1998, ch. 7-8; Lawless 2003.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bufferwise.equipment._frame import NS_PER_H, NS_PER_S, require_columns, to_ns
from bufferwise.equipment.conventions import DEFAULT_MICRO_STOP_THRESHOLD_S
from bufferwise.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ExponentialFit:
    """Exponential time-to-failure fit. rate [1/h], times [h]; confidence is two-sided."""

    failures: int
    exposure_hours: float
    rate_per_hour: float
    mtbf_hours: float
    mtbf_lower_hours: float
    mtbf_upper_hours: float
    confidence: float


@dataclass(frozen=True, slots=True)
class WeibullFit:
    """Weibull fit F(t) = 1 - exp(-(t / scale)^shape), scale [h]; NaN when it cannot be fitted."""

    failures: int
    censored: int
    shape: float
    scale_hours: float
    shape_lower: float
    shape_upper: float
    scale_lower_hours: float
    scale_upper_hours: float
    mean_hours: float
    log_likelihood: float
    confidence: float
    note: str = ""

    def contains(self, shape: float, scale_hours: float) -> bool:
        """Whether (shape, scale) lie inside the two confidence intervals."""
        return bool(
            self.shape_lower <= shape <= self.shape_upper
            and self.scale_lower_hours <= scale_hours <= self.scale_upper_hours
        )


def _check_sample(durations: Sequence[float] | np.ndarray, observed: Sequence[bool] | np.ndarray):
    t = np.asarray(durations, dtype=np.float64)
    d = np.asarray(observed, dtype=bool)
    if t.shape != d.shape or t.ndim != 1:
        raise InvalidInput("durations and observed must be 1-d and of equal length")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise InvalidInput("durations must be finite and >= 0 (hours)")
    return t, d


def fit_exponential(
    durations: Sequence[float] | np.ndarray,
    observed: Sequence[bool] | np.ndarray,
    confidence: float = 0.9,
) -> ExponentialFit:
    """Exponential MLE with right-censoring: rate = failures / total time on test.

    durations  [h] times to failure (observed) or to the end of observation (censored)
    observed   True for a failure, False for a censored interval
    The MTBF interval is the chi-square interval for time-terminated observation.
    """
    t, d = _check_sample(durations, observed)
    r = int(d.sum())
    total = float(t.sum())
    a = 1.0 - confidence
    if total <= 0:
        nan = float("nan")
        return ExponentialFit(r, total, nan, nan, nan, nan, confidence)
    lower = 2 * total / stats.chi2.ppf(1 - a / 2, 2 * r + 2)
    if r == 0:
        return ExponentialFit(0, total, 0.0, float("inf"), lower, float("inf"), confidence)
    upper = 2 * total / stats.chi2.ppf(a / 2, 2 * r)
    return ExponentialFit(r, total, r / total, total / r, lower, upper, confidence)


def _weibull_profile(t: np.ndarray, d: np.ndarray, shape: float) -> float:
    """Profile log-likelihood in the shape (scale at its MLE given the shape), for t scaled."""
    r = d.sum()
    lt = np.log(t)
    s = np.sum(t**shape)
    return float(r * math.log(shape) - r * math.log(s / r) + (shape - 1) * lt[d].sum() - r)


def fit_weibull(
    durations: Sequence[float] | np.ndarray,
    observed: Sequence[bool] | np.ndarray,
    confidence: float = 0.9,
) -> WeibullFit:
    """Two-parameter Weibull by maximum likelihood with right-censoring.

    durations [h], observed as in `fit_exponential`. Needs at least 2 failures with distinct
    times; otherwise every figure is NaN and `note` says why. Zero times are raised to 1 s.
    Shape CI: profile likelihood ratio (chi-square 1 d.f.); scale CI: Wald on log(scale) with
    the observed Fisher information.
    """
    t, d = _check_sample(durations, observed)
    r, n = int(d.sum()), len(t)
    nan = float("nan")
    if r < 2 or np.unique(t[d]).size < 2:
        return WeibullFit(
            r,
            n - r,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            confidence,
            note=f"Weibull not fitted: {r} failure(s) with distinct times (need >= 2)",
        )
    t = np.maximum(t, 1.0 / 3600.0)
    unit = float(np.max(t))
    ts = t / unit
    lts = np.log(ts)
    mean_fail_log = lts[d].mean()

    def score(log_k: float) -> float:
        k = math.exp(log_k)
        w = ts**k
        return float(np.sum(w * lts) / np.sum(w) - 1.0 / k - mean_fail_log)

    lo, hi = math.log(1e-3), math.log(1e3)
    while score(lo) > 0 and lo > -20:
        lo -= 2
    while score(hi) < 0 and hi < 20:
        hi += 2
    log_k = optimize.brentq(score, lo, hi, xtol=1e-12)
    k = math.exp(log_k)
    eta_s = (np.sum(ts**k) / r) ** (1.0 / k)
    lmax = _weibull_profile(ts, d, k)
    cut = stats.chi2.ppf(confidence, 1) / 2.0

    def drop(log_x: float) -> float:
        return lmax - _weibull_profile(ts, d, math.exp(log_x)) - cut

    def bound(direction: float) -> float:
        step, x = 0.5, log_k
        for _ in range(60):
            nxt = x + direction * step
            if drop(nxt) > 0:
                return math.exp(optimize.brentq(drop, min(x, nxt), max(x, nxt), xtol=1e-10))
            x = nxt
            step *= 1.5
        return 0.0 if direction < 0 else float("inf")

    k_lo, k_hi = bound(-1.0), bound(1.0)
    # observed information in (shape, scale) at the MLE (scaled time), from the analytic Hessian
    z = (ts / eta_s) ** k
    lz = np.log(ts / eta_s)
    h_kk = -r / k**2 - np.sum(z * lz**2)
    h_ee = -(k**2) * r / eta_s**2
    h_ke = (k / eta_s) * np.sum(z * lz)
    info = -np.array([[h_kk, h_ke], [h_ke, h_ee]])
    try:
        cov = np.linalg.inv(info)
        se_log_eta = math.sqrt(max(cov[1, 1], 0.0)) / eta_s
    except np.linalg.LinAlgError:
        se_log_eta = nan
    zq = stats.norm.ppf(0.5 + confidence / 2)
    eta = eta_s * unit
    loglik = lmax - r * math.log(unit)
    return WeibullFit(
        failures=r,
        censored=n - r,
        shape=k,
        scale_hours=eta,
        shape_lower=k_lo,
        shape_upper=k_hi,
        scale_lower_hours=eta * math.exp(-zq * se_log_eta),
        scale_upper_hours=eta * math.exp(zq * se_log_eta),
        mean_hours=eta * math.gamma(1.0 + 1.0 / k),
        log_likelihood=loglik,
        confidence=confidence,
    )


# ---------------------------------------------------------------------------- from event logs


def _window(
    start: np.ndarray, end: np.ndarray, window: tuple[object, object] | None
) -> tuple[int, int]:
    if window is None:
        if len(start) == 0:
            raise InvalidInput("machine_events is empty and no observation window was given")
        return int(start.min()), int(end.max())
    w0 = int(pd.Timestamp(window[0]).value)  # type: ignore[arg-type]
    w1 = int(pd.Timestamp(window[1]).value)  # type: ignore[arg-type]
    if w1 <= w0:
        raise InvalidInput(f"observation window {window!r} is empty (end must be after start)")
    return w0, w1


def failure_stops(
    machine_events: pd.DataFrame,
    *,
    by_component: bool = False,
    micro_stop_threshold_s: float = DEFAULT_MICRO_STOP_THRESHOLD_S,
    window: tuple[object, object] | None = None,
) -> pd.DataFrame:
    """The machines' own failures as stops: machine_id[, component], start, end, repair_hours.

    Down records that touch or overlap (per machine, or per machine and component) are merged;
    merged stops shorter than the threshold are dropped unless instantaneous (start == end,
    repair unknown -> repair_hours NaN). Records are clipped to the window; a stop already
    under way at the window start is not counted (its failure was not observed).
    """
    require_columns(machine_events, "machine_events", ("machine_id", "start", "end", "state"))
    down = machine_events.loc[machine_events["state"].astype(str) == "down"]
    s_all = to_ns(machine_events["start"], "machine_events", "start")
    e_all = to_ns(machine_events["end"], "machine_events", "end")
    w0, w1 = _window(s_all, e_all, window)
    keys = ["machine_id", "component"] if by_component else ["machine_id"]
    if by_component and "component" not in machine_events.columns:
        raise InvalidInput("machine_events has no component column: failures name no component")
    raw_s = to_ns(down["start"], "machine_events", "start")
    raw_e = to_ns(down["end"], "machine_events", "end")
    frame = pd.DataFrame({k: down[k].astype(str).to_numpy() for k in keys})
    frame["s"], frame["e"] = np.clip(raw_s, w0, w1), np.clip(raw_e, w0, w1)
    frame["before"] = raw_s < w0
    frame = frame.loc[(raw_e >= w0) & (raw_s <= w1)]
    if by_component:
        frame = frame.loc[frame["component"].str.len() > 0]
    if frame.empty:
        return pd.DataFrame(
            {
                **{k: pd.Series(dtype=object) for k in keys},
                "start": pd.Series(dtype="datetime64[ns]"),
                "end": pd.Series(dtype="datetime64[ns]"),
                "repair_hours": pd.Series(dtype=float),
            }
        )
    frame = frame.sort_values([*keys, "s"], kind="mergesort").reset_index(drop=True)
    group = frame.groupby(keys, sort=False).ngroup().to_numpy()
    ss, ee = frame["s"].to_numpy(), frame["e"].to_numpy()
    # a record continues the current stop when it starts before the running maximum of the
    # previous ends of its group (touching or overlapping records are one stop)
    run_end = pd.Series(ee).groupby(group).cummax().to_numpy()
    new = np.ones(len(frame), dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (ss[1:] > run_end[:-1])
    first = np.flatnonzero(new)
    stop_id = np.cumsum(new) - 1
    stop_end = np.zeros(len(first), dtype=np.int64)
    np.maximum.at(stop_end, stop_id, ee)
    out = frame.iloc[first][keys].reset_index(drop=True)
    began_before = frame["before"].to_numpy()[first]
    out["start"] = pd.to_datetime(ss[first])
    out["end"] = pd.to_datetime(stop_end)
    length = stop_end - ss[first]
    # a stop already under way at the window start is not a failure observed in the window
    keep = ((length >= micro_stop_threshold_s * NS_PER_S) | (length == 0)) & ~began_before
    out["repair_hours"] = np.where(length > 0, length / NS_PER_H, np.nan)
    return out.loc[keep].reset_index(drop=True)


def time_between_failures(
    stops: pd.DataFrame,
    window: tuple[object, object],
    units: Sequence[str] | Sequence[tuple[str, ...]] | None = None,
    keys: Sequence[str] = ("machine_id",),
) -> pd.DataFrame:
    """Up intervals per unit (machine, or machine and component) from `failure_stops`.

    Each unit's intervals: window start -> first failure, repair end -> next failure (observed),
    last repair end -> window end (censored). `units` lists units to include even with no
    failure (one censored interval of the whole window). Columns: keys..., hours, observed.
    """
    w0 = int(pd.Timestamp(window[0]).value)  # type: ignore[arg-type]
    w1 = int(pd.Timestamp(window[1]).value)  # type: ignore[arg-type]
    key_names = [str(k) for k in keys]
    parts: list[dict[str, object]] = []
    seen: set[tuple[str, ...]] = set()
    if not stops.empty:
        ordered = stops.sort_values([*key_names, "start"])
        for key, g in ordered.groupby(key_names, sort=True):
            k = tuple(str(x) for x in (key if isinstance(key, tuple) else (key,)))
            seen.add(k)
            a = g["start"].to_numpy("datetime64[ns]").view(np.int64)
            b = g["end"].to_numpy("datetime64[ns]").view(np.int64)
            prev = np.concatenate(([w0], b[:-1]))
            hours = np.concatenate((np.maximum(a - prev, 0), [max(w1 - b[-1], 0)])) / NS_PER_H
            obs = np.r_[np.ones(len(a), dtype=bool), False]
            parts.append({**dict(zip(key_names, k, strict=True)), "hours": hours, "observed": obs})
    for unit in units or []:
        k = tuple(str(x) for x in (unit if isinstance(unit, tuple) else (unit,)))
        if k not in seen:
            seen.add(k)
            parts.append(
                {
                    **dict(zip(key_names, k, strict=True)),
                    "hours": np.array([(w1 - w0) / NS_PER_H]),
                    "observed": np.array([False]),
                }
            )
    if not parts:
        empty: dict[str, pd.Series] = {k: pd.Series(dtype=object) for k in key_names}
        empty["hours"] = pd.Series(dtype=float)
        empty["observed"] = pd.Series(dtype=bool)
        return pd.DataFrame(empty)
    return pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)


def _summarise(
    tbf: pd.DataFrame,
    stops: pd.DataFrame,
    keys: list[str],
    window_hours: float,
    confidence: float,
) -> pd.DataFrame:
    out = []
    repairs_of: dict[tuple[str, ...], np.ndarray] = {}
    if not stops.empty:
        for key, rg in stops.groupby(keys, sort=False)["repair_hours"]:
            k = key if isinstance(key, tuple) else (key,)
            repairs_of[tuple(str(x) for x in k)] = rg.to_numpy(dtype=float)
    for key, g in tbf.groupby(keys, sort=True):
        k = key if isinstance(key, tuple) else (key,)
        t = g["hours"].to_numpy()
        d = g["observed"].to_numpy(dtype=bool)
        ex = fit_exponential(t, d, confidence)
        wb = fit_weibull(t, d, confidence)
        repairs = repairs_of.get(tuple(str(x) for x in k), np.array([], dtype=float))
        known = repairs[np.isfinite(repairs)]
        mttr = float(known.mean()) if len(known) else float("nan")
        p90 = float(np.quantile(known, 0.9)) if len(known) else float("nan")
        if ex.failures == 0:
            note = f"no failure in {t.sum():.0f} h observed; MTBF > {ex.mtbf_lower_hours:.0f} h"
        elif len(known) == 0:
            note = "repair times unknown (failures recorded as instantaneous events): MTTR is NaN"
        elif len(known) < ex.failures:
            note = f"repair time known for {len(known)} of {ex.failures} failures"
        else:
            note = ""
        if wb.note:
            note = f"{note}; {wb.note}" if note else wb.note
        row: dict[str, object] = dict(zip(keys, k, strict=True))
        row.update(
            observed_hours=window_hours,
            failures=ex.failures,
            exposure_hours=ex.exposure_hours,
            mtbf_hours=ex.mtbf_hours,
            mtbf_lower_hours=ex.mtbf_lower_hours,
            mtbf_upper_hours=ex.mtbf_upper_hours,
            mttr_hours=mttr,
            repair_p90_hours=p90,
            repairs_known=len(known),
            downtime_hours=float(known.sum()),
            weibull_shape=wb.shape,
            weibull_shape_lower=wb.shape_lower,
            weibull_shape_upper=wb.shape_upper,
            weibull_scale=wb.scale_hours,
            weibull_scale_lower=wb.scale_lower_hours,
            weibull_scale_upper=wb.scale_upper_hours,
            mttf_hours=wb.mean_hours,
            inherent_availability=(
                ex.mtbf_hours / (ex.mtbf_hours + mttr)
                if np.isfinite(mttr) and ex.failures
                else (1.0 if ex.failures == 0 else float("nan"))
            ),
            confidence=confidence,
            note=note,
        )
        out.append(row)
    return pd.DataFrame(out)


def reliability_by_machine(
    machine_events: pd.DataFrame,
    *,
    window: tuple[object, object] | None = None,
    micro_stop_threshold_s: float = DEFAULT_MICRO_STOP_THRESHOLD_S,
    confidence: float = 0.9,
    machine_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """MTBF, MTTR, MTTF, exponential and Weibull fits per machine (own failures only).

    window  observation window (start, end); default earliest start .. latest end in the log.
    Columns: machine_id, observed_hours, failures, exposure_hours, mtbf_hours (+ _lower/_upper
    chi-square CI), mttr_hours, repair_p90_hours, repairs_known, downtime_hours, weibull_shape
    (+ CI), weibull_scale [h] (+ CI), mttf_hours, inherent_availability = MTBF / (MTBF + MTTR),
    starved_hours, blocked_hours (neighbour-caused, not failures), confidence, note.
    """
    require_columns(machine_events, "machine_events", ("machine_id", "start", "end", "state"))
    s_all = to_ns(machine_events["start"], "machine_events", "start")
    e_all = to_ns(machine_events["end"], "machine_events", "end")
    w0, w1 = _window(s_all, e_all, window)
    win = (pd.Timestamp(w0), pd.Timestamp(w1))
    stops = failure_stops(machine_events, micro_stop_threshold_s=micro_stop_threshold_s, window=win)
    ids = sorted(set(machine_events["machine_id"].astype(str)) | set(machine_ids or []))
    tbf = time_between_failures(stops, win, ids)
    out = _summarise(tbf, stops, ["machine_id"], (w1 - w0) / NS_PER_H, confidence)
    # neighbour-caused time, for the record
    st = machine_events["state"].astype(str).to_numpy()
    dur = (np.minimum(e_all, w1) - np.maximum(s_all, w0)).clip(min=0) / NS_PER_H
    mid = machine_events["machine_id"].astype(str).to_numpy()
    for state in ("starved", "blocked"):
        sel = st == state
        sums = pd.Series(dur[sel]).groupby(mid[sel]).sum()
        out[f"{state}_hours"] = out["machine_id"].map(sums).fillna(0.0).to_numpy()
    return out


def reliability_by_component(
    machine_events: pd.DataFrame,
    *,
    window: tuple[object, object] | None = None,
    pool_machines: bool = True,
    micro_stop_threshold_s: float = DEFAULT_MICRO_STOP_THRESHOLD_S,
    confidence: float = 0.9,
    machine_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """MTBF and fits per component (failures naming one), pooled over machines or per machine.

    Pooled: each machine contributes its own up intervals for the component (from window start
    or its last replacement to the next failure, the last one censored), including machines on
    which the component never failed (one censored interval of the whole window each);
    `machine_ids` adds machines that have no event at all.
    """
    require_columns(
        machine_events, "machine_events", ("machine_id", "start", "end", "state", "component")
    )
    s_all = to_ns(machine_events["start"], "machine_events", "start")
    e_all = to_ns(machine_events["end"], "machine_events", "end")
    w0, w1 = _window(s_all, e_all, window)
    win = (pd.Timestamp(w0), pd.Timestamp(w1))
    stops = failure_stops(
        machine_events,
        by_component=True,
        micro_stop_threshold_s=micro_stop_threshold_s,
        window=win,
    )
    machines = sorted(set(machine_events["machine_id"].astype(str)) | set(machine_ids or []))
    comps = sorted(set(stops["component"])) if not stops.empty else []
    units = [(m, c) for m in machines for c in comps]
    tbf = time_between_failures(stops, win, units, keys=("machine_id", "component"))
    hours = (w1 - w0) / NS_PER_H
    if not pool_machines:
        return _summarise(tbf, stops, ["machine_id", "component"], hours, confidence)
    out = _summarise(tbf, stops, ["component"], hours, confidence)
    if not out.empty:
        out["observed_hours"] = hours * len(machines)
        out["machines"] = len(machines)
    return out
