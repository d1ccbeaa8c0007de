"""Import a batch: one transaction, idempotent per file, recorded in `imports`."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import pandas as pd
import sqlalchemy as sa

from bufferwise.errors import Problem, StorageError
from bufferwise.model.batch import FileReport, ImportBatch
from bufferwise.model.schema import TABLES
from bufferwise.storage import tables as t
from bufferwise.storage.bulk import Progress, TableCounts, TableLoader
from bufferwise.storage.engine import DATABASE_ERRORS, WRITE_OPTION, error_reason

SUCCEEDED = "succeeded"
SKIPPED = "skipped"
PROBLEM_EXAMPLES = 20
IN_MEMORY_FILE = "(in memory)"


def utcnow() -> datetime:
    """Now as naive UTC (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One imported file, as stored in `imports` (or as reported when it was skipped).

    rows_read .. rows_warned     from the file's report (source rows)
    rows_inserted .. _unchanged  what storing the batch did (canonical rows, whole batch)
    """

    import_id: int | None
    batch_id: str
    file: str
    content_hash: str
    mapping: str
    tables: tuple[str, ...]
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_warned: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    started_at: datetime
    finished_at: datetime
    status: str
    problems: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tables"] = list(self.tables)
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What `Repository.import_batch` did: per-file records and per-table counts."""

    batch_id: str
    records: list[ImportRecord]
    tables: dict[str, TableCounts]
    skipped: bool
    message: str

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.tables.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.tables.values())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.tables.values())


def problem_summary(problems: list[Problem]) -> dict[str, Any]:
    """Counts by severity and code, plus the first few messages (JSON-ready)."""
    return {
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
        "by_code": dict(Counter(f"{p.severity}:{p.code}" for p in problems)),
        "examples": [p.message() for p in problems[:PROBLEM_EXAMPLES]],
    }


def _problems_of(report: FileReport, problems: list[Problem]) -> list[Problem]:
    if report.file == IN_MEMORY_FILE:
        return problems
    names = {report.file, PurePath(report.file).name}
    return [p for p in problems if p.file in names or PurePath(p.file).name in names]


def _file_reports(batch: ImportBatch, rows: int) -> list[FileReport]:
    if batch.files:
        return batch.files
    return [FileReport(IN_MEMORY_FILE, "", "", rows_read=rows, rows_accepted=rows)]


