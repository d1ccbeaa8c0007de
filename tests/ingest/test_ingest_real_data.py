"""The shipped mappings on the real public data sets in ../shared/data.

Every expected count is derived here from the raw CSV with the csv module or plain pandas,
independently of bufferwise's readers, so the test checks the import, not itself.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bufferwise.ingest import enforce_policy, read_with_mapping
from bufferwise.model.batch import ImportBatch

pytestmark = pytest.mark.slow


def raw_rows(path: Path, *, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(newline="", encoding=encoding) as f:
        return list(csv.DictReader(f))


def codes(batch: ImportBatch) -> Counter[tuple[str, str]]:
    return Counter((p.severity, p.code) for p in batch.problems)


def counts(batch: ImportBatch) -> tuple[int, int, int, int]:
    """(rows read, accepted, rejected, warned) of the one file in `batch`."""
    f = batch.files[0]
    return (f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_warned)


def outliers_by_rule(frame: pd.DataFrame) -> int:
    """The documented outlier rule, recomputed: quantity > median + 10 MAD of its item, for
    items with >= 8 buckets and MAD > 0."""
    g = frame.groupby("item")["q"]
    med = g.transform("median")
    mad = (frame["q"] - med).abs().groupby(frame["item"]).transform("median")
    n = g.transform("size")
    return int(((n >= 8) & (mad > 0) & (frame["q"] > med + 10 * mad)).sum())


def _shipped_mapping_row(name: str) -> str:
    """The row of docs/mapping.md's table of shipped mappings that names `name`."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"
    rows = [
        r for r in doc.read_text(encoding="utf-8").splitlines() if r.startswith(f"| `{name}` |")
    ]
    assert len(rows) == 1, f"docs/mapping.md has {len(rows)} rows for {name}"
    return rows[0]


# ---------------------------------------------------------------------------------- carparts


@pytest.fixture(scope="module")
def carparts(shared_data: Path) -> pd.DataFrame:
    rows = raw_rows(shared_data / "carparts_expsmooth" / "carparts_long.csv")
    return pd.DataFrame(rows)


def test_carparts_long(shared_data: Path, carparts: pd.DataFrame) -> None:
    recorded = carparts[carparts["demand"] != ""]
    empty = carparts[carparts["demand"] == ""]
    # the README of ../shared/data: 2,674 series x 51 months; 165 series have gaps
    assert (len(carparts), carparts["part_id"].nunique(), carparts["month"].nunique()) == (
        136374,
        2674,
        51,
    )
    assert (len(empty), empty["part_id"].nunique()) == (6122, 165)

    batch = read_with_mapping(
        shared_data / "carparts_expsmooth" / "carparts_long.csv", "carparts_long"
    )
    report = batch.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (
        len(carparts),
        len(recorded),
        len(empty),
    )
    expected_outliers = outliers_by_rule(
        pd.DataFrame({"item": recorded["part_id"], "q": recorded["demand"].astype(float)})
    )
    assert expected_outliers == 4
    assert report.rows_warned == expected_outliers
    assert codes(batch) == Counter(
        {
            ("warning", "filtered"): len(empty),
            ("warning", "gap"): 165,
            ("warning", "outlier"): expected_outliers,
        }
    )
    filtered = [p for p in batch.problems if p.code == "filtered"]
    assert {p.column for p in filtered} == {"demand"}
    assert "missing, not zero" in filtered[0].expected
    # gap warnings: one per series with empty months, counting them; nothing invented
    gaps = {p.value: p for p in batch.problems if p.code == "gap"}
    assert set(gaps) == set(empty["part_id"])
    per_part = empty.groupby("part_id").size()
    for part, n in per_part.items():
        assert f"has {n} missing months" in gaps[part].expected
    demand = batch.tables["demand"]
    assert len(demand) == len(recorded)
    assert demand["quantity"].sum() == recorded["demand"].astype(float).sum()
    assert (demand["date"].dt.day == 1).all()
    assert demand["date"].min() == pd.Timestamp("1998-01-01") and demand[
        "date"
    ].max() == pd.Timestamp("2002-03-01")
    assert enforce_policy(batch) is batch  # filtered rows are expected drops, not errors


