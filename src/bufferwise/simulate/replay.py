"""Replay of a periodic-review, order-up-to policy with backorders on REAL demand.

The kernel simulations in `bufferwise.kernels` draw demand; this replays the demand that
happened, in its order, so a policy fitted on the first part of a history can be judged on the
rest. Every item is reviewed every period (R = 1) and ordered up to its level S; an order
placed at the review of period t with a lead time of L periods arrives at the start of period
t + L + 1 (docs/sizing.md: a lead time of L periods covers L periods of demand, a base-stock
level covers L + 1). Event order per period: receive, serve demand (the rest is backordered),
review and order.

Start state. ``warm_start`` (the demand of the periods just before the replay, e.g. the fitting
window) puts the replay in the base-stock steady state from its first period: the inventory
position is S and the orders of the last L periods (each equal to that period's demand, as
under base stock) are still in transit, so the net stock is S minus the last L periods'
demand. Without it, the replay starts with S on hand and nothing on order (the convention of
the kernel and of `decide.backtest`), which flatters the first L periods.

Measures per item (``ReplayResult``):
    demanded          units demanded over the replay
    short             units not served from stock when demanded (backordered units filled
                      later still count as short)
    fill_rate         1 - short / demanded (type 2; 1 for an item without demand)
    cycle_service     share of review cycles (periods, R = 1) without a shortage (type 1)
    stockout_periods  periods with a shortage
    mean_on_hand      mean on-hand stock at the end of a period [units]
The aggregate fill rate of a portfolio is units filled / units demanded over all items
(`aggregate_fill_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bufferwise.errors import InvalidInput
from bufferwise.kernels.replay import replay_base_stock


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Per-item measures of one replay (module docstring); arrays of shape (n_items,)."""

    demanded: np.ndarray
    short: np.ndarray
    stockout_periods: np.ndarray
    mean_on_hand: np.ndarray
    periods: int

    @property
    def fill_rate(self) -> np.ndarray:
        """Unit fill rate per item (1 where nothing was demanded)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.demanded > 0, 1.0 - self.short / self.demanded, 1.0)

    @property
    def cycle_service(self) -> np.ndarray:
        """Share of periods (review cycles) without a shortage, per item."""
        return 1.0 - self.stockout_periods / max(self.periods, 1)

    def aggregate_fill_rate(self, mask: np.ndarray | None = None) -> float:
        """Units filled / units demanded over the items in `mask` (all by default)."""
        return aggregate_fill_rate(self, mask)


def aggregate_fill_rate(result: ReplayResult, mask: np.ndarray | None = None) -> float:
    """Units filled / units demanded over the items in `mask` (1.0 when nothing was demanded)."""
    d = result.demanded if mask is None else result.demanded[mask]
    s = result.short if mask is None else result.short[mask]
    total = float(d.sum())
    return 1.0 - float(s.sum()) / total if total > 0 else 1.0


def replay_order_up_to(
    demand: np.ndarray,
    order_up_to: np.ndarray,
    lead_periods: np.ndarray,
    *,
    warm_start: np.ndarray | None = None,
) -> ReplayResult:
    """Replay an order-up-to (base-stock) policy, reviewed every period, on real demand.

    demand        (n_items, n_periods) [units per period], the held-out demand in its order;
                  NaN (not observed) is replayed as no demand
    order_up_to   (n_items,) order-up-to level S [units]
    lead_periods  (n_items,) whole periods L >= 0 (an order arrives L + 1 periods later)
    warm_start    optional (n_items, n_history) demand just before the replay: start in the
                  base-stock steady state (module docstring)
    """
    q = np.ascontiguousarray(np.nan_to_num(np.asarray(demand, dtype=np.float64), nan=0.0))
    if q.ndim != 2:
        raise InvalidInput(f"demand must be (items, periods), got shape {q.shape}")
    n = q.shape[0]
    if (q < 0).any():
        raise InvalidInput("demand: negative quantities found (returns are kept apart)")
    s = np.ascontiguousarray(np.asarray(order_up_to, dtype=np.float64).reshape(-1))
    lead_f = np.asarray(lead_periods, dtype=np.float64).reshape(-1)
    if s.shape != (n,) or lead_f.shape != (n,):
        raise InvalidInput(
            f"order_up_to and lead_periods need one value per item ({n}), got "
            f"{s.shape[0]} and {lead_f.shape[0]}"
        )
    if not np.isfinite(s).all():
        raise InvalidInput("order_up_to: every level must be finite")
    if not np.isfinite(lead_f).all() or (lead_f < 0).any() or (lead_f % 1 != 0).any():
        raise InvalidInput("lead_periods: every lead time must be a whole number of periods >= 0")
    lead = np.ascontiguousarray(lead_f.astype(np.int64))
    if warm_start is None:
        warm = np.zeros((n, 0))
    else:
        warm = np.ascontiguousarray(
            np.nan_to_num(np.asarray(warm_start, dtype=np.float64), nan=0.0)
        )
        if warm.ndim != 2 or warm.shape[0] != n:
            raise InvalidInput(
                f"warm_start must be (items, periods) with {n} items, got shape {warm.shape}"
            )
    short, stockouts, on_hand = replay_base_stock(q, s, lead, None if warm_start is None else warm)
    return ReplayResult(
        demanded=q.sum(axis=1),
        short=short,
        stockout_periods=stockouts,
        mean_on_hand=on_hand,
        periods=int(q.shape[1]),
    )


__all__ = ["ReplayResult", "aggregate_fill_rate", "replay_order_up_to"]
