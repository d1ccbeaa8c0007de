"""OEE, TEEP and the six big losses from machine state logs and production counts.

Definitions (Vorne / oee.com "preferred calculation", Nakajima's six big losses):

    all time                 calendar time of the period (inside the analysis window)
    planned production time  all time - planned stops - time the conventions exclude
    run time                 planned production time - availability losses
                             (breakdowns, setup, ... per `OeeConventions`); small stops stay in it
    ideal run time           total_count x ideal_cycle_time
    fully productive time    good_count x ideal_cycle_time
    availability  A = run time / planned production time
    performance   P = ideal run time / run time          (> 1 is flagged, never capped)
    quality       Q = good_count / total_count           (= fully productive / ideal run time)
    OEE           A x P x Q = fully productive time / planned production time
    utilisation   planned production time / all time;  TEEP = OEE x utilisation

Six big losses, as time [h]: breakdowns (down stops >= the micro-stop threshold), setup,
small stops (down stops < threshold), slow cycles (run time - ideal run time - small stops),
startup rejects and production rejects ((total - good) x ideal cycle time, split when the counts
carry `startup_reject_count`). Availability losses not in the six (starved / blocked, idle,
unlogged time, when the conventions count them) are listed beside them so that the losses always
add up to planned production time - fully productive time.

Roll-ups (`rollup_oee`) sum the times and counts and recompute the ratios; ratios are never
averaged. Rows without an ideal cycle time count in a roll-up's A and Q but not in its P and
OEE (`rows_without_ideal_cycle_time` counts them). The computation is a NumPy group-by
(`np.bincount`) over integer keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from bufferwise.equipment._frame import (
    NS_PER_H,
    NS_PER_S,
    codes_for,
    require_columns,
    to_ns,
    unique_ids,
)
from bufferwise.equipment.conventions import OeeConventions
from bufferwise.errors import InvalidInput, Problem
from bufferwise.model.schema import MACHINE_STATES

Period = Literal["all", "shift", "day", "week"]

# time classes after down stops are split into breakdowns and small stops
TIME_CLASSES: tuple[str, ...] = (
    "running",
    "idle",
    "breakdown",
    "small_stop",
    "planned_stop",
    "setup",
    "starved",
    "blocked",
)
_STATE_TO_CLASS = {
    "running": 0,
    "idle": 1,
    "down": 2,
    "planned_stop": 4,
    "setup": 5,
    "starved": 6,
    "blocked": 7,
}
_BREAKDOWN, _SMALL_STOP = 2, 3

RAW_TIME_COLUMNS: tuple[str, ...] = (
    "all_time_hours",
    "running_hours",
    "idle_hours",
    "breakdown_hours",
    "small_stop_hours",
    "planned_stop_hours",
    "setup_hours",
    "starved_hours",
    "blocked_hours",
    "unlogged_hours",
)
RAW_COUNT_COLUMNS: tuple[str, ...] = (
    "breakdown_count",
    "small_stop_count",
    "total_count",
    "good_count",
    "startup_reject_count",
    "ideal_run_hours",
    "fully_productive_hours",
    "startup_reject_ideal_hours",
)
LOSS_COLUMNS: tuple[str, ...] = (
    "loss_breakdowns_hours",
    "loss_setup_hours",
    "loss_small_stops_hours",
    "loss_slow_cycles_hours",
    "loss_startup_rejects_hours",
    "loss_production_rejects_hours",
    "loss_starved_blocked_hours",
    "loss_idle_hours",
    "loss_unlogged_hours",
)
SIX_BIG_LOSSES: tuple[str, ...] = LOSS_COLUMNS[:6]


def teep_from_oee(
    oee: float, planned_production_time: float, all_time: float
) -> tuple[float, float]:
    """(utilisation, TEEP): utilisation = planned production time / all (calendar) time,
    TEEP = OEE x utilisation (oee.com/teep: 65% x 80 h / 168 h = 30.95%)."""
    if all_time <= 0 or planned_production_time < 0 or planned_production_time > all_time:
        raise InvalidInput(
            f"planned_production_time {planned_production_time!r} must lie between 0 and "
            f"all_time {all_time!r} (> 0)"
        )
    utilisation = planned_production_time / all_time
    return utilisation, oee * utilisation


# ---------------------------------------------------------------------------- periods


def _period_boundaries(w0: int, w1: int, period: Period, conventions: OeeConventions) -> np.ndarray:
    """Sorted int64 ns boundaries covering [w0, w1], clipped to the window."""
    if period == "all":
        return np.array([w0, w1], dtype=np.int64)
    t0 = pd.Timestamp(w0).floor("D") - pd.Timedelta(days=7)
    t1 = pd.Timestamp(w1).ceil("D") + pd.Timedelta(days=7)
    if period == "day":
        b = pd.date_range(t0, t1, freq="D")
    elif period == "week":
        b = pd.date_range(t0, t1, freq="D")
        b = b[b.dayofweek == conventions.week_start]
    elif period == "shift":
        days = pd.date_range(t0, t1, freq="D")
        offsets = pd.to_timedelta(np.asarray(conventions.shift_start_hours, float), unit="h")
        b = pd.DatetimeIndex(sorted(d + o for d in days for o in offsets))
    else:
        raise InvalidInput(f"period {period!r} is not one of all, shift, day, week")
    ns = b.to_numpy("datetime64[ns]").view(np.int64)
    inner = ns[(ns > w0) & (ns < w1)]
    return np.concatenate(([w0], inner, [w1])).astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Split:
    """Intervals split at period boundaries.

    period, length   per interval: the period of its start, its length [ns] (0 for the
                     intervals that cross a boundary: their time is in the pieces)
    piece_source, piece_period, piece_length   the pieces of the crossing intervals
    """

    period: np.ndarray
    length: np.ndarray
    piece_source: np.ndarray
    piece_period: np.ndarray
    piece_length: np.ndarray


def _split_by_period(start: np.ndarray, end: np.ndarray, bounds: np.ndarray) -> _Split:
    """Split [start, end) intervals at period boundaries; only crossing intervals are expanded
    (a small share for shifts, days, weeks), so no gather runs over all intervals. Intervals
    with start == end stay one zero-length interval in the period that contains start."""
    last = len(bounds) - 2
    p0 = np.searchsorted(bounds, start, side="right") - 1
    np.clip(p0, 0, last, out=p0)
    length = end - start
    none = np.zeros(0, dtype=np.int64)
    if last == 0:
        return _Split(p0, length, none, none, none)
    p1 = np.searchsorted(bounds, end, side="left") - 1
    np.clip(p1, 0, last, out=p1)
    cross = np.flatnonzero(p1 > p0)
    if len(cross) == 0:
        return _Split(p0, length, none, none, none)
    n = p1[cross] - p0[cross] + 1
    src = np.repeat(cross, n)
    offset = np.arange(len(src)) - np.repeat(np.cumsum(n) - n, n)
    per = p0[src] + offset
    piece = np.minimum(end[src], bounds[per + 1]) - np.maximum(start[src], bounds[per])
    length[cross] = 0
    return _Split(p0, length, src, per, np.maximum(piece, 0))


# ---------------------------------------------------------------------------- main


def compute_oee(
    machine_events: pd.DataFrame,
    production_counts: pd.DataFrame | None = None,
    machines: pd.DataFrame | None = None,
    conventions: OeeConventions | None = None,
    *,
    period: Period = "all",
    window: tuple[object, object] | None = None,
) -> pd.DataFrame:
    """OEE, TEEP and losses per machine, and per shift / day / week when `period` says so.

    machine_events     canonical machine_events (machine_id, start, end, state)
    production_counts  canonical production_counts (machine_id, start, end, total_count,
                       good_count[, startup_reject_count]); counts spanning a period boundary
                       are shared pro rata by time
    machines           canonical machines (machine_id, ideal_cycle_time_s [s / unit]); without
                       an ideal cycle time performance and OEE are NaN
    window             (start, end) of the analysis; default: earliest start to latest end over
                       all events and counts (one window for all machines, so that unlogged
                       time shows)
    Returns one row per machine (per machine and period: every machine in every period of the
    window, so that roll-ups see all calendar time) with the raw times [h] and counts, then
    planned_hours, run_hours, availability, performance, quality, oee, utilisation, teep,
    performance_flag and the loss columns (see module docstring). Times are hours.
    """
    conv = conventions or OeeConventions()
    require_columns(machine_events, "machine_events", ("machine_id", "start", "end", "state"))
    counts = production_counts
    if counts is not None:
        require_columns(
            counts,
            "production_counts",
            ("machine_id", "start", "end", "total_count", "good_count"),
        )
    ev_start = to_ns(machine_events["start"], "machine_events", "start")
    ev_end = to_ns(machine_events["end"], "machine_events", "end")
    bad = np.flatnonzero(ev_end < ev_start)
    if len(bad):
        row = int(bad[0]) + 1
        raise InvalidInput(
            f"machine_events row {row}, column end: end before start in {len(bad)} row(s) "
            "(expected end on or after start)",
            [Problem("machine_events", row, "end", None, "on or after start", code="end_order")],
        )
    state_code = _state_codes(machine_events["state"])

    id_cols = [machine_events["machine_id"]]
    if counts is not None:
        id_cols.append(counts["machine_id"])
    if machines is not None:
        require_columns(machines, "machines", ("machine_id",))
        id_cols.append(machines["machine_id"])
    ids = unique_ids(*id_cols)
    n_m = len(ids)
    ev_m = codes_for(machine_events["machine_id"], ids)

    if counts is not None and len(counts):
        c_start = to_ns(counts["start"], "production_counts", "start")
        c_end = to_ns(counts["end"], "production_counts", "end")
        c_m = codes_for(counts["machine_id"], ids)
    else:
        c_start = c_end = c_m = np.zeros(0, dtype=np.int64)

    if window is None:
        starts = [a.min() for a in (ev_start, c_start) if len(a)]
        ends = [a.max() for a in (ev_end, c_end) if len(a)]
        if not starts:
            raise InvalidInput("machine_events and production_counts are both empty")
        w0, w1 = int(min(starts)), int(max(ends))
    else:
        w0 = int(pd.Timestamp(window[0]).value)  # type: ignore[arg-type]
        w1 = int(pd.Timestamp(window[1]).value)  # type: ignore[arg-type]
    if w1 <= w0:
        raise InvalidInput(
            f"analysis window {pd.Timestamp(w0)} .. {pd.Timestamp(w1)} is empty "
            "(its end must be after its start)"
        )

    # clip to the window
    s = np.maximum(ev_start, w0)
    e = np.minimum(ev_end, w1)
    keep = e > s
    if not keep.all():
        s, e, m, cls = s[keep], e[keep], ev_m[keep], state_code[keep]
    else:
        m, cls = ev_m, state_code.copy()

    # merge contiguous down records into stops, classify each stop by its whole length
    stop_m, stop_start, stop_small = _classify_down(m, s, e, cls, conv.micro_stop_threshold_s)

    bounds = _period_boundaries(w0, w1, period, conv)
    n_p = len(bounds) - 1
    n_c = len(TIME_CLASSES)
    split = _split_by_period(s, e, bounds)
    size = n_m * n_p * n_c
    key = (m * n_p + split.period) * n_c + cls
    summed = np.bincount(key, weights=split.length.astype(np.float64), minlength=size)
    if len(split.piece_source):
        src = split.piece_source
        key_x = (m[src] * n_p + split.piece_period) * n_c + cls[src]
        summed += np.bincount(key_x, split.piece_length.astype(np.float64), minlength=size)
    times = summed.reshape(n_m, n_p, n_c) / NS_PER_H

    # stop counts, in the period where the stop starts
    stop_p = np.clip(np.searchsorted(bounds, stop_start, side="right") - 1, 0, n_p - 1)
    stop_key = stop_m * n_p + stop_p
    n_small = np.bincount(stop_key[stop_small], minlength=n_m * n_p).reshape(n_m, n_p)
    n_break = np.bincount(stop_key[~stop_small], minlength=n_m * n_p).reshape(n_m, n_p)

    # production counts, shared pro rata by time across periods
    total: np.ndarray = np.zeros((n_m, n_p))
    good: np.ndarray = np.zeros((n_m, n_p))
    startup: np.ndarray = np.zeros((n_m, n_p))
    has_startup = counts is not None and "startup_reject_count" in counts.columns
    if len(c_m):
        assert counts is not None
        tot_v = _numeric(counts["total_count"], "production_counts", "total_count")
        good_v = _numeric(counts["good_count"], "production_counts", "good_count")
        if np.any(good_v > tot_v + 1e-9):
            row = int(np.flatnonzero(good_v > tot_v + 1e-9)[0]) + 1
            raise InvalidInput(
                f"production_counts row {row}, column good_count: above total_count "
                "(expected good_count <= total_count)"
            )
        st_v = (
            _numeric(counts["startup_reject_count"], "production_counts", "startup_reject_count")
            if has_startup
            else np.zeros(len(tot_v))
        )
        cs = np.clip(c_start, w0, w1)
        ce = np.clip(c_end, w0, w1)
        inside = (c_end >= w0) & (c_start <= w1) & (c_m >= 0)
        full = (c_end - c_start).astype(np.float64)  # share by time of the unclipped row
        csplit = _split_by_period(cs, ce, bounds)
        # share of a row kept in the period of its start (0 for rows crossing a boundary:
        # their shares go through the pieces); zero-length rows count whole
        whole = np.where(full > 0, csplit.length / np.where(full > 0, full, 1.0), 1.0)
        whole = np.where(inside, whole, 0.0)
        ckey = np.where(inside, c_m * n_p + csplit.period, 0)
        size = n_m * n_p
        pieces = csplit.piece_source
        share_x = csplit.piece_length / full[pieces] * inside[pieces]
        key_x = c_m[pieces] * n_p + csplit.piece_period
        key_x = np.where(inside[pieces], key_x, 0)

        def spread(values: np.ndarray) -> np.ndarray:
            out = np.bincount(ckey, weights=values * whole, minlength=size)
            if len(pieces):
                out += np.bincount(key_x, weights=values[pieces] * share_x, minlength=size)
            return out.reshape(n_m, n_p)

        total = spread(tot_v)
        good = spread(good_v)
        startup = spread(st_v)

    ict = np.full(n_m, np.nan)
    if machines is not None and "ideal_cycle_time_s" in machines.columns:
        mcodes = codes_for(machines["machine_id"], ids)
        vals = pd.to_numeric(machines["ideal_cycle_time_s"], errors="coerce").to_numpy(float)
        ok = mcodes >= 0
        ict[mcodes[ok]] = vals[ok]
        ict[ict <= 0] = np.nan

    period_len = np.diff(bounds).astype(np.float64) / NS_PER_H
    logged = times.sum(axis=2)
    out = {
        "machine_id": np.repeat(np.asarray(ids, dtype=object), n_p),
        "period_start": np.tile(pd.to_datetime(bounds[:-1]).to_numpy(), n_m),
        "period_end": np.tile(pd.to_datetime(bounds[1:]).to_numpy(), n_m),
        "all_time_hours": np.tile(period_len, n_m),
        "running_hours": times[:, :, 0].ravel(),
        "idle_hours": times[:, :, 1].ravel(),
        "breakdown_hours": times[:, :, 2].ravel(),
        "small_stop_hours": times[:, :, 3].ravel(),
        "planned_stop_hours": times[:, :, 4].ravel(),
        "setup_hours": times[:, :, 5].ravel(),
        "starved_hours": times[:, :, 6].ravel(),
        "blocked_hours": times[:, :, 7].ravel(),
        "unlogged_hours": np.maximum(period_len[None, :] - logged, 0.0).ravel(),
        "breakdown_count": n_break.ravel().astype(np.int64),
        "small_stop_count": n_small.ravel().astype(np.int64),
        "total_count": total.ravel(),
        "good_count": good.ravel(),
        "startup_reject_count": startup.ravel() if has_startup else np.full(n_m * n_p, np.nan),
        "ideal_cycle_time_s": np.repeat(ict, n_p),
    }
    frame = pd.DataFrame(out)
    ict_h = frame["ideal_cycle_time_s"].to_numpy() / 3600.0
    frame["ideal_run_hours"] = frame["total_count"].to_numpy() * ict_h
    frame["fully_productive_hours"] = frame["good_count"].to_numpy() * ict_h
    frame["startup_reject_ideal_hours"] = frame["startup_reject_count"].to_numpy() * ict_h
    frame.insert(1, "period", period)
    return add_oee_ratios(frame, conv)


def _numeric(values: pd.Series, table: str, column: str) -> np.ndarray:
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if len(bad):
        row = int(bad[0]) + 1
        raise InvalidInput(
            f"{table} row {row}, column {column}: {values.iloc[bad[0]]!r} is not a number >= 0 "
            f"({len(bad)} such row(s))",
            [Problem(table, row, column, str(values.iloc[bad[0]]), ">= 0", code="bad_number")],
        )
    return arr


def _state_codes(states: pd.Series) -> np.ndarray:
    """Machine-state words -> time-class codes; unknown words are an error naming them."""
    if isinstance(states.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in states.cat.categories]
        raw = states.cat.codes.to_numpy()
        table = np.array([_STATE_TO_CLASS.get(c, -1) for c in cats] + [-1], dtype=np.int64)
        codes = table[np.where(raw >= 0, raw, len(cats))]
    else:
        idx = pd.Index(MACHINE_STATES).get_indexer(pd.Index(states.astype(str)))
        table = np.array([_STATE_TO_CLASS[s] for s in MACHINE_STATES] + [-1], dtype=np.int64)
        codes = table[np.where(idx >= 0, idx, len(MACHINE_STATES))]
    if np.any(codes < 0):
        bad = np.flatnonzero(codes < 0)
        value = str(states.iloc[bad[0]])
        raise InvalidInput(
            f"machine_events row {bad[0] + 1}, column state: {value!r} is not a machine state "
            f"({len(bad)} such row(s); expected one of {', '.join(MACHINE_STATES)})",
            [
                Problem(
                    "machine_events",
                    int(bad[0]) + 1,
                    "state",
                    value,
                    "one of " + ", ".join(MACHINE_STATES),
                    code="bad_state",
                )
            ],
        )
    return codes


def _classify_down(
    m: np.ndarray, s: np.ndarray, e: np.ndarray, cls: np.ndarray, threshold_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge touching down records per machine into stops; mark short stops in `cls` in place.

    Returns per stop: machine code, start [ns], is-small-stop flag.
    """
    down = np.flatnonzero(cls == _BREAKDOWN)
    if len(down) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    dm, ds, de = m[down], s[down], e[down]
    order = np.lexsort((ds, dm))
    dm, ds, de, down = dm[order], ds[order], de[order], down[order]
    # a new stop begins where the machine changes or a gap separates it from the previous one
    new = np.ones(len(dm), dtype=bool)
    new[1:] = (dm[1:] != dm[:-1]) | (ds[1:] > de[:-1])
    first = np.flatnonzero(new)
    stop_id = np.cumsum(new) - 1
    stop_len = np.add.reduceat(de - ds, first)
    small = stop_len < threshold_s * NS_PER_S
    cls[down[small[stop_id]]] = _SMALL_STOP
    return dm[first], ds[first], small


