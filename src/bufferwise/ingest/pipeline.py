"""File -> `ImportBatch`: read, filter, reshape, check, and count.

A source data row is the unit of acceptance: when any canonical row made from it (in any
target table, any wide-to-long cell) has an error, every canonical row from that source row is
rejected, and the file report counts the source row once as rejected. rows_read =
rows_accepted + rows_rejected always holds.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from bufferwise.errors import MappingError, Problem
from bufferwise.ingest import checks
from bufferwise.ingest.mapping import Mapping, load_mapping
from bufferwise.ingest.readers import RawTable, read_table
from bufferwise.ingest.transform import (
    Staged,
    apply_filters,
    canonical_mapping,
    check_source_columns,
    stage_table,
)
from bufferwise.ingest.validate import Checked, check_references, check_staged
from bufferwise.model.batch import FileReport, ImportBatch
from bufferwise.model.schema import Table
from bufferwise.model.schema import table as schema_of

KnownIds = dict[str, set[str]]


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


def _finish(
    raw: RawTable,
    mapping_name: str,
    on_bad_row: str,
    staged: list[Staged],
    pre_problems: list[Problem],
    known_ids: KnownIds | None,
    *,
    decimal: str = ".",
    thousands: str | None = None,
) -> ImportBatch:
    problems = list(raw.problems) + list(pre_problems)
    checked = _parents_first(
        [check_staged(s, raw.file, decimal=decimal, thousands=thousands) for s in staged]
    )
    by_table = {c.schema.name: c for c in checked}
    for c in checked:
        problems += c.problems
        parents: KnownIds = {}
        for target in c.schema.references.values():
            parent_table, parent_col = target.split(".")
            ids: set[str] | None = None
            if known_ids is not None and parent_table in known_ids:
                ids = set(known_ids[parent_table])
            parent = by_table.get(parent_table)
            if parent is not None and parent is not c:
                ids = (ids or set()) | _ids(parent, ~parent.error & ~parent.merged, parent_col)
            if ids is not None:
                parents[parent_table] = ids
        problems += check_references(c, parents)

    # one verdict per source row, across every table made from the file
    error_rows = [c.rows[c.error] for c in checked]
    error_rows.append(
        np.array(
            [p.row for p in raw.problems if p.row is not None and p.severity == "error"],
            dtype=np.int64,
        )
    )
    bad = np.unique(np.concatenate(error_rows)) if error_rows else np.empty(0, np.int64)
    filtered = np.array(
        [p.row for p in pre_problems if p.code == "filtered" and p.row is not None], dtype=np.int64
    )
    rejected = np.union1d(bad, filtered)

    tables: dict[str, pd.DataFrame] = {}
    warned_rows: set[int] = set()
    cycle_times: dict[str, float] = {}
    for c in checked:
        keep = ~np.isin(c.rows, bad) & ~c.merged
        frame = c.frame(keep)
        rows = c.rows[keep]
        name = c.schema.name
        if name == "machines" and not frame.empty:
            known = frame.dropna(subset=["ideal_cycle_time_s"])
            cycle_times = dict(
                zip(known["machine_id"].astype(str), known["ideal_cycle_time_s"], strict=True)
            )
        if name == "demand":
            found = checks.demand_warnings(frame, rows, raw.file, c.sources)
        elif name == "receipts":
            found = checks.receipt_warnings(frame, rows, raw.file, c.sources)
        elif name == "production_counts":
            found = checks.production_warnings(frame, rows, raw.file, c.sources, cycle_times)
        else:
            found = []
        problems += found
        tables[name] = frame
    for p in problems:
        if p.severity == "warning" and p.row is not None and p.code != "filtered":
            warned_rows.add(p.row)
    rejected_set = set(rejected.tolist())
    warned = len(warned_rows - rejected_set)
    report = FileReport(
        file=raw.file,
        content_hash=raw.content_hash,
        mapping=mapping_name,
        rows_read=raw.rows_read,
        rows_accepted=raw.rows_read - len(rejected),
        rows_rejected=len(rejected),
        rows_warned=warned,
    )
    return ImportBatch(
        tables=tables, problems=_sorted_problems(problems), files=[report], on_bad_row=on_bad_row
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


def read_with_mapping(
    path: str | Path, mapping: Mapping | str | Path, known_ids: KnownIds | None = None
) -> ImportBatch:
    """Read an export through a mapping (a `Mapping`, a TOML path or a shipped mapping name).

    known_ids  parent table name -> ids already stored (e.g. {"items": {...}}): a row whose id
               is in neither these nor the same import's parent table is rejected (unknown_id)
    Raises `MappingError` when the mapping does not fit the file (e.g. names a missing column);
    every data problem is in the returned batch (see `enforce_policy` for what to write).
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    src = mapping.source
    raw = read_table(
        path,
        format=src.format,
        delimiter=src.delimiter,
        encoding=src.encoding,
        sheet=src.sheet,
        skip_rows=src.skip_rows,
    )
    schemas = [t.schema for t in mapping.tables]
    if not raw.columns or raw.rows_read == 0:
        return _unreadable(raw, mapping.name, mapping.on_bad_row, schemas)
    check_source_columns(raw, mapping)
    keep, filter_problems = apply_filters(raw, mapping.filters)
    kept_table = raw.table.filter(pa.array(keep))
    kept_rows = raw.row_numbers[keep]
    try:
        staged = [stage_table(kept_table, kept_rows, t) for t in mapping.tables]
    except MappingError as exc:
        problems = [dataclasses.replace(p, file=raw.file) for p in exc.problems]
        raise MappingError(f"{raw.file}: {exc} (mapping {mapping.origin})", problems) from None
    return _finish(
        raw,
        mapping.name,
        mapping.on_bad_row,
        staged,
        filter_problems,
        known_ids,
        decimal=src.decimal,
        thousands=src.thousands,
    )


def read_canonical(path: str | Path, table: str, known_ids: KnownIds | None = None) -> ImportBatch:
    """Read a file whose columns are already named like the canonical table `table`
    (dates as YYYY-MM-DD, timestamps as ISO 8601). Unknown columns are ignored with a warning;
    a missing required column rejects the file."""
    schema = schema_of(table)
    raw = read_table(path)
    if not raw.columns or raw.rows_read == 0:
        return _unreadable(raw, "canonical", "fail", [schema])
    mapping, problems = canonical_mapping(raw, schema)
    if any(p.severity == "error" for p in problems):
        return _unreadable(raw, "canonical", "fail", [schema], problems)
    staged = stage_table(raw.table, raw.row_numbers, mapping)
    return _finish(raw, "canonical", "fail", [staged], problems, known_ids)


__all__ = ["KnownIds", "empty_frame", "read_canonical", "read_with_mapping"]
