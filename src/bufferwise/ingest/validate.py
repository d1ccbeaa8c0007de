"""Check staged text against the canonical schema and turn it into typed columns.

Row errors (the row is rejected), each with a stable code:
    missing_value     a required cell is empty
    not_a_number      text in a number column
    not_finite        inf / nan written in a number column
    huge_number       |value| > 1e12 (a unit or export error, not a quantity)
    not_whole         a fraction in a whole-number column
    negative_value    below a minimum of 0 (e.g. a negative quantity)
    below_minimum / above_maximum   outside the schema's bounds
    bad_date / bad_datetime          text that is not a date in the expected format(s)
    not_allowed       a value outside the allowed set (e.g. a machine state)
    unmapped_value    a value the mapping's value map has no entry for
    zero_divisor      `divide_by` column is zero
    duplicate_key     the row repeats the key of an earlier row (the message names that row)
    <rule code>       a cross-column rule of the schema (e.g. received_before_ordered)
    unknown_id        an id not found in its parent table (checked in `check_references`)
Warnings (kept, counted): interval_capped (see `IntervalSpec`); the data checks in `checks`.

Everything is computed on whole columns; Python loops run only over the rows that are wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bufferwise.errors import MappingError, Problem
from bufferwise.ingest.mapping import ColumnSpec, IntervalSpec
from bufferwise.ingest.parse import (
    describe_format,
    parse_numbers,
    parse_times,
    timestamp_text,
)
from bufferwise.ingest.transform import CellNames, Staged, StagedColumn, describe_unmapped, frame_of
from bufferwise.model.schema import Column, RowRule, Table

HUGE_NUMBER = 1e12
Values: TypeAlias = np.ndarray | pa.ChunkedArray


@dataclass(slots=True)
class Checked:
    """One canonical table after checking: typed columns for every staged row, with masks.

    error     the row has at least one error and must not be stored
    distinct  a repeated key is not an error: the repeats among the accepted rows are folded
              into the first (not stored twice), by `fold_distinct` once the verdict per
              source row is known
    """

    schema: Table
    file: str
    values: dict[str, Values]
    rows: np.ndarray
    error: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    distinct: bool = False

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self, mask: np.ndarray | None = None) -> pd.DataFrame:
        cols: dict[str, Values] = {}
        for name in self.schema.column_names:
            v = self.values[name]
            if mask is not None and not mask.all():
                v = v.filter(pa.array(mask)) if isinstance(v, pa.ChunkedArray) else v[mask]
            cols[name] = v
        return frame_of(cols).reset_index(drop=True)


class _Problems:
    """Collects problems for positions of the staged rows and marks error rows."""

    def __init__(self, file: str, rows: np.ndarray, cell_names: CellNames | None) -> None:
        self.file = file
        self.rows = rows
        self.cell_names = cell_names
        self.error = np.zeros(len(rows), dtype=bool)
        self.items: list[Problem] = []

    def add(
        self,
        mask: np.ndarray,
        *,
        code: str,
        expected: str,
        column: str | None,
        text: Values | Sequence[str | None] | None = None,
        from_cell: bool = False,
        severity: str = "error",
    ) -> None:
        positions = np.flatnonzero(mask)
        if len(positions) == 0:
            return
        if severity == "error":
            self.error[positions] = True
        if text is None:
            values: list[str | None] = [None] * len(positions)
        elif isinstance(text, pa.ChunkedArray | pa.Array):
            values = text.take(pa.array(positions)).to_pylist()
        else:
            values = [text[int(p)] for p in positions]
        names = self.cell_names if from_cell and self.cell_names is not None else None
        for p, v in zip(positions, values, strict=True):
            col = str(names[int(p)]) if names is not None else column
            self.items.append(
                Problem(self.file, int(self.rows[p]), col, v, expected, severity, code)
            )


def _suffix(source: str, name: str) -> str:
    return "" if source == name else f" for {name}"


def _date_words(spec: ColumnSpec | None, kind: str) -> str:
    if spec is not None and spec.ordinal is not None:
        o = spec.ordinal
        return (
            f"a numbered period label; period {o.first} starts {o.start.date()}, one per {o.freq}"
        )
    formats = [describe_format(f) for f in spec.formats] if spec is not None else []
    formats.append("YYYY-MM-DD" if kind == "date" else "YYYY-MM-DD HH:MM[:SS]")
    return " or ".join(dict.fromkeys(formats))


def _check_text(col: Column, sc: StagedColumn | None, n: int, out: _Problems) -> pa.ChunkedArray:
    if (
        sc is None
    ):  # an optional column nobody fills: its default (mappings must fill required ones)
        default = "" if col.default is None else str(col.default)
        return pa.chunked_array([pa.array(np.full(n, default, dtype=object), pa.string())])
    text = sc.text
    empty = np.asarray(pc.equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
    suffix = _suffix(sc.source, col.name)
    unmapped = sc.unmapped if sc.unmapped is not None else np.zeros(n, dtype=bool)
    if sc.unmapped is not None:
        out.add(
            unmapped,
            code="unmapped_value",
            expected=describe_unmapped(sc.spec) + suffix,
            column=sc.source,
            text=text,
            from_cell=sc.from_cell,
        )
    if empty.any():
        if col.default is not None:
            text = pc.if_else(pc.equal(text, ""), str(col.default), text)
        elif col.required:
            out.add(
                empty,
                code="missing_value",
                expected=f"is empty (expected {col.expected()}){suffix}",
                column=sc.source,
                from_cell=sc.from_cell,
            )
    text = text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text])
    if col.allowed:
        ok = np.asarray(
            pc.is_in(text, value_set=pa.array(col.allowed)).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        now_empty = np.asarray(pc.equal(text, "").to_numpy(zero_copy_only=False), dtype=bool)
        bad = ~ok & ~unmapped & ~now_empty
        out.add(
            bad,
            code="not_allowed",
            expected=f"is not an allowed {col.name} "
            f"(expected one of {', '.join(col.allowed)}){suffix}",
            column=sc.source,
            text=text,
            from_cell=sc.from_cell,
        )
    return text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text])


def _check_number(
    col: Column,
    sc: StagedColumn | None,
    n: int,
    out: _Problems,
    decimal: str,
    thousands: str | None,
) -> np.ndarray:
    if sc is None:
        fill = np.nan if col.default is None else float(str(col.default))
        return np.full(n, fill, dtype=np.float64)
    suffix = _suffix(sc.source, col.name)
    parsed = parse_numbers(sc.text, decimal=decimal, thousands=thousands)
    values = parsed.values
    kw = {"column": sc.source, "text": sc.text, "from_cell": sc.from_cell}
    out.add(
        parsed.bad,
        code="not_a_number",
        expected=f"is not a number (expected {col.expected()}){suffix}",
        **kw,
    )
    out.add(
        parsed.non_finite,
        code="not_finite",
        expected=f"is not a finite number (expected {col.expected()}){suffix}",
        **kw,
    )
    values = values * sc.spec.factor if sc.spec.factor != 1.0 else values
    invalid = parsed.bad | parsed.non_finite
    if sc.divisor is not None and sc.spec.divide_by is not None:
        div = parse_numbers(sc.divisor, decimal=decimal, thousands=thousands)
        dkw = {"column": sc.spec.divide_by, "text": sc.divisor}
        div_bad = (div.bad | div.non_finite | div.empty) & ~invalid
        out.add(
            div_bad,
            code="not_a_number",
            expected=f"is not a number (expected a number to divide {sc.source} by for {col.name})",
            **dkw,
        )
        zero = (div.values == 0) & ~div_bad & ~invalid
        out.add(
            zero,
            code="zero_divisor",
            expected=f"is zero, so {col.name} = {sc.source} / {sc.spec.divide_by} "
            "cannot be computed",
            **dkw,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            values = values / np.where(div_bad | zero, np.nan, div.values)
        invalid = invalid | div_bad | zero
    with np.errstate(invalid="ignore"):
        huge = ~invalid & (np.abs(values) > HUGE_NUMBER)
    out.add(
        huge,
        code="huge_number",
        expected=f"is too large (expected an absolute value up to {HUGE_NUMBER:.0e}){suffix}",
        **kw,
    )
    invalid |= huge
    if parsed.empty.any():
        if col.default is not None:
            values = np.where(parsed.empty, float(str(col.default)), values)
        elif col.required:
            out.add(
                parsed.empty,
                code="missing_value",
                expected=f"is empty (expected {col.expected()}){suffix}",
                column=sc.source,
                from_cell=sc.from_cell,
            )
    ok = ~invalid & ~np.isnan(values)
    if col.kind == "int":
        out.add(
            ok & (values != np.round(values)),
            code="not_whole",
            expected=f"is not a whole number{suffix}",
            **kw,
        )
    if col.minimum is not None:
        low = ok & (values < col.minimum)
        code = "negative_value" if col.minimum == 0 else "below_minimum"
        out.add(
            low,
            code=code,
            expected=f"is below the minimum (expected {col.name} >= {col.minimum:g}){suffix}",
            **kw,
        )
    if col.maximum is not None:
        high = ok & (values > col.maximum)
        out.add(
            high,
            code="above_maximum",
            expected=f"is above the maximum (expected {col.name} <= {col.maximum:g}){suffix}",
            **kw,
        )
    values = values.astype(np.float64, copy=False)
    values[invalid] = np.nan
    return values


def _check_time(col: Column, sc: StagedColumn | None, n: int, out: _Problems) -> np.ndarray:
    if sc is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    spec = sc.spec
    parsed = parse_times(
        sc.text,
        formats=spec.formats,
        timezone=spec.timezone,
        ordinal=spec.ordinal,
        day_only=col.kind == "date",  # a date column keeps the day; a time of day is dropped
    )
    suffix = _suffix(sc.source, col.name)
    word = "a date" if col.kind == "date" else "a date and time"
    dst = parsed.nonexistent | parsed.ambiguous
    out.add(
        parsed.bad & ~dst if dst.any() else parsed.bad,
        code=f"bad_{col.kind}",
        expected=f"is not {word} (expected {_date_words(spec, col.kind)}){suffix}",
        column=sc.source,
        text=sc.text,
        from_cell=sc.from_cell,
    )
    if dst.any():
        zone = spec.timezone
        for mask, what in (
            (parsed.nonexistent, "does not exist (the clocks skip it when summer time starts)"),
            (parsed.ambiguous, "happens twice (the clocks go back over it when summer time ends)"),
        ):
            out.add(
                mask,
                code=f"bad_{col.kind}",
                expected=f"is a local time that {what} in {zone}, so the instant is unknown "
                f"(expected a time that exists once there, or one written with its offset, "
                f"%z){suffix}",
                column=sc.source,
                text=sc.text,
                from_cell=sc.from_cell,
            )
    if col.required and parsed.empty.any():
        out.add(
            parsed.empty,
            code="missing_value",
            expected=f"is empty (expected {_date_words(spec, col.kind)}){suffix}",
            column=sc.source,
            from_cell=sc.from_cell,
        )
    return parsed.values


def describe_duration(td: pd.Timedelta) -> str:
    """pd.Timedelta("10min") -> "10 min"."""
    seconds = int(td.total_seconds())
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}"
    return f"{td.total_seconds():g} s"


def derive_intervals(
    spec: IntervalSpec, values: dict[str, Values], out: _Problems, source_of_start: str, table: str
) -> np.ndarray:
    """End of each snapshot = start of the next one in its group, capped at `max_gap`."""
    start = values[spec.start]
    assert isinstance(start, np.ndarray)
    n = len(start)
    codes = np.zeros(n, dtype=np.int64)
    for g in spec.group_by:
        v = values[g]
        gc = (
            pc.dictionary_encode(v.combine_chunks())
            .indices.to_numpy(zero_copy_only=False)
            .astype(np.int64)
            if isinstance(v, pa.ChunkedArray)
            else pd.factorize(v)[0]
        )
        codes = codes * (int(gc.max(initial=0)) + 1) + gc
    valid = ~np.isnat(start)
    t = start.view(np.int64)
    order = np.lexsort((t, codes))
    order = order[valid[order]]
    end = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    gap = spec.max_gap.to_timedelta64().astype("timedelta64[ns]")
    if len(order) == 0:
        return end
    s_sorted = start[order]
    same_next = np.zeros(len(order), dtype=bool)
    same_next[:-1] = codes[order][1:] == codes[order][:-1]
    nxt = np.empty_like(s_sorted)
    nxt[:-1] = s_sorted[1:]
    nxt[-1] = s_sorted[-1]
    capped_end = s_sorted + gap
    long_gap = same_next & ((nxt - s_sorted) > gap)
    end_sorted = np.where(same_next & ~long_gap, nxt, capped_end)
    end[order] = end_sorted
    capped = np.zeros(n, dtype=bool)
    capped[order[long_gap]] = True
    if capped.any():
        gaps = np.zeros(n, dtype="timedelta64[ns]")
        gaps[order] = nxt - s_sorted
        texts: list[str | None] = [None] * n
        for p in np.flatnonzero(capped):
            texts[int(p)] = str(pd.Timestamp(start[p]))
        out.add(
            capped,
            code="interval_capped",
            severity="warning",
            column=source_of_start,
            text=texts,
            expected=f"is followed by no snapshot of the same {', '.join(spec.group_by)} "
            f"within max_gap {describe_duration(spec.max_gap)}; its {table} interval is cut "
            "there (the time after it is unknown)",
        )
    return end


def _as_text(values: Values, positions: np.ndarray) -> list[str]:
    if isinstance(values, pa.ChunkedArray):
        return [str(v) for v in values.take(pa.array(positions)).to_pylist()]
    if np.issubdtype(values.dtype, np.datetime64):
        return [timestamp_text(values[p]) for p in positions]
    return [f"{values[p]:g}" for p in positions]


def _check_rule(
    rule: RowRule, values: dict[str, Values], out: _Problems, sources: dict[str, str]
) -> None:
    left, right = values[rule.left], values[rule.right]
    assert isinstance(left, np.ndarray) and isinstance(right, np.ndarray)
    if np.issubdtype(left.dtype, np.datetime64):
        present = ~np.isnat(left) & ~np.isnat(right)
    else:
        present = ~np.isnan(left) & ~np.isnan(right)
    with np.errstate(invalid="ignore"):
        broken = present & ((left < right) if rule.op == ">=" else (left > right))
    positions = np.flatnonzero(broken)
    if len(positions) == 0:
        return
    lt, rt = _as_text(left, positions), _as_text(right, positions)
    word = (
        "before"
        if rule.op == ">=" and np.issubdtype(left.dtype, np.datetime64)
        else ("below" if rule.op == ">=" else "above")
    )
    texts: list[str | None] = [None] * len(left)
    for i, p in enumerate(positions):
        texts[p] = lt[i]
    for i, p in enumerate(positions):
        exp = f"is {word} {rule.right} {rt[i]} (expected {rule.expected})"
        out.items.append(
            Problem(
                out.file,
                int(out.rows[p]),
                sources.get(rule.left, rule.left),
                texts[p],
                exp,
                rule.severity,
                rule.code,
            )
        )
        if rule.severity == "error":
            out.error[p] = True


DAY_NS = 86_400 * 10**9


def value_codes(v: Values) -> tuple[np.ndarray, int]:
    """(codes, cardinality): equal codes exactly for equal values; missing values share one code.
    Dates (midnight timestamps) are numbered by day without hashing."""
    if isinstance(v, pa.ChunkedArray):
        enc = pc.dictionary_encode(v.combine_chunks())
        return enc.indices.to_numpy(zero_copy_only=False), len(enc.dictionary)
    if np.issubdtype(v.dtype, np.datetime64):
        ns = np.asarray(v, dtype="datetime64[ns]").view(np.int64)
        present = ns != np.iinfo(np.int64).min  # NaT
        days = ns // DAY_NS
        if present.any() and np.array_equal(days[present] * DAY_NS, ns[present]):
            low = int(days[present].min())
            span = int(days[present].max()) - low + 1
            if span <= 4 * len(v) + 1024:
                days -= low - 1  # 1..span; NaT -> 0
                days[~present] = 0
                return days, span + 1
        c, uniq = pd.factorize(ns)
        return c + 1, len(uniq) + 1
    c, uniq = pd.factorize(v)
    return c + 1, len(uniq) + 1  # NaN -> 0


def key_codes(arrays: Sequence[Values]) -> np.ndarray:
    """One int64 code per row, equal exactly when all key values are equal."""
    n = len(arrays[0]) if arrays else 0
    code = np.zeros(n, dtype=np.int64)
    for v in arrays:
        c, card = value_codes(v)
        if card and int(code.max(initial=0)) >= (2**62) // max(card, 1):
            code = pd.factorize(code)[0].astype(np.int64)
        code *= card
        code += c
    return code


class StringIds:
    """Dense ids (0, 1, 2, ... in order of first appearance) for strings seen across slices,
    exact: the distinct strings are kept in one Arrow array, not a Python set."""

    def __init__(self) -> None:
        self.uniques = pa.array([], pa.string())

    def ids(self, text: pa.ChunkedArray | pa.Array) -> np.ndarray:
        array = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        encoded = pc.dictionary_encode(array)
        distinct = encoded.dictionary
        if len(self.uniques):
            found = pc.index_in(distinct, value_set=self.uniques)
            ids = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            ids = np.full(len(distinct), -1, dtype=np.int64)
        new = ids < 0
        if new.any():
            ids[new] = np.arange(len(self.uniques), len(self.uniques) + int(new.sum()))
            self.uniques = pa.concat_arrays([self.uniques, distinct.filter(pa.array(new))])
        indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return ids[indices]


class NumberIds:
    """Dense ids for int64 values seen across slices (a sorted array of the distinct values)."""

    def __init__(self) -> None:
        self.values = np.empty(0, np.int64)
        self.value_ids = np.empty(0, np.int64)

    def ids(self, values: np.ndarray) -> np.ndarray:
        distinct, inverse = np.unique(values, return_inverse=True)
        pos = np.searchsorted(self.values, distinct)
        found = pos < len(self.values)
        found[found] = self.values[pos[found]] == distinct[found]
        ids = np.empty(len(distinct), np.int64)
        ids[found] = self.value_ids[pos[found]]
        new = ~found
        if new.any():
            ids[new] = np.arange(len(self.values), len(self.values) + int(new.sum()))
            self.values = np.insert(self.values, pos[new], distinct[new])
            self.value_ids = np.insert(self.value_ids, pos[new], ids[new])
        return ids[inverse.reshape(-1)]


_HALF = 1 << 31


class KeyHistory:
    """The keys of one table's rows in the slices checked so far, so that a key repeated in
    a later slice of the same file is found (and the row that used it first named) exactly as
    if the file had been checked in one piece.

    Each key becomes one int64 code, equal exactly for equal keys in any slice: strings are
    numbered by `StringIds`, dates by their day, other values by `NumberIds`, and the columns
    are packed 32 bits each (combinations in the middle numbered again). The codes seen are
    kept sorted, with the row that used each first: 16 bytes per row.
    """

    def __init__(self, schema: Table) -> None:
        self.kinds = [schema.column(k).kind for k in schema.key]
        self.strings = [StringIds() for _ in self.kinds]
        self.numbers = [NumberIds() for _ in self.kinds]
        self.pairs = [NumberIds() for _ in self.kinds]
        # sorted runs of (codes, first rows), each run above the one before: rows sorted by
        # key append a run (no copy); a slice that falls among them merges everything once
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self.runs) > 1:
            self.runs = [
                (
                    np.concatenate([c for c, _ in self.runs]),
                    np.concatenate([r for _, r in self.runs]),
                )
            ]
        return self.runs[0]

    def _column(self, i: int, v: Values) -> np.ndarray:
        if isinstance(v, pa.ChunkedArray):
            return self.strings[i].ids(v)
        if np.issubdtype(v.dtype, np.datetime64):
            ns = np.asarray(v, dtype="datetime64[ns]").view(np.int64)
            if self.kinds[i] == "date":
                days = np.where(ns == np.iinfo(np.int64).min, -_HALF, ns // DAY_NS)
                if len(days) and (days.min() < -_HALF or days.max() >= _HALF):
                    return self.numbers[i].ids(ns)
                return days + _HALF  # 0 .. 2**32 - 1
            return self.numbers[i].ids(ns)
        floats = np.asarray(v, dtype=np.float64) + 0.0  # -0.0 -> 0.0
        floats[np.isnan(floats)] = np.nan
        return self.numbers[i].ids(floats.view(np.int64))

    def key_codes(self, arrays: Sequence[Values]) -> np.ndarray:
        code = self._column(0, arrays[0])
        for i in range(1, len(arrays)):
            part = self._column(i, arrays[i])
            if len(code) and (int(code.max()) >= _HALF or int(part.max()) >= 2 * _HALF):
                raise ValueError("more than 2**31 distinct key values in one import")
            code = (code << 32) | part
            if i < len(arrays) - 1:
                code = self.pairs[i].ids(code)
        return code

    def first_use(self, codes: np.ndarray) -> np.ndarray:
        """The row that used each key in an earlier slice, or -1."""
        out = np.full(len(codes), -1, dtype=np.int64)
        if not self.runs or len(codes) == 0:
            return out
        low, high = int(self.runs[0][0][0]), int(self.runs[-1][0][-1])
        if int(codes.min()) > high or int(codes.max()) < low:
            return out  # rows sorted by key, as exports often are: nothing to look up
        known, first_rows = self._merged()
        pos = np.searchsorted(known, codes)
        inside = pos < len(known)
        hit = np.zeros(len(codes), dtype=bool)
        hit[inside] = known[pos[inside]] == codes[inside]
        out[hit] = first_rows[pos[hit]]
        return out

    def add(self, codes: np.ndarray, rows: np.ndarray) -> None:
        """Remember new keys (none of them seen before, each once)."""
        if len(codes) == 0:
            return
        if len(codes) > 1 and not bool((codes[1:] > codes[:-1]).all()):
            order = np.argsort(codes, kind="stable")
            codes, rows = codes[order], rows[order]
        rows = np.asarray(rows, dtype=np.int64)
        if not self.runs or int(codes[0]) > int(self.runs[-1][0][-1]):
            self.runs.append((codes, rows))
            return
        known, first_rows = self._merged()
        pos = np.searchsorted(known, codes)
        self.runs = [(np.insert(known, pos, codes), np.insert(first_rows, pos, rows))]


def _has_duplicates(codes: np.ndarray) -> bool:
    if len(codes) < 2 or bool((codes[1:] > codes[:-1]).all()):
        return False  # strictly increasing: rows sorted by key
    top = int(codes.max(initial=0))
    if int(codes.min(initial=0)) >= 0 and top < 4 * len(codes) + 1024:
        return bool(np.bincount(codes).max(initial=0) > 1)  # dense codes: one counting pass
    return len(pd.unique(codes)) != len(codes)


def _first_keys(
    key: Sequence[str],
    values: dict[str, Values],
    mask: np.ndarray,
    rows: np.ndarray,
    history: KeyHistory | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The key of the rows in `mask`: their positions, key codes, the row that used each key
    in an earlier slice (-1 if none: always with no `history`), and whether each repeats a
    key used before (in an earlier slice or by an earlier row here). The keys used first
    here are added to the `history`."""
    arrow_mask = pa.array(mask)
    key_arrays = []
    for k in key:
        v = values[k]
        key_arrays.append(v.filter(arrow_mask) if isinstance(v, pa.ChunkedArray) else v[mask])
    positions = np.flatnonzero(mask)
    if history is None:
        codes = key_codes(key_arrays)
        earlier = np.full(len(codes), -1, dtype=np.int64)
    else:
        codes = history.key_codes(key_arrays)
        earlier = history.first_use(codes)
    before = earlier >= 0
    if not before.any() and not _has_duplicates(codes):
        repeat = np.zeros(len(codes), dtype=bool)
        if history is not None:
            history.add(codes, rows[positions])
    else:
        repeat = pd.Series(codes).duplicated(keep="first").to_numpy() | before
        if history is not None:
            history.add(codes[~repeat], rows[positions[~repeat]])
    return positions, codes, earlier, repeat


