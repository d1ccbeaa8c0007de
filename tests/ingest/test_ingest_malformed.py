"""Malformed inputs: each one gives a Problem that names the file, the row and the column
(where there is one) and says what was expected. Written to tmp_path, read at the ingest API
level (the CLI / database round trip is tested by the storage and CLI suites)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from bufferwise.errors import ImportRejected, MappingError
from bufferwise.ingest import enforce_policy, load_mapping, read_canonical, read_with_mapping
from ingest.helpers import one, problems_with, write

DEMAND_HEADER = "item_id,date,quantity\n"
RECEIPTS_HEADER = (
    "po_id,item_id,supplier_id,order_date,promised_date,received_date,qty_ordered,qty_received\n"
)
EVENTS_HEADER = "machine_id,start,end,state,reason,component\n"


def demand(tmp_path: Path, body: str, name: str = "demand.csv") -> Path:
    return write(tmp_path, name, DEMAND_HEADER + body)


# ------------------------------------------------------------------------------- cell errors


@pytest.mark.parametrize(
    ("body", "row", "column", "value", "code", "expected"),
    [
        # 1 a month that does not exist
        (
            "A,2023-01-01,5\nA,2023-13-02,3\n",
            2,
            "date",
            "2023-13-02",
            "bad_date",
            "is not a date (expected YYYY-MM-DD)",
        ),
        # 2 a day that does not exist (no silent roll-over into March)
        ("A,2023-02-30,5\n", 1, "date", "2023-02-30", "bad_date", "expected YYYY-MM-DD"),
        # 3 a date in another layout than the one expected
        ("A,02/01/2023,5\n", 1, "date", "02/01/2023", "bad_date", "expected YYYY-MM-DD"),
        # 4 text in a number
        (
            "A,2023-01-01,five\n",
            1,
            "quantity",
            "five",
            "not_a_number",
            "is not a number (expected a number >= 0)",
        ),
        # 5 a negative quantity
        (
            "A,2023-01-01,5\nA,2023-01-02,-3\n",
            2,
            "quantity",
            "-3",
            "negative_value",
            "expected quantity >= 0",
        ),
        # 6 a huge number (an export or unit error)
        (
            "A,2023-01-01,1e13\n",
            1,
            "quantity",
            "1e13",
            "huge_number",
            "expected an absolute value up to 1e+12",
        ),
        # 7 NaN written in the cell
        ("A,2023-01-01,NaN\n", 1, "quantity", "NaN", "not_finite", "is not a finite number"),
        # 8 infinity written in the cell
        ("A,2023-01-01,inf\n", 1, "quantity", "inf", "not_finite", "is not a finite number"),
        # 9 an empty required number
        (
            "A,2023-01-01,5\nA,2023-01-02,\n",
            2,
            "quantity",
            None,
            "missing_value",
            "is empty (expected a number >= 0)",
        ),
        # 10 an empty required id
        (
            ",2023-01-01,5\n",
            1,
            "item_id",
            None,
            "missing_value",
            "is empty (expected a non-empty text value)",
        ),
        # 11 a decimal comma in a comma-separated file is two fields, the thousands mark is text
        ('A,2023-01-01,"1.234,5"\n', 1, "quantity", "1.234,5", "not_a_number", "is not a number"),
    ],
)
def test_bad_cell_is_named(
    tmp_path: Path, body: str, row: int, column: str, value: str | None, code: str, expected: str
) -> None:
    batch = read_canonical(demand(tmp_path, body), "demand")
    problem = one(batch, code)
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "demand.csv",
        row,
        column,
        value,
    )
    assert expected in problem.expected
    assert problem.severity == "error"
    assert batch.files[0].rows_rejected == 1


def test_duplicate_key_names_the_first_row(tmp_path: Path) -> None:
    # 12
    batch = read_canonical(
        demand(tmp_path, "A,2023-01-01,5\nB,2023-01-01,1\nA,2023-01-01,7\n"), "demand"
    )
    problem = one(batch, "duplicate_key")
    assert (problem.file, problem.row, problem.column) == ("demand.csv", 3, "item_id, date")
    assert problem.value == "A, 2023-01-01"
    assert "repeats the key (item_id, date) of row 1" in problem.expected
    assert batch.files[0].rows_accepted == 2


def test_received_before_ordered(tmp_path: Path) -> None:
    # 13
    path = write(
        tmp_path,
        "receipts.csv",
        RECEIPTS_HEADER + "P1,A,S,2023-03-01,2023-03-10,2023-02-27,10,10\n",
    )
    problem = one(read_canonical(path, "receipts"), "received_before_ordered")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "receipts.csv",
        1,
        "received_date",
        "2023-02-27",
    )
    assert (
        problem.expected
        == "is before order_date 2023-03-01 (expected received_date on or after order_date)"
    )


def test_promised_before_ordered(tmp_path: Path) -> None:
    # 14
    path = write(
        tmp_path,
        "receipts.csv",
        RECEIPTS_HEADER + "P1,A,S,2023-03-01,2023-02-01,2023-03-05,10,10\n",
    )
    problem = one(read_canonical(path, "receipts"), "promised_before_ordered")
    assert (problem.row, problem.column, problem.value) == (1, "promised_date", "2023-02-01")


def test_end_before_start(tmp_path: Path) -> None:
    # 15
    path = write(
        tmp_path, "events.csv", EVENTS_HEADER + "M1,2023-01-01 10:00,2023-01-01 09:00,down,jam,\n"
    )
    problem = one(read_canonical(path, "machine_events"), "end_before_start")
    assert (problem.file, problem.row, problem.column) == ("events.csv", 1, "end")
    assert "expected end on or after start" in problem.expected


def test_state_not_allowed(tmp_path: Path) -> None:
    # 16
    path = write(
        tmp_path, "events.csv", EVENTS_HEADER + "M1,2023-01-01 09:00,2023-01-01 10:00,broken,,\n"
    )
    problem = one(read_canonical(path, "machine_events"), "not_allowed")
    assert (problem.row, problem.column, problem.value) == (1, "state", "broken")
    assert "expected one of running, idle, down, planned_stop, setup" in problem.expected


def test_bad_timestamp(tmp_path: Path) -> None:
    # 17
    path = write(
        tmp_path, "events.csv", EVENTS_HEADER + "M1,yesterday 9am,2023-01-01 10:00,down,,\n"
    )
    problem = one(read_canonical(path, "machine_events"), "bad_datetime")
    assert (problem.row, problem.column, problem.value) == (1, "start", "yesterday 9am")
    assert "expected YYYY-MM-DD HH:MM[:SS]" in problem.expected


def test_good_above_total(tmp_path: Path) -> None:
    # 18
    path = write(
        tmp_path,
        "counts.csv",
        "machine_id,start,end,total_count,good_count\nM1,2023-01-01 09:00,2023-01-01 10:00,10,12\n",
    )
    problem = one(read_canonical(path, "production_counts"), "good_above_total")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "counts.csv",
        1,
        "good_count",
        "12",
    )
    assert "good_count <= total_count" in problem.expected


def test_value_above_maximum_and_not_allowed_level(tmp_path: Path) -> None:
    # 19 holding_rate above 5 / year; 20 an unknown criticality level
    path = write(
        tmp_path,
        "items.csv",
        "item_id,unit_cost,holding_rate,criticality,nominal_lead_time_days\nA,1,7,high,5\nB,1,0.2,urgent,5\n",
    )
    batch = read_canonical(path, "items")
    high = one(batch, "above_maximum")
    assert (high.row, high.column, high.value) == (1, "holding_rate", "7")
    assert "holding_rate <= 5" in high.expected
    level = one(batch, "not_allowed")
    assert (level.row, level.column, level.value) == (2, "criticality", "urgent")
    assert "one of low, medium, high, critical" in level.expected


def test_unknown_id_against_stored_ids(tmp_path: Path) -> None:
    # 21 demand for an item that is neither stored nor in the import
    path = demand(tmp_path, "A,2023-01-01,5\nZ,2023-01-01,1\n")
    problem = one(read_canonical(path, "demand", known_ids={"items": {"A", "B"}}), "unknown_id")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "demand.csv",
        2,
        "item_id",
        "Z",
    )
    assert "is not a known item_id" in problem.expected


def test_unknown_id_against_the_same_import(tmp_path: Path) -> None:
    # 22 events for a machine the same file's machines table does not hold (one mapping, two tables)
    path = write(
        tmp_path,
        "log.csv",
        "asset,known,ts,status\nM1,yes,2023-01-01 09:00,2\nM2,no,2023-01-01 09:00,2\n",
    )
    mapping = tmp_path / "log.toml"
    mapping.write_text(
        """
