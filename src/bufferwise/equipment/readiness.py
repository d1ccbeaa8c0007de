"""JIT readiness: is a machine reliable enough to feed its consumer with no (or a small) buffer?

Per machine, from measured figures:
    availability                 share of planned time the machine can produce
    no-buffer line efficiency    output a consumer coupled with no buffer gets, relative to
                                 what an infinite buffer would give (for a machine with a
                                 WIP buffer to a neighbour: the two-machine line at N = 0;
                                 otherwise the machine's availability)
    MTBF / replenishment cycle   how many replenishment cycles of what it feeds pass between
                                 failures; P(failure in a cycle) = 1 - exp(-cycle / MTBF)
    coverage buffer              hours of consumption that ride through a repair (the repair
                                 time quantile, see `lines.repair_coverage_buffer`)

Verdict (`ReadinessCriteria` holds the thresholds, defaults stated there):
    ready                    no-buffer efficiency >= target and MTBF >= min_mtbf_cycles cycles
    ready_with_small_buffer  otherwise, when a buffer of at most small_buffer_hours of
                             consumption covers the repair-time quantile and availability is at
                             least min_availability (a buffer hides a repair; it cannot make up
                             capacity a machine lacks)
    not_ready                otherwise
When repair times are unknown (MTTR NaN for a machine that failed: failures logged as
instantaneous events) the verdict rests on MTBF alone, whatever the availability: ready at
>= min_mtbf_cycles cycles, ready_with_small_buffer at >= 1 cycle, else not_ready.
The reason is generated from the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from bufferwise.equipment.constants import (
    DEFAULT_MIN_AVAILABILITY,
    DEFAULT_MIN_MTBF_CYCLES,
    DEFAULT_REPAIR_QUANTILE,
    DEFAULT_REPLENISHMENT_CYCLE_HOURS,
    DEFAULT_TARGET_LINE_EFFICIENCY,
    MIN_SAMPLES_FOR_EMPIRICAL,
    check_readiness_thresholds,
)
from bufferwise.errors import InvalidInput

Verdict = Literal["ready", "ready_with_small_buffer", "not_ready"]


@dataclass(frozen=True, slots=True)
class ReadinessCriteria:
    """Thresholds of the verdict (defaults and their reasons: `bufferwise.equipment.constants`;
    a plant sets them in the settings file, [equipment]).

    target_line_efficiency  0.95: no-buffer line efficiency a JIT link needs, in (0, 1]
    min_mtbf_cycles         10: MTBF in replenishment cycles for "ready" (P(failure in a
                            cycle) <= 1 - exp(-1/10) = 9.5%), > 0
    small_buffer_hours      None = one replenishment cycle: the largest coverage buffer, in hours
                            of consumption, still called "small"; else hours > 0
    min_availability        0.85: below it no buffer makes the machine fit for a lean link,
                            in [0, 1]
    repair_quantile         0.9: repair-time quantile the coverage buffer rides through, in (0, 1)

    Values outside these ranges raise InvalidInput naming each one and what was expected.
    """

    target_line_efficiency: float = DEFAULT_TARGET_LINE_EFFICIENCY
    min_mtbf_cycles: float = DEFAULT_MIN_MTBF_CYCLES
    small_buffer_hours: float | None = None
    min_availability: float = DEFAULT_MIN_AVAILABILITY
    repair_quantile: float = DEFAULT_REPAIR_QUANTILE

    def __post_init__(self) -> None:
        problems = check_readiness_thresholds(
            target_line_efficiency=self.target_line_efficiency,
            min_mtbf_cycles=self.min_mtbf_cycles,
            small_buffer_hours=self.small_buffer_hours,
            min_availability=self.min_availability,
            repair_quantile=self.repair_quantile,
        )
        if problems:
            raise InvalidInput("ReadinessCriteria: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Readiness:
    """One machine's JIT readiness; times in hours."""

    machine_id: str
    verdict: Verdict
    availability: float
    no_buffer_line_efficiency: float
    target_line_efficiency: float
    mtbf_hours: float
    mttr_hours: float
    replenishment_cycle_hours: float
    mtbf_cycles: float
    failure_probability_per_cycle: float
    coverage_buffer_hours: float
    reason: str


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.1%}"


