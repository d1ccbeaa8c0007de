"""The figures of the HTML report (plotly), one function per chart, data in, figure out.

Every function takes plain DataFrames / arrays already selected by `bufferwise.report.html`
and returns a `plotly.graph_objects.Figure`. Text that comes from the data (item, supplier,
machine ids, descriptions) is HTML-escaped here, because plotly renders a subset of HTML
(<b>, <a href>...) in labels and hover text. `figure_html` turns a figure into a <div> and a
<script> that draws it with the plotly.js the page embeds once; its JSON is escaped so that no
string in the data can close the script.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: colour per stance, from lean (cool) to just-in-case (warm)
STANCE_COLOURS: dict[str, str] = {
    "jit": "#4c9f70",
    "lean": "#3a7dc9",
    "buffer": "#e0a030",
    "strategic": "#c4453c",
}
NOW_COLOUR = "#8c8c8c"
RECOMMENDED_COLOUR = "#1f5fa8"
ACCENT = "#c4453c"
#: a cost curve spanning more than this ratio is drawn on a log scale
LOG_SCALE_RATIO = 30.0
#: the risk map's marker of the largest recommended buffer value, diameter [px]: large enough
#: to read the size differences, small enough not to hide the markers around it
RISK_MAP_MAX_MARKER_PX = 40.0
#: the smallest risk-map marker [px]: an item without buffer value stays visible and hoverable
RISK_MAP_MIN_MARKER_PX = 4
#: the risk map is drawn with WebGL (Scattergl) from this many points on, with SVG (Scatter)
#: below: SVG draws and hovers a thousand markers at once and needs no WebGL context (some
#: locked-down browsers have none); beyond, one SVG element per marker makes the page slow
RISK_MAP_WEBGL_FROM = 1_000
#: the risk map's coordinates and marker sizes go to the page as 32-bit floats (plotly writes
#: numpy arrays base64-encoded): 7 significant digits, far finer than a pixel or the hover's
#: 2, in half the bytes of 64-bit floats
RISK_MAP_FLOAT = np.float32
#: height of one bar row of a horizontal bar chart [px]: the label's text plus a gap
MISTAKE_BAR_PX = 28
SUPPLIER_BAR_PX = 30
#: height of a horizontal bar chart around its bars [px]: title, axes, legend
BAR_CHART_FRAME_PX = 120
#: the least height of the mistakes and supplier charts [px], with few bars
MISTAKES_MIN_HEIGHT = 320
SUPPLIER_MIN_HEIGHT = 300
#: shown for a number the data do not have
MISSING = "—"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
#: numbers for a chart: a sequence or a numpy array
Numbers = Sequence[float] | np.ndarray
#: plotly.js options: resize with the page; no plotly logo link, no "edit in chart studio" and
#: no "share chart" button (it uploads the chart to a server): the report never goes online
PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "plotlyServerURL": "",
}


def esc(value: Any) -> str:
    """Data text as plotly shows it literally: < > & as &lt; &gt; &amp; and a double quote as
    the numeric entity &#34;. plotly.js decodes numeric entities and only a few named ones
    (&lt; &gt; &amp; among them, not &quot;, which it would show as typed); a single quote
    needs no escaping, since no tag can open without <."""
    text = html.escape("" if value is None else str(value), quote=False)
    return text.replace('"', "&#34;")


def _layout(fig: go.Figure, title: str, height: int = 380, top: int = 50, **kw: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        template="plotly_white",
        font={"family": FONT, "size": 12},
        height=height,
        margin={"l": 60, "r": 20, "t": top, "b": 90 if height < 360 else 60},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.22 if height < 360 else -0.15,
            "x": 0.0,
        },
        **kw,
    )
    return fig


def figure_html(fig: go.Figure, div_id: str) -> str:
    """A <div> and the <script> that draws `fig` into it (plotly.js must be loaded first)."""
    spec = fig.to_plotly_json()
    payload = json.dumps(
        {"data": spec.get("data", []), "layout": spec.get("layout", {})},
        cls=_Encoder,
        allow_nan=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    # JSON has < > & only inside strings, where \\u escapes mean the same character
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    config = json.dumps(PLOT_CONFIG, sort_keys=True)
    div = html.escape(div_id, quote=True)
    return (
        f'<div id="{div}" class="plot"></div>\n'
        f"<script>(function(){{var f={payload};"
        f'Plotly.newPlot("{div}",f.data,f.layout,{config});}})();</script>'
    )


class _Encoder(json.JSONEncoder):
    """plotly's JSON types: numpy arrays and scalars, pandas timestamps; NaN / inf as null."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return [self.default(v) if isinstance(v, np.generic) else v for v in o.tolist()]
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            v = float(o)
            return v if math.isfinite(v) else None
        if isinstance(o, pd.Timestamp | np.datetime64):
            return pd.Timestamp(o).isoformat()
        if hasattr(o, "isoformat"):
            return o.isoformat()
        return super().default(o)

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        return super().iterencode(_finite(o), _one_shot)


