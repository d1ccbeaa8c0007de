"""`analyze_equipment`: the stable machine and buffer tables the CLI, web and decide code use.

Machine columns (stable; more may be added after them):
    machine_id, planned_hours, availability, performance, quality, oee, teep, mtbf_hours,
    mttr_hours, failures, weibull_shape, weibull_scale, jit_readiness, reason,
    then performance_flag, utilisation, run_hours, breakdown_hours, small_stop_hours,
    setup_hours, starved_hours, blocked_hours, total_count, good_count, mtbf_lower_hours,
    mtbf_upper_hours, mttf_hours, repair_p90_hours, inherent_availability, own_availability,
    replenishment_cycle_hours, mtbf_cycles, coverage_buffer_hours, reliability_note.
Buffer columns (stable; more after them):
    buffer_id, upstream_machine_id, downstream_machine_id, current_level, recommended_level,
    line_efficiency_current, line_efficiency_recommended, hidden_loss_hours,
    then item_id, capacity, line_efficiency_no_buffer, starved_hours_no_buffer,
    starved_hours_current, upstream_rate_per_hour, downstream_rate_per_hour,
    coverage_buffer_units, coverage_conditions_hold, line_efficiency_simulated,
    simulation_standard_error, note.

Buffer model: the exponential two-machine fluid line (`lines.fluid_two_machine`,
time-dependent failures unless `failures` says otherwise) with each machine's measured MTBF,
MTTR and rate while up (measured total_count / run_hours, else 3600 / ideal cycle time);
line efficiency = PR(N) / PR(inf) with PR(inf) = min(c1 e1, c2 e2); N = the buffer's
current_level. The recommended level is the smallest whole buffer reaching the target line
efficiency. A discrete-time simulation with the measured up and down times (resampled;
exponential draws when fewer than MIN_SAMPLES_FOR_EMPIRICAL = 5 are known) checks each analytic
figure. The failures behind MTBF / MTTR, the simulation check and the coverage buffer all use
the conventions' micro-stop threshold. Fixed figures: `bufferwise.equipment.constants`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bufferwise.equipment.constants import (
    DAYS_PER_YEAR,
    DEFAULT_REPLENISHMENT_CYCLE_HOURS,
    DEFAULT_TARGET_LINE_EFFICIENCY,
    HOURS_PER_DAY,
    MIN_SAMPLES_FOR_EMPIRICAL,
    NEVER_FAILED_MTTR_HOURS,
)
from bufferwise.equipment.conventions import OeeConventions, describe_conventions
from bufferwise.equipment.hidden_loss import hidden_loss, improvement_table
from bufferwise.equipment.item_risk import SupplyOutageProcess, item_outage_processes
from bufferwise.equipment.lines import (
    FailureMode,
    Seed,
    SerialLineResult,
    as_generator,
    fluid_two_machine,
    repair_coverage_buffer,
    simulate_serial_line,
    smallest_buffer,
)
from bufferwise.equipment.oee import add_oee_ratios, compute_oee, loss_pareto
from bufferwise.equipment.readiness import ReadinessCriteria, readiness_table
from bufferwise.equipment.reliability import (
    failure_stops,
    reliability_by_machine,
    time_between_failures,
)
from bufferwise.errors import InvalidInput

MACHINE_COLUMNS: tuple[str, ...] = (
    "machine_id",
    "planned_hours",
    "availability",
    "performance",
    "quality",
    "oee",
    "teep",
    "mtbf_hours",
    "mttr_hours",
    "failures",
    "weibull_shape",
    "weibull_scale",
    "jit_readiness",
    "reason",
)
BUFFER_COLUMNS: tuple[str, ...] = (
    "buffer_id",
    "upstream_machine_id",
    "downstream_machine_id",
    "current_level",
    "recommended_level",
    "line_efficiency_current",
    "line_efficiency_recommended",
    "hidden_loss_hours",
)


@dataclass(frozen=True)
class EquipmentReport:
    """Everything `analyze_equipment` found.

    machines      stable machine table (MACHINE_COLUMNS first)
    buffers       stable buffer table (BUFFER_COLUMNS first); empty without wip_buffers
    oee           full OEE table per machine over the window (times in hours, losses)
    losses        loss Pareto over all machines
    reliability   `reliability_by_machine` output
    improvements  per buffer: the buffer each MTTR / MTBF improvement of the upstream machine
                  needs to deliver the output of the recommended level (buffer_reduction_units:
                  how far the recommended buffer could shrink)
    conventions_used  the OEE conventions in words
    item_outages  item_id -> the supply-outage process of its machine (when items given)
    """

    machines: pd.DataFrame
    buffers: pd.DataFrame
    oee: pd.DataFrame
    losses: pd.DataFrame
    reliability: pd.DataFrame
    improvements: pd.DataFrame
    conventions: OeeConventions
    conventions_used: list[str]
    window: tuple[pd.Timestamp, pd.Timestamp]
    item_outages: dict[str, SupplyOutageProcess] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready data (NaN and infinity become None, times ISO text) for
        `--format json`: window, conventions, machines, buffers, losses, improvements."""
        return {
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "conventions": self.conventions.as_dict(),
            "conventions_used": list(self.conventions_used),
            "machines": _records(self.machines),
            "buffers": _records(self.buffers),
            "losses": _records(self.losses),
            "improvements": _records(self.improvements),
            "item_outages": {
                k: {f: _plain(getattr(v, f)) for f in v.__dataclass_fields__}
                for k, v in self.item_outages.items()
            },
        }


