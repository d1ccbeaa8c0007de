"""Whole-table reads of a SQLite file in compiled code through the sqlite3 module's own SQLite
library (`storage.sqlite_native`): the same frames as the in-process reader in every case the
kernel handles (runs of equal texts across segment and buffer boundaries, NULLs, long texts,
dates and times in every stored form), one snapshot, and a refusal (None, the caller reads
another way) for anything it does not understand."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from storage_samples import read_each, sample_table, stored_sample

from bufferwise.model import TABLES
from bufferwise.storage import fetch, open_repository, reads, sqlite_native

pytestmark = pytest.mark.skipif(
    not sqlite_native.available(),
    reason="the sqlite3 module's SQLite library is not a shared library this reader can find "
    "(Linux /proc/self/maps); analyze then reads through the child processes",
)


@pytest.fixture
def native_always(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Read every file database natively, the largest table split in two; returns the list
    the spy appends the number of threads of each native read to."""
    monkeypatch.setattr(fetch, "CHILD_MIN_BYTES", 0)
    monkeypatch.setattr(reads, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(reads, "cores", lambda: 2)
    used: list[int] = []
    real = sqlite_native.read_native

    def spy(path: Path, threads: list[list[fetch.TableRead]], state: str) -> object:
        out = real(path, threads, state)
        used.append(len(threads) if out is not None else -1)
        return out

    monkeypatch.setattr(reads, "read_native", spy)
    return used


def _stored(tmp_path: Path, **tables: pd.DataFrame) -> str:
    return stored_sample(tmp_path / "native.db", **tables)


def _read_all(url: str) -> dict[str, pd.DataFrame]:
    with open_repository(url) as repo:
        return repo.read_tables(list(TABLES))


def test_native_frames_equal_the_in_process_reader(
    tmp_path: Path, native_always: list[int]
) -> None:
    url = _stored(tmp_path)
    frames = _read_all(url)
    assert native_always == [2]  # demand cut in two, read by two threads at once
    expected = read_each(url)
    for name in TABLES:
        pdt.assert_frame_equal(frames[name], expected[name], check_exact=True)
    ids = frames["demand"]["item_id"].to_numpy()
    assert len({id(v) for v in ids}) == len(set(ids))  # one shared object per distinct text


def test_runs_across_segments_and_full_text_buffers(
    tmp_path: Path, native_always: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # tiny segments and text buffers: every kernel call ends early, many rows are taken again
    # after a full buffer (`pending`), and runs of one text continue across calls; texts
    # longer than the comparison buffer always start a new run; both halves share texts
    monkeypatch.setattr(sqlite_native, "SEGMENT_ROWS", 7)
    monkeypatch.setattr(sqlite_native, "TEXT_BYTES", 64)
    monkeypatch.setattr(sqlite_native, "PREVIOUS_BYTES", 8)
    items = sample_table("items", rows=60, seed=1)
    items["description"] = [("long text " * (i % 5)) or None for i in range(60)]
    items["supplier_id"] = [f"S{i % 4}" if i % 7 else None for i in range(60)]
    url = _stored(tmp_path, items=items)
    frames = _read_all(url)
    assert native_always == [2]
    expected = read_each(url)
    for name in TABLES:
        pdt.assert_frame_equal(frames[name], expected[name], check_exact=True)


def test_nulls_and_empty_tables(tmp_path: Path, native_always: list[int]) -> None:
    items = sample_table("items", rows=60, seed=1)
    items["description"] = [None] * 40 + [f"d{i}" for i in range(20)]
    items["stockout_cost"] = [np.nan] * 40 + list(np.linspace(1.0, 2.0, 20))
    items["buffer_set_on"] = [pd.NaT] * 50 + list(pd.date_range("2024-01-01", periods=10))
    url = _stored(tmp_path, items=items, wip_buffers=sample_table("wip_buffers").iloc[:0])
    frames = _read_all(url)
    assert native_always == [2]
    expected = read_each(url)
    assert len(frames["wip_buffers"]) == 0
    for name in TABLES:
        pdt.assert_frame_equal(frames[name], expected[name], check_exact=True)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2024-02-29", "2024-02-29"),
        ("1969-12-31 23:59", "1969-12-31 23:59:00"),
        ("2024-03-01T06:07:08", "2024-03-01 06:07:08"),
        ("2024-03-01 06:07:08.5", "2024-03-01 06:07:08.500"),
        ("2024-03-01 06:07:08.123456789", "2024-03-01 06:07:08.123456789"),
        ("1900-03-01 00:00:00.000001", "1900-03-01 00:00:00.000001"),
    ],
)
def test_stored_time_forms(stored: str, expected: str) -> None:
    # SQLAlchemy writes 'YYYY-MM-DD' and 'YYYY-MM-DD HH:MM:SS.ffffff'; the kernel also takes
    # what other writers (the sqlite3 shell, pandas) leave: 'T', no seconds, 1-9 fraction digits
    text = np.frombuffer(stored.encode(), dtype=np.uint8)
    ns = sqlite_native._parse_time(text, len(text))
    assert ns == pd.Timestamp(expected).value


@pytest.mark.parametrize(
    "stored", ["2024-1-01", "2024-13-01", "2024-01-01Z", "2024-01-01 25:00", "24-01-01", "x"]
)
def test_unknown_time_forms_are_refused(stored: str) -> None:
    text = np.frombuffer(stored.encode(), dtype=np.uint8)
    assert sqlite_native._parse_time(text, len(text)) == sqlite_native.NAT + 1


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE demand SET quantity = 'lots' WHERE item_id = 'I01'",
        "UPDATE demand SET date = replace(date, '-', '/') WHERE item_id = 'I03'",
        "UPDATE demand SET item_id = x'00ff' WHERE item_id = 'I05' AND date = '2024-01-01'",
    ],
)
def test_values_it_does_not_understand_make_it_step_aside(tmp_path: Path, damage: str) -> None:
    url = _stored(tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:  # damage the file behind the tool's back
        assert conn.execute(damage).rowcount > 0
    plan = [[reads._table_read("demand")]]
    assert sqlite_native.read_native(path, plan, fetch.STATE_SQL) is None


def test_threads_that_saw_different_imports_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _stored(tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    answers = iter([(1, 1), (2, 2)])
    monkeypatch.setattr(sqlite_native, "_state", lambda *args: next(answers))
    plan = [[reads._table_read("machines")], [reads._table_read("wip_buffers")]]
    assert sqlite_native.read_native(path, plan, fetch.STATE_SQL) is None


def test_it_binds_the_library_the_sqlite3_module_uses() -> None:
    # one SQLite library in the process: its locks are the sqlite3 module's locks
    probe = (
        "import sqlite3, bufferwise.storage.sqlite_native as n\n"
        "assert n.available()\n"
        "libs = {line.split()[-1] for line in open('/proc/self/maps') if 'libsqlite3' in line}\n"
        "print(len(libs), n._LIB.path in libs, n._LIB.version == sqlite3.sqlite_version)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "True", "True"]