def _check_keys(
    schema: Table,
    values: dict[str, Values],
    out: _Problems,
    sources: dict[str, str],
    history: KeyHistory | None = None,
) -> None:
    """Marks duplicate keys as errors (not called for a `distinct` table: its repeats are
    folded later, by `fold_distinct`, among the rows that are accepted). With a `history`,
    keys used in earlier slices of the file count as used before this slice."""
    ok = ~out.error
    if len(out.rows) == 0 or not ok.any():
        return
    positions, codes, earlier, dup_sub = _first_keys(schema.key, values, ok, out.rows, history)
    if not dup_sub.any():
        return
    first_pos = pd.Series(positions[~dup_sub], index=codes[~dup_sub])
    dup_codes = codes[dup_sub]
    in_slice = earlier[dup_sub] < 0
    first_rows = earlier[dup_sub].copy()
    if in_slice.any():
        firsts = first_pos.reindex(dup_codes[in_slice]).to_numpy()
        first_rows[in_slice] = out.rows[firsts.astype(np.int64)]
    dup_positions = positions[dup_sub]
    key_text = [_as_text(values[k], dup_positions) for k in schema.key]
    cols = ", ".join(schema.key)
    column = ", ".join(sources.get(k, k) for k in schema.key)
    for i, p in enumerate(dup_positions):
        value = ", ".join(t[i] for t in key_text)
        first_row = int(first_rows[i])
        exp = f"repeats the key ({cols}) of row {first_row} (expected each key once)"
        out.items.append(
            Problem(out.file, int(out.rows[p]), column, value, exp, "error", "duplicate_key")
        )
        out.error[p] = True


