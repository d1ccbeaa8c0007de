"""Mapping files: how one foreign export becomes one or more canonical tables.

A mapping is a small TOML file (the format is documented key by key in docs/mapping.md):

    name = "scms_receipts"
    on_bad_row = "skip"                 # "fail" (default) or "skip"

    [source]                            # optional: how to read the file
    delimiter = ","

    [[filters]]                         # rows dropped on purpose, counted with the reason
    column = "Fulfill Via"
    equals = "From RDC"
    reason = "shipped from a regional distribution centre: no purchase order to a vendor"

    [[tables]]
    table = "receipts"
    [tables.columns]
    po_id = "ID"                        # canonical <- source column
    order_date = { column = "PO Sent to Vendor Date", formats = ["%m/%d/%y"] }

Parsing checks the mapping itself (unknown keys, wrong types, unknown tables or columns,
required canonical columns left unmapped) and raises `MappingError` naming the key.
"""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.frequencies import to_offset

from bufferwise.errors import MappingError, Problem
from bufferwise.ingest.parse import timestamp_text
from bufferwise.model.schema import TABLES, Table

ON_BAD_ROW = ("fail", "skip")
EMPTY_CELLS = ("missing", "zero", "error")

#: Named unit conversions usable as `factor = "<name>"`. One place for the constants.
#: months -> days uses the mean Gregorian month, 365.25 / 12 = 30.4375 days.
NAMED_FACTORS: dict[str, float] = {
    "weeks_to_days": 7.0,
    "months_to_days": 30.4375,
    "years_to_days": 365.25,
    "hours_to_days": 1.0 / 24.0,
    "minutes_to_seconds": 60.0,
    "hours_to_seconds": 3600.0,
    "percent_to_fraction": 0.01,
}

#: Where shipped mappings live (`load_mapping("scms_receipts")`).
SHIPPED_PACKAGE = "bufferwise"
SHIPPED_FOLDER = "mappings"


@dataclass(frozen=True, slots=True)
class Ordinal:
    """Period labels that carry a number, not a date (e.g. "period_07").

    The last run of digits in the label is the period number; period `first` starts on
    `start`, each next one `freq` later (a pandas offset alias: "MS" month start, "W-MON"
    weeks starting Monday, "D" days, "QS" quarter start). `start` must be on `freq`.
    """

    start: pd.Timestamp
    freq: str
    first: int = 1


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """Where one canonical column comes from and how its text is read.

    column      source column name (None when `constant` is set)
    constant    the same text for every row
    formats     strptime formats for date / datetime columns, tried in order; ISO 8601 is
                always accepted as well
    timezone    IANA zone of naive timestamps (e.g. "Europe/Rome"); values are stored as
                naive UTC. Values that carry an offset (%z) are converted to UTC regardless.
                Datetime columns only: a date column keeps the calendar day as written.
    factor      multiply numbers by this (a unit conversion)
    divide_by   divide numbers by this other source column (e.g. a cost per unit-year
                divided by the unit cost gives a holding rate)
    map         source text -> canonical text (numbers match numerically: "2" matches "2.0")
    ordinal     the text is a numbered period label (see `Ordinal`)
    """

    column: str | None = None
    constant: str | None = None
    formats: tuple[str, ...] = ()
    timezone: str | None = None
    factor: float = 1.0
    divide_by: str | None = None
    map: dict[str, str] | None = None
    ordinal: Ordinal | None = None

    @property
    def source_columns(self) -> tuple[str, ...]:
        cols = [c for c in (self.column, self.divide_by) if c is not None]
        return tuple(cols)


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """Drop the rows where `column` matches; each dropped row is counted as rejected with
    `reason` (never silently). Exactly one condition: equals, one_of, matches (a regular
    expression matching the whole cell) or empty = true."""

    column: str
    reason: str
    equals: str | None = None
    one_of: tuple[str, ...] | None = None
    matches: str | None = None
    empty: bool = False

    def describe(self) -> str:
        if self.equals is not None:
            return f"{self.column} is {self.equals!r}"
        if self.one_of is not None:
            return f"{self.column} is one of {', '.join(map(repr, self.one_of))}"
        if self.matches is not None:
            return f"{self.column} matches {self.matches!r}"
        return f"{self.column} is empty"


