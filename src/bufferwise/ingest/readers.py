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
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
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


def read_table_slices(
    path: str | Path,
    slice_rows: int | None,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
) -> Iterator[RawTable]:
    """`read_table`, as consecutive slices of at most `slice_rows` data rows (CSV only; other
    formats, and `slice_rows=None`, come as one slice). See `iter_csv_slices`."""
    path = Path(path)
    fmt = format or detect_format(path)
    if slice_rows is None or fmt != "csv":
        yield read_table(
            path,
            format=format,
            delimiter=delimiter,
            encoding=encoding,
            sheet=sheet,
            skip_rows=skip_rows,
        )
        return
    yield from iter_csv_slices(
        None,  # parsed from disk: the file is never held whole in memory
        path=path,
        slice_rows=slice_rows,
        delimiter=delimiter,
        encoding=encoding,
        skip_rows=skip_rows,
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


@dataclass(slots=True)
class _CsvPlan:
    """What was detected about a CSV file before its rows are parsed."""

    name: str
    path: Path
    data: bytes | None  # None: the file is read from `path` as it is parsed
    digest: str
    encoding: str
    delimiter: str
    line_ending: str
    skip_rows: int
    names: list[str]
    blanks: tuple[bool, bool] | None = None  # (has a space, has a tab), when scanned

    def raw(
        self, table: pa.Table, rows: np.ndarray, rows_read: int, problems: list[Problem]
    ) -> RawTable:
        return RawTable(
            file=self.name,
            path=self.path,
            content_hash=self.digest,
            table=table,
            row_numbers=rows,
            rows_read=rows_read,
            format="csv",
            encoding=self.encoding,
            delimiter=self.delimiter,
            line_ending=self.line_ending,
            problems=problems,
        )

    def empty(self, problem: Problem, names: Sequence[str] = ()) -> RawTable:
        table = pa.table({n: pa.array([], pa.string()) for n in names})
        return self.raw(table, np.empty(0, np.int64), 0, [problem])

    def unreadable(self, exc: Exception) -> RawTable:
        return self.empty(
            Problem(
                self.name,
                None,
                None,
                None,
                f"cannot be read as CSV ({exc})",
                code="unreadable_csv",
            ),
            self.names,
        )

    def options(
        self, threads: bool, on_invalid: Callable[[pa_csv.InvalidRow], str], block_size: int
    ) -> tuple[pa_csv.ReadOptions, pa_csv.ParseOptions, pa_csv.ConvertOptions]:
        return (
            pa_csv.ReadOptions(
                use_threads=threads,
                column_names=self.names,
                skip_rows=self.skip_rows + 1,
                encoding="utf8" if self.encoding.startswith("utf-8") else self.encoding,
                block_size=block_size,
            ),
            pa_csv.ParseOptions(
                delimiter=self.delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid,
            ),
            pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in self.names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                auto_dict_encode=False,
            ),
        )

    def may_need_strip(self) -> bool:
        if self.blanks is None:
            assert self.data is not None
            return _may_need_strip(self.data, self.delimiter)
        space, tab = self.blanks
        return (space and self.delimiter != " ") or (tab and self.delimiter != "\t")

    def source(self) -> pa.NativeFile:
        """The bytes to parse: a zero-copy view of the data, or the file itself."""
        return pa.BufferReader(self.data) if self.data is not None else pa.OSFile(str(self.path))

    def data_row(self, number: int | None) -> int:
        """Arrow numbers rows from the top of the file, skipped lines and header included."""
        return (number or self.skip_rows + 1) - self.skip_rows - 1

    def field_count_problem(self, row: int, actual: int, text: str) -> Problem:
        shown_delim = _DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
        hint = " (the line may be truncated)" if actual < len(self.names) else ""
        return Problem(
            self.name,
            int(row),
            None,
            text,
            f"has {actual} fields, expected {len(self.names)} "
            f"({shown_delim}-separated like the header){hint}",
            code="wrong_field_count",
        )

    def finish_table(self, table: pa.Table, strip: bool) -> pa.Table:
        table = table.rename_columns(self.names)
        if strip:
            table = pa.table({n: _strip(table.column(n)) for n in self.names})
        return table


@dataclass(slots=True)
class _Scan:
    """What one pass over a file's bytes tells, without keeping them: its hash, whether it is
    strict UTF-8, whether it holds blanks, and its first bytes (for detection)."""

    digest: str
    utf8: bool
    blanks: tuple[bool, bool]
    head: bytes


_SCAN_BYTES = 1 << 24


