"""CSV and Excel exports of an analyze run, byte-identical for the same inputs, settings and seed.

    from bufferwise.report import write_exports
    paths = write_exports(result, "out/", formats=("csv", "xlsx"))

One CSV per table (`<table>.csv`, UTF-8, comma separated, header row) and one workbook
`bufferwise.xlsx` with a sheet per table. The tables are `AnalysisResult.output_tables()`, in
`EXPORT_TABLES` order; `recommendations.csv` starts with the columns an ERP import needs
(`ERP_COLUMNS`). Nothing in a file depends on when or in which run it was written:

- numbers: plain decimals with at most `DECIMALS` decimals, never an exponent, trailing zeros
  dropped, -0 written as 0; NaN as an empty field; dates as YYYY-MM-DD (YYYY-MM-DD HH:MM:SS when
  a time is set); booleans as true / false;
- workbook: the document's created / modified times and every zip entry's timestamp are the
  last demand date of the data (`data_date`), not the time of writing.

Excel sheets have a bold frozen header row, an autofilter, column widths from the contents and
number formats by column kind (`column_kind`, NUMBER_FORMATS): money `#,##0`, money per unit
`#,##0.00`, shares `0.0%` (their confidence intervals `0.00##%`), quantities `#,##0.0##`,
counts `#,##0`, other ratios `0.000`. The per-item `cash_freed` of the decision table is
exported as `finding_stock_value` (EXPORT_RENAMES).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput

if TYPE_CHECKING:
    from bufferwise.services.analyze import AnalysisResult

FORMATS: tuple[str, ...] = ("csv", "xlsx")
WORKBOOK_NAME = "bufferwise.xlsx"
DECIMALS = 6
#: the order of the tables in the exports (tables a run lacks are left out)
EXPORT_TABLES: tuple[str, ...] = (
    "recommendations",
    "findings",
    "machines",
    "buffers",
    "losses",
    "demand_profile",
    "supply_profile",
    "disruptions",
    "frontier",
    "totals",
)
#: the first columns of recommendations.csv, what an ERP import reads
ERP_COLUMNS: tuple[str, ...] = (
    "item_id",
    "stance",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "order_quantity",
)
#: number format per column kind (Excel). Quantities show up to 3 decimals (a slow mover's
#: mean demand of 0.04 a day must not read 0.0); the spread of a share (its confidence
#: interval, `*_ci` / `*_se`) up to 4 decimals of a percent (a CI of 0.000157 reads 0.0157%)
NUMBER_FORMATS: dict[str, str] = {
    "money": "#,##0",
    "money_per_unit": "#,##0.00",
    "share": "0.0%",
    "share_spread": "0.00##%",
    "quantity": "#,##0.0##",
    "count": "#,##0",
    "ratio": "0.000",
}
#: columns renamed in the exports, per table. The decision table's per-item `cash_freed` is
#: the stock value of the item's findings, > 0 freed and < 0 needed (it sums to a negative
#: amount when more stock is needed than freed), while totals.csv's `cash_freed` is the sum of
#: max(now - recommended, 0) x unit cost: one name, two meanings, so the item column is
#: exported as `finding_stock_value`
EXPORT_RENAMES: dict[str, dict[str, str]] = {
    "recommendations": {"cash_freed": "finding_stock_value"},
}
#: suffixes of a column holding the spread of another figure (confidence interval, standard
#: error)
_SPREAD_SUFFIXES = ("_ci", "_se")
FALLBACK_DATE = dt.datetime(2000, 1, 1)
MAX_COLUMN_WIDTH = 60
MIN_COLUMN_WIDTH = 8
MAX_CELL_CHARS = 32_767  # Excel's limit on the text of one cell

_SHARE_NAMES = frozenset(
    {
        "availability",
        "performance",
        "quality",
        "oee",
        "teep",
        "utilisation",
        "inherent_availability",
        "own_availability",
        "service_target",
        "credibility_weight",
        "tsb_probability",
        "confidence",
    }
)
_QUANTITY_WORDS = (
    "stock",
    "point",
    "order_up_to",
    "order_quantity",
    "level",
    "days",
    "hours",
    "units",
    "quantity",
    "capacity",
    "count",
    "moq",
    "multiple",
    "threshold",
    "mean",
    "sd",
    "rmse",
    "bias",
    "forecast",
    "qty",
    "per_year",
    "per_hour",
    "returns_total",
    "periods",
    "scale",
    "years",
)
_SHARE_PATTERN = re.compile(r"(_rate|_share)(_|$)")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def column_kind(name: str, dtype: Any) -> str:
    """The kind of a column, from its name (names carry their units) and dtype.

    Returns one of "text", "date", "bool", "count", "money", "money_per_unit", "share",
    "share_spread", "quantity", "ratio"."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if not pd.api.types.is_numeric_dtype(dtype):
        return "text"
    n = name.lower()
    if (
        n in _SHARE_NAMES
        or n.startswith("line_efficiency")
        or n == "share"
        or (_SHARE_PATTERN.search(n) and "per_" not in n)
    ):
        return "share_spread" if n.endswith(_SPREAD_SUFFIXES) else "share"
    if "per_unit" in n or n == "unit_cost":
        return "money_per_unit"
    if any(w in n for w in ("cost", "value", "cash", "money")):
        return "money"
    if pd.api.types.is_integer_dtype(dtype):
        return "count"
    if any(w in n for w in _QUANTITY_WORDS) or n in ("failures", "receipts", "orders"):
        return "quantity"
    return "ratio"


