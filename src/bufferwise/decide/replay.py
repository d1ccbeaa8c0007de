"""Replay buffer policies on real held-out demand and real lead times, bucket by bucket.

Used by the backtest (`decide.backtest`: fit on the first part of the history, replay the
rest). `held_out(risk, bucket, demand, receipts, cut)` turns the demand dated on or
after `cut` into an items x buckets matrix on `bucket` and gives every item the lead times of its
receipts ordered on or after `cut`, in their real order (the k-th order placed in the replay
waits the lead time of the k-th such receipt by order date, cycling; an item without any uses
the median of its fitted normal pool). `replay_levels(risk, held, ss)` replays every item's real
replenishment rule ((r,Q) or (R,S), MOQ, order multiple, backorders) with its level set to the
fitted demand per bucket x fitted protection interval + the safety stock, as in `cost_curve`.
The replay starts with the net stock at the policy's top level (r + Q, or S) and nothing on
order, like the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.risk import RiskModel
from bufferwise.kernels.inventory import POLICY_ORDER_UP_TO
from bufferwise.profile import build_demand_matrix


@dataclass
class Replay:
    """Per item: fill rate (share of demand met from stock; 1 without demand), buckets with a
    shortage, mean on hand [units], units short and units demanded over the replay."""

    fill: np.ndarray
    stockout_periods: np.ndarray
    mean_on_hand: np.ndarray
    short: np.ndarray
    demand: np.ndarray


@dataclass
class HeldOut:
    """Held-out demand [n, T] (NaN as 0) in the risk model's item order and bucket, and each
    item's sequence of real lead times [buckets]."""

    quantity: np.ndarray
    lead_periods: list[np.ndarray]

    @property
    def periods(self) -> int:
        return int(self.quantity.shape[1])


def _round_up(q: np.ndarray, moq: np.ndarray, multiple: np.ndarray) -> np.ndarray:
    q = np.maximum(q, moq)
    safe = np.where(multiple > 0, multiple, 1.0)
    return np.where(multiple > 0, np.ceil(q / safe - 1e-9) * safe, q)


def replay(
    demand: np.ndarray,
    lead_periods: list[np.ndarray],
    periodic: np.ndarray,
    review: np.ndarray,
    level: np.ndarray,
    quantity: np.ndarray,
    moq: np.ndarray,
    multiple: np.ndarray,
) -> Replay:
    """Replay every item on a real demand matrix [n, T] with real lead-time sequences [periods].

    Event order per period as in the kernel: receive, serve demand (backorders), review and
    order (an order placed in period t with lead time L arrives at the start of t + L + 1)."""
    n, t_len = demand.shape
    longest = max((int(x.max()) for x in lead_periods if x.size), default=0)
    pipe = np.zeros((n, t_len + longest + 2))
    rq = ~periodic
    net = np.where(rq, level + quantity, level).astype(float)
    on_order = np.zeros(n)
    count = np.zeros(n, dtype=np.int64)
    lens = np.array([max(x.size, 1) for x in lead_periods])
    pad = max(int(lens.max()), 1) if n else 1
    leads = np.zeros((n, pad), dtype=np.int64)
    for i, x in enumerate(lead_periods):
        leads[i, : x.size] = x if x.size else 0
    rows = np.arange(n)
    short_sum = np.zeros(n)
    stockouts = np.zeros(n)
    on_hand_sum = np.zeros(n)
    for t in range(t_len):
        arrive = pipe[:, t]
        net += arrive
        on_order -= arrive
        d = demand[:, t]
        short = np.maximum(d - np.maximum(net, 0.0), 0.0)
        net -= d
        short_sum += short
        stockouts += short > 0
        position = net + on_order
        due_review = periodic & ((t + 1) % np.maximum(review, 1) == 0)
        q_rs = np.where(due_review & (position < level), level - position, 0.0)
        k = np.floor((level - position) / np.where(quantity > 0, quantity, 1.0)) + 1.0
        q_rq = np.where(rq & (position <= level), k * quantity, 0.0)
        q = q_rs + q_rq
        q = np.where(q > 0, _round_up(q, moq, multiple), 0.0)
        ordered = q > 0
        if ordered.any():
            lead = leads[rows, count % lens]
            due = t + lead + 1
            pipe[rows[ordered], due[ordered]] += q[ordered]
            on_order += q
            count += ordered
        on_hand_sum += np.maximum(net, 0.0)
    total = demand.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(total > 0, 1.0 - short_sum / total, 1.0)
    return Replay(fill, stockouts, on_hand_sum / max(t_len, 1), short_sum, total)


def held_out(
    risk: RiskModel,
    bucket: str,
    demand: pd.DataFrame,
    receipts: pd.DataFrame | None,
    cut: pd.Timestamp,
) -> HeldOut:
    """The demand dated on or after `cut` on `bucket` and the lead times of the receipts
    ordered on or after it (module docstring), for the risk model's items in its order."""
    ids = [str(x) for x in risk.item_ids]
    keep = pd.to_datetime(demand["date"]) >= cut
    matrix = build_demand_matrix(demand[keep], bucket, item_ids=ids, start=cut)
    pos = {str(k): j for j, k in enumerate(matrix.item_ids)}
    q = np.nan_to_num(matrix.quantity[[pos[i] for i in ids]], nan=0.0)
    by_item: dict[str, pd.DataFrame] = {}
    if receipts is not None and len(receipts):
        held = receipts[pd.to_datetime(receipts["order_date"]) >= cut]
        by_item = {
            str(k): g.sort_values(["order_date", "po_id"], kind="mergesort")
            for k, g in held.groupby("item_id")
        }
    fit_pools = risk.lead_time_periods("normal")
    seqs: list[np.ndarray] = []
    for i, item in enumerate(ids):
        g = by_item.get(item)
        if g is not None and len(g):
            days = (
                pd.to_datetime(g["received_date"]) - pd.to_datetime(g["order_date"])
            ).dt.days.to_numpy(float)
            seqs.append(np.maximum(np.round(days / risk.bucket_days), 0).astype(np.int64))
        else:
            seqs.append(np.array([int(np.median(fit_pools[i]))], dtype=np.int64))
    return HeldOut(q, seqs)


def replay_levels(risk: RiskModel, held: HeldOut, safety_stock: np.ndarray) -> Replay:
    """Replay every item of the risk model on `held` with the given safety stocks [units]."""
    return replay(
        held.quantity,
        held.lead_periods,
        risk.policy == POLICY_ORDER_UP_TO,
        risk.review_periods,
        risk.demand_mean * risk.protection_periods("normal") + safety_stock,
        risk.order_quantity,
        risk.moq,
        risk.order_multiple,
    )


__all__ = ["HeldOut", "Replay", "held_out", "replay", "replay_levels"]