def test_carparts_wide_gives_the_same_demand(shared_data: Path, carparts: pd.DataFrame) -> None:
    wide = pd.read_csv(
        shared_data / "carparts_expsmooth" / "carparts_wide.csv", dtype=str, keep_default_na=False
    )
    cells = wide.drop(columns="month").to_numpy()
    assert wide.shape == (51, 2675)
    assert int((cells == "").sum()) == 6122

    batch = read_with_mapping(
        shared_data / "carparts_expsmooth" / "carparts_wide.csv", "carparts_wide"
    )
    report = batch.files[0]
    # a source row is a month; no cell is bad, so every month row is accepted
    assert (report.rows_read, report.rows_accepted, report.rows_rejected, report.rows_warned) == (
        51,
        51,
        0,
        4,
    )
    assert codes(batch) == Counter({("warning", "gap"): 165, ("warning", "outlier"): 4})
    long_batch = read_with_mapping(
        shared_data / "carparts_expsmooth" / "carparts_long.csv", "carparts_long"
    )
    key = ["item_id", "date"]
    a = batch.tables["demand"].sort_values(key).reset_index(drop=True)
    b = long_batch.tables["demand"].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------- SCMS


def test_scms_receipts(shared_data: Path) -> None:
    path = shared_data / "scms_delivery_history" / "SCMS_Delivery_History_Dataset.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r" in raw and b"\n" not in raw  # BOM, CR only
    rows = list(csv.DictReader(raw.decode("utf-8-sig").split("\r")))
    frame = pd.DataFrame(rows)
    assert len(frame) == 10324
    po = frame["PO Sent to Vendor Date"]
    order = pd.to_datetime(po, format="%m/%d/%y", errors="coerce")
    promised = pd.to_datetime(frame["Scheduled Delivery Date"], format="%d-%b-%y")
    received = pd.to_datetime(frame["Delivered to Client Date"], format="%d-%b-%y")
    from_rdc = frame["Fulfill Via"] == "From RDC"
    not_captured = po == "Date Not Captured"
    # every row without a usable PO date is one of the two kinds of text
    assert (order.isna() == (from_rdc | not_captured)).all()
    assert (int(from_rdc.sum()), int(not_captured.sum()), int(order.isna().sum())) == (
        5404,
        328,
        5732,
    )
    late_received = received < order
    late_promised = promised < order
    assert (
        int(late_received.sum()),
        int(late_promised.sum()),
        int((late_received | late_promised).sum()),
    ) == (5, 4, 5)
    accepted = len(frame) - 5732 - 5

    batch = read_with_mapping(path, "scms_receipts")
    report = batch.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected, report.rows_warned) == (
        10324,
        accepted,
        5737,
        0,
    )
    assert codes(batch) == Counter(
        {
            ("warning", "filtered"): 5404,
            ("error", "bad_date"): 328,
            ("error", "received_before_ordered"): 5,
            ("error", "promised_before_ordered"): 4,
        }
    )
    bad = [p for p in batch.problems if p.code == "bad_date"]
    assert {(p.column, p.value) for p in bad} == {("PO Sent to Vendor Date", "Date Not Captured")}
    assert {p.value for p in batch.problems if p.code == "filtered"} == {"From RDC"}
    # on_bad_row = "skip": the default policy keeps the good rows
    kept = enforce_policy(batch).tables["receipts"]
    assert len(kept) == accepted == 4587
    good = frame[~order.isna() & ~late_received & ~late_promised]
    assert sorted(kept["po_id"]) == sorted(good["ID"])
    assert kept["qty_ordered"].sum() == good["Line Item Quantity"].astype(float).sum()
    assert kept["item_id"].nunique() == good["Item Description"].nunique()
    assert (kept["received_date"] >= kept["order_date"]).all()
    # docs/mapping.md's note on this mapping states the same counts
    note = _shipped_mapping_row("scms_receipts")
    for text in (
        f'{int(from_rdc.sum()):,} "From RDC"',
        f'{int(not_captured.sum())} "Date Not Captured"',
        f"{int(late_promised.sum())} `promised_before_ordered`",
        f"{int(late_received.sum())} `received_before_ordered`",
        f"{report.rows_rejected:,} rejected in all",
        f"{report.rows_accepted:,} accepted of {report.rows_read:,}",
    ):
        assert text in note, f"docs/mapping.md's scms_receipts note lacks {text!r}"


# ----------------------------------------------------------------------------------------- SME