def format_number(x: float, decimals: int = DECIMALS) -> str:
    """A float as a plain decimal: at most `decimals` decimals, no exponent, no trailing zeros,
    -0 as 0, NaN as "" and infinities as inf / -inf."""
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _format_date(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, list | tuple | set | np.ndarray):
        return ";".join(_text(v) for v in value)
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return format_number(float(value))
    if isinstance(value, dt.date | np.datetime64 | pd.Timestamp):
        return _format_date(value)
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


def _column_text(col: pd.Series) -> pd.Series:
    """A column as the text the CSV holds (see the module docstring)."""
    kind = column_kind(str(col.name), col.dtype)
    if kind == "date":
        return col.map(_format_date)
    if kind == "bool":
        return col.map(lambda v: "true" if v else "false")
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.map(lambda v: "" if pd.isna(v) else str(int(v)))
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.astype(float).map(format_number)
    return col.map(_text)


def export_tables(result: AnalysisResult) -> dict[str, pd.DataFrame]:
    """The tables the exports write, by name in EXPORT_TABLES order, columns in a stable order
    (recommendations: ERP_COLUMNS first) and renamed by EXPORT_RENAMES, index dropped."""
    tables = result.output_tables()
    out: dict[str, pd.DataFrame] = {}
    names = [n for n in EXPORT_TABLES if n in tables] + sorted(
        n for n in tables if n not in EXPORT_TABLES
    )
    for name in names:
        df = tables[name]
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        df = df.reset_index(drop=True).rename(columns=EXPORT_RENAMES.get(name, {}))
        if name == "recommendations":
            lead = [c for c in ERP_COLUMNS if c in df.columns]
            df = df[lead + [c for c in df.columns if c not in lead]]
        out[name] = df
    return out


def table_to_csv(df: pd.DataFrame) -> bytes:
    """A table as deterministic CSV bytes (UTF-8, "\\n" line ends)."""
    text = pd.DataFrame({c: _column_text(df[c]) for c in df.columns}, columns=list(df.columns))
    buf = io.StringIO()
    text.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def data_date(result: AnalysisResult) -> dt.datetime:
    """The last demand date of the data (midnight), the fixed timestamp of the workbook."""
    last = result.demand_window[1]
    if last is None:
        return FALLBACK_DATE
    if last.tzinfo is not None:
        last = last.tz_convert("UTC").tz_localize(None)
    return max(last.normalize().to_pydatetime(), FALLBACK_DATE)


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or (not isinstance(value, list | tuple | np.ndarray) and pd.isna(value)):
        return None
    if kind == "date":
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime()
    if kind == "bool":
        return bool(value)
    if kind == "count":
        return int(value)
    if kind in NUMBER_FORMATS:
        v = float(value)
        return v if math.isfinite(v) else _text(v)
    text = _ILLEGAL_XML.sub("", _text(value))
    return text[:MAX_CELL_CHARS]


