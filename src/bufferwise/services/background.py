"""Work run beside the main job in a forked child process, with an in-process fallback.

`analyze` runs the demand forecast (statsforecast: Python work for each series, one core) this
way while decide runs: decide leaves a core idle through its single-threaded steps (risk model,
diagnose, explanations), and a thread could not use it (both hold the GIL). The child is forked
(it starts at once with everything imported and the inputs in memory, no pickling of inputs),
computes, sends its result back through a pipe and ends with `os._exit` (multiprocessing's fork
start does that: no atexit handler of the parent, such as closing its database connections,
runs in it). Where fork is not available (not Linux) or the child fails in any way, `result()`
computes in this process instead, so the result is the same either way.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import sys
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_log = logging.getLogger(__name__)


def fork_available() -> bool:
    """True where a child process may be forked safely (Linux)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _child(work: Callable[[], Any], conn: Connection, other_end: Connection) -> None:
    other_end.close()
    try:
        started = time.perf_counter()
        value = work()
        conn.send(("ok", value, time.perf_counter() - started))
    except BaseException:  # reported to the parent, which computes in-process instead
        with contextlib.suppress(Exception):  # unless the parent is gone
            conn.send(("error", traceback.format_exc(), 0.0))
    finally:
        conn.close()


class Background(Generic[T]):
    """`work()` started in a forked child at once; `result()` waits for its value.

    result() -> (value, seconds the work took, where it ran: "child" or "here")"""

    def __init__(self, work: Callable[[], T], *, fork: bool = True) -> None:
        self.work = work
        self._conn: Connection | None = None
        self._process: Any = None
        if fork and fork_available():
            try:
                context = multiprocessing.get_context("fork")
                parent, child = context.Pipe(duplex=False)
                process = context.Process(
                    target=_child, args=(work, child, parent), name="bufferwise-bg", daemon=True
                )
                process.start()
                child.close()
                self._conn, self._process = parent, process
            except OSError as exc:  # no process could be started: computed in result()
                _log.info("background work runs in-process: %s", exc)

    def result(self) -> tuple[T, float, str]:
        if self._conn is not None:
            try:
                kind, value, seconds = self._conn.recv()
                if kind == "ok":
                    return value, float(seconds), "child"
                _log.info("background work failed in the child, computed here:\n%s", value)
            except (EOFError, OSError) as exc:
                _log.info("background child ended without a result (%s), computed here", exc)
            finally:
                self.close()
        started = time.perf_counter()
        value = self.work()
        return value, time.perf_counter() - started, "here"

    def close(self) -> None:
        """End the child (if still running) and release the pipe."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None
