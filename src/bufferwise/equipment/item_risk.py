"""A machine's downtime as a supply-outage process for the items it makes or consumes.

A failure of the machine that makes an item is a supply outage of that item (and a consumption
stop for what it consumes). The decision code sizes buffers against supply outages; this module
turns the reliability figures into that form:

    outage_rate_per_year   outages per calendar year = failures / observed hours x 8760
                           (about 8760 / (MTBF + MTTR))
    mean_outage_days       MTTR / 24
    p90_outage_days        measured 90th percentile of repair times / 24 when at least
                           `min_repairs_for_quantile` repairs are known, else exponential
                           -MTTR ln(0.1) / 24
    availability           MTBF / (MTBF + MTTR)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bufferwise.equipment.constants import HOURS_PER_DAY, MIN_SAMPLES_FOR_EMPIRICAL
from bufferwise.errors import InvalidInput

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, slots=True)
class SupplyOutageProcess:
    """Outages of one machine, as seen by the items it makes or consumes.

    outage_rate_per_year  expected outages per year
    mean_outage_days      mean outage duration [days] (NaN: repair times unknown)
    p90_outage_days       90th percentile of the outage duration [days]
    availability          long-run share of time the machine is not in an outage
    duration_model        "empirical" or "exponential" (how p90 was obtained) or "unknown"
    """

    machine_id: str
    outage_rate_per_year: float
    mean_outage_days: float
    p90_outage_days: float
    availability: float
    failures_observed: int
    observed_days: float
    duration_model: str
    note: str = ""

    @property
    def expected_outage_days_per_year(self) -> float:
        """Expected days per year in an outage (rate x mean duration)."""
        return self.outage_rate_per_year * self.mean_outage_days


def outage_process(
    reliability_row: pd.Series | dict[str, object],
    min_repairs_for_quantile: int = MIN_SAMPLES_FOR_EMPIRICAL,
) -> SupplyOutageProcess:
    """SupplyOutageProcess from one row of `reliability.reliability_by_machine`."""
    r = dict(reliability_row)
    try:
        mid = str(r["machine_id"])
        failures = int(r["failures"])
        exposure = float(r["exposure_hours"])
        mttr = float(r["mttr_hours"])
        p90 = float(r.get("repair_p90_hours", math.nan))
        known = int(r.get("repairs_known", 0))
        observed = float(r.get("observed_hours", exposure))
    except KeyError as exc:
        raise InvalidInput(f"reliability row lacks {exc.args[0]!r}") from None
    # outages per calendar year: a failure-and-repair cycle lasts MTBF + MTTR on average
    rate = failures / observed * HOURS_PER_YEAR if observed > 0 else math.nan
    note = ""
    if not math.isfinite(mttr):
        model, p90_h, avail = "unknown", math.nan, math.nan
        note = "repair times unknown: outage durations cannot be estimated from this log"
    elif known >= min_repairs_for_quantile and math.isfinite(p90):
        model, p90_h = "empirical", p90
        avail = exposure / (exposure + mttr * failures) if failures else 1.0
    else:
        model, p90_h = "exponential", -mttr * math.log(0.1)
        avail = exposure / (exposure + mttr * failures) if failures else 1.0
        note = f"only {known} repair time(s) known: p90 assumes exponential repair times"
    if failures == 0:
        note = (note + "; " if note else "") + "no failure observed"
        avail = 1.0
    return SupplyOutageProcess(
        machine_id=mid,
        outage_rate_per_year=rate,
        mean_outage_days=mttr / HOURS_PER_DAY if failures else 0.0,
        p90_outage_days=p90_h / HOURS_PER_DAY if failures else 0.0,
        availability=avail,
        failures_observed=failures,
        observed_days=observed / HOURS_PER_DAY,
        duration_model=model,
        note=note,
    )


def item_outage_processes(
    items: pd.DataFrame, reliability: pd.DataFrame
) -> dict[str, SupplyOutageProcess]:
    """For each item with a machine_id found in `reliability`, that machine's outage process.

    Items without a machine, or whose machine has no reliability row, are left out.
    """
    if "item_id" not in items.columns or "machine_id" not in items.columns:
        raise InvalidInput("items needs columns item_id and machine_id to link machines to items")
    by_machine = {str(row["machine_id"]): outage_process(row) for _, row in reliability.iterrows()}
    out: dict[str, SupplyOutageProcess] = {}
    for item, machine in zip(items["item_id"].astype(str), items["machine_id"], strict=True):
        if isinstance(machine, str) and machine in by_machine:
            out[item] = by_machine[machine]
        elif machine is not None and not (isinstance(machine, float) and math.isnan(machine)):
            key = str(machine)
            if key in by_machine:
                out[item] = by_machine[key]
    return out
