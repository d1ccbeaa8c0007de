"""Reports of an analyze run: CSV / Excel exports and one self-contained HTML report.

    from bufferwise.report import write_exports, write_html_report
    write_exports(result, "out/")                    # <table>.csv + bufferwise.xlsx
    write_html_report(result, "out/report.html")     # offline, plotly.js inline

`result` is a `bufferwise.services.analyze.AnalysisResult`; docs/report.md describes both.
"""

from __future__ import annotations

from bufferwise.report.exports import (
    ERP_COLUMNS,
    EXPORT_TABLES,
    FORMATS,
    WORKBOOK_NAME,
    column_kind,
    export_tables,
    write_exports,
)
from bufferwise.report.html import SECTIONS, TOP_ITEMS, render_html, top_items, write_html_report

__all__ = [
    "ERP_COLUMNS",
    "EXPORT_TABLES",
    "FORMATS",
    "SECTIONS",
    "TOP_ITEMS",
    "WORKBOOK_NAME",
    "column_kind",
    "export_tables",
    "render_html",
    "top_items",
    "write_exports",
    "write_html_report",
]
