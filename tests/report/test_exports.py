"""CSV and Excel exports: every item, ERP columns first, byte-identical for the same seed,
a sheet per table with frozen headers and number formats."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from bufferwise.errors import InvalidInput
from bufferwise.report import ERP_COLUMNS, WORKBOOK_NAME, export_tables, write_exports
from bufferwise.report.exports import (
    EXPORT_RENAMES,
    NUMBER_FORMATS,
    column_kind,
    data_date,
    format_number,
    table_to_csv,
    workbook_bytes,
)
from bufferwise.storage import open_repository

from .conftest import Written


def _rows(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_exports_exist_and_hold_every_item(first_run: Written) -> None:
    result = first_run.result
    names = {p.name for p in first_run.exports}
    tables = export_tables(result)
    assert names == {f"{n}.csv" for n in tables} | {WORKBOOK_NAME}
    assert {"recommendations", "findings", "machines", "buffers", "losses"} <= set(tables)
    assert {"demand_profile", "supply_profile"} <= set(tables)
    rows = _rows(first_run.folder / "exports" / "recommendations.csv")
    ids = [r["item_id"] for r in rows]
    assert len(rows) == len(result.items)
    assert sorted(ids) == sorted(result.items["item_id"].astype(str))
    path = first_run.folder / "exports" / "recommendations.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header[: len(ERP_COLUMNS)]) == ERP_COLUMNS
    # every stance and level is filled in, as an ERP import needs
    for r in rows:
        assert r["stance"] in {"jit", "lean", "buffer", "strategic"}
        for c in ("safety_stock", "reorder_point", "order_up_to", "order_quantity"):
            assert float(r[c]) >= 0.0, (r["item_id"], c)
    machines = _rows(first_run.folder / "exports" / "machines.csv")
    assert len(machines) == len(result.equipment.machines)


def test_same_seed_gives_byte_identical_exports_and_report(
    first_run: Written, second_run: Written
) -> None:
    # two analyze runs, each on its own freshly imported database, same settings and seed
    assert first_run.result.seed == second_run.result.seed
    assert [p.name for p in first_run.exports] == [p.name for p in second_run.exports]
    for a, b in zip(first_run.exports, second_run.exports, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert first_run.report.read_bytes() == second_run.report.read_bytes()


def test_csv_has_no_exponents_and_stable_columns(first_run: Written) -> None:
    text = (first_run.folder / "exports" / "recommendations.csv").read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    recs = first_run.result.decisions.items
    renamed = EXPORT_RENAMES["recommendations"]  # cash_freed -> finding_stock_value
    rest = [renamed.get(c, c) for c in recs.columns if c not in ERP_COLUMNS]
    assert list(df.columns) == list(ERP_COLUMNS) + rest
    numbers = df[["safety_stock", "buffer_value", "expected_fill_rate"]].to_numpy().ravel()
    assert not any("e" in v.lower() for v in numbers if v)
    # the CSV values are the result's, to the 6 decimals written
    got = df.set_index("item_id")["safety_stock"].astype(float)
    want = recs.set_index("item_id")["safety_stock"]
    np.testing.assert_allclose(got.reindex(want.index), want, atol=5e-7)


def test_workbook_sheet_per_table_frozen_header_and_formats(first_run: Written) -> None:
    tables = export_tables(first_run.result)
    wb = load_workbook(first_run.folder / "exports" / WORKBOOK_NAME)
    assert wb.sheetnames == list(tables)
    for name, df in tables.items():
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert [c.value for c in ws[1]] == list(df.columns), name
        assert all(c.font.bold for c in ws[1]), name
        assert ws.max_row == len(df) + 1, name
        assert ws.column_dimensions["A"].width >= 8
    ws = wb["recommendations"]
    col = {c.value: c.column for c in ws[1]}
    cell = ws.cell(row=2, column=col["buffer_value"])
    assert cell.number_format == NUMBER_FORMATS["money"] == "#,##0"
    assert ws.cell(row=2, column=col["expected_fill_rate"]).number_format == "0.0%"
    assert ws.cell(row=2, column=col["safety_stock"]).number_format == "#,##0.0##"
    assert ws.cell(row=2, column=col["item_id"]).data_type == "s"


def test_workbook_times_are_fixed_by_the_data(first_run: Written) -> None:
    when = data_date(first_run.result)
    with open_repository(f"sqlite:///{first_run.folder / 'plant.db'}") as repo:
        last = repo.read_table("demand")["date"].max()  # the stored data's last demand date
    assert when == last.to_pydatetime()
    with zipfile.ZipFile(first_run.folder / "exports" / WORKBOOK_NAME) as z:
        stamps = {i.date_time for i in z.infolist()}
        core = z.read("docProps/core.xml").decode()
    assert stamps == {(when.year, when.month, when.day, 0, 0, 0)}
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f">{iso}</dcterms:created>" in core
    assert f">{iso}</dcterms:modified>" in core


def test_text_cells_stay_text_and_illegal_characters_are_dropped() -> None:
    table = pd.DataFrame(
        {
            "item_id": ['=HYPERLINK("x")', "<script>&", "bell\x07"],
            "buffer_value": [1.5, np.nan, -0.0],
            "expected_fill_rate": [0.5, 1.0, 0.25],
            "when": pd.to_datetime(["2025-01-02", "2025-01-03 04:05:06", None], format="ISO8601"),
            "flag": [True, False, True],
        }
    )
    data = workbook_bytes({"t": table}, pd.Timestamp("2025-12-30").to_pydatetime())
    ws = load_workbook(io.BytesIO(data))["t"]
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == [
        '=HYPERLINK("x")',
        "<script>&",
        "bell",
    ]
    assert ws.cell(row=2, column=1).data_type == "s"
    assert ws.cell(row=3, column=2).value is None
    csv_text = table_to_csv(table).decode()
    assert csv_text.splitlines()[1:] == [
        '"=HYPERLINK(""x"")",1.5,0.5,2025-01-02,true',
        "<script>&,,1,2025-01-03 04:05:06,false",
        "bell\x07,0,0.25,,true",
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567.1234567, "1234567.123457"),
        (0.1 + 0.2, "0.3"),
        (-0.0, "0"),
        (-1e-9, "0"),
        (1e20, "100000000000000000000"),
        (405.0, "405"),
        (float("nan"), ""),
        (float("inf"), "inf"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("buffer_value", "money"),
        ("expected_annual_stockout_cost", "money"),
        ("stockout_cost_per_unit", "money_per_unit"),
        ("expected_fill_rate", "share"),
        ("expected_fill_rate_now", "share"),
        ("on_time_rate", "share"),
        ("oee", "share"),
        ("upstream_rate_per_hour", "quantity"),
        ("safety_stock", "quantity"),
        ("lead_time_p95_days", "quantity"),
        ("cv2", "ratio"),
    ],
)
def test_column_kind(name: str, kind: str) -> None:
    assert column_kind(name, np.dtype(float)) == kind
    assert kind in NUMBER_FORMATS


def test_unknown_format_is_an_error(tmp_path, result) -> None:
    with pytest.raises(InvalidInput, match="'pdf' unknown"):
        write_exports(result, tmp_path, formats=("csv", "pdf"))
    assert not list(tmp_path.iterdir())


def test_csv_only(tmp_path, result) -> None:
    paths = write_exports(result, tmp_path / "out", formats=("csv",))
    assert paths and all(p.suffix == ".csv" for p in paths)
