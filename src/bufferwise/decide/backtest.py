"""Backtest on the plant's own history: fit on the first part, replay on the held-out part.

`backtest(items, demand, receipts, split=...)` decides every item on the data before `split`
(demand dated before it, receipts received before it), then replays four buffer policies on the
held-out part with the real demand, bucket by bucket, and the real lead times of the item's
held-out receipts in their real order (the k-th order placed in the replay waits the lead time of
the k-th held-out receipt by order date, cycling; an item without held-out receipts uses the
median of its fitted normal pool):

    recommended  the fitted recommendation
    current      items.current_safety_stock
    jit          no safety stock
    one_policy   the same days of cover for every item (fitted mean daily demand x days), the
                 days chosen by bisection so that its held-out fill rate equals the recommended
                 one: the inventory the uniform rule needs for the same service

Every policy keeps the item's real replenishment rule ((r,Q) or (R,S), MOQ, order multiple,
backorders) with levels set at the split: r or S = fitted demand per bucket x fitted protection
interval + safety stock, as in `cost_curve`. The replay starts with the net stock at the policy's
top level (r + Q, or S) and nothing on order, like the kernel. Figures per item and policy: fill
rate (share of demand met from stock), stockout days, mean inventory value (on hand x unit
cost), holding and stockout cost per year, total. Totals weight fill by demand value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.analysis import analyse
from bufferwise.decide.settings import DecideSettings
from bufferwise.equipment.item_risk import SupplyOutageProcess
from bufferwise.errors import InvalidInput
from bufferwise.kernels.inventory import POLICY_ORDER_UP_TO
from bufferwise.profile import build_demand_matrix

POLICIES: tuple[str, ...] = ("recommended", "current", "jit", "one_policy")
BACKTEST_COLUMNS: tuple[str, ...] = (
    "item_id",
    "policy",
    "safety_stock",
    "fill_rate",
    "stockout_days",
    "mean_inventory_value",
    "holding_cost_per_year",
    "stockout_cost_per_year",
    "total_cost_per_year",
)


@dataclass
class Backtest:
    """items: one row per item and policy (BACKTEST_COLUMNS); totals: one row per policy with
    fill_rate, expected_fill_rate (the fitted promise, recommended only), stockout_days,
    mean_inventory_value, holding / stockout / total cost per year; split: first held-out day;
    one_policy_days: the uniform cover that matches the recommended fill rate."""

    items: pd.DataFrame
    totals: pd.DataFrame
    split: pd.Timestamp
    one_policy_days: float


@dataclass
class _Replay:
    fill: np.ndarray
    stockout_periods: np.ndarray
    mean_on_hand: np.ndarray
    short: np.ndarray
    demand: np.ndarray


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
) -> _Replay:
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
    pad = max(int(lens.max()), 1)
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
    return _Replay(fill, stockouts, on_hand_sum / t_len, short_sum, total)


def backtest(
    items: pd.DataFrame,
    demand: pd.DataFrame,
    receipts: pd.DataFrame | None,
    *,
    split: object = None,
    equipment_risk: Mapping[str, SupplyOutageProcess] | None = None,
    settings: DecideSettings | None = None,
    seed: int | np.random.Generator | None = None,
) -> Backtest:
    """Fit on the data before `split` (default: the middle of the demand calendar), replay on
    the rest (module docstring)."""
    st = settings or DecideSettings()
    dates = pd.to_datetime(demand["date"])
    cut = (
        pd.Timestamp(dates.min() + (dates.max() - dates.min()) / 2).normalize()
        if split is None
        else pd.Timestamp(split)  # type: ignore[arg-type]
    )
    if not (dates.min() < cut <= dates.max()):
        raise InvalidInput(f"backtest split {cut.date()} leaves no fitting or held-out demand")
    fit_demand = demand[dates < cut]
    fit_receipts = None
    held_receipts = None
    if receipts is not None and len(receipts):
        received = pd.to_datetime(receipts["received_date"])
        fit_receipts = receipts[received < cut]
        held_receipts = receipts[pd.to_datetime(receipts["order_date"]) >= cut]
    a = analyse(
        items, fit_demand, fit_receipts, equipment_risk=equipment_risk, settings=st, seed=seed
    )
    r = a.risk
    ids = [str(x) for x in r.item_ids]
    held = build_demand_matrix(demand[dates >= cut], st.bucket, item_ids=ids, start=cut)
    pos = {str(k): j for j, k in enumerate(held.item_ids)}
    q = np.nan_to_num(held.quantity[[pos[i] for i in ids]], nan=0.0)
    fit_pools = r.lead_time_periods("normal")
    seqs: list[np.ndarray] = []
    by_item = (
        {
            str(k): g.sort_values(["order_date", "po_id"], kind="mergesort")
            for k, g in held_receipts.groupby("item_id")
        }
        if held_receipts is not None and len(held_receipts)
        else {}
    )
    for i, item in enumerate(ids):
        g = by_item.get(item)
        if g is not None and len(g):
            days = (
                pd.to_datetime(g["received_date"]) - pd.to_datetime(g["order_date"])
            ).dt.days.to_numpy(float)
            seqs.append(np.maximum(np.round(days / r.bucket_days), 0).astype(np.int64))
        else:
            seqs.append(np.array([int(np.median(fit_pools[i]))], dtype=np.int64))
    periodic = r.policy == POLICY_ORDER_UP_TO
    cycle = r.demand_mean * r.protection_periods("normal")

    def run(ss: np.ndarray) -> _Replay:
        return replay(
            q,
            seqs,
            periodic,
            r.review_periods,
            cycle + ss,
            r.order_quantity,
            r.moq,
            r.order_multiple,
        )

    value_weight = q.sum(axis=1) * r.unit_cost

    def total_fill(rep: _Replay) -> float:
        w = value_weight.sum()
        return float((rep.fill * value_weight).sum() / w) if w > 0 else 1.0

    daily = r.daily_demand()
    levels = {
        "recommended": a.recommended_ss,
        "current": np.nan_to_num(a.current_ss, nan=0.0),
        "jit": np.zeros(r.n_items),
    }
    results = {k: run(v) for k, v in levels.items()}
    target = total_fill(results["recommended"])
    lo, hi = 0.0, 30.0
    while total_fill(run(hi * daily)) < target and hi < 3650:
        lo, hi = hi, hi * 2
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if total_fill(run(mid * daily)) >= target:
            hi = mid
        else:
            lo = mid
    levels["one_policy"] = hi * daily
    results["one_policy"] = run(levels["one_policy"])
    years = q.shape[1] / r.periods_per_year
    frames = []
    for name in POLICIES:
        rep = results[name]
        holding = rep.mean_on_hand * r.holding_per_year
        stockout = rep.short * r.stockout_cost / years
        frames.append(
            pd.DataFrame(
                {
                    "item_id": ids,
                    "policy": name,
                    "safety_stock": levels[name],
                    "fill_rate": rep.fill,
                    "stockout_days": rep.stockout_periods * r.bucket_days,
                    "mean_inventory_value": rep.mean_on_hand * r.unit_cost,
                    "holding_cost_per_year": holding,
                    "stockout_cost_per_year": stockout,
                    "total_cost_per_year": holding + stockout,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)[list(BACKTEST_COLUMNS)]
    promised = a.chosen("fill_rate")
    w = value_weight.sum()
    rows = []
    for name in POLICIES:
        g = table[table["policy"] == name]
        rows.append(
            {
                "policy": name,
                "fill_rate": total_fill(results[name]),
                "expected_fill_rate": float((promised * value_weight).sum() / w)
                if name == "recommended" and w > 0
                else np.nan,
                "stockout_days": float(g["stockout_days"].sum()),
                "mean_inventory_value": float(g["mean_inventory_value"].sum()),
                "holding_cost_per_year": float(g["holding_cost_per_year"].sum()),
                "stockout_cost_per_year": float(g["stockout_cost_per_year"].sum()),
                "total_cost_per_year": float(g["total_cost_per_year"].sum()),
            }
        )
    return Backtest(table, pd.DataFrame(rows), cut, float(hi))


__all__ = ["BACKTEST_COLUMNS", "POLICIES", "Backtest", "backtest", "replay"]
