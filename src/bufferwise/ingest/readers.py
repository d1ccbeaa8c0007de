"""Read CSV, Excel (.xlsx) and Parquet files into a table of raw text.

Every cell comes back as text (empty cells as ``""``) so that validation sees exactly what the
file holds. Row numbers follow one rule everywhere: the header is row 0 and data rows count
from 1, in the order of the source file.

CSV handling
    encoding     strict UTF-8 (a byte-order mark is removed), else Latin-1; reported in
                 `RawTable.encoding` ("utf-8", "utf-8-sig" or "latin-1")
    line endings LF, CRLF and CR alone (old Mac / some Excel exports) are all accepted
    delimiter    detected among ``,`` ``;`` tab ``|`` from the first lines, unless given
    quoting      double quotes; quoted fields may hold delimiters and line breaks
    bad rows     a row with too few or too many fields (e.g. a truncated last line) is an
                 error `Problem` (code ``wrong_field_count``) for that row; the other rows
                 are read
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from bufferwise.errors import InvalidInput, Problem

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
_SAMPLE_BYTES = 64 * 1024
_SAMPLE_LINES = 50
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(slots=True)
class RawTable:
    """A file read as text.

    table        one string column per header name; "" for empty cells
    row_numbers  1-based source data row of each row of `table` (rows with the wrong number
                 of fields are left out of `table` and reported in `problems`)
    rows_read    data rows found in the file, including the malformed ones
    problems     file-level problems and malformed rows (all errors)
    """

    file: str
    path: Path
    content_hash: str
    table: pa.Table
    row_numbers: np.ndarray
    rows_read: int
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    line_ending: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)


def content_hash(data: bytes) -> str:
    """sha256 of the file's bytes, as hex: the identity of an import (same bytes, same hash)."""
    return hashlib.sha256(data).hexdigest()


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
) -> RawTable:
    """Read `path` as text. `format` is taken from the extension when not given
    (.xlsx -> xlsx, .parquet -> parquet, anything else -> csv). `skip_rows` lines (CSV) or
    rows (Excel) above the header are left out, e.g. a report title."""
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise InvalidInput(
            f"{path.name}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if fmt == "xlsx":
        return _read_xlsx(path, data, sheet, skip_rows)
    if fmt == "parquet":
        return _read_parquet(path, data)
    return read_csv_bytes(
        data, path=path, delimiter=delimiter, encoding=encoding, skip_rows=skip_rows
    )


# --------------------------------------------------------------------------------------- CSV


def _is_utf8(data: bytes) -> bool:
    """Strict UTF-8 check of the whole file (Arrow's vectorised validator, no decoded copy)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def detect_encoding(data: bytes) -> str:
    """ "utf-8-sig" when the bytes start with a UTF-8 byte-order mark and decode strictly,
    "utf-8" when they decode strictly without one, else "latin-1" (every byte is valid)."""
    if not _is_utf8(data):
        return "latin-1"
    return "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"


def detect_line_ending(sample: str) -> str:
    if "\r\n" in sample:
        return "\r\n"
    if "\r" in sample and "\n" not in sample:
        return "\r"
    return "\n"


def detect_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most columns
    consistently (same count on most lines, more than one column); "," when none does."""
    text = sample.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if len(sample) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample is incomplete
    lines = [ln for ln in lines[:_SAMPLE_LINES] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        header = counts[0]
        if header < 2:
            continue
        consistent = sum(1 for c in counts if c == header)
        score = (consistent, header)
        if score > best_score:
            best, best_score = delim, score
    return best


def _decode_sample(data: bytes, encoding: str) -> str:
    head = data[:_SAMPLE_BYTES]
    if encoding == "utf-8-sig":
        head = head[len(codecs.BOM_UTF8) :]
    return head.decode("utf-8" if encoding.startswith("utf-8") else encoding, errors="ignore")


def _header_names(sample: str, delimiter: str) -> list[str]:
    reader = csv.reader(
        io.StringIO(sample.replace("\r\n", "\n").replace("\r", "\n")), delimiter=delimiter
    )
    for row in reader:
        return [name.strip() for name in row]
    return []


def read_csv_bytes(
    data: bytes,
    *,
    path: Path,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_rows: int = 0,
) -> RawTable:
    """Parse CSV bytes (see the module docstring for what is detected); `skip_rows` lines
    above the header are left out."""
    name = path.name
    digest = content_hash(data)
    utf16 = encoding is None and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if utf16:  # spreadsheet "Unicode text" exports: transcode once, report it as utf-16
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            utf16 = False
    enc = "utf-8" if utf16 else (encoding or detect_encoding(data))
    if enc.lower().replace("_", "-") in ("utf8", "utf-8") and data.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    sample = _decode_sample(data, enc)
    line_ending = detect_line_ending(sample)
    if skip_rows:  # lines above the header (a title, a blank line) are not part of the table
        lines = sample.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        sample = "\n".join(lines[skip_rows:])
    delim = delimiter or detect_delimiter(sample)

    def empty(problem: Problem, names: Sequence[str] = ()) -> RawTable:
        table = pa.table({n: pa.array([], pa.string()) for n in names})
        return RawTable(
            file=name,
            path=path,
            content_hash=digest,
            table=table,
            row_numbers=np.empty(0, np.int64),
            rows_read=0,
            format="csv",
            encoding=enc,
            delimiter=delim,
            line_ending=line_ending,
            problems=[problem],
        )

    if not sample.strip():
        return empty(
            Problem(
                name,
                None,
                None,
                None,
                "is empty (expected a header row and data rows)",
                code="empty_file",
            )
        )
    names = _header_names(sample, delim)
    header_problem = _check_header(name, names)
    if header_problem is not None:
        return empty(header_problem)

    invalid: list[tuple[int | None, int, str]] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pa_csv.read_csv(
            pa.BufferReader(data),  # zero-copy view of the bytes
            read_options=pa_csv.ReadOptions(
                use_threads=threads,
                column_names=names,
                skip_rows=skip_rows + 1,
                encoding="utf8" if enc.startswith("utf-8") else enc,
                block_size=1 << 24,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delim,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                auto_dict_encode=False,
            ),
        )

    try:
        table = parse(threads=True)
        if invalid:  # row numbers of bad rows are only known when parsing on one thread
            invalid.clear()
            table = parse(threads=False)
    except pa.ArrowInvalid as exc:
        return empty(
            Problem(
                name, None, None, None, f"cannot be read as CSV ({exc})", code="unreadable_csv"
            ),
            names,
        )

    problems: list[Problem] = []
    n_rows = table.num_rows + len(invalid)
    # Arrow numbers rows from the top of the file, the skipped lines and the header included
    bad_numbers = np.array(
        [(num or skip_rows + 1) - skip_rows - 1 for num, _, _ in invalid], dtype=np.int64
    )
    row_numbers = np.arange(1, n_rows + 1, dtype=np.int64)
    if len(bad_numbers):
        good = np.ones(n_rows, dtype=bool)
        good[bad_numbers - 1] = False
        row_numbers = row_numbers[good]
    shown_delim = _DELIMITER_NAMES.get(delim, repr(delim))
    for (_, actual, text), row in zip(invalid, bad_numbers, strict=True):
        hint = " (the line may be truncated)" if actual < len(names) else ""
        problems.append(
            Problem(
                name,
                int(row),
                None,
                text,
                f"has {actual} fields, expected {len(names)} "
                f"({shown_delim}-separated like the header){hint}",
                code="wrong_field_count",
            )
        )
    if n_rows == 0:
        problems.append(
            Problem(
                name, None, None, None, "has a header row but no data rows", code="no_data_rows"
            )
        )
    table = table.rename_columns(names)
    if _may_need_strip(data, delim):
        table = pa.table({n: _strip(table.column(n)) for n in names})
    return RawTable(
        file=name,
        path=path,
        content_hash=digest,
        table=table,
        row_numbers=row_numbers,
        rows_read=n_rows,
        format="csv",
        encoding=enc,
        delimiter=delim,
        line_ending=line_ending,
        problems=problems,
    )


def _may_need_strip(data: bytes, delimiter: str) -> bool:
    """False when the file holds no blank at all (no cell can need stripping): one fast byte
    search instead of a pass over every cell, for machine-written exports without padding."""
    blanks = [b for b in (b" ", b"\t") if b.decode() != delimiter]
    return any(data.find(b) >= 0 for b in blanks)


def _strip(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_trim_whitespace(column)


def _check_header(name: str, names: list[str]) -> Problem | None:
    if not any(names):
        return Problem(
            name,
            0,
            None,
            None,
            "has an empty header row (expected column names)",
            code="bad_header",
        )
    seen: set[str] = set()
    for i, col in enumerate(names):
        if not col:
            return Problem(
                name,
                0,
                None,
                None,
                f"header column {i + 1} has no name (expected a column name)",
                code="bad_header",
            )
        if col in seen:
            return Problem(
                name,
                0,
                col,
                col,
                "appears twice in the header (expected unique column names)",
                code="duplicate_column",
            )
        seen.add(col)
    return None


# ------------------------------------------------------------------------------ Excel / Parquet


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _from_rows(
    path: Path, data: bytes, fmt: str, names: list[str], rows: list[list[str]], note: str | None
) -> RawTable:
    name = path.name
    problems: list[Problem] = []
    header_problem = (
        _check_header(name, names)
        if names
        else Problem(
            name,
            None,
            None,
            None,
            "is empty (expected a header row and data rows)",
            code="empty_file",
        )
    )
    if header_problem is not None:
        names, rows = [], []
        problems.append(header_problem)
    elif not rows:
        problems.append(
            Problem(
                name, None, None, None, "has a header row but no data rows", code="no_data_rows"
            )
        )
    table = pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})
    return RawTable(
        file=name,
        path=path,
        content_hash=content_hash(data),
        table=table,
        row_numbers=np.arange(1, len(rows) + 1, dtype=np.int64),
        rows_read=len(rows),
        format=fmt,
        encoding=note,
        problems=problems,
    )


def _read_xlsx(path: Path, data: bytes, sheet: str | int | None, skip_rows: int = 0) -> RawTable:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is in the "excel" extra
        raise InvalidInput(
            "reading .xlsx needs openpyxl (pip install 'bufferwise[excel]')"
        ) from exc
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise InvalidInput(f"{path.name}: cannot be read as an Excel workbook ({exc})") from exc
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(book.worksheets):
                raise InvalidInput(
                    f"{path.name}: has no sheet number {sheet} (it has {len(book.worksheets)})"
                )
            ws = book.worksheets[sheet]
        else:
            if sheet not in book.sheetnames:
                raise InvalidInput(
                    f"{path.name}: has no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})"
                )
            ws = book[sheet]
        rows_iter = ws.iter_rows(values_only=True)
        for _ in range(skip_rows):
            next(rows_iter, None)
        header = next(rows_iter, None)
        names = [_cell_text(v) for v in header] if header else []
        while names and names[-1] == "":
            names.pop()
        width = len(names)
        rows: list[list[str]] = []
        for values in rows_iter:
            cells = [_cell_text(v) for v in values[:width]]
            cells += [""] * (width - len(cells))
            rows.append(cells)
        while rows and not any(rows[-1]):
            rows.pop()  # Excel often reports formatted but empty rows at the end
    finally:
        book.close()
    return _from_rows(path, data, "xlsx", names, rows, note=f"sheet {ws.title}")


def _read_parquet(path: Path, data: bytes) -> RawTable:
    import pyarrow.parquet as pq

    try:
        source = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path.name}: cannot be read as Parquet ({exc})") from exc
    names = [str(n).strip() for n in source.column_names]
    problem = _check_header(path.name, names) if names else None
    columns = (
        {n: _as_text(source.column(i)) for i, n in enumerate(names)} if problem is None else {}
    )
    table = pa.table(columns) if columns else pa.table({})
    problems = [problem] if problem is not None else []
    if problem is None and table.num_rows == 0:
        problems.append(
            Problem(
                path.name, None, None, None, "has columns but no data rows", code="no_data_rows"
            )
        )
    return RawTable(
        file=path.name,
        path=path,
        content_hash=content_hash(data),
        table=table,
        row_numbers=np.arange(1, table.num_rows + 1, dtype=np.int64),
        rows_read=table.num_rows,
        format="parquet",
        problems=problems,
    )


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Typed Parquet values -> the text a CSV export would hold; nulls (and float NaN) -> ""."""
    typ = column.type
    if pa.types.is_timestamp(typ):
        if typ.tz is not None:
            column = pc.cast(column, pa.timestamp(typ.unit))  # values are stored as UTC
        text = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    elif pa.types.is_floating(typ):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, typ), column)
        text = pc.cast(column, pa.string())
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = pc.cast(column, pa.string())
    elif pa.types.is_dictionary(typ):
        text = pc.cast(pc.cast(column, typ.value_type), pa.string())
    else:
        text = pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(text, ""))
