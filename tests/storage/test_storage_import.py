"""import_batch: round trips, one transaction, idempotency, upsert counts, import records."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from storage_samples import batch, demand, sample_table

from bufferwise.errors import Problem, StorageError
from bufferwise.model import TABLES, FileReport, ImportBatch
from bufferwise.storage import Repository, open_repository
from bufferwise.storage import imports as imports_module

EXPECTED_DTYPES = {
    "str": "object",
    "float": "float64",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with open_repository(db_url) as repository:
        yield repository


@pytest.mark.parametrize("name", list(TABLES))
def test_round_trip_of_each_canonical_table(repo: Repository, name: str) -> None:
    frame = sample_table(name, rows=7)
    result = repo.import_batch(batch({name: frame}))
    assert result.tables[name].inserted == 7
    stored = repo.read_table(name)
    expected = frame.sort_values(list(TABLES[name].key)).reset_index(drop=True)
    pdt.assert_frame_equal(stored, expected)
    for column in TABLES[name].columns:
        assert str(stored[column.name].dtype) == EXPECTED_DTYPES[column.kind], column.name


def test_read_table_filters(repo: Repository) -> None:
    repo.import_batch(batch({"demand": demand(["A", "B", "C"], days=10)}))
    assert set(repo.read_table("demand", item_id="B")["item_id"]) == {"B"}
    picked = repo.read_table("demand", item_id=["A", "C"], date=pd.Timestamp("2024-01-03").date())
    assert list(picked["item_id"]) == ["A", "C"]
    assert list(picked["date"]) == [pd.Timestamp("2024-01-03")] * 2
    assert repo.read_table("demand", item_id=[]).empty
    with pytest.raises(KeyError, match="no column 'colour'"):
        repo.read_table("demand", colour="red")
    with pytest.raises(KeyError, match="unknown table"):
        repo.read_table("suppliers")


def test_reimporting_the_same_file_adds_nothing(repo: Repository) -> None:
    first = repo.import_batch(batch({"demand": demand(["A", "B"], days=30)}))
    before = repo.snapshot()
    again = repo.import_batch(batch({"demand": demand(["A", "B"], days=30)}))
    assert again.skipped
    assert again.message.startswith("data.csv: already imported on ")
    assert again.message.endswith(f"(import {first.records[0].import_id}), nothing added")
    assert again.inserted == again.updated == again.unchanged == 0
    after = repo.snapshot()
    for name in before:
        pdt.assert_frame_equal(before[name], after[name])


def test_same_content_with_another_mapping_is_imported(repo: Repository) -> None:
    repo.import_batch(batch({"demand": demand(["A"], days=5)}, mapping="daily"))
    second = repo.import_batch(batch({"demand": demand(["A"], days=5)}, mapping="other"))
    assert not second.skipped
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 5)
    assert len(repo.list_imports()) == 2


def test_upsert_counts_inserted_updated_unchanged(repo: Repository) -> None:
    repo.import_batch(batch({"demand": demand(["A", "B"], days=10)}, content_hash="v1"))
    changed = demand(["A", "B", "C"], days=10)
    changed.loc[changed["item_id"] == "B", "quantity"] += 1.0  # 10 rows differ
    changed.loc[(changed["item_id"] == "A") & (changed.index % 2 == 0), "returns"] = 2.0  # 5 more
    result = repo.import_batch(batch({"demand": changed}, content_hash="v2"))
    counts = result.tables["demand"]
    assert (counts.rows, counts.inserted, counts.updated, counts.unchanged) == (30, 10, 15, 5)
    pdt.assert_frame_equal(repo.read_table("demand"), changed.reset_index(drop=True))
    record = repo.list_imports()[-1]
    assert (record.rows_inserted, record.rows_updated, record.rows_unchanged) == (10, 15, 5)


def test_empty_values_compare_equal_on_reimport(repo: Repository) -> None:
    items = sample_table("items", rows=4)
    repo.import_batch(batch({"items": items}, content_hash="a"))
    result = repo.import_batch(batch({"items": items.copy()}, content_hash="b"))
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 4)


def _snapshot_equal(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    assert before.keys() == after.keys()
    for name in before:
        pdt.assert_frame_equal(before[name], after[name], obj=name)


def test_failure_mid_way_writes_nothing(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.import_batch(batch({"demand": demand(["A"], days=5)}, content_hash="old"))
    before = repo.snapshot()
    real_add = imports_module.TableLoader.add
    done: list[str] = []

    def failing_add(loader, df):  # type: ignore[no-untyped-def]
        if done:  # the first table went in; fail on the second
            raise RuntimeError("disk pulled out")
        done.append(loader.table.name)
        return real_add(loader, df)

    monkeypatch.setattr(imports_module.TableLoader, "add", failing_add)
    tables = {"items": sample_table("items"), "demand": demand(["A", "B"], days=20)}
    with pytest.raises(RuntimeError, match="disk pulled out"):
        repo.import_batch(batch(tables, content_hash="new"))
    assert done == ["items"]
    _snapshot_equal(before, repo.snapshot())


def test_database_error_in_a_later_table_rolls_back_everything(repo: Repository) -> None:
    repo.import_batch(batch({"machines": sample_table("machines")}, content_hash="m"))
    before = repo.snapshot()
    events = sample_table("machine_events")
    events.loc[2, "end"] = pd.NaT  # end is required: NOT NULL in the database
    tables = {
        "items": sample_table("items"),
        "demand": demand(["A"], days=400),
        "machine_events": events,
    }
    with pytest.raises(StorageError, match="import failed, nothing was written"):
        repo.import_batch(batch(tables, content_hash="bad"))
    _snapshot_equal(before, repo.snapshot())


@pytest.mark.parametrize("existing", [False, True], ids=["empty-table", "filled-table"])
def test_duplicate_keys_in_a_batch_are_refused(repo: Repository, existing: bool) -> None:
    if existing:  # the repeated key is already stored: an upsert would silently pick one
        repo.import_batch(batch({"demand": demand(["A", "Z"], days=3)}, content_hash="z"))
    before = repo.snapshot()
    frame = demand(["A"], days=3, seed=1)
    repeated = frame.iloc[[1]].assign(quantity=99.0)
    frame = pd.concat([frame, repeated], ignore_index=True)
    with pytest.raises(StorageError, match="nothing was written"):
        repo.import_batch(batch({"demand": frame}, content_hash="dup"))
    _snapshot_equal(before, repo.snapshot())


def test_missing_required_column_is_refused(repo: Repository) -> None:
    frame = demand(["A"], days=3).drop(columns=["quantity"])
    with pytest.raises(StorageError, match="lacks required column"):
        repo.import_batch(batch({"demand": frame}))
    assert repo.table_counts()["demand"] == 0


def test_missing_optional_columns_take_their_defaults(repo: Repository) -> None:
    frame = demand(["A"], days=3).drop(columns=["returns"])
    repo.import_batch(batch({"demand": frame}))
    assert list(repo.read_table("demand")["returns"]) == [0.0, 0.0, 0.0]


def test_unknown_table_is_refused(repo: Repository) -> None:
    with pytest.raises(StorageError, match="unknown table"):
        repo.import_batch(ImportBatch(tables={"suppliers": pd.DataFrame({"x": [1]})}))


def test_import_records_per_file(repo: Repository) -> None:
    problems = [
        Problem("items.csv", 3, "unit_cost", "abc", "a number"),
        Problem("items.csv", 4, "moq", "-1", "a number >= 0", severity="warning", code="negative"),
        Problem("demand.csv", 9, "date", "2024-13-01", "a date", code="bad_date"),
    ]
    files = [
        FileReport(
            "items.csv",
            "hash-items",
            "erp.toml",
            rows_read=6,
            rows_accepted=5,
            rows_rejected=1,
            rows_warned=1,
        ),
        FileReport(
            "demand.csv", "hash-demand", "erp.toml", rows_read=21, rows_accepted=20, rows_rejected=1
        ),
    ]
    tables = {"items": sample_table("items"), "demand": demand(["A", "B"], days=10)}
    result = repo.import_batch(ImportBatch(tables=tables, problems=problems, files=files))
    records = repo.list_imports()
    assert [r.file for r in records] == ["items.csv", "demand.csv"]
    assert [r.import_id for r in records] == [r.import_id for r in result.records]
    items, dem = records
    assert items.batch_id == dem.batch_id == result.batch_id
    assert (items.content_hash, items.mapping, items.status) == (
        "hash-items",
        "erp.toml",
        "succeeded",
    )
    assert (items.rows_read, items.rows_accepted, items.rows_rejected, items.rows_warned) == (
        6,
        5,
        1,
        1,
    )
    assert items.tables == ("items", "demand")
    assert (items.rows_inserted, items.rows_updated, items.rows_unchanged) == (25, 0, 0)
    assert items.problems["errors"] == 1 and items.problems["warnings"] == 1
    assert items.problems["by_code"] == {"error:invalid": 1, "warning:negative": 1}
    assert items.problems["examples"][0] == "items.csv, row 3, column unit_cost: 'abc' a number"
    assert dem.problems["by_code"] == {"error:bad_date": 1}
    assert items.started_at <= items.finished_at
    assert items.as_dict()["tables"] == ["items", "demand"]


def test_batch_with_one_new_file_is_imported_and_notes_the_old_one(repo: Repository) -> None:
    repo.import_batch(batch({"items": sample_table("items")}, file="items.csv", content_hash="i"))
    files = [
        FileReport("items.csv", "i", "plain", rows_read=5, rows_accepted=5),
        FileReport("demand.csv", "d", "plain", rows_read=6, rows_accepted=6),
    ]
    tables = {"items": sample_table("items"), "demand": demand(["ITE000"], days=6)}
    result = repo.import_batch(ImportBatch(tables=tables, files=files))
    assert not result.skipped
    assert result.tables["items"].unchanged == 5 and result.tables["demand"].inserted == 6
    assert result.records[0].message.startswith("items.csv: already imported on ")
    assert result.records[1].message == ""


def test_known_ids(repo: Repository) -> None:
    items = sample_table("items", rows=3)
    receipts = sample_table("receipts", rows=2)
    receipts["supplier_id"] = ["S-far", "S-near"]
    repo.import_batch(
        batch({"items": items, "receipts": receipts, "machines": sample_table("machines", rows=2)})
    )
    ids = repo.known_ids()
    assert ids["item_id"] == {"ITE000", "ITE001", "ITE002"}
    assert ids["machine_id"] == {"MAC000", "MAC001"}
    assert ids["supplier_id"] == {"supplier_id-0", "supplier_id-1", "S-far", "S-near"}


def test_chunked_load_and_progress(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    import bufferwise.storage.convert as convert

    monkeypatch.setattr(convert, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(convert.arrow_chunks, "__defaults__", (1000,))
    frame = demand([f"I{i:03d}" for i in range(25)], days=101)  # 2525 rows: 3 chunks
    seen: list[int] = []
    result = repo.import_batch(batch({"demand": frame}), progress=seen.append)
    assert seen == [1000, 1000, 525]
    assert result.tables["demand"].inserted == 2525
    again = frame.copy()
    again.loc[again.index % 100 == 0, "quantity"] = 99.0
    second = repo.import_batch(batch({"demand": again}, content_hash="h2"), progress=seen.append)
    assert (second.updated, second.unchanged) == (int((again.index % 100 == 0).sum()), 2525 - 26)
    stored = repo.read_table("demand")
    assert len(stored) == 2525 and np.isclose(stored["quantity"].sum(), again["quantity"].sum())


def test_awkward_text_round_trips(repo: Repository) -> None:
    # varied lengths (several binary COPY layouts), UTF-8, separators, quotes, newlines, empties
    items = sample_table("items", rows=6)
    items["item_id"] = ["A", "Ölpumpe-Ø12", "x" * 300, "comma,semi;tab\t", 'quote"d', "line\nbreak"]
    items["description"] = ["", None, "Schraube M8 × 40 — verzinkt", "NULL", "\\N", "日本語"]
    repo.import_batch(batch({"items": items}))
    stored = repo.read_table("items")
    expected = items.sort_values("item_id").reset_index(drop=True)
    pdt.assert_frame_equal(stored, expected)  # the same (byte) order on both back-ends
    again = repo.import_batch(batch({"items": items}, content_hash="again"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)


@pytest.mark.parametrize("name", list(TABLES))
def test_reading_an_empty_table(repo: Repository, name: str) -> None:
    empty = repo.read_table(name)
    assert empty.empty and list(empty.columns) == list(TABLES[name].column_names)
    for column in TABLES[name].columns:
        assert str(empty[column.name].dtype) == EXPECTED_DTYPES[column.kind], column.name
