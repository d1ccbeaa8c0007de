"""Use cases around getting data in: read + validate files, import them, say what is stored.

One call to `import_files` is one import: every file named (or found in a folder) is read and
validated first, then all their rows are written in one transaction, or nothing is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bufferwise.errors import InvalidInput, Problem
from bufferwise.ingest import (
    DEFAULT_SLICE_ROWS,
    FileSlices,
    Mapping,
    enforce_policy,
    load_mapping,
    read_canonical,
    read_with_mapping,
)
from bufferwise.ingest.forked import ForkedSlices, use_process
from bufferwise.ingest.pipeline import CycleTimes, machine_cycle_times
from bufferwise.ingest.policy import effective_mode
from bufferwise.ingest.readers import UnreadableMidway
from bufferwise.model import TABLES, FileReport, ImportBatch
from bufferwise.storage import open_repository
from bufferwise.storage.convert import prefetch
from bufferwise.storage.engine import sqlite_path
from bufferwise.storage.imports import ImportSession
from bufferwise.storage.repository import Repository

READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".parquet")


@dataclass(slots=True)
class ImportSummary:
    """What an import did (or, for validate, would do)."""

    batch: ImportBatch
    result: Any = None  # storage's ImportResult (None for validate)
    # seconds: "store" writing to the database (the commit included), "wait" waiting for the
    # next checked slice (reading and checking run ahead in a thread), "total" the whole call
    timings: dict[str, float] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for f in self.batch.files:
            out.append(
                {
                    "file": f.file,
                    "mapping": f.mapping,
                    "rows_read": f.rows_read,
                    "accepted": f.rows_accepted,
                    "rejected": f.rows_rejected,
                    "warned": f.rows_warned,
                }
            )
        return out


def plan_inputs(paths: Sequence[Path], table: str | None = None) -> list[tuple[Path, str | None]]:
    """Expand folders into their canonical files (`items.csv`, `demand.parquet`, ...), parents
    first so references resolve; a single file keeps the table given (or its stem)."""
    planned: list[tuple[Path, str | None]] = []
    for p in paths:
        if not p.exists():
            raise InvalidInput(f"{p}: no such file or folder")
        if p.is_dir():
            found = False
            for name in TABLES:
                for suffix in READABLE_SUFFIXES:
                    candidate = p / f"{name}{suffix}"
                    if candidate.is_file():
                        planned.append((candidate, name))
                        found = True
            if not found:
                raise InvalidInput(
                    f"{p}: no canonical files found (expected files named after the tables: "
                    f"{', '.join(n + '.csv' for n in TABLES)})"
                )
        else:
            planned.append((p, table))
    return planned


def read_inputs(
    paths: Sequence[Path],
    *,
    mapping: str | None = None,
    table: str | None = None,
    known_ids: dict[str, set[str]] | None = None,
    progress: Callable[[int], None] | None = None,
    cycle_times: CycleTimes | None = None,
) -> ImportBatch:
    """Read and validate every input into one batch (nothing is written). `known_ids` and
    `cycle_times`: what is stored already (parent ids, machines' ideal cycle times); the
    files read first add theirs for the files after them."""
    known: dict[str, set[str]] = {k: set(v) for k, v in (known_ids or {}).items()}
    cycles = dict(cycle_times or {})
    merged = ImportBatch(on_bad_row="skip")
    mapping_obj = load_mapping(mapping) if mapping else None
    for path, tbl in plan_inputs(paths, table):
        if mapping_obj is not None:
            batch = read_with_mapping(path, mapping_obj, known_ids=known, cycle_times=cycles)
        else:
            batch = read_canonical(path, _table_of(path, tbl), known_ids=known, cycle_times=cycles)
        _merge(merged, batch)
        _learn_ids(known, batch)
        cycles = _learn_cycle_times(cycles, batch.tables)
        if progress is not None:
            progress(1)
    return merged


def _merge(into: ImportBatch, batch: ImportBatch) -> None:
    for name, df in batch.tables.items():
        if name in into.tables:
            into.tables[name] = pd.concat([into.tables[name], df], ignore_index=True)
        else:
            into.tables[name] = df
    into.problems.extend(batch.problems)
    into.files.extend(batch.files)
    if batch.on_bad_row != "skip":  # the merged import skips bad rows only if every mapping does
        into.on_bad_row = batch.on_bad_row


def _learn_ids(known: dict[str, set[str]], batch: ImportBatch) -> None:
    """Ids of parent tables read so far count as known for the files that follow."""
    for name, df in batch.tables.items():
        key = TABLES[name].key
        if len(key) == 1:
            known.setdefault(name, set()).update(df[key[0]].astype(str))


def parent_ids(stored: dict[str, set[str]]) -> dict[str, set[str]]:
    """Storage's stored ids (by id kind) -> ingest's parent-table ids. A parent table with no
    rows stored is left out, so e.g. demand can be imported before any items are."""
    out: dict[str, set[str]] = {}
    if stored.get("item_id"):
        out["items"] = set(stored["item_id"])
    if stored.get("machine_id"):
        out["machines"] = set(stored["machine_id"])
    return out


def validate_files(
    paths: Sequence[Path],
    *,
    mapping: str | None = None,
    table: str | None = None,
    db_url: str | None = None,
    slice_rows: int | None = DEFAULT_SLICE_ROWS,
) -> ImportSummary:
    """Read and check files against the schema (and, when a database exists, its ids).

    Writes nothing: a SQLite file that does not exist is not created. Files are checked
    `slice_rows` rows at a time, as `import_files` does, so memory stays near one slice; the
    summary holds the report (files, problems), not the rows.
    """
    stored_ids, cycles = _stored_readonly(db_url)
    known = {k: set(v) for k, v in (stored_ids or {}).items()}
    mapping_obj = load_mapping(mapping) if mapping else None
    merged = ImportBatch(on_bad_row="skip")
    for path, tbl in plan_inputs(paths, table):
        reading = _file_slices(path, tbl, mapping_obj, known, slice_rows, cycles)
        learned: dict[str, set[str]] = {}
        for tables in reading:
            _learn_slice(learned, tables)
            cycles = _learn_cycle_times(cycles, tables)
        _merge(merged, reading.batch())
        _learn_file(known, reading, learned)
    return ImportSummary(batch=merged)


def _file_slices(
    path: Path,
    tbl: str | None,
    mapping_obj: Mapping | None,
    known: dict[str, set[str]],
    slice_rows: int | None,
    cycle_times: CycleTimes | None = None,
) -> FileSlices:
    """One file's reader; parent ids and cycle times known so far are copied (a file's own
    rows count as known only for the files after it)."""
    if mapping_obj is not None:
        return FileSlices(
            path,
            mapping=mapping_obj,
            known_ids=_copy_ids(known),
            slice_rows=slice_rows,
            cycle_times=cycle_times,
        )
    return FileSlices(
        path,
        table=_table_of(path, tbl),
        known_ids=_copy_ids(known),
        slice_rows=slice_rows,
        cycle_times=cycle_times,
    )


def _stored_readonly(db_url: str | None) -> tuple[dict[str, set[str]] | None, CycleTimes]:
    """Stored parent ids and machines' ideal cycle times, without creating a database."""
    if not db_url:
        return None, {}
    path = sqlite_path(db_url)
    if path is not None and not path.exists():
        return None, {}
    repo = open_repository(db_url, upgrade=False)
    try:
        return parent_ids(repo.known_ids()), repo.cycle_times()
    finally:
        repo.close()