def fold_distinct(
    checked: Checked, accepted: np.ndarray, history: KeyHistory | None = None
) -> np.ndarray:
    """The rows folded into an earlier row of a `distinct` table (all False otherwise):
    among the `accepted` rows (those whose source row is kept, in every table made from the
    file), the first row of each key is kept and later ones are folded into it. So the row
    that stands for a key is always one that is stored: a first row rejected (by its own
    error or by another table's error on the same source row) leaves the key to the next
    accepted row. With a `history`, keys kept in earlier slices of the file count as kept
    before this slice, and the keys kept here are added to it."""
    merged = np.zeros(len(checked.rows), dtype=bool)
    if not checked.distinct or not accepted.any():
        return merged
    positions, _, _, repeat = _first_keys(
        checked.schema.key, checked.values, accepted, checked.rows, history
    )
    merged[positions[repeat]] = True
    return merged


def check_melt_headers(staged: Staged, file: str) -> None:
    """A wide file's period headers are part of its layout, not of any one row: a header that
    does not parse (e.g. a "Total" column among the months) raises `MappingError` naming it,
    instead of rejecting every row."""
    melt = staged.mapping.melt
    if melt is None or staged.cell_names is None:
        return
    headers = staged.cell_names.headers
    labels = pa.chunked_array([pa.array(headers, pa.string())])
    for col in staged.schema.columns:
        sc = staged.columns.get(col.name)
        if sc is None or sc.spec.column != melt.header_to or sc.spec.map is not None:
            continue
        if col.kind in ("date", "datetime"):
            spec = sc.spec
            bad = parse_times(
                labels, formats=spec.formats, timezone=spec.timezone, ordinal=spec.ordinal
            ).bad
            expected = (
                f"is not a period heading (expected {_date_words(spec, col.kind)} for {col.name})"
            )
        elif col.kind in ("float", "int"):
            bad = parse_numbers(labels).bad
            expected = f"is not a number heading (expected a number for {col.name})"
        else:
            continue
        if bad.any():
            problems = [
                Problem(
                    file,
                    0,
                    h,
                    h,
                    expected + "; list the period columns in melt.value_columns "
                    "to leave other columns out",
                    "error",
                    "bad_header",
                )
                for h, b in zip(headers, bad, strict=True)
                if b
            ]
            raise MappingError("; ".join(p.message() for p in problems), problems)


