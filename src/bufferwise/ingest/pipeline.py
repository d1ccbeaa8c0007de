"""File -> `ImportBatch`: read, filter, reshape, check, and count.

A source data row is the unit of acceptance: when any canonical row made from it (in any
target table, any wide-to-long cell) has an error, every canonical row from that source row is
rejected, and the file report counts the source row once as rejected. rows_read =
rows_accepted + rows_rejected always holds.

`FileSlices` does all of it a slice of rows at a time (a big CSV file is never in memory
whole) with the same result; `read_canonical` and `read_with_mapping` are one slice.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from bufferwise.errors import MappingError, Problem
from bufferwise.ingest import checks
from bufferwise.ingest.checks import _NO_END, DemandCollector, StateOverlaps
from bufferwise.ingest.mapping import Mapping, TableMapping, load_mapping
from bufferwise.ingest.readers import RawTable, read_table_slices
from bufferwise.ingest.transform import (
    Staged,
    apply_filters,
    canonical_mapping,
    check_source_columns,
    stage_table,
)
from bufferwise.ingest.validate import (
    Checked,
    KeyHistory,
    check_references,
    check_staged,
    fold_distinct,
)
from bufferwise.model.batch import FileReport, ImportBatch
from bufferwise.model.schema import Table
from bufferwise.model.schema import table as schema_of

KnownIds = dict[str, set[str]]
CycleTimes = dict[str, float]  # machine_id -> ideal_cycle_time_s


def empty_frame(schema: Table) -> pd.DataFrame:
    data: dict[str, object] = {}
    for c in schema.columns:
        if c.kind == "str":
            data[c.name] = pd.Series([], dtype=pd.StringDtype("pyarrow"))
        elif c.kind in ("date", "datetime"):
            data[c.name] = pd.Series([], dtype="datetime64[ns]")
        else:
            data[c.name] = pd.Series([], dtype="float64")
    return pd.DataFrame(data)


def _sorted_problems(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: -1 if p.row is None else p.row)


def _parents_first(checked: list[Checked]) -> list[Checked]:
    return sorted(checked, key=lambda c: len(c.schema.references))


def _ids(checked: Checked, keep: np.ndarray, column: str) -> set[str]:
    v = checked.values[column]
    assert isinstance(v, pa.ChunkedArray)
    return {x for x in v.filter(pa.array(keep)).to_pylist() if x}


@dataclass(slots=True)
class _EventTimes:
    """machine_events rows of one slice, once per slice: machine numbers, starts and ends
    (int64 ns, NaT as `_NO_END`) and source rows of the rows in `base`."""

    base: np.ndarray
    codes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    rows: np.ndarray

    def of(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The same for the rows in `mask` (all of them in `base`)."""
        pick = mask[self.base]
        return self.codes[pick], self.starts[pick], self.ends[pick], self.rows[pick]


def _rejected_rows(checked: list[Checked], raw_errors: np.ndarray) -> np.ndarray:
    """Source rows with an error in any table made from them (or in the reader)."""
    return np.unique(np.concatenate([*(c.rows[c.error] for c in checked), raw_errors]))


def _settle_references(
    checked: list[Checked],
    by_table: dict[str, Checked],
    raw_errors: np.ndarray,
    known_ids: KnownIds | None,
    problems: list[Problem],
    *,
    first_pass: bool,
) -> tuple[np.ndarray, bool]:
    """One verdict per source row, across every table made from the file: a parent table of
    the same file offers the ids of its rows whose source row is kept; when a reference check
    rejects more source rows, their parent ids go too (checked again until nothing changes,
    so no kept row refers to a parent row that is not kept). Adds the tables' own problems
    (on the first pass) and the unknown_id ones to `problems`; returns the rejected source
    rows and whether a table's parent is made from the same file."""
    bad = _rejected_rows(checked, raw_errors)
    while True:
        same_file_parent = False
        for c in checked:
            if first_pass:
                problems += c.problems
            parents: KnownIds = {}
            for target in c.schema.references.values():
                parent_table, parent_col = target.split(".")
                ids: set[str] | None = None
                if known_ids is not None and parent_table in known_ids:
                    ids = set(known_ids[parent_table])
                parent = by_table.get(parent_table)
                if parent is not None and parent is not c:
                    same_file_parent = True
                    kept = ~np.isin(parent.rows, bad) & ~parent.error
                    ids = (ids or set()) | _ids(parent, kept, parent_col)
                if ids is not None:
                    parents[parent_table] = ids
            problems += check_references(c, parents, skip=np.isin(c.rows, bad))
        first_pass = False
        now_bad = _rejected_rows(checked, raw_errors)
        if not same_file_parent or len(now_bad) == len(bad):
            return now_bad, same_file_parent
        bad = now_bad