def _scan_file(path: Path) -> _Scan:
    digest = hashlib.sha256()
    # hashed in a thread of its own (hashlib lets go of the GIL) beside the other checks
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)

    def hash_chunks() -> None:
        while (chunk := chunks.get()) is not None:
            digest.update(chunk)

    hasher = threading.Thread(target=hash_chunks, name="bufferwise-hash", daemon=True)
    hasher.start()
    utf8 = True
    space = tab = False
    head = b""
    carry = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_SCAN_BYTES):
                chunks.put(chunk)
                if len(head) < _SAMPLE_BYTES:
                    head += chunk[: _SAMPLE_BYTES - len(head)]
                space = space or b" " in chunk
                tab = tab or b"\t" in chunk
                if utf8:
                    block = carry + chunk
                    cut = _utf8_boundary(block)
                    utf8 = _is_utf8(block[:cut])
                    carry = block[cut:]
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    finally:
        chunks.put(None)
        hasher.join()  # no thread outlives the scan
    if carry:
        utf8 = utf8 and _is_utf8(carry)
    return _Scan(digest.hexdigest(), utf8, (space, tab), head)


def _utf8_boundary(block: bytes) -> int:
    """The end of the last complete UTF-8 sequence that may be cut off at the end of `block`
    (the rest is checked with the next block)."""
    for back in range(1, min(4, len(block)) + 1):
        byte = block[-back]
        if byte & 0xC0 != 0x80:  # the lead byte of the last sequence
            size = 1 if byte < 0x80 else 2 if byte >> 5 == 6 else 3 if byte >> 4 == 14 else 4
            return len(block) - back if size > back else len(block)
    return len(block)


def _plan_csv(
    data: bytes | _Scan,
    path: Path,
    delimiter: str | None,
    encoding: str | None,
    skip_rows: int,
) -> _CsvPlan | RawTable:
    """Detect encoding, line ending, delimiter and header; a RawTable when the file holds no
    table at all (empty, bad header). `data`: the file's bytes, or a scan of the file (which
    is then parsed from disk, never held whole in memory)."""
    name = path.name
    if isinstance(data, _Scan):
        scan = data
        if encoding is None and scan.head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _plan_csv(path.read_bytes(), path, delimiter, encoding, skip_rows)
        enc = encoding or (
            ("utf-8-sig" if scan.head.startswith(codecs.BOM_UTF8) else "utf-8")
            if scan.utf8
            else "latin-1"
        )
        if enc.lower().replace("_", "-") in ("utf8", "utf-8") and scan.head.startswith(
            codecs.BOM_UTF8
        ):
            enc = "utf-8-sig"
        return _plan_from(
            scan.head, None, scan.digest, scan.blanks, name, path, enc, delimiter, skip_rows
        )
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
    return _plan_from(data, data, digest, None, name, path, enc, delimiter, skip_rows)


def _plan_from(
    head: bytes,
    data: bytes | None,
    digest: str,
    blanks: tuple[bool, bool] | None,
    name: str,
    path: Path,
    enc: str,
    delimiter: str | None,
    skip_rows: int,
) -> _CsvPlan | RawTable:
    sample = _decode_sample(head, enc)
    line_ending = detect_line_ending(sample)
    if skip_rows:  # lines above the header (a title, a blank line) are not part of the table
        lines = sample.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        sample = "\n".join(lines[skip_rows:])
    delim = delimiter or detect_delimiter(sample)
    plan = _CsvPlan(name, path, data, digest, enc, delim, line_ending, skip_rows, [], blanks)
    if not sample.strip():
        return plan.empty(
            Problem(
                name,
                None,
                None,
                None,
                "is empty (expected a header row and data rows)",
                code="empty_file",
            )
        )
    plan.names = _header_names(sample, delim)
    header_problem = _check_header(name, plan.names)
    if header_problem is not None:
        return plan.empty(header_problem)
    return plan


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
    plan = _plan_csv(data, path, delimiter, encoding, skip_rows)
    if isinstance(plan, RawTable):
        return plan
    invalid: list[tuple[int | None, int, str]] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        read, parse_options, convert = plan.options(threads, on_invalid, 1 << 24)
        return pa_csv.read_csv(
            plan.source(),  # zero-copy view of the bytes
            read_options=read,
            parse_options=parse_options,
            convert_options=convert,
        )

    try:
        table = parse(threads=True)
        if invalid:  # row numbers of bad rows are only known when parsing on one thread
            invalid.clear()
            table = parse(threads=False)
    except pa.ArrowInvalid as exc:
        return plan.unreadable(exc)

    problems: list[Problem] = []
    n_rows = table.num_rows + len(invalid)
    bad_numbers = np.array([plan.data_row(num) for num, _, _ in invalid], dtype=np.int64)
    row_numbers = np.arange(1, n_rows + 1, dtype=np.int64)
    if len(bad_numbers):
        good = np.ones(n_rows, dtype=bool)
        good[bad_numbers - 1] = False
        row_numbers = row_numbers[good]
    for (_, actual, text), row in zip(invalid, bad_numbers, strict=True):
        problems.append(plan.field_count_problem(int(row), actual, text))
    if n_rows == 0:
        problems.append(
            Problem(
                plan.name,
                None,
                None,
                None,
                "has a header row but no data rows",
                code="no_data_rows",
            )
        )
    table = plan.finish_table(table, plan.may_need_strip())
    return plan.raw(table, row_numbers, n_rows, problems)