def _finite(o: Any) -> Any:
    """NaN and infinities -> None, recursively (JSON has no NaN)."""
    if isinstance(o, float | np.floating):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    if isinstance(o, np.ndarray):
        return _finite(o.tolist())
    return o


def _stance_order(stances: Iterable[str]) -> list[str]:
    present = list(dict.fromkeys(str(s) for s in stances))
    known = [s for s in STANCE_COLOURS if s in present]
    return known + sorted(s for s in present if s not in STANCE_COLOURS)


def _colour(stance: str) -> str:
    return STANCE_COLOURS.get(stance, NOW_COLOUR)


# -- portfolio ---------------------------------------------------------------------------------


def summary_figure(totals: dict[str, float]) -> go.Figure:
    """Now vs recommended: buffer value, expected annual holding and shortage cost."""
    labels = ["buffer value", "expected holding cost / year", "expected shortage cost / year"]
    keys = [
        ("buffer_value_now", "buffer_value_recommended"),
        ("expected_annual_holding_cost_now", "expected_annual_holding_cost_recommended"),
        ("expected_annual_stockout_cost_now", "expected_annual_stockout_cost_recommended"),
    ]
    now = [float(totals.get(k[0], float("nan"))) for k in keys]
    rec = [float(totals.get(k[1], float("nan"))) for k in keys]
    fig = go.Figure(
        [
            go.Bar(
                name="now",
                x=labels,
                y=now,
                marker_color=NOW_COLOUR,
                text=[money_short(v) for v in now],
                textposition="outside",
            ),
            go.Bar(
                name="recommended",
                x=labels,
                y=rec,
                marker_color=RECOMMENDED_COLOUR,
                text=[money_short(v) for v in rec],
                textposition="outside",
            ),
        ]
    )
    return _layout(
        fig, "Now vs recommended", barmode="group", yaxis={"title": "money", "rangemode": "tozero"}
    )


