"""Suppliers, their outages and the purchase-order / work-order history of the example plant.

Dates are day indexes from the plant's start. A purchase-order line is placed every
`order_interval` days (first one at a random offset) for the demand of the previous interval,
rounded up to the order multiple and at least the MOQ; intervals with no demand place no
order. promised = order + the item's nominal lead time (times lead_time_ratio after the item's
drift day, for items whose supplier quietly lengthened its lead time). received = promised,
minus 0-2 days early for an on-time line, or plus a geometric number of days (mean
late_days_mean, at least 1) for a late one. A line whose receipt would fall inside an outage of its
supplier is held and received on the outage's end day plus 0-3 days. Lines received after the
horizon are still open and left out. A short delivery receives 50-95% of the quantity.

Work orders of made items (supplier "LINE-<line>") promise order + 3 days and finish late by
ceil((down hours of the making machine in the window - 15% of the window) / 16) days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SupplierSpec:
    """One supplier. Lead times in days; outages drawn as (earliest start, latest start,
    shortest, longest) day ranges."""

    supplier_id: str
    name: str
    distance: str
    lead_time_days: float
    on_time_probability: float
    late_days_mean: float
    short_delivery_probability: float
    outage_plans: tuple[tuple[float, float, int, int], ...]


SUPPLIERS: tuple[SupplierSpec, ...] = (
    SupplierSpec("S01", "Nearby Fasteners", "near", 4, 0.98, 1.5, 0.01, ()),
    SupplierSpec("S02", "Regional Metals", "near", 9, 0.93, 2.5, 0.02, ()),
    SupplierSpec("S03", "National Plastics", "mid", 18, 0.85, 4.0, 0.03, ()),
    SupplierSpec("S04", "Overseas Castings", "far", 42, 0.72, 8.0, 0.05, ((0.35, 0.6, 18, 25),)),
    SupplierSpec(
        "S05",
        "Far East Electronics",
        "far",
        60,
        0.55,
        12.0,
        0.08,
        ((0.15, 0.3, 28, 42), (0.6, 0.8, 14, 21)),
    ),
)
WORK_ORDER_LEAD_TIME_DAYS = 3


def draw_outages(
    rng: np.random.Generator, spec: SupplierSpec, days: int
) -> tuple[tuple[int, int], ...]:
    """Outage windows [start, end) as day indexes."""
    windows = []
    for lo, hi, shortest, longest in spec.outage_plans:
        start = int(rng.integers(int(lo * days), int(hi * days)))
        windows.append((start, start + int(rng.integers(shortest, longest + 1))))
    return tuple(windows)


@dataclass(frozen=True, slots=True)
class OrderLines:
    """Order lines of one item as parallel arrays (day indexes and units)."""

    order_day: np.ndarray
    promised_day: np.ndarray
    received_day: np.ndarray
    qty_ordered: np.ndarray
    qty_received: np.ndarray


def order_schedule(
    rng: np.random.Generator,
    demand: np.ndarray,
    interval: int,
    moq: float,
    multiple: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Order days and quantities covering the previous interval's demand."""
    days = demand.size
    first = int(rng.integers(0, interval))
    order_day = np.arange(first, days, interval)
    cumulative = np.r_[0.0, np.cumsum(demand)]
    previous = cumulative[order_day] - cumulative[np.maximum(order_day - interval, 0)]
    previous[order_day < interval] = demand.mean() * interval
    step = max(multiple, 1.0)
    qty = np.maximum(np.ceil(previous / step) * step, moq)
    keep = previous > 0
    return order_day[keep], qty[keep]


def supplier_lines(
    rng: np.random.Generator,
    spec: SupplierSpec,
    outages: tuple[tuple[int, int], ...],
    order_day: np.ndarray,
    qty: np.ndarray,
    lead_time: np.ndarray,
) -> OrderLines:
    """Promised and received days for orders with the given lead times [days]."""
    n = order_day.size
    promised = order_day + lead_time
    on_time = rng.random(n) < spec.on_time_probability
    early = rng.choice(np.array([0, 0, 0, 1, 2]), size=n)
    late = rng.geometric(1.0 / spec.late_days_mean, size=n)
    received = np.where(on_time, promised - early, promised + late)
    for start, end in outages:
        held = (received >= start) & (received < end)
        received = np.where(held, end + rng.integers(0, 4, n), received)
    received = np.maximum(received, order_day)
    short = rng.random(n) < spec.short_delivery_probability
    qty_received = np.where(short, np.floor(qty * rng.uniform(0.5, 0.95, n)), qty)
    return OrderLines(order_day, promised, received, qty, qty_received)


def work_order_lines(
    rng: np.random.Generator,
    order_day: np.ndarray,
    qty: np.ndarray,
    down_hours: np.ndarray,
) -> OrderLines:
    """Work orders finishing late when the making machine's downtime eats the window."""
    lead = WORK_ORDER_LEAD_TIME_DAYS
    cumulative = np.r_[0.0, np.cumsum(down_hours)]
    days = down_hours.size
    window = cumulative[np.minimum(order_day + lead, days)] - cumulative[order_day]
    excess = window - 0.15 * 24 * lead
    delay = np.where(excess > 0, np.ceil(excess / 16.0), 0).astype(np.int64)
    promised = order_day + lead
    received = promised + delay - (rng.random(order_day.size) < 0.2)
    received = np.maximum(received, order_day)
    return OrderLines(order_day, promised, received, qty, qty.copy())


def trim_open(lines: OrderLines, days: int) -> OrderLines:
    """Drop lines not yet received by the end of the horizon."""
    keep = lines.received_day < days
    return OrderLines(
        lines.order_day[keep],
        lines.promised_day[keep],
        lines.received_day[keep],
        lines.qty_ordered[keep],
        lines.qty_received[keep],
    )
