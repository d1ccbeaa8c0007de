"""Readers: encodings, line endings, delimiters, quoting, Excel, Parquet, content hash."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pandas as pd
import pytest

from bufferwise.errors import InvalidInput
from bufferwise.ingest import read_canonical, read_table, readers
from bufferwise.ingest.readers import detect_delimiter, detect_encoding
from ingest.helpers import write

ROWS = "item_id,date,quantity\nA,2023-01-01,5\nB,2023-01-02,7\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize(
    ("encoding", "bom", "reported"),
    [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig")],
)
def test_line_endings_and_byte_order_mark(
    tmp_path: Path, newline: str, encoding: str, bom: bytes, reported: str
) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(bom + ROWS.replace("\n", newline).encode(encoding))
    raw = read_table(path)
    assert raw.encoding == reported and raw.line_ending == newline
    assert raw.columns == ["item_id", "date", "quantity"]  # no BOM glued to the first name
    assert raw.table.column("quantity").to_pylist() == ["5", "7"]
    assert raw.row_numbers.tolist() == [1, 2]


def test_latin1_is_detected_and_decoded(tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.csv", "item_id,date,quantity\nRöhre Ø12,2023-01-01,5\n", encoding="latin-1"
    )
    raw = read_table(path)
    assert raw.encoding == "latin-1"
    assert raw.table.column("item_id").to_pylist() == ["Röhre Ø12"]


def test_detect_encoding() -> None:
    assert detect_encoding("Röhre".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfa") == "utf-8-sig"
    assert detect_encoding("Röhre".encode("latin-1")) == "latin-1"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detection(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path, "d.csv", ROWS.replace(",", delimiter))
    raw = read_table(path)
    assert raw.delimiter == delimiter
    assert read_canonical(path, "demand").tables["demand"]["quantity"].tolist() == [5.0, 7.0]


def test_delimiter_detection_ignores_quoted_commas() -> None:
    sample = 'id;name;qty\n1;"Bolt, M4";5\n2;"Nut, M4";6\n'
    assert detect_delimiter(sample) == ";"


def test_quoted_fields_with_delimiters_and_line_breaks(tmp_path: Path) -> None:
    text = (
        'item_id,description,unit_cost,nominal_lead_time_days\nA,"Bolt, M4 ""zinc""",1.5,3\n'
        'B,"two\nlines",2,4\nC,plain,3,5\n'
    )
    batch = read_canonical(write(tmp_path, "items.csv", text), "items")
    items = batch.tables["items"]
    assert items["description"].tolist() == ['Bolt, M4 "zinc"', "two\nlines", "plain"]
    # row numbers count records, not physical lines
    bad = read_canonical(
        write(tmp_path, "bad.csv", text.replace("C,plain,3,5", "C,plain,x,5")), "items"
    )
    assert [(p.row, p.column) for p in bad.errors] == [(3, "unit_cost")]


def test_cells_are_stripped(tmp_path: Path) -> None:
    raw = read_table(write(tmp_path, "d.csv", "item_id , date,quantity\n  A ,2023-01-01, 5 \n"))
    assert raw.columns == ["item_id", "date", "quantity"]
    assert raw.table.to_pylist() == [{"item_id": "A", "date": "2023-01-01", "quantity": "5"}]


def test_content_hash_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", ROWS)
    assert read_table(path).content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        read_canonical(path, "demand").files[0].content_hash
        == hashlib.sha256(path.read_bytes()).hexdigest()
    )


def test_excel_sheet_selection_and_typed_cells(tmp_path: Path) -> None:
    path = tmp_path / "plant.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="notes", index=False)
        pd.DataFrame(
            {
                "item_id": ["A", "B"],
                "date": pd.to_datetime(["2023-01-01", "2023-02-01"]),
                "quantity": [5, 2.5],
            }
        ).to_excel(xl, sheet_name="demand", index=False)
    assert read_table(path).columns == ["x"]  # first sheet by default
    raw = read_table(path, sheet="demand")
    assert raw.table.column("quantity").to_pylist() == ["5", "2.5"]
    assert read_table(path, sheet=1).columns == ["item_id", "date", "quantity"]
    with pytest.raises(InvalidInput, match="has no sheet 'orders'"):
        read_table(path, sheet="orders")