def _plain(value: object) -> object:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _machine_rates(oee: pd.DataFrame) -> dict[str, float]:
    """Parts per hour while up: measured total_count / run_hours, else 3600 / ideal cycle time."""
    rates: dict[str, float] = {}
    for rec in oee.to_dict("records"):
        ict = rec.get("ideal_cycle_time_s", math.nan)
        if rec["run_hours"] > 0 and rec["total_count"] > 0:
            rates[str(rec["machine_id"])] = float(rec["total_count"]) / float(rec["run_hours"])
        elif ict is not None and np.isfinite(ict) and ict > 0:
            rates[str(rec["machine_id"])] = 3600.0 / float(ict)
    return rates


def _replenishment_cycles(
    ids: list[str], given: float | dict[str, float], items: pd.DataFrame | None
) -> dict[str, float]:
    """Replenishment cycle [h] per machine: a dict entry, else from the items, else the float
    (or DEFAULT_REPLENISHMENT_CYCLE_HOURS, 24 h)."""
    default = float(given) if not isinstance(given, dict) else DEFAULT_REPLENISHMENT_CYCLE_HOURS
    cycles = dict.fromkeys(ids, default)
    if items is not None and {"machine_id", "nominal_lead_time_days"} <= set(items.columns):
        lead = pd.to_numeric(items["nominal_lead_time_days"], errors="coerce").fillna(0.0)
        review = (
            pd.to_numeric(items["review_period_days"], errors="coerce").fillna(0.0)
            if "review_period_days" in items.columns
            else 0.0
        )
        hours = HOURS_PER_DAY * (lead + review)
        frame = pd.DataFrame({"machine_id": items["machine_id"].astype(str), "hours": hours})
        frame = frame[(frame["hours"] > 0) & frame["machine_id"].isin(cycles)]
        shortest = frame.groupby("machine_id")["hours"].min()
        cycles.update({str(k): float(v) for k, v in shortest.items()})
    if isinstance(given, dict):
        cycles.update({str(k): float(v) for k, v in given.items()})
    return cycles


def _samples(values: np.ndarray, mean: float, n_min: int, rng: np.random.Generator) -> np.ndarray:
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) >= n_min:
        return v
    return rng.exponential(mean, 2000)


