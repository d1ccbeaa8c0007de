"""Who is who in the example plant: each item's role, demand class, supplier and master data.

Roles (see docs/example-plant.md for the planting rule of each):
    well_sized          stable smooth item, near supplier, textbook buffer      (no mistake)
    lazy_jic            stable smooth item, nearest supplier, buffer 8-12x need (lazy_jic)
    dogmatic_jit        lumpy / erratic, far unreliable supplier, critical, zero buffer
    set_and_forget      buffer set in 2021 on first-year conditions; demand level or the
                        supplier's real lead time changed in the second year
    one_policy_for_all  mixed risk, all at the same days of cover
    hidden_loss         made on the unreliable machine, buffer covering its breakdowns
    unlabelled          everything else: plausible buffers, no planted mistake, not well-sized
    made / wip          other made items and the WIP items of the buffers between machines
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bufferwise.demo.machines import BUFFERS, UNRELIABLE_MACHINE
from bufferwise.demo.supply import SUPPLIERS, WORK_ORDER_LEAD_TIME_DAYS

CLASS_SHARES: dict[str, float] = {
    "smooth": 0.29,
    "erratic": 0.21,
    "intermittent": 0.23,
    "lumpy": 0.27,
}
BASE_GROUP_SIZES: dict[str, int] = {
    "well_sized": 30,
    "lazy_jic": 12,
    "dogmatic_jit": 12,
    "set_and_forget_demand": 8,
    "set_and_forget_lead_time": 4,
    "one_policy_for_all": 40,
}
MIN_GROUP_SIZES: dict[str, int] = {
    "well_sized": 20,
    "lazy_jic": 5,
    "dogmatic_jit": 5,
    "set_and_forget_demand": 4,
    "set_and_forget_lead_time": 2,
    "one_policy_for_all": 30,
}
MADE_ITEMS: dict[str, int] = {UNRELIABLE_MACHINE: 8, "B2": 6, "C1": 6}
BASE_PURCHASED = 217
MIN_ITEMS = 200
CATEGORY_BY_CLASS: dict[str, tuple[str, str]] = {
    "smooth": ("raw", "packaging"),
    "erratic": ("raw", "component"),
    "intermittent": ("component", "spare"),
    "lumpy": ("spare", "component"),
}
UNIT_COST_MEDIAN: dict[str, tuple[float, float]] = {  # category -> (median, log-sd)
    "packaging": (0.4, 0.7),
    "raw": (6.0, 0.9),
    "component": (45.0, 0.9),
    "spare": (350.0, 1.0),
    "finished": (140.0, 0.4),
    "wip": (25.0, 0.3),
}
STOCKOUT_MULTIPLE: dict[str, tuple[float, float]] = {  # criticality -> x unit cost
    "low": (0.3, 1.0),
    "medium": (1.0, 3.0),
    "high": (4.0, 10.0),
    "critical": (15.0, 40.0),
}


@dataclass(slots=True)
class Roster:
    """Per-item master data as parallel arrays (one entry per item, in file order)."""

    item_id: np.ndarray
    role: np.ndarray
    demand_class: np.ndarray
    category: np.ndarray
    supplier_id: np.ndarray
    machine_id: np.ndarray
    criticality: np.ndarray
    unit_cost: np.ndarray
    stockout_cost: np.ndarray
    holding_rate: np.ndarray
    nominal_lead_time_days: np.ndarray
    review_period_days: np.ndarray
    order_interval_days: np.ndarray
    moq: np.ndarray
    order_multiple: np.ndarray
    order_cost: np.ndarray

    @property
    def size(self) -> int:
        return int(self.item_id.size)

    def where(self, *roles: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.role, roles))


def group_sizes(n_items: int) -> dict[str, int]:
    """Group sizes scaled to the number of purchased items, never below the minimums."""
    purchased = n_items - len(BUFFERS) - sum(MADE_ITEMS.values())
    scale = purchased / BASE_PURCHASED
    return {k: max(MIN_GROUP_SIZES[k], round(v * scale)) for k, v in BASE_GROUP_SIZES.items()}


def _cycle(values: tuple[str, ...], n: int) -> list[str]:
    return [values[i % len(values)] for i in range(n)]


def _fixed_plan(sizes: dict[str, int]) -> list[tuple[str, str | None, str]]:
    """(role, class or None = free, supplier or machine pool) for every non-wip item."""
    plan: list[tuple[str, str | None, str]] = []
    plan += [("well_sized", "smooth", "nearest_two")] * sizes["well_sized"]
    plan += [("lazy_jic", "smooth", "nearest")] * sizes["lazy_jic"]
    plan += [
        ("dogmatic_jit", c, "far")
        for c in _cycle(("lumpy", "erratic", "lumpy"), sizes["dogmatic_jit"])
    ]
    plan += [
        ("set_and_forget_demand", "smooth", "near") for _ in range(sizes["set_and_forget_demand"])
    ]
    plan += [
        ("set_and_forget_lead_time", c, "mid")
        for c in _cycle(("smooth", "intermittent"), sizes["set_and_forget_lead_time"])
    ]
    plan += [("one_policy_for_all", None, "any")] * sizes["one_policy_for_all"]
    plan += [
        ("hidden_loss", c, UNRELIABLE_MACHINE)
        for c in _cycle(("smooth", "erratic", "smooth"), MADE_ITEMS[UNRELIABLE_MACHINE])
    ]
    for machine, count in MADE_ITEMS.items():
        if machine != UNRELIABLE_MACHINE:
            plan += [("made", None, machine)] * count
    return plan


def _fill_classes(
    rng: np.random.Generator, fixed: list[str | None], n_free_extra: int
) -> list[str]:
    """Give every free slot (None) a class so that totals follow CLASS_SHARES."""
    total = len(fixed) + n_free_extra
    taken = {c: sum(1 for f in fixed if f == c) for c in CLASS_SHARES}
    want = {c: max(0.0, share * total - taken[c]) for c, share in CLASS_SHARES.items()}
    free = sum(1 for f in fixed if f is None) + n_free_extra
    scale = free / sum(want.values())
    counts = {c: int(np.floor(w * scale)) for c, w in want.items()}
    order = sorted(want, key=lambda c: want[c] * scale - counts[c], reverse=True)
    for c in order[: free - sum(counts.values())]:
        counts[c] += 1
    pool = np.array([c for c in CLASS_SHARES for _ in range(counts[c])])
    rng.shuffle(pool)
    filled, k = [], 0
    for f in [*fixed, *([None] * n_free_extra)]:
        if f is None:
            filled.append(str(pool[k]))
            k += 1
        else:
            filled.append(f)
    return filled


def _supplier(rng: np.random.Generator, pool: str, index: int) -> str:
    choices = {
        "near": (("S01", "S02", "S03"), (0.4, 0.4, 0.2)),
        "nearest": (("S01",), (1.0,)),
        "nearest_two": (("S01", "S02"), (0.5, 0.5)),
        "mid": (("S02", "S03"), (0.5, 0.5)),
        "far": (("S04", "S05"), (0.5, 0.5)),
        "unlabelled": (("S01", "S02", "S03", "S04", "S05"), (0.22, 0.24, 0.22, 0.16, 0.16)),
    }
    if pool == "any":
        return ("S01", "S02", "S03", "S04", "S05")[index % 5]
    names, weights = choices[pool]
    return str(rng.choice(np.array(names), p=np.array(weights)))


def _criticality(rng: np.random.Generator, role: str) -> str:
    options = {
        "dogmatic_jit": (("critical", "high"), (0.6, 0.4)),
        "lazy_jic": (("low",), (1.0,)),
        "well_sized": (("low", "medium"), (0.4, 0.6)),
        "hidden_loss": (("high",), (1.0,)),
    }
    names, weights = options.get(
        role, (("low", "medium", "high", "critical"), (0.3, 0.4, 0.2, 0.1))
    )
    return str(rng.choice(np.array(names), p=np.array(weights)))


def build_roster(rng: np.random.Generator, n_items: int) -> Roster:
    """Assign roles, classes, suppliers and master data to n_items items (shuffled ids)."""
    sizes = group_sizes(n_items)
    plan = _fixed_plan(sizes)
    n_wip = len(BUFFERS)
    n_unlabelled = n_items - n_wip - len(plan)
    classes = _fill_classes(rng, [c for _, c, _ in plan], n_unlabelled)
    plan += [("unlabelled", None, "unlabelled")] * n_unlabelled
    purchased = [i for i, (role, _, _) in enumerate(plan) if role not in ("hidden_loss", "made")]
    perm = rng.permutation(len(purchased))
    order = [purchased[p] for p in perm] + [
        i for i, (role, _, _) in enumerate(plan) if role in ("hidden_loss", "made")
    ]
    rows = [(plan[i][0], classes[i], plan[i][2]) for i in order]
    return _master_data(rng, rows)


def _master_data(rng: np.random.Generator, rows: list[tuple[str, str, str]]) -> Roster:
    item_ids, roles, cls, cats, sups, machines, crits = [], [], [], [], [], [], []
    made_seen: dict[str, int] = {}
    for k, (role, demand_class, pool) in enumerate(rows):
        if role in ("hidden_loss", "made"):
            made_seen[pool] = made_seen.get(pool, 0) + 1
            item_ids.append(f"FG-{pool}-{made_seen[pool]:02d}")
            cats.append("finished")
            sups.append(f"LINE-{pool[0]}")
            machines.append(pool)
        else:
            item_ids.append(f"P-{k + 1:04d}")
            cats.append(str(rng.choice(np.array(CATEGORY_BY_CLASS[demand_class]))))
            sups.append(_supplier(rng, pool, k))
            machines.append("")
        roles.append(role)
        cls.append(demand_class)
        crits.append(_criticality(rng, role))
    for buf in BUFFERS:
        item_ids.append(buf.item_id)
        roles.append("hidden_loss" if buf.hidden_loss else "wip")
        cls.append("")
        cats.append("wip")
        sups.append(f"LINE-{buf.upstream[0]}")
        machines.append(buf.upstream)
        crits.append("high")
    return _with_costs(rng, item_ids, roles, cls, cats, sups, machines, crits)


def _with_costs(
    rng: np.random.Generator,
    item_ids: list[str],
    roles: list[str],
    cls: list[str],
    cats: list[str],
    sups: list[str],
    machines: list[str],
    crits: list[str],
) -> Roster:
    n = len(item_ids)
    cat = np.array(cats)
    median = np.array([UNIT_COST_MEDIAN[c][0] for c in cats])
    spread = np.array([UNIT_COST_MEDIAN[c][1] for c in cats])
    unit_cost = np.maximum(np.round(median * np.exp(spread * rng.standard_normal(n)), 2), 0.01)
    lo = np.array([STOCKOUT_MULTIPLE[c][0] for c in crits])
    hi = np.array([STOCKOUT_MULTIPLE[c][1] for c in crits])
    stockout = np.round(unit_cost * rng.uniform(lo, hi), 2)
    role = np.array(roles)
    blank = (role == "unlabelled") & (rng.random(n) < 0.1)
    stockout = np.where(blank, np.nan, stockout)
    supplier_lt = {s.supplier_id: s.lead_time_days for s in SUPPLIERS}
    base_lt = np.array([supplier_lt.get(s, float(WORK_ORDER_LEAD_TIME_DAYS)) for s in sups])
    purchased = np.array([s in supplier_lt for s in sups])
    lead = np.where(
        purchased, np.maximum(np.rint(base_lt * rng.uniform(0.85, 1.15, n)), 1), base_lt
    )
    lead = np.where(cat == "wip", 0.0, lead)
    free_review = np.isin(role, ("unlabelled", "one_policy_for_all", "made"))
    review = np.where(
        free_review, rng.choice(np.array([0.0, 7.0, 14.0]), n, p=[0.5, 0.3, 0.2]), 0.0
    )
    interval = np.where(review > 0, review, rng.integers(7, 36, n)).astype(np.int64)
    interval = np.where(purchased, interval, 7)
    multiple = np.select([cat == "packaging", cat == "raw"], [50.0, 10.0], 1.0)
    return Roster(
        item_id=np.array(item_ids),
        role=role,
        demand_class=np.array(cls),
        category=cat,
        supplier_id=np.array(sups),
        machine_id=np.array(machines),
        criticality=np.array(crits),
        unit_cost=unit_cost,
        stockout_cost=stockout,
        holding_rate=np.round(rng.uniform(0.18, 0.30, n), 2),
        nominal_lead_time_days=lead,
        review_period_days=review,
        order_interval_days=interval,
        moq=multiple.copy(),
        order_multiple=multiple,
        order_cost=np.round(rng.uniform(25.0, 150.0, n), 0),
    )
