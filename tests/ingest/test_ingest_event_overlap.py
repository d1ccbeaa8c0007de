"""State records of one machine must not overlap: the `overlapping_state` row error.

A machine_events record of positive length whose [start, end) overlaps a record of positive
length of the same machine that came earlier in the file and was accepted is rejected, naming
that earlier row. Instantaneous records (start == end) and touching records overlap nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from bufferwise.errors import ImportRejected
from bufferwise.ingest import enforce_policy, read_canonical, read_with_mapping
from bufferwise.ingest.checks import StateOverlaps
from bufferwise.model import ImportBatch
from ingest.helpers import one, problems_with, write
from ingest.test_ingest_slices import assert_same

HEADER = "machine_id,start,end,state,reason,component\n"
T0 = pd.Timestamp("2024-01-01")


def at(minutes: int) -> str:
    return str(T0 + pd.Timedelta(minutes=minutes))[:16]


def line(machine: str, start: int, end: int, state: str = "running") -> str:
    return f"{machine},{at(start)},{at(end)},{state},,\n"


def read(tmp_path: Path, *lines: str, **kw: object) -> ImportBatch:
    path = write(tmp_path, "events.csv", HEADER + "".join(lines))
    return read_canonical(path, "machine_events", **kw)  # type: ignore[arg-type]


def overlaps(batch: ImportBatch) -> list[tuple[int | None, str | None]]:
    """(row, "row N") of each overlapping_state error."""
    out: list[tuple[int | None, str | None]] = []
    for p in problems_with(batch, "overlapping_state"):
        named = p.expected.split(" (")[0].removeprefix("overlaps ")
        out.append((p.row, named))
    return out


def counts(batch: ImportBatch) -> tuple[int, int, int]:
    f = batch.files[0]
    return (f.rows_read, f.rows_accepted, f.rows_rejected)


def test_a_record_nested_in_another_is_rejected(tmp_path: Path) -> None:
    # a running shift 0-480 min with a 100-min down record inside it: counted twice, A and P
    # would be wrong without a word; now the down record is an error naming the shift
    batch = read(tmp_path, line("M1", 0, 480), line("M1", 120, 220, "down"))
    p = one(batch, "overlapping_state")
    assert (p.file, p.row, p.column, p.value, p.severity) == (
        "events.csv",
        2,
        "start",
        "2024-01-01 02:00:00",
        "error",
    )
    assert p.expected == (
        "overlaps row 1 (2024-01-01 to 2024-01-01 08:00:00) of the same machine; state "
        "records of one machine must not overlap (overlapping time would be counted twice)"
    )
    assert counts(batch) == (2, 1, 1)
    assert batch.tables["machine_events"]["state"].tolist() == ["running"]


def test_a_partial_overlap_is_rejected(tmp_path: Path) -> None:
    batch = read(
        tmp_path,
        line("M1", 0, 60),
        line("M1", 60, 120),
        line("M1", 100, 200, "down"),  # starts inside row 2, ends after it
        line("M1", 200, 300),
    )
    assert overlaps(batch) == [(3, "row 2")]
    assert counts(batch) == (4, 3, 1)


def test_a_record_starting_before_and_ending_inside_is_rejected(tmp_path: Path) -> None:
    batch = read(tmp_path, line("M1", 100, 200), line("M1", 50, 150, "down"))
    assert overlaps(batch) == [(2, "row 1")]


def test_touching_records_are_accepted(tmp_path: Path) -> None:
    batch = read(
        tmp_path,
        line("M1", 0, 60),
        line("M1", 60, 120, "down"),
        line("M1", 120, 480),
        line("M1", -60, 0, "idle"),  # touches the first one from before
    )
    assert batch.problems == []
    assert counts(batch) == (4, 4, 0)


def test_instantaneous_records_overlap_nothing(tmp_path: Path) -> None:
    batch = read(
        tmp_path,
        line("M1", 0, 480),
        line("M1", 100, 100, "down"),  # a failure with unknown repair time, inside a shift
        line("M1", 100, 100, "planned_stop"),  # another one at the same instant
        line("M1", 0, 0, "down"),  # at the shift's start
    )
    assert batch.problems == []
    assert counts(batch) == (4, 4, 0)


def test_two_machines_interleaved_are_accepted(tmp_path: Path) -> None:
    lines = []
    for k in range(6):
        lines += [line("M1", 60 * k, 60 * (k + 1)), line("M2", 60 * k + 30, 60 * (k + 1) + 30)]
    batch = read(tmp_path, *lines)
    assert batch.problems == []
    assert counts(batch) == (12, 12, 0)


def test_an_unsorted_file_is_checked_in_file_order(tmp_path: Path) -> None:
    batch = read(
        tmp_path,
        line("M1", 300, 400),  # 1
        line("M2", 0, 1000),  # 2: another machine, overlaps nothing of M1
        line("M1", 0, 100),  # 3
        line("M1", 350, 360, "down"),  # 4: inside row 1
        line("M1", 90, 310, "down"),  # 5: overlaps rows 3 and 1: the first in file order named
        line("M1", 100, 300, "idle"),  # 6: fills the gap exactly: touches 3 and 1
        line("M1", 50, 60, "down"),  # 7: inside row 3, which came later in time order
        line("M2", 999, 1001, "down"),  # 8: overlaps row 2 by one minute
    )
    assert overlaps(batch) == [(4, "row 1"), (5, "row 1"), (7, "row 3"), (8, "row 2")]
    assert counts(batch) == (8, 4, 4)


def test_a_rejected_row_is_no_earlier_record(tmp_path: Path) -> None:
    batch = read(
        tmp_path,
        "M1,2024-01-01 00:00,2024-13-01 08:00,running,,\n",  # bad end date: rejected
        line("M1", 120, 220, "down"),  # would overlap row 1, which was not accepted
        line("M1", 200, 300),  # overlaps row 2, which is accepted
        line("M1", 150, 160, "idle"),  # overlaps row 2 (row 3 was rejected)
    )
    assert one(batch, "bad_datetime").row == 1
    assert overlaps(batch) == [(3, "row 2"), (4, "row 2")]
    assert counts(batch) == (4, 1, 3)


def test_a_row_of_an_unknown_machine_or_a_duplicate_is_no_earlier_record(tmp_path: Path) -> None:
    batch = read(
        tmp_path,
        line("M9", 0, 480),  # unknown machine
        line("M9", 100, 200, "down"),  # unknown too: one error only (unknown_id)
        line("M1", 0, 100),
        line("M1", 0, 100),  # the same key again: duplicate_key, not an overlap
        line("M1", 50, 150, "down"),  # overlaps row 3
        known_ids={"machines": {"M1"}},
    )
    assert [p.row for p in problems_with(batch, "unknown_id")] == [1, 2]
    assert one(batch, "duplicate_key").row == 4
    assert overlaps(batch) == [(5, "row 3")]
    assert counts(batch) == (5, 1, 4)


def test_the_source_column_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "log.csv",
        "asset,from,to,status\nA,2024-01-01 08:00,2024-01-01 16:00,2\n"
        "A,2024-01-01 09:30:15,2024-01-01 10:00,3\n",
    )
    mapping = tmp_path / "log.toml"
    mapping.write_text(
        '[[tables]]\ntable = "machine_events"\n[tables.columns]\nmachine_id = "asset"\n'
        'start = "from"\nend = "to"\n'
        'state = { column = "status", map = { "2" = "running", "3" = "down" } }\n'
    )
    p = one(read_with_mapping(path, mapping), "overlapping_state")
    assert (p.row, p.column, p.value) == (2, "from", "2024-01-01 09:30:15")
    assert "overlaps row 1 (2024-01-01 08:00:00 to 2024-01-01 16:00:00)" in p.expected


def test_default_mode_refuses_and_skip_mode_drops_and_counts(tmp_path: Path) -> None:
    batch = read(
        tmp_path, line("M1", 0, 480), line("M1", 120, 220, "down"), line("M1", 480, 600, "idle")
    )
    with pytest.raises(
        ImportRejected, match=r"events\.csv, row 2, column start: .* overlaps row 1"
    ):
        enforce_policy(batch, "default")
    with pytest.raises(ImportRejected):
        enforce_policy(batch, "strict")
    assert enforce_policy(batch, "skip") is batch
    assert counts(batch) == (3, 2, 1)
    kept = batch.tables["machine_events"]
    assert kept["state"].tolist() == ["running", "idle"]
    assert len(batch.errors) == 1


def test_several_tables_of_one_mapping_reject_the_source_row(tmp_path: Path) -> None:
    # machines and events from one log: an overlapping record rejects its source row in every
    # table; the machine stays (another row names it)
    path = write(
        tmp_path,
        "log.csv",
        "asset,from,to,status\nA,2024-01-01 08:00,2024-01-01 16:00,running\n"
        "A,2024-01-01 09:00,2024-01-01 10:00,down\nB,2024-01-01 09:00,2024-01-01 10:00,down\n",
    )
    mapping = tmp_path / "log.toml"
    mapping.write_text(
        '[[tables]]\ntable = "machines"\ndistinct = true\n[tables.columns]\nmachine_id = "asset"\n'
        '[[tables]]\ntable = "machine_events"\n[tables.columns]\nmachine_id = "asset"\n'
        'start = "from"\nend = "to"\nstate = "status"\n'
    )
    batch = read_with_mapping(path, mapping)
    assert overlaps(batch) == [(2, "row 1")]
    assert counts(batch) == (3, 2, 1)
    assert batch.tables["machines"]["machine_id"].tolist() == ["A", "B"]
    assert batch.tables["machine_events"]["state"].tolist() == ["running", "down"]


# --------------------------------------------------------------------------------- slices


def messy_lines() -> list[str]:
    """Two machines, interleaved and partly unsorted, with nested, partial, touching and
    instantaneous records and a bad date before an overlap."""
    return [
        line("M1", 0, 480),  # 1
        line("M2", 0, 60),  # 2
        line("M1", 120, 220, "down"),  # 3 nested in 1
        line("M2", 60, 120, "down"),  # 4 touches 2
        line("M1", 480, 540, "idle"),  # 5 touches 1
        line("M1", 500, 500, "down"),  # 6 instantaneous inside 5
        "M2,2024-01-01 02:00,2024-01-01 xx:00,running,,\n",  # 7 bad date
        line("M2", 150, 200, "down"),  # 8 would be inside 7: accepted
        line("M1", 530, 600),  # 9 partial overlap with 5
        line("M2", 100, 130, "idle"),  # 10 partial overlap with 4 (earlier slice for most)
        line("M1", -100, 10, "idle"),  # 11 before everything, overlaps 1
        line("M1", 600, 700, "idle"),  # 12 touches 9? no: 9 was rejected; after 5: accepted
        line("M2", 120, 150, "setup"),  # 13 fills the gap between 4 and 8 exactly
        line("M1", 590, 610, "down"),  # 14 overlaps 12 only (9 was rejected)
        line("M2", 0, 0, "down"),  # 15 instantaneous
    ]


@pytest.mark.parametrize("slice_rows", [1, 2, 3, 7])
def test_sliced_read_equals_whole_read(tmp_path: Path, slice_rows: int) -> None:
    path = write(tmp_path, "events.csv", HEADER + "".join(messy_lines()))
    whole = read_canonical(path, "machine_events")
    assert overlaps(whole) == [
        (3, "row 1"),
        (9, "row 5"),
        (10, "row 4"),
        (11, "row 1"),
        (14, "row 12"),
    ]
    assert one(whole, "bad_datetime").row == 7
    assert counts(whole) == (15, 9, 6)
    assert_same(read_canonical(path, "machine_events", slice_rows=slice_rows), whole)


# ---------------------------------------------------------------- against a plain reference


def reference(
    machines: list[str], starts: list[int], ends: list[int], bad: list[bool]
) -> list[tuple[int, str]]:
    """The rule read literally: in file order, a row (not rejected for another reason) of
    positive length is rejected when it overlaps an accepted earlier row of positive length of
    the same machine; the first such row in file order is named."""
    kept: list[tuple[str, int, int, int]] = []
    out = []
    for i, (m, s, e, b) in enumerate(zip(machines, starts, ends, bad, strict=True)):
        if b:
            continue
        if e > s:
            hits = [row for km, ks, ke, row in kept if km == m and ks < e and s < ke]
            if hits:
                out.append((i + 1, f"row {min(hits)}"))
                continue
            kept.append((m, s, e, i + 1))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_logs_follow_the_rule_whole_and_in_slices(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 120
    machines = [f"M{k}" for k in rng.integers(0, 3, n)]
    if seed % 2:  # half the logs sorted by machine and start, as exports often are
        starts = np.sort(rng.integers(0, 2000, n))
        machines = sorted(machines)
    else:
        starts = rng.integers(0, 2000, n)
    # no key (machine, start) twice: a repeated key is a duplicate_key error, not this rule
    once = ~pd.DataFrame({"m": machines, "s": starts}).duplicated().to_numpy()
    machines = [m for m, k in zip(machines, once, strict=True) if k]
    starts = starts[once]
    n = len(starts)
    lengths = rng.choice([0, 5, 10, 30, 60, 300], n, p=[0.15, 0.25, 0.2, 0.2, 0.15, 0.05])
    ends = starts + lengths
    bad = (rng.random(n) < 0.05).tolist()
    lines = [
        f"{m},{at(int(s))},{'2024-99-01 00:00' if b else at(int(e))},running,,\n"
        for m, s, e, b in zip(machines, starts, ends, bad, strict=True)
    ]
    path = write(tmp_path, "events.csv", HEADER + "".join(lines))
    whole = read_canonical(path, "machine_events")
    expected = reference(machines, starts.tolist(), ends.tolist(), bad)
    assert len(expected) > 5  # the logs hold overlaps
    assert overlaps(whole) == expected
    for slice_rows in (1, 2, 3, 7, 50):
        assert_same(read_canonical(path, "machine_events", slice_rows=slice_rows), whole)


def test_a_clean_sorted_log_is_checked_without_a_row_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200,000 records of 50 machines, sorted by machine and start, back to back: no record
    # overlaps another, so no record is decided one by one (bisect is the per-row path)
    import bufferwise.ingest.checks as checks

    def no_loop(*args: object) -> int:
        raise AssertionError("a clean log took the one-by-one path")

    monkeypatch.setattr(checks.bisect, "bisect_right", no_loop)
    per = 4000
    codes = np.repeat(np.arange(50, dtype=np.int32), per)
    starts = np.tile(np.arange(per, dtype=np.int64) * 60, 50) * 10**9
    ends = starts + 60 * 10**9
    rows = np.arange(1, len(codes) + 1, dtype=np.int64)
    overlaps_ = StateOverlaps()
    overlaps_.machine_codes(pa.array([f"M{k}" for k in range(50)]))
    half = len(codes) // 2
    assert overlaps_.check(codes[:half], starts[:half], ends[:half], rows[:half]) == []
    overlaps_.add(codes[:half], starts[:half], ends[:half], rows[:half])
    assert overlaps_.check(codes[half:], starts[half:], ends[half:], rows[half:]) == []
    # one nested record at the end is found, against the kept records of the first half
    found = overlaps_.check(codes[:1], starts[:1] + 10**9, ends[:1] - 10**9, rows[-1:] + 1)
    assert [(o.position, o.row) for o in found] == [(0, 1)]
