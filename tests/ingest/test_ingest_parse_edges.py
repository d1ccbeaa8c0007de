"""Edges of the text parsers and of the mapping checks that guard them: calendar days that must
not move, period numbers far out, thousands separators in the wrong place, summer-time gaps, and
mapping mistakes that must be a MappingError naming the key (never a raw exception later)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from bufferwise.errors import MappingError
from bufferwise.ingest import parse_mapping_text, read_with_mapping
from bufferwise.ingest.mapping import Ordinal
from bufferwise.ingest.parse import parse_numbers, parse_times
from ingest.helpers import one, write


def run(tmp_path: Path, csv_text: str, toml: str):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "export.csv", csv_text)
    mapping = tmp_path / "export.toml"
    mapping.write_text(toml)
    return read_with_mapping(path, mapping)


def demand_toml(date: str, *, extra: str = "") -> str:
    return (
        f'{extra}[[tables]]\ntable = "demand"\n[tables.columns]\nitem_id = "item"\n'
        f'date = {date}\nquantity = "q"\n'
    )


# ------------------------------------------------- 1: a date column keeps the day as written


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01 00:30:00+02:00",  # UTC would be 2023-12-31 22:30
        "2024-01-01 23:30:00-05:00",  # UTC would be 2024-01-02 04:30
    ],
)
def test_a_date_with_an_offset_keeps_its_calendar_day(tmp_path: Path, text: str) -> None:
    batch = run(
        tmp_path,
        f"item,od,q\nA,{text},1\n",
        demand_toml('{ column = "od", formats = ["%Y-%m-%d %H:%M:%S%z"] }'),
    )
    assert batch.problems == []
    assert batch.tables["demand"]["date"].tolist() == [pd.Timestamp("2024-01-01")]


def test_a_date_in_iso_with_mixed_offsets_keeps_its_calendar_day() -> None:
    parsed = parse_times(
        pa.array(["2024-01-01T00:30+02:00", "2024-01-01T23:30-05:00", "2024-01-01", ""]),
        day_only=True,
    )
    assert parsed.values[:3].tolist() == [pd.Timestamp("2024-01-01").value] * 3
    assert parsed.bad.tolist() == [False, False, False, False]


def test_timezone_on_a_date_column_is_a_mapping_error() -> None:
    toml = demand_toml('{ column = "od", formats = ["%Y-%m-%d"], timezone = "Europe/Rome" }')
    with pytest.raises(MappingError) as err:
        parse_mapping_text(toml, origin="m.toml")
    assert "key tables[0].columns.date.timezone: only applies to datetime columns" in str(err.value)
    (problem,) = err.value.problems
    assert (problem.file, problem.column, problem.code) == (
        "m.toml",
        "tables[0].columns.date.timezone",
        "bad_mapping",
    )


# ----------------------------------------------------- 2: period numbers far out are row errors

ORDINAL = '{ column = "p", ordinal = { start = "2000-01-01", freq = "MS" } }'


def test_a_period_past_the_last_storable_date_is_a_row_error(tmp_path: Path) -> None:
    batch = run(
        tmp_path, "item,p,q\nA,period_1,1\nA,period_99999,2\nA,period_13,3\n", demand_toml(ORDINAL)
    )
    problem = one(batch, "bad_date")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "export.csv",
        2,
        "p",
        "period_99999",
    )
    assert "numbered period label" in problem.expected
    assert batch.tables["demand"]["date"].tolist() == [
        pd.Timestamp("2000-01-01"),
        pd.Timestamp("2001-01-01"),
    ]


def test_ordinal_dates_are_made_per_label_not_as_a_calendar_to_the_largest() -> None:
    labels = ["w_1", "w_3", "w_3", "w_520", "w_0", "w_10000000000000000000000", "w_x", ""]
    parsed = parse_times(
        pa.array(labels), ordinal=Ordinal(pd.Timestamp("2024-01-01"), "W-MON", first=1)
    )
    expected = [
        "2024-01-01",
        "2024-01-15",
        "2024-01-15",
        str((pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=519)).date()),
    ]
    assert [str(pd.Timestamp(v).date()) for v in parsed.values[:4]] == expected
    assert parsed.bad.tolist() == [False] * 4 + [True, True, True, False]
    assert parsed.empty.tolist() == [False] * 7 + [True]


# ------------------------------------------------ 3: thousands only in groups of three digits


@pytest.mark.parametrize(
    ("decimal", "thousands", "good", "bad"),
    [
        (
            ",",
            ".",
            {
                "1.234,5": 1234.5,
                "12.345.678": 12345678.0,
                "-1.000": -1000.0,
                "1234,5": 1234.5,
                "1.000": 1000.0,
                "0,5": 0.5,
                "1e3": 1000.0,
            },
            ["1.5", "1.2.3", "1.23", "1.2345", "1234.567", ".123", "1.234e3", "1..234"],
        ),
        (
            ".",
            ",",
            {"1,234.5": 1234.5, "1,234,567": 1234567.0, "+12,345": 12345.0, "1234.5": 1234.5},
            ["1,5", "1,2,3", "12,34", "1,234,56", ",123"],
        ),
        (
            ",",
            " ",
            {"1 234,5": 1234.5, "999": 999.0},
            ["1 5", "12 34,5"],
        ),
        (".", "'", {"1'234.50": 1234.5}, ["1'23"]),
        (".", "_", {"1_000_000": 1e6}, ["1_0"]),
    ],
)
def test_thousands_separator_only_between_groups_of_three(
    decimal: str, thousands: str, good: dict[str, float], bad: list[str]
) -> None:
    cells = [*good, *bad, ""]
    parsed = parse_numbers(pa.array(cells, pa.string()), decimal=decimal, thousands=thousands)
    assert parsed.values[: len(good)].tolist() == list(good.values())
    assert parsed.bad.tolist() == [False] * len(good) + [True] * len(bad) + [False]
    assert np.isnan(parsed.values[len(good) :]).all()
    assert parsed.empty.tolist() == [False] * (len(cells) - 1) + [True]


def test_a_misplaced_thousands_separator_is_a_row_error(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "item;date;q\nA;2024-01-01;1.5\nA;2024-01-02;1.500\n")
    mapping = tmp_path / "d.toml"
    mapping.write_text('[source]\ndecimal = ","\nthousands = "."\n' + demand_toml('"date"'))
    batch = read_with_mapping(path, mapping)
    problem = one(batch, "not_a_number")
    assert (problem.file, problem.row, problem.column, problem.value) == ("d.csv", 1, "q", "1.5")
    assert batch.tables["demand"]["quantity"].tolist() == [1500.0]


# ------------------------------------------------------- 4: ordinal.start must be on its freq


def test_ordinal_start_off_the_frequency_is_a_mapping_error() -> None:
    toml = demand_toml('{ column = "p", ordinal = { start = "2000-01-01", freq = "W-MON" } }')
    with pytest.raises(MappingError) as err:
        parse_mapping_text(toml, origin="m.toml")
    message = str(err.value)
    assert "key tables[0].columns.date.ordinal.start: '2000-01-01' is not on the W-MON" in message
    assert "1999-12-27 or 2000-01-03" in message
    # on the frequency it is fine, and period 1 is that very day
    ok = '{ column = "p", ordinal = { start = "2000-01-03", freq = "W-MON" } }'
    assert parse_mapping_text(demand_toml(ok)).tables[0].columns["date"].ordinal is not None
    with pytest.raises(MappingError, match=r"ordinal\.start: '2000-01-15' is not on the MS"):
        parse_mapping_text(
            demand_toml('{ column = "p", ordinal = { start = "2000-01-15", freq = "MS" } }')
        )


# ------------------------------------- 5: mapping mistakes caught when the mapping is read

MELT = (
    '[[tables]]\ntable = "demand"\nmelt = {{ id_columns = ["item"] }}\n[tables.columns]\n'
    'item_id = "item"\ndate = {{ column = "period", formats = ["%Y-%m"] }}\n{rest}\n'
)


@pytest.mark.parametrize(
    ("rest", "key"),
    [
        ('quantity = "value"\nreturns = "extra"', "tables[0].columns.returns"),
        (
            'quantity = { column = "value", divide_by = "extra" }',
            "tables[0].columns.quantity.divide_by",
        ),
        ('quantity = { column = "extra" }', "tables[0].columns.quantity.column"),
    ],
)
def test_melted_table_columns_must_exist_after_the_melt(
    tmp_path: Path, rest: str, key: str
) -> None:
    toml = MELT.format(rest=rest)
    with pytest.raises(MappingError) as err:
        parse_mapping_text(toml, origin="m.toml")
    assert f"key {key}: 'extra' is not a column of the long table made by [melt]" in str(err.value)
    assert err.value.problems[0].column == key
    # read end to end it is the same MappingError, not a KeyError
    with pytest.raises(MappingError, match="long table made by"):
        run(tmp_path, "item,extra,2024-01\nA,x,1\n", toml)


def test_unknown_encoding_is_a_mapping_error(tmp_path: Path) -> None:
    for encoding in ("utf-99", "base64"):
        toml = f'[source]\nencoding = "{encoding}"\n' + demand_toml('"d"')
        with pytest.raises(MappingError) as err:
            run(tmp_path, "item,d,q\nA,2024-01-01,1\n", toml)
        assert f"key source.encoding: '{encoding}' is not a known text encoding" in str(err.value)
    ok = parse_mapping_text('[source]\nencoding = "cp1252"\n' + demand_toml('"d"'))
    assert ok.source.encoding == "cp1252"


@pytest.mark.parametrize("pattern", ["(?!A).*", "(?<=x)y", r"(a)\1"])
def test_filter_regex_must_be_re2(tmp_path: Path, pattern: str) -> None:
    toml = f'[[filters]]\ncolumn = "item"\nmatches = \'{pattern}\'\nreason = "r"\n' + demand_toml(
        '"d"'
    )
    with pytest.raises(MappingError) as err:
        run(tmp_path, "item,d,q\nA,2024-01-01,1\n", toml)
    assert "key filters[0].matches" in str(err.value)
    assert "is not a valid regular expression" in str(err.value)
    assert err.value.problems[0].column == "filters[0].matches"


# ------------------------------------------------------- 6: summer-time gaps and overlaps


def test_local_times_that_do_not_exist_or_happen_twice_are_flagged() -> None:
    cells = [
        "2024-03-31 02:30",  # Rome: the clocks jump from 02:00 to 03:00
        "2024-10-27 02:30",  # Rome: 02:00-03:00 happens twice
        "2024-10-27 01:30",  # fine
        "not a time",
        "",
    ]
    parsed = parse_times(pa.array(cells), timezone="Europe/Rome")
    assert parsed.bad.tolist() == [True, True, False, True, False]
    assert parsed.nonexistent.tolist() == [True, False, False, False, False]
    assert parsed.ambiguous.tolist() == [False, True, False, False, False]
    assert pd.Timestamp(parsed.values[2]) == pd.Timestamp("2024-10-26 23:30")
    # with the offset written, the same wall time is read (it is no longer in question)
    aware = parse_times(
        pa.array(["2024-10-27 02:30:00+01:00"]),
        formats=("%Y-%m-%d %H:%M:%S%z",),
        timezone="Europe/Rome",
    )
    assert not aware.bad.any() and not aware.ambiguous.any()
    # an ISO text without an offset among ones with an offset keeps its own zone
    mixed = parse_times(
        pa.array(["2024-01-01T10:00+02:00", "2024-03-31T02:30", "2024-01-02T10:00"]),
        timezone="Europe/Rome",
    )
    assert mixed.nonexistent.tolist() == [False, True, False]
    assert pd.Timestamp(mixed.values[2]) == pd.Timestamp("2024-01-02 09:00")


# ---------------------------------------------------------------- 7: dead code is gone


def test_summer_time_gap_and_overlap_say_so(tmp_path: Path) -> None:
    # finding 6, end to end (needs the validate.py part of the fix)
    batch = run(
        tmp_path,
        "m,t\nM1,2024-03-31 02:30\nM1,2024-10-27 02:30\nM1,2024-10-27 04:00\n",
        '[[tables]]\ntable = "machine_events"\n[tables.columns]\nmachine_id = "m"\n'
        'start = { column = "t", timezone = "Europe/Rome" }\n'
        'end = { column = "t", timezone = "Europe/Rome" }\nstate = { constant = "down" }\n',
    )
    starts = [p for p in batch.errors if p.code == "bad_datetime" and "for start" in p.expected]
    assert [(p.row, p.column, p.value) for p in starts] == [
        (1, "t", "2024-03-31 02:30"),
        (2, "t", "2024-10-27 02:30"),
    ]
    assert starts[0].expected.startswith(
        "is a local time that does not exist (the clocks skip it when summer time starts) "
        "in Europe/Rome"
    )
    assert starts[1].expected.startswith(
        "is a local time that happens twice (the clocks go back over it when summer time ends) "
        "in Europe/Rome"
    )
    assert all("is not a date and time" not in p.expected for p in batch.errors)