class UnreadableMidway(Exception):
    """A streamed CSV file turned out unreadable after some of its slices were handed out;
    the caller must discard them and read the file whole (`read_table`) instead."""


def iter_csv_slices(
    data: bytes | None,
    *,
    path: Path,
    slice_rows: int,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_rows: int = 0,
) -> Iterator[RawTable]:
    """Parse a CSV file `slice_rows` data rows at a time (the first slice holds
    `first_slice_rows(slice_rows)`, the last may be shorter):
    from `data` when given, else from `path`, read as it is parsed after one streaming pass
    for the hash, the encoding and blanks (the file is never held in memory whole).

    Each slice is a `RawTable` of its own rows: `row_numbers` are file row numbers,
    `rows_read` counts the slice's rows (malformed ones included) and `problems` hold its
    malformed rows (file-level problems come with the first slice). A file with no data rows,
    or that cannot be parsed from the start, comes as one RawTable exactly as `read_csv_bytes`
    gives it. When parsing fails after the first slice, `UnreadableMidway` is raised.
    """
    if slice_rows < 1:
        raise ValueError(f"slice_rows must be at least 1, not {slice_rows}")
    plan = _plan_csv(
        _scan_file(path) if data is None else data, path, delimiter, encoding, skip_rows
    )
    if isinstance(plan, RawTable):
        yield plan
        return
    source = plan.source()
    try:
        yield from _slices_of(plan, source, slice_rows)
    finally:
        source.close()


FIRST_SLICE_FRACTION = 8  # the first slice holds 1/8 of `slice_rows`