def test_sme_retrofit(shared_data: Path) -> None:
    path = shared_data / "sme_manufacturing_retrofit" / "company_A_labelled_subset.csv"
    frame = pd.DataFrame(raw_rows(path))
    assert len(frame) == 14492
    ts = pd.to_datetime(frame["ts"], utc=True).dt.tz_localize(None)
    order = np.lexsort((ts.to_numpy(), frame["asset"].to_numpy()))
    s = frame.iloc[order].assign(t=ts.iloc[order].to_numpy())
    gap = s.groupby("asset")["t"].shift(-1) - s["t"]
    capped = int((gap > pd.Timedelta("10min")).sum())
    assert capped == 96
    states = frame["status"].map({"1.0": "idle", "2.0": "running", "3.0": "down"})
    assert states.notna().all()

    batch = read_with_mapping(path, "sme_retrofit")
    report = batch.files[0]
    assert (report.rows_read, report.rows_accepted, report.rows_rejected, report.rows_warned) == (
        14492,
        14492,
        0,
        capped,
    )
    # each capped snapshot is warned once per interval table (events and counts)
    assert codes(batch) == Counter({("warning", "interval_capped"): 2 * capped})
    assert sorted(batch.tables["machines"]["machine_id"]) == sorted(frame["asset"].unique())
    events = batch.tables["machine_events"]
    assert Counter(events["state"]) == Counter(states)
    assert Counter(events["reason"]) == Counter(
        frame["status"].map({"1.0": "manual", "2.0": "auto", "3.0": "alarm"})
    )
    # every interval ends at the next snapshot of its asset, or 10 minutes later at most
    length = events["end"] - events["start"]
    assert (length > pd.Timedelta(0)).all() and (length <= pd.Timedelta("10min")).all()
    expected_len = gap.where(gap <= pd.Timedelta("10min"), pd.Timedelta("10min")).fillna(
        pd.Timedelta("10min")
    )
    assert length.sum() == expected_len.sum()
    counts = batch.tables["production_counts"]
    assert counts["total_count"].sum() == frame["items"].astype(float).sum()
    assert (counts["good_count"] == counts["total_count"]).all()
    assert (counts["start"].to_numpy() == events["start"].to_numpy()).all()


# --------------------------------------------------------------------------------------- Azure


def test_azure_pdm(shared_data: Path) -> None:
    folder = shared_data / "azure_pdm"
    machines_raw = pd.DataFrame(raw_rows(folder / "PdM_machines.csv"))
    failures_raw = pd.DataFrame(raw_rows(folder / "PdM_failures.csv"))
    maintenance_raw = pd.DataFrame(raw_rows(folder / "PdM_maintenance.csv"))
    # README of ../shared/data: 100 machines, 761 failures, 3,286 maintenance records
    assert (len(machines_raw), len(failures_raw), len(maintenance_raw)) == (100, 761, 3286)

    machines = read_with_mapping(folder / "PdM_machines.csv", "azure_machines")
    assert counts(machines) == (100, 100, 0, 0) and machines.problems == []
    m = machines.tables["machines"]
    assert m["age_years"].sum() == machines_raw["age"].astype(float).sum()
    assert Counter(m["model"]) == Counter(machines_raw["model"])
    known = {"machines": set(m["machine_id"])}

    failures = read_with_mapping(folder / "PdM_failures.csv", "azure_failures", known_ids=known)
    assert counts(failures) == (761, 761, 0, 0) and failures.problems == []
    f = failures.tables["machine_events"]
    assert set(f["state"]) == {"down"} and set(f["reason"]) == {"failure"}
    assert (f["start"] == f["end"]).all()
    assert Counter(f["component"]) == Counter(failures_raw["failure"])

    maintenance = read_with_mapping(
        folder / "PdM_maintenance.csv", "azure_maintenance", known_ids=known
    )
    assert counts(maintenance) == (3286, 3286, 0, 0) and maintenance.problems == []
    mt = maintenance.tables["machine_events"]
    assert set(mt["state"]) == {"planned_stop"} and set(mt["reason"]) == {"maintenance"}
    expected_start = pd.to_datetime(maintenance_raw["datetime"], format="%Y-%m-%dT%H:%M:%S.%f")
    assert (mt["start"].to_numpy() == expected_start.to_numpy()).all()
    assert mt["start"].min() == pd.Timestamp("2014-06-01 06:00")
    # a machine the register does not know is refused
    fewer = {"machines": known["machines"] - {"1"}}
    refused = read_with_mapping(folder / "PdM_failures.csv", "azure_failures", known_ids=fewer)
    refused_rows = int((failures_raw["machineID"] == "1").sum())
    assert counts(refused) == (761, 761 - refused_rows, refused_rows, 0)
    assert codes(refused) == Counter({("error", "unknown_id"): refused_rows})


