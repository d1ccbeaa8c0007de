"""The example plant: a seeded generator of canonical tables with planted policy mistakes.

`generate_plant(out_dir)` writes items.csv, demand.csv, receipts.csv, machines.csv,
machine_events.csv, production_counts.csv and wip_buffers.csv in exactly the canonical shape
of `bufferwise.model.schema` (so they import with no mapping), plus truth.json: the ground
truth every diagnostic can be tested against. The same seed gives byte-identical files.
Every planting rule is written in docs/example-plant.md and in `PLANTING_RULES`.

Conventions used for the "textbook" buffer (the yardstick of well-sized and of the mistakes):
    SS = z(0.95) * sqrt(L * sigma_d² + d² * sigma_L²)    (Silver, Pyke & Thomas, ch. 7)
with d, sigma_d the mean and standard deviation (ddof=1) of daily demand over the whole
history (zero days included) and L, sigma_L the mean and standard deviation (ddof=1) of the
item's order-to-receipt lead time in days over its receipts; reorder point = d * L_nominal + SS.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np

from bufferwise.demo.demand import (
    DemandParams,
    adi_cv2,
    class_shape,
    classify,
    draw_demand,
    draw_returns,
    robust_class,
)
from bufferwise.demo.files import (
    demand_frame,
    items_frame,
    machine_frames,
    receipts_frame,
    wip_frame,
    write_plant,
)
from bufferwise.demo.machines import (
    BUFFERS,
    DAY,
    MACHINES,
    STATE_PRIORITY,
    UNRELIABLE_MACHINE,
    MachineRun,
    buffer_level,
    daily_down_hours,
    daily_totals,
    simulate_machines,
    time_in_state,
)
from bufferwise.demo.roster import Roster, build_roster
from bufferwise.demo.supply import (
    SUPPLIERS,
    OrderLines,
    draw_outages,
    order_schedule,
    supplier_lines,
    trim_open,
    work_order_lines,
)
from bufferwise.demo.truth import BufferTruth, ItemTruth, MachineTruth, PlantTruth, SupplierTruth
from bufferwise.errors import InvalidInput

DEFAULT_SEED = 42
GENERATOR_VERSION = "1.0.0"
SERVICE_LEVEL = 0.95
Z_SERVICE = NormalDist().inv_cdf(SERVICE_LEVEL)
ONE_POLICY_DAYS_OF_COVER = 10.0
ONE_POLICY_BAND = 0.15  # no item outside the group within +-15 % of its cover
_ROUNDING_MARGIN = 0.03
MIN_DAYS = 365

PLANTING_RULES: dict[str, str] = {
    "well_sized": (
        "smooth demand with no trend, season, outlier or drift; supplier S01 or S02 (near, no "
        "outages); "
        "continuous review; current_safety_stock = textbook SS x U(0.97, 1.03); buffer set in "
        "the last 180 days"
    ),
    "lazy_jic": (
        "smooth stable demand, supplier S01 (near, 98% on time), low criticality; "
        "current_safety_stock = max(textbook SS x U(8, 12), mean daily demand x U(30, 60) days)"
    ),
    "dogmatic_jit": (
        "lumpy or erratic demand, supplier S04 or S05 (far, late often, outages), criticality "
        "high or critical (stockout cost 4-40x unit cost); current_safety_stock = 0 and "
        "reorder point = lead-time demand only"
    ),
    "one_policy_for_all": (
        "a group of items of every class and supplier S01-S05 round robin, all at "
        "current_safety_stock = 10 days x mean daily demand x U(0.985, 1.015); no other item "
        "holds 8.5-11.5 days of cover (unlabelled and made items there are moved to "
        "5.5-8 or 12.5-16 days, set_and_forget items scaled x0.8 or x1.25)"
    ),
    "set_and_forget": (
        "buffer_set_on 800-1095 days before the data starts (2021 for the default start); "
        "current_safety_stock = textbook SS on first-half conditions x U(0.95, 1.05); in the "
        "second half either the level of a smooth demand moves by x2.2-2.8 or x0.4-0.45 "
        "over a 30-day ramp from 0-30 days after mid-horizon, or "
        "the supplier's promised and real lead time grows x2.0-2.6 (orders placed from 0-30 "
        "days after mid-horizon) while "
        "nominal_lead_time_days keeps the old value"
    ),
    "hidden_loss": (
        "WIP buffer BUF-A2-A3 holds 16 hours of A3 consumption behind the poor machine A2 "
        "(availability ~77%), and the items made on A2 (machine_id A2, supplier LINE-A) plus "
        "the WIP item WIP-A2-A3 hold 4-6 days of cover to ride out A2's breakdowns"
    ),
}


@dataclass(frozen=True, slots=True)
class _Stats:
    """Per-item measured statistics (arrays of length n)."""

    mean: np.ndarray
    sd: np.ndarray
    lead_mean: np.ndarray
    lead_sd: np.ndarray
    textbook: np.ndarray


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    return np.sort(rng.choice(candidates, size=min(k, candidates.size), replace=False))


def _base_size(rng: np.random.Generator, roster: Roster) -> np.ndarray:
    n = roster.size
    dense = np.isin(roster.demand_class, ("smooth", "erratic"))
    dense_base = np.clip(25.0 * np.exp(0.9 * rng.standard_normal(n)), 15.0, 2000.0)
    sparse_base = np.clip(10.0 * np.exp(0.6 * rng.standard_normal(n)), 5.0, 500.0)
    base = np.where(dense, dense_base, sparse_base)
    return np.where(roster.category == "finished", rng.uniform(40.0, 160.0, n), base)


def demand_params(rng: np.random.Generator, roster: Roster, days: int) -> DemandParams:
    """Per-item demand parameters following each item's role (see PLANTING_RULES)."""
    n = roster.size
    occurrence, sigma = class_shape(rng, roster.demand_class)
    free = roster.where("unlabelled", "one_policy_for_all", "made")
    trend = np.zeros(n)
    trended = _pick(rng, free, max(5, free.size // 5))
    trend[trended] = rng.choice([-1.0, 1.0], trended.size) * rng.uniform(0.3, 0.6, trended.size)
    amplitude = np.zeros(n)
    seasonal = _pick(rng, free, max(5, free.size // 5))
    amplitude[seasonal] = rng.uniform(0.2, 0.4, seasonal.size)
    drift_ratio = np.ones(n)
    drifting = roster.where("set_and_forget_demand")
    up = np.arange(drifting.size) % 2 == 0
    drift_ratio[drifting] = np.where(
        up, rng.uniform(2.2, 2.8, drifting.size), rng.uniform(0.4, 0.45, drifting.size)
    )
    unlabelled = roster.where("unlabelled")
    sparse = unlabelled[np.isin(roster.demand_class[unlabelled], ("intermittent", "lumpy"))]
    obsolete_day = np.full(n, days)
    obsolete = _pick(rng, sparse, 6)
    obsolete_day[obsolete] = rng.integers(days - 200, days - 90, obsolete.size)
    outliers = np.zeros(n, dtype=int)
    spikeable = unlabelled[roster.demand_class[unlabelled] != "intermittent"]
    spiked = _pick(rng, np.setdiff1d(spikeable, obsolete), 8)
    outliers[spiked] = rng.integers(1, 4, spiked.size)
    returns = np.zeros(n, dtype=int)
    returned = _pick(rng, unlabelled, 6)
    returns[returned] = rng.integers(2, 5, returned.size)
    return DemandParams(
        base=_base_size(rng, roster),
        occurrence=occurrence,
        sigma=sigma,
        trend=trend,
        seasonal_amplitude=amplitude,
        seasonal_phase_days=rng.uniform(0.0, 365.0, n),
        drift_ratio=drift_ratio,
        drift_day=np.where(drift_ratio != 1.0, rng.integers(days // 2, days // 2 + 31, n), days),
        obsolete_day=obsolete_day,
        outliers=outliers,
        returns=returns,
    )


def _lead_time_drift(
    rng: np.random.Generator, roster: Roster, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Lead-time multiplier and the day from which it applies (set_and_forget_lead_time)."""
    ratio = np.ones(roster.size)
    drift_day = np.full(roster.size, days)
    rows = roster.where("set_and_forget_lead_time")
    ratio[rows] = rng.uniform(2.0, 2.6, rows.size)
    drift_day[rows] = rng.integers(days // 2, days // 2 + 31, rows.size)
    return ratio, drift_day


def _empty_lines() -> OrderLines:
    empty = np.zeros(0)
    return OrderLines(empty, empty, empty, empty, empty)


def generate_receipts(
    rng: np.random.Generator,
    roster: Roster,
    qty: np.ndarray,
    runs: dict[str, MachineRun],
    outages: dict[str, tuple[tuple[int, int], ...]],
    lead_drift: tuple[np.ndarray, np.ndarray],
) -> list[OrderLines]:
    """Purchase-order lines for purchased items, work orders for made items, none for WIP."""
    days = qty.shape[1]
    suppliers = {s.supplier_id: s for s in SUPPLIERS}
    down = {m: daily_down_hours(run, days) for m, run in runs.items()}
    lines: list[OrderLines] = []
    for i in range(roster.size):
        if roster.category[i] == "wip":
            lines.append(_empty_lines())
            continue
        order_day, amount = order_schedule(
            rng,
            qty[i],
            int(roster.order_interval_days[i]),
            float(roster.moq[i]),
            float(roster.order_multiple[i]),
        )
        supplier = suppliers.get(str(roster.supplier_id[i]))
        if supplier is None:
            item_lines = work_order_lines(rng, order_day, amount, down[str(roster.machine_id[i])])
        else:
            nominal = roster.nominal_lead_time_days[i]
            ratio, drift_day = lead_drift[0][i], lead_drift[1][i]
            lead = np.where(order_day >= drift_day, np.rint(nominal * ratio), nominal)
            item_lines = supplier_lines(
                rng, supplier, outages[supplier.supplier_id], order_day, amount, lead.astype(int)
            )
        lines.append(trim_open(item_lines, days))
    return lines


def measure(
    qty: np.ndarray, lines: list[OrderLines], window: tuple[int, int] | None = None
) -> _Stats:
    """Demand and lead-time statistics and the textbook safety stock per item.

    window: (first, last) day indexes, last excluded; when given, only those days and the
    orders placed in them are used.
    """
    first, last = window if window is not None else (0, qty.shape[1])
    mean = qty[:, first:last].mean(axis=1)
    sd = qty[:, first:last].std(axis=1, ddof=1)
    lead_mean = np.zeros(len(lines))
    lead_sd = np.zeros(len(lines))
    for i, item_lines in enumerate(lines):
        keep = (item_lines.order_day >= first) & (item_lines.order_day < last)
        lead = (item_lines.received_day - item_lines.order_day)[keep]
        if lead.size:
            lead_mean[i] = lead.mean()
            lead_sd[i] = lead.std(ddof=1) if lead.size > 1 else 0.0
    textbook = Z_SERVICE * np.sqrt(lead_mean * sd**2 + mean**2 * lead_sd**2)
    return _Stats(mean, sd, lead_mean, lead_sd, textbook)


def current_policy(
    rng: np.random.Generator,
    roster: Roster,
    stats: _Stats,
    first_half: _Stats,
    wip_levels: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """current_safety_stock and current_reorder_point with the planted mistakes."""
    n = roster.size
    role = roster.role
    ss = stats.textbook * rng.uniform(0.6, 1.8, n)  # unlabelled: plausible, not exact
    ss = np.where(role == "made", stats.textbook * rng.uniform(0.8, 1.5, n), ss)
    ss = np.where(role == "well_sized", stats.textbook * rng.uniform(0.97, 1.03, n), ss)
    lazy = np.maximum(stats.textbook * rng.uniform(8, 12, n), stats.mean * rng.uniform(30, 60, n))
    ss = np.where(role == "lazy_jic", lazy, ss)
    ss = np.where(role == "dogmatic_jit", 0.0, ss)
    one = ONE_POLICY_DAYS_OF_COVER * stats.mean * rng.uniform(0.985, 1.015, n)
    ss = np.where(role == "one_policy_for_all", one, ss)
    forgotten = np.isin(role, ("set_and_forget_demand", "set_and_forget_lead_time"))
    ss = np.where(forgotten, first_half.textbook * rng.uniform(0.95, 1.05, n), ss)
    made_cover = stats.mean * rng.uniform(4, 6, n)
    ss = np.where((role == "hidden_loss") & (roster.category != "wip"), made_cover, ss)
    for i in np.flatnonzero(roster.category == "wip"):
        ss[i] = wip_levels[str(roster.item_id[i])]
    ss = np.round(_clear_one_policy_band(rng, roster, ss, stats.mean), 1)
    basis = np.where(forgotten, first_half.mean, stats.mean)
    rop = np.round(basis * roster.nominal_lead_time_days + ss, 1)
    return ss, rop


def _clear_one_policy_band(
    rng: np.random.Generator, roster: Roster, ss: np.ndarray, mean: np.ndarray
) -> np.ndarray:
    """Move items outside the one_policy_for_all group out of its days-of-cover band.

    Band: within ONE_POLICY_BAND of ONE_POLICY_DAYS_OF_COVER (D), widened by _ROUNDING_MARGIN
    so that rounding the buffer to 0.1 unit cannot bring an item back into it. Unlabelled and
    made items get a cover of D x U(0.55, 0.8) or D x U(1.25, 1.6); set_and_forget items are
    scaled x0.8 (below D) or x1.25 (at or above D). Other roles never land there by
    construction (lazy >= 30 days, well-sized and hidden-loss <= 6, dogmatic 0, WIP < 1).
    """
    days_d = ONE_POLICY_DAYS_OF_COVER
    cover = np.divide(ss, mean, out=np.zeros_like(ss), where=mean > 0)
    in_band = (
        (roster.role != "one_policy_for_all")
        & (mean > 0)
        & (np.abs(cover - days_d) < (ONE_POLICY_BAND + _ROUNDING_MARGIN) * days_d)
    )
    low = rng.random(ss.size) < 0.5
    redrawn = days_d * np.where(
        low, rng.uniform(0.55, 0.8, ss.size), rng.uniform(1.25, 1.6, ss.size)
    )
    free = in_band & np.isin(roster.role, ("unlabelled", "made"))
    forgotten = in_band & np.isin(
        roster.role, ("set_and_forget_demand", "set_and_forget_lead_time")
    )
    out = np.where(free, redrawn * mean, ss)
    return np.where(forgotten, ss * np.where(cover < days_d, 0.8, 1.25), out)


def _buffer_set_on(rng: np.random.Generator, roster: Roster, start: date, days: int) -> list[str]:
    forgotten = np.isin(roster.role, ("set_and_forget_demand", "set_and_forget_lead_time"))
    back = np.where(
        forgotten,
        -rng.integers(800, 1096, roster.size),
        days - rng.integers(10, 181, roster.size),
    )
    return [(start + timedelta(days=int(b))).isoformat() for b in back]


def _check_arguments(n_items: int, days: int) -> None:
    if n_items < 200:
        raise InvalidInput(f"n_items={n_items}: the example plant needs at least 200 items")
    if days < MIN_DAYS:
        raise InvalidInput(f"days={days}: the example plant needs at least {MIN_DAYS} days")


def generate_plant(
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    n_items: int = 240,
    days: int = 730,
    start: date = date(2024, 1, 1),
) -> PlantTruth:
    """Write the example plant's canonical CSV files and truth.json to `out_dir`.

    seed     numpy.random.default_rng seed; the same seed gives byte-identical files
    n_items  items in items.csv, >= 200 (3 of them are the WIP items of the buffers)
    days     length of the daily history, >= 365
    start    first day of the history (machine logs start at its midnight)
    Returns the ground truth, also written to truth.json.
    """
    _check_arguments(n_items, days)
    out_dir = Path(out_dir)
    r_roster, r_demand, r_machines, r_supply, r_policy = np.random.default_rng(seed).spawn(5)
    roster = build_roster(r_roster, n_items)
    params = demand_params(r_demand, roster, days)
    made = np.flatnonzero(roster.category != "wip")
    qty = np.zeros((roster.size, days))
    qty_made, outlier_days = draw_demand(
        r_demand, _subset(params, made), roster.demand_class[made], days
    )
    qty[made] = qty_made
    outlier_days = {int(made[k]): v for k, v in outlier_days.items()}
    runs = simulate_machines(r_machines, days, start.weekday())
    specs = {m.machine_id: m for m in MACHINES}
    levels = {b.item_id: buffer_level(b, specs) for b in BUFFERS}
    for b in BUFFERS:
        qty[_index(roster, b.item_id)] = daily_totals(runs[b.downstream], days)
    returns = draw_returns(r_demand, qty, params.returns)
    outages = {s.supplier_id: draw_outages(r_supply, s, days) for s in SUPPLIERS}
    lead_drift = _lead_time_drift(r_supply, roster, days)
    lines = generate_receipts(r_supply, roster, qty, runs, outages, lead_drift)
    stats = measure(qty, lines)
    first_half = measure(qty, lines, (0, days // 2))
    second_half = measure(qty, lines, (days // 2, days))
    ss, rop = current_policy(r_policy, roster, stats, first_half, levels)
    set_on = _buffer_set_on(r_policy, roster, start, days)
    capacities = {
        b.item_id: float(round(levels[b.item_id] * b.capacity_factor, -1)) for b in BUFFERS
    }
    truth = _truth(
        seed=seed,
        start=start,
        roster=roster,
        qty=qty,
        params=params,
        stats=stats,
        halves=(first_half, second_half),
        policy=(ss, rop, set_on),
        lines=lines,
        outages=outages,
        lead_drift=lead_drift,
        runs=runs,
        wip=(levels, capacities),
        outlier_days=outlier_days,
    )
    frames = {
        "items": items_frame(roster, ss, rop, set_on),
        "demand": demand_frame(roster, qty, returns, start),
        "receipts": receipts_frame(roster, lines, start),
        "wip_buffers": wip_frame(levels, capacities),
        **machine_frames(runs, start),
    }
    write_plant(out_dir, frames, truth)
    return truth


def _index(roster: Roster, item_id: str) -> int:
    return int(np.flatnonzero(roster.item_id == item_id)[0])


def _subset(params: DemandParams, rows: np.ndarray) -> DemandParams:
    return DemandParams(**{f.name: getattr(params, f.name)[rows] for f in fields(DemandParams)})


def _truth(
    *,
    seed: int,
    start: date,
    roster: Roster,
    qty: np.ndarray,
    params: DemandParams,
    stats: _Stats,
    halves: tuple[_Stats, _Stats],
    policy: tuple[np.ndarray, np.ndarray, list[str]],
    lines: list[OrderLines],
    outages: dict[str, tuple[tuple[int, int], ...]],
    lead_drift: tuple[np.ndarray, np.ndarray],
    runs: dict[str, MachineRun],
    wip: tuple[dict[str, float], dict[str, float]],
    outlier_days: dict[int, list[int]],
) -> PlantTruth:
    days = qty.shape[1]
    items = _item_truths(
        start, roster, qty, params, stats, halves, policy, lead_drift, outlier_days
    )
    group = tuple(sorted(str(i) for i in roster.item_id[roster.where("one_policy_for_all")]))
    return PlantTruth(
        seed=seed,
        generator_version=GENERATOR_VERSION,
        start=start.isoformat(),
        days=days,
        items=items,
        suppliers=_supplier_truths(start, roster, lines, outages),
        machines=_machine_truths(runs, days),
        buffers=_buffer_truths(runs, *wip),
        unreliable_machine_id=UNRELIABLE_MACHINE,
        hidden_loss_buffer_id=next(b.buffer_id for b in BUFFERS if b.hidden_loss),
        one_policy_group=group,
        one_policy_days_of_cover=ONE_POLICY_DAYS_OF_COVER,
        service_level=SERVICE_LEVEL,
        planting_rules=dict(PLANTING_RULES),
    )


_ROLE_MISTAKES: dict[str, tuple[str, ...]] = {
    "lazy_jic": ("lazy_jic",),
    "dogmatic_jit": ("dogmatic_jit",),
    "one_policy_for_all": ("one_policy_for_all",),
    "set_and_forget_demand": ("set_and_forget",),
    "set_and_forget_lead_time": ("set_and_forget",),
    "hidden_loss": ("hidden_loss",),
}


def _r(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


def _item_truths(
    start: date,
    roster: Roster,
    qty: np.ndarray,
    params: DemandParams,
    stats: _Stats,
    halves: tuple[_Stats, _Stats],
    policy: tuple[np.ndarray, np.ndarray, list[str]],
    lead_drift: tuple[np.ndarray, np.ndarray],
    outlier_days: dict[int, list[int]],
) -> dict[str, ItemTruth]:
    ss, rop, set_on = policy
    first_half, second_half = halves
    days = qty.shape[1]
    day = np.datetime64(start) + np.arange(days)
    items: dict[str, ItemTruth] = {}
    for i, item_id in enumerate(roster.item_id.tolist()):
        adi, cv2 = adi_cv2(qty[i])
        measured = robust_class(qty[i]) or classify(adi, cv2)
        drifting = params.drift_ratio[i] != 1.0 or lead_drift[0][i] != 1.0
        drift_day = min(int(params.drift_day[i]), int(lead_drift[1][i]))
        features: dict[str, object] = {
            "trend_per_horizon": _r(params.trend[i]),
            "seasonal_amplitude": _r(params.seasonal_amplitude[i]),
            "obsolete_from": str(day[params.obsolete_day[i]])
            if params.obsolete_day[i] < days
            else None,
            "outlier_dates": [str(day[d]) for d in outlier_days.get(i, [])],
            "returns_days": int(params.returns[i]),
            "demand_level_ratio": _r(_ratio(second_half.mean[i], first_half.mean[i])),
            "lead_time_ratio": _r(_ratio(second_half.lead_mean[i], first_half.lead_mean[i])),
            "planted_demand_ratio": _r(params.drift_ratio[i]),
            "planted_lead_time_ratio": _r(lead_drift[0][i]),
            "drift_from": str(day[drift_day]) if drifting else None,
            "first_half_textbook_safety_stock": _r(first_half.textbook[i], 2),
        }
        role = str(roster.role[i])
        items[item_id] = ItemTruth(
            item_id=item_id,
            category=str(roster.category[i]),
            demand_class=str(roster.demand_class[i]) or measured,
            adi=_r(adi),
            cv2=_r(cv2),
            supplier_id=str(roster.supplier_id[i]),
            machine_id=str(roster.machine_id[i]),
            role=role,
            mistakes=_ROLE_MISTAKES.get(role, ()),
            well_sized=role == "well_sized",
            fed_by_unreliable_machine=str(roster.machine_id[i]) == UNRELIABLE_MACHINE,
            current_safety_stock=float(ss[i]),
            current_reorder_point=float(rop[i]),
            buffer_set_on=set_on[i],
            textbook_safety_stock=_r(stats.textbook[i], 2),
            mean_daily_demand=_r(stats.mean[i]),
            sd_daily_demand=_r(stats.sd[i]),
            lead_time_mean_days=_r(stats.lead_mean[i]),
            lead_time_sd_days=_r(stats.lead_sd[i]),
            days_of_cover=_r(ss[i] / stats.mean[i] if stats.mean[i] > 0 else 0.0, 3),
            features=features,
        )
    return items


def _ratio(second: float, first: float) -> float:
    """second / first, 1.0 when the first is not positive."""
    return second / first if first > 0 else 1.0


def _supplier_truths(
    start: date,
    roster: Roster,
    lines: list[OrderLines],
    outages: dict[str, tuple[tuple[int, int], ...]],
) -> dict[str, SupplierTruth]:
    result: dict[str, SupplierTruth] = {}
    for spec in SUPPLIERS:
        rows = np.flatnonzero(roster.supplier_id == spec.supplier_id)
        promised = np.concatenate([lines[i].promised_day for i in rows])
        received = np.concatenate([lines[i].received_day for i in rows])
        result[spec.supplier_id] = SupplierTruth(
            supplier_id=spec.supplier_id,
            name=spec.name,
            distance=spec.distance,
            nominal_lead_time_days=spec.lead_time_days,
            on_time_probability=spec.on_time_probability,
            late_days_mean=spec.late_days_mean,
            short_delivery_probability=spec.short_delivery_probability,
            outages=tuple(
                (
                    (start + timedelta(days=a)).isoformat(),
                    (start + timedelta(days=b)).isoformat(),
                )
                for a, b in outages[spec.supplier_id]
            ),
            measured_on_time=_r(float((received <= promised).mean()) if received.size else 0.0),
            lines=int(received.size),
        )
    return result


def _machine_truths(runs: dict[str, MachineRun], days: int) -> dict[str, MachineTruth]:
    horizon = np.array([days * DAY])
    result: dict[str, MachineTruth] = {}
    for spec in MACHINES:
        run = runs[spec.machine_id]
        down = float(time_in_state(run.log, "down", horizon)[0])
        planned = float(time_in_state(run.log, "planned_stop", horizon)[0])
        result[spec.machine_id] = MachineTruth(
            machine_id=spec.machine_id,
            name=spec.name,
            line=spec.line,
            position=spec.position,
            weibull_shape=spec.weibull_shape,
            weibull_scale_hours=_r(spec.weibull_scale_hours),
            mtbf_hours=spec.mtbf_hours,
            mttr_hours=spec.mttr_hours,
            repair_sigma=spec.repair_sigma,
            inherent_availability=_r(spec.inherent_availability),
            measured_availability=_r(1.0 - down / (days * DAY - planned)),
            failures=int((run.log.state == STATE_PRIORITY.index("down")).sum()),
            ideal_cycle_time_s=spec.ideal_cycle_time_s,
            true_cycle_time_s=spec.true_cycle_time_s,
            performance=spec.performance,
            quality=spec.quality,
            mis_set_ideal_cycle_time=spec.ideal_cycle_time_s != spec.true_cycle_time_s,
            reliability=spec.reliability,
        )
    return result


def _buffer_truths(
    runs: dict[str, MachineRun], levels: dict[str, float], capacities: dict[str, float]
) -> dict[str, BufferTruth]:
    result: dict[str, BufferTruth] = {}
    for b in BUFFERS:
        start, end = runs[b.upstream].own_down
        duration_h = (end - start) / 3600.0
        result[b.buffer_id] = BufferTruth(
            buffer_id=b.buffer_id,
            upstream_machine_id=b.upstream,
            downstream_machine_id=b.downstream,
            item_id=b.item_id,
            current_level=levels[b.item_id],
            capacity=capacities[b.item_id],
            cover_hours=b.cover_hours,
            upstream_down_hours=_r(duration_h.sum(), 2),
            masked_down_hours=_r(np.minimum(duration_h, b.cover_hours).sum(), 2),
            hidden_loss=b.hidden_loss,
        )
    return result
