"""One self-contained HTML report of an analyze run (docs/report.md).

    from bufferwise.report import write_html_report
    write_html_report(result, "out/report.html")

The file works offline: plotly.js is embedded once, inline, in the page's <head>; every chart
is a <div> plus a small <script> with its data; styling is inline CSS with the system fonts; no
URL is referenced. Every text from the data goes through Jinja2's autoescape (page text) or
`charts.esc` (chart labels). The same result gives the same file.

Sections (`SECTIONS`): summary, portfolio frontier, risk map, stance mix, top mistakes,
supplier reliability, machines (OEE and losses), WIP buffers, and one section per top item
(`top_items`: the items with the most money at stake), each with its demand history, lead-time
distribution, cost curve and the explanation of its stance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from bufferwise.report import charts
from bufferwise.report.charts import money, money_short, quantity_text, share

if TYPE_CHECKING:
    from bufferwise.services.analyze import AnalysisResult

#: (anchor, heading) of the report's sections, in order
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("frontier", "Portfolio frontier"),
    ("risk-map", "Risk map"),
    ("stances", "Stance mix"),
    ("mistakes", "Top mistakes"),
    ("suppliers", "Supplier reliability"),
    ("machines", "Machines: OEE and losses"),
    ("wip-buffers", "WIP buffers"),
    ("items", "Top items"),
)
TOP_ITEMS = 10
TOP_FINDINGS = 5
TOP_MISTAKES_CHART = 15
#: the longest text of a one-line label (the description in a chart's hover) [characters]
MAX_LABEL = 60
#: the longest item list in a findings table cell [characters]: a cell wraps, so it holds more
#: than a one-line label
MAX_CELL_TEXT = 80
#: most items the risk map draws: the ones with the most money at stake (`risk_map_points`).
#: 5,000 WebGL markers draw and answer the hover at once in a browser and keep the chart's data
#: near 1 MB; one marker per item of a 100,000-item portfolio would be about 14 MB of JSON
RISK_MAP_MAX_POINTS = 5_000
#: most suppliers in the reliability chart and table, the least on time first: 30 bars fit a
#: screen (30 px each); the rest are in supply_profile.csv
TOP_SUPPLIERS = 30


@dataclass
class Table:
    """A table for the page: headers, rows of display text, and which columns are numbers."""

    headers: list[str]
    rows: list[list[str | Markup]]
    numeric: list[bool] = field(default_factory=list)


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _label(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _numbers(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats (NaN where missing or not a number; all NaN when absent)."""
    if column not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.Series(pd.to_numeric(df[column], errors="coerce"), index=df.index, dtype=float)


def money_at_stake(recs: pd.DataFrame) -> pd.Series:
    """Per item [money / year]: the larger of the money its findings quantify
    (diagnosis_money_per_year) and what the recommendation saves over the current buffer
    (current_annual_cost - expected_annual_cost); 0 when neither is known or positive."""
    found = _numbers(recs, "diagnosis_money_per_year")
    saving = _numbers(recs, "current_annual_cost") - _numbers(recs, "expected_annual_cost")
    both = pd.concat([found.fillna(0.0), saving.fillna(0.0)], axis=1).max(axis=1)
    return both.clip(lower=0.0)


def _stake_order(frame: pd.DataFrame) -> np.ndarray:
    """Row positions of `frame` (columns money_at_stake, buffer_value, item_id), most money at
    stake first; ties by recommended buffer value (larger first), then item id. An empty or
    unparsable number counts as 0. The order of `top_items` and `risk_map_points`."""
    key = pd.DataFrame(
        {
            "stake": pd.to_numeric(frame["money_at_stake"], errors="coerce").fillna(0.0).to_numpy(),
            "value": pd.to_numeric(frame["buffer_value"], errors="coerce").fillna(0.0).to_numpy(),
            "id": frame["item_id"].astype(str).to_numpy(),
        }
    )
    ranked = key.sort_values(
        ["stake", "value", "id"], ascending=[False, False, True], kind="mergesort"
    )
    return ranked.index.to_numpy()


def top_items(result: AnalysisResult, n: int = TOP_ITEMS) -> pd.DataFrame:
    """The n items with the most money at stake (`money_at_stake`; ties by recommended buffer
    value, then item id): the recommendation rows plus a money_at_stake column."""
    recs = result.decisions.items.reset_index(drop=True)
    recs = recs.assign(money_at_stake=money_at_stake(recs))
    return recs.iloc[_stake_order(recs)[: max(n, 0)]].reset_index(drop=True)


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "item"
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