def frontier_figure(frontier: pd.DataFrame) -> go.Figure:
    """Buffer investment vs expected fill rate: the efficient frontier, one policy for all
    (the same days of cover for every item), and the current and recommended portfolios."""
    fig = go.Figure()
    series = frontier["series"].astype(str)
    eff = frontier[series == "frontier"].sort_values("buffer_value", kind="mergesort")
    if len(eff):
        fig.add_trace(
            go.Scatter(
                name="efficient frontier (best fill for the money)",
                x=eff["buffer_value"],
                y=eff["expected_fill_rate"],
                mode="lines",
                line={"color": RECOMMENDED_COLOUR, "width": 2.5},
                hovertemplate="buffer value %{x:,.0f}<br>fill rate %{y:.2%}<extra></extra>",
            )
        )
    one = frontier[series == "one_policy"].sort_values("buffer_value", kind="mergesort")
    if len(one):
        fig.add_trace(
            go.Scatter(
                name="one policy for all (same days of cover)",
                x=one["buffer_value"],
                y=one["expected_fill_rate"],
                mode="lines+markers",
                line={"color": NOW_COLOUR, "dash": "dash"},
                marker={"size": 6},
                customdata=one["days_of_cover"],
                hovertemplate=(
                    "%{customdata:g} days of cover for every item<br>buffer value %{x:,.0f}"
                    "<br>fill rate %{y:.2%}<extra></extra>"
                ),
            )
        )
    for name, colour, symbol in (
        ("current", ACCENT, "x"),
        ("recommended", RECOMMENDED_COLOUR, "star"),
    ):
        pt = frontier[series == name]
        if len(pt):
            fig.add_trace(
                go.Scatter(
                    name=name,
                    x=pt["buffer_value"],
                    y=pt["expected_fill_rate"],
                    mode="markers+text",
                    text=[name] * len(pt),
                    textposition="top left",
                    marker={"size": 16, "color": colour, "symbol": symbol},
                    hovertemplate=(
                        f"{name}<br>buffer value %{{x:,.0f}}<br>fill rate %{{y:.2%}}<extra></extra>"
                    ),
                )
            )
    return _layout(
        fig,
        "Buffer investment vs expected fill rate",
        height=440,
        xaxis={"title": "buffer value (safety stock x unit cost)", "tickformat": ",.0f"},
        yaxis={"title": "expected fill rate (demand-value weighted)", "tickformat": ".0%"},
    )


def _hover_number(values: Any, decimals: int) -> list[str]:
    """Numbers as the hover shows them (thousands separated, `decimals` decimals); MISSING
    where unknown. Sent as text so that the page holds no full-precision floats and no NaN."""
    out = []
    for v in pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float):
        out.append(f"{v:,.{decimals}f}" if math.isfinite(v) else MISSING)
    return out


def risk_map_figure(points: pd.DataFrame, total: int | None = None) -> go.Figure:
    """Demand variability (x) vs supply risk (y) per item, coloured by stance, sized by
    recommended buffer value; drawn with WebGL (`Scattergl`) from RISK_MAP_WEBGL_FROM points
    on, with SVG below. Columns: item_id, description, stance, demand_cv, late_share,
    lead_time_p95_days, disruptions_per_year, buffer_value, supplier_id. `total`: the items
    `points` was selected from (`html.risk_map_points`); when more, the title says how many
    are drawn and how many are not."""
    fig = go.Figure()
    scatter = go.Scattergl if len(points) >= RISK_MAP_WEBGL_FROM else go.Scatter
    biggest = float(np.nanmax(points["buffer_value"])) if len(points) else 0.0
    # plotly's area sizing: a marker of value v has area v / sizeref, the largest this diameter
    sizeref = 2.0 * biggest / RISK_MAP_MAX_MARKER_PX**2 if biggest > 0 else 1.0
    for stance in _stance_order(points["stance"]):
        p = points[points["stance"].astype(str) == stance]
        value = p["buffer_value"].to_numpy(dtype=float)
        custom = list(
            zip(
                [esc(v) for v in p["item_id"]],
                [esc(v) for v in p["description"]],
                [esc(v) for v in p["supplier_id"]],
                _hover_number(p["lead_time_p95_days"], 0),
                _hover_number(p["disruptions_per_year"], 1),
                _hover_number(value, 0),
                strict=True,
            )
        )
        fig.add_trace(
            scatter(
                name=stance,
                x=p["demand_cv"].to_numpy(dtype=RISK_MAP_FLOAT),
                y=p["late_share"].to_numpy(dtype=RISK_MAP_FLOAT),
                mode="markers",
                marker={
                    "color": _colour(stance),
                    "size": np.maximum(np.nan_to_num(value), 0.0).astype(RISK_MAP_FLOAT),
                    "sizemode": "area",
                    "sizeref": sizeref,
                    "sizemin": RISK_MAP_MIN_MARKER_PX,
                    "opacity": 0.75,
                    "line": {"width": 0.5, "color": "#333"},
                },
                customdata=[list(c) for c in custom],
                hovertemplate=(
                    "<b>%{customdata[0]}</b> %{customdata[1]}<br>stance "
                    + esc(stance)
                    + "<br>demand CV %{x:.2f}<br>supplier %{customdata[2]}: "
                    "est. %{y:.0%} late, p95 lead time %{customdata[3]} d, "
                    "%{customdata[4]} disruptions / year"
                    "<br>buffer value %{customdata[5]}<extra></extra>"
                ),
            )
        )
    title = "Risk map: demand variability vs supply risk"
    if total is not None and total > len(points):
        title += (
            f"<br><sup>the {len(points):,} items with the most money at stake of {total:,}; "
            f"{total - len(points):,} not drawn (all in recommendations.csv)</sup>"
        )
    return _layout(
        fig,
        title,
        height=480,
        top=70 if total is not None and total > len(points) else 50,
        xaxis={"title": "demand variability (CV of demand per period)", "rangemode": "tozero"},
        yaxis={
            "title": "estimated share of receipts late (item's, shrunk toward its supplier's)",
            "tickformat": ".0%",
        },
    )