def _display_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if kind == "date":
        return 10
    if isinstance(value, float) and kind in NUMBER_FORMATS:
        scale = 100.0 if kind in ("share", "share_spread") else 1.0
        digits = len(f"{abs(value) * scale:,.0f}")
        extra = {"share": 3, "share_spread": 6, "quantity": 4, "money_per_unit": 3, "ratio": 4}
        return digits + extra.get(kind, 0)
    return len(str(value))


def _write_sheet(wb: Any, name: str, df: pd.DataFrame) -> None:
    """One sheet, streamed row by row (write-only workbook: memory stays flat with the rows)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.filters import AutoFilter

    ws = wb.create_sheet(title=name[:31])
    kinds = [column_kind(str(c), df[c].dtype) for c in df.columns]
    formats = [NUMBER_FORMATS.get(kind, "yyyy-mm-dd" if kind == "date" else None) for kind in kinds]
    values = [
        [_cell_value(v, kind) for v in df[c].tolist()]
        for c, kind in zip(df.columns, kinds, strict=True)
    ]
    # sheet properties go before the rows in a streamed sheet
    for j, (c, kind, col) in enumerate(zip(df.columns, kinds, values, strict=True), start=1):
        width = max([len(str(c)), *(_display_width(v, kind) for v in col)])
        ws.column_dimensions[get_column_letter(j)].width = float(
            min(max(width + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)
        )
    ws.freeze_panes = "A2"
    if len(df.columns):
        ws.auto_filter = AutoFilter(
            ref=f"A1:{get_column_letter(len(df.columns))}{max(len(df) + 1, 1)}"
        )
    bold = Font(bold=True)
    top = Alignment(vertical="top")
    header = []
    for c in df.columns:
        cell = WriteOnlyCell(ws, value=str(c))
        cell.font = bold
        cell.alignment = top
        cell.data_type = "s"
        header.append(cell)
    ws.append(header)
    for i in range(len(df)):
        row: list[Any] = []
        for j, fmt in enumerate(formats):
            value = values[j][i]
            if value is None:
                row.append(None)
            elif isinstance(value, str):
                cell = WriteOnlyCell(ws, value=value)
                # always a string: text starting with "=" is data, not a formula
                cell.data_type = "s"
                row.append(cell)
            elif fmt is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _fix_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite an xlsx (zip) with fixed entry timestamps and fixed document times."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            fixed = zipfile.ZipInfo(info.filename, date_time=date_time)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 0
            dst.writestr(fixed, content, compresslevel=6)
    return out.getvalue()


def workbook_bytes(tables: dict[str, pd.DataFrame], when: dt.datetime) -> bytes:
    """The workbook of `tables` (a sheet each, in order) as deterministic xlsx bytes."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, df in tables.items():
        _write_sheet(wb, name, df)
    wb.properties.creator = "bufferwise"
    wb.properties.lastModifiedBy = "bufferwise"
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    wb.save(buf)
    return _fix_zip(buf.getvalue(), when)