def analyze_equipment(
    machines: pd.DataFrame,
    machine_events: pd.DataFrame,
    production_counts: pd.DataFrame | None,
    wip_buffers: pd.DataFrame | None = None,
    conventions: OeeConventions = OeeConventions(),  # noqa: B008 - frozen, immutable default
    target_line_efficiency: float = DEFAULT_TARGET_LINE_EFFICIENCY,
    seed: Seed = None,
    *,
    items: pd.DataFrame | None = None,
    window: tuple[object, object] | None = None,
    replenishment_cycle_hours: float | dict[str, float] = DEFAULT_REPLENISHMENT_CYCLE_HOURS,
    criteria: ReadinessCriteria | None = None,
    confidence: float = 0.9,
    simulate: bool = True,
    failures: FailureMode = "time_dependent",
) -> EquipmentReport:
    """OEE, reliability, JIT readiness, WIP buffer sizing and hidden loss in one call.

    machines, machine_events, production_counts, wip_buffers, items: canonical tables.
    window                     analysis window; default earliest to latest record
    replenishment_cycle_hours  per machine (dict) or one figure: the replenishment cycle of
                               what each machine feeds, for the MTBF test of JIT readiness;
                               machines not named in a dict take it from `items` (the shortest
                               24 x (nominal_lead_time_days + review_period_days) of the items
                               with that machine_id), else 24 h
    target_line_efficiency     the buffer target and the readiness target
    seed                       for the simulation check of the buffer figures
    failures                   failure convention of the buffer model and its simulation
                               check: "time_dependent" (default, as the reference cases) or
                               "operation_dependent"
    """
    rng = as_generator(seed)
    crit = criteria or ReadinessCriteria(target_line_efficiency=target_line_efficiency)
    oee = compute_oee(machine_events, production_counts, machines, conventions, window=window)
    w0, w1 = pd.Timestamp(oee["period_start"].iloc[0]), pd.Timestamp(oee["period_end"].iloc[0])
    ids = [str(m) for m in oee["machine_id"]]
    rel = reliability_by_machine(
        machine_events,
        window=(w0, w1),
        micro_stop_threshold_s=conventions.micro_stop_threshold_s,
        confidence=confidence,
        machine_ids=ids,
    )
    # the machine's own availability (starved / blocked not held against it) for readiness
    own = add_oee_ratios(oee, dataclasses.replace(conventions, starved_blocked="not_planned"))
    own_avail = dict(zip(own["machine_id"].astype(str), own["availability"], strict=True))
    cycles = _replenishment_cycles(ids, replenishment_cycle_hours, items)
    ready = readiness_table(rel, own_avail, replenishment_cycle_hours=cycles, criteria=crit)
    # a machine with no state record in the window has shown nothing: it is not ready
    silent = oee.loc[oee["unlogged_hours"] >= oee["all_time_hours"] - 1e-9, "machine_id"]
    if len(silent):
        no_log = ready["machine_id"].isin(set(silent.astype(str)))
        ready.loc[no_log, "jit_readiness"] = "not_ready"
        ready.loc[no_log, "reason"] = (
            "not_ready: no state record in the analysis window, so no availability or "
            "failure figures to judge it by"
        )
    m = oee.merge(rel, on="machine_id", how="left", suffixes=("", "_rel"))
    m = m.merge(ready, on="machine_id", how="left")
    m["own_availability"] = m["machine_id"].map(own_avail)
    m = m.rename(columns={"note": "reliability_note"})
    extra = [
        "performance_flag",
        "utilisation",
        "run_hours",
        "breakdown_hours",
        "small_stop_hours",
        "setup_hours",
        "starved_hours",
        "blocked_hours",
        "total_count",
        "good_count",
        "mtbf_lower_hours",
        "mtbf_upper_hours",
        "mttf_hours",
        "repair_p90_hours",
        "inherent_availability",
        "own_availability",
        "replenishment_cycle_hours",
        "mtbf_cycles",
        "coverage_buffer_hours",
        "reliability_note",
    ]
    machine_table = m[[*MACHINE_COLUMNS, *extra]].copy()
    machine_table["failures"] = machine_table["failures"].fillna(0).astype(int)

    buffers, improvements = _buffer_table(
        wip_buffers,
        machines,
        oee,
        rel,
        machine_events,
        (w0, w1),
        target_line_efficiency,
        rng,
        simulate,
        failures,
        conventions.micro_stop_threshold_s,
    )
    outages = item_outage_processes(items, rel) if items is not None else {}
    return EquipmentReport(
        machines=machine_table,
        buffers=buffers,
        oee=oee,
        losses=loss_pareto(oee),
        reliability=rel,
        improvements=improvements,
        conventions=conventions,
        conventions_used=describe_conventions(conventions),
        window=(w0, w1),
        item_outages=outages,
    )