def _learn_cycle_times(cycles: CycleTimes, tables: dict[str, pd.DataFrame]) -> CycleTimes:
    """Machines read so far give their ideal cycle times to the files that follow."""
    machines = tables.get("machines")
    return cycles if machines is None else machine_cycle_times(machines, cycles)


def import_files(
    db_url: str,
    paths: Sequence[Path],
    *,
    mapping: str | None = None,
    table: str | None = None,
    mode: str = "default",
    progress: Callable[[int], None] | None = None,
    slice_rows: int | None = DEFAULT_SLICE_ROWS,
    in_process: bool | None = None,
) -> ImportSummary:
    """Read, validate and store. `mode`: "default" (any row error -> nothing written),
    "skip" (store the good rows, report the rest), "strict" (stop at the first error).

    Files are read, checked and stored `slice_rows` rows at a time (`None`: whole), all in
    ONE transaction: memory stays near one slice, reading the next slice overlaps storing
    the last, and the outcome (rows stored, problems, counts, what is rejected) is the same
    as reading everything first. Once a row error makes the import fail (default and strict
    modes) nothing more is written, and the transaction is rolled back at the end.
    The returned batch holds the report (files, problems), not the rows (`tables` is empty).
    `in_process`: check a file in a forked child process while the parent stores (see
    `ingest.forked`): opt-in, only True asks for it (and it still needs fork and a file read
    in slices; tests use it on small files); None (default) and False check in a thread.
    """
    repo = open_repository(db_url)
    try:
        try:
            return _import_in_slices(
                repo, paths, mapping, table, mode, progress, slice_rows, in_process
            )
        except UnreadableMidway:
            # a file broke after some of its slices were written (and rolled back): read
            # every file whole, which reports it exactly as an unreadable file
            return _import_in_slices(repo, paths, mapping, table, mode, progress, None, False)
    finally:
        repo.close()


