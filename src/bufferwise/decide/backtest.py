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
from bufferwise.decide.costs import DEFAULT_HOLDING_RATE
from bufferwise.decide.replay import Replay, held_out, replay, replay_levels
from bufferwise.decide.settings import DecideSettings
from bufferwise.equipment.item_risk import SupplyOutageProcess
from bufferwise.errors import InvalidInput

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


def backtest(
    items: pd.DataFrame,
    demand: pd.DataFrame,
    receipts: pd.DataFrame | None,
    *,
    split: object = None,
    equipment_risk: Mapping[str, SupplyOutageProcess] | None = None,
    settings: DecideSettings | None = None,
    seed: int | np.random.Generator | None = None,
    stockout_multiples: Mapping[str, float] | None = None,
    default_holding_rate: float = DEFAULT_HOLDING_RATE,
) -> Backtest:
    """Fit on the data before `split` (default: the middle of the demand calendar), replay on
    the rest (module docstring). `stockout_multiples` and `default_holding_rate` price the
    items as `analyse` does (the settings' [costs])."""
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
    if receipts is not None and len(receipts):
        fit_receipts = receipts[pd.to_datetime(receipts["received_date"]) < cut]
    a = analyse(
        items,
        fit_demand,
        fit_receipts,
        equipment_risk=equipment_risk,
        settings=st,
        seed=seed,
        stockout_multiples=stockout_multiples,
        default_holding_rate=default_holding_rate,
    )
    r = a.risk
    ids = [str(x) for x in r.item_ids]
    held = held_out(r, st.bucket, demand, receipts, cut)  # receipts ordered from `cut` on
    q = held.quantity

    def run(ss: np.ndarray) -> Replay:
        return replay_levels(r, held, ss)

    value_weight = q.sum(axis=1) * r.unit_cost

    def total_fill(rep: Replay) -> float:
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