[[filters]]
column = "known"
equals = "no"
reason = "asset not in the register"
[[tables]]
table = "machines"
distinct = true
columns = { machine_id = "asset" }
"""
    )
    batch = read_with_mapping(path, mapping)
    assert batch.tables["machines"]["machine_id"].tolist() == ["M1"]
    events = write(
        tmp_path, "events.csv", EVENTS_HEADER + "M2,2023-01-01 09:00,2023-01-01 10:00,down,,\n"
    )
    known = {"machines": set(batch.tables["machines"]["machine_id"])}
    problem = one(read_canonical(events, "machine_events", known_ids=known), "unknown_id")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "events.csv",
        1,
        "machine_id",
        "M2",
    )


# ------------------------------------------------------------------------------ file errors


def test_empty_file(tmp_path: Path) -> None:
    # 23
    batch = read_canonical(write(tmp_path, "demand.csv", ""), "demand")
    problem = one(batch, "empty_file")
    assert (problem.file, problem.row, problem.column) == ("demand.csv", None, None)
    assert "is empty (expected a header row and data rows)" in problem.expected
    with pytest.raises(ImportRejected, match=r"demand\.csv: is empty"):
        enforce_policy(batch)


def test_file_with_only_a_byte_order_mark(tmp_path: Path) -> None:
    # 24
    path = tmp_path / "demand.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    assert one(read_canonical(path, "demand"), "empty_file").file == "demand.csv"


def test_header_only(tmp_path: Path) -> None:
    # 25
    batch = read_canonical(write(tmp_path, "demand.csv", DEMAND_HEADER), "demand")
    problem = one(batch, "no_data_rows")
    assert problem.expected == "has a header row but no data rows"
    assert batch.files[0].rows_read == 0
    with pytest.raises(ImportRejected):
        enforce_policy(batch, "skip")


def test_missing_required_column(tmp_path: Path) -> None:
    # 26
    batch = read_canonical(write(tmp_path, "demand.csv", "item_id,date\nA,2023-01-01\n"), "demand")
    problem = one(batch, "missing_column")
    assert (problem.file, problem.row, problem.column) == ("demand.csv", 0, "quantity")
    assert "columns in the file: item_id, date" in problem.expected
    assert batch.files[0].rows_rejected == 1


def test_truncated_last_line(tmp_path: Path) -> None:
    # 27 the export was cut off in the middle of the last row
    batch = read_canonical(demand(tmp_path, "A,2023-01-01,5\nA,2023-01-02,6\nA,2023-01"), "demand")
    problem = one(batch, "wrong_field_count")
    assert (problem.file, problem.row, problem.value) == ("demand.csv", 3, "A,2023-01")
    assert "has 2 fields, expected 3" in problem.expected and "truncated" in problem.expected
    assert (batch.files[0].rows_read, batch.files[0].rows_accepted) == (3, 2)


def test_row_with_too_many_fields(tmp_path: Path) -> None:
    # 28 an unquoted comma inside a value
    batch = read_canonical(
        demand(tmp_path, "A,2023-01-01,5\nA,2023-01-02,1,5\nA,2023-01-03,2\n"), "demand"
    )
    problem = one(batch, "wrong_field_count")
    assert (problem.row, problem.value) == (2, "A,2023-01-02,1,5")
    assert "has 4 fields, expected 3" in problem.expected
    assert batch.tables["demand"]["quantity"].tolist() == [5.0, 2.0]


def test_duplicate_header_column(tmp_path: Path) -> None:
    # 29
    problem = one(
        read_canonical(write(tmp_path, "d.csv", "item_id,date,date\nA,2023-01-01,5\n"), "demand"),
        "duplicate_column",
    )
    assert (problem.file, problem.row, problem.column) == ("d.csv", 0, "date")


def test_blank_header_name(tmp_path: Path) -> None:
    # 30
    problem = one(
        read_canonical(write(tmp_path, "d.csv", "item_id,,quantity\nA,2023-01-01,5\n"), "demand"),
        "bad_header",
    )
    assert problem.row == 0 and "header column 2 has no name" in problem.expected


def test_wrong_encoding_is_reported(tmp_path: Path) -> None:
    # 31 Latin-1 bytes read as UTF-8 because the mapping says so
    path = write(
        tmp_path,
        "items.csv",
        "item_id,unit_cost,nominal_lead_time_days\nSchraube M4 Ø5,1,5\n",
        encoding="latin-1",
    )
    mapping = tmp_path / "items.toml"
    mapping.write_text(
        '[source]\nencoding = "utf-8"\n[[tables]]\ntable = "items"\n'
        'columns = { item_id = "item_id", unit_cost = "unit_cost", '
        'nominal_lead_time_days = "nominal_lead_time_days" }\n'
    )
    problem = one(read_with_mapping(path, mapping), "unreadable_csv")
    assert problem.file == "items.csv" and "UTF8" in problem.expected.replace("-", "").upper()
    # detected, the same bytes read correctly as Latin-1
    batch = read_canonical(path, "items")
    assert batch.tables["items"]["item_id"].tolist() == ["Schraube M4 Ø5"]


def test_wrong_delimiter_in_mapping(tmp_path: Path) -> None:
    # 32 a semicolon file, the mapping insists on commas: the header is one column
    path = write(tmp_path, "demand.csv", "item_id;date;quantity\nA;2023-01-01;5\n")
    mapping = tmp_path / "d.toml"
    mapping.write_text(
        '[source]\ndelimiter = ","\n[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "item_id", date = "date", quantity = "quantity" }\n'
    )
    with pytest.raises(MappingError) as err:
        read_with_mapping(path, mapping)
    problem = err.value.problems[0]
    assert (problem.file, problem.column, problem.code) == (
        "demand.csv",
        "item_id",
        "missing_column",
    )
    assert "columns in the file: item_id;date;quantity" in problem.expected
    # without the wrong setting the semicolon is detected
    assert read_canonical(path, "demand").tables["demand"]["quantity"].tolist() == [5.0]


# --------------------------------------------------------------------------- mapping errors


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "export.toml"
    path.write_text(text)
    return path


def test_mapping_names_a_missing_column(tmp_path: Path) -> None:
    # 33
    path = write(tmp_path, "export.csv", "part,month,qty\nA,2023-01,5\n")
    mapping = _mapping(
        tmp_path,
        '[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "part", date = "period", quantity = "qty" }\n',
    )
    with pytest.raises(MappingError) as err:
        read_with_mapping(path, mapping)
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("export.csv", 0, "period")
    assert "columns in the file: part, month, qty" in problem.expected
    assert "export.csv, row 0, column period" in str(err.value)


def test_bad_toml(tmp_path: Path) -> None:
    # 34
    with pytest.raises(MappingError) as err:
        load_mapping(_mapping(tmp_path, '[[tables]\ntable = "demand"\n'))
    assert err.value.problems[0].code == "bad_toml"
    assert "export.toml: is not valid TOML" in str(err.value)


def test_unknown_mapping_key(tmp_path: Path) -> None:
    # 35
    text = (
        '[[tables]]\ntable = "demand"\ncolumns = { item_id = "a", date = "b", quantity = "c" }\n'
        'date_format = "%Y"\n'
    )
    with pytest.raises(MappingError) as err:
        load_mapping(_mapping(tmp_path, text))
    problem = err.value.problems[0]
    assert (problem.file, problem.column) == ("export.toml", "tables[0].date_format")
    assert "is not a known key" in problem.expected and "columns" in problem.expected


def test_unknown_key_inside_a_column(tmp_path: Path) -> None:
    # 36
    text = (
        '[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "a", date = { column = "b", format = "%Y" }, quantity = "c" }\n'
    )
    with pytest.raises(
        MappingError, match=r"tables\[0\]\.columns\.date\.format: is not a known key"
    ):
        load_mapping(_mapping(tmp_path, text))


def test_mapping_leaves_a_required_column_unmapped(tmp_path: Path) -> None:
    # 37
    with pytest.raises(MappingError, match=r"leaves required demand column.s. unmapped: quantity"):
        load_mapping(
            _mapping(
                tmp_path, '[[tables]]\ntable = "demand"\ncolumns = { item_id = "a", date = "b" }\n'
            )
        )


def test_mapping_with_an_unknown_table_or_column(tmp_path: Path) -> None:
    # 38
    with pytest.raises(MappingError, match="is not a canonical table"):
        load_mapping(_mapping(tmp_path, '[[tables]]\ntable = "orders"\n'))
    text = (
        '[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "a", date = "b", quantity = "c", qty = "d" }\n'
    )
    with pytest.raises(MappingError, match=r"columns\.qty: is not a column of demand"):
        load_mapping(_mapping(tmp_path, text))


def test_unknown_shipped_mapping_name() -> None:
    # 39
    with pytest.raises(MappingError, match="not a shipped mapping"):
        load_mapping("no_such_export")


def test_value_without_a_map_entry(tmp_path: Path) -> None:
    # 40 a status code the mapping does not know
    path = write(
        tmp_path, "log.csv", "asset,ts,status\nM1,2023-01-01 09:00,2\nM1,2023-01-01 09:05,7\n"
    )
    mapping = _mapping(
        tmp_path,
        '[[tables]]\ntable = "machine_events"\n'
        'columns = { machine_id = "asset", start = "ts", '
        'state = { column = "status", map = { "1" = "idle", "2" = "running" } } }\n'
        'intervals = { group_by = ["machine_id"], max_gap = "10min" }\n',
    )
    problem = one(read_with_mapping(path, mapping), "unmapped_value")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "log.csv",
        2,
        "status",
        "7",
    )
    assert "expected one of 1, 2" in problem.expected and "for state" in problem.expected


def test_zero_divisor(tmp_path: Path) -> None:
    # 41
    path = write(tmp_path, "items.csv", "sku,price,carry,lt\nA,2,0.4,3\nB,0,0.4,3\n")
    mapping = _mapping(
        tmp_path,
        '[[tables]]\ntable = "items"\n[tables.columns]\nitem_id = "sku"\nunit_cost = "price"\n'
        'holding_rate = { column = "carry", divide_by = "price" }\nnominal_lead_time_days = "lt"\n',
    )
    batch = read_with_mapping(path, mapping)
    problem = one(batch, "zero_divisor")
    assert (problem.row, problem.column, problem.value) == (2, "price", "0")
    assert batch.tables["items"]["holding_rate"].tolist() == [pytest.approx(0.2)]


def test_bad_cell_in_a_wide_file_names_the_period_column(tmp_path: Path) -> None:
    # 42
    path = write(tmp_path, "wide.csv", "sku,2023-01,2023-02,2023-03\nA,1,x,3\nB,1,2,3\n")
    mapping = _mapping(
        tmp_path,
        '[[tables]]\ntable = "demand"\nmelt = { id_columns = ["sku"] }\n'
        'columns = { item_id = "sku", date = { column = "period", formats = ["%Y-%m"] }, '
        'quantity = "value" }\n',
    )
    batch = read_with_mapping(path, mapping)
    problem = one(batch, "not_a_number")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "wide.csv",
        1,
        "2023-02",
        "x",
    )
    assert "for quantity" in problem.expected
    # the source row is the unit: all of A is rejected, all of B kept
    assert batch.tables["demand"]["item_id"].tolist() == ["B", "B", "B"]
    assert (batch.files[0].rows_accepted, batch.files[0].rows_rejected) == (1, 1)


def test_text_in_a_date_column_of_a_mapped_export(tmp_path: Path) -> None:
    # 43 the SCMS kind of cell: a sentence where a date belongs
    path = write(
        tmp_path,
        "po.csv",
        "ID,Item,Vendor,PO,Due,Got,Qty\n1,A,S,Date Not Captured,2-Jun-06,2-Jun-06,5\n",
    )
    mapping = _mapping(
        tmp_path,
        '[[tables]]\ntable = "receipts"\n[tables.columns]\npo_id = "ID"\nitem_id = "Item"\n'
        'supplier_id = "Vendor"\n'
        'order_date = { column = "PO", formats = ["%m/%d/%y"] }\n'
        'received_date = { column = "Got", formats = ["%d-%b-%y"] }\nqty_ordered = "Qty"\n',
    )
    problem = one(read_with_mapping(path, mapping), "bad_date")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "po.csv",
        1,
        "PO",
        "Date Not Captured",
    )
    assert problem.expected == "is not a date (expected MM/DD/YY or YYYY-MM-DD) for order_date"


def test_excel_text_in_a_number(tmp_path: Path) -> None:
    # 44
    path = tmp_path / "demand.xlsx"
    pd.DataFrame(
        {"item_id": ["A", "B"], "date": ["2023-01-01", "2023-01-01"], "quantity": [5, "n/a"]}
    ).to_excel(path, index=False)
    problem = one(read_canonical(path, "demand"), "not_a_number")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "demand.xlsx",
        2,
        "quantity",
        "n/a",
    )


def test_parquet_missing_quantity(tmp_path: Path) -> None:
    # 45 a null (NaN) number in Parquet is an empty cell
    path = tmp_path / "demand.parquet"
    pd.DataFrame(
        {
            "item_id": ["A", "B"],
            "date": pd.to_datetime(["2023-01-01", "2023-01-01"]),
            "quantity": [5.0, math.nan],
        }
    ).to_parquet(path)
    problem = one(read_canonical(path, "demand"), "missing_value")
    assert (problem.file, problem.row, problem.column) == ("demand.parquet", 2, "quantity")


# ---------------------------------------------------------------------------- the policy


def test_default_policy_rejects_the_whole_import_with_one_clear_line(tmp_path: Path) -> None:
    body = "".join(f"P{i},A,S,2023-01-01,2023-01-05,2023-01-06,1,1\n" for i in range(1, 118))
    body += "P118,A,S,2023-01-01,2023-01-05,2023-13-02,1,1\n"
    batch = read_canonical(write(tmp_path, "receipts.csv", RECEIPTS_HEADER + body), "receipts")
    with pytest.raises(ImportRejected) as err:
        enforce_policy(batch, "default")
    assert str(err.value) == (
        "receipts.csv row 118, column received_date: '2023-13-02' is not a date "
        "(expected YYYY-MM-DD); "
        "117 rows were fine, nothing was imported (use --skip-bad-rows to import the rest)"
    ).replace("receipts.csv row", "receipts.csv, row")
    assert enforce_policy(batch, "skip").tables["receipts"].shape[0] == 117
    with pytest.raises(ImportRejected, match="strict mode stops at the first error"):
        enforce_policy(batch, "strict")


def test_skip_keeps_good_rows_and_reports_the_rest(tmp_path: Path) -> None:
    batch = read_canonical(
        demand(tmp_path, "A,2023-01-01,5\nA,2023-01-02,x\nA,2023-01-03,-1\nA,2023-01-04,2\n"),
        "demand",
    )
    kept = enforce_policy(batch, "skip")
    assert kept.tables["demand"]["quantity"].tolist() == [5.0, 2.0]
    assert [p.row for p in kept.errors] == [2, 3]
    with pytest.raises(ImportRejected, match=r"2 rows had errors .2 problems., 2 rows were fine"):
        enforce_policy(batch)


def test_policy_mode_is_checked() -> None:
    from bufferwise.model.batch import ImportBatch

    with pytest.raises(ValueError, match="unknown bad-row mode"):
        enforce_policy(ImportBatch(), "lenient")


def test_mapping_default_skip(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "sku,day,qty\nA,2023-01-01,5\nA,2023-01-02,oops\n")
    mapping = _mapping(
        tmp_path,
        'on_bad_row = "skip"\n[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "sku", date = "day", quantity = "qty" }\n',
    )
    batch = read_with_mapping(path, mapping)
    assert batch.on_bad_row == "skip"
    assert len(enforce_policy(batch).tables["demand"]) == 1
    with pytest.raises(ImportRejected):
        enforce_policy(batch, "strict")
    assert len(problems_with(batch, "not_a_number")) == 1


def test_unterminated_quote_at_the_end(tmp_path: Path) -> None:
    # 46 the export stopped inside a quoted description
    text = 'item_id,description,unit_cost,nominal_lead_time_days\nA,bolt,1,2\nB,"unterminated,3'
    batch = read_canonical(write(tmp_path, "items.csv", text), "items")
    problem = one(batch, "wrong_field_count")
    assert (problem.file, problem.row, problem.value) == ("items.csv", 2, 'B,"unterminated,3')
    assert "has 2 fields, expected 4" in problem.expected
    assert batch.tables["items"]["item_id"].tolist() == ["A"]


def test_negative_cost_and_text_quantity_in_receipts(tmp_path: Path) -> None:
    # 47, 48
    items = write(
        tmp_path, "items.csv", "item_id,unit_cost,nominal_lead_time_days\nA,-2.5,3\nB,1,3\n"
    )
    cost = one(read_canonical(items, "items"), "negative_value")
    assert (cost.file, cost.row, cost.column, cost.value) == ("items.csv", 1, "unit_cost", "-2.5")
    receipts = write(
        tmp_path, "receipts.csv", RECEIPTS_HEADER + "P1,A,S,2023-01-01,,2023-01-09,ten,10\n"
    )
    qty = one(read_canonical(receipts, "receipts"), "not_a_number")
    assert (qty.row, qty.column, qty.value) == (1, "qty_ordered", "ten")


def test_wide_file_without_period_columns(tmp_path: Path) -> None:
    # 49 a "wide" export that only has the id column
    path = write(tmp_path, "wide.csv", "sku\nA\n")
    mapping = _mapping(
        tmp_path,
        '[[tables]]\ntable = "demand"\nmelt = { id_columns = ["sku"] }\n'
        'columns = { item_id = "sku", date = "period", quantity = "value" }\n',
    )
    with pytest.raises(MappingError) as err:
        read_with_mapping(path, mapping)
    (problem,) = err.value.problems
    assert (problem.file, problem.row, problem.code) == ("wide.csv", 0, "missing_column")
    assert "no columns to unpivot" in problem.expected


def test_wip_buffer_between_unknown_machines(tmp_path: Path) -> None:
    # 50 both ends of a buffer must be known machines
    path = write(
        tmp_path,
        "wip_buffers.csv",
        "buffer_id,upstream_machine_id,downstream_machine_id,current_level\n"
        "B1,M1,M2,10\nB2,M1,M9,5\n",
    )
    batch = read_canonical(path, "wip_buffers", known_ids={"machines": {"M1", "M2"}})
    problem = one(batch, "unknown_id")
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "wip_buffers.csv",
        2,
        "downstream_machine_id",
        "M9",
    )
    assert batch.tables["wip_buffers"]["buffer_id"].tolist() == ["B1"]


@pytest.mark.parametrize("mode", ["default", "skip", "strict"])
def test_an_import_where_every_row_is_filtered_is_rejected(tmp_path: Path, mode: str) -> None:
    # review finding: no error, but no row survives: refused in every mode, naming the file
    path = write(
        tmp_path, "export.csv", "sku,date,q,kind\nA,2024-01-01,3,SKIP\nB,2024-01-02,4,SKIP\n"
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[[filters]]\ncolumn = "kind"\nequals = "SKIP"\nreason = "not a part"\n'
        '[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "sku", date = "date", quantity = "q" }\n'
    )
    batch = read_with_mapping(path, mapping)
    assert batch.errors == [] and batch.row_count() == 0
    with pytest.raises(ImportRejected) as caught:
        enforce_policy(batch, mode)
    message = str(caught.value)
    assert "no row survived in export.csv" in message
    assert "2 rows read, 2 filtered out, 0 rejected for errors" in message
    assert "nothing was imported" in message