def check_staged(
    staged: Staged,
    file: str,
    *,
    decimal: str = ".",
    thousands: str | None = None,
    history: KeyHistory | None = None,
) -> Checked:
    """Parse and check every canonical column of `staged`; see the module docstring.
    `history`: the keys of earlier slices of the same file (see `KeyHistory`)."""
    check_melt_headers(staged, file)
    schema = staged.schema
    n = len(staged)
    out = _Problems(file, staged.rows, staged.cell_names)
    values: dict[str, Values] = {}
    sources = {name: sc.source for name, sc in staged.columns.items()}
    for col in schema.columns:
        sc = staged.columns.get(col.name)
        if col.kind == "str":
            values[col.name] = _check_text(col, sc, n, out)
        elif col.kind in ("float", "int"):
            values[col.name] = _check_number(col, sc, n, out, decimal, thousands)
        else:
            values[col.name] = _check_time(col, sc, n, out)
    intervals = staged.mapping.intervals
    if intervals is not None:
        values[intervals.end] = derive_intervals(
            intervals, values, out, sources.get(intervals.start, intervals.start), schema.name
        )
        sources[intervals.end] = f"{sources.get(intervals.start, intervals.start)} (next snapshot)"
    for rule in schema.rules:
        _check_rule(rule, values, out, sources)
    if not staged.mapping.distinct:
        _check_keys(schema, values, out, sources, history)
    return Checked(
        schema=schema,
        file=file,
        values=values,
        rows=staged.rows,
        error=out.error,
        problems=out.items,
        sources=sources,
        distinct=staged.mapping.distinct,
    )


