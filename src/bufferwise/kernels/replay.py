"""Replay kernel: a base-stock policy, reviewed every period, on a real demand matrix.

Arrays in, arrays out; `bufferwise.simulate.replay` validates the inputs and documents the
convention (receive, serve demand with backorders, order up to S; an order placed in period t
with lead time L arrives at the start of t + L + 1; optional steady-state warm start).
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _replay_kernel(
    demand: np.ndarray,
    level: np.ndarray,
    lead: np.ndarray,
    warm: np.ndarray,
    use_warm: bool,
    out_short: np.ndarray,
    out_stockouts: np.ndarray,
    out_on_hand: np.ndarray,
    out_by_period: np.ndarray,
) -> None:  # pragma: no cover - compiled
    n, t_len = demand.shape
    by_period = out_by_period.shape[1] == t_len and t_len > 0
    h = warm.shape[1]
    max_lead = 0
    for i in range(n):
        if lead[i] > max_lead:
            max_lead = lead[i]
    ring = np.zeros(max_lead + 1)
    for i in range(n):
        s_level = level[i]
        lt = lead[i]
        size = lt + 1
        for k in range(size):
            ring[k] = 0.0
        net = s_level
        on_order = 0.0
        if use_warm:
            # orders of periods -k (k = 1..L) arrive in period L + 1 - k
            for k in range(1, lt + 1):
                if h - k >= 0:
                    q = warm[i, h - k]
                    ring[(lt + 1 - k) % size] += q
                    on_order += q
                    net -= q
        short_sum = 0.0
        stockouts = 0
        on_hand_sum = 0.0
        for t in range(t_len):
            slot = t % size
            arrive = ring[slot]
            ring[slot] = 0.0
            net += arrive
            on_order -= arrive
            d = demand[i, t]
            avail = net if net > 0.0 else 0.0
            short = d - avail if d > avail else 0.0
            net -= d
            short_sum += short
            if by_period:
                out_by_period[i, t] = short
            if short > 0.0:
                stockouts += 1
            position = net + on_order
            if position < s_level:
                q = s_level - position
                ring[(t + lt + 1) % size] += q
                on_order += q
            on_hand_sum += net if net > 0.0 else 0.0
        out_short[i] = short_sum
        out_stockouts[i] = stockouts
        out_on_hand[i] = on_hand_sum / t_len if t_len > 0 else 0.0


def replay_base_stock(
    demand: np.ndarray, level: np.ndarray, lead: np.ndarray, warm: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units short, stockout periods and mean on hand per item.

    demand  f8[n, T] contiguous, no NaN; level f8[n]; lead i8[n] whole periods >= 0;
    warm    f8[n, H] demand before the replay (steady-state start) or None (start with S on
            hand, nothing on order)
    """
    n = demand.shape[0]
    w = np.zeros((n, 0)) if warm is None else np.ascontiguousarray(warm, dtype=np.float64)
    short = np.zeros(n)
    stockouts = np.zeros(n)
    on_hand = np.zeros(n)
    _replay_kernel(
        np.ascontiguousarray(demand, dtype=np.float64),
        np.ascontiguousarray(level, dtype=np.float64),
        np.ascontiguousarray(lead, dtype=np.int64),
        w,
        warm is not None,
        short,
        stockouts,
        on_hand,
        np.zeros((n, 0)),
    )
    return short, stockouts, on_hand


def replay_base_stock_by_period(
    demand: np.ndarray, level: np.ndarray, lead: np.ndarray, warm: np.ndarray | None = None
) -> np.ndarray:
    """Units short per item and period f8[n, T] of the same replay as `replay_base_stock`
    (same arguments; its row sums are that function's units short)."""
    d = np.ascontiguousarray(demand, dtype=np.float64)
    n = d.shape[0]
    out = np.zeros(d.shape)
    _replay_kernel(
        d,
        np.ascontiguousarray(level, dtype=np.float64),
        np.ascontiguousarray(lead, dtype=np.int64),
        np.zeros((n, 0)) if warm is None else np.ascontiguousarray(warm, dtype=np.float64),
        warm is not None,
        np.zeros(n),
        np.zeros(n),
        np.zeros(n),
        out,
    )
    return out


__all__ = ["replay_base_stock", "replay_base_stock_by_period"]
