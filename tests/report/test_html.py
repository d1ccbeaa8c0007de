"""The HTML report: self-contained (no external references, plotly.js inline once), every
section and top item present, data text escaped, and it opens in headless Chromium without
console errors or network requests."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import markupsafe
import pytest
from plotly.offline import get_plotlyjs

from bufferwise.report import SECTIONS, render_html, top_items
from bufferwise.report.html import money_at_stake, risk_points
from bufferwise.services.analyze import AnalysisResult

from .conftest import Written

CHROMIUM = Path("/usr/bin/chromium")
# a tag's src= / href=, or a CSS url() / @import, pointing anywhere but into this page
EXTERNAL = re.compile(
    r"""(?:<[^>]*\b(?:src|href)\s*=\s*["']?\s*|url\(\s*["']?|@import\s+["']?)"""
    r"""(?:[a-z][a-z0-9+.-]*:|//)""",
    re.IGNORECASE,
)


def _page(written: Written) -> str:
    return written.report.read_text(encoding="utf-8")


def _markup(page: str) -> str:
    """The page without the content of its <script> elements (the plotly.js bundle holds URL
    strings of features the report never uses)."""
    return re.sub(r"<script>.*?</script>", "<script></script>", page, flags=re.DOTALL)


def test_report_references_nothing_outside_the_file(first_run: Written) -> None:
    page = _page(first_run)
    markup = _markup(page)
    assert EXTERNAL.search(markup) is None, EXTERNAL.search(markup)
    assert "<link" not in markup.lower()
    assert re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE) is None
    assert re.search(r"<(?:img|iframe)\b", markup, re.IGNORECASE) is None
    # plotly.js is embedded once, not per chart
    assert page.count(get_plotlyjs()[:2000]) == 1
    assert markup.count('class="plot"') >= 9


def test_report_has_every_section_and_top_item(first_run: Written) -> None:
    page = _page(first_run)
    for anchor, heading in SECTIONS:
        assert f'<section id="{anchor}">' in page, anchor
        assert f"<h2>{html.escape(heading)}</h2>" in page, heading
    top = top_items(first_run.result)
    assert len(top) == 10
    for item_id in top["item_id"]:
        assert f"<h3>{html.escape(str(item_id))} · " in page, item_id
    for plot in ("demand-", "lead-time-", "cost-curve-"):
        assert page.count(f'id="{plot}') >= 1, plot
    assert page.count('id="cost-curve-') == len(top)


def test_top_items_are_those_with_most_money_at_stake(result: AnalysisResult) -> None:
    stake = money_at_stake(result.decisions.items)
    top = top_items(result, 10)
    assert list(top["money_at_stake"]) == sorted(stake, reverse=True)[:10]
    assert (stake >= 0).all()


def test_risk_map_points_come_from_the_profiles(result: AnalysisResult) -> None:
    points = risk_points(result)
    assert 0 < len(points) <= len(result.items)
    assert points["late_share"].between(0, 1).all()
    row = points.iloc[0]
    pair = result.profiles.supply
    own = pair[(pair["item_id"] == row["item_id"]) & (pair["supplier_id"] == row["supplier_id"])]
    if len(own):
        assert row["late_share"] == pytest.approx(1 - own["on_time_rate"].iloc[0])


def test_text_from_the_data_is_escaped(result: AnalysisResult) -> None:
    evil = '<script>alert("x")</script><img src=https://example.com/x.png> & </div>'
    top_id = str(top_items(result, 1)["item_id"].iloc[0])
    items = result.items.copy()
    items.loc[items["item_id"].astype(str) == top_id, "description"] = evil
    findings = result.decisions.findings.copy()
    findings.loc[findings["money_per_year"].idxmax(), "message"] = evil
    decisions = dataclasses.replace(result.decisions, findings=findings)
    page = render_html(dataclasses.replace(result, items=items, decisions=decisions))
    assert "<script>alert" not in page
    assert "<img" not in _markup(page)
    assert EXTERNAL.search(_markup(page)) is None
    # shown as text in the item section and the findings table
    assert page.count(str(markupsafe.escape(evil))) >= 2
    # inside chart data it is JSON with < > & escaped, so it cannot close the script
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    assert not any("<img" in s for s in scripts[1:])


