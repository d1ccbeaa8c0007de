"""Checking in a forked child process (`import_files(..., in_process=True)`, what big files
get on Linux) stores, reports and refuses exactly what checking in a thread does, and leaves
no process behind, whichever side fails."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from test_storage_slices import _same_summary, demand_csv

from bufferwise.errors import ImportRejected, StorageError
from bufferwise.ingest import forked
from bufferwise.ingest.pipeline import FileSlices
from bufferwise.services.imports import import_files
from bufferwise.storage import Repository, open_repository
from bufferwise.storage import bulk as bulk_module

pytestmark = pytest.mark.skipif(not forked.fork_available(), reason="needs fork (Linux)")


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with open_repository(db_url) as repository:
        yield repository


def _no_children() -> None:
    assert multiprocessing.active_children() == []


def test_a_child_process_stores_and_reports_what_a_thread_does(
    repo: Repository, db_url: str, tmp_path: Path
) -> None:
    reference = f"sqlite:///{tmp_path / 'thread.db'}"
    items = tmp_path / "items.csv"
    items.write_text(
        "item_id,unit_cost,nominal_lead_time_days\n"
        + "".join(f"P{i:03d},2,5\n" for i in range(7))
        + "P007,x,5\n",
        encoding="utf-8",
    )
    demand = demand_csv(tmp_path / "demand.csv", items=9, days=70, bad={100: "P001,2024-03-02,x,"})
    paths = [items, demand]
    forked_run = import_files(db_url, paths, mode="skip", slice_rows=37, in_process=True)
    threaded = import_files(reference, paths, mode="skip", slice_rows=37, in_process=False)
    _same_summary(forked_run, threaded)
    assert any(p.code == "unknown_id" for p in forked_run.batch.problems)  # P007, P008
    with open_repository(reference) as other:
        for name in ("items", "demand"):
            pdt.assert_frame_equal(repo.read_table(name), other.read_table(name), obj=name)
    again = import_files(db_url, paths, mode="skip", slice_rows=37, in_process=True)
    assert again.result.skipped and again.result.inserted == 0
    _no_children()


def test_a_key_repeated_in_a_late_slice_rejects_the_import_in_a_child(
    repo: Repository, db_url: str, tmp_path: Path
) -> None:
    before = repo.snapshot()
    path = demand_csv(tmp_path / "demand.csv", items=6, days=50)
    lines = path.read_text().splitlines()
    lines.append(lines[3])  # data row 3 again, as the last row (row 301)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_files(db_url, [path], table="demand", slice_rows=25, in_process=True)
    assert "row 301" in str(caught.value) and "of row 3 " in str(caught.value)
    for name, frame in repo.snapshot().items():
        pdt.assert_frame_equal(frame, before[name], obj=name)
    _no_children()


def test_a_failure_while_checking_in_the_child_is_raised_and_nothing_is_written(
    repo: Repository, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FileSlices._check
    calls: list[int] = []

    def breaking(self: FileSlices, *args: object, **kwargs: object) -> dict[str, pd.DataFrame]:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("checking broke (test)")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FileSlices, "_check", breaking)
    before = repo.snapshot()
    path = demand_csv(tmp_path / "demand.csv", items=5, days=40)
    with pytest.raises(RuntimeError, match="checking broke"):
        import_files(db_url, [path], table="demand", slice_rows=30, in_process=True)
    for name, frame in repo.snapshot().items():
        pdt.assert_frame_equal(frame, before[name], obj=name)
    _no_children()


def test_a_failure_while_storing_ends_the_child_and_nothing_is_written(
    repo: Repository, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_add = bulk_module.TableLoader.add
    calls: list[int] = []

    def failing_add(loader: bulk_module.TableLoader, df: pd.DataFrame) -> None:
        calls.append(len(df))
        if len(calls) == 2:
            raise StorageError("the disk is full (test)")
        real_add(loader, df)

    monkeypatch.setattr(bulk_module.TableLoader, "add", failing_add)
    before = repo.snapshot()
    path = demand_csv(tmp_path / "demand.csv", items=8, days=60)
    with pytest.raises(StorageError, match="disk is full"):
        import_files(db_url, [path], table="demand", slice_rows=20, in_process=True)
    for name, frame in repo.snapshot().items():
        pdt.assert_frame_equal(frame, before[name], obj=name)
    _no_children()


def test_the_thread_is_the_default_and_the_child_is_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = demand_csv(tmp_path / "demand.csv", items=3, days=10)
    reading = FileSlices(path, table="demand", slice_rows=10)
    assert not forked.use_process(reading)  # the default: a thread
    assert not forked.use_process(FileSlices(path, table="demand", slice_rows=None), True)
    assert forked.use_process(reading, True)
    assert not forked.use_process(reading, False)
    started: list[int] = []
    real_iter = forked.ForkedSlices.__iter__

    def spying(self: forked.ForkedSlices) -> Iterator[dict[str, pd.DataFrame]]:
        started.append(1)
        return real_iter(self)

    monkeypatch.setattr(forked.ForkedSlices, "__iter__", spying)
    summary = import_files(f"sqlite:///{tmp_path / 'b.db'}", [path], slice_rows=10)
    assert started == [] and summary.result.inserted == 30  # the default: a thread
    summary = import_files(f"sqlite:///{tmp_path / 'c.db'}", [path], slice_rows=10, in_process=True)
    assert started == [1] and summary.result.inserted == 30  # asked for: the child
    _no_children()