def machine_cycle_times(machines: pd.DataFrame, into: CycleTimes | None = None) -> CycleTimes:
    """The ideal cycle time of each machine of `machines` (canonical rows) added to `into`
    (a copy); a machine given without one loses any it had (a re-import replaces the row)."""
    out = dict(into or {})
    if machines.empty or "ideal_cycle_time_s" not in machines:
        return out
    ids = machines["machine_id"].astype(str).tolist()
    times = pd.to_numeric(machines["ideal_cycle_time_s"], errors="coerce").tolist()
    for machine, t in zip(ids, times, strict=True):
        if pd.isna(t):
            out.pop(machine, None)
        else:
            out[machine] = float(t)
    return out


DEFAULT_SLICE_ROWS = 500_000


def can_slice(mapping: Mapping | TableMapping) -> bool:
    """True when every check of this mapping works on a slice of rows at a time (with the
    cross-slice state `FileSlices` keeps): one target table, no snapshot intervals (their end
    is the next snapshot, possibly in a later slice). Other mappings are read whole."""
    if isinstance(mapping, TableMapping):
        return mapping.intervals is None
    return len(mapping.tables) == 1 and mapping.tables[0].intervals is None


class FileSlices:
    """One input file read, checked and handed out slice by slice, with the same rows,
    problems and counts as reading it whole (`read_canonical` / `read_with_mapping`).

        reading = FileSlices("demand.csv", table="demand", slice_rows=500_000)
        for tables in reading:          # accepted canonical rows of each slice
            store(tables)
        batch = reading.batch()         # the report: problems (in file order), counts

    What must be seen across slices is kept in compact form: the keys used so far (for
    duplicate keys, see `KeyHistory`), for demand, the accepted rows as arrays (for the
    per-item outlier and gap checks: see `DemandCollector`), and for machine_events the
    accepted records of positive length (for overlapping states: see `StateOverlaps`). A
    mapping that `can_slice` refuses, a non-CSV file and `slice_rows=None` give one slice.
    Memory: about one slice of text and values plus 16 bytes a row for the keys (plus 20 for
    demand, 28 for machine_events).
    `errors_so_far` says whether any row error was found yet (to stop writing early).
    `cycle_times`: machine_id -> ideal_cycle_time_s known before this file (stored machines,
    machines files read earlier in the same import), for the performance_above_100 check of
    production counts; a machines table made from the same file adds to them.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        table: str | None = None,
        mapping: Mapping | str | Path | None = None,
        known_ids: KnownIds | None = None,
        slice_rows: int | None = DEFAULT_SLICE_ROWS,
        cycle_times: CycleTimes | None = None,
    ) -> None:
        if (table is None) == (mapping is None):
            raise ValueError("give either a canonical table or a mapping")
        self.path = Path(path)
        self.mapping: Mapping | None = None
        self.schema: Table | None = None
        if mapping is not None:
            self.mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
            self.mapping_name = self.mapping.name
            self.on_bad_row = self.mapping.on_bad_row
            self.schemas = [t.schema for t in self.mapping.tables]
            sliceable = can_slice(self.mapping)
        else:
            assert table is not None
            self.schema = schema_of(table)
            self.mapping_name = "canonical"
            self.on_bad_row = "fail"
            self.schemas = [self.schema]
            sliceable = True
        self.slice_rows = slice_rows if sliceable else None
        self.known_ids = known_ids
        self.cycle_times: CycleTimes = dict(cycle_times or {})
        self.histories = {s.name: KeyHistory(s) for s in self.schemas} if sliceable else {}
        self.demand = DemandCollector() if sliceable and self.schemas[0].name == "demand" else None
        has_events = any(s.name == "machine_events" for s in self.schemas)
        self.overlaps = StateOverlaps() if has_events else None
        self.problems: list[Problem] = []
        self.errors_so_far = False
        self.rows_read = 0
        self.rows_rejected = 0
        self.warned: set[int] = set()
        self.file = self.path.name
        self.content_hash = ""
        self._canonical: TableMapping | None = None
        self._result: ImportBatch | None = None
        self._sources: dict[str, str] = {}
        self._pre_problems: list[Problem] = []
        self._reporter: threading.Thread | None = None
        self._report_error: BaseException | None = None

    def __iter__(self) -> Iterator[dict[str, pd.DataFrame]]:
        if self.demand is not None:  # numba's start-up, while the file is hashed and opened
            self.demand.start_warming()
        src = self.mapping.source if self.mapping is not None else None
        slices = read_table_slices(
            self.path,
            self.slice_rows,
            format=src.format if src else None,
            delimiter=src.delimiter if src else None,
            encoding=src.encoding if src else None,
            sheet=src.sheet if src else None,
            skip_rows=src.skip_rows if src else 0,
        )
        first = True
        for raw in slices:
            pre: list[Problem] = []
            if first:
                first = False
                self.file, self.content_hash = raw.file, raw.content_hash
                refused = self._start(raw)
                if refused is not None:  # nothing in the file can be imported
                    self._result = self._unreadable_rest(refused, raw, slices)
                    return
                pre = self._pre_problems
            tables = self._slice(raw, pre)
            if tables:
                yield tables
        # the whole-file checks (per-item outliers and gaps) start now, in a thread of their
        # own, while the caller still stores the last slice or builds indexes; `batch()`
        # waits for them
        self._reporter = threading.Thread(
            target=self._report_in_thread, name="bufferwise-report", daemon=True
        )
        self._reporter.start()

    def _report_in_thread(self) -> None:
        try:
            self._result = self._report()
        except BaseException as exc:  # handed to the caller of batch()
            self._report_error = exc

    def _start(self, raw: RawTable) -> list[Problem] | None:
        """Checks on the first slice that hold for the whole file: None when rows can be
        read, else the file-level problems that reject it."""
        self._pre_problems = []
        if not raw.columns or raw.rows_read == 0:
            return []
        if self.mapping is not None:
            check_source_columns(raw, self.mapping)
            return None
        assert self.schema is not None
        mapping, problems = canonical_mapping(raw, self.schema)
        if any(p.severity == "error" for p in problems):
            return problems
        self._canonical = mapping
        self._pre_problems = problems
        return None

    def _unreadable_rest(
        self, extra: list[Problem], raw: RawTable, rest: Iterator[RawTable]
    ) -> ImportBatch:
        rows_read = raw.rows_read
        problems = list(raw.problems)
        for more in rest:  # count the rows (and malformed lines) of the slices not checked
            rows_read += more.rows_read
            problems += more.problems
        whole = dataclasses.replace(raw, rows_read=rows_read, problems=problems)
        return _unreadable(whole, self.mapping_name, self.on_bad_row, self.schemas, extra)

    def _slice(self, raw: RawTable, pre_problems: list[Problem]) -> dict[str, pd.DataFrame]:
        if self.mapping is not None:
            mapping = self.mapping
            keep, filter_problems = apply_filters(raw, mapping.filters)
            kept_table = raw.table.filter(pa.array(keep))
            kept_rows = raw.row_numbers[keep]
            try:
                staged = [stage_table(kept_table, kept_rows, t) for t in mapping.tables]
            except MappingError as exc:
                problems = [dataclasses.replace(p, file=raw.file) for p in exc.problems]
                raise MappingError(
                    f"{raw.file}: {exc} (mapping {mapping.origin})", problems
                ) from None
            pre = list(pre_problems) + filter_problems
            decimal, thousands = mapping.source.decimal, mapping.source.thousands
        else:
            assert self._canonical is not None
            staged = [stage_table(raw.table, raw.row_numbers, self._canonical)]
            pre, decimal, thousands = list(pre_problems), ".", None
        return self._check(raw, staged, pre, decimal, thousands)

    def _check(
        self,
        raw: RawTable,
        staged: list[Staged],
        pre_problems: list[Problem],
        decimal: str,
        thousands: str | None,
    ) -> dict[str, pd.DataFrame]:
        problems = list(raw.problems) + list(pre_problems)
        checked = _parents_first(
            [
                check_staged(
                    s,
                    raw.file,
                    decimal=decimal,
                    thousands=thousands,
                    history=self.histories.get(s.schema.name),
                )
                for s in staged
            ]
        )
        known_ids = self.known_ids
        by_table = {c.schema.name: c for c in checked}
        raw_errors = np.array(
            [p.row for p in raw.problems if p.row is not None and p.severity == "error"],
            dtype=np.int64,
        )
        bad, same_file_parent = _settle_references(
            checked, by_table, raw_errors, known_ids, problems, first_pass=True
        )
        events = by_table.get("machine_events")
        event_times: _EventTimes | None = None
        if events is not None and self.overlaps is not None:
            # state records that overlap an earlier accepted one: checked last, among the
            # rows no other check rejected (a rejected row is no earlier accepted record)
            event_times = self._event_times(events)
            overlapping = self._overlaps(events, event_times, ~np.isin(events.rows, bad), raw.file)
            if overlapping:
                problems += overlapping
                bad = _rejected_rows(checked, raw_errors)
                if same_file_parent:  # their source rows' parent ids go too
                    bad, _ = _settle_references(
                        checked, by_table, raw_errors, known_ids, problems, first_pass=False
                    )
        filtered = np.array(
            [p.row for p in pre_problems if p.code == "filtered" and p.row is not None],
            dtype=np.int64,
        )
        rejected = np.union1d(bad, filtered)

        tables: dict[str, pd.DataFrame] = {}
        for c in checked:
            # a distinct table keeps the first *accepted* row of each key (see fold_distinct)
            accepted = ~np.isin(c.rows, bad)
            keep = accepted & ~fold_distinct(c, accepted, self.histories.get(c.schema.name))
            frame = c.frame(keep)
            rows = c.rows[keep]
            name = c.schema.name
            self._sources = c.sources
            if name == "machines":
                self.cycle_times = machine_cycle_times(frame, self.cycle_times)
            found: list[Problem] = []
            if name == "machine_events" and event_times is not None:
                self._keep_events(event_times, keep)
            if name == "demand" and self.demand is not None:
                values = c.values
                item_ids = values["item_id"]
                assert isinstance(item_ids, pa.ChunkedArray)
                self.demand.add(
                    item_ids.filter(pa.array(keep)),
                    frame["quantity"].to_numpy(dtype=np.float64),
                    frame["returns"].to_numpy(dtype=np.float64),
                    frame["date"].to_numpy(dtype="datetime64[ns]"),
                    rows,
                    raw.file,
                    c.sources,
                )
            elif name == "demand":
                found = checks.demand_warnings(frame, rows, raw.file, c.sources)
            elif name == "receipts":
                found = checks.receipt_warnings(frame, rows, raw.file, c.sources)
            elif name == "production_counts":
                found = checks.production_warnings(
                    frame, rows, raw.file, c.sources, self.cycle_times
                )
            problems += found
            tables[name] = frame
        rejected_set = set(rejected.tolist())
        for p in problems:
            # rows_warned counts accepted data rows: the header (row 0) is not one
            if p.severity == "warning" and p.row is not None and p.code != "filtered":
                if p.row >= 1 and p.row not in rejected_set:
                    self.warned.add(p.row)
            elif p.severity == "error":
                self.errors_so_far = True
        self.problems += problems
        self.rows_read += raw.rows_read
        self.rows_rejected += len(rejected)
        return tables

    def _event_times(self, c: Checked) -> _EventTimes:
        """The machine numbers, starts and ends of c's rows without an error (so far)."""
        assert self.overlaps is not None
        base = ~c.error
        machine_ids = c.values["machine_id"]
        assert isinstance(machine_ids, pa.ChunkedArray)
        codes = self.overlaps.machine_codes(machine_ids.filter(pa.array(base)))
        start, end = c.values["start"], c.values["end"]
        assert isinstance(start, np.ndarray) and isinstance(end, np.ndarray)
        starts = np.asarray(start[base], dtype="datetime64[ns]").view(np.int64)
        ends = np.asarray(end[base], dtype="datetime64[ns]").view(np.int64)
        return _EventTimes(base, codes, starts, ends, c.rows[base])

    def _overlaps(
        self, c: Checked, times: _EventTimes, accepted: np.ndarray, file: str
    ) -> list[Problem]:
        """The overlapping_state errors of machine_events rows still `accepted` (their rows
        are marked as errors in `c`). `accepted` excludes c's error rows: the caller's
        rejected rows include them."""
        assert self.overlaps is not None
        codes, starts, ends, rows = times.of(accepted)
        timed = (starts != _NO_END) & (ends != _NO_END)
        found = self.overlaps.check(codes[timed], starts[timed], ends[timed], rows[timed])
        if not found:
            return []
        where = np.flatnonzero(accepted)[timed]
        c.error[where[[o.position for o in found]]] = True
        return checks.overlap_problems(found, rows[timed], starts[timed], file, c.sources)

    def _keep_events(self, times: _EventTimes, keep: np.ndarray) -> None:
        """Remember the slice's accepted machine_events records for the next slices."""
        assert self.overlaps is not None
        if self.slice_rows is None or not keep.any():
            return  # read in one piece: no next slice
        self.overlaps.add(*times.of(keep))

    def batch(self, tables: dict[str, pd.DataFrame] | None = None) -> ImportBatch:
        """The file's report after iterating: every problem in file order and the counts;
        `tables` as given (the caller decides whether to keep the rows)."""
        if self._reporter is not None:
            self._reporter.join()
            self._reporter = None
            if self._report_error is not None:
                raise self._report_error
        if self._result is None:  # the iteration was left early
            self._result = self._report()
        if self.demand is not None:  # a file refused at its first slice skips the report
            self.demand.stop_warming()
        if tables:
            self._result.tables = tables
        return self._result

    def _report(self) -> ImportBatch:
        problems = self.problems
        self.histories = {}  # the keys are no longer needed: free them before the last checks
        if self.demand is not None:
            found = self.demand.warnings(self.file, self._sources)
            self.warned.update(p.row for p in found if p.row is not None)
            problems = problems + found
        report = FileReport(
            file=self.file,
            content_hash=self.content_hash,
            mapping=self.mapping_name,
            rows_read=self.rows_read,
            rows_accepted=self.rows_read - self.rows_rejected,
            rows_rejected=self.rows_rejected,
            rows_warned=len(self.warned),
        )
        return ImportBatch(
            problems=_sorted_problems(problems), files=[report], on_bad_row=self.on_bad_row
        )