def test_report_opens_in_headless_chromium_without_errors_or_requests(
    first_run: Written, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
        if os.environ.get("BUFFERWISE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (BUFFERWISE_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed (pip install playwright)"
    )
    console: list[str] = []
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        # a fresh profile (--user-data-dir) in tmp_path; playwright passes --headless itself
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            viewport={"width": 1280, "height": 1600},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: errors.append(f"failed request {r.url}"))
            page.goto(first_run.report.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "[...document.querySelectorAll('.plot')].every(d => d.querySelector('.main-svg'))",
                timeout=30_000,
            )
            drawn = page.evaluate("document.querySelectorAll('.plot .main-svg').length")
            plots = page.evaluate("document.querySelectorAll('.plot').length")
            # no mode-bar button that would send the chart anywhere
            online = page.evaluate(
                "[...document.querySelectorAll('.modebar-btn')]"
                ".map(b => b.getAttribute('data-title'))"
                ".filter(t => /share|cloud|chart studio/i.test(t || ''))"
            )
        finally:
            context.close()
    assert not errors, errors
    assert not [m for m in console if m.startswith(("error", "warning"))], console
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert plots >= 9 and drawn >= plots
    assert online == []


def test_report_without_machines_receipts_or_findings(result: AnalysisResult) -> None:
    decisions = dataclasses.replace(result.decisions, findings=result.decisions.findings.iloc[:0])
    bare = dataclasses.replace(
        result, equipment=None, receipts=result.receipts.iloc[:0], decisions=decisions
    )
    page = render_html(bare)
    for anchor, _ in SECTIONS:
        assert f'<section id="{anchor}">' in page
    assert "No machine data in this run." in page
    assert "No WIP buffers in this run." in page
    assert "No mistake found" in page
    assert "no receipts recorded for this item" in page
    assert 'id="plot-oee"' not in page


def test_report_package_does_not_import_the_cli() -> None:
    probe = (
        "import sys, bufferwise.report; "
        "print([m for m in sys.modules if m.startswith(('bufferwise.cli', 'bufferwise.web'))])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_hostile_item_id_is_escaped_everywhere(result: AnalysisResult) -> None:
    old = str(top_items(result, 1)["item_id"].iloc[0])
    new = '<b onmouseover="alert(1)">P&1</b>'

    def rename(df):
        out = df.copy()
        ids = out["item_id"].astype(str)
        out.loc[ids == old, "item_id"] = new
        return out

    a = result.decisions.analysis
    ids = a.risk.item_ids.copy().astype(object)
    ids[ids == old] = new
    analysis = dataclasses.replace(a, risk=dataclasses.replace(a.risk, item_ids=ids))
    decisions = dataclasses.replace(
        result.decisions, items=rename(result.decisions.items), analysis=analysis
    )
    matrix = result.profiles.matrix
    assert matrix is not None
    matrix_ids = matrix.item_ids.copy().astype(object)
    matrix_ids[matrix_ids == old] = new
    profiles = dataclasses.replace(
        result.profiles,
        demand=rename(result.profiles.demand),
        supply=rename(result.profiles.supply),
        matrix=dataclasses.replace(matrix, item_ids=matrix_ids),
    )
    hostile = dataclasses.replace(
        result,
        items=rename(result.items),
        receipts=rename(result.receipts),
        profiles=profiles,
        decisions=decisions,
    )
    page = render_html(hostile)
    assert "<b onmouseover" not in page
    assert f"<h3>{markupsafe.escape(new)} · " in page  # its own section, as text
    assert f'href="#item-b-onmouseover-alert-1-p-1-b">{markupsafe.escape(new)}</a>' in page
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    assert not any("onmouseover=" in s and "<b" in s for s in scripts[1:])
