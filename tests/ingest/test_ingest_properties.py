"""Invariants of the import, checked on generated files (hypothesis)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bufferwise.ingest import read_canonical, read_with_mapping

CELLS = st.sampled_from(["0", "1", "2.5", "7", "-1", "x", "", "1e13", "nan"])
DATES = st.sampled_from(["2023-01-01", "2023-01-02", "2023-02-01", "2023-13-01", ""])
ITEMS = st.sampled_from(["A", "B", "C", ""])
ROW = st.tuples(ITEMS, DATES, CELLS)


def _write(
    rows: list[tuple[str, str, str]],
    folder: Path,
    *,
    delimiter: str = ",",
    newline: str = "\n",
    bom: bool = False,
) -> Path:
    text = (
        newline.join(
            ["item_id,date,quantity".replace(",", delimiter), *(delimiter.join(r) for r in rows)]
        )
        + newline
    )
    path = folder / "demand.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def _accepted(
    rows: list[tuple[str, str, str]], **kw: object
) -> tuple[set[tuple[str, str, float]], int, int]:
    with tempfile.TemporaryDirectory() as folder:
        batch = read_canonical(_write(rows, Path(folder), **kw), "demand")  # type: ignore[arg-type]
    demand = batch.tables["demand"]
    got = {
        (i, str(d.date()), q)
        for i, d, q in zip(demand["item_id"], demand["date"], demand["quantity"], strict=True)
    }
    report = batch.files[0]
    assert report.rows_read == len(rows) == report.rows_accepted + report.rows_rejected
    return got, report.rows_accepted, report.rows_rejected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=1, max_size=25, unique_by=lambda r: (r[0], r[1])), seed=st.randoms()
)
def test_row_order_does_not_change_the_accepted_set(rows: list[tuple[str, str, str]], seed) -> None:  # type: ignore[no-untyped-def]
    # keys are unique here, so no row's fate depends on which duplicate comes first
    shuffled = list(rows)
    seed.shuffle(shuffled)
    assert _accepted(rows) == _accepted(shuffled)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=1, max_size=25),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
)
def test_layout_of_the_file_does_not_change_the_result(
    rows: list[tuple[str, str, str]], delimiter: str, newline: str, bom: bool
) -> None:
    assert _accepted(rows, delimiter=delimiter, newline=newline, bom=bom) == _accepted(rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=25))
def test_accepted_rows_are_exactly_the_valid_ones(rows: list[tuple[str, str, str]]) -> None:
    # the rule, restated by hand: id present, a real date, a finite number 0 <= q <= 1e12,
    # and the first occurrence of its (item, date) among otherwise valid rows
    seen: set[tuple[str, str]] = set()
    expected = set()
    for item, date, q in rows:
        try:
            day = pd.Timestamp(date) if date else None
            number = float(q) if q else None
        except ValueError:
            continue
        if not item or day is None or number is None or not (0 <= number <= 1e12):
            continue
        if (item, date) in seen:
            continue
        seen.add((item, date))
        expected.add((item, date, number))
    got, accepted, rejected = _accepted(rows)
    assert got == expected
    assert accepted == len(expected) and rejected == len(rows) - len(expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(
        st.lists(st.sampled_from(["", "0", "1", "3", "12"]), min_size=3, max_size=3),
        min_size=1,
        max_size=6,
    )
)
def test_wide_and_long_layouts_give_the_same_demand(cells: list[list[str]]) -> None:
    months = ["2023-01", "2023-02", "2023-03"]
    items = [f"P{i}" for i in range(len(cells))]
    wide = (
        "item,"
        + ",".join(months)
        + "\n"
        + "".join(f"{item}," + ",".join(row) + "\n" for item, row in zip(items, cells, strict=True))
    )
    long = "item,month,qty\n" + "".join(
        f"{item},{m},{q}\n"
        for item, row in zip(items, cells, strict=True)
        for m, q in zip(months, row, strict=True)
    )
    date = 'date = { column = "month", formats = ["%Y-%m"] }'
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "wide.csv").write_text(wide)
        (root / "long.csv").write_text(long)
        (root / "wide.toml").write_text(
            '[[tables]]\ntable = "demand"\nmelt = { id_columns = ["item"], header_to = "month" }\n'
            f'[tables.columns]\nitem_id = "item"\n{date}\nquantity = "value"\n'
        )
        (root / "long.toml").write_text(
            '[[filters]]\ncolumn = "qty"\nempty = true\nreason = "not recorded"\n'
            '[[tables]]\ntable = "demand"\n[tables.columns]\nitem_id = "item"\n'
            f'{date}\nquantity = "qty"\n'
        )
        a = read_with_mapping(root / "wide.csv", root / "wide.toml").tables["demand"]
        b = read_with_mapping(root / "long.csv", root / "long.toml").tables["demand"]
    pd.testing.assert_frame_equal(a, b)


def _python_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.text(alphabet="0123456789.eE+-", max_size=8), min_size=1, max_size=20))
def test_numbers_parse_like_python_float(cells: list[str]) -> None:
    # the reference is Python's float() on the same (already stripped) text
    from bufferwise.ingest.parse import parse_numbers

    parsed = parse_numbers(pa.array(cells, pa.string()))
    for i, cell in enumerate(cells):
        expected = _python_number(cell) if cell else None
        if cell == "":
            assert parsed.empty[i]
        elif expected is None:
            assert parsed.bad[i], cell
        else:
            assert not parsed.bad[i], cell
            assert parsed.values[i] == expected or (math.isinf(expected) and parsed.non_finite[i])