def _supply_rows(result: AnalysisResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(supplier-level rows, (supplier, item) rows) of the supply profile."""
    s = result.profiles.supply
    if s is None or len(s) == 0:
        empty = pd.DataFrame(
            columns=["supplier_id", "item_id", "on_time_rate", "lead_time_p95_days"]
        )
        return empty, empty
    item = s["item_id"].fillna("").astype(str)
    return s[item == ""].reset_index(drop=True), s[item != ""].reset_index(drop=True)


def risk_points(result: AnalysisResult) -> pd.DataFrame:
    """One row per item for the risk map: demand CV (demand profile), supply risk = share of
    the item's receipts late (its (supplier, item) row, else its supplier's), lead-time p95,
    disruptions per year, stance, recommended buffer value and money at stake
    (`money_at_stake`). Items without a measured demand CV or supply risk are left out.

    on_time_rate of a (supplier, item) row is the credibility-shrunk estimate (the item's own
    rate pulled toward its supplier's, docs/profiles.md), so late_share is an estimate too."""
    decided = result.decisions.items.reset_index(drop=True)
    recs = decided[["item_id", "stance", "buffer_value"]].copy()
    recs["money_at_stake"] = money_at_stake(decided).to_numpy()
    recs["item_id"] = recs["item_id"].astype(str)
    items = result.items.assign(item_id=result.items["item_id"].astype(str))
    info_cols = [c for c in ("description", "supplier_id") if c in items.columns]
    recs = recs.merge(items[["item_id", *info_cols]], on="item_id", how="left")
    for c in ("description", "supplier_id"):
        if c not in recs.columns:
            recs[c] = ""
        recs[c] = recs[c].fillna("").astype(str)
    demand = result.profiles.demand
    cv = demand.assign(item_id=demand["item_id"].astype(str)).set_index("item_id")["cv"]
    recs["demand_cv"] = recs["item_id"].map(cv).astype(float)
    sup, pair = _supply_rows(result)
    risk_cols = ["on_time_rate", "lead_time_p95_days", "disruptions_per_year"]
    by_pair = pair.assign(
        key=pair["supplier_id"].astype(str) + "\x00" + pair["item_id"].astype(str)
    ).drop_duplicates("key")
    by_pair = by_pair.set_index("key")
    by_sup = sup.assign(supplier_id=sup["supplier_id"].astype(str)).drop_duplicates("supplier_id")
    by_sup = by_sup.set_index("supplier_id")
    keys = recs["supplier_id"] + "\x00" + recs["item_id"]
    for c in risk_cols:
        own = keys.map(by_pair[c]) if c in by_pair.columns else pd.Series(np.nan, index=recs.index)
        fallback = (
            recs["supplier_id"].map(by_sup[c])
            if c in by_sup.columns
            else pd.Series(np.nan, index=recs.index)
        )
        recs[c] = pd.to_numeric(own, errors="coerce").fillna(
            pd.to_numeric(fallback, errors="coerce")
        )
    recs["late_share"] = 1.0 - recs["on_time_rate"]
    recs["buffer_value"] = pd.to_numeric(recs["buffer_value"], errors="coerce").fillna(0.0)
    ok = np.isfinite(recs["demand_cv"]) & np.isfinite(recs["late_share"])
    return recs[ok].reset_index(drop=True)


def risk_map_points(
    points: pd.DataFrame, limit: int = RISK_MAP_MAX_POINTS
) -> tuple[pd.DataFrame, int]:
    """(the points the risk map draws, how many it was given): at most `limit`, those with the
    most money at stake (ties by recommended buffer value, then item id), in their given
    order."""
    if len(points) <= limit:
        return points, len(points)
    keep = np.sort(_stake_order(points)[: max(limit, 0)])
    return points.iloc[keep].reset_index(drop=True), len(points)


def _findings_sorted(result: AnalysisResult) -> pd.DataFrame:
    f = result.decisions.findings.reset_index(drop=True)
    if len(f) == 0:
        return f.assign(label=pd.Series(dtype=str))
    m = pd.to_numeric(f["money_per_year"], errors="coerce").fillna(0.0)
    f = f.assign(money_per_year=m, _code=f["code"].astype(str))
    f = f.sort_values(["money_per_year", "_code"], ascending=[False, True], kind="mergesort")
    labels = []
    for code, scope, items, count in zip(
        f["code"], f["scope"], f["items"], f["item_count"], strict=True
    ):
        ids = str(items).split(";") if isinstance(items, str) else [str(x) for x in items]
        if str(scope) == "item" and len(ids) == 1:
            labels.append(f"{ids[0]} · {code}")
        else:
            labels.append(f"{code} · {int(count)} items")
    return f.assign(label=labels).drop(columns=["_code"]).reset_index(drop=True)


def _item_index(result: AnalysisResult) -> dict[str, int]:
    ids = result.decisions.analysis.risk.item_ids
    return {str(v): i for i, v in enumerate(ids)}


def _demand_series(result: AnalysisResult, item_id: str) -> tuple[list[str], list[float]]:
    """The item's demand per bucket over the whole demand calendar, from the bucketed demand
    the profiles were measured on: NaN where not observed (before the item's first demand
    row, a declared gap), as in the profile; 0 in every period for an item without demand
    rows."""
    matrix = result.profiles.matrix
    starts = np.asarray(result.profiles.period_starts).astype("datetime64[D]")
    values = np.zeros(starts.size)
    if matrix is not None:
        row = np.flatnonzero(matrix.item_ids.astype(str) == item_id)
        if row.size:
            values = np.asarray(matrix.quantity[row[0]], dtype=float)
    return [str(s) for s in starts], values.tolist()


def demand_mean(quantity: list[float]) -> float | None:
    """The mean demand per bucket over the observed periods (NaN = not observed), as the
    demand profile's `mean`; None when no period is observed."""
    q = np.asarray(quantity, dtype=float)
    return float(np.nanmean(q)) if np.isfinite(q).any() else None


def _lead_times(result: AnalysisResult, item_id: str) -> tuple[np.ndarray, np.ndarray]:
    r = result.receipts
    if r is None or len(r) == 0:
        return np.zeros(0), np.zeros(0)
    mine = r[r["item_id"].astype(str) == item_id]
    ordered = pd.to_datetime(mine["order_date"], errors="coerce")
    lead = (pd.to_datetime(mine["received_date"], errors="coerce") - ordered).dt.days
    promised = (
        (pd.to_datetime(mine["promised_date"], errors="coerce") - ordered).dt.days
        if "promised_date" in mine.columns
        else pd.Series(dtype=float)
    )
    return (
        lead.dropna().to_numpy(dtype=float),
        promised.dropna().to_numpy(dtype=float),
    )


@dataclass
class ItemSection:
    item_id: str
    anchor: str
    description: str
    stance: str
    facts: Table
    explanation: str
    drivers: Table
    diagnosis: list[str]
    plots: list[Markup]
    notes: list[str]


def _item_section(
    result: AnalysisResult, row: pd.Series, anchor: str, index: dict[str, int]
) -> ItemSection:
    from bufferwise.decide import drivers_for

    item_id = str(row["item_id"])
    items = result.items
    master = items[items["item_id"].astype(str) == item_id]
    m = master.iloc[0] if len(master) else pd.Series(dtype=object)
    description = "" if pd.isna(m.get("description", "")) else str(m.get("description", ""))
    supplier = "" if pd.isna(m.get("supplier_id", "")) else str(m.get("supplier_id", ""))
    facts = Table(
        headers=["", "now", "recommended"],
        rows=[
            ["stance", "", str(row["stance"])],
            [
                "safety stock [units]",
                quantity_text(_num(row["current_safety_stock"])),
                quantity_text(_num(row["safety_stock"])),
            ],
            [
                "days of cover",
                quantity_text(_num(row.get("current_days_of_cover"))),
                quantity_text(_num(row["days_of_cover"])),
            ],
            [
                "buffer value",
                money(_num(row.get("current_buffer_value"))),
                money(_num(row["buffer_value"])),
            ],
            [
                "expected fill rate",
                share(_num(row.get("current_expected_fill_rate"))),
                share(_num(row["expected_fill_rate"])),
            ],
            [
                "expected cost / year",
                money(_num(row.get("current_annual_cost"))),
                money(_num(row["expected_annual_cost"])),
            ],
            ["reorder point [units]", "", quantity_text(_num(row["reorder_point"]))],
            ["order-up-to [units]", "", quantity_text(_num(row["order_up_to"]))],
            [
                "policy, order quantity",
                "",
                f"{row.get('policy', '')}, {quantity_text(_num(row['order_quantity']))}",
            ],
            ["money at stake / year", "", money(_num(row["money_at_stake"]))],
        ],
        numeric=[False, True, True],
    )
    i = index.get(item_id)
    drivers = Table(headers=["driver", "what was measured", "effect / year"], rows=[])
    plots: list[Markup] = []
    notes: list[str] = []
    periods, qty = _demand_series(result, item_id)
    mean = demand_mean(qty)
    unobserved = int(np.isnan(np.asarray(qty, dtype=float)).sum())
    if unobserved:
        notes.append(
            f"demand: {unobserved:,} of {len(qty):,} periods not observed (before the item's "
            "first demand row, or a declared gap) are left blank; the mean is over the "
            "observed ones"
        )
    plots.append(
        Markup(
            charts.figure_html(
                charts.demand_history_figure(periods, qty, result.profiles.bucket, mean),
                f"demand-{anchor}",
            )
        )
    )
    lead, promised = _lead_times(result, item_id)
    if lead.size:
        nominal = _num(m.get("nominal_lead_time_days"))
        plots.append(
            Markup(
                charts.figure_html(
                    charts.lead_time_figure(
                        lead, nominal if math.isfinite(nominal) else None, promised
                    ),
                    f"lead-time-{anchor}",
                )
            )
        )
    else:
        notes.append("no receipts recorded for this item: no lead-time distribution")
    if i is not None:
        a = result.decisions.analysis
        grid, perf = a.full_curve(i)
        cur_ss = _num(row["current_safety_stock"])
        current = (cur_ss, _num(row.get("current_annual_cost"))) if math.isfinite(cur_ss) else None
        plots.append(
            Markup(
                charts.figure_html(
                    charts.cost_curve_figure(
                        grid,
                        perf.holding_cost,
                        perf.stockout_cost,
                        (_num(row["safety_stock"]), _num(row["expected_annual_cost"])),
                        current,
                    ),
                    f"cost-curve-{anchor}",
                )
            )
        )
        for d in drivers_for(a, i):
            drivers.rows.append(
                [
                    d.key.replace("_", " "),
                    d.text,
                    money(d.effect) if math.isfinite(d.effect) else "",
                ]
            )
    drivers.numeric = [False, False, True]
    detail = str(row.get("diagnosis_detail", "") or "")
    return ItemSection(
        item_id=item_id,
        anchor=anchor,
        description=description + (f" · supplier {supplier}" if supplier else ""),
        stance=str(row["stance"]),
        facts=facts,
        explanation=str(row.get("drivers", "") or ""),
        drivers=drivers,
        diagnosis=[s.strip() for s in detail.split(" | ") if s.strip()],
        plots=plots,
        notes=notes,
    )


def _plot(fig: Any, div_id: str) -> Markup:
    return Markup(charts.figure_html(fig, div_id))


def _findings_table(f: pd.DataFrame) -> Table:
    return Table(
        headers=[
            "mistake",
            "items",
            "money / year",
            "stock value (> 0 freed, < 0 needed)",
            "what the data show",
        ],
        rows=[
            [
                str(r.code).replace("_", " "),
                _label(str(r.items).replace(";", ", "), MAX_CELL_TEXT)
                if str(r.scope) == "item"
                else f"{int(_num(r.item_count))} items",
                money(_num(r.money_per_year)),
                money(_num(r.stock_value)),
                str(r.message),
            ]
            for r in f.itertuples(index=False)
        ],
        numeric=[False, False, True, True, False],
    )


def build_context(result: AnalysisResult, n_items: int = TOP_ITEMS) -> dict[str, Any]:
    """Everything the page template shows (numbers formatted, plots as HTML fragments)."""
    d = result.decisions
    recs = d.items.reset_index(drop=True)
    totals = d.totals if isinstance(d.totals, dict) else dict(pd.DataFrame(d.totals).iloc[0])
    t = {k: _num(v) for k, v in totals.items()}
    stance_counts = recs["stance"].astype(str).value_counts()
    stance_rows = [
        (s, int(stance_counts.get(s, 0)), charts.STANCE_COLOURS.get(s, charts.NOW_COLOUR))
        for s in charts._stance_order(recs["stance"])
    ]
    findings = _findings_sorted(result)
    kpis = [
        ("items", f"{len(recs):,}", ""),
        (
            "buffer value",
            money_short(t.get("buffer_value_recommended", math.nan)),
            f"now {money_short(t.get('buffer_value_now', math.nan))}",
        ),
        (
            "cash freed",
            money_short(t.get("cash_freed", math.nan)),
            "items above their recommendation",
        ),
        (
            "cash needed",
            money_short(t.get("cash_needed", math.nan)),
            "items below their recommendation",
        ),
        (
            "expected shortage cost / year",
            money_short(t.get("expected_annual_stockout_cost_recommended", math.nan)),
            f"now {money_short(t.get('expected_annual_stockout_cost_now', math.nan))}",
        ),
        (
            "expected fill rate (demand-value weighted)",
            share(t.get("expected_fill_rate_recommended", math.nan)),
            f"now {share(t.get('expected_fill_rate_now', math.nan))}",
        ),
    ]
    plots: dict[str, Markup] = {
        "summary": _plot(charts.summary_figure(t), "plot-summary"),
        "frontier": _plot(charts.frontier_figure(d.frontier), "plot-frontier"),
        "stances": _plot(charts.stance_figure(recs), "plot-stances"),
    }
    measured = risk_points(result)
    points, n_measured = risk_map_points(
        measured.assign(description=[_label(str(v)) for v in measured["description"]])
    )
    plots["risk_map"] = _plot(charts.risk_map_figure(points, n_measured), "plot-risk-map")
    risk_notes = []
    if n_measured < len(recs):
        risk_notes.append(
            f"{len(recs) - n_measured:,} items without a measured demand CV or supply record "
            "are not shown."
        )
    if len(points) < n_measured:
        risk_notes.append(
            f"Only the {len(points):,} items with the most money at stake are drawn; "
            f"{n_measured - len(points):,} more are not (every item is in "
            "recommendations.csv)."
        )
    risk_note = " ".join(risk_notes)
    if len(findings):
        plots["mistakes"] = _plot(
            charts.mistakes_figure(findings.head(TOP_MISTAKES_CHART)), "plot-mistakes"
        )
    by_code = (
        findings.groupby(findings["code"].astype(str), sort=False)
        .agg(findings=("code", "size"), money=("money_per_year", "sum"))
        .sort_values("money", ascending=False, kind="mergesort")
        if len(findings)
        else pd.DataFrame(columns=["findings", "money"])
    )
    code_table = Table(
        headers=["mistake", "findings", "money / year (sum)"],
        rows=[
            [str(code).replace("_", " "), f"{int(r.findings):,}", money(_num(r.money))]
            for code, r in by_code.iterrows()
        ],
        numeric=[False, True, True],
    )
    sup = _supply_rows(result)[0]
    supplier_table = Table(headers=[], rows=[])
    n_suppliers = len(sup)
    if len(sup):
        sup = (
            sup.assign(
                _on=pd.to_numeric(sup["on_time_rate"], errors="coerce"),
                _id=sup["supplier_id"].astype(str),
            )
            .sort_values(["_on", "_id"], kind="mergesort", na_position="last")
            .head(TOP_SUPPLIERS)
        )
        plots["suppliers"] = _plot(charts.supplier_figure(sup, n_suppliers), "plot-suppliers")
        item_sup = result.items.assign(item_id=result.items["item_id"].astype(str))
        value = recs.assign(item_id=recs["item_id"].astype(str)).merge(
            item_sup[["item_id", "supplier_id"]], on="item_id", how="left"
        )
        per_sup = value.groupby(value["supplier_id"].astype(str))
        count_per_sup = per_sup.size()
        val = per_sup["buffer_value"].sum()
        supplier_table = Table(
            headers=[
                "rank",
                "supplier",
                "receipts",
                "on time",
                "lead time mean / p95 [days]",
                "disruptions / year",
                "items",
                "recommended buffer value",
            ],
            rows=[
                [
                    str(k),
                    str(r.supplier_id),
                    f"{int(_num(r.receipts)):,}" if math.isfinite(_num(r.receipts)) else "-",
                    share(_num(r.on_time_rate)),
                    f"{quantity_text(_num(r.lead_time_mean_days))} / "
                    f"{quantity_text(_num(r.lead_time_p95_days))}",
                    quantity_text(_num(r.disruptions_per_year)),
                    f"{int(count_per_sup.get(str(r.supplier_id), 0)):,}",
                    money(float(val.get(str(r.supplier_id), 0.0))),
                ]
                for k, r in enumerate(sup.itertuples(index=False), start=1)
            ],
            numeric=[True, False, True, True, True, True, True, True],
        )
    eq = result.equipment
    machine_table = Table(headers=[], rows=[])
    buffer_table = Table(headers=[], rows=[])
    if eq is not None and len(eq.machines):
        mach = eq.machines
        plots["oee"] = _plot(charts.oee_figure(mach), "plot-oee")
        oee = eq.oee
        if oee is not None and len(oee):
            if "period" in oee.columns and (oee["period"].astype(str) == "all").any():
                oee = oee[oee["period"].astype(str) == "all"]
            plots["machine_losses"] = _plot(charts.machine_losses_figure(oee), "plot-losses")
        if eq.losses is not None and len(eq.losses):
            plots["pareto"] = _plot(charts.loss_pareto_figure(eq.losses), "plot-pareto")
        machine_table = Table(
            headers=[
                "machine",
                "OEE",
                "availability",
                "performance",
                "quality",
                "MTBF [h]",
                "MTTR [h]",
                "failures",
                "JIT readiness",
            ],
            rows=[
                [
                    str(r.machine_id),
                    share(_num(r.oee)),
                    share(_num(r.availability)),
                    share(_num(r.performance)),
                    share(_num(r.quality)),
                    quantity_text(_num(r.mtbf_hours)),
                    quantity_text(_num(r.mttr_hours)),
                    f"{int(_num(r.failures)):,}" if math.isfinite(_num(r.failures)) else "-",
                    str(r.jit_readiness).replace("_", " "),
                ]
                for r in mach.itertuples(index=False)
            ],
            numeric=[False, True, True, True, True, True, True, True, False],
        )
    if eq is not None and eq.buffers is not None and len(eq.buffers):
        buf = eq.buffers
        plots["wip"] = _plot(charts.wip_buffers_figure(buf), "plot-wip")
        buffer_table = Table(
            headers=[
                "buffer",
                "between",
                "level now",
                "recommended",
                "line efficiency now",
                "at recommended",
                "hidden loss [h / year]",
            ],
            rows=[
                [
                    str(r.buffer_id),
                    f"{r.upstream_machine_id} → {r.downstream_machine_id}",
                    quantity_text(_num(r.current_level)),
                    quantity_text(_num(r.recommended_level)),
                    share(_num(r.line_efficiency_current)),
                    share(_num(r.line_efficiency_recommended)),
                    quantity_text(_num(r.hidden_loss_hours)),
                ]
                for r in buf.itertuples(index=False)
            ],
            numeric=[False, False, True, True, True, True, True],
        )
    top = top_items(result, n_items)
    used: set[str] = set()
    index = _item_index(result)
    sections = [
        _item_section(result, row, _slug(str(row["item_id"]), used), index)
        for _, row in top.iterrows()
    ]
    top_table = Table(
        headers=["item", "stance", "money at stake / year", "mistakes"],
        rows=[
            [
                Markup('<a href="#item-{}">{}</a>').format(s.anchor, s.item_id),
                s.stance,
                money(_num(r["money_at_stake"])),
                str(r.get("diagnosis", "")).replace(";", ", ").replace("_", " "),
            ]
            for s, (_, r) in zip(sections, top.iterrows(), strict=True)
        ],
        numeric=[False, False, True, False],
    )
    data_from, data_to = _data_window(result)
    return {
        "title": "bufferwise report",
        "run_id": result.run_id,
        "seed": result.seed,
        "data_from": data_from,
        "data_to": data_to,
        "n_items": len(recs),
        "bucket": result.profiles.bucket,
        "sections": SECTIONS,
        "headings": dict(SECTIONS),
        "kpis": kpis,
        "stance_rows": stance_rows,
        "top_findings": _findings_table(findings.head(TOP_FINDINGS)),
        "all_findings_count": len(findings),
        "code_table": code_table,
        "plots": plots,
        "risk_note": risk_note,
        "supplier_table": supplier_table,
        "suppliers_not_shown": n_suppliers - len(sup),
        "has_equipment": eq is not None,
        "target_line_efficiency": share(_num(result.settings.equipment.target_line_efficiency)),
        "machine_table": machine_table,
        "buffer_table": buffer_table,
        "top_table": top_table,
        "item_sections": sections,
        "top_n": len(sections),
        "plotlyjs": Markup(_script_safe(get_plotlyjs())),
        "css": Markup(CSS),
    }


def _script_safe(js: str) -> str:
    """JavaScript that cannot end its <script> element early."""
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def _data_window(result: AnalysisResult) -> tuple[str, str]:
    first, last = result.demand_window
    if first is None or last is None:
        return "-", "-"
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")


def render_html(result: AnalysisResult, n_items: int = TOP_ITEMS) -> str:
    """The report as one HTML string."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(**build_context(result, n_items))


def write_html_report(result: AnalysisResult, path: str | Path, n_items: int = TOP_ITEMS) -> Path:
    """Write the self-contained HTML report of `result` to `path` (folders created); returns
    the path. `n_items`: how many top items get a section of their own."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(result, n_items), encoding="utf-8")
    return out


CSS = """
:root { --ink:#1d232b; --muted:#5b6470; --line:#dde2e8; --bg:#f6f7f9; --card:#fff;
  --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
  sans-serif; color:var(--ink); background:var(--bg); font-size:15px; line-height:1.45; }
header { background:#1d2b3a; color:#fff; padding:18px 32px; }
header h1 { margin:0 0 4px; font-size:24px; }
header p { margin:0; color:#c9d3de; }
nav { background:#fff; border-bottom:1px solid var(--line); padding:8px 32px;
  position:sticky; top:0; z-index:10; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; margin-right:16px; white-space:nowrap; }
main { max-width:1280px; margin:0 auto; padding:8px 32px 48px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:16px 24px; margin:20px 0; }
h2 { margin:4px 0 8px; font-size:20px; }
h3 { margin:18px 0 6px; font-size:17px; }
p.lead { color:var(--muted); margin:0 0 12px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fit, minmax(170px, 1fr)); gap:12px;
  margin:8px 0 16px; }
.kpi { border:1px solid var(--line); border-radius:6px; padding:10px 14px; background:#fbfcfd; }
.kpi .label { color:var(--muted); font-size:13px; }
.kpi .value { font-size:24px; font-weight:600; }
.kpi .sub { color:var(--muted); font-size:13px; }
.stances { display:flex; gap:10px; flex-wrap:wrap; margin:4px 0 12px; }
.chip { border-radius:14px; padding:3px 12px; color:#fff; font-size:14px; }
table { border-collapse:collapse; width:100%; margin:8px 0 12px; font-size:14px; }
th, td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:left;
  vertical-align:top; }
th { background:#f0f3f6; font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:12px; }
.grid3 { display:grid; grid-template-columns:repeat(3, 1fr); gap:8px; }
@media (max-width: 1000px) { .grid2, .grid3 { grid-template-columns:1fr; } }
.plot { width:100%; min-height:300px; }
.item { border-top:2px solid var(--line); margin-top:18px; padding-top:6px; }
.why { background:#f3f7fc; border-left:4px solid var(--accent); padding:8px 12px; margin:8px 0; }
.note { color:var(--muted); font-size:13px; }
a.up { font-size:13px; font-weight:normal; color:var(--accent); text-decoration:none;
  margin-left:8px; }
td a { color:var(--accent); }
footer { color:var(--muted); font-size:13px; text-align:center; padding:16px; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
<script>{{ plotlyjs }}</script>
</head>
<body>
{%- macro table(t) %}
<table>
<thead><tr>{% for h in t.headers %}<th{% if t.numeric and t.numeric[loop.index0] %} class="num"\
{% endif %}>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr>{% for cell in row %}<td{% if t.numeric and t.numeric[loop.index0] %} class="num"\
{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{%- endfor %}
</tbody>
</table>
{%- endmacro %}
<header>
<h1>{{ title }}</h1>
<p>{{ n_items }} items · demand {{ data_from }} to {{ data_to }} ({{ bucket }} buckets) ·
run {{ run_id }} · seed {{ seed }} · amounts in the currency of the item costs</p>
</header>
<nav>{% for anchor, heading in sections %}<a href="#{{ anchor }}">{{ heading }}</a>{% endfor %}\
</nav>
<main>

<section id="summary">
<h2>{{ headings["summary"] }}</h2>
<p class="lead">Where each item should sit between just-in-time and just-in-case, and what the
recommended buffers change for the whole portfolio.</p>
<div class="stances">{% for s, n, colour in stance_rows %}<span class="chip" \
style="background:{{ colour }}">{{ s }}: {{ "{:,}".format(n) }} items</span>{% endfor %}</div>
<div class="kpis">{% for label, value, sub in kpis %}
<div class="kpi"><div class="label">{{ label }}</div><div class="value">{{ value }}</div>
<div class="sub">{{ sub }}</div></div>{% endfor %}
</div>
{{ plots["summary"] }}
<h3>Top {{ top_findings.rows|length }} findings in money</h3>
{% if top_findings.rows %}{{ table(top_findings) }}{% else %}
<p class="note">No mistake found in the current policy.</p>{% endif %}
</section>

<section id="frontier">
<h2>{{ headings["frontier"] }}</h2>
<p class="lead">Each point of the efficient frontier spends the next unit of buffer money where
it removes the most expected shortage cost. The dashed curve gives every item the same days of
cover; the marks show the current buffers and the recommended ones.</p>
{{ plots["frontier"] }}
</section>

<section id="risk-map">
<h2>{{ headings["risk-map"] }}</h2>
<p class="lead">Each bubble is an item: demand variability across, the estimated share of its
receipts that arrive late up (its own late share pulled toward its supplier's the fewer
receipts it has; its supplier's when it has none), its colour the recommended stance and its
size the recommended buffer value.</p>
{{ plots["risk_map"] }}
{% if risk_note %}<p class="note">{{ risk_note }}</p>{% endif %}
</section>

<section id="stances">
<h2>{{ headings["stances"] }}</h2>
<p class="lead">How many items sit at each stance, and the buffer value the items of each
stance hold now and would hold as recommended.</p>
{{ plots["stances"] }}
</section>

<section id="mistakes">
<h2>{{ headings["mistakes"] }}</h2>
<p class="lead">The mistakes of the current policy, each quantified in money per year
({{ "{:,}".format(all_findings_count) }} findings).</p>
{% if plots.get("mistakes") %}{{ plots["mistakes"] }}
{{ table(code_table) }}{% else %}<p class="note">No mistake found.</p>{% endif %}
</section>

<section id="suppliers">
<h2>{{ headings["suppliers"] }}</h2>
<p class="lead">Suppliers ranked by the share of receipts delivered on time, worst first, with
their 95th-percentile lead time and measured disruptions.</p>
{% if plots.get("suppliers") %}{{ plots["suppliers"] }}
{{ table(supplier_table) }}{% if suppliers_not_shown %}
<p class="note">{{ "{:,}".format(suppliers_not_shown) }} more not shown; see
supply_profile.csv.</p>{% endif %}{% else %}<p class="note">No receipts: supplier reliability
was not measured.</p>{% endif %}
</section>

<section id="machines">
<h2>{{ headings["machines"] }}</h2>
{% if plots.get("oee") %}
<p class="lead">OEE per machine split into availability, performance and quality, the hours
each loss takes, and the Pareto of losses over all machines.</p>
{{ plots["oee"] }}
<div class="grid2"><div>{{ plots.get("machine_losses", "") }}</div>
<div>{{ plots.get("pareto", "") }}</div></div>
{{ table(machine_table) }}
{% else %}<p class="note">No machine data in this run.</p>{% endif %}
</section>

<section id="wip-buffers">
<h2>{{ headings["wip-buffers"] }}</h2>
{% if plots.get("wip") %}
<p class="lead">Work-in-process buffers between machines: the level now and the smallest that
reaches the target line efficiency ({{ target_line_efficiency }}), and the hours of upstream
downtime a year the current pile hides (the downstream machine's extra starvation if the buffer
were taken away).</p>
{{ plots["wip"] }}
{{ table(buffer_table) }}
{% else %}<p class="note">No WIP buffers in this run.</p>{% endif %}
</section>

<section id="items">
<h2>{{ headings["items"] }}</h2>
<p class="lead">The {{ top_n }} items with the most money at stake a year (the larger of what
their mistakes cost and what the recommendation saves).</p>
{{ table(top_table) }}
{% for s in item_sections %}
<div class="item" id="item-{{ s.anchor }}">
<h3>{{ s.item_id }} · {{ s.stance }} <a class="up" href="#items">↑ top items</a></h3>
{% if s.description %}<p class="note">{{ s.description }}</p>{% endif %}
<div class="grid2"><div>{{ table(s.facts) }}</div>
<div><div class="why"><b>Why:</b> {{ s.explanation }}</div>
{% for d in s.diagnosis %}<p class="note">Mistake: {{ d }}</p>{% endfor %}</div></div>
<div class="grid3">{% for p in s.plots %}<div>{{ p }}</div>{% endfor %}</div>
{% for n in s.notes %}<p class="note">{{ n }}</p>{% endfor %}
{% if s.drivers.rows %}{{ table(s.drivers) }}{% endif %}
</div>
{% endfor %}
</section>
</main>
<footer>bufferwise · run {{ run_id }} · seed {{ seed }}</footer>
</body>
</html>
"""


__all__ = [
    "SECTIONS",
    "TOP_ITEMS",
    "build_context",
    "demand_mean",
    "money_at_stake",
    "render_html",
    "risk_map_points",
    "risk_points",
    "top_items",
    "write_html_report",
]
