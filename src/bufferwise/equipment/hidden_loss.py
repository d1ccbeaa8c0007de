"""Hidden loss: the upstream unavailability a WIP buffer masks, and what improvement frees.

For a buffer of N parts between an upstream machine (failure rate l1 = 1/MTBF1, repair rate
m1 = 1/MTTR1, rate c1 [parts / h]) and a downstream machine (l2, m2, c2), the exponential
fluid model (`lines.fluid_two_machine`, time-dependent failures by default) gives the downstream
machine's lost output while it is up but short of input, in hours of its own output:

    starved(N) = (c2 e2 - PR(N)) / c2;   with no buffer PR(0) = min(c1, c2) e1 e2
                                         (operation-dependent: min(c1, c2) / (1 + l1/m1 + l2/m2))

    masked hours per year = (starved(0) - starved(N)) x planned hours per year
                          = (PR(N) - PR(0)) / c2 x planned hours per year

This is the "JIT exposes problems" figure: take the buffer away and this much upstream
downtime reaches the downstream machine. An improvement of MTTR (x factor < 1) or MTBF
(x factor > 1) lets the buffer shrink: `buffer_after_improvement` is the smallest buffer that
keeps today's production rate PR(N) with the improved machine.

Not the same figure: `stop_hours_ridden_out` (used by decide's `hidden_loss` finding) counts
the upstream machine's own down hours a year during which a buffer holding `cover` hours of
consumption keeps the consumer supplied, *assuming the buffer is full when each stop starts*
(exponential stops: rate x E[min(stop, cover)]). It is an upper bound of the masked hours:
it ignores whether the feeding machine can refill the buffer between stops and the consumer's
own stops, which the fluid model above accounts for. Where the upstream machine is the
bottleneck (c1 e1 <= c2 e2 and the downstream never fails) the buffer cannot refill, its
output lost in a stop is lost for the line, and masked_hours_per_year is 0 while every stop
shorter than the cover is still "ridden out".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from scipy import optimize

from bufferwise.equipment.lines import FailureMode, fluid_two_machine
from bufferwise.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class HiddenLoss:
    """Starvation of the downstream machine with and without the buffer [h / year]."""

    buffer_units: float
    production_rate_no_buffer: float
    production_rate_current: float
    starved_hours_no_buffer: float
    starved_hours_current: float
    masked_hours_per_year: float
    line_efficiency_no_buffer: float
    line_efficiency_current: float


def hidden_loss(
    upstream_mtbf_hours: float,
    upstream_mttr_hours: float,
    downstream_mtbf_hours: float,
    downstream_mttr_hours: float,
    buffer_units: float,
    rate_per_hour: float,
    planned_hours_per_year: float = 8760.0,
    downstream_rate_per_hour: float | None = None,
    failures: FailureMode = "time_dependent",
) -> HiddenLoss:
    """Upstream unavailability masked by a buffer of `buffer_units` parts (see module doc).

    MTBF inf = never fails. rate_per_hour: c1, the upstream machine's speed when up
    [parts / h]; downstream_rate_per_hour: c2 (default c1); failures: the failure convention
    of `lines.fluid_two_machine`.
    """
    c2 = rate_per_hour if downstream_rate_per_hour is None else downstream_rate_per_hour
    l1 = 0.0 if math.isinf(upstream_mtbf_hours) else 1.0 / upstream_mtbf_hours
    l2 = 0.0 if math.isinf(downstream_mtbf_hours) else 1.0 / downstream_mtbf_hours
    m1, m2 = 1.0 / upstream_mttr_hours, 1.0 / downstream_mttr_hours
    if not all(math.isfinite(v) and v >= 0 for v in (l1, l2, m1, m2)) or m1 == 0 or m2 == 0:
        raise InvalidInput(
            "hidden_loss needs MTBF > 0 (inf allowed) and a finite MTTR > 0 for both machines"
        )
    zero = fluid_two_machine(l1, m1, l2, m2, 0.0, rate_per_hour, c2, failures)
    now = fluid_two_machine(l1, m1, l2, m2, float(buffer_units), rate_per_hour, c2, failures)
    h = float(planned_hours_per_year)
    return HiddenLoss(
        buffer_units=float(buffer_units),
        production_rate_no_buffer=zero.production_rate,
        production_rate_current=now.production_rate,
        starved_hours_no_buffer=zero.starved_2 * h,
        starved_hours_current=now.starved_2 * h,
        masked_hours_per_year=(zero.starved_2 - now.starved_2) * h,
        line_efficiency_no_buffer=zero.line_efficiency,
        line_efficiency_current=now.line_efficiency,
    )


def stop_hours_ridden_out(
    outage_rate_per_year: float, mean_outage_hours: float, cover_hours: float
) -> float:
    """Down hours a year of a machine that a buffer of `cover_hours` of consumption outlasts,
    the buffer full at the start of every stop [h / year] (module docstring):

        rate x E[min(X, cover)] = rate x mean x (1 - exp(-cover / mean)),  X ~ Exp(mean)

    At most rate x mean (all the machine's down hours); 0 for no cover or no stops. An upper
    bound of `HiddenLoss.masked_hours_per_year`, not the same figure."""
    rate, mean, cover = float(outage_rate_per_year), float(mean_outage_hours), float(cover_hours)
    if not (math.isfinite(rate) and math.isfinite(mean)) or rate <= 0 or mean <= 0:
        return 0.0
    if cover <= 0:
        return 0.0
    return rate * mean * -math.expm1(-cover / mean)


def buffer_after_improvement(
    upstream_mtbf_hours: float,
    upstream_mttr_hours: float,
    downstream_mtbf_hours: float,
    downstream_mttr_hours: float,
    buffer_units: float,
    rate_per_hour: float,
    *,
    mttr_factor: float = 1.0,
    mtbf_factor: float = 1.0,
    downstream_rate_per_hour: float | None = None,
    failures: FailureMode = "time_dependent",
) -> float:
    """Smallest buffer [parts] that keeps today's production rate PR(buffer_units) once the
    upstream machine's MTTR is multiplied by `mttr_factor` and its MTBF by `mtbf_factor`."""
    if mttr_factor <= 0 or mtbf_factor <= 0:
        raise InvalidInput("mttr_factor and mtbf_factor must be > 0")
    l1 = 0.0 if math.isinf(upstream_mtbf_hours) else 1.0 / upstream_mtbf_hours
    l2 = 0.0 if math.isinf(downstream_mtbf_hours) else 1.0 / downstream_mtbf_hours
    m1, m2 = 1.0 / upstream_mttr_hours, 1.0 / downstream_mttr_hours
    c = rate_per_hour
    c2 = c if downstream_rate_per_hour is None else downstream_rate_per_hour
    goal = fluid_two_machine(l1, m1, l2, m2, buffer_units, c, c2, failures).production_rate
    l1n, m1n = l1 / mtbf_factor, m1 / mttr_factor

    def gap(n: float) -> float:
        return fluid_two_machine(l1n, m1n, l2, m2, n, c, c2, failures).production_rate - goal

    if gap(0.0) >= -1e-12:
        return 0.0
    if gap(math.inf) < -1e-12:
        return math.inf
    hi = max(float(buffer_units), max(c, c2) / m1n, 1.0)
    while gap(hi) < 0:
        hi *= 2
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-9 * hi))