def stance_figure(recs: pd.DataFrame) -> go.Figure:
    """Items per stance, and the buffer value now vs recommended of the items in each stance."""
    order = _stance_order(recs["stance"])
    g = recs.groupby(recs["stance"].astype(str), sort=False)
    count = g.size().reindex(order, fill_value=0)
    rec = g["buffer_value"].sum().reindex(order, fill_value=0.0)
    now = g["current_buffer_value"].sum(min_count=1).reindex(order)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("items per stance", "buffer value by stance"),
        horizontal_spacing=0.12,
    )
    fig.add_trace(
        go.Bar(
            x=order,
            y=count.to_numpy(),
            marker_color=[_colour(s) for s in order],
            text=[f"{int(c):,}" for c in count],
            textposition="outside",
            showlegend=False,
            hovertemplate="%{x}: %{y:,} items<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            name="now",
            x=order,
            y=now.to_numpy(dtype=float),
            marker_color=NOW_COLOUR,
            hovertemplate="%{x} items, now: %{y:,.0f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Bar(
            name="recommended",
            x=order,
            y=rec.to_numpy(dtype=float),
            marker_color=RECOMMENDED_COLOUR,
            hovertemplate="%{x} items, recommended: %{y:,.0f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(title_text="items", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="buffer value", row=1, col=2, tickformat=",.0f")
    return _layout(fig, "Stance mix", top=80, barmode="group")


def mistakes_figure(findings: pd.DataFrame) -> go.Figure:
    """The largest findings by money per year (horizontal bars, largest on top), coloured by
    mistake code. Columns: code, label, money_per_year."""
    f = findings.iloc[::-1]
    codes = list(dict.fromkeys(findings["code"].astype(str)))
    palette = ["#c4453c", "#e0a030", "#3a7dc9", "#7a5cb8", "#4c9f70", "#8c8c8c"]
    fig = go.Figure()
    for k, code in enumerate(codes):
        sel = f[f["code"].astype(str) == code]
        fig.add_trace(
            go.Bar(
                name=esc(code),
                orientation="h",
                y=[esc(v) for v in sel["label"]],
                x=sel["money_per_year"],
                marker_color=palette[k % len(palette)],
                hovertemplate="%{y}<br>%{x:,.0f} a year<extra></extra>",
            )
        )
    fig.update_yaxes(
        categoryorder="array", categoryarray=[esc(v) for v in f["label"]], automargin=True
    )
    return _layout(
        fig,
        "Largest mistakes of the current policy, money per year",
        height=_bar_chart_height(len(findings), MISTAKE_BAR_PX, MISTAKES_MIN_HEIGHT),
        xaxis={"title": "money per year", "tickformat": ",.0f"},
        barmode="stack",
    )


def _bar_chart_height(bars: int, px_per_bar: int, minimum: int) -> int:
    """Height [px] of a horizontal bar chart with `bars` rows."""
    return max(minimum, px_per_bar * bars + BAR_CHART_FRAME_PX)


def supplier_figure(suppliers: pd.DataFrame, total: int | None = None) -> go.Figure:
    """Suppliers ranked by on-time rate (worst on top): on-time rate, lead-time p95 and
    disruptions per year side by side. Columns: supplier_id, on_time_rate,
    lead_time_p95_days, disruptions_per_year. `total`: the suppliers `suppliers` is the
    worst of; when more, the title says how many are not shown."""
    s = suppliers.iloc[::-1]
    names = [esc(v) for v in s["supplier_id"]]
    fig = make_subplots(
        rows=1,
        cols=3,
        shared_yaxes=True,
        subplot_titles=("on-time rate", "lead time p95 [days]", "disruptions per year"),
        horizontal_spacing=0.06,
    )
    on_time = s["on_time_rate"].to_numpy(dtype=float)
    fig.add_trace(
        go.Bar(
            orientation="h",
            y=names,
            x=on_time,
            marker_color=RECOMMENDED_COLOUR,
            text=[share(v, 0) for v in on_time],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1%} on time<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            orientation="h",
            y=names,
            x=s["lead_time_p95_days"],
            marker_color=NOW_COLOUR,
            hovertemplate="%{y}: p95 lead time %{x:.0f} days<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Bar(
            orientation="h",
            y=names,
            x=s["disruptions_per_year"],
            marker_color="#e0a030",
            hovertemplate="%{y}: %{x:.1f} disruptions a year<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=3,
    )
    fig.update_xaxes(tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=names)
    title = "Supplier reliability ranking"
    if total is not None and total > len(s):
        title += (
            f" — the {len(s):,} least on time of {total:,}; {total - len(s):,} more not shown "
            "(see supply_profile.csv)"
        )
    return _layout(
        fig, title, height=_bar_chart_height(len(s), SUPPLIER_BAR_PX, SUPPLIER_MIN_HEIGHT), top=80
    )


# -- equipment ---------------------------------------------------------------------------------


def oee_figure(machines: pd.DataFrame) -> go.Figure:
    """Availability, performance, quality and OEE per machine (grouped bars)."""
    names = [esc(v) for v in machines["machine_id"]]
    fig = go.Figure()
    for col, colour in (
        ("availability", "#3a7dc9"),
        ("performance", "#4c9f70"),
        ("quality", "#e0a030"),
        ("oee", "#c4453c"),
    ):
        if col not in machines.columns:
            continue
        fig.add_trace(
            go.Bar(
                name=col.upper() if col == "oee" else col,
                x=names,
                y=machines[col],
                marker_color=colour,
                hovertemplate=f"%{{x}} {col} %{{y:.1%}}<extra></extra>",
            )
        )
    return _layout(
        fig,
        "OEE = availability x performance x quality, per machine",
        barmode="group",
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
    )


def machine_losses_figure(oee: pd.DataFrame) -> go.Figure:
    """Hours lost per machine by loss category (stacked). Columns machine_id and
    loss_<name>_hours."""
    names = [esc(v) for v in oee["machine_id"]]
    loss_cols = [c for c in oee.columns if c.startswith("loss_") and c.endswith("_hours")]
    fig = go.Figure()
    palette = ["#c4453c", "#e0a030", "#3a7dc9", "#7a5cb8", "#4c9f70", "#8c8c8c", "#b5651d"]
    k = 0
    for col in loss_cols:
        values = pd.to_numeric(oee[col], errors="coerce").to_numpy(dtype=float)
        if not np.nansum(values) > 0:
            continue
        label = col[len("loss_") : -len("_hours")].replace("_", " ")
        fig.add_trace(
            go.Bar(
                name=label,
                x=names,
                y=values,
                marker_color=palette[k % len(palette)],
                hovertemplate=f"%{{x}} {label}: %{{y:,.0f}} h<extra></extra>",
            )
        )
        k += 1
    return _layout(
        fig, "Hours lost per machine", barmode="stack", yaxis={"title": "hours", "tickformat": ","}
    )


def loss_pareto_figure(losses: pd.DataFrame) -> go.Figure:
    """Loss Pareto: hours per loss category (bars) and the cumulative share (line)."""
    lo = losses[pd.to_numeric(losses["hours"], errors="coerce") > 0]
    names = [esc(str(v).replace("_", " ")) for v in lo["loss"]]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            name="hours lost",
            x=names,
            y=lo["hours"],
            marker_color=RECOMMENDED_COLOUR,
            hovertemplate="%{x}: %{y:,.0f} h<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            name="cumulative share",
            x=names,
            y=lo["cumulative_share"],
            mode="lines+markers",
            line={"color": ACCENT},
            hovertemplate="%{x}: %{y:.0%} cumulative<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="hours", tickformat=",", secondary_y=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], dtick=0.2, secondary_y=True, showgrid=False)
    return _layout(fig, "Loss Pareto, all machines")


def wip_buffers_figure(buffers: pd.DataFrame) -> go.Figure:
    """WIP buffer level now vs recommended, and the hidden loss (hours of upstream downtime a
    year the current level masks)."""
    names = [esc(v) for v in buffers["buffer_id"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("level [units]", "hidden loss [hours / year]"),
        horizontal_spacing=0.12,
    )
    fig.add_trace(
        go.Bar(name="now", x=names, y=buffers["current_level"], marker_color=NOW_COLOUR),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            name="recommended",
            x=names,
            y=buffers["recommended_level"],
            marker_color=RECOMMENDED_COLOUR,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            name="hidden loss",
            x=names,
            y=buffers["hidden_loss_hours"],
            marker_color=ACCENT,
            hovertemplate="%{x}: %{y:,.0f} h a year masked<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    return _layout(fig, "WIP buffers", top=80, barmode="group")


# -- items -------------------------------------------------------------------------------------


def demand_history_figure(
    periods: Sequence[Any], quantity: Numbers, bucket: str, mean: float | None = None
) -> go.Figure:
    """Demand per bucket over the history (bars), with the mean when given. A NaN quantity is
    a period not observed (before the item's first demand row, a declared gap): no bar, a gap,
    never a zero."""
    fig = go.Figure(
        go.Bar(
            name="demand",
            x=list(periods),
            y=list(quantity),
            marker_color=RECOMMENDED_COLOUR,
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.1f}<extra></extra>",
        )
    )
    if mean is not None and math.isfinite(mean):
        fig.add_hline(
            y=mean,
            line={"color": ACCENT, "dash": "dash"},
            annotation_text=f"mean {quantity_text(mean)}",
            annotation_position="top right",
        )
    return _layout(
        fig,
        f"Demand per {bucket}",
        height=340,
        yaxis={"title": "units", "rangemode": "tozero"},
        showlegend=False,
        bargap=0.1,
    )


def lead_time_figure(
    lead_days: Numbers, nominal_days: float | None, promised_days: Numbers
) -> go.Figure:
    """Distribution of the measured lead times (received - ordered) of the item's receipts,
    with the promised lead times and the nominal one of the item master."""
    fig = go.Figure()
    fig.add_trace(
        go.Histogram(
            name="received - ordered",
            x=list(lead_days),
            marker_color=RECOMMENDED_COLOUR,
            opacity=0.85,
            xbins={"size": 1},
            hovertemplate="%{x} days: %{y} receipts<extra></extra>",
        )
    )
    if len(promised_days):
        fig.add_trace(
            go.Histogram(
                name="promised - ordered",
                x=list(promised_days),
                marker_color=NOW_COLOUR,
                opacity=0.5,
                xbins={"size": 1},
                hovertemplate="promised %{x} days: %{y} receipts<extra></extra>",
            )
        )
    if nominal_days is not None and math.isfinite(nominal_days):
        fig.add_vline(
            x=nominal_days,
            line={"color": ACCENT, "dash": "dash"},
            annotation_text=f"nominal {nominal_days:g} d",
            annotation_position="top right",
        )
    return _layout(
        fig,
        "Lead time distribution",
        height=340,
        barmode="overlay",
        xaxis={"title": "days", "rangemode": "tozero"},
        yaxis={"title": "receipts"},
    )


def cost_curve_figure(
    safety_stock: Numbers,
    holding_cost: Numbers,
    stockout_cost: Numbers,
    chosen: tuple[float, float],
    current: tuple[float, float] | None,
) -> go.Figure:
    """Expected annual holding, shortage and total cost against the safety stock, the chosen
    level (and the current one) marked. chosen / current: (safety stock, expected annual
    cost)."""
    ss = np.asarray(safety_stock, dtype=float)
    hold = np.asarray(holding_cost, dtype=float)
    short = np.asarray(stockout_cost, dtype=float)
    fig = go.Figure()
    for name, y, colour, dash in (
        ("total", hold + short, "#222", "solid"),
        ("holding", hold, RECOMMENDED_COLOUR, "dot"),
        ("shortage", short, ACCENT, "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                name=name,
                x=ss,
                y=y,
                mode="lines",
                line={"color": colour, "dash": dash, "width": 2.5 if name == "total" else 1.5},
                hovertemplate=f"safety stock %{{x:,.1f}}: {name} %{{y:,.0f}} / year<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            name="chosen",
            x=[chosen[0]],
            y=[chosen[1]],
            mode="markers",
            marker={"size": 14, "symbol": "star", "color": "#e0a030", "line": {"width": 1}},
            hovertemplate="chosen: safety stock %{x:,.1f}, %{y:,.0f} / year<extra></extra>",
        )
    )
    fig.add_vline(x=chosen[0], line={"color": "#e0a030", "dash": "dash"})
    if current is not None and all(math.isfinite(v) for v in current):
        fig.add_trace(
            go.Scatter(
                name="current",
                x=[current[0]],
                y=[current[1]],
                mode="markers",
                marker={"size": 12, "symbol": "x", "color": NOW_COLOUR},
                hovertemplate="current: safety stock %{x:,.1f}, %{y:,.0f} / year<extra></extra>",
            )
        )
    positive = np.concatenate([hold + short, [chosen[1]]])
    positive = positive[np.isfinite(positive) & (positive > 0)]
    yaxis: dict[str, Any] = {"title": "expected cost per year", "tickformat": ",.0f"}
    if positive.size and positive.max() / positive.min() > LOG_SCALE_RATIO:  # all > 0
        yaxis["type"] = "log"
    return _layout(
        fig,
        "Cost vs safety stock",
        height=340,
        xaxis={"title": "safety stock [units]", "rangemode": "tozero"},
        yaxis=yaxis,
    )


# -- number text -------------------------------------------------------------------------------


def money(x: float) -> str:
    """Money for planners: 1,234,567 (whole units), 9.50 below 10, "-" when unknown."""
    if x is None or not math.isfinite(float(x)):
        return "-"
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.0f}"


def money_short(x: float) -> str:
    """Money in short form: 9.95 M, 194 k, 512."""
    if x is None or not math.isfinite(float(x)):
        return "-"
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:,.2f} bn"
    if a >= 1e6:
        return f"{x / 1e6:,.2f} M"
    if a >= 1e4:
        return f"{x / 1e3:,.0f} k"
    return money(x)


def share(x: float, decimals: int = 1) -> str:
    """A share as a percentage: 99.1%."""
    if x is None or not math.isfinite(float(x)):
        return "-"
    return f"{x:.{decimals}%}"


def quantity_text(x: float) -> str:
    """A quantity: 1,234.5 (one decimal), "-" when unknown."""
    if x is None or not math.isfinite(float(x)):
        return "-"
    return f"{x:,.1f}"


__all__ = [
    "MISSING",
    "PLOT_CONFIG",
    "RISK_MAP_MAX_MARKER_PX",
    "STANCE_COLOURS",
    "cost_curve_figure",
    "demand_history_figure",
    "esc",
    "figure_html",
    "frontier_figure",
    "lead_time_figure",
    "loss_pareto_figure",
    "machine_losses_figure",
    "mistakes_figure",
    "money",
    "money_short",
    "oee_figure",
    "quantity_text",
    "risk_map_figure",
    "share",
    "stance_figure",
    "summary_figure",
    "supplier_figure",
    "wip_buffers_figure",
]
