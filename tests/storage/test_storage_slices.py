"""An import stored slice by slice (`import_files(..., slice_rows=n)`) stores exactly what a
whole-file import stores, reports the same problems and counts, and still writes nothing when a
row late in the file fails (the slices already written are rolled back)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from bufferwise.errors import ImportRejected, Problem
from bufferwise.services.imports import ImportSummary, import_files
from bufferwise.storage import Repository, open_repository
from bufferwise.storage import bulk as bulk_module


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with open_repository(db_url) as repository:
        yield repository


def demand_csv(
    path: Path, items: int, days: int, *, seed: int = 1, bad: dict[int, str] | None = None
) -> Path:
    """item_id,date,quantity,returns rows, shuffled by item; `bad` replaces data row n."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-03-01")
    rows = [
        f"P{i:03d},{start + d},{int(rng.poisson(4))},{'1' if rng.random() < 0.04 else ''}"
        for i in rng.permutation(items)
        for d in range(days)
    ]
    for n, text in (bad or {}).items():
        rows[n - 1] = text
    path.write_text("item_id,date,quantity,returns\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _same_summary(sliced: ImportSummary, whole: ImportSummary) -> None:
    assert sliced.batch.problems == whole.batch.problems
    assert sliced.batch.files == whole.batch.files
    assert sliced.result.message == whole.result.message
    assert {n: c.as_dict() for n, c in sliced.result.tables.items()} == {
        n: c.as_dict() for n, c in whole.result.tables.items()
    }


def test_sliced_import_stores_what_a_whole_import_stores(
    repo: Repository, db_url: str, tmp_path: Path
) -> None:
    reference = f"sqlite:///{tmp_path / 'whole.db'}"
    first = demand_csv(tmp_path / "demand.csv", items=9, days=70, bad={100: "P001,2024-03-02,x,"})
    sliced = import_files(db_url, [first], table="demand", mode="skip", slice_rows=37)
    whole = import_files(reference, [first], table="demand", mode="skip", slice_rows=None)
    _same_summary(sliced, whole)
    assert sliced.result.inserted == 9 * 70 - 1

    # an update: some quantities change, some rows are new, the rest stay (staging path)
    second = tmp_path / "demand2.csv"
    lines = first.read_text().splitlines()
    lines = [ln.replace(",5,", ",6,") for ln in lines] + ["P900,2024-03-01,2,"]
    second.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sliced = import_files(db_url, [second], table="demand", mode="skip", slice_rows=41)
    whole = import_files(reference, [second], table="demand", mode="skip", slice_rows=None)
    _same_summary(sliced, whole)
    assert sliced.result.inserted == 1 and sliced.result.updated > 0

    with open_repository(reference) as other:
        pdt.assert_frame_equal(repo.read_table("demand"), other.read_table("demand"))
        assert len(repo.list_imports()) == len(other.list_imports()) == 2

    again = import_files(db_url, [second], table="demand", mode="skip", slice_rows=41)
    assert again.result.skipped and again.result.inserted == 0
    assert len(repo.list_imports()) == 2


@pytest.mark.parametrize(
    ("bad", "code", "column"),
    [
        ({590: "P002,2024-03-05,-3,"}, "negative_value", "quantity"),
        ({600: "P004,2024-13-01,1,"}, "bad_date", "date"),
    ],
)
@pytest.mark.parametrize("mode", ["default", "strict"])
@pytest.mark.parametrize("in_process", [None, True], ids=["thread", "process"])
def test_a_bad_row_in_a_late_slice_leaves_the_database_unchanged(
    repo: Repository,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bad: dict[int, str],
    code: str,
    column: str,
    mode: str,
    in_process: bool | None,
) -> None:
    import_files(
        db_url, [demand_csv(tmp_path / "old.csv", items=3, days=20, seed=5)], table="demand"
    )
    before = repo.snapshot()
    written: list[int] = []
    real_add = bulk_module.TableLoader.add

    def counting_add(loader: bulk_module.TableLoader, df: pd.DataFrame) -> None:
        written.append(len(df))
        real_add(loader, df)

    monkeypatch.setattr(bulk_module.TableLoader, "add", counting_add)
    path = demand_csv(tmp_path / "demand.csv", items=10, days=60, bad=bad)
    with pytest.raises(ImportRejected) as caught:
        import_files(
            db_url, [path], table="demand", mode=mode, slice_rows=50, in_process=in_process
        )
    (row,) = bad
    message = str(caught.value)
    assert f"demand.csv, row {row}, column {column}" in message
    errors = [p for p in caught.value.problems if p.severity == "error"]
    assert [(p.row, p.code) for p in errors] == [(row, code)]
    assert sum(written) >= 500  # the early slices did go in before the bad row was seen ...
    for name, frame in repo.snapshot().items():  # ... and were rolled back
        pdt.assert_frame_equal(frame, before[name], obj=name)


def test_a_key_repeated_in_a_late_slice_rejects_the_import(
    repo: Repository, db_url: str, tmp_path: Path
) -> None:
    before = repo.snapshot()
    path = demand_csv(tmp_path / "demand.csv", items=6, days=50)
    lines = path.read_text().splitlines()
    lines.append(lines[3])  # data row 3 again, as the last row (row 301)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_files(db_url, [path], table="demand", slice_rows=25)
    assert "row 301" in str(caught.value) and "of row 3 " in str(caught.value)
    for name, frame in repo.snapshot().items():
        pdt.assert_frame_equal(frame, before[name], obj=name)


@pytest.mark.parametrize("in_process", [None, True], ids=["thread", "process"])
def test_a_file_unreadable_half_way_is_imported_whole_instead(
    repo: Repository,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_process: bool | None,
) -> None:
    from bufferwise.ingest import pipeline
    from bufferwise.ingest.readers import UnreadableMidway

    real = pipeline.read_table_slices

    def breaking(path: Path, slice_rows: int | None, **options: object) -> Iterator[object]:
        slices = real(path, slice_rows, **options)  # type: ignore[arg-type]
        if slice_rows is None:
            yield from slices
            return
        yield next(slices)
        yield next(slices)
        raise UnreadableMidway(f"{path.name}: cannot be read as CSV (test)")

    monkeypatch.setattr(pipeline, "read_table_slices", breaking)
    path = demand_csv(tmp_path / "demand.csv", items=5, days=40)
    summary = import_files(db_url, [path], table="demand", slice_rows=30, in_process=in_process)
    assert summary.result.inserted == 200  # the 60 rows of the first slices are not twice
    assert repo.table_counts()["demand"] == 200
    assert len(repo.list_imports()) == 1


def test_validate_in_slices_reports_what_a_whole_read_reports(tmp_path: Path) -> None:
    from bufferwise.services.imports import read_inputs, validate_files

    items = tmp_path / "items.csv"
    items.write_text(
        "item_id,unit_cost,nominal_lead_time_days\nP001,2,5\nP002,3,5\n", encoding="utf-8"
    )
    demand = demand_csv(tmp_path / "demand.csv", items=4, days=30, bad={70: "P002,2024-03-0x,1,"})
    whole = read_inputs([items, demand])
    for slice_rows in (None, 9):
        summary = validate_files([items, demand], slice_rows=slice_rows)
        assert summary.batch.problems == whole.problems
        assert summary.batch.files == whole.files
    unknown = {p.value for p in whole.problems if p.code == "unknown_id"}
    assert unknown == {"P000", "P003"}  # not among the items given
    assert any(p.code == "bad_date" and p.row == 70 for p in whole.problems)
    assert whole.files[0].rows_accepted == 2


COUNTS_HEADER = "machine_id,start,end,total_count,good_count\n"


def test_performance_above_100_uses_stored_and_earlier_machines(
    repo: Repository, db_url: str, tmp_path: Path
) -> None:
    # review finding: the ideal cycle time comes from the machines stored already or read
    # earlier in the same import (a folder's machines file is read first), not only from a
    # machines table of the same mapping. 12 units x 30 s = 360 s > a 300 s interval.
    from bufferwise.services.imports import read_inputs, validate_files

    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "machines.csv").write_text(
        "machine_id,ideal_cycle_time_s\nM1,30\nM2,\n", encoding="utf-8"
    )
    (folder / "production_counts.csv").write_text(
        COUNTS_HEADER
        + "M1,2023-01-01 00:00,2023-01-01 00:05,12,12\n"
        + "M2,2023-01-01 00:00,2023-01-01 00:05,99,99\n",  # M2 has no cycle time: unchecked
        encoding="utf-8",
    )

    def warned(problems: list[Problem]) -> list[tuple[str, int | None]]:
        return [(p.file, p.row) for p in problems if p.code == "performance_above_100"]

    expected = [("production_counts.csv", 1)]
    assert warned(read_inputs([folder]).problems) == expected
    assert warned(validate_files([folder]).batch.problems) == expected
    summary = import_files(db_url, [folder])
    assert warned(summary.batch.problems) == expected
    assert [f.rows_warned for f in summary.batch.files] == [0, 1]
    assert repo.cycle_times() == {"M1": 30.0}

    # later: a counts file alone, checked against the stored machines
    later = tmp_path / "counts_later.csv"
    later.write_text(COUNTS_HEADER + "M1,2023-01-02 00:00,2023-01-02 00:05,11,11\n")
    expected = [("counts_later.csv", 1)]
    checked = validate_files([later], table="production_counts", db_url=db_url)
    assert warned(checked.batch.problems) == expected
    imported = import_files(db_url, [later], table="production_counts", slice_rows=1)
    assert warned(imported.batch.problems) == expected
