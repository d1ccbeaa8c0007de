"""Running a stage as a recorded run: inputs (content hashes), settings, seed, code version,
timings and result tables, stored so a crash leaves earlier runs intact."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bufferwise import __version__
from bufferwise.model import TABLES
from bufferwise.storage import Repository
from bufferwise.storage.runs import CANCELLED, FAILED


@dataclass(slots=True)
class RunContext:
    """A run in progress: save result tables and stage timings into it."""

    repo: Repository
    run_id: int
    timings: dict[str, float] = field(default_factory=dict)

    def save(self, name: str, df: pd.DataFrame) -> None:
        self.repo.save_output(self.run_id, name, df)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - t0, 3)


def input_hashes(repo: Repository) -> dict[str, str]:
    """file -> content hash of every successful import: what the stored data came from."""
    out: dict[str, str] = {}
    for rec in repo.list_imports():
        if getattr(rec, "status", "") == "succeeded":
            out[f"{rec.import_id}:{rec.file}"] = rec.content_hash
    return out


@contextmanager
def recorded_run(
    repo: Repository, kind: str, settings: Mapping[str, Any], seed: int | None
) -> Iterator[RunContext]:
    """Start a run, yield it, and mark it succeeded, failed when the body raises, or cancelled
    when it is interrupted (Ctrl-C); the error still propagates. A process killed inside
    leaves the run 'running', which readers ignore."""
    run_id = repo.start_run(
        kind,
        settings=dict(settings),
        seed=seed,
        inputs=input_hashes(repo),
        code_version=__version__,
    )
    ctx = RunContext(repo=repo, run_id=run_id)
    try:
        yield ctx
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            repo.finish_run(run_id, CANCELLED, ctx.timings, message="interrupted (Ctrl-C)")
        else:
            message = f"{type(exc).__name__}: {exc}"
            repo.finish_run(run_id, FAILED, ctx.timings, message=message)
        raise
    repo.finish_run(run_id, "succeeded", ctx.timings)


def load_tables(
    repo: Repository, names: tuple[str, ...] = tuple(TABLES)
) -> dict[str, pd.DataFrame]:
    """The canonical tables as DataFrames (empty frames for tables with no rows)."""
    return repo.read_tables(names)
