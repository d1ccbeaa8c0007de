"""The fixed figures of the equipment analysis, each with its reason or source, in one place.

The JIT-readiness thresholds here are only the defaults of `ReadinessCriteria`; a plant sets
them in the settings file (`[equipment]` min_availability, min_mtbf_cycles, small_buffer_hours,
target_line_efficiency; docs/settings.md). The others are conventions of the method, stated in
docs/equipment.md.
"""

from __future__ import annotations

import math

HOURS_PER_DAY = 24.0
"""Unit conversion; also the planned hours per day of a machine whose `machines` row gives no
planned_hours_per_day (it is assumed to run round the clock)."""

DAYS_PER_YEAR = 365.0
"""Planned days a year of the hidden-loss figure (hours per year = 365 x planned hours per
day): every calendar day, as the demo plant and a round-the-clock line run."""

DEFAULT_REPLENISHMENT_CYCLE_HOURS = HOURS_PER_DAY
"""Replenishment cycle of what a machine feeds when neither the caller nor the items give one:
one day, the usual call-off rhythm of a daily kanban / JIT loop. Items with a machine_id
replace it by their own 24 x (nominal_lead_time_days + review_period_days)."""

MIN_SAMPLES_FOR_EMPIRICAL = 5
"""Fewest measured repair (or up) times from which their empirical distribution is used (the
p90 repair time of readiness and the coverage buffer, the resampled times of the simulation
check); with fewer, exponential times with the measured mean are used. Below 5 points a 90th
percentile is the largest value seen, not a quantile estimate."""

NEVER_FAILED_MTTR_HOURS = 1.0
"""Stand-in repair time of a machine that never failed in the window, for the buffer model: its
failure rate is 0, so the machine is never down and this figure never enters a result (any
positive value gives the same line); it only keeps the repair rate 1 / MTTR finite."""

RARE_EVENT_FACTOR = 10.0
"""'Rare' in the readiness and coverage rules: a mean time between failures of at least 10 of
the intervals that matter keeps the chance of a failure inside one interval at most
1 - exp(-1/10) = 9.5%. Used for "ready" (MTBF >= 10 replenishment cycles, the default of
`min_mtbf_cycles`) and for "failures come one at a time" of the coverage buffer (MTBF >= 10 x
the covered repair time). A judgement, not a published figure: settable for readiness."""

DEFAULT_TARGET_LINE_EFFICIENCY = 0.95
"""No-buffer line efficiency a JIT link needs, and the target of WIP buffer sizing: the
consumer gets at least 95% of the output an unlimited buffer would give (a judgement; settings
[equipment] target_line_efficiency)."""

DEFAULT_MIN_MTBF_CYCLES = RARE_EVENT_FACTOR
"""MTBF in replenishment cycles for "ready" (see RARE_EVENT_FACTOR; settings [equipment]
min_mtbf_cycles)."""

DEFAULT_MIN_AVAILABILITY = 0.85
"""Availability below which no buffer makes a machine fit for a lean link (settings
[equipment] min_availability). A judgement, not a published figure: a buffer rides through
repairs but cannot make up capacity; below 85% the machine loses more than one hour in seven
of its planned time, and a consumer paced to it runs short whenever demand needs the lost
capacity. (For comparison, Nakajima's "world class" benchmark is 90% availability.)"""

DEFAULT_REPAIR_QUANTILE = 0.9
"""Repair-time quantile the coverage buffer rides through: a repair longer than it (one
failure in ten) still starves the consumer."""


def check_readiness_thresholds(
    *,
    target_line_efficiency: float,
    min_mtbf_cycles: float,
    small_buffer_hours: float | None,
    min_availability: float,
    repair_quantile: float,
    one_cycle: str = "None",
) -> list[str]:
    """What is wrong with readiness thresholds, each as 'name value: expected ...' (empty when
    all are valid). Shared by `ReadinessCriteria` and the settings file check; `one_cycle` is
    how the caller spells small_buffer_hours' "one replenishment cycle" (None in Python, a
    string in the settings file)."""
    problems = []

    def number(x: object) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and not math.isnan(x)

    if not (number(target_line_efficiency) and 0 < target_line_efficiency <= 1):
        problems.append(
            f"target_line_efficiency {target_line_efficiency!r}: expected a share in (0, 1]"
        )
    if not (number(min_mtbf_cycles) and 0 < min_mtbf_cycles < math.inf):
        problems.append(
            f"min_mtbf_cycles {min_mtbf_cycles!r}: expected a number of replenishment cycles > 0"
        )
    if small_buffer_hours is not None and not (
        number(small_buffer_hours) and 0 < small_buffer_hours < math.inf
    ):
        problems.append(
            f"small_buffer_hours {small_buffer_hours!r}: expected hours of consumption > 0, "
            f"or {one_cycle} (one replenishment cycle)"
        )
    if not (number(min_availability) and 0 <= min_availability <= 1):
        problems.append(f"min_availability {min_availability!r}: expected a share in [0, 1]")
    if not (number(repair_quantile) and 0 < repair_quantile < 1):
        problems.append(f"repair_quantile {repair_quantile!r}: expected a share in (0, 1)")
    return problems
