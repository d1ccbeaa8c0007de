"""Portfolio: totals, the efficient frontier of buffer investment, and a budget allocation.

Totals compare the current buffers with the recommended ones: buffer value (safety stock x
unit cost), cash freed (items above their recommendation) and needed (below), expected annual
holding and stockout cost, and the expected fill rate weighted by demand value
(1 - sum unit_cost x units short / sum unit_cost x units demanded).

Efficient frontier by marginal allocation (docs/decide.md, "Portfolio"): each item's cost curve
under its whole risk gives points (buffer value v_k = s_k x unit cost, expected annual stockout
cost S_k). Its lower convex hull is a chain of segments with falling slopes dS/dv; merging the
segments of all items by slope (steepest first) spends every next unit of money where it removes
the most expected shortage cost. The cumulative sums are the frontier: buffer value against
expected stockout cost and fill rate. `one_policy_curve` gives the same figures when every item
holds the same days of cover, and `positions` the current and recommended points, so the three
can be drawn on one chart. `allocate_budget` stops the merge at a cap on total buffer value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.analysis import Analysis

FRONTIER_COLUMNS: tuple[str, ...] = (
    "series",
    "days_of_cover",
    "buffer_value",
    "expected_annual_stockout_cost",
    "expected_annual_holding_cost",
    "expected_fill_rate",
)
UNIFORM_DAYS: tuple[float, ...] = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90)


@dataclass
class _Curves:
    """Full-risk curves of all items on their grids: arrays [n, G]."""

    ss: np.ndarray
    value: np.ndarray
    stockout: np.ndarray
    holding: np.ndarray
    short_value: np.ndarray
    demand_value: np.ndarray  # [n] per year


def _curves(a: Analysis) -> _Curves:
    n = a.n_items
    g = a.settings.grid_points
    ss = np.zeros((n, g))
    so = np.zeros((n, g))
    hold = np.zeros((n, g))
    short = np.zeros((n, g))
    for i in range(n):
        grid, perf = a.full_curve(i)
        ss[i], so[i], hold[i], short[i] = (
            grid,
            perf.stockout_cost,
            perf.holding_cost,
            perf.short_per_year,
        )
    unit = a.risk.unit_cost
    demand_value = a.risk.demand_mean * a.risk.periods_per_year * unit
    return _Curves(ss, ss * unit[:, None], so, hold, short * unit[:, None], demand_value)


def _hull_segments(c: _Curves) -> pd.DataFrame:
    """Per item, the lower-convex-hull segments of (value, stockout cost) from level 0."""
    rows = []
    for i in range(c.ss.shape[0]):
        v, s = c.value[i], c.stockout[i]
        k = 0
        while k < len(v) - 1:
            dv = v[k + 1 :] - v[k]
            ds = s[k] - s[k + 1 :]
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = np.where(dv > 0, ds / dv, -np.inf)
            j = int(np.argmax(slope))
            if not np.isfinite(slope[j]) or slope[j] <= 0:
                break
            to = k + 1 + j
            rows.append((i, k, to, float(v[to] - v[k]), float(slope[j])))
            k = to
    return pd.DataFrame(rows, columns=["item", "from", "to", "dv", "slope"])


def _totals_at(c: _Curves, level_index: np.ndarray) -> tuple[float, float, float, float]:
    idx = np.arange(len(level_index))
    value = float(c.value[idx, level_index].sum())
    so = float(c.stockout[idx, level_index].sum())
    hold = float(c.holding[idx, level_index].sum())
    dv = float(c.demand_value.sum())
    fill = 1.0 - float(c.short_value[idx, level_index].sum()) / dv if dv > 0 else 1.0
    return value, so, hold, fill


def frontier(a: Analysis, max_points: int = 200) -> pd.DataFrame:
    """The efficient frontier (series "frontier"), the uniform-cover curve ("one_policy") and
    the "current" and "recommended" positions, columns FRONTIER_COLUMNS."""
    c = _curves(a)
    seg = _hull_segments(c).sort_values("slope", ascending=False, kind="mergesort")
    level = np.zeros(c.ss.shape[0], dtype=np.int64)
    points = [_totals_at(c, level)]
    steps = seg[["item", "to"]].to_numpy()
    keep = np.unique(np.linspace(0, len(steps), min(max_points, len(steps) + 1)).astype(int))
    for k, (item, to) in enumerate(steps, start=1):
        level[item] = to
        if k in keep:
            points.append(_totals_at(c, level))
    rows = [("frontier", np.nan, *p) for p in points]
    rows += [("one_policy", d, *_uniform(a, c, d)) for d in UNIFORM_DAYS]
    rows += positions(a)
    return pd.DataFrame(
        [
            {
                "series": r[0],
                "days_of_cover": r[1],
                "buffer_value": r[2],
                "expected_annual_stockout_cost": r[3],
                "expected_annual_holding_cost": r[4],
                "expected_fill_rate": r[5],
            }
            for r in rows
        ],
        columns=list(FRONTIER_COLUMNS),
    )


def _interp_row(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    return float(np.interp(x, xs, ys))


def _uniform(a: Analysis, c: _Curves, days: float) -> tuple[float, float, float, float]:
    """Totals when every item holds `days` of cover (curves interpolated, clamped at the grid
    ends)."""
    daily = a.risk.daily_demand()
    unit = a.risk.unit_cost
    value = so = hold = short = 0.0
    for i in range(c.ss.shape[0]):
        s = days * daily[i]
        value += s * unit[i]
        so += _interp_row(s, c.ss[i], c.stockout[i])
        hold += _interp_row(s, c.ss[i], c.holding[i])
        short += _interp_row(s, c.ss[i], c.short_value[i])
    dv = float(c.demand_value.sum())
    return value, so, hold, (1.0 - short / dv if dv > 0 else 1.0)


def positions(a: Analysis) -> list[tuple[str, float, float, float, float, float]]:
    """The current and recommended points (simulated, not interpolated)."""
    unit = a.risk.unit_cost
    dv = float((a.risk.demand_mean * a.risk.periods_per_year * unit).sum())
    out = []
    for name, k in (("current", None), ("recommended", -1)):
        if k is None:
            ss = np.nan_to_num(a.current_ss, nan=0.0)
            so = np.nan_to_num(a.options.stockout_cost[:, 4])
            hold = np.nan_to_num(a.options.holding_cost[:, 4])
            short = np.nan_to_num(a.options.short_per_year[:, 4])
        else:
            ss = a.recommended_ss
            so, hold, short = (
                a.chosen("stockout_cost"),
                a.chosen("holding_cost"),
                a.chosen("short_per_year"),
            )
        fill = 1.0 - float((short * unit).sum()) / dv if dv > 0 else 1.0
        out.append(
            (name, np.nan, float((ss * unit).sum()), float(so.sum()), float(hold.sum()), fill)
        )
    return out


def allocate_budget(a: Analysis, budget: float) -> pd.DataFrame:
    """Best safety stock per item under a cap on total buffer value [money]: the frontier's
    merge of hull segments, skipping any that would break the cap (and the later segments of
    that item). Columns: item_id, safety_stock, buffer_value, expected_annual_stockout_cost."""
    if not (budget >= 0):
        raise ValueError(f"budget must be a number >= 0, got {budget!r}")
    c = _curves(a)
    seg = _hull_segments(c).sort_values("slope", ascending=False, kind="mergesort")
    level = np.zeros(c.ss.shape[0], dtype=np.int64)
    blocked = np.zeros(c.ss.shape[0], dtype=bool)
    spent = 0.0
    for item, frm, to, dv in seg[["item", "from", "to", "dv"]].itertuples(index=False):
        if blocked[item] or level[item] != frm:
            continue
        if spent + dv > budget:
            blocked[item] = True
            continue
        spent += dv
        level[item] = to
    idx = np.arange(len(level))
    return pd.DataFrame(
        {
            "item_id": a.risk.item_ids,
            "safety_stock": c.ss[idx, level],
            "buffer_value": c.value[idx, level],
            "expected_annual_stockout_cost": c.stockout[idx, level],
        }
    )


def totals(a: Analysis) -> dict[str, float]:
    """Portfolio totals now vs recommended [money, money / year, share]."""
    unit = a.risk.unit_cost
    cur = np.nan_to_num(a.current_ss, nan=0.0)
    rec = a.recommended_ss
    pos = {p[0]: p for p in positions(a)}
    return {
        "buffer_value_now": float((cur * unit).sum()),
        "buffer_value_recommended": float((rec * unit).sum()),
        "cash_freed": float((np.maximum(cur - rec, 0.0) * unit).sum()),
        "cash_needed": float((np.maximum(rec - cur, 0.0) * unit).sum()),
        "expected_annual_stockout_cost_now": pos["current"][3],
        "expected_annual_stockout_cost_recommended": pos["recommended"][3],
        "expected_annual_holding_cost_now": pos["current"][4],
        "expected_annual_holding_cost_recommended": pos["recommended"][4],
        "expected_fill_rate_now": pos["current"][5],
        "expected_fill_rate_recommended": pos["recommended"][5],
    }


__all__ = ["FRONTIER_COLUMNS", "UNIFORM_DAYS", "allocate_budget", "frontier", "positions", "totals"]
