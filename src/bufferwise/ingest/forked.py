"""A `FileSlices` read and checked in a forked child process, for real parallelism.

Reading and checking a slice (Arrow, NumPy, pandas) and storing the previous one (the sqlite3
module binding values, psycopg encoding COPY data) both need the GIL, so a checking *thread*
mostly takes turns with the store instead of running beside it. `ForkedSlices` runs the
whole `FileSlices` (every check, the cross-slice state, the per-item checks at the end) in a
child process and hands the parent the checked slices through a pipe (pickled DataFrames,
about 0.1 us a row), so with cores to spare checking and storing overlap for real.

The child is forked (it starts at once, with the modules already imported), so it is used only
where `fork` is safe and the default (Linux), and only when asked for: `use_process` is
opt-in (the caller's setting True, and a file read in slices); by default the file is checked
in a thread (the comment above `fork_available` says why). The child runs at most a slice or
two ahead of the parent (a pipe send blocks until the parent reads it). Everything the caller
sees is what `FileSlices` gives: the same slices in the same order, `errors_so_far`, `file`,
`content_hash`, and `batch()`; an exception in the child is raised again in the parent
(UnreadableMidway included). Leaving the iteration early asks the child to stop after the
slice it is on, as the thread path stops after the one it prefetched; `close()` ends the
child in any case.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd

from bufferwise.ingest.pipeline import FileSlices
from bufferwise.model.batch import ImportBatch

# The child is opt-in (`setting=True`): on the shared 2-core machine (2026-11-27) it was no
# faster than the thread (SQLite sometimes slower), and no machine with more cores was at hand
# to measure the gain it should bring there; a default must be chosen by measurement. See
# docs/storage.md, "Benchmark".


def fork_available() -> bool:
    """True where a child process may be forked safely (Linux)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def use_process(reading: FileSlices, setting: bool | None = None) -> bool:
    """Whether to check `reading` in a child process: only when asked (`setting` True), fork
    is available and the file is read in slices; None / False: the thread."""
    return bool(setting) and fork_available() and reading.slice_rows is not None


class ChildFailed(RuntimeError):
    """An exception in the checking process that could not be sent back as itself."""


def _sendable(exc: BaseException) -> BaseException:
    """`exc` when it survives pickling, else a ChildFailed with its traceback as text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return ChildFailed(f"checking in a child process failed:\n{text}")
    return exc


def _child(reading: FileSlices, conn: Connection, other_end: Connection) -> None:
    """The child: iterate `reading`, send each slice, then the report; stop when asked."""
    other_end.close()  # the parent's end: a copy left open here would hide the parent's exit
    try:
        for tables in reading:
            conn.send(("slice", tables, reading.errors_so_far, reading.file, reading.content_hash))
            if conn.poll():  # the parent asked to stop (the only message it sends)
                conn.recv()
                break
        batch = reading.batch()
        conn.send(("done", batch, reading.errors_so_far, reading.file, reading.content_hash))
    except BaseException as exc:  # handed to the parent, raised there
        with contextlib.suppress(OSError, ValueError):  # unless the parent is gone
            conn.send(("error", _sendable(exc)))
    finally:
        conn.close()


class ForkedSlices:
    """`FileSlices` run in a forked child process: iterate, then `batch()`, then `close()`.

    reading = ForkedSlices(FileSlices("demand.csv", table="demand"))
    try:
        for tables in reading:
            store(tables)
        batch = reading.batch()
    finally:
        reading.close()
    """

    def __init__(self, reading: FileSlices) -> None:
        self._reading = reading
        self.path: Path = reading.path
        self.mapping_name = reading.mapping_name
        self.schemas = reading.schemas
        self.slice_rows = reading.slice_rows
        self.file = reading.file
        self.content_hash = reading.content_hash
        self.errors_so_far = False
        self._conn: Connection | None = None
        self._process: Any = None
        self._result: ImportBatch | None = None
        self._ended = False  # the child sent its report or an error

    def __iter__(self) -> Iterator[dict[str, pd.DataFrame]]:
        if self._process is not None:
            raise RuntimeError("a ForkedSlices is iterated once")
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(
            target=_child, args=(self._reading, child, parent), name="bufferwise-check", daemon=True
        )
        process.start()
        child.close()
        self._conn, self._process = parent, process
        while not self._ended:
            tables = self._receive()
            if tables is not None:
                yield tables

    def _receive(self) -> dict[str, pd.DataFrame] | None:
        """One message from the child: a slice's tables, or None after the report."""
        assert self._conn is not None
        try:
            message = self._conn.recv()
        except EOFError:
            self._ended = True
            code = self._process.exitcode if self._process is not None else None
            raise ChildFailed(
                f"{self.path.name}: the checking process ended without a report (exit code {code})"
            ) from None
        kind = message[0]
        if kind == "error":
            self._ended = True
            raise message[1]
        self.errors_so_far, self.file, self.content_hash = message[2], message[3], message[4]
        if kind == "done":
            self._ended = True
            self._result = message[1]
            return None
        tables: dict[str, pd.DataFrame] = message[1]
        return tables

    def batch(self, tables: dict[str, pd.DataFrame] | None = None) -> ImportBatch:
        """The file's report, as `FileSlices.batch`; when the iteration was left early, the
        child is asked to stop and report what it has checked."""
        if self._result is None:
            if self._process is None:  # never iterated: nothing was read
                self._result = self._reading.batch()
            else:
                self._stop()
        assert self._result is not None
        if tables:
            self._result.tables = tables
        return self._result

    def _stop(self) -> None:
        assert self._conn is not None
        if not self._ended:
            with contextlib.suppress(OSError):
                self._conn.send("stop")
        while not self._ended:  # slices sent before the child saw the request are dropped
            self._receive()

    def close(self) -> None:
        """End the child process (at once, when it has not reported) and free the pipe."""
        process, self._process = self._process, None
        if process is not None:
            if not self._ended and process.is_alive():
                process.terminate()
            process.join()
            process.close()
        if self._conn is not None:
            self._conn.close()
        self._ended = True

    def __del__(self) -> None:  # a reading dropped without close(): no stray process
        try:
            if getattr(self, "_process", None) is not None:
                self.close()
        except Exception:
            pass


__all__ = [
    "ChildFailed",
    "ForkedSlices",
    "fork_available",
    "use_process",
]