def test_excel_through_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "plant.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"Part": ["A"], "Day": pd.to_datetime(["2023-01-05"]), "Qty": [3]}).to_excel(
            xl, sheet_name="Demand", index=False
        )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[source]\nsheet = "Demand"\n[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "Part", date = { column = "Day", formats = ["%d/%m/%Y"] }, '
        'quantity = "Qty" }\n'
    )
    from bufferwise.ingest import read_with_mapping

    demand = read_with_mapping(path, mapping).tables["demand"]
    # an Excel date cell arrives as ISO text, accepted whatever the mapping's text formats
    assert demand["date"].tolist() == [pd.Timestamp("2023-01-05")]


def test_parquet_typed_columns(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame(
        {
            "machine_id": pd.Series([1, 2], dtype="int64"),
            "start": pd.to_datetime(["2023-01-01 08:00", "2023-01-01 09:00"]).tz_localize(
                "Europe/Rome"
            ),
            "end": pd.to_datetime(["2023-01-01 07:30", "2023-01-01 08:30"]),
            "state": pd.Categorical(["down", "running"]),
        }
    ).to_parquet(path)
    batch = read_canonical(path, "machine_events")
    events = batch.tables["machine_events"]
    assert events["machine_id"].tolist() == ["1", "2"]
    # 08:00 in Rome (UTC+1 in January) is 07:00 UTC
    assert events["start"].tolist() == [
        pd.Timestamp("2023-01-01 07:00"),
        pd.Timestamp("2023-01-01 08:00"),
    ]
    assert events["state"].tolist() == ["down", "running"]


def test_unknown_columns_in_a_canonical_file_are_warned(tmp_path: Path) -> None:
    batch = read_canonical(
        write(tmp_path, "d.csv", "item_id,date,quantity,colour\nA,2023-01-01,5,red\n"), "demand"
    )
    assert [(p.code, p.column, p.severity) for p in batch.problems] == [
        ("unknown_column", "colour", "warning")
    ]
    assert len(batch.tables["demand"]) == 1


def test_output_dtypes(tmp_path: Path) -> None:
    demand = read_canonical(write(tmp_path, "d.csv", ROWS), "demand").tables["demand"]
    assert list(demand.columns) == ["item_id", "date", "quantity", "returns"]
    assert str(demand["date"].dtype) == "datetime64[ns]"
    assert demand["quantity"].dtype == "float64" and demand["returns"].tolist() == [0.0, 0.0]
    assert demand["item_id"].dtype == pd.StringDtype("pyarrow")


def test_a_date_column_keeps_the_day(tmp_path: Path) -> None:
    text = "item_id,date,quantity\nA,2023-01-05 13:30:00,1\nA,1969-12-31T23:00:00,2\n"
    demand = read_canonical(write(tmp_path, "d.csv", text), "demand").tables["demand"]
    assert demand["date"].tolist() == [pd.Timestamp("2023-01-05"), pd.Timestamp("1969-12-31")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lines_above_the_header_are_skipped(tmp_path: Path, newline: str) -> None:
    # a report title and a blank line above the header; row numbers still start at the header
    text = (
        "Demand report; plant 2\n\nitem_id;date;quantity\nA;2023-01-01;5\nA;2023-01-02\n"
        "A;2023-01-03;x\n"
    )
    path = write(tmp_path, "report.csv", text, newline=newline)
    mapping = tmp_path / "report.toml"
    mapping.write_text(
        '[source]\nskip_rows = 2\n[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "item_id", date = "date", quantity = "quantity" }\n'
    )
    from bufferwise.ingest import read_with_mapping

    batch = read_with_mapping(path, mapping)
    assert batch.tables["demand"]["quantity"].tolist() == [5.0]
    assert [(p.code, p.row) for p in batch.errors] == [
        ("wrong_field_count", 2),
        ("not_a_number", 3),
    ]
    assert batch.files[0].rows_read == 3


def test_excel_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    frame = pd.DataFrame([["Stock report", None], [None, None], ["item_id", "quantity"], ["A", 5]])
    frame.to_excel(path, index=False, header=False)
    raw = read_table(path, skip_rows=2)
    assert raw.columns == ["item_id", "quantity"]
    assert raw.table.to_pylist() == [{"item_id": "A", "quantity": "5"}]


def test_utf16_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    # spreadsheet "Unicode text" exports are UTF-16 with a BOM; they are transcoded, not refused
    from bufferwise.ingest import read_canonical

    path = tmp_path / "demand.csv"
    path.write_bytes("item_id,date,quantity\nP1,2024-01-05,1\nP2,2024-01-05,2\n".encode("utf-16"))
    batch = read_canonical(path, "demand")
    assert not batch.errors
    assert batch.tables["demand"]["item_id"].tolist() == ["P1", "P2"]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_sliced_read_hashes_every_chunk_in_order_and_leaves_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # the scan hashes in a thread beside its other checks; small chunks make many hand-overs
    # and cut the two-byte "é" of a UTF-8 file apart
    monkeypatch.setattr(readers, "_SCAN_BYTES", chunk)
    text = "item_id,date,quantity\n" + "".join(
        f"é{i},2023-01-0{i % 9 + 1},{i}\n" for i in range(50)
    )
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("utf-8"))
    before = threading.active_count()
    (raw,) = readers.read_table_slices(path, 1000)
    assert raw.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert raw.encoding == "utf-8" and raw.table.column("item_id")[0].as_py() == "é0"
    assert threading.active_count() == before


def test_a_scan_that_cannot_read_the_file_says_so_and_leaves_no_thread(tmp_path: Path) -> None:
    before = threading.active_count()
    with pytest.raises(InvalidInput, match="cannot be read"):
        list(readers.read_table_slices(tmp_path, 1000, format="csv"))  # a folder
    assert threading.active_count() == before


def test_excel_cells_beyond_the_header_reject_the_row(tmp_path: Path) -> None:
    # review finding: like a CSV line with too many fields, a filled cell right of the header's
    # last named column (also under a trailing empty header cell) is a wrong_field_count error
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["item_id", "date", "quantity", None])
    sheet.append(["A", "2024-01-01", 3])
    sheet.append(["B", "2024-01-02", 4, None, "extra"])
    sheet.append(["C", "2024-01-03", 5, "under an empty header"])
    sheet.append(["D", "2024-01-04", 6, None, None])  # empty cells beyond: fine
    path = tmp_path / "demand.xlsx"
    book.save(path)
    batch = read_canonical(path, "demand")
    assert batch.tables["demand"]["item_id"].tolist() == ["A", "D"]
    bad = [p for p in batch.problems if p.code == "wrong_field_count"]
    assert [(p.file, p.row, p.value, p.severity) for p in bad] == [
        ("demand.xlsx", 2, "extra", "error"),
        ("demand.xlsx", 3, "under an empty header", "error"),
    ]
    assert "has 5 cells, expected 3" in bad[0].expected and "column E" in bad[0].expected
    assert "column D" in bad[1].expected
    report = batch.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (4, 2, 2)


def test_a_header_warning_counts_no_row_as_warned(tmp_path: Path) -> None:
    # review finding: rows_warned counts accepted data rows; an unknown column is a warning on
    # the header (row 0), which is not a data row
    text = "item_id,date,quantity,colour\nA,2023-01-01,5,red\nA,2023-01-02,6,blue\n"
    batch = read_canonical(write(tmp_path, "d.csv", text), "demand")
    assert [(p.code, p.row) for p in batch.problems] == [("unknown_column", 0)]
    assert batch.files[0].rows_warned == 0
