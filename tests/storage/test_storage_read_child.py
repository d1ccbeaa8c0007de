"""Whole-table reads of a SQLite file through the ADBC child process (`storage.fetch`): the same
frames as the in-process reader, one snapshot, a fallback when the child cannot read, and no
second SQLite library in the parent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from storage_samples import read_each, sample_table, stored_sample

from bufferwise.model import TABLES
from bufferwise.storage import fetch, open_repository


@pytest.fixture
def child_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every file database through the children, the largest table split in two (the
    native reader, tried first, is switched off: tests/storage/test_storage_read_native.py)."""
    monkeypatch.setattr("bufferwise.storage.reads.read_native", lambda *args: None)
    monkeypatch.setattr(fetch, "CHILD_MIN_BYTES", 0)
    monkeypatch.setattr("bufferwise.storage.reads.SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr("bufferwise.storage.reads.cores", lambda: 2)


def _stored(tmp_path: Path, **tables: pd.DataFrame) -> str:
    return stored_sample(tmp_path / "child.db", **tables)


def test_the_child_gives_the_frames_of_the_in_process_reader(
    tmp_path: Path, child_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _stored(tmp_path)
    used: list[int] = []
    real = fetch.read_sqlite_file

    def spy(path: Path, children: list[list[fetch.TableRead]]) -> object:
        used.append(len(children))
        return real(path, children)

    monkeypatch.setattr("bufferwise.storage.reads.read_sqlite_file", spy)
    with open_repository(url) as repo:
        frames = repo.read_tables(list(TABLES))
    assert used == [2]  # demand cut in two, read by two children at once
    expected = read_each(url)
    for name in TABLES:
        pdt.assert_frame_equal(frames[name], expected[name], check_exact=True)
    # equal texts are one shared object, as the in-process reader gives them
    ids = frames["demand"]["item_id"].to_numpy()
    assert len({id(v) for v in ids}) == len(set(ids))


def test_nulls_after_the_first_batch_and_empty_tables(
    tmp_path: Path, child_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a nullable column NULL all through the first batch, with values later: the driver
    # would type it INT64 from the first batch; the child reads it with a NULL flag instead
    monkeypatch.setattr(fetch, "CHILD_BATCH_ROWS", 16)
    items = sample_table("items", rows=60, seed=1)
    items["description"] = [None] * 40 + [f"d{i}" for i in range(20)]
    items["stockout_cost"] = [np.nan] * 40 + list(np.linspace(1.0, 2.0, 20))
    items["buffer_set_on"] = [pd.NaT] * 50 + list(pd.date_range("2024-01-01", periods=10))
    url = _stored(tmp_path, items=items, wip_buffers=sample_table("wip_buffers").iloc[:0])
    with open_repository(url) as repo:
        frames = repo.read_tables(list(TABLES))
    expected = read_each(url)
    assert len(frames["wip_buffers"]) == 0
    for name in TABLES:
        pdt.assert_frame_equal(frames[name], expected[name], check_exact=True)


def test_the_parent_reads_in_process_when_the_child_fails(
    tmp_path: Path, child_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _stored(tmp_path)
    broken = tmp_path / "broken_child.py"
    broken.write_text("import sys\nsys.stdin.read()\nsys.exit(1)\n")
    monkeypatch.setattr(fetch, "_CHILD", broken)
    with open_repository(url) as repo:
        frames = repo.read_tables(["demand", "items"])
    expected = read_each(url)
    pdt.assert_frame_equal(frames["demand"], expected["demand"], check_exact=True)
    pdt.assert_frame_equal(frames["items"], expected["items"], check_exact=True)


def test_children_that_saw_different_imports_are_not_trusted(
    tmp_path: Path, child_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _stored(tmp_path)
    answers = iter([(1, 1), (2, 2)])
    real = fetch._child
    monkeypatch.setattr(
        fetch, "_child", lambda *args: None if real(*args) is None else next(answers)
    )
    path = Path(url.removeprefix("sqlite:///"))
    reads = [[fetch.TableRead("machines", TABLES["machines"], (False,) * 6, ("machine_id",))]]
    assert fetch.read_sqlite_file(path, reads + reads) is None


def test_the_parent_never_loads_the_drivers_sqlite_library() -> None:
    # the ADBC driver brings its own SQLite; only the child process may load it
    probe = (
        "import sys, bufferwise.storage, bufferwise.services.analyze; "
        "print(sorted(m for m in sys.modules if m.startswith('adbc')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []
