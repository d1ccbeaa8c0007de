"""The report at the 100,000-item scale of the benchmark, and what its figures say they are.

The large portfolio is the example plant's analysis tiled to 100,000 items over 500 suppliers
(the decision, item master and demand-profile rows repeated under new item ids, buffer values
varied, one supplier row per supplier) and rendered through the same `render_html` the report
uses: analysing 100,000 items here would take minutes, and the size of the page depends only
on the tables the report reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from bufferwise.profile.demand import build_demand_matrix, profile_matrix
from bufferwise.report import charts, export_tables, render_html
from bufferwise.report.exports import NUMBER_FORMATS, column_kind
from bufferwise.report.html import (
    RISK_MAP_MAX_POINTS,
    TOP_SUPPLIERS,
    _demand_series,
    demand_mean,
    risk_map_points,
    risk_points,
    top_items,
)
from bufferwise.services.analyze import AnalysisResult

from .conftest import Written

LARGE_ITEMS = 100_000
LARGE_SUPPLIERS = 500
#: the page may be plotly.js plus at most this much: the charts and tables of a 100,000-item
#: portfolio (measured 0.6 MB; one marker per item was 14 MB for the risk map alone)
LARGE_PAGE_BEYOND_PLOTLYJS = 1_500_000
CHROMIUM = Path("/usr/bin/chromium")
#: a share or quantity this small may show as 0 in the workbook
NEGLIGIBLE = 1e-6


def _large(result: AnalysisResult) -> AnalysisResult:
    rng = np.random.default_rng(1)
    n = LARGE_ITEMS

    def tile(df: pd.DataFrame) -> pd.DataFrame:
        out = df.iloc[np.arange(n) % len(df)].reset_index(drop=True).copy()
        out["item_id"] = [f"ITEM-{i:06d}" for i in range(n)]
        return out

    recs = tile(result.decisions.items)
    recs["buffer_value"] = recs["buffer_value"].to_numpy(float) * rng.uniform(0.5, 1.5, n)
    items = tile(result.items)
    items["supplier_id"] = [f"S{i % LARGE_SUPPLIERS:03d}" for i in range(n)]
    supply = result.profiles.supply
    rows = supply[supply["item_id"].fillna("").astype(str) == ""]
    rows = rows.iloc[np.arange(LARGE_SUPPLIERS) % len(rows)].reset_index(drop=True).copy()
    rows["supplier_id"] = [f"S{i:03d}" for i in range(LARGE_SUPPLIERS)]
    rows["on_time_rate"] = rng.uniform(0.3, 1.0, LARGE_SUPPLIERS)
    profiles = dataclasses.replace(
        result.profiles, demand=tile(result.profiles.demand), supply=rows
    )
    decisions = dataclasses.replace(result.decisions, items=recs)
    return dataclasses.replace(result, items=items, profiles=profiles, decisions=decisions)


@pytest.fixture(scope="module")
def large_page(result: AnalysisResult) -> str:
    return render_html(_large(result))


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)


def _figure(page: str, div_id: str) -> dict:
    script = next(s for s in _scripts(page) if f'Plotly.newPlot("{div_id}"' in s)
    return json.loads(re.search(r"var f=(\{.*?\});Plotly", script, flags=re.DOTALL).group(1))


@pytest.mark.slow
def test_large_portfolio_report_stays_small_and_says_what_is_left_out(large_page: str) -> None:
    size = len(large_page.encode("utf-8"))
    assert size < len(get_plotlyjs().encode("utf-8")) + LARGE_PAGE_BEYOND_PLOTLYJS, size
    left_out = LARGE_ITEMS - RISK_MAP_MAX_POINTS
    # the risk map draws the cap, with WebGL, and says how many it leaves out
    risk = _figure(large_page, "plot-risk-map")
    assert {t["type"] for t in risk["data"]} == {"scattergl"}
    drawn = sum(len(t["customdata"]) for t in risk["data"])
    assert drawn == RISK_MAP_MAX_POINTS
    title = risk["layout"]["title"]["text"]
    assert f"{RISK_MAP_MAX_POINTS:,} items with the most money at stake of {LARGE_ITEMS:,}" in title
    assert f"{left_out:,} not drawn" in title
    assert f"{left_out:,} more are not" in large_page  # the note under the chart
    # hover numbers are rounded text, never full-precision floats or NaN
    for trace in risk["data"]:
        for row in trace["customdata"]:
            for text in row[3:]:
                assert text == charts.MISSING or re.fullmatch(r"-?[\d,]+(\.\d)?", text), text
    # the supplier chart and table hold the worst TOP_SUPPLIERS and say how many more exist
    sup = _figure(large_page, "plot-suppliers")
    assert len(sup["data"][0]["y"]) == TOP_SUPPLIERS
    assert sup["layout"]["height"] < 1_200
    assert f"{LARGE_SUPPLIERS - TOP_SUPPLIERS:,} more not shown" in sup["layout"]["title"]["text"]
    assert f"{LARGE_SUPPLIERS - TOP_SUPPLIERS:,} more not shown; see\nsupply_profile.csv" in (
        large_page
    )


@pytest.mark.slow
def test_large_portfolio_report_draws_in_headless_chromium(large_page: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
        if os.environ.get("BUFFERWISE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (BUFFERWISE_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    path = tmp_path / "large.html"
    path.write_text(large_page, encoding="utf-8")
    console: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function(
                "[...document.querySelectorAll('.plot')].every(d => d.querySelector('.main-svg'))",
                timeout=60_000,
            )
            webgl = page.evaluate("!!document.querySelector('#plot-risk-map canvas')")
        finally:
            browser.close()
    assert not errors, errors
    # Chromium's software GL notes its own performance ("GL Driver Message ... GPU stall"):
    # not the page's
    own = [m for m in console if m.startswith(("error", "warning")) and "GL Driver" not in m]
    assert not own, own
    assert webgl


def test_risk_map_points_keep_the_most_money_at_stake(result: AnalysisResult) -> None:
    points = risk_points(result)
    assert "money_at_stake" in points.columns
    shown, total = risk_map_points(points, limit=7)
    assert total == len(points) and len(shown) == 7
    stake = points["money_at_stake"].to_numpy()
    assert sorted(shown["money_at_stake"], reverse=True) == sorted(stake, reverse=True)[:7]
    same, n = risk_map_points(points)
    assert n == len(points) and len(same) == len(points)  # the demo is under the cap


def test_demo_risk_map_is_svg_with_rounded_hover_and_honest_axis(first_run: Written) -> None:
    page = first_run.report.read_text(encoding="utf-8")
    risk = _figure(page, "plot-risk-map")
    assert {t["type"] for t in risk["data"]} == {"scatter"}  # under RISK_MAP_WEBGL_FROM
    assert "not drawn" not in risk["layout"]["title"]["text"]
    assert "shrunk toward its supplier" in risk["layout"]["yaxis"]["title"]["text"]
    for trace in risk["data"]:
        for row in trace["customdata"]:
            assert all(isinstance(v, str) for v in row)
            for text in row[3:]:
                assert text == charts.MISSING or re.fullmatch(r"-?[\d,]+(\.\d)?", text), text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('Press "A" & <B>', "Press &#34;A&#34; &amp; &lt;B&gt;"),
        ("O'Neil", "O'Neil"),
        (None, ""),
        (12, "12"),
    ],
)
def test_esc_uses_entities_plotly_decodes(text: object, shown: str) -> None:
    assert charts.esc(text) == shown
    assert "&quot;" not in charts.esc(text)


def test_quoted_label_reads_as_typed_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    names = ['Press "A" & <B>', "O'Neil"]
    machines = pd.DataFrame(
        {
            "machine_id": names,
            "availability": [0.9, 0.8],
            "performance": [0.9, 0.9],
            "quality": [0.99, 0.98],
            "oee": [0.8, 0.7],
        }
    )
    div = charts.figure_html(charts.oee_figure(machines), "p")
    path = tmp_path / "q.html"
    path.write_text(
        f"<html><head><script>{get_plotlyjs()}</script></head><body>{div}</body></html>",
        encoding="utf-8",
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            page.wait_for_selector(".main-svg")
            ticks = page.evaluate(
                "[...document.querySelectorAll('.xtick text')].map(t => t.textContent)"
            )
        finally:
            browser.close()
    assert ticks == names


def _gapped(result: AnalysisResult) -> tuple[AnalysisResult, str]:
    """The result with its profiles measured on a demand table where one top item starts
    late (its first ten weeks not observed) and has a declared-missing week."""
    item = str(top_items(result, 1)["item_id"].iloc[0])
    matrix = result.profiles.matrix
    assert matrix is not None
    starts = pd.to_datetime(matrix.period_starts)
    rows = []
    for i, item_id in enumerate(matrix.item_ids.astype(str)):
        for t, start in enumerate(starts):
            q = float(np.nan_to_num(matrix.quantity[i, t]))
            if item_id == item and t < 10:
                continue  # not yet sold: no row before its first one
            rows.append((item_id, start, q))
    demand = pd.DataFrame(rows, columns=["item_id", "date", "quantity"])
    missing = pd.DataFrame({"item_id": [item], "date": [starts[20]]})
    gapped = build_demand_matrix(demand, matrix.bucket, missing=missing)
    profiles = dataclasses.replace(
        result.profiles,
        matrix=gapped,
        period_starts=gapped.period_starts,
        demand=profile_matrix(gapped),
    )
    return dataclasses.replace(result, profiles=profiles), item


def test_demand_chart_leaves_unobserved_periods_blank_and_matches_the_profile(
    result: AnalysisResult,
) -> None:
    gapped, item = _gapped(result)
    _, qty = _demand_series(gapped, item)
    q = np.asarray(qty, dtype=float)
    assert np.isnan(q[:10]).all() and np.isnan(q[20])  # blank, not zero
    assert np.isfinite(q[10:20]).all()
    profile = gapped.profiles.demand.set_index(gapped.profiles.demand["item_id"].astype(str))
    assert demand_mean(qty) == pytest.approx(float(profile.loc[item, "mean"]), rel=1e-9)
    assert demand_mean(qty) != pytest.approx(float(np.nan_to_num(q).mean()), rel=1e-6)
    # every item of the example plant: the chart's mean line is the profile's mean
    means = result.profiles.demand.set_index(result.profiles.demand["item_id"].astype(str))
    for item_id in result.decisions.items["item_id"].astype(str):
        mean = demand_mean(_demand_series(result, item_id)[1])
        assert mean == pytest.approx(float(means.loc[item_id, "mean"]), rel=1e-9, abs=1e-12)


def test_demand_chart_sends_gaps_as_null_and_says_so(result: AnalysisResult) -> None:
    gapped, item = _gapped(result)
    periods, qty = _demand_series(gapped, item)
    fig = charts.demand_history_figure(periods, qty, "week", demand_mean(qty))
    spec = json.loads(charts.figure_html(fig, "d").split("var f=")[1].split(";Plotly")[0])
    ys = spec["data"][0]["y"]
    assert ys[:10] == [None] * 10 and ys[20] is None
    page = render_html(gapped, n_items=1)
    assert "periods not observed" in page and "the mean is over the observed ones" in page


def test_findings_table_states_the_sign_and_kpi_its_weighting(first_run: Written) -> None:
    page = first_run.report.read_text(encoding="utf-8")
    assert "stock value (&gt; 0 freed, &lt; 0 needed)" in page
    assert "expected fill rate (demand-value weighted)" in page


def test_item_stock_value_is_not_exported_under_the_totals_name(result: AnalysisResult) -> None:
    tables = export_tables(result)
    recs = tables["recommendations"]
    assert "cash_freed" not in recs.columns
    assert "finding_stock_value" in recs.columns
    assert recs["finding_stock_value"].tolist() == result.decisions.items["cash_freed"].tolist()
    assert "cash_freed" in tables["totals"].columns  # the portfolio figure keeps its name
    assert float(tables["totals"]["cash_freed"].iloc[0]) >= 0.0


def _shown_decimals(number_format: str) -> int:
    """The most decimals an Excel number format shows of the value (a % format: of x 100)."""
    m = re.search(r"\.([0#]+)", number_format)
    return (len(m.group(1)) if m else 0) + (2 if number_format.endswith("%") else 0)


def test_workbook_formats_show_small_shares_and_quantities(result: AnalysisResult) -> None:
    assert column_kind("expected_fill_rate_ci", np.dtype(float)) == "share_spread"
    assert column_kind("expected_fill_rate", np.dtype(float)) == "share"
    # a slow mover's mean demand and a fill-rate CI of the example plant's size stay visible
    for kind, value in (("quantity", 0.002), ("share_spread", 0.000157)):
        assert round(value, _shown_decimals(NUMBER_FORMATS[kind])) != 0, kind
    hidden = []
    for name, df in export_tables(result).items():
        for col in df.columns:
            kind = column_kind(str(col), df[col].dtype)
            if kind not in ("share", "share_spread", "quantity"):
                continue
            x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            # below a millionth (a fill-rate CI of 1e-7) a figure is zero for any decision
            x = x[np.isfinite(x) & (np.abs(x) >= NEGLIGIBLE)]
            shown = np.round(np.abs(x), _shown_decimals(NUMBER_FORMATS[kind]))
            if (shown == 0).any():
                hidden.append(f"{name}.{col}: {x[shown == 0][:3]}")
    assert not hidden, hidden