def _unreadable(
    raw: RawTable,
    mapping_name: str,
    on_bad_row: str,
    schemas: list[Table],
    extra: list[Problem] | None = None,
) -> ImportBatch:
    """A batch for a file that gives no rows at all (empty, header only, a missing required
    column): every row read is rejected, the reasons are file-level problems."""
    report = FileReport(
        file=raw.file,
        content_hash=raw.content_hash,
        mapping=mapping_name,
        rows_read=raw.rows_read,
        rows_accepted=0,
        rows_rejected=raw.rows_read,
    )
    return ImportBatch(
        tables={s.name: empty_frame(s) for s in schemas},
        problems=_sorted_problems(list(raw.problems) + list(extra or [])),
        files=[report],
        on_bad_row=on_bad_row,
    )


def _read_whole(reading: FileSlices) -> ImportBatch:
    pieces = list(reading)
    tables: dict[str, pd.DataFrame] = {}
    for piece in pieces:
        for name, frame in piece.items():
            tables[name] = (
                pd.concat([tables[name], frame], ignore_index=True) if name in tables else frame
            )
    batch = reading.batch(tables)
    if not batch.tables:
        batch.tables = {s.name: empty_frame(s) for s in reading.schemas}
    return batch


def read_with_mapping(
    path: str | Path,
    mapping: Mapping | str | Path,
    known_ids: KnownIds | None = None,
    *,
    slice_rows: int | None = None,
    cycle_times: CycleTimes | None = None,
) -> ImportBatch:
    """Read an export through a mapping (a `Mapping`, a TOML path or a shipped mapping name).

    known_ids  parent table name -> ids already stored (e.g. {"items": {...}}): a row whose id
               is in neither these nor the same import's parent table is rejected (unknown_id)
    slice_rows read and check that many rows at a time (same result, see `FileSlices`)
    cycle_times machine_id -> ideal_cycle_time_s already known (stored, or read earlier in
               the same import) for the performance_above_100 check
    Raises `MappingError` when the mapping does not fit the file (e.g. names a missing column);
    every data problem is in the returned batch (see `enforce_policy` for what to write).
    """
    return _read_whole(
        FileSlices(
            path,
            mapping=mapping,
            known_ids=known_ids,
            slice_rows=slice_rows,
            cycle_times=cycle_times,
        )
    )


def read_canonical(
    path: str | Path,
    table: str,
    known_ids: KnownIds | None = None,
    *,
    slice_rows: int | None = None,
    cycle_times: CycleTimes | None = None,
) -> ImportBatch:
    """Read a file whose columns are already named like the canonical table `table`
    (dates as YYYY-MM-DD, timestamps as ISO 8601). Unknown columns are ignored with a warning;
    a missing required column rejects the file. `known_ids`, `cycle_times`: as for
    `read_with_mapping`."""
    return _read_whole(
        FileSlices(
            path, table=table, known_ids=known_ids, slice_rows=slice_rows, cycle_times=cycle_times
        )
    )


__all__ = [
    "DEFAULT_SLICE_ROWS",
    "CycleTimes",
    "FileSlices",
    "KnownIds",
    "can_slice",
    "empty_frame",
    "machine_cycle_times",
    "read_canonical",
    "read_with_mapping",
]
