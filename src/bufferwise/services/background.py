"""Work run beside the main job in a child process, with an in-process fallback.

`analyze` runs the demand forecast (statsforecast: Python work for each series, one core) this
way while decide runs: decide leaves a core idle through its single-threaded steps (risk model,
diagnose, explanations), and a thread could not use it (both hold the GIL).

The child is a fresh interpreter (`python -c`, running `_serve`) that reads `work` pickled from
its stdin and writes the pickled result to its stdout: for the forecast, each item's observed
series, about 85 MB at 100,000 items x 105 weeks. Not a forked child: it would share the
analyze process's pages, and every page the parent frees or rewrites while the child lives
stays behind as the child's own (measured at 100,000 items: 1.27 GiB private in a forked child,
the demand table the parent had let go of). Not multiprocessing's spawn either: that imports
the caller's main module again in the child, which runs a script's top-level code (an analyze
called at the top of a user's script) once more. The child dies with its parent (Linux
PR_SET_PDEATHSIG). Where no process can be started, `work` cannot be pickled, or the child
fails in any way, `result()` computes in this process instead, so the result is the same
either way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")

_log = logging.getLogger(__name__)

_COMMAND = "from bufferwise.services.background import _serve; _serve()"


def _serve() -> None:
    """The child: run the pickled work from stdin, write ("ok", value, seconds) or
    ("error", traceback, 0) pickled to stdout."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    out = sys.stdout.buffer
    try:
        work = pickle.load(sys.stdin.buffer)
        started = time.perf_counter()
        value = work()
        answer: tuple[str, Any, float] = ("ok", value, time.perf_counter() - started)
    except BaseException:
        answer = ("error", traceback.format_exc(), 0.0)
    try:
        pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # the value could not be pickled: say so instead
        pickle.dump(("error", traceback.format_exc(), 0.0), out)
    out.flush()


class Background(Generic[T]):
    """`work()` started in a child process at once; `result()` waits for its value.

    result() -> (value, seconds the work took, where it ran: "child" or "here")"""

    def __init__(self, work: Callable[[], T], *, child: bool = True) -> None:
        self.work = work
        self._process: subprocess.Popen[bytes] | None = None
        self._sender: threading.Thread | None = None
        if not child:
            return
        try:
            payload = pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _log.info("background work cannot be sent to a child, runs in-process: %s", exc)
            return
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _COMMAND],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_child_environment(),
            )
        except OSError as exc:
            _log.info("background work runs in-process: %s", exc)
            return
        self._process = process
        stdin = process.stdin
        assert stdin is not None
        # sent from a thread: the pipe takes 64 KiB at a time while the child starts up
        self._sender = threading.Thread(
            target=_send, args=(stdin, payload), name="bufferwise-bg-send", daemon=True
        )
        self._sender.start()

    def result(self) -> tuple[T, float, str]:
        process = self._process
        if process is not None:
            try:
                assert process.stdout is not None
                kind, value, seconds = pickle.load(process.stdout)
                if kind == "ok":
                    return value, float(seconds), "child"
                _log.info("background work failed in the child, computed here:\n%s", value)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                _log.info("background child ended without a result (%s), computed here", exc)
            finally:
                self.close()
        started = time.perf_counter()
        value = self.work()
        return value, time.perf_counter() - started, "here"

    def close(self) -> None:
        """End the child (if still running) and release its pipes."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        if self._sender is not None:
            self._sender.join()
            self._sender = None
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        process.wait()


def _child_environment() -> dict[str, str]:
    """This environment, with the folder this bufferwise was imported from first on the
    child's path (the child runs the same code even when the caller put it on sys.path
    itself) and a mark saying what the process is."""
    import bufferwise

    root = str(Path(bufferwise.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": root + (os.pathsep + path if path else ""),
        "BUFFERWISE_BG_CHILD": "1",
    }


def _send(stream: IO[bytes], payload: bytes) -> None:
    with contextlib.suppress(OSError):  # the child is gone: result() computes here
        stream.write(payload)
        stream.close()


__all__ = ["Background"]