def _import_in_slices(
    repo: Repository,
    paths: Sequence[Path],
    mapping: str | None,
    table: str | None,
    mode: str,
    progress: Callable[[int], None] | None,
    slice_rows: int | None,
    in_process: bool | None = None,
) -> ImportSummary:
    mapping_obj = load_mapping(mapping) if mapping else None
    planned = plan_inputs(paths, table)
    first_mode = effective_mode(
        ImportBatch(on_bad_row=mapping_obj.on_bad_row if mapping_obj else "fail"), mode
    )
    known = parent_ids(repo.known_ids())
    cycles = repo.cycle_times()
    merged = ImportBatch(on_bad_row="skip")
    rows = 0
    writing = True
    started = time.perf_counter()
    store_s = 0.0
    wait_s = 0.0
    with repo.import_session() as session, ExitStack() as children:
        readings: list[FileSlices | ForkedSlices] = []
        for path, tbl in planned:
            reading: FileSlices | ForkedSlices
            reading = checked_here = _file_slices(path, tbl, mapping_obj, known, slice_rows, cycles)
            if use_process(checked_here, in_process):
                for earlier in readings:  # no thread of ours runs at the fork (an earlier
                    earlier.batch()  # file's per-item checks): its report, cached, is waited for
                reading = ForkedSlices(checked_here)
                children.callback(reading.close)
            readings.append(reading)
            learned: dict[str, set[str]] = {}
            with closing(prefetch(iter(reading))) as slices:
                waited = time.perf_counter()
                for tables in slices:
                    now = time.perf_counter()
                    wait_s += now - waited
                    if len(planned) == 1 and rows == 0 and _seen_before(session, reading):
                        writing = False  # a re-import of the same file: check, add nothing
                    if first_mode != "skip" and reading.errors_so_far:
                        writing = False  # the import fails: nothing more to write
                        if first_mode == "strict":
                            break
                    if writing:
                        session.add(tables)
                    rows += sum(len(df) for df in tables.values())
                    _learn_slice(learned, tables)
                    cycles = _learn_cycle_times(cycles, tables)
                    waited = time.perf_counter()
                    store_s += waited - now
            _learn_file(known, reading, learned)
            if progress is not None:
                progress(1)
            if first_mode == "strict" and reading.errors_so_far:
                break
        finishing = time.perf_counter()
        failing = first_mode != "skip" and any(r.errors_so_far for r in readings)
        if writing and not failing:  # indexes, merges, while the last whole-file checks run
            session.complete()
        for reading in readings:
            _merge(merged, reading.batch())
        enforce_policy(merged, mode, rows=rows)
        result = session.finish(merged)
    store_s += time.perf_counter() - finishing  # indexes, merge, import records, commit
    total_s = time.perf_counter() - started
    timings = {"store": store_s, "wait": wait_s, "total": total_s}
    return ImportSummary(batch=merged, result=result, timings=timings)


def _table_of(path: Path, tbl: str | None) -> str:
    name = tbl or path.stem
    if tbl is not None and tbl not in TABLES:
        raise InvalidInput(
            f"{path}: --table {tbl!r} is not a canonical table (expected one of "
            f"{', '.join(TABLES)})"
        )
    if name not in TABLES:
        raise InvalidInput(
            f"{path}: cannot tell which table this file is for; name it after a table "
            f"({', '.join(TABLES)}), pass --table, or give a --mapping"
        )
    return name


def _copy_ids(known: dict[str, set[str]]) -> dict[str, set[str]]:
    return {k: set(v) for k, v in known.items()}


def _seen_before(session: ImportSession, reading: FileSlices | ForkedSlices) -> bool:
    report = FileReport(reading.file, reading.content_hash, reading.mapping_name)
    return session.previous(report) is not None


def _learn_file(
    known: dict[str, set[str]], reading: FileSlices | ForkedSlices, learned: dict[str, set[str]]
) -> None:
    """After a file: the parent tables it fills are known from now on (with the ids of its
    accepted rows; a parent table given with no good row makes every reference to it
    unknown, as when the whole import is read first)."""
    for schema in reading.schemas:
        if len(schema.key) == 1:
            known.setdefault(schema.name, set()).update(learned.get(schema.name, ()))


def _learn_slice(learned: dict[str, set[str]], tables: dict[str, pd.DataFrame]) -> None:
    """Ids of parent tables read so far count as known for the files that follow."""
    for name, df in tables.items():
        key = TABLES[name].key
        if len(key) == 1:
            learned.setdefault(name, set()).update(df[key[0]].astype(str))


def stored_status(db_url: str) -> dict[str, Any]:
    """Row counts per table and the list of imports."""
    repo = open_repository(db_url)
    try:
        return {"tables": repo.table_counts(), "imports": repo.list_imports()}
    finally:
        repo.close()


def problems_as_rows(problems: Sequence[Problem]) -> list[dict[str, object]]:
    return [p.as_dict() for p in problems]
