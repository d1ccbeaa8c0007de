"""Machine state logs and production counts for the example plant.

Time is integer seconds from the plant's start (midnight of `start`). Each machine's own
failures form an alternating renewal process: up times Weibull(shape, scale) and repairs
lognormal, both in calendar time. Planned stops (weekly preventive maintenance, Sundays
08:00-16:00), setups and idle spells are separate layers; starved / blocked spells come from
the neighbours' breakdowns that outlast the WIP buffer between them (the buffer is assumed at
its current level when a breakdown starts). Layers are composed by priority, highest first:
down, planned_stop, starved, blocked, setup, idle, running; a breakdown therefore stays one
contiguous `down` interval even across a planned stop.

Counts are per 8-hour shift (00-08, 08-16, 16-24): total = running seconds * performance /
true cycle time, good ~ Binomial(total, quality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

HOUR = 3600
DAY = 86400
SHIFT = 8 * HOUR
STATE_PRIORITY: tuple[str, ...] = (
    "running",
    "idle",
    "setup",
    "blocked",
    "starved",
    "planned_stop",
    "down",
)  # lowest first
PLANNED_STOP_WEEKDAY = 6  # Sunday (Monday = 0)
PLANNED_STOP_HOURS = (8, 16)


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """One machine's parameters. Hours are calendar hours; cycle times seconds per unit."""

    machine_id: str
    name: str
    model: str
    line: str
    position: int
    age_years: float
    weibull_shape: float
    mtbf_hours: float
    mttr_hours: float
    repair_sigma: float
    true_cycle_time_s: float
    ideal_cycle_time_s: float
    performance: float
    quality: float
    setups_per_day: float
    setup_minutes: tuple[float, float]
    idle_per_week: float
    components: tuple[str, ...]
    reliability: str

    @property
    def weibull_scale_hours(self) -> float:
        return self.mtbf_hours / math.gamma(1.0 + 1.0 / self.weibull_shape)

    @property
    def inherent_availability(self) -> float:
        return self.mtbf_hours / (self.mtbf_hours + self.mttr_hours)

    @property
    def rate_per_hour(self) -> float:
        """Actual output rate while running [units / hour]."""
        return HOUR * self.performance / self.true_cycle_time_s

    @property
    def planned_hours_per_day(self) -> float:
        stop = PLANNED_STOP_HOURS[1] - PLANNED_STOP_HOURS[0]
        return round(24.0 - stop / 7.0, 2)


def _spec(
    machine_id: str,
    name: str,
    line: str,
    position: int,
    shape: float,
    mtbf: float,
    mttr: float,
    cycle: float,
    reliability: str,
    *,
    ideal: float | None = None,
    sigma: float = 0.8,
    performance: float = 0.9,
    quality: float = 0.985,
    setups: float = 1.0,
    idle: float = 0.5,
    age: float = 8.0,
) -> MachineSpec:
    return MachineSpec(
        machine_id=machine_id,
        name=name,
        model=name.split()[0].upper() + "-" + machine_id,
        line=line,
        position=position,
        age_years=age,
        weibull_shape=shape,
        mtbf_hours=mtbf,
        mttr_hours=mttr,
        repair_sigma=sigma,
        true_cycle_time_s=cycle,
        ideal_cycle_time_s=cycle if ideal is None else ideal,
        performance=performance,
        quality=quality,
        setups_per_day=setups,
        setup_minutes=(20.0, 60.0),
        idle_per_week=idle,
        components=("drive", "spindle", "hydraulics", "sensor", "tooling", "controls"),
        reliability=reliability,
    )


MACHINES: tuple[MachineSpec, ...] = (
    _spec("A1", "Press A1", "A", 1, 1.3, 60.0, 1.5, 20.0, "reliable", age=3.0, quality=0.995),
    _spec("A2", "CNC mill A2", "A", 2, 0.9, 14.0, 4.2, 40.0, "poor", sigma=0.9, age=17.0,
          performance=0.86, quality=0.96),
    _spec("A3", "Assembly A3", "A", 3, 1.5, 40.0, 2.5, 30.0, "good", quality=0.99),
    _spec("B1", "Lathe B1", "B", 1, 1.2, 45.0, 2.0, 25.0, "good", age=5.0),
    _spec("B2", "Welding cell B2", "B", 2, 1.1, 20.0, 3.0, 35.0, "fair", age=12.0, setups=2.0,
          quality=0.97),
    _spec("C1", "Packer C1", "C", 1, 1.4, 30.0, 3.0, 50.0, "fair", ideal=62.0, idle=2.0,
          age=10.0, quality=0.992),
)  # fmt: skip
UNRELIABLE_MACHINE = "A2"