def improvement_table(
    upstream_mtbf_hours: float,
    upstream_mttr_hours: float,
    downstream_mtbf_hours: float,
    downstream_mttr_hours: float,
    buffer_units: float,
    rate_per_hour: float,
    scenarios: Sequence[tuple[str, float, float]] = (
        ("MTTR -25%", 0.75, 1.0),
        ("MTTR -50%", 0.5, 1.0),
        ("MTBF +50%", 1.0, 1.5),
        ("MTBF x2", 1.0, 2.0),
    ),
    downstream_rate_per_hour: float | None = None,
    failures: FailureMode = "time_dependent",
) -> pd.DataFrame:
    """Buffer each improvement scenario (name, mttr_factor, mtbf_factor) allows, same output.

    Columns: scenario, mtbf_hours, mttr_hours, buffer_units, buffer_reduction_units.
    """
    rows = []
    for name, f_r, f_b in scenarios:
        n = buffer_after_improvement(
            upstream_mtbf_hours,
            upstream_mttr_hours,
            downstream_mtbf_hours,
            downstream_mttr_hours,
            buffer_units,
            rate_per_hour,
            mttr_factor=f_r,
            mtbf_factor=f_b,
            downstream_rate_per_hour=downstream_rate_per_hour,
            failures=failures,
        )
        rows.append(
            {
                "scenario": name,
                "mtbf_hours": upstream_mtbf_hours * f_b,
                "mttr_hours": upstream_mttr_hours * f_r,
                "buffer_units": n,
                "buffer_reduction_units": float(buffer_units) - n,
            }
        )
    return pd.DataFrame(rows)