def _record_from_row(row: sa.Row[Any]) -> ImportRecord:
    m = row._mapping
    return ImportRecord(
        import_id=m["import_id"],
        batch_id=m["batch_id"],
        file=m["file"],
        content_hash=m["content_hash"],
        mapping=m["mapping"],
        tables=tuple(m["tables"]),
        rows_read=m["rows_read"],
        rows_accepted=m["rows_accepted"],
        rows_rejected=m["rows_rejected"],
        rows_warned=m["rows_warned"],
        rows_inserted=m["rows_inserted"],
        rows_updated=m["rows_updated"],
        rows_unchanged=m["rows_unchanged"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        status=m["status"],
        problems=m["problems"],
    )


def list_imports(conn: sa.Connection) -> list[ImportRecord]:
    rows = conn.execute(sa.select(t.imports).order_by(t.imports.c.import_id))
    return [_record_from_row(r) for r in rows]


def previous_import(conn: sa.Connection, report: FileReport) -> ImportRecord | None:
    """The first successful import of the same content with the same mapping, if any."""
    if not report.content_hash:
        return None
    row = conn.execute(
        sa.select(t.imports)
        .where(
            t.imports.c.content_hash == report.content_hash,
            t.imports.c.mapping == report.mapping,
            t.imports.c.status == SUCCEEDED,
        )
        .order_by(t.imports.c.import_id)
        .limit(1)
    ).first()
    return _record_from_row(row) if row is not None else None


def _seen_message(report: FileReport, previous: ImportRecord) -> str:
    when = previous.finished_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{report.file}: already imported on {when} (import {previous.import_id})"


def _skipped(batch_id: str, reports: list[FileReport], seen: list[ImportRecord]) -> ImportResult:
    now = utcnow()
    records = [
        ImportRecord(
            import_id=None,
            batch_id=batch_id,
            file=r.file,
            content_hash=r.content_hash,
            mapping=r.mapping,
            tables=prev.tables,
            rows_read=r.rows_read,
            rows_accepted=r.rows_accepted,
            rows_rejected=r.rows_rejected,
            rows_warned=r.rows_warned,
            rows_inserted=0,
            rows_updated=0,
            rows_unchanged=0,
            started_at=now,
            finished_at=now,
            status=SKIPPED,
            message=_seen_message(r, prev) + ", nothing added",
        )
        for r, prev in zip(reports, seen, strict=True)
    ]
    return ImportResult(
        batch_id, records, {}, skipped=True, message="; ".join(r.message for r in records)
    )


def _check_names(names: Iterable[str]) -> None:
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise StorageError(
            f"unknown table(s) {', '.join(unknown)} in the batch; expected {', '.join(TABLES)}"
        )


class ImportSession:
    """One import fed slice by slice inside one open write transaction (see `import_session`).

        with import_session(engine) as session:
            for tables in slices:
                session.add(tables)          # canonical DataFrames of one slice
            result = session.finish(batch)   # the report: files, problems, counts

    `finish` records every file in `imports` and returns the counts; when every file of the
    batch was imported before (same content hash and mapping) it returns a skipped result and
    the transaction is rolled back, so nothing is added.
    """

    def __init__(self, conn: sa.Connection, progress: Progress | None = None) -> None:
        self.conn = conn
        self.progress = progress
        self.started = utcnow()
        self.batch_id = uuid.uuid4().hex
        self.loaders: dict[str, TableLoader] = {}
        self.counts: dict[str, TableCounts] | None = None
        self.commit = True

    def previous(self, report: FileReport) -> ImportRecord | None:
        """The earlier successful import of the same content and mapping, if any."""
        return previous_import(self.conn, report)

    def add(self, tables: dict[str, pd.DataFrame]) -> None:
        """Store one slice: canonical table name -> rows."""
        if self.counts is not None:
            raise RuntimeError("the import session was completed; no more rows can be added")
        _check_names(tables)
        for name in TABLES:  # parents first, in a fixed order
            if name not in tables:
                continue
            loader = self.loaders.get(name)
            if loader is None:
                loader = TableLoader(self.conn, t.canonical(name), TABLES[name], self.progress)
                self.loaders[name] = loader
            loader.add(tables[name])

    def complete(self) -> None:
        """Build the dropped indexes again and merge the staged rows (the slow part of
        `finish`), before the report is known; `add` may not be called after this."""
        if self.counts is None:
            names = [n for n in TABLES if n in self.loaders]
            self.counts = {name: self.loaders[name].finish() for name in names}

    def finish(self, batch: ImportBatch) -> ImportResult:
        """Complete the tables and record the import of `batch`'s files (its `tables` are
        ignored: the rows are the slices added)."""
        reports = _file_reports(batch, sum(loader.rows for loader in self.loaders.values()))
        seen = [self.previous(r) for r in reports]
        if all(s is not None for s in seen) and reports[0].file != IN_MEMORY_FILE:
            self.commit = False
            return _skipped(self.batch_id, reports, [s for s in seen if s is not None])
        self.complete()
        assert self.counts is not None
        counts = self.counts
        names = list(counts)
        records = _insert_records(
            self.conn, self.batch_id, batch, reports, seen, names, counts, self.started
        )
        inserted = sum(c.inserted for c in counts.values())
        updated = sum(c.updated for c in counts.values())
        unchanged = sum(c.unchanged for c in counts.values())
        message = f"{inserted} rows added, {updated} updated, {unchanged} unchanged"
        return ImportResult(self.batch_id, records, counts, skipped=False, message=message)


@contextmanager
def import_session(engine: sa.Engine, progress: Progress | None = None) -> Iterator[ImportSession]:
    """An `ImportSession` in one write transaction: committed when the block ends normally
    (unless `finish` skipped the import), rolled back on any exception. Database failures
    become StorageError ("import failed, nothing was written: ...")."""
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            transaction = conn.begin()
            session = ImportSession(conn, progress)
            try:
                yield session
            except BaseException:
                transaction.rollback()
                raise
            if session.commit:
                transaction.commit()
            else:
                transaction.rollback()
    except DATABASE_ERRORS as exc:
        raise StorageError(f"import failed, nothing was written: {error_reason(exc)}") from None


def import_batch(
    engine: sa.Engine,
    batch: ImportBatch,
    progress: Progress | None = None,
) -> ImportResult:
    """Store `batch` in one transaction; see `Repository.import_batch`."""
    _check_names(batch.tables)
    reports = _file_reports(batch, batch.row_count())
    with engine.connect() as conn:
        seen = [previous_import(conn, r) for r in reports]
    if all(s is not None for s in seen) and reports[0].file != IN_MEMORY_FILE:
        return _skipped(uuid.uuid4().hex, reports, [s for s in seen if s is not None])
    with import_session(engine, progress) as session:
        session.add(batch.tables)
        return session.finish(batch)


def _insert_records(
    conn: sa.Connection,
    batch_id: str,
    batch: ImportBatch,
    reports: list[FileReport],
    seen: list[ImportRecord | None],
    names: list[str],
    counts: dict[str, TableCounts],
    started: datetime,
) -> list[ImportRecord]:
    finished = utcnow()
    table_counts = {n: c.as_dict() for n, c in counts.items()}
    records = []
    for report, previous in zip(reports, seen, strict=True):
        values: dict[str, Any] = {
            "batch_id": batch_id,
            "file": report.file,
            "content_hash": report.content_hash,
            "mapping": report.mapping,
            "tables": names,
            "rows_read": report.rows_read,
            "rows_accepted": report.rows_accepted,
            "rows_rejected": report.rows_rejected,
            "rows_warned": report.rows_warned,
            "rows_inserted": sum(c.inserted for c in counts.values()),
            "rows_updated": sum(c.updated for c in counts.values()),
            "rows_unchanged": sum(c.unchanged for c in counts.values()),
            "table_counts": table_counts,
            "started_at": started,
            "finished_at": finished,
            "status": SUCCEEDED,
            "problems": problem_summary(_problems_of(report, batch.problems)),
        }
        import_id = conn.execute(
            t.imports.insert().values(**values).returning(t.imports.c.import_id)
        ).scalar_one()
        message = _seen_message(report, previous) if previous is not None else ""
        values.pop("table_counts")
        values["tables"] = tuple(names)
        records.append(ImportRecord(import_id=import_id, message=message, **values))
    return records