@dataclass(frozen=True, slots=True)
class MeltSpec:
    """Wide-to-long: each cell of `value_columns` becomes one row.

    id_columns     source columns repeated on every long row
    value_columns  the period (or item) columns; empty = every column not in id_columns
    header_to      name of the new source column holding each cell's column header
    value_to       name of the new source column holding each cell's value
    empty_cells    "missing": an empty cell gives no row (a gap, not a zero);
                   "zero": an empty cell counts as 0; "error": an empty cell is an error
    """

    id_columns: tuple[str, ...]
    value_columns: tuple[str, ...] = ()
    header_to: str = "period"
    value_to: str = "value"
    empty_cells: Literal["missing", "zero", "error"] = "missing"


@dataclass(frozen=True, slots=True)
class IntervalSpec:
    """Snapshots -> intervals: each row lasts from its own `start` to the next row's `start`
    within the same `group_by` group, at most `max_gap` (longer gaps are cut at `max_gap`
    and warned as ``interval_capped``; the last row of a group lasts `max_gap`)."""

    group_by: tuple[str, ...]
    max_gap: pd.Timedelta
    start: str = "start"
    end: str = "end"


@dataclass(frozen=True, slots=True)
class TableMapping:
    table: str
    columns: dict[str, ColumnSpec]
    melt: MeltSpec | None = None
    intervals: IntervalSpec | None = None
    distinct: bool = False

    @property
    def schema(self) -> Table:
        return TABLES[self.table]