@dataclass(frozen=True, slots=True)
class BufferSpec:
    """A WIP buffer; cover_hours * downstream rate = level."""

    buffer_id: str
    upstream: str
    downstream: str
    item_id: str
    cover_hours: float
    capacity_factor: float
    hidden_loss: bool


BUFFERS: tuple[BufferSpec, ...] = (
    BufferSpec("BUF-A1-A2", "A1", "A2", "WIP-A1-A2", 1.5, 2.5, False),
    BufferSpec("BUF-A2-A3", "A2", "A3", "WIP-A2-A3", 16.0, 1.15, True),
    BufferSpec("BUF-B1-B2", "B1", "B2", "WIP-B1-B2", 3.0, 1.8, False),
)


@dataclass(frozen=True, slots=True)
class Intervals:
    """Sorted intervals [start, end) in seconds with a state index into STATE_PRIORITY."""

    start: np.ndarray
    end: np.ndarray
    state: np.ndarray


def _merge(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals as sorted, non-overlapping [start, end)."""
    if start.size == 0:
        return start, end
    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    reach = np.maximum.accumulate(end)
    new = np.r_[True, start[1:] > reach[:-1]]
    group = np.cumsum(new) - 1
    merged_end = np.maximum.reduceat(end, np.flatnonzero(new))
    return start[new], merged_end[: group[-1] + 1]


def compose(horizon: int, layers: dict[str, tuple[np.ndarray, np.ndarray]]) -> Intervals:
    """One contiguous state log over [0, horizon) from overlapping layers (priority order)."""
    points = [np.array([0, horizon])]
    for s, e in layers.values():
        points += [np.clip(s, 0, horizon), np.clip(e, 0, horizon)]
    bounds = np.unique(np.concatenate(points))
    seg_start, seg_end = bounds[:-1], bounds[1:]
    mid = (seg_start + seg_end) / 2.0
    state = np.zeros(seg_start.size, dtype=np.int64)
    for code, name in enumerate(STATE_PRIORITY):
        if name not in layers:
            continue
        s, e = _merge(*layers[name])
        if s.size == 0:
            continue
        idx = np.searchsorted(s, mid, side="right") - 1
        covered = (idx >= 0) & (mid < e[np.maximum(idx, 0)])
        state[covered] = code
    change = np.r_[True, state[1:] != state[:-1]]
    starts = seg_start[change]
    ends = np.r_[starts[1:], horizon]
    return Intervals(starts, ends, state[change])


def breakdowns(
    rng: np.random.Generator, spec: MachineSpec, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Own breakdown intervals [start, end) in seconds from the up/repair renewal process."""
    mu = math.log(spec.mttr_hours) - spec.repair_sigma**2 / 2
    n = int(horizon / HOUR / (spec.mtbf_hours + spec.mttr_hours) * 1.5) + 50
    while True:
        up = spec.weibull_scale_hours * rng.weibull(spec.weibull_shape, n) * HOUR
        down = np.exp(mu + spec.repair_sigma * rng.standard_normal(n)) * HOUR
        up = np.maximum(np.rint(up), 60)
        down = np.maximum(np.rint(down), 60)
        start = np.cumsum(up) + np.r_[0, np.cumsum(down)[:-1]]
        if start[-1] >= horizon:
            break
        n *= 2
    keep = start < horizon
    return start[keep].astype(np.int64), np.minimum(start + down, horizon)[keep].astype(np.int64)


def planned_stops(days: int, first_weekday: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekly preventive maintenance windows [start, end) in seconds."""
    day = np.arange(days)
    sunday = day[(first_weekday + day) % 7 == PLANNED_STOP_WEEKDAY]
    return (
        sunday * DAY + PLANNED_STOP_HOURS[0] * HOUR,
        sunday * DAY + PLANNED_STOP_HOURS[1] * HOUR,
    )


def random_spells(
    rng: np.random.Generator, count_mean: float, minutes: tuple[float, float], horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson number of spells at uniform times with uniform durations [minutes]."""
    n = int(rng.poisson(count_mean))
    start = np.sort(rng.integers(0, horizon, n))
    length = np.rint(rng.uniform(minutes[0], minutes[1], n) * 60).astype(np.int64)
    return start, np.minimum(start + length, horizon)


def neighbour_loss(
    down: tuple[np.ndarray, np.ndarray], cover_hours: float
) -> tuple[np.ndarray, np.ndarray]:
    """Spells a neighbour's breakdowns outlast a buffer covering `cover_hours`."""
    start, end = down
    cover = round(cover_hours * HOUR)
    long = end - start > cover
    return start[long] + cover, end[long]


def time_in_state(log: Intervals, state: str, at: np.ndarray) -> np.ndarray:
    """Cumulative seconds spent in `state` from 0 up to each time in `at`."""
    code = STATE_PRIORITY.index(state)
    spent = np.where(log.state == code, log.end - log.start, 0)
    bounds = np.r_[log.start, log.end[-1]]
    cumulative = np.r_[0, np.cumsum(spent)]
    return np.interp(at, bounds, cumulative)


def _shift_counts(
    rng: np.random.Generator, spec: MachineSpec, log: Intervals, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bounds = np.arange(0, horizon + 1, SHIFT)
    running = np.diff(time_in_state(log, "running", bounds))
    perf = np.clip(rng.normal(spec.performance, 0.02, running.size), 0.5, 0.995)
    total = np.floor(running * perf / spec.true_cycle_time_s)
    quality = np.clip(rng.normal(spec.quality, 0.005, running.size), 0.8, 1.0)
    good = rng.binomial(total.astype(np.int64), quality).astype(float)
    return bounds[:-1], total, good


@dataclass(frozen=True, slots=True)
class MachineRun:
    """The generated history of one machine."""

    spec: MachineSpec
    log: Intervals
    own_down: tuple[np.ndarray, np.ndarray]
    reasons: np.ndarray
    components: np.ndarray
    count_start: np.ndarray
    total: np.ndarray
    good: np.ndarray


def _reasons(
    rng: np.random.Generator, spec: MachineSpec, log: Intervals, neighbours: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    names = np.array(STATE_PRIORITY)[log.state]
    reason = np.full(names.size, "", dtype=object)
    component = np.full(names.size, "", dtype=object)
    is_down = names == "down"
    weights = np.linspace(2.0, 1.0, len(spec.components))
    picked = rng.choice(
        np.array(spec.components), size=int(is_down.sum()), p=weights / weights.sum()
    )
    component[is_down] = picked
    reason[is_down] = np.char.add("breakdown: ", picked.astype(str))
    reason[names == "planned_stop"] = "preventive maintenance"
    reason[names == "setup"] = "changeover"
    reason[names == "idle"] = "no orders"
    if "starved" in neighbours:
        reason[names == "starved"] = f"upstream {neighbours['starved']} down, buffer empty"
    if "blocked" in neighbours:
        reason[names == "blocked"] = f"downstream {neighbours['blocked']} down, buffer full"
    return reason, component


def simulate_machines(
    rng: np.random.Generator, days: int, first_weekday: int
) -> dict[str, MachineRun]:
    """State logs and shift counts for every machine in MACHINES, linked through BUFFERS."""
    horizon = days * DAY
    specs = {m.machine_id: m for m in MACHINES}
    own = {m.machine_id: breakdowns(rng, m, horizon) for m in MACHINES}
    stops = planned_stops(days, first_weekday)
    runs: dict[str, MachineRun] = {}
    for spec in MACHINES:
        layers: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "down": own[spec.machine_id],
            "planned_stop": stops,
            "setup": random_spells(rng, spec.setups_per_day * days, spec.setup_minutes, horizon),
            "idle": random_spells(rng, spec.idle_per_week * days / 7, (60.0, 240.0), horizon),
        }
        neighbours: dict[str, str] = {}
        for buf in BUFFERS:
            if buf.downstream == spec.machine_id:
                layers["starved"] = neighbour_loss(own[buf.upstream], buf.cover_hours)
                neighbours["starved"] = buf.upstream
            if buf.upstream == spec.machine_id:
                free = buffer_level(buf, specs) * (buf.capacity_factor - 1.0)
                layers["blocked"] = neighbour_loss(own[buf.downstream], free / spec.rate_per_hour)
                neighbours["blocked"] = buf.downstream
        log = compose(horizon, layers)
        reasons, components = _reasons(rng, spec, log, neighbours)
        count_start, total, good = _shift_counts(rng, spec, log, horizon)
        runs[spec.machine_id] = MachineRun(
            spec, log, own[spec.machine_id], reasons, components, count_start, total, good
        )
    return runs


def buffer_level(buf: BufferSpec, specs: dict[str, MachineSpec]) -> float:
    """Current level [units]: cover_hours of the downstream machine's running rate."""
    return float(round(buf.cover_hours * specs[buf.downstream].rate_per_hour, -1))


def daily_totals(run: MachineRun, days: int) -> np.ndarray:
    """Units produced per calendar day (sum of the day's three shifts)."""
    return run.total.reshape(days, DAY // SHIFT).sum(axis=1)


def daily_down_hours(run: MachineRun, days: int) -> np.ndarray:
    """Hours the machine was down (own breakdowns) in each calendar day."""
    cumulative = time_in_state(run.log, "down", np.arange(0, days * DAY + 1, DAY))
    return np.diff(cumulative) / HOUR
