"""Chunk conversion helpers (no database)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from bufferwise.errors import StorageError
from bufferwise.model import TABLES
from bufferwise.storage.convert import arrow_chunks, prefetch, sqlite_columns


def test_prefetch_yields_everything_in_order() -> None:
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))


def test_prefetch_raises_the_producer_error() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("bad chunk")

    seen = []
    with pytest.raises(ValueError, match="bad chunk"):
        for item in prefetch(broken()):
            seen.append(item)
    assert seen == [1]


def test_prefetch_stops_the_producer_when_the_consumer_leaves() -> None:
    produced = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    for item in prefetch(endless(), depth=1):
        if item == 3:
            break
    assert threading.active_count() == before
    assert len(produced) <= 6


def test_stored_forms_of_dates_times_and_empty_cells() -> None:
    frame = pd.DataFrame(
        {
            "machine_id": ["M1", "M2"],
            "start": pd.to_datetime(
                ["2024-03-01 06:00:00", "2024-03-01 07:30:00.5"], format="ISO8601"
            ),
            "end": pd.to_datetime(["2024-03-01 07:00:00", "2024-03-01 08:00:00"]),
            "state": ["down", "running"],
            "reason": ["jam", None],
            "component": [None, "spindle"],
        }
    )
    (chunk,) = arrow_chunks(frame, TABLES["machine_events"])
    columns = sqlite_columns(chunk)
    assert columns[1] == ["2024-03-01 06:00:00.000000", "2024-03-01 07:30:00.500000"]
    assert columns[4] == ["jam", None]
    assert columns[5] == ["", "spindle"]  # an empty key cell takes the column default


def test_a_column_that_cannot_be_stored_names_table_and_column() -> None:
    frame = pd.DataFrame({"item_id": ["A"], "date": ["not a date"], "quantity": [1.0]})
    with pytest.raises(
        StorageError, match="table demand, column date: cannot store values as date"
    ):
        list(arrow_chunks(frame, TABLES["demand"]))


def test_fetched_columns_get_canonical_dtypes() -> None:
    from bufferwise.storage.fetch import _typed

    def column(*values: object) -> np.ndarray:
        return np.array(values, dtype=object)

    dates = _typed(column("2024-01-02", None, "2024-01-02", "2024-02-29"), "date")
    assert str(dates.dtype) == "datetime64[ns]"
    assert dates.isna().tolist() == [False, True, False, False]
    assert dates[3] == pd.Timestamp("2024-02-29")
    stamps = _typed(column("2024-01-02 06:30:00.250000", "2024-01-02 07:00:00"), "datetime")
    assert stamps[0] == pd.Timestamp("2024-01-02 06:30:00.25")
    assert str(_typed(column(1.5, None), "float").dtype) == "float64"
    assert str(_typed(column(1, 2), "int").dtype) == "int64"
    assert _typed(column(1, None), "int").tolist() == [1, pd.NA]
    assert _typed(column("a", None), "str").tolist() == ["a", None]