@dataclass(frozen=True, slots=True)
class SourceSpec:
    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    decimal: str = "."
    thousands: str | None = None
    skip_rows: int = 0


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    tables: tuple[TableMapping, ...]
    description: str = ""
    on_bad_row: Literal["fail", "skip"] = "fail"
    source: SourceSpec = field(default_factory=SourceSpec)
    filters: tuple[FilterSpec, ...] = ()
    origin: str = "<mapping>"

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, in mapping order, without repeats."""
        out: list[str] = []
        melted: set[str] = set()
        for f in self.filters:
            out.append(f.column)
        for t in self.tables:
            if t.melt is not None:
                out.extend(t.melt.id_columns)
                out.extend(t.melt.value_columns)
                melted.update((t.melt.header_to, t.melt.value_to))
            for spec in t.columns.values():
                out.extend(c for c in spec.source_columns if c not in melted)
        return list(dict.fromkeys(out))


# ------------------------------------------------------------------------------------ parsing


def _fail(origin: str, key: str, expected: str, value: object = None) -> MappingError:
    shown = None if value is None else str(value)
    problem = Problem(origin, None, key, shown, expected, code="bad_mapping")
    head = f"{origin}: key {key}"
    text = f"{head}: {shown!r} {expected}" if shown is not None else f"{head}: {expected}"
    return MappingError(text, [problem])


def _check_keys(
    origin: str, where: str, data: AbcMapping[str, Any], allowed: tuple[str, ...]
) -> None:
    for key in data:
        if key not in allowed:
            path = f"{where}.{key}" if where else key
            raise _fail(origin, path, f"is not a known key (expected one of {', '.join(allowed)})")


def _str(origin: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(origin, key, "must be a non-empty text value", value)
    return value


def _str_list(origin: str, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(origin, key, "must be a list of text values", value)
    return tuple(value)


def _number(origin: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(origin, key, "must be a number", value)
    return float(value)


def _timedelta(origin: str, key: str, value: object) -> pd.Timedelta:
    try:
        td = pd.Timedelta(_str(origin, key, value))
    except ValueError:
        raise _fail(
            origin, key, 'must be a duration such as "10min", "2h" or "1 day"', value
        ) from None
    if td <= pd.Timedelta(0):
        raise _fail(origin, key, "must be a positive duration", value)
    return td


_COLUMN_KEYS = (
    "column",
    "constant",
    "formats",
    "timezone",
    "factor",
    "divide_by",
    "map",
    "ordinal",
)


def _column_spec(origin: str, where: str, target: str, value: object, table: Table) -> ColumnSpec:
    kind = table.column(target).kind
    if isinstance(value, str):
        return ColumnSpec(column=_str(origin, where, value))
    if not isinstance(value, dict):
        raise _fail(
            origin, where, "must be a source column name or a table such as { column = ... }", value
        )
    _check_keys(origin, where, value, _COLUMN_KEYS)
    column = _str(origin, f"{where}.column", value["column"]) if "column" in value else None
    constant = value.get("constant")
    if constant is not None:
        if isinstance(constant, bool) or not isinstance(constant, str | int | float):
            raise _fail(origin, f"{where}.constant", "must be a text or number value", constant)
        constant = str(constant)
    if (column is None) == (constant is None):
        raise _fail(origin, where, "needs exactly one of column or constant")
    formats = _str_list(origin, f"{where}.formats", value["formats"]) if "formats" in value else ()
    if formats and kind not in ("date", "datetime"):
        raise _fail(
            origin,
            f"{where}.formats",
            f"only applies to date and datetime columns ({target} is {kind})",
        )
    timezone = _str(origin, f"{where}.timezone", value["timezone"]) if "timezone" in value else None
    if timezone is not None and kind != "datetime":
        raise _fail(
            origin,
            f"{where}.timezone",
            f"only applies to datetime columns ({target} is a {kind} column"
            + (
                ", which keeps the calendar day as written, never shifted)"
                if kind == "date"
                else ")"
            ),
        )
    if timezone is not None:
        try:
            pd.Timestamp("2000-01-01").tz_localize(timezone)
        except Exception:
            raise _fail(
                origin,
                f"{where}.timezone",
                'is not a known time zone (e.g. "Europe/Rome", "UTC")',
                timezone,
            ) from None
    factor = 1.0
    if "factor" in value:
        raw = value["factor"]
        if isinstance(raw, str):
            if raw not in NAMED_FACTORS:
                raise _fail(
                    origin,
                    f"{where}.factor",
                    "is not a known conversion (expected a number or one of "
                    f"{', '.join(NAMED_FACTORS)})",
                    raw,
                )
            factor = NAMED_FACTORS[raw]
        else:
            factor = _number(origin, f"{where}.factor", raw)
    divide_by = (
        _str(origin, f"{where}.divide_by", value["divide_by"]) if "divide_by" in value else None
    )
    if (factor != 1.0 or divide_by) and kind not in ("float", "int"):
        raise _fail(
            origin, where, f"factor and divide_by only apply to number columns ({target} is {kind})"
        )
    mapping = None
    if "map" in value:
        raw_map = value["map"]
        if not isinstance(raw_map, dict) or not raw_map:
            raise _fail(
                origin,
                f"{where}.map",
                'must be a table of source value = "canonical value"',
                raw_map,
            )
        mapping = {}
        for k, v in raw_map.items():
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise _fail(origin, f"{where}.map.{k}", "must be a text or number value", v)
            mapping[str(k).strip()] = str(v)
    ordinal = None
    if "ordinal" in value:
        raw_ord = value["ordinal"]
        if not isinstance(raw_ord, dict):
            raise _fail(
                origin,
                f"{where}.ordinal",
                'must be a table such as { start = "2000-01-01", freq = "MS" }',
                raw_ord,
            )
        _check_keys(origin, f"{where}.ordinal", raw_ord, ("start", "freq", "first"))
        if kind not in ("date", "datetime"):
            raise _fail(
                origin,
                f"{where}.ordinal",
                f"only applies to date and datetime columns ({target} is {kind})",
            )
        try:
            start = pd.Timestamp(_str(origin, f"{where}.ordinal.start", raw_ord.get("start")))
        except ValueError:
            raise _fail(
                origin,
                f"{where}.ordinal.start",
                "must be a date (YYYY-MM-DD)",
                raw_ord.get("start"),
            ) from None
        freq = _str(origin, f"{where}.ordinal.freq", raw_ord.get("freq"))
        try:
            offset = to_offset(freq)
        except ValueError:
            raise _fail(
                origin,
                f"{where}.ordinal.freq",
                'is not a pandas frequency (e.g. "MS", "W-MON", "D")',
                freq,
            ) from None
        if not offset.is_on_offset(start):
            before, after = (
                pd.Timestamp(offset.rollback(start)),
                pd.Timestamp(offset.rollforward(start)),
            )
            raise _fail(
                origin,
                f"{where}.ordinal.start",
                f"is not on the {freq} calendar, so the first period would not start on it "
                f"(expected a date on {freq}, e.g. {timestamp_text(before)} or "
                f"{timestamp_text(after)})",
                raw_ord.get("start"),
            )
        first = raw_ord.get("first", 1)
        if isinstance(first, bool) or not isinstance(first, int):
            raise _fail(origin, f"{where}.ordinal.first", "must be a whole number", first)
        ordinal = Ordinal(start=start, freq=freq, first=first)
    return ColumnSpec(
        column=column,
        constant=constant,
        formats=formats,
        timezone=timezone,
        factor=factor,
        divide_by=divide_by,
        map=mapping,
        ordinal=ordinal,
    )


_FILTER_KEYS = ("column", "reason", "equals", "one_of", "matches", "empty")


def _filter_spec(origin: str, where: str, value: object) -> FilterSpec:
    if not isinstance(value, dict):
        raise _fail(origin, where, "must be a table with column, a condition and reason", value)
    _check_keys(origin, where, value, _FILTER_KEYS)
    column = _str(origin, f"{where}.column", value.get("column"))
    reason = _str(origin, f"{where}.reason", value.get("reason"))
    conditions = [k for k in ("equals", "one_of", "matches", "empty") if k in value]
    if len(conditions) != 1:
        raise _fail(
            origin, where, "needs exactly one condition: equals, one_of, matches or empty = true"
        )
    cond = conditions[0]
    raw = value[cond]
    if cond == "equals":
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise _fail(origin, f"{where}.equals", "must be a text or number value", raw)
        return FilterSpec(column, reason, equals=str(raw))
    if cond == "one_of":
        if not isinstance(raw, list) or not raw:
            raise _fail(origin, f"{where}.one_of", "must be a non-empty list of values", raw)
        return FilterSpec(column, reason, one_of=tuple(str(v) for v in raw))
    if cond == "matches":
        pattern = _str(origin, f"{where}.matches", raw)
        try:  # filters run on Arrow, whose RE2 syntax differs from Python's `re`
            pc.match_substring_regex(pa.array([""], pa.string()), pattern)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _fail(
                origin,
                f"{where}.matches",
                f"is not a valid regular expression ({exc}; the RE2 syntax is used: "
                "no look-ahead, look-behind or back-references)",
                pattern,
            ) from None
        return FilterSpec(column, reason, matches=pattern)
    if raw is not True:
        raise _fail(origin, f"{where}.empty", "must be true", raw)
    return FilterSpec(column, reason, empty=True)


def _melt_spec(origin: str, where: str, value: object) -> MeltSpec:
    if not isinstance(value, dict):
        raise _fail(origin, where, "must be a table with id_columns", value)
    _check_keys(
        origin,
        where,
        value,
        ("id_columns", "value_columns", "header_to", "value_to", "empty_cells"),
    )
    if "id_columns" not in value:
        raise _fail(
            origin, f"{where}.id_columns", "is required (the columns repeated on every long row)"
        )
    empty_cells = value.get("empty_cells", "missing")
    if empty_cells not in EMPTY_CELLS:
        raise _fail(
            origin, f"{where}.empty_cells", f"must be one of {', '.join(EMPTY_CELLS)}", empty_cells
        )
    spec = MeltSpec(
        id_columns=_str_list(origin, f"{where}.id_columns", value["id_columns"]),
        value_columns=_str_list(origin, f"{where}.value_columns", value.get("value_columns", [])),
        header_to=_str(origin, f"{where}.header_to", value.get("header_to", "period")),
        value_to=_str(origin, f"{where}.value_to", value.get("value_to", "value")),
        empty_cells=empty_cells,
    )
    if spec.header_to == spec.value_to:
        raise _fail(origin, f"{where}.value_to", "must differ from header_to", spec.value_to)
    for key in ("header_to", "value_to"):
        name = getattr(spec, key)
        if name in spec.id_columns:
            raise _fail(origin, f"{where}.{key}", "must differ from the id_columns", name)
    return spec


def _interval_spec(origin: str, where: str, value: object, table: Table) -> IntervalSpec:
    if not isinstance(value, dict):
        raise _fail(origin, where, "must be a table with group_by and max_gap", value)
    _check_keys(origin, where, value, ("group_by", "max_gap", "start", "end"))
    if "max_gap" not in value:
        raise _fail(origin, f"{where}.max_gap", 'is required (e.g. "10min")')
    spec = IntervalSpec(
        group_by=_str_list(origin, f"{where}.group_by", value.get("group_by", [])),
        max_gap=_timedelta(origin, f"{where}.max_gap", value["max_gap"]),
        start=_str(origin, f"{where}.start", value.get("start", "start")),
        end=_str(origin, f"{where}.end", value.get("end", "end")),
    )
    for col in (*spec.group_by, spec.start, spec.end):
        if col not in table.column_names:
            raise _fail(origin, where, f"names {col!r}, which is not a column of {table.name}")
    for col in (spec.start, spec.end):
        if table.column(col).kind != "datetime":
            raise _fail(
                origin,
                where,
                f"start and end must be datetime columns ({col} is {table.column(col).kind})",
            )
    return spec


def _check_melted_columns(
    origin: str,
    where: str,
    raw_columns: dict[str, Any],
    columns: dict[str, ColumnSpec],
    melt: MeltSpec,
) -> None:
    """After wide-to-long only the id columns, header_to and value_to exist: a column mapped
    from any other source column has no value on a long row."""
    allowed = (*melt.id_columns, melt.header_to, melt.value_to)
    for target, spec in columns.items():
        for key, name in (("column", spec.column), ("divide_by", spec.divide_by)):
            if name is None or name in allowed:
                continue
            short = key == "column" and isinstance(raw_columns[target], str)
            raise _fail(
                origin,
                f"{where}.columns.{target}" + ("" if short else f".{key}"),
                "is not a column of the long table made by [melt] (expected one of the "
                f"melt.id_columns {', '.join(melt.id_columns)}, the header column "
                f"{melt.header_to!r} or the value column {melt.value_to!r}; add it to "
                "melt.id_columns to keep it on every row)",
                name,
            )


_TABLE_KEYS = ("table", "columns", "melt", "intervals", "distinct")


def _table_mapping(origin: str, where: str, value: object) -> TableMapping:
    if not isinstance(value, dict):
        raise _fail(origin, where, "must be a table with table and columns", value)
    _check_keys(origin, where, value, _TABLE_KEYS)
    name = _str(origin, f"{where}.table", value.get("table"))
    if name not in TABLES:
        raise _fail(
            origin,
            f"{where}.table",
            f"is not a canonical table (expected one of {', '.join(TABLES)})",
            name,
        )
    schema = TABLES[name]
    raw_columns = value.get("columns", {})
    if not isinstance(raw_columns, dict):
        raise _fail(
            origin,
            f"{where}.columns",
            "must be a table of canonical column = source column",
            raw_columns,
        )
    columns: dict[str, ColumnSpec] = {}
    for target, spec in raw_columns.items():
        if target not in schema.column_names:
            raise _fail(
                origin,
                f"{where}.columns.{target}",
                f"is not a column of {name} (expected one of {', '.join(schema.column_names)})",
            )
        columns[target] = _column_spec(origin, f"{where}.columns.{target}", target, spec, schema)
    melt = _melt_spec(origin, f"{where}.melt", value["melt"]) if "melt" in value else None
    if melt is not None:
        _check_melted_columns(origin, where, raw_columns, columns, melt)
    intervals = (
        _interval_spec(origin, f"{where}.intervals", value["intervals"], schema)
        if "intervals" in value
        else None
    )
    if intervals is not None and intervals.end in columns:
        raise _fail(
            origin,
            f"{where}.columns.{intervals.end}",
            "is derived by [intervals]; do not map it as well",
        )
    derived = {intervals.end} if intervals is not None else set()
    missing = [c for c in schema.required_columns if c not in columns and c not in derived]
    if missing:
        raise _fail(
            origin,
            f"{where}.columns",
            f"leaves required {name} column(s) unmapped: {', '.join(missing)}",
        )
    distinct = value.get("distinct", False)
    if not isinstance(distinct, bool):
        raise _fail(origin, f"{where}.distinct", "must be true or false", distinct)
    return TableMapping(
        table=name, columns=columns, melt=melt, intervals=intervals, distinct=distinct
    )


_TOP_KEYS = ("name", "description", "on_bad_row", "source", "filters", "tables")
_SOURCE_KEYS = ("format", "delimiter", "encoding", "sheet", "decimal", "thousands", "skip_rows")


def parse_mapping(
    data: AbcMapping[str, Any], *, origin: str = "<mapping>", name: str | None = None
) -> Mapping:
    """Check and build a `Mapping` from parsed TOML. Raises `MappingError` naming the key."""
    _check_keys(origin, "", data, _TOP_KEYS)
    on_bad_row = data.get("on_bad_row", "fail")
    if on_bad_row not in ON_BAD_ROW:
        raise _fail(origin, "on_bad_row", 'must be "fail" or "skip"', on_bad_row)
    raw_source = data.get("source", {})
    if not isinstance(raw_source, dict):
        raise _fail(origin, "source", "must be a table", raw_source)
    _check_keys(origin, "source", raw_source, _SOURCE_KEYS)
    fmt = raw_source.get("format")
    if fmt is not None and fmt not in ("csv", "xlsx", "parquet"):
        raise _fail(origin, "source.format", "must be csv, xlsx or parquet", fmt)
    delimiter = raw_source.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise _fail(origin, "source.delimiter", "must be one character", delimiter)
    sheet = raw_source.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, str | int)):
        raise _fail(origin, "source.sheet", "must be a sheet name or a 0-based sheet number", sheet)
    decimal = raw_source.get("decimal", ".")
    if decimal not in (".", ","):
        raise _fail(origin, "source.decimal", 'must be "." or ","', decimal)
    thousands = raw_source.get("thousands")
    if thousands is not None and (
        thousands not in (",", ".", " ", "'", "_") or thousands == decimal
    ):
        raise _fail(
            origin,
            "source.thousands",
            'must be one of "," "." " " "\'" "_" and differ from decimal',
            thousands,
        )
    skip_rows = raw_source.get("skip_rows", 0)
    if isinstance(skip_rows, bool) or not isinstance(skip_rows, int) or skip_rows < 0:
        raise _fail(origin, "source.skip_rows", "must be a whole number >= 0", skip_rows)
    encoding = (
        _str(origin, "source.encoding", raw_source["encoding"])
        if "encoding" in raw_source
        else None
    )
    if encoding is not None:
        try:
            known = codecs.lookup(encoding)._is_text_encoding
        except LookupError:
            known = False
        if not known:
            raise _fail(
                origin,
                "source.encoding",
                'is not a known text encoding (e.g. "utf-8", "latin-1", "cp1252", "utf-16")',
                encoding,
            )
    source = SourceSpec(
        format=fmt,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
        decimal=decimal,
        thousands=thousands,
        skip_rows=skip_rows,
    )
    raw_filters = data.get("filters", [])
    if not isinstance(raw_filters, list):
        raise _fail(origin, "filters", "must be a list of [[filters]] tables", raw_filters)
    filters = tuple(_filter_spec(origin, f"filters[{i}]", f) for i, f in enumerate(raw_filters))
    raw_tables = data.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        raise _fail(origin, "tables", "is required: one or more [[tables]] sections")
    tables = tuple(_table_mapping(origin, f"tables[{i}]", t) for i, t in enumerate(raw_tables))
    names = [t.table for t in tables]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise _fail(
            origin, "tables", f"maps table {dup} twice (use one [[tables]] section per table)"
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(origin, "description", "must be text", description)
    mapping_name = data.get("name", name or Path(origin).stem)
    return Mapping(
        name=_str(origin, "name", mapping_name),
        tables=tables,
        description=description,
        on_bad_row=on_bad_row,
        source=source,
        filters=filters,
        origin=origin,
    )


def parse_mapping_text(text: str, *, origin: str = "<mapping>") -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem(origin, None, None, None, f"is not valid TOML ({exc})", code="bad_toml")
        raise MappingError(f"{origin}: is not valid TOML ({exc})", [problem]) from None
    return parse_mapping(data, origin=origin)


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped in `bufferwise/mappings/`."""
    root = resources.files(SHIPPED_PACKAGE) / SHIPPED_FOLDER
    return sorted(p.name[: -len(".toml")] for p in root.iterdir() if p.name.endswith(".toml"))


def load_mapping(path_or_name: str | Path) -> Mapping:
    """A mapping from a TOML file path, or the name of a shipped mapping (e.g. "scms_receipts")."""
    path = Path(path_or_name)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path}: cannot be read ({exc})") from exc
        return parse_mapping_text(text, origin=path.name)
    name = str(path_or_name)
    stem = name[: -len(".toml")] if name.endswith(".toml") else name
    if "/" not in stem and "\\" not in stem:
        resource = resources.files(SHIPPED_PACKAGE) / SHIPPED_FOLDER / f"{stem}.toml"
        if resource.is_file():
            return parse_mapping_text(resource.read_text(encoding="utf-8"), origin=f"{stem}.toml")
    raise MappingError(
        f"{name}: no such mapping file, and not a shipped mapping "
        f"(shipped: {', '.join(shipped_mappings())})",
        [
            Problem(
                name,
                None,
                None,
                None,
                "is not a mapping file or a shipped mapping name",
                code="unknown_mapping",
            )
        ],
    )
