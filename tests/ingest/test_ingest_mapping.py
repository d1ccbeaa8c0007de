"""Mapping features, each on a small hand-made export with a hand-checked answer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bufferwise.errors import MappingError
from bufferwise.ingest import load_mapping, parse_mapping_text, read_with_mapping, shipped_mappings
from bufferwise.ingest.mapping import NAMED_FACTORS
from ingest.helpers import problems_with, write


def run(tmp_path: Path, csv_text: str, toml: str, **kw: object):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "export.csv", csv_text)
    mapping = tmp_path / "export.toml"
    mapping.write_text(toml)
    return read_with_mapping(path, mapping, **kw)  # type: ignore[arg-type]


def test_shipped_mappings_load() -> None:
    names = shipped_mappings()
    assert names == sorted(
        [
            "azure_failures",
            "azure_machines",
            "azure_maintenance",
            "carparts_long",
            "carparts_wide",
            "man_demand",
            "man_items",
            "raf_demand",
            "raf_items",
            "scms_receipts",
            "sme_retrofit",
        ]
    )
    for name in names:
        assert load_mapping(name).name == name
    assert load_mapping("scms_receipts.toml").on_bad_row == "skip"


def test_named_factors_are_the_documented_constants() -> None:
    # months -> days: the mean Gregorian month, 365.25 days / 12
    assert NAMED_FACTORS["months_to_days"] == 365.25 / 12 == 30.4375
    assert NAMED_FACTORS["weeks_to_days"] == 7


def test_iso_weeks_start_on_monday(tmp_path: Path) -> None:
    batch = run(
        tmp_path,
        "sku,2015-W53,2016-W01,2020-W01\nA,1,2,3\n",
        '[[tables]]\ntable = "demand"\nmelt = { id_columns = ["sku"] }\n'
        'columns = { item_id = "sku", date = { column = "period", formats = ["%G-W%V"] }, '
        'quantity = "value" }\n',
    )
    # ISO 8601: 2015 has 53 weeks, W53 starts Mon 28 Dec 2015; 2016-W01 starts Mon 4 Jan 2016;
    # 2020-W01 starts Mon 30 Dec 2019
    assert batch.tables["demand"]["date"].tolist() == [
        pd.Timestamp("2015-12-28"),
        pd.Timestamp("2016-01-04"),
        pd.Timestamp("2019-12-30"),
    ]


def test_ordinal_periods(tmp_path: Path) -> None:
    batch = run(
        tmp_path,
        "sku,period_01,period_02,period_13\nA,1,2,3\n",
        '[[tables]]\ntable = "demand"\nmelt = { id_columns = ["sku"] }\n[tables.columns]\n'
        'item_id = "sku"\n'
        'date = { column = "period", ordinal = { start = "2010-01-01", freq = "MS" } }\n'
        'quantity = "value"\n',
    )
    assert batch.tables["demand"]["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2010-01-01",
        "2010-02-01",
        "2011-01-01",
    ]


def test_melt_empty_cells_policies(tmp_path: Path) -> None:
    text = "sku,2023-01,2023-02,2023-03\nA,1,,3\n"
    base = (
        '[[tables]]\ntable = "demand"\n'
        'melt = {{ id_columns = ["sku"], empty_cells = "{policy}" }}\n'
        'columns = { item_id = "sku", date = { column = "period", formats = ["%Y-%m"] }, '
        'quantity = "value" }\n'
    )
    missing = run(
        tmp_path, text, base.replace("{policy}", "missing").replace("{{", "{").replace("}}", "}")
    )
    assert missing.tables["demand"]["quantity"].tolist() == [1.0, 3.0]
    gap = problems_with(missing, "gap")[0]
    assert (
        gap.value == "A"
        and "1 missing month" in gap.expected
        and "1 inside its series" in gap.expected
    )
    zero = run(
        tmp_path, text, base.replace("{policy}", "zero").replace("{{", "{").replace("}}", "}")
    )
    assert zero.tables["demand"]["quantity"].tolist() == [1.0, 0.0, 3.0]
    error = run(
        tmp_path, text, base.replace("{policy}", "error").replace("{{", "{").replace("}}", "}")
    )
    (problem,) = error.errors
    assert (problem.code, problem.row, problem.column) == ("missing_value", 1, "2023-02")


def test_value_map_matches_numbers_by_value(tmp_path: Path) -> None:
    batch = run(
        tmp_path,
        "m,t,s\nM1,2023-01-01 00:00,2.0\nM1,2023-01-01 00:05,02\nM1,2023-01-01 00:10,1\n",
        '[[tables]]\ntable = "machine_events"\n'
        'columns = { machine_id = "m", start = "t", state = { column = "s", map = { "1" = "idle", '
        '"2" = "running" } } }\n'
        'intervals = { group_by = ["machine_id"], max_gap = "5min" }\n',
    )
    assert batch.tables["machine_events"]["state"].tolist() == ["running", "running", "idle"]


def test_intervals_cap_and_last_row(tmp_path: Path) -> None:
    # rows out of order and two machines interleaved: intervals are built per machine in time order
    text = (
        "m,t,s\n"
        "M1,2023-01-01 00:05,2\n"
        "M2,2023-01-01 00:00,3\n"
        "M1,2023-01-01 00:00,2\n"
        "M1,2023-01-01 01:00,1\n"
    )
    batch = run(
        tmp_path,
        text,
        '[[tables]]\ntable = "machine_events"\n'
        'columns = { machine_id = "m", start = "t", state = { column = "s", map = { "1" = "idle", '
        '"2" = "running", "3" = "down" } } }\n'
        'intervals = { group_by = ["machine_id"], max_gap = "10min" }\n',
    )
    ev = batch.tables["machine_events"]
    ends = ev["end"].dt.strftime("%H:%M").tolist()
    # row 1 (00:05) is followed by 01:00 > 10 min later: capped at 00:15 and warned;
    # row 2 and row 4 are the last of their machine: they last max_gap
    assert ends == ["00:15", "00:10", "00:05", "01:10"]
    (warning,) = problems_with(batch, "interval_capped")
    assert (warning.row, warning.column, warning.severity) == (1, "t", "warning")
    assert batch.files[0].rows_warned == 1


def test_timezones(tmp_path: Path) -> None:
    text = "m,t\nM1,2023-07-01 10:00:00+02:00\nM2,2023-07-01 10:00:00-05:00\n"
    aware = run(
        tmp_path,
        text,
        '[[tables]]\ntable = "machines"\ncolumns = { machine_id = "m" }\n'
        '[[tables]]\ntable = "machine_events"\n[tables.columns]\nmachine_id = "m"\n'
        'start = { column = "t", formats = ["%Y-%m-%d %H:%M:%S%z"] }\n'
        'end = { column = "t", formats = ["%Y-%m-%d %H:%M:%S%z"] }\n'
        'state = { constant = "down" }\n',
    )
    assert aware.tables["machine_events"]["start"].dt.strftime("%H:%M").tolist() == [
        "08:00",
        "15:00",
    ]
    local = run(
        tmp_path,
        "m,t\nM1,2023-07-01 10:00\nM1,2023-01-01 10:00\n",
        '[[tables]]\ntable = "machine_events"\n[tables.columns]\nmachine_id = "m"\n'
        'start = { column = "t", timezone = "Europe/Rome" }\n'
        'end = { column = "t", timezone = "Europe/Rome" }\n'
        'state = { constant = "down" }\n',
    )
    # Rome is UTC+2 in July (summer time) and UTC+1 in January
    assert local.tables["machine_events"]["start"].dt.strftime("%m-%d %H:%M").tolist() == [
        "07-01 08:00",
        "01-01 09:00",
    ]


def test_filters_count_every_dropped_row(tmp_path: Path) -> None:
    text = (
        "sku,day,qty,kind\nA,2023-01-01,1,sale\nA,2023-01-02,2,TEST-1\nA,2023-01-03,3,internal\n"
        "A,2023-01-04,,sale\n"
    )
    batch = run(
        tmp_path,
        text,
        '[[filters]]\ncolumn = "kind"\nmatches = "TEST-.*"\nreason = "test orders"\n'
        '[[filters]]\ncolumn = "kind"\none_of = ["internal", "scrap"]\n'
        'reason = "not customer demand"\n'
        '[[filters]]\ncolumn = "qty"\nempty = true\nreason = "not recorded"\n'
        '[[tables]]\ntable = "demand"\n'
        'columns = { item_id = "sku", date = "day", quantity = "qty" }\n',
    )
    filtered = problems_with(batch, "filtered")
    assert [(p.row, p.column, p.value) for p in filtered] == [
        (2, "kind", "TEST-1"),
        (3, "kind", "internal"),
        (4, "qty", ""),
    ]
    assert "test orders" in filtered[0].expected
    assert (batch.files[0].rows_accepted, batch.files[0].rows_rejected) == (1, 3)
    assert batch.errors == []


def test_factor_divide_by_constant_and_decimal_comma(tmp_path: Path) -> None:
    path = write(tmp_path, "items.csv", "Teil;Preis;Lager;LZ;Gruppe\nA;1.234,50;246,90;6;x\n")
    mapping = tmp_path / "items.toml"
    mapping.write_text(
        '[source]\ndecimal = ","\nthousands = "."\n[[tables]]\ntable = "items"\n[tables.columns]\n'
        'item_id = "Teil"\nunit_cost = "Preis"\n'
        'holding_rate = { column = "Lager", divide_by = "Preis" }\n'
        'nominal_lead_time_days = { column = "LZ", factor = "weeks_to_days" }\n'
        'review_period_days = { constant = 7 }\ncategory = { constant = "spares" }\n'
    )
    (item,) = read_with_mapping(path, mapping).tables["items"].to_dict("records")
    assert item["unit_cost"] == 1234.5
    assert item["holding_rate"] == pytest.approx(246.9 / 1234.5)  # = 0.2
    assert item["nominal_lead_time_days"] == 42.0
    assert (item["review_period_days"], item["category"]) == (7.0, "spares")
    assert item["criticality"] == "medium"  # schema default for an unmapped optional column


def test_distinct_table_and_several_tables_from_one_file(tmp_path: Path) -> None:
    text = (
        "asset,ict,t,n\nM1,30,2023-01-01 00:00,10\nM1,30,2023-01-01 00:05,12\n"
        "M2,60,2023-01-01 00:00,4\n"
    )
    batch = run(
        tmp_path,
        text,
        '[[tables]]\ntable = "machines"\ndistinct = true\n'
        'columns = { machine_id = "asset", ideal_cycle_time_s = "ict" }\n'
        '[[tables]]\ntable = "production_counts"\n'
        'columns = { machine_id = "asset", start = "t", total_count = "n", good_count = "n" }\n'
        'intervals = { group_by = ["machine_id"], max_gap = "5min" }\n',
    )
    assert batch.tables["machines"]["machine_id"].tolist() == ["M1", "M2"]
    assert len(batch.tables["production_counts"]) == 3
    # 12 units x 30 s = 360 s in a 300 s interval: performance above 100% (kept, warned)
    (warning,) = problems_with(batch, "performance_above_100")
    assert (warning.row, warning.column, warning.value) == (2, "n", "12")
    assert (batch.files[0].rows_read, batch.files[0].rows_accepted, batch.files[0].rows_warned) == (
        3,
        3,
        1,
    )


def test_known_ids_add_to_the_batch_parent(tmp_path: Path) -> None:
    text = "asset,t\nM1,2023-01-01 00:00\n"
    toml = (
        '[[tables]]\ntable = "machine_events"\n'
        'columns = { machine_id = "asset", start = "t", end = "t", '
        'state = { constant = "down" } }\n'
    )
    assert run(tmp_path, text, toml, known_ids={"machines": {"M1"}}).errors == []
    assert [p.code for p in run(tmp_path, text, toml, known_ids={"machines": {"M9"}}).errors] == [
        "unknown_id"
    ]
    assert run(tmp_path, text, toml).errors == []  # nothing to check against


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('on_bad_row = "maybe"\n', "on_bad_row"),
        ('colour = "red"\n', "key colour: is not a known key"),
        ('[source]\ndelimiter = ",,"\n', "source.delimiter"),
        ('[source]\nformat = "xls"\n', "source.format"),
        (
            "[[filters]]\ncolumn = 'a'\nequals = 'x'\nempty = true\nreason = 'r'\n",
            "exactly one condition",
        ),
        ("[[filters]]\ncolumn = 'a'\nequals = 'x'\n", "filters[0].reason"),
        (
            "[[filters]]\ncolumn = 'a'\nmatches = '('\nreason = 'r'\n",
            "not a valid regular expression",
        ),
    ],
)
def test_bad_top_level_settings(toml: str, message: str) -> None:
    base = '[[tables]]\ntable = "demand"\ncolumns = { item_id = "a", date = "b", quantity = "c" }\n'
    with pytest.raises(MappingError) as err:
        parse_mapping_text(toml + base, origin="m.toml")
    assert message in str(err.value)
    assert err.value.problems and err.value.problems[0].file == "m.toml"


@pytest.mark.parametrize(
    ("quantity", "item", "extra", "message"),
    [
        ('{ column = "c", factor = "furlongs" }', '"a"', "", "is not a known conversion"),
        (
            '{ column = "c", formats = ["%Y"] }',
            '"a"',
            "",
            "only applies to date and datetime columns",
        ),
        ('{ column = "c", constant = 1 }', '"a"', "", "exactly one of column or constant"),
        ('"c"', '{ column = "a", factor = 2 }', "", "only apply to number columns"),
        ('"c"', '"a"', 'melt = { id_columns = ["a"], empty_cells = "drop" }', "empty_cells"),
        ('"c"', '"a"', 'melt = { value_columns = ["x"] }', "id_columns: is required"),
        ('"c"', '"a"', 'melt = { id_columns = ["period"] }', "must differ from the id_columns"),
        ('{ column = "c", map = {} }', '"a"', "", "map"),
        ('{ column = "c", map = { "x" = true } }', '"a"', "", "must be a text or number value"),
    ],
)
def test_bad_column_settings(quantity: str, item: str, extra: str, message: str) -> None:
    text = (
        f'[[tables]]\ntable = "demand"\n{extra}\n[tables.columns]\n'
        f'item_id = {item}\ndate = "b"\nquantity = {quantity}\n'
    )
    with pytest.raises(MappingError) as err:
        parse_mapping_text(text, origin="m.toml")
    assert message in str(err.value)


def test_bad_interval_settings() -> None:
    base = (
        '[[tables]]\ntable = "machine_events"\n'
        'columns = { machine_id = "a", start = "b", state = "c" }\n'
    )
    with pytest.raises(MappingError, match="max_gap: is required"):
        parse_mapping_text(base + 'intervals = { group_by = ["machine_id"] }\n')
    with pytest.raises(MappingError, match="must be a duration"):
        parse_mapping_text(base + 'intervals = { group_by = ["machine_id"], max_gap = "soon" }\n')
    with pytest.raises(MappingError, match="is derived by"):
        parse_mapping_text(
            base.replace('state = "c"', 'state = "c", end = "d"')
            + 'intervals = { max_gap = "5min" }\n'
        )
    with pytest.raises(MappingError, match="names 'asset', which is not a column"):
        parse_mapping_text(base + 'intervals = { group_by = ["asset"], max_gap = "5min" }\n')
    with pytest.raises(
        MappingError, match=r"leaves required machine_events column.s. unmapped: end"
    ):
        parse_mapping_text(base)


def test_the_first_example_of_docs_mapping_md_works(tmp_path: Path) -> None:
    # docs/mapping.md, "A first mapping": the export and the TOML are taken from the page itself
    doc = (Path(__file__).resolve().parents[2] / "docs" / "mapping.md").read_text()
    export = doc.split("```text\n", 1)[1].split("```", 1)[0]
    toml = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path, "po_lines.csv", export)
    mapping = tmp_path / "po_lines.toml"
    mapping.write_text(toml)
    batch = read_with_mapping(path, mapping)
    assert batch.problems == []
    (line,) = batch.tables["receipts"].to_dict("records")
    assert (line["po_id"], line["item_id"], line["supplier_id"]) == ("4500012", "M4-BOLT", "ACME")
    assert line["order_date"] == pd.Timestamp("2024-01-03")
    assert line["received_date"] == pd.Timestamp("2024-01-19")
    assert line["qty_ordered"] == 1000.0  # "1.000" with thousands "." and decimal ","


def test_bad_period_header_is_a_layout_error(tmp_path: Path) -> None:
    # a column that is not a period (2012 has 52 ISO weeks, and "Total" is no week at all)
    # is named once as a header problem instead of rejecting every row
    with pytest.raises(MappingError) as err:
        run(
            tmp_path,
            "sku,2012-W01,2012-W52,Total\nA,1,2,3\n",
            '[[tables]]\ntable = "demand"\nmelt = { id_columns = ["sku"] }\n'
            'columns = { item_id = "sku", date = { column = "period", formats = ["%G-W%V"] }, '
            'quantity = "value" }\n',
        )
    (problem,) = err.value.problems
    assert (problem.file, problem.row, problem.column, problem.code) == (
        "export.csv",
        0,
        "Total",
        "bad_header",
    )
    assert "is not a period heading (expected YYYY-Www or YYYY-MM-DD for date)" in problem.expected
    assert "melt.value_columns" in problem.expected
    # listing the period columns leaves the total out
    batch = run(
        tmp_path,
        "sku,2012-W01,2012-W52,Total\nA,1,2,3\n",
        '[[tables]]\ntable = "demand"\n'
        'melt = { id_columns = ["sku"], value_columns = ["2012-W01", "2012-W52"] }\n'
        'columns = { item_id = "sku", date = { column = "period", formats = ["%G-W%V"] }, '
        'quantity = "value" }\n',
    )
    assert batch.tables["demand"]["quantity"].tolist() == [1.0, 2.0]


def test_distinct_parent_takes_its_first_accepted_row(tmp_path: Path) -> None:
    # review finding: M1's first snapshot has a status the mapping does not know, so that source
    # row is rejected in every table; machines must take M1 from row 2, not lose it while its
    # events and counts stay (orphans). M2's only row is rejected: no M2 anywhere, and its
    # child rows get no extra unknown_id (the row is rejected once, for its status).
    from bufferwise.ingest import enforce_policy

    text = (
        "ts,asset,items,status\n"
        "2022-08-31 22:00:00+00:00,M1,4,9\n"
        "2022-08-31 22:05:00+00:00,M1,3,2\n"
        "2022-08-31 22:10:00+00:00,M1,5,2\n"
        "2022-08-31 22:00:00+00:00,M2,1,9\n"
    )
    batch = enforce_policy(
        read_with_mapping(write(tmp_path, "sme.csv", text), "sme_retrofit"), "skip"
    )
    machines = batch.tables["machines"]["machine_id"].tolist()
    assert machines == ["M1"]
    for child in ("machine_events", "production_counts"):
        assert batch.tables[child]["machine_id"].tolist() == ["M1", "M1"]
    assert {(p.row, p.code) for p in batch.errors} == {(1, "unmapped_value"), (4, "unmapped_value")}
    report = batch.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (4, 2, 2)