def _buffer_table(
    wip_buffers: pd.DataFrame | None,
    machines: pd.DataFrame,
    oee: pd.DataFrame,
    rel: pd.DataFrame,
    machine_events: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp],
    target: float,
    rng: np.random.Generator,
    simulate: bool,
    failures: FailureMode,
    micro_stop_threshold_s: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The buffer table; the failures behind its simulation check and coverage buffer are the
    same as MTBF / MTTR's: down stops of at least `micro_stop_threshold_s` (the conventions')."""
    empty = pd.DataFrame(columns=list(BUFFER_COLUMNS))
    if wip_buffers is None or wip_buffers.empty:
        return empty, pd.DataFrame()
    for col in ("buffer_id", "upstream_machine_id", "downstream_machine_id", "current_level"):
        if col not in wip_buffers.columns:
            raise InvalidInput(f"wip_buffers: missing column {col}")
    rates = _machine_rates(oee)
    relmap: dict[str, dict[str, object]] = {
        str(r["machine_id"]): {str(k): v for k, v in r.items()} for r in rel.to_dict("records")
    }
    planned_per_day: dict[str, float] = {}
    if "planned_hours_per_day" in machines.columns:
        for mid, h in zip(
            machines["machine_id"].astype(str), machines["planned_hours_per_day"], strict=True
        ):
            if h is not None and np.isfinite(h):
                planned_per_day[mid] = float(h)
    stops = failure_stops(
        machine_events, window=window, micro_stop_threshold_s=micro_stop_threshold_s
    )
    tbf = time_between_failures(stops, window, list(relmap))
    rows, improvements = [], []
    for row_no, b in enumerate(wip_buffers.to_dict("records"), start=1):
        up, down = str(b["upstream_machine_id"]), str(b["downstream_machine_id"])
        level = pd.to_numeric(pd.Series([b["current_level"]]), errors="coerce").iloc[0]
        if not (np.isfinite(level) and level >= 0):
            raise InvalidInput(
                f"wip_buffers row {row_no}, column current_level: {b['current_level']!r} is not "
                "a number >= 0 (units held in the buffer)"
            )
        level = float(level)
        cap = b.get("capacity")
        row: dict[str, object] = {
            "buffer_id": str(b["buffer_id"]),
            "upstream_machine_id": up,
            "downstream_machine_id": down,
            "current_level": level,
            "item_id": b.get("item_id", ""),
            "capacity": cap,
        }
        notes: list[str] = []
        r1, r2 = relmap.get(up), relmap.get(down)
        c1, c2 = rates.get(up, math.nan), rates.get(down, math.nan)
        if r1 is None or r2 is None:
            notes.append("a machine of this buffer has no event log")
        if not (math.isfinite(c1) and math.isfinite(c2)):
            notes.append("no measured rate or ideal cycle time for a machine of this buffer")

        def rel_figures(r: dict[str, object] | None) -> tuple[float, float]:
            if r is None:
                return math.nan, math.nan
            if int(r["failures"]) == 0:  # type: ignore[call-overload]
                return math.inf, NEVER_FAILED_MTTR_HOURS
            return float(r["mtbf_hours"]), float(r["mttr_hours"])  # type: ignore[arg-type]

        mtbf1, mttr1 = rel_figures(r1)
        mtbf2, mttr2 = rel_figures(r2)
        if not (math.isfinite(mttr1) and math.isfinite(mttr2)):
            notes.append("repair time unknown for a machine: the buffer cannot be modelled")
        ok = not notes
        if ok:
            hours = DAYS_PER_YEAR * planned_per_day.get(down, HOURS_PER_DAY)
            hl = hidden_loss(
                mtbf1,
                mttr1,
                mtbf2,
                mttr2,
                level,
                c1,
                hours,
                downstream_rate_per_hour=c2,
                failures=failures,
            )
            l1 = 0.0 if math.isinf(mtbf1) else 1 / mtbf1
            l2 = 0.0 if math.isinf(mtbf2) else 1 / mtbf2
            n_star = smallest_buffer(l1, 1 / mttr1, l2, 1 / mttr2, target, c1, c2, failures)
            rec = float(math.ceil(n_star - 1e-9)) if math.isfinite(n_star) else math.inf
            if math.isinf(rec):
                notes.append(f"no buffer reaches line efficiency {target:.0%}")
            le_rec = (
                fluid_two_machine(
                    l1, 1 / mttr1, l2, 1 / mttr2, rec, c1, c2, failures
                ).line_efficiency
                if math.isfinite(rec)
                else math.nan
            )
            if cap is not None and np.isfinite(cap) and math.isfinite(rec) and rec > cap:
                notes.append(f"recommended level {rec:g} exceeds the buffer capacity {cap:g}")
            assert r1 is not None
            cover = (
                repair_coverage_buffer(
                    c2,
                    upstream_rate_per_hour=c1,
                    mtbf_hours=mtbf1,
                    mttr_hours=mttr1,
                    repair_times_hours=(
                        stops.loc[stops["machine_id"] == up, "repair_hours"].dropna().to_numpy()
                        if int(r1["repairs_known"]) >= MIN_SAMPLES_FOR_EMPIRICAL  # type: ignore[call-overload]
                        else None
                    ),
                )
                if math.isfinite(mtbf1)
                else None
            )
            row.update(
                recommended_level=rec,
                line_efficiency_current=hl.line_efficiency_current,
                line_efficiency_recommended=le_rec,
                hidden_loss_hours=hl.masked_hours_per_year,
                line_efficiency_no_buffer=hl.line_efficiency_no_buffer,
                starved_hours_no_buffer=hl.starved_hours_no_buffer,
                starved_hours_current=hl.starved_hours_current,
                upstream_rate_per_hour=c1,
                downstream_rate_per_hour=c2,
                coverage_buffer_units=cover.buffer_units if cover else 0.0,
                coverage_conditions_hold=cover.conditions_hold if cover else True,
            )
            if simulate:
                row.update(
                    _simulate_buffer(
                        tbf,
                        stops,
                        up,
                        down,
                        mtbf1,
                        mttr1,
                        mtbf2,
                        mttr2,
                        c1,
                        c2,
                        level,
                        rng,
                        failures,
                    )
                )
            if math.isfinite(mtbf1) and math.isfinite(rec):
                # what each improvement needs to deliver the output of the recommended buffer
                imp = improvement_table(
                    mtbf1,
                    mttr1,
                    mtbf2,
                    mttr2,
                    rec,
                    c1,
                    downstream_rate_per_hour=c2,
                    failures=failures,
                )
                imp.insert(0, "buffer_id", str(b["buffer_id"]))
                improvements.append(imp)
        else:
            row.update(
                recommended_level=math.nan,
                line_efficiency_current=math.nan,
                line_efficiency_recommended=math.nan,
                hidden_loss_hours=math.nan,
            )
        row["note"] = "; ".join(notes)
        rows.append(row)
    table = pd.DataFrame(rows)
    front = [c for c in BUFFER_COLUMNS if c in table.columns]
    table = table[front + [c for c in table.columns if c not in front]]
    imps = pd.concat(improvements, ignore_index=True) if improvements else pd.DataFrame()
    return table, imps


def _simulate_buffer(
    tbf: pd.DataFrame,
    stops: pd.DataFrame,
    up: str,
    down: str,
    mtbf1: float,
    mttr1: float,
    mtbf2: float,
    mttr2: float,
    c1: float,
    c2: float,
    level: float,
    rng: np.random.Generator,
    failures: FailureMode,
) -> dict[str, float]:
    """Line efficiency of the buffer by simulation with the measured up / down times."""
    big = 1e12
    ups, downs = [], []
    for mid, mtbf, mttr in ((up, mtbf1, mttr1), (down, mtbf2, mttr2)):
        if math.isinf(mtbf):
            ups.append(np.array([big]))
            downs.append(np.array([1.0]))
            continue
        t = tbf.loc[(tbf["machine_id"] == mid) & tbf["observed"], "hours"].to_numpy(float)
        r = stops.loc[stops["machine_id"] == mid, "repair_hours"].to_numpy(float)
        ups.append(_samples(t, mtbf, MIN_SAMPLES_FOR_EMPIRICAL, rng))
        downs.append(_samples(r, mttr, MIN_SAMPLES_FOR_EMPIRICAL, rng))
    cycles = [
        float(np.mean(u)) + float(np.mean(d))
        for u, d in zip(ups, downs, strict=True)
        if np.mean(u) < big
    ]
    if not cycles:
        return {"line_efficiency_simulated": 1.0, "simulation_standard_error": 0.0}
    cycle = max(cycles)
    horizon = 400.0 * cycle
    shortest = min(min(float(np.mean(u)) for u in ups), min(float(np.mean(d)) for d in downs))
    dt = max(shortest / 50.0, horizon / 2e6)
    if level > 0:
        dt = min(dt, max(level / max(c1, c2) / 10.0, horizon / 4e6))
    res = simulate_serial_line(
        ups,
        downs,
        [c1, c2],
        [level],
        horizon=horizon,
        time_step=dt,
        failures=failures,
        seed=rng,
    )
    e = [float(np.mean(u) / (np.mean(u) + np.mean(d))) for u, d in zip(ups, downs, strict=True)]
    pr_inf = min(c1 * e[0], c2 * e[1])
    return {
        "line_efficiency_simulated": res.production_rate / pr_inf,
        "simulation_standard_error": res.standard_error / pr_inf,
    }


def simulate_measured_line(
    machines: pd.DataFrame,
    machine_events: pd.DataFrame,
    production_counts: pd.DataFrame | None,
    line: list[str],
    buffer_capacities: list[float],
    *,
    conventions: OeeConventions = OeeConventions(),  # noqa: B008 - frozen, immutable default
    horizon_hours: float | None = None,
    failures: FailureMode = "operation_dependent",
    seed: Seed = None,
    window: tuple[object, object] | None = None,
) -> SerialLineResult:
    """Simulate a serial line of measured machines (K >= 2) with K - 1 buffers [parts].

    Each machine's up times are its observed times between failures and its down times its
    measured repair times (resampled: the measured distributions, not a fitted shape); a
    machine with fewer than 5 of either gets exponential draws with its MTBF / MTTR, one that
    never failed a very long up time. Rates while up as in `analyze_equipment`. Default
    horizon: 400 of the longest mean failure cycle. Returns `lines.SerialLineResult` with the
    production rate in parts per hour.
    """
    if len(line) < 2 or len(buffer_capacities) != len(line) - 1:
        raise InvalidInput("a line needs >= 2 machine ids and one buffer capacity between each")
    rng = as_generator(seed)
    oee = compute_oee(machine_events, production_counts, machines, conventions, window=window)
    w0, w1 = pd.Timestamp(oee["period_start"].iloc[0]), pd.Timestamp(oee["period_end"].iloc[0])
    rates = _machine_rates(oee)
    rel = reliability_by_machine(
        machine_events,
        window=(w0, w1),
        micro_stop_threshold_s=conventions.micro_stop_threshold_s,
        machine_ids=list(line),
    )
    figures = {str(r["machine_id"]): r for r in rel.to_dict("records")}
    stops = failure_stops(
        machine_events, window=(w0, w1), micro_stop_threshold_s=conventions.micro_stop_threshold_s
    )
    tbf = time_between_failures(stops, (w0, w1), list(line))
    ups, downs, speeds = [], [], []
    for mid in line:
        if mid not in rates or mid not in figures:
            raise InvalidInput(
                f"machine {mid!r}: no events or no rate (counts or ideal cycle time)"
            )
        r = figures[mid]
        speeds.append(rates[mid])
        if int(r["failures"]) == 0:
            ups.append(np.array([1e12]))
            downs.append(np.array([1.0]))
            continue
        if not np.isfinite(r["mttr_hours"]):
            raise InvalidInput(
                f"machine {mid!r}: repair times unknown, the line cannot be simulated"
            )
        t = tbf.loc[(tbf["machine_id"] == mid) & tbf["observed"], "hours"].to_numpy(float)
        rep = stops.loc[stops["machine_id"] == mid, "repair_hours"].to_numpy(float)
        ups.append(_samples(t, float(r["mtbf_hours"]), MIN_SAMPLES_FOR_EMPIRICAL, rng))
        downs.append(_samples(rep, float(r["mttr_hours"]), MIN_SAMPLES_FOR_EMPIRICAL, rng))
    finite = [
        float(np.mean(u) + np.mean(d)) for u, d in zip(ups, downs, strict=True) if np.mean(u) < 1e11
    ]
    horizon = horizon_hours or 400.0 * (max(finite) if finite else 100.0)
    shortest = min(min(float(np.mean(u)) for u in ups), min(float(np.mean(d)) for d in downs))
    dt = max(shortest / 50.0, horizon / 4e6)
    positive = [b for b in buffer_capacities if b > 0]
    if positive:
        dt = min(dt, max(min(positive) / max(speeds) / 10.0, horizon / 8e6))
    return simulate_serial_line(
        ups,
        downs,
        speeds,
        buffer_capacities,
        horizon=horizon,
        time_step=dt,
        failures=failures,
        seed=rng,
    )