def _check_formats(formats: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise InvalidInput(
            f"export format(s) {', '.join(map(repr, bad))} unknown; choose from "
            f"{', '.join(FORMATS)}"
        )
    if not chosen:
        raise InvalidInput(f"no export format given; choose from {', '.join(FORMATS)}")
    return chosen


#: the prefix of the hidden folder an export is written to before it is moved into place
STAGING_PREFIX = ".bufferwise-partial-"


def check_out_dir(out_dir: str | Path) -> Path:
    """Fail fast, before any work: `out_dir` must be a folder, or creatable as one (its nearest
    existing ancestor a writable folder). Raises InvalidInput naming the path."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out}: exists and is not a folder; give a folder for the exports")
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InvalidInput(
            f"{out}: cannot be created, {probe} is not a folder; give a folder for the exports"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidInput(f"{out}: cannot write there, {probe} is not writable")
    return out


@contextmanager
def staged_folder(out_dir: str | Path, *, replaces: Iterable[str] = ()) -> Iterator[Path]:
    """A hidden temporary folder inside `out_dir` (created if missing) to write files into.

    When the block ends normally, every file written in it replaces its namesake in `out_dir`
    (`os.replace`: each file is either the old one or the new one, never a part), and the
    files named in `replaces` that the block did not write are removed from `out_dir`, so the
    folder never mixes two runs' outputs (other files are never touched). When the block
    raises (an error, Ctrl-C), `out_dir` keeps what it had. The temporary folder is removed
    either way. An OSError becomes InvalidInput naming the path.
    """
    out = check_out_dir(out_dir)
    stage: Path | None = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        yield stage
        written = sorted(p.name for p in stage.iterdir() if p.is_file())
        for name in written:
            os.replace(stage / name, out / name)
        for name in sorted(set(replaces) - set(written)):
            stale = out / name
            if stale.is_file():
                stale.unlink()
    except OSError as exc:
        where = Path(os.fsdecode(exc.filename)) if exc.filename else out
        if stage is not None and where.parent == stage:
            where = out / where.name  # name the file the user asked for, not the staged copy
        raise InvalidInput(f"{where}: cannot write the exports: {exc.strerror or exc}") from None
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)


def export_file_names(formats: Sequence[str] = FORMATS) -> list[str]:
    """Every file name `write_exports` can write with `formats` (tables a run lacks included)."""
    chosen = _check_formats(formats)
    names = [f"{n}.csv" for n in EXPORT_TABLES] if "csv" in chosen else []
    return names + ([WORKBOOK_NAME] if "xlsx" in chosen else [])


def write_export_files(
    result: AnalysisResult, folder: str | Path, formats: Sequence[str] = FORMATS
) -> list[str]:
    """Write the run's tables straight into `folder` (which must exist), without staging:
    `<table>.csv` per table when "csv" is in `formats`, `bufferwise.xlsx` when "xlsx" is.
    Returns the file names written, CSV files first in EXPORT_TABLES order. Meant for a
    caller's own `staged_folder` block; `write_exports` is this inside one."""
    chosen = _check_formats(formats)
    tables = export_tables(result)
    where = Path(folder)
    names: list[str] = []
    if "csv" in chosen:
        for name, df in tables.items():
            (where / f"{name}.csv").write_bytes(table_to_csv(df))
            names.append(f"{name}.csv")
    if "xlsx" in chosen:
        (where / WORKBOOK_NAME).write_bytes(workbook_bytes(tables, data_date(result)))
        names.append(WORKBOOK_NAME)
    return names


def write_exports(
    result: AnalysisResult,
    out_dir: str | Path,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write the run's tables to `out_dir` (created if missing): `<table>.csv` per table when
    "csv" is in `formats`, `bufferwise.xlsx` when "xlsx" is. Returns the paths written, CSV
    files first in EXPORT_TABLES order.

    Everything is written to a temporary folder first and moved into place at the end
    (`staged_folder`): a failure or an interrupt leaves `out_dir` as it was. Existing files of
    the same names are replaced; export files of an earlier run that this run does not write
    (a table it lacks) are removed. An OSError becomes InvalidInput naming the path."""
    chosen = _check_formats(formats)
    with staged_folder(out_dir, replaces=export_file_names(chosen)) as stage:
        names = write_export_files(result, stage, chosen)
    return [Path(out_dir) / n for n in names]


__all__ = [
    "DECIMALS",
    "ERP_COLUMNS",
    "EXPORT_RENAMES",
    "EXPORT_TABLES",
    "FORMATS",
    "NUMBER_FORMATS",
    "STAGING_PREFIX",
    "WORKBOOK_NAME",
    "check_out_dir",
    "column_kind",
    "data_date",
    "export_file_names",
    "export_tables",
    "format_number",
    "staged_folder",
    "table_to_csv",
    "workbook_bytes",
    "write_export_files",
    "write_exports",
]