def jit_readiness(
    machine_id: str,
    *,
    availability: float,
    mtbf_hours: float,
    mttr_hours: float,
    replenishment_cycle_hours: float,
    failures: int | None = None,
    repair_quantile_hours: float | None = None,
    no_buffer_line_efficiency: float | None = None,
    criteria: ReadinessCriteria | None = None,
) -> Readiness:
    """Verdict for one machine (see module docstring).

    availability               fraction (OEE availability, or MTBF / (MTBF + MTTR))
    mtbf_hours, mttr_hours     own failures only; mtbf inf when none failed, mttr NaN if unknown
    replenishment_cycle_hours  replenishment cycle of what the machine feeds [h]
    repair_quantile_hours      the repair-time quantile; default exponential from MTTR
    no_buffer_line_efficiency  default: availability
    """
    crit = criteria or ReadinessCriteria()
    cycle = float(replenishment_cycle_hours)
    if not cycle > 0:
        raise InvalidInput(
            f"{machine_id}: replenishment_cycle_hours {replenishment_cycle_hours!r} must be > 0"
        )
    small = crit.small_buffer_hours if crit.small_buffer_hours is not None else cycle
    a = float(availability)
    eff = a if no_buffer_line_efficiency is None else float(no_buffer_line_efficiency)
    mtbf, mttr = float(mtbf_hours), float(mttr_hours)
    cycles = mtbf / cycle if math.isfinite(mtbf) or mtbf == math.inf else float("nan")
    p_fail = 1.0 - math.exp(-cycle / mtbf) if mtbf > 0 and not math.isnan(mtbf) else float("nan")
    if failures == 0 or mtbf == math.inf:
        cover = 0.0  # no failure to ride through; other availability losses remain
    elif repair_quantile_hours is not None and math.isfinite(repair_quantile_hours):
        cover = float(repair_quantile_hours)
    elif math.isfinite(mttr):
        cover = -mttr * math.log(1.0 - crit.repair_quantile)
    else:
        cover = float("nan")
    t = crit.target_line_efficiency
    q = f"p{round(crit.repair_quantile * 100)}"
    parts: list[str] = []
    if failures == 0 or mtbf == math.inf:
        parts.append(f"no failure observed; availability {_pct(a)}")
    else:
        parts.append(
            f"MTBF {mtbf:.1f} h = {cycles:.1f} replenishment cycles of {cycle:g} h "
            f"(P(failure in a cycle) {_pct(p_fail)}, need >= {crit.min_mtbf_cycles:g} cycles)"
        )
    verdict: Verdict
    failed = not (failures == 0 or mtbf == math.inf)
    # repair times unknown (failures logged as instants): the verdict rests on MTBF alone,
    # whatever the availability (docs/equipment.md section 3); a machine that never failed
    # has no repair to know and is judged by its availability
    if math.isnan(mttr) and (failed or math.isnan(eff)):
        parts.append("repair times unknown: verdict from MTBF alone")
        if cycles >= crit.min_mtbf_cycles:
            verdict = "ready"
        elif cycles >= 1:
            verdict = "ready_with_small_buffer"
        else:
            verdict = "not_ready"
    else:
        parts.append(f"no-buffer line efficiency {_pct(eff)} vs target {_pct(t)}")
        if eff >= t and (not math.isfinite(cycles) or cycles >= crit.min_mtbf_cycles):
            verdict = "ready"
        elif (
            math.isfinite(cover)
            and cover <= small
            and (math.isnan(a) or a >= crit.min_availability)
        ):
            verdict = "ready_with_small_buffer"
            if cover > 0:
                parts.append(
                    f"{q} repair {cover:.1f} h is covered by {cover:.1f} h of consumption "
                    f"<= {small:g} h"
                )
            else:
                parts.append(
                    f"the losses are not failures (availability {_pct(a)}): a buffer of the "
                    "longest planned loss (e.g. a changeover) covers them"
                )
        else:
            verdict = "not_ready"
            if math.isfinite(cover) and cover > small:
                parts.append(
                    f"{q} repair {cover:.1f} h needs {cover:.1f} h of consumption in buffer "
                    f"> {small:g} h"
                )
            if math.isfinite(a) and a < crit.min_availability:
                parts.append(f"availability {_pct(a)} < {_pct(crit.min_availability)}")
            if not math.isfinite(cover):
                parts.append("repair times unknown")
    return Readiness(
        machine_id=machine_id,
        verdict=verdict,
        availability=a,
        no_buffer_line_efficiency=eff,
        target_line_efficiency=t,
        mtbf_hours=mtbf,
        mttr_hours=mttr,
        replenishment_cycle_hours=cycle,
        mtbf_cycles=cycles,
        failure_probability_per_cycle=p_fail,
        coverage_buffer_hours=cover,
        reason=f"{verdict}: " + "; ".join(parts),
    )


def readiness_table(
    reliability: pd.DataFrame,
    availability: Mapping[str, float] | None = None,
    *,
    replenishment_cycle_hours: float | Mapping[str, float] = DEFAULT_REPLENISHMENT_CYCLE_HOURS,
    no_buffer_line_efficiency: Mapping[str, float] | None = None,
    criteria: ReadinessCriteria | None = None,
) -> pd.DataFrame:
    """`jit_readiness` for each row of `reliability.reliability_by_machine`.

    availability  per machine (e.g. OEE availability); default the inherent availability
    """
    rows = []
    for rec in reliability.to_dict("records"):
        mid = str(rec["machine_id"])
        a = (availability or {}).get(mid, float("nan"))
        if a is None or (isinstance(a, float) and math.isnan(a)):
            a = float(rec.get("inherent_availability", float("nan")))
        cyc = (
            replenishment_cycle_hours.get(mid, DEFAULT_REPLENISHMENT_CYCLE_HOURS)
            if isinstance(replenishment_cycle_hours, Mapping)
            else replenishment_cycle_hours
        )
        eff = (no_buffer_line_efficiency or {}).get(mid)
        p90 = rec.get("repair_p90_hours", float("nan"))
        r = jit_readiness(
            mid,
            availability=float(a),
            mtbf_hours=float(rec["mtbf_hours"]),
            mttr_hours=float(rec["mttr_hours"]),
            replenishment_cycle_hours=float(cyc),
            failures=int(rec["failures"]),
            repair_quantile_hours=(
                float(p90)
                if p90 is not None
                and np.isfinite(p90)
                and rec["repairs_known"] >= MIN_SAMPLES_FOR_EMPIRICAL
                else None
            ),
            no_buffer_line_efficiency=None if eff is None else float(eff),
            criteria=criteria,
        )
        rows.append(
            {
                "machine_id": mid,
                "jit_readiness": r.verdict,
                "readiness_availability": r.availability,
                "no_buffer_line_efficiency": r.no_buffer_line_efficiency,
                "replenishment_cycle_hours": r.replenishment_cycle_hours,
                "mtbf_cycles": r.mtbf_cycles,
                "failure_probability_per_cycle": r.failure_probability_per_cycle,
                "coverage_buffer_hours": r.coverage_buffer_hours,
                "reason": r.reason,
            }
        )
    return pd.DataFrame(rows)
