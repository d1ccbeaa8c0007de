"""The one door to the database: open it, import batches, read tables, record runs and policies.

    repo = open_repository("sqlite:///bufferwise.db")   # creates / upgrades the schema
    result = repo.import_batch(batch)                    # one transaction, idempotent
    demand = repo.read_table("demand", item_id=["A1", "A2"])

Every database failure surfaces as `StorageError` with the URL and what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import pandas as pd
import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from bufferwise.errors import StorageError
from bufferwise.model.batch import ImportBatch
from bufferwise.storage import imports, migrate, policies, reads, runs
from bufferwise.storage.bulk import Progress
from bufferwise.storage.engine import (
    DATABASE_ERRORS,
    create_engine,
    display_url,
    error_reason,
    write_transaction,
)
from bufferwise.storage.imports import ImportRecord, ImportResult, ImportSession
from bufferwise.storage.runs import RunRecord


def open_repository(url: str, *, upgrade: bool = True) -> Repository:
    """Connect to `url` and bring its schema to the newest revision (unless `upgrade=False`).

    Raises StorageError when the URL is not SQLite / PostgreSQL, the server cannot be reached,
    the file cannot be opened, or the migration fails.
    """
    engine, parsed = create_engine(url)
    repository = Repository(engine, display_url(parsed))
    if upgrade:
        try:
            migrate.upgrade(engine)
        except (SQLAlchemyError, CommandError) as exc:
            engine.dispose()
            raise StorageError(
                f"cannot create or upgrade the bufferwise tables in {repository.url}: "
                f"{error_reason(exc)}"
            ) from None
    return repository


class Repository:
    """Storage for one database. Thread-safe to share; call `close()` (or use `with`)."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Repository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def schema_revision(self) -> str | None:
        with self._errors("read the schema revision"):
            return migrate.current_revision(self.engine)

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except DATABASE_ERRORS as exc:
            raise StorageError(f"cannot {doing} in {self.url}: {error_reason(exc)}") from None

    @contextmanager
    def _write(self, doing: str) -> Iterator[sa.Connection]:
        with self._errors(doing), write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def _read(self, doing: str) -> Iterator[sa.Connection]:
        with self._errors(doing), self.engine.connect() as conn:
            yield conn

    # --- imports ------------------------------------------------------------------------

    def import_batch(self, batch: ImportBatch, progress: Progress | None = None) -> ImportResult:
        """Store every table of `batch` in ONE transaction and record each file in `imports`.

        - On any failure nothing is written (StorageError says why).
        - When every file of the batch was imported before with the same content hash and
          mapping, nothing is written and the result says so (`skipped=True`).
        - Rows are upserted by table key: a new key is inserted, a known key with other
          values is updated, a known key with the same values is left unchanged.
        `progress(n)` is called after each chunk of n rows (for a progress bar).
        """
        with self._errors("import"):
            return imports.import_batch(self.engine, batch, progress)

    @contextmanager
    def import_session(self, progress: Progress | None = None) -> Iterator[ImportSession]:
        """One import fed slice by slice, in ONE transaction (see `ImportSession`): rows
        added with `session.add(tables)`, then `session.finish(batch)` records the files.
        Any exception inside the block rolls everything back; nothing is written."""
        with self._errors("import"), imports.import_session(self.engine, progress) as session:
            yield session

    def list_imports(self) -> list[ImportRecord]:
        with self._read("list imports") as conn:
            return imports.list_imports(conn)

    # --- reads --------------------------------------------------------------------------

    def read_table(self, name: str, **filters: Any) -> pd.DataFrame:
        """Canonical table `name` as a DataFrame with canonical dtypes, ordered by key.

        Filters: `column=value` (equality, None = empty) or `column=[v1, v2]` (any of).
        """
        with self._read(f"read table {name}") as conn:
            return reads.read_table(conn, name, filters)

    def read_tables(self, names: Iterable[str]) -> dict[str, pd.DataFrame]:
        """Canonical tables `names` in full, each as `read_table(name)` gives it (empty
        frames for tables with no rows). From a SQLite file they all come from one committed
        state, read by a child process without a Python object per row (see `fetch`)."""
        wanted = list(names)
        with self._read(f"read tables {', '.join(wanted)}") as conn:
            return reads.read_tables(conn, wanted)

    def table_counts(self) -> dict[str, int]:
        """Rows stored per canonical table."""
        with self._read("count rows") as conn:
            return reads.table_counts(conn)

    def known_ids(self) -> dict[str, set[str]]:
        """Stored ids: {'item_id': items, 'machine_id': machines, 'supplier_id': suppliers}."""
        with self._read("read known ids") as conn:
            return reads.known_ids(conn)

    def cycle_times(self) -> dict[str, float]:
        """Stored ideal cycle times: {machine_id: ideal_cycle_time_s} (machines with one)."""
        with self._read("read machine cycle times") as conn:
            return reads.cycle_times(conn)

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every table's full contents ordered by key, to compare before / after in tests."""
        with self._read("read a snapshot") as conn:
            return reads.snapshot(conn)

    # --- runs ---------------------------------------------------------------------------

    def start_run(
        self,
        kind: str,
        settings: Mapping[str, Any] | None = None,
        seed: int | None = None,
        inputs: Mapping[str, Any] | None = None,
        *,
        code_version: str | None = None,
    ) -> int:
        """Record a new run as 'running' (committed at once) and return its run_id.

        kind     e.g. 'profile', 'size', 'analyze'
        inputs   what went in, e.g. {'demand.csv': '<content hash>'}
        """
        with self._write("start a run") as conn:
            return runs.start_run(
                conn, kind, dict(settings or {}), seed, dict(inputs or {}), code_version
            )

    def save_output(self, run_id: int, name: str, df: pd.DataFrame) -> None:
        """Store result table `name` of a running run (its own transaction; replaces a
        previous output of the same name in that run)."""
        with self._write(f"save output {name}") as conn:
            runs.save_output(conn, run_id, name, df)

    def finish_run(
        self,
        run_id: int,
        status: str = "succeeded",
        timings: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        """Mark a running run 'succeeded', 'failed' or 'cancelled'; timings in seconds."""
        with self._write("finish a run") as conn:
            runs.finish_run(conn, run_id, status, dict(timings) if timings else None, message)

    def load_output(
        self, name: str, run_id: int | None = None, *, include_unfinished: bool = False
    ) -> pd.DataFrame:
        """Output `name` of `run_id`, or of the latest succeeded run that has it."""
        with self._read(f"load output {name}") as conn:
            return runs.load_output(conn, name, run_id, include_unfinished)

    def list_runs(self) -> list[RunRecord]:
        with self._read("list runs") as conn:
            return runs.list_runs(conn)

    # --- policies -----------------------------------------------------------------------

    def approve(
        self,
        rows: pd.DataFrame | Iterable[Mapping[str, Any]],
        by: str,
        note: str = "",
    ) -> pd.DataFrame:
        """Approve new buffer levels: one new version per item, nothing overwritten.

        rows: item_id, safety_stock, reorder_point, stance; optional order_up_to, run_id and
        a per-row note (else `note`). Returns the stored rows with their versions.
        """
        with self._write("approve policies") as conn:
            return policies.approve(conn, rows, by, note)

    def reject(
        self,
        rows: pd.DataFrame | Iterable[Mapping[str, Any]],
        by: str,
        note: str = "",
    ) -> pd.DataFrame:
        """Reject recommendations: one new version per item (decision 'rejected'), nothing
        overwritten.

        rows: item_id, safety_stock, reorder_point, stance (the levels the plant keeps: they
        stay the current policy), rejected_safety_stock, rejected_reorder_point,
        rejected_stance (the recommendation turned down); optional order_up_to, run_id (the
        analysis recommending it) and a per-row note (else `note`). A note is required: the
        reason is the point of a rejection. Returns the stored rows with their versions.
        """
        with self._write("reject recommendations") as conn:
            return policies.reject(conn, rows, by, note)

    def policy_history(self, item_id: str) -> pd.DataFrame:
        """Every version (approval or rejection) of one item, oldest first."""
        with self._read("read policy history") as conn:
            return policies.policy_history(conn, item_id)

    def current_policies(self) -> pd.DataFrame:
        """The latest version (approved or rejected) of every item: its current policy."""
        with self._read("read current policies") as conn:
            return policies.current_policies(conn)
