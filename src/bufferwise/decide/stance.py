"""Stance: where an item sits between just-in-time and just-in-case, chosen by expected cost.

The recommended safety stock is read off the item's cost curve under its **whole risk** (its full
layer, `risk.py`): the least expected annual holding + stockout cost, with the **tie rule toward
less inventory** — the smallest level whose cost is within max(`tie_absolute`,
`tie_relative` x least cost) of the least (an extra unit of buffer must pay for itself by more
than the tolerance).

The stance says which risk that safety stock s* covers (docs/decide.md, "Stances"):

    jit        s* = 0: order and make to demand, no buffer
    lean       0 < s* <= normal cover: no more than normal variability can use. Normal cover is
               the smallest level at which, under normal risk alone (demand variability and the
               lead-time variability of undisrupted receipts), the expected shortage is at most
               `cover_shortage_share` of demand; stock above it buys almost nothing against
               normal variability
    buffer     normal cover < s* <= disruption cover: the extra stock is there for the learned
               disruptions (supplier disruptions, machine stops); disruption cover is the same
               level under the disruption layer. Only items with such a risk; others stay lean
    strategic  s* > disruption cover: stock held for a rare long outage (layer "rare"); only
               critical, single-source, long-lead items; others stay buffer

The zone limits depend on the item's risk, never on its costs, and s* can only grow with the
stockout cost (a higher cost per unit short adds a non-increasing shortage curve to the cost),
so raising the stockout cost never moves an item toward JIT.

Each stance's *option* (for explanations and diagnostics) is the smallest level of its zone
within the tie tolerance of the zone's least cost; the chosen stance's option is s* itself.
"""

from __future__ import annotations

import numpy as np

from bufferwise.decide.settings import DecideSettings

STANCES: tuple[str, ...] = ("jit", "lean", "buffer", "strategic")
STANCE_RANK: dict[str, int] = {s: i for i, s in enumerate(STANCES)}


def tie_tolerance(least_cost: np.ndarray, settings: DecideSettings) -> np.ndarray:
    """[money / year] costs within this of the least cost are ties."""
    least = np.asarray(least_cost, dtype=float)
    return np.maximum(settings.tie_absolute, settings.tie_relative * np.abs(least))


def least_cost_index(cost: np.ndarray, settings: DecideSettings) -> np.ndarray:
    """Per row of cost [n, G] (levels ascending): the first level within the tie tolerance of
    the row's least cost."""
    c = np.asarray(cost, dtype=float)
    best = np.nanmin(c, axis=1)
    ok = c <= (best + tie_tolerance(best, settings))[:, None]
    return np.argmax(ok, axis=1)


def cover_limit(
    safety_stock: np.ndarray, short_per_year: np.ndarray, annual_demand: np.ndarray, share: float
) -> np.ndarray:
    """Smallest level per row with expected shortage <= share x annual demand (the last level
    of the grid when none reaches it) [units]."""
    ok = short_per_year <= (share * np.asarray(annual_demand, dtype=float))[:, None]
    any_ok = ok.any(axis=1)
    first = np.where(any_ok, np.argmax(ok, axis=1), safety_stock.shape[1] - 1)
    return safety_stock[np.arange(safety_stock.shape[0]), first]


def zones(
    safety_stock: np.ndarray,
    normal_cover: np.ndarray,
    disruption_cover: np.ndarray,
    has_disruption: np.ndarray,
    strategic_eligible: np.ndarray,
) -> np.ndarray:
    """Stance index of every level of safety_stock [n, G] (module docstring)."""
    s = np.asarray(safety_stock, dtype=float)
    n1 = np.asarray(normal_cover, dtype=float)[:, None]
    n2 = np.maximum(np.asarray(disruption_cover, dtype=float), n1[:, 0])[:, None]
    z = np.where(s <= 0, 0, np.where(s <= n1 + 1e-9, 1, np.where(s <= n2 + 1e-9, 2, 3)))
    z = np.where(np.asarray(has_disruption, dtype=bool)[:, None], z, np.minimum(z, 1))
    return np.where(np.asarray(strategic_eligible, dtype=bool)[:, None], z, np.minimum(z, 2))


def choose(
    safety_stock: np.ndarray, cost: np.ndarray, zone: np.ndarray, settings: DecideSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(stance index [n], option level index [n, 4]; -1 = stance not reachable).

    safety_stock, cost, zone: [n, G] grid levels, expected annual cost under the full risk and
    the stance of each level."""
    n = cost.shape[0]
    rows = np.arange(n)
    first = least_cost_index(cost, settings)
    stance = zone[rows, first]
    option = np.full((n, len(STANCES)), -1, dtype=np.int64)
    for k in range(len(STANCES)):
        inside = zone == k
        c = np.where(inside, cost, np.inf)
        has = inside.any(axis=1)
        best = np.where(has, c.min(axis=1), np.inf)
        ok = inside & (c <= (best + tie_tolerance(np.where(has, best, 0.0), settings))[:, None])
        option[:, k] = np.where(has, np.argmax(ok, axis=1), -1)
    option[rows, stance] = first
    return stance, option


__all__ = [
    "STANCES",
    "STANCE_RANK",
    "choose",
    "cover_limit",
    "least_cost_index",
    "tie_tolerance",
    "zones",
]