# ---------------------------------------------------------------------------- ratios & roll-ups


PERFORMANCE_FLAG_TEXT = (
    "performance above 100%: the ideal cycle time is slower than the machine ran"
)


def _performance_flag(performance: np.ndarray) -> np.ndarray:
    # above 1 by more than float residue (1e-9) of summed hours
    return np.where(performance > 1.0 + 1e-9, PERFORMANCE_FLAG_TEXT, "")


@dataclass(frozen=True, slots=True)
class _TimeSplit:
    """Each row's planned and run time under the conventions, and the availability losses the
    conventions count (zero where they exclude the time from planned time instead) [h]."""

    planned: np.ndarray
    run: np.ndarray
    setup_loss: np.ndarray
    idle_loss: np.ndarray
    starved_blocked_loss: np.ndarray
    unlogged_loss: np.ndarray


def _time_split(frame: pd.DataFrame, conv: OeeConventions) -> _TimeSplit:
    """Planned and run time of every row of `frame` (RAW_TIME_COLUMNS) under `conv`."""
    g = {c: frame[c].to_numpy(dtype=np.float64) for c in RAW_TIME_COLUMNS}
    zero = np.zeros(len(frame))

    def counted(treatment: str, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # (excluded from planned, availability loss)
        return (hours, zero) if treatment == "not_planned" else (zero, hours)

    setup_x, setup_l = counted(conv.setup, g["setup_hours"])
    idle_x, idle_l = counted(conv.idle, g["idle_hours"])
    sb_x, sb_l = counted(conv.starved_blocked, g["starved_hours"] + g["blocked_hours"])
    un_x, un_l = counted(conv.unlogged_time, g["unlogged_hours"])
    planned = g["all_time_hours"] - g["planned_stop_hours"] - setup_x - idle_x - sb_x - un_x
    # sums of float hours leave rounding residue: below 1e-9 h (3.6 microseconds) is zero
    planned = np.where(planned < 1e-9, 0.0, planned)
    run = planned - g["breakdown_hours"] - setup_l - idle_l - sb_l - un_l
    run = np.where(run < 1e-9, 0.0, run)
    return _TimeSplit(planned, run, setup_l, idle_l, sb_l, un_l)


def add_oee_ratios(frame: pd.DataFrame, conventions: OeeConventions | None = None) -> pd.DataFrame:
    """Add planned/run time, A, P, Q, OEE, utilisation, TEEP, the flag and the losses.

    Works on any frame with the raw time and count columns (one machine-period per row, or
    sums of them): every ratio is recomputed from summed times and counts.
    """
    conv = conventions or OeeConventions()
    f = frame.copy()
    split = _time_split(f, conv)
    planned, run = split.planned, split.run
    setup_l, idle_l = split.setup_loss, split.idle_loss
    sb_l, un_l = split.starved_blocked_loss, split.unlogged_loss
    g = {
        c: f[c].to_numpy(dtype=np.float64)
        for c in ("all_time_hours", "breakdown_hours", "small_stop_hours")
    }
    total = f["total_count"].to_numpy(dtype=np.float64)
    good = f["good_count"].to_numpy(dtype=np.float64)
    ideal = f["ideal_run_hours"].to_numpy(dtype=np.float64)
    productive = f["fully_productive_hours"].to_numpy(dtype=np.float64)
    startup_ideal = f["startup_reject_ideal_hours"].to_numpy(dtype=np.float64)

    with np.errstate(divide="ignore", invalid="ignore"):
        availability = np.where(planned > 0, run / planned, np.nan)
        performance = np.where(run > 0, ideal / run, np.nan)
        # Q = good / total as defined; on one machine's row it equals fully productive / ideal
        # run time, on a roll-up over machines of different speeds it does not (rollup_oee)
        quality = np.where(total > 0, good / total, np.nan)
        oee = np.where(planned > 0, productive / planned, np.nan)
        oee = np.where(np.isnan(ideal), np.nan, oee)
        utilisation = np.where(g["all_time_hours"] > 0, planned / g["all_time_hours"], np.nan)
    f["planned_hours"] = planned
    f["run_hours"] = run
    f["availability"] = availability
    f["performance"] = performance
    f["quality"] = quality
    f["oee"] = oee
    f["utilisation"] = utilisation
    f["teep"] = oee * utilisation
    f["performance_flag"] = _performance_flag(performance)
    small = g["small_stop_hours"]
    reject_ideal = ideal - productive
    startup_loss = np.where(np.isnan(startup_ideal), np.nan, startup_ideal)
    f["loss_breakdowns_hours"] = g["breakdown_hours"]
    f["loss_setup_hours"] = setup_l
    f["loss_small_stops_hours"] = small
    f["loss_slow_cycles_hours"] = run - ideal - small
    f["loss_startup_rejects_hours"] = startup_loss
    f["loss_production_rejects_hours"] = reject_ideal - np.nan_to_num(startup_loss)
    f["loss_starved_blocked_hours"] = sb_l
    f["loss_idle_hours"] = idle_l
    f["loss_unlogged_hours"] = un_l
    return f


ROLLUP_UNRATED_COLUMN = "rows_without_ideal_cycle_time"
"""Column of `rollup_oee`: how many of the summed rows have no ideal cycle time (left out of
performance, OEE, TEEP and the slow-cycle loss; still counted in availability and quality)."""


def rollup_oee(
    table: pd.DataFrame,
    by: Sequence[str] | str | None = "machine_id",
    conventions: OeeConventions | None = None,
) -> pd.DataFrame:
    """Roll OEE rows up (e.g. shifts -> machine, machines -> plant) by summing times and counts.

    `by` = None rolls everything into one row. Ratios are recomputed from the sums, never
    averaged:

        A    = sum run time / sum planned time                       (every row)
        Q    = sum good_count / sum total_count                      (every row)
        P    = sum ideal run time / sum run time                     (rated rows only)
        OEE  = sum fully productive time / sum planned time          (rated rows only)
        TEEP = OEE x sum planned time / sum all time                 (rated rows only)

    Rated rows are those with an ideal cycle time (`ideal_run_hours` not NaN); a machine
    without one has no ideal time, so counting its run and planned time in P and OEE would
    read as zero output. The rolled-up `rows_without_ideal_cycle_time` says how many rows
    were left out of P and OEE. The ideal and fully productive times are summed (each row
    weighted by its own ideal cycle time), so machines of different speeds combine: OEE =
    A x P x Q_t over the rated rows, with the time-weighted quality Q_t = sum good x ideal
    cycle time / sum total x ideal cycle time. Q (count-weighted, as defined) equals Q_t when
    the rated rows share one ideal cycle time; then OEE = A x P x Q holds when every row is
    rated. Roll up rows of `compute_oee` (a rolled-up row that mixes rated and unrated rows
    cannot be split again).
    """
    cols = [c for c in (*RAW_TIME_COLUMNS, *RAW_COUNT_COLUMNS) if c in table.columns]
    keys = [by] if isinstance(by, str) else list(by or [])
    # each row's own planned and run time (the conventions'), kept for the rated rows only
    split = _time_split(table, conventions or OeeConventions())
    rated = table["ideal_run_hours"].notna().to_numpy()
    index = table.index
    extra = {
        "_rated_planned": pd.Series(split.planned, index=index).where(rated),
        "_rated_run": pd.Series(split.run, index=index).where(rated),
        "_rated_all": table["all_time_hours"].astype(np.float64).where(rated),
        "_rated_small": table["small_stop_hours"].astype(np.float64).where(rated),
        ROLLUP_UNRATED_COLUMN: pd.Series((~rated).astype(np.int64), index=index),
    }
    work = table[[*keys, *cols]].assign(**extra)
    sum_cols = [*cols, *extra]
    if keys:
        summed = work.groupby(keys, sort=True, dropna=False)[sum_cols].sum(min_count=1)
        summed = summed.reset_index()
    else:
        summed = work[sum_cols].sum(min_count=1).to_frame().T
    for c in ("total_count", "good_count", "ideal_run_hours", "fully_productive_hours"):
        summed[c] = summed[c].astype(float)
    summed[ROLLUP_UNRATED_COLUMN] = summed[ROLLUP_UNRATED_COLUMN].fillna(0).astype(np.int64)
    out = add_oee_ratios(summed.drop(columns=list(extra)[:4]), conventions)
    planned = summed["_rated_planned"].to_numpy(dtype=np.float64)
    run = summed["_rated_run"].to_numpy(dtype=np.float64)
    all_time = summed["_rated_all"].to_numpy(dtype=np.float64)
    small = summed["_rated_small"].to_numpy(dtype=np.float64)
    ideal = out["ideal_run_hours"].to_numpy(dtype=np.float64)
    productive = out["fully_productive_hours"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        performance = np.where(run > 0, ideal / run, np.nan)
        oee = np.where(planned > 0, productive / planned, np.nan)
        # TEEP = OEE x utilisation of the rated rows (NaN with no planned time, as per row)
        teep = oee * np.where(all_time > 0, planned / all_time, np.nan)
    out["performance"] = performance
    out["oee"] = oee
    out["teep"] = teep
    out["performance_flag"] = _performance_flag(performance)
    out["loss_slow_cycles_hours"] = run - ideal - small
    return out


def loss_pareto(table: pd.DataFrame, *, six_big_only: bool = False) -> pd.DataFrame:
    """Losses summed over the rows of an OEE table, largest first.

    Columns: loss, hours, share (of all listed losses), cumulative_share. Startup rejects are
    left out when the data could not separate them (NaN).
    """
    cols = SIX_BIG_LOSSES if six_big_only else LOSS_COLUMNS
    sums = {
        c.removeprefix("loss_").removesuffix("_hours"): float(table[c].sum(min_count=1))
        for c in cols
        if c in table.columns
    }
    rows = [(k, v) for k, v in sums.items() if np.isfinite(v)]
    rows.sort(key=lambda kv: -kv[1])
    out = pd.DataFrame(rows, columns=["loss", "hours"])
    positive = out["hours"].clip(lower=0).sum()
    out["share"] = out["hours"] / positive if positive > 0 else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    return out