def check_references(
    checked: Checked, parents: dict[str, set[str]], skip: np.ndarray | None = None
) -> list[Problem]:
    """Reject rows whose id is not among the known ids of the parent table. `parents` maps a
    parent table name (e.g. "items") to its ids; references to tables not in `parents` are not
    checked (there is nothing to check them against). `skip`: rows already rejected (e.g. by
    another table made from the same source row), not checked again."""
    problems: list[Problem] = []
    for column, target in checked.schema.references.items():
        parent_table, parent_col = target.split(".")
        known = parents.get(parent_table)
        if known is None:
            continue
        v = checked.values[column]
        assert isinstance(v, pa.ChunkedArray)
        present = np.asarray(
            pc.is_in(v, value_set=pa.array(sorted(known), pa.string())).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        empty = np.asarray(pc.equal(v, "").to_numpy(zero_copy_only=False), dtype=bool)
        bad = ~present & ~empty & ~checked.error
        if skip is not None:
            bad &= ~skip
        positions = np.flatnonzero(bad)
        if len(positions) == 0:
            continue
        texts = v.take(pa.array(positions)).to_pylist()
        source = checked.sources.get(column, column)
        exp = (
            f"is not a known {parent_col} (expected an id present in {parent_table}, "
            "in this import or already stored)"
        )
        for p, t in zip(positions, texts, strict=True):
            problems.append(
                Problem(checked.file, int(checked.rows[p]), source, t, exp, "error", "unknown_id")
            )
        checked.error[positions] = True
    return problems