# -------------------------------------------------------------------------------- spare parts


def test_raf(shared_data: Path) -> None:
    folder = shared_data / "spare_parts"
    items_raw = pd.DataFrame(raw_rows(folder / "raf_items.csv"))
    items = read_with_mapping(folder / "raf_items.csv", "raf_items")
    assert counts(items) == (5000, 5000, 0, 0) and items.problems == []
    it = items.tables["items"]
    # lead time months x 30.4375 (= 365.25 / 12) days
    assert np.allclose(
        it["nominal_lead_time_days"], items_raw["lead_time_months"].astype(float) * 30.4375
    )
    assert np.allclose(it["unit_cost"], items_raw["price_gbp"].astype(float))

    wide = pd.read_csv(folder / "raf_demand_wide.csv", dtype=str, keep_default_na=False)
    demand = read_with_mapping(
        folder / "raf_demand_wide.csv", "raf_demand", known_ids={"items": set(it["item_id"])}
    )
    d = demand.tables["demand"]
    assert wide.shape == (5000, 85)
    assert counts(demand) == (5000, 5000, 0, 0) and len(d) == 5000 * 84
    assert demand.problems == []  # RAF: 90% zeros, MAD 0 for nearly every item, no gaps
    assert d["quantity"].sum() == wide.drop(columns="item").astype(float).to_numpy().sum()
    assert d["date"].min() == pd.Timestamp("1996-01-01") and d["date"].max() == pd.Timestamp(
        "2002-12-01"
    )


def test_man(shared_data: Path) -> None:
    folder = shared_data / "spare_parts"
    items_raw = pd.DataFrame(raw_rows(folder / "man_items.csv"))
    items = read_with_mapping(folder / "man_items.csv", "man_items")
    assert counts(items) == (3451, 3451, 0, 0) and items.problems == []
    it = items.tables["items"]
    cost = items_raw["cost_price_eur"].astype(float)
    assert np.allclose(
        it["holding_rate"], items_raw["inventory_cost_eur_per_unit_year"].astype(float) / cost
    )
    assert np.allclose(it["holding_rate"], 0.2)
    assert np.allclose(it["nominal_lead_time_days"], items_raw["lead_time_weeks"].astype(float) * 7)
    assert np.allclose(it["moq"], items_raw["min_order_qty"].astype(float))
    assert set(it["order_cost"]) == {5.0}

    wide = pd.read_csv(folder / "man_demand_wide.csv", dtype=str, keep_default_na=False)
    values = wide.drop(columns="sku").astype(float)
    assert wide.shape == (3451, 151)
    assert int((values.sum(axis=1) == 0).sum()) == 1510  # SKUs with no demand at all, kept
    demand = read_with_mapping(
        folder / "man_demand_wide.csv", "man_demand", known_ids={"items": set(it["item_id"])}
    )
    d = demand.tables["demand"]
    assert counts(demand)[:3] == (3451, 3451, 0) and len(d) == 3451 * 150
    # ISO week 2012-W01 starts on Monday 2 January 2012; 2014-W46 on Monday 10 November 2014
    assert d["date"].min() == pd.Timestamp("2012-01-02") and d["date"].max() == pd.Timestamp(
        "2014-11-10"
    )
    assert (d["date"].dt.dayofweek == 0).all()
    long = values.assign(item=wide["sku"]).melt(id_vars="item", value_name="q")
    expected_outliers = outliers_by_rule(long)
    warned_skus = long.loc[_outlier_mask(long), "item"].nunique()
    assert (expected_outliers, warned_skus) == (1650, 105)
    assert codes(demand) == Counter({("warning", "outlier"): expected_outliers})
    assert demand.files[0].rows_warned == warned_skus


def _outlier_mask(frame: pd.DataFrame) -> pd.Series:
    g = frame.groupby("item")["q"]
    med = g.transform("median")
    mad = (frame["q"] - med).abs().groupby(frame["item"]).transform("median")
    return (g.transform("size") >= 8) & (mad > 0) & (frame["q"] > med + 10 * mad)
