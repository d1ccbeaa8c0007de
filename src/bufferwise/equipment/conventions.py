"""OEE conventions: the choices that differ between standards and vendors, with stated defaults.

Every OEE figure bufferwise prints depends on these choices; `describe_conventions` returns
them in words so that a report always says which were used.

Defaults follow the Vorne / oee.com "preferred calculation" (OEE = A x P x Q over planned
production time) with the machine-state words of `bufferwise.model.schema.MACHINE_STATES`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from bufferwise.errors import InvalidInput

TimeTreatment = Literal["availability_loss", "not_planned"]

DEFAULT_MICRO_STOP_THRESHOLD_S = 300.0
"""Down stops shorter than this [s] are small stops (5 min; see OeeConventions)."""


@dataclass(frozen=True, slots=True)
class OeeConventions:
    """How each machine state enters OEE.

    planned_stop           always excluded from planned production time (breaks, no shift,
                           planned maintenance); not configurable, it is what the state means.
    setup                  "availability_loss" (default; Vorne and ISO 22400 count changeovers
                           as lost availability) or "not_planned" (excluded from planned time).
    idle                   "not_planned" (default; the schema defines idle as "available, not
                           asked to produce", i.e. no demand) or "availability_loss".
    starved_blocked        "availability_loss" (default; OEE measures what the machine delivered,
                           whatever the cause) or "not_planned" (machine-only view: a
                           neighbour's loss is not counted against this machine).
    micro_stop_threshold_s down stops shorter than this [s] are "small stops": they stay inside
                           run time and lower performance; longer ones are "breakdowns" and
                           lower availability. Default 300 s (5 min). 0 = every stop is a
                           breakdown. Contiguous down records are merged into one stop first.
    unlogged_time          time inside the analysis window with no state record is
                           "not_planned" (default; unobserved time is not judged) or
                           "availability_loss".
    shift_start_hours      start hours (0-24, UTC) of the shifts of a day, for per-shift OEE.
                           Default (6, 14, 22): three 8-hour shifts.
    week_start             first day of a reporting week, 0 = Monday (default) ... 6 = Sunday.
    """

    setup: TimeTreatment = "availability_loss"
    idle: TimeTreatment = "not_planned"
    starved_blocked: TimeTreatment = "availability_loss"
    micro_stop_threshold_s: float = DEFAULT_MICRO_STOP_THRESHOLD_S
    unlogged_time: TimeTreatment = "not_planned"
    shift_start_hours: tuple[float, ...] = field(default=(6.0, 14.0, 22.0))
    week_start: int = 0

    def __post_init__(self) -> None:
        for name in ("setup", "idle", "starved_blocked", "unlogged_time"):
            value = getattr(self, name)
            if value not in ("availability_loss", "not_planned"):
                raise InvalidInput(
                    f"OeeConventions.{name}: {value!r} is not allowed "
                    "(expected 'availability_loss' or 'not_planned')"
                )
        if not self.micro_stop_threshold_s >= 0:
            raise InvalidInput(
                f"OeeConventions.micro_stop_threshold_s: {self.micro_stop_threshold_s!r} "
                "must be a number >= 0 (seconds)"
            )
        hours = tuple(float(h) for h in self.shift_start_hours)
        if not hours or any(not 0 <= h < 24 for h in hours) or list(hours) != sorted(set(hours)):
            raise InvalidInput(
                f"OeeConventions.shift_start_hours: {self.shift_start_hours!r} must be distinct "
                "increasing hours in [0, 24), e.g. (6, 14, 22)"
            )
        if self.week_start not in range(7):
            raise InvalidInput(
                f"OeeConventions.week_start: {self.week_start!r} must be 0 (Monday) .. 6 (Sunday)"
            )

    def as_dict(self) -> dict[str, object]:
        """The settings as a plain dict (for JSON reports)."""
        return asdict(self)


def describe_conventions(conventions: OeeConventions) -> list[str]:
    """The conventions in words, one line each, as printed with every OEE report."""
    c = conventions

    def treat(value: TimeTreatment) -> str:
        if value == "availability_loss":
            return "counted in planned production time as an availability loss"
        return "excluded from planned production time"

    shifts = ", ".join(f"{h:g}:00" for h in c.shift_start_hours)
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return [
        "OEE = availability x performance x quality over planned production time "
        "(Vorne 'preferred calculation'); roll-ups sum times and counts, ratios are never averaged",
        "planned_stop: excluded from planned production time",
        f"setup: {treat(c.setup)}",
        f"idle: {treat(c.idle)}",
        f"starved / blocked: {treat(c.starved_blocked)}",
        f"down stops shorter than {c.micro_stop_threshold_s:g} s: small stops (performance loss); "
        "longer: breakdowns (availability loss); contiguous down records merged into one stop",
        f"time with no state record: {treat(c.unlogged_time)}",
        "performance above 100% is flagged (the ideal cycle time is too slow), never capped",
        "TEEP = OEE x utilisation, utilisation = planned production time / calendar time",
        "startup rejects are separated only when production_counts has a "
        "startup_reject_count column; otherwise every reject is a production reject",
        f"shifts start at {shifts} UTC; weeks start on {days[c.week_start]}",
    ]
