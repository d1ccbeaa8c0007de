"""Use cases around getting data in: read + validate files, import them, say what is stored.

One call to `import_files` is one import: every file named (or found in a folder) is read and
validated first, then all their rows are written in one transaction, or nothing is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bufferwise.errors import InvalidInput, Problem
from bufferwise.ingest import enforce_policy, load_mapping, read_canonical, read_with_mapping
from bufferwise.model import TABLES, ImportBatch
from bufferwise.storage import open_repository

READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".parquet")


@dataclass(slots=True)
class ImportSummary:
    """What an import did (or, for validate, would do)."""

    batch: ImportBatch
    result: Any = None  # storage's ImportResult (None for validate)

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
) -> ImportBatch:
    """Read and validate every input into one batch (nothing is written)."""
    known: dict[str, set[str]] = {k: set(v) for k, v in (known_ids or {}).items()}
    merged = ImportBatch(on_bad_row="skip")
    mapping_obj = load_mapping(mapping) if mapping else None
    for path, tbl in plan_inputs(paths, table):
        if mapping_obj is not None:
            batch = read_with_mapping(path, mapping_obj, known_ids=known)
        else:
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
            batch = read_canonical(path, name, known_ids=known)
        _merge(merged, batch)
        _learn_ids(known, batch)
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
) -> ImportSummary:
    """Read and check files against the schema (and, when a database exists, its ids).

    Writes nothing: a SQLite file that does not exist is not created.
    """
    known = _known_ids_readonly(db_url)
    batch = read_inputs(paths, mapping=mapping, table=table, known_ids=known)
    return ImportSummary(batch=batch)


def _known_ids_readonly(db_url: str | None) -> dict[str, set[str]] | None:
    if not db_url:
        return None
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        return None
    repo = open_repository(db_url, upgrade=False)
    try:
        return parent_ids(repo.known_ids())
    finally:
        repo.close()


def import_files(
    db_url: str,
    paths: Sequence[Path],
    *,
    mapping: str | None = None,
    table: str | None = None,
    mode: str = "default",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read, validate and store. `mode`: "default" (any row error -> nothing written),
    "skip" (store the good rows, report the rest), "strict" (stop at the first error)."""
    repo = open_repository(db_url)
    try:
        batch = read_inputs(
            paths,
            mapping=mapping,
            table=table,
            known_ids=parent_ids(repo.known_ids()),
            progress=progress,
        )
        enforce_policy(batch, mode)
        result = repo.import_batch(batch)
        return ImportSummary(batch=batch, result=result)
    finally:
        repo.close()


def stored_status(db_url: str) -> dict[str, Any]:
    """Row counts per table and the list of imports."""
    repo = open_repository(db_url)
    try:
        return {"tables": repo.table_counts(), "imports": repo.list_imports()}
    finally:
        repo.close()


def problems_as_rows(problems: Sequence[Problem]) -> list[dict[str, object]]:
    return [p.as_dict() for p in problems]