def first_slice_rows(slice_rows: int) -> int:
    """Rows in the first slice of a file read in slices of `slice_rows`: fewer than the rest,
    so that whoever stores the slices can start while the next one is still read and checked
    (on 500,000-row slices the store began about 0.3 s sooner)."""
    return max(1, slice_rows // FIRST_SLICE_FRACTION)


def _slices_of(plan: _CsvPlan, source: pa.NativeFile, slice_rows: int) -> Iterator[RawTable]:
    invalid: list[tuple[int | None, int, str]] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    # one thread: Arrow knows the row number of a malformed row only when parsing serially
    block = 1 << 24  # as for a whole read: the largest row one block can hold is the same
    read, parse_options, convert = plan.options(False, on_invalid, block)
    strip = plan.may_need_strip()
    try:
        reader = pa_csv.open_csv(
            source,
            read_options=read,
            parse_options=parse_options,
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        yield plan.unreadable(exc)
        return
    pending: list[pa.RecordBatch] = []
    pending_rows: list[np.ndarray] = []
    pending_problems: list[Problem] = []
    pending_count = 0  # good rows waiting
    pending_read = 0  # rows (good and malformed) waiting
    seen = 0  # data rows of the file consumed so far, malformed ones included
    emitted = False
    waiting: list[tuple[int, int, str]] = []  # malformed rows reported, not yet placed

    def emit(count: int) -> RawTable:
        nonlocal pending, pending_rows, pending_problems, pending_count, pending_read, emitted
        table = pa.Table.from_batches(pending, schema=reader.schema) if pending else None
        rows = np.concatenate(pending_rows) if pending_rows else np.empty(0, np.int64)
        if table is None:
            table = pa.table({n: pa.array([], pa.string()) for n in plan.names})
        head, rest = table.slice(0, count), table.slice(count)
        head_rows, rest_rows = rows[:count], rows[count:]
        # malformed rows go with the slice whose row range holds them
        last = int(head_rows[-1]) if count else seen
        if rest.num_rows == 0:
            last = seen
        mine = [p for p in pending_problems if p.row is not None and p.row <= last]
        later = [p for p in pending_problems if p.row is None or p.row > last]
        read_here = count + len(mine)
        out = plan.raw(plan.finish_table(head, strip), head_rows, read_here, mine)
        pending = rest.to_batches() if rest.num_rows else []
        pending_rows = [rest_rows] if len(rest_rows) else []
        pending_problems = later
        pending_count -= count
        pending_read -= read_here
        emitted = True
        return out

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as exc:
            if not emitted:
                yield plan.unreadable(exc)
                return
            raise UnreadableMidway(f"{plan.name}: cannot be read as CSV ({exc})") from exc
        # Arrow reports a malformed row while parsing ahead (with an earlier batch, never a
        # later one), so rows are matched to batches by number, not by when they are reported
        waiting.extend((plan.data_row(num), actual, text) for num, actual, text in invalid)
        waiting.sort(key=lambda w: w[0])
        invalid.clear()
        end = seen + batch.num_rows
        taken = 0
        while taken < len(waiting) and waiting[taken][0] <= end:
            end += 1
            taken += 1
        bad = [w[0] for w in waiting[:taken]]
        pending_problems.extend(plan.field_count_problem(r, a, t) for r, a, t in waiting[:taken])
        del waiting[:taken]
        numbers = np.arange(seen + 1, end + 1, dtype=np.int64)
        if bad:
            numbers = numbers[~np.isin(numbers, np.array(bad, dtype=np.int64))]
        pending_read += end - seen
        seen = end
        if batch.num_rows:
            pending.append(batch)
            pending_rows.append(numbers)
        pending_count += batch.num_rows
        while pending_count >= (
            size := first_slice_rows(slice_rows) if not emitted else slice_rows
        ):
            yield emit(size)
    waiting.extend((plan.data_row(num), actual, text) for num, actual, text in invalid)
    for row, actual, text in sorted(waiting, key=lambda w: w[0]):
        seen = max(seen + 1, row)  # malformed rows after the last good one
        pending_problems.append(plan.field_count_problem(row, actual, text))
        pending_read += 1
    if pending_read or not emitted:
        out = emit(pending_count)
        if seen == 0:
            out.problems.append(
                Problem(
                    plan.name,
                    None,
                    None,
                    None,
                    "has a header row but no data rows",
                    code="no_data_rows",
                )
            )
        yield out


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
    path: Path,
    data: bytes,
    fmt: str,
    names: list[str],
    rows: list[list[str]],
    note: str | None,
    row_numbers: np.ndarray | None = None,
    bad_rows: Sequence[Problem] = (),
) -> RawTable:
    """`rows`: the good rows, numbered by `row_numbers` (1, 2, ... when None); `bad_rows`:
    one error per data row left out of them (e.g. wrong_field_count), counted as read."""
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
    rows_read = len(rows) + len(bad_rows)
    if row_numbers is None:
        row_numbers = np.arange(1, len(rows) + 1, dtype=np.int64)
    if header_problem is not None:
        names, rows = [], []
        row_numbers = np.empty(0, dtype=np.int64)
        rows_read = 0
        problems.append(header_problem)
    elif not rows and not bad_rows:
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
        row_numbers=row_numbers,
        rows_read=rows_read,
        format=fmt,
        encoding=note,
        problems=problems + (list(bad_rows) if header_problem is None else []),
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
        # every data row as (cells under the header, text of each cell beyond it)
        read: list[tuple[list[str], list[str]]] = []
        for values in rows_iter:
            cells = [_cell_text(v) for v in values[:width]]
            cells += [""] * (width - len(cells))
            read.append((cells, [_cell_text(v) for v in values[width:]]))
        while read and not any(read[-1][0]) and not any(read[-1][1]):
            read.pop()  # Excel often reports formatted but empty rows at the end
    finally:
        book.close()
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad_rows: list[Problem] = []
    for number, (cells, beyond) in enumerate(read, start=1):
        if any(beyond):  # like a CSV line with too many fields: the row is rejected
            bad_rows.append(_beyond_header_problem(path.name, number, width, beyond))
        else:
            rows.append(cells)
            numbers.append(number)
    return _from_rows(
        path,
        data,
        "xlsx",
        names,
        rows,
        note=f"sheet {ws.title}",
        row_numbers=np.array(numbers, dtype=np.int64),
        bad_rows=bad_rows,
    )


def _beyond_header_problem(file: str, row: int, width: int, beyond: list[str]) -> Problem:
    """A row with a non-empty cell right of the header's last named column."""
    from openpyxl.utils import get_column_letter

    filled = [i for i, text in enumerate(beyond) if text]
    last = width + filled[-1] + 1
    letters = ", ".join(get_column_letter(width + i + 1) for i in filled)
    return Problem(
        file,
        row,
        None,
        ", ".join(beyond[i] for i in filled),
        f"has {last} cells, expected {width} like the header (column {letters} has no header name)",
        code="wrong_field_count",
    )


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
