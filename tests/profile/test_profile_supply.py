"""Supply profile and disruptions: hand calculations, SCMS (USAID) figures derived independently
from the raw CSV and pinned, and invariants (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bufferwise.profile import (
    SupplySettings,
    _lead_time_buckets,
    _receipt_lead_days,
    disruption_events,
    profile_all,
    profile_supply,
    receipt_facts,
)

D = pd.Timestamp


def _receipts(rows: list[tuple]) -> pd.DataFrame:
    cols = ["po_id", "item_id", "supplier_id", "order_date", "promised_date", "received_date",
            "qty_ordered", "qty_received"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("order_date", "promised_date", "received_date"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


HAND = _receipts(
    [
        ("1", "X", "S", "2024-01-01", "2024-01-11", "2024-01-11", 100.0, 100.0),  # LT 10, on time
        ("2", "X", "S", "2024-01-05", "2024-01-15", "2024-01-18", 100.0, 90.0),  # LT 13, 3 late
        ("3", "X", "S", "2024-01-10", "2024-01-20", "2024-01-19", 100.0, np.nan),  # LT 9, early
        ("4", "Y", "S", "2024-02-01", "2024-02-11", "2024-02-16", 100.0, 100.0),  # LT 15, 5 late
    ]
)


def test_supplier_row_hand_calculation() -> None:
    prof = profile_supply(HAND)
    s = prof[(prof.supplier_id == "S") & (prof.item_id == "")].iloc[0]
    lt = np.array([10.0, 13.0, 9.0, 15.0])
    assert s["receipts"] == 4
    assert s["lead_time_mean_days"] == pytest.approx(11.75)
    assert s["lead_time_sd_days"] == pytest.approx(np.sqrt(22.75 / 3))  # ddof = 1
    assert s["lead_time_p50_days"] == pytest.approx(11.5)
    assert s["lead_time_p90_days"] == pytest.approx(13 + 0.7 * 2)  # sorted 9 10 13 15, h = 2.7
    assert s["lead_time_p95_days"] == pytest.approx(np.percentile(lt, 95))
    assert s["on_time_rate"] == pytest.approx(0.5)  # receipts 1 and 3
    assert s["mean_days_late"] == pytest.approx((0 + 3 + 0 + 5) / 4)  # early counts as 0
    assert s["quantity_fill_rate"] == pytest.approx(290 / 300)  # receipt 3: qty unknown
    tolerant = profile_supply(HAND, SupplySettings(on_time_tolerance_days=3))
    assert tolerant.loc[0, "on_time_rate"] == pytest.approx(0.75)


def test_item_rows_shrink_toward_supplier() -> None:
    k = 5.0
    prof = profile_supply(HAND, SupplySettings(credibility_k=k))
    x = prof[(prof.item_id == "X")].iloc[0]
    w = 3 / (3 + k)  # three receipts
    item_mean, sup_mean = np.mean([10, 13, 9]), 11.75
    assert x["credibility_weight"] == pytest.approx(w)
    assert x["lead_time_mean_raw_days"] == pytest.approx(item_mean)
    assert x["lead_time_mean_days"] == pytest.approx(w * item_mean + (1 - w) * sup_mean)
    w_var = 2 / (2 + k)  # degrees of freedom of the item variance
    var = w_var * np.var([10, 13, 9], ddof=1) + (1 - w_var) * 22.75 / 3
    assert x["lead_time_sd_days"] == pytest.approx(np.sqrt(var))
    assert x["on_time_rate"] == pytest.approx(w * 2 / 3 + (1 - w) * 0.5)
    y = prof[(prof.item_id == "Y")].iloc[0]
    # one receipt: no own variance, the supplier's sd is used as is
    assert y["lead_time_sd_days"] == pytest.approx(np.sqrt(22.75 / 3))
    assert list(prof.columns[:3]) == ["supplier_id", "item_id", "receipts"]


def _disruption_data() -> pd.DataFrame:
    rows = [
        (f"n{i}", "P", "D", D("2024-01-01") + pd.Timedelta(days=20 * i),
         D("2024-01-11") + pd.Timedelta(days=20 * i), D("2024-01-11") + pd.Timedelta(days=20 * i),
         10.0, 10.0)
        for i in range(10)
    ]  # fmt: skip
    rows += [
        ("a", "P", "D", D("2024-02-20"), D("2024-03-01"), D("2024-03-21"), 10.0, 10.0),  # 20 late
        ("b", "P", "D", D("2024-02-28"), D("2024-03-10"), D("2024-04-05"), 10.0, 10.0),  # 26 late
        ("c", "P", "D", D("2024-05-20"), D("2024-06-01"), D("2024-06-16"), 10.0, 10.0),  # 15 late
        ("d", "P", "D", D("2024-07-20"), D("2024-08-01"), D("2024-08-10"), 10.0, 10.0),  # 9 late
    ]
    return _receipts(rows)


def test_disruption_events_hand_calculation() -> None:
    data = _disruption_data()
    # p90 of days late over 14 receipts (ten 0, then 9, 15, 20, 26): order statistics at
    # h = 0.9 * 13 = 11.7 -> 15 + 0.7 * (20 - 15) = 18.5; threshold max(2 * 18.5, 14) = 37
    default = profile_supply(data)
    assert default.loc[0, "disruption_threshold_days"] == pytest.approx(37.0)
    assert default.loc[0, "disruptions"] == 0
    # with factor 0.5 the threshold is max(9.25, 14) = 14: a, b, c are disrupted
    st_ = SupplySettings(disruption_factor=0.5)
    events = disruption_events(data, st_)
    # a [03-01, 03-21] and b [03-10, 04-05] overlap: one event of 35 days; c alone: 15 days
    assert events["orders"].tolist() == [2, 1]
    assert events["duration_days"].tolist() == [35.0, 15.0]
    assert events["start"].tolist() == [D("2024-03-01"), D("2024-06-01")]
    prof = profile_supply(data, st_)
    s = prof.loc[0]
    years = (D("2024-08-10") - D("2024-01-01")).days / 365.25
    assert s["disruptions"] == 2 and s["disrupted_orders"] == 3
    assert s["disruptions_per_year"] == pytest.approx(2 / years)
    assert s["disruption_mean_days"] == pytest.approx(25.0)
    assert s["disruption_max_days"] == pytest.approx(35.0)
    facts = receipt_facts(data)
    lt = facts["lead_time_days"].to_numpy()
    clean = lt[~facts["po_id"].isin(["a", "b", "c"]).to_numpy()]
    share = 1 - np.var(clean, ddof=1) / np.var(lt, ddof=1)
    assert s["disruption_lead_time_variance_share"] == pytest.approx(share)


# --- SCMS (USAID Supply Chain Management System delivery history, ../shared/data) -----------


@pytest.fixture(scope="module")
def scms_raw(shared_file: Callable[[str], Path]) -> pd.DataFrame:
    path = shared_file("scms_delivery_history/SCMS_Delivery_History_Dataset.csv")
    raw = pd.read_csv(path, encoding="utf-8-sig", lineterminator="\r", dtype=str)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw.dropna(subset=["ID"])
    # "PO Sent to Vendor Date" is m/d/yy or text ("Date Not Captured", "N/A - From RDC");
    # the delivery dates are d-Mon-yy
    for name, column, fmt in (
        ("order", "PO Sent to Vendor Date", "%m/%d/%y"),
        ("promised", "Scheduled Delivery Date", "%d-%b-%y"),
        ("received", "Delivered to Client Date", "%d-%b-%y"),
    ):
        raw[name] = pd.to_datetime(raw[column], format=fmt, errors="coerce")
    return raw[raw["order"].notna() & raw["promised"].notna() & raw["received"].notna()]


def _scms_receipts(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "po_id": raw["ID"],
            "item_id": raw["Item Description"],
            "supplier_id": raw["Vendor"],
            "order_date": raw["order"],
            "promised_date": raw["promised"],
            "received_date": raw["received"],
            "qty_ordered": pd.to_numeric(raw["Line Item Quantity"]),
            "qty_received": np.nan,
        }
    )


def _independent_vendor_figures(g: pd.DataFrame) -> dict[str, float]:
    """Plain pandas / Python, written apart from the code under test."""
    lead = (g["received"] - g["order"]).dt.days.astype(float).tolist()
    late = (g["received"] - g["promised"]).dt.days.astype(float).tolist()
    days_late = [max(x, 0.0) for x in late]
    p90_late = float(np.percentile(days_late, 90))
    threshold = max(2 * p90_late, 14.0)
    windows = sorted(
        (p, r) for p, r, x in zip(g["promised"], g["received"], late, strict=True) if x > threshold
    )
    events: list[list[pd.Timestamp]] = []
    for p, r in windows:
        if events and p <= events[-1][1]:
            events[-1][1] = max(events[-1][1], r)
        else:
            events.append([p, r])
    span_years = (g["received"].max() - g["order"].min()).days / 365.25
    return {
        "receipts": float(len(g)),
        "on_time_rate": sum(x <= 0 for x in late) / len(late),
        "lead_time_mean_days": float(np.mean(lead)),
        "lead_time_p50_days": float(np.percentile(lead, 50)),
        "lead_time_p90_days": float(np.percentile(lead, 90)),
        "lead_time_p95_days": float(np.percentile(lead, 95)),
        "lead_time_p99_days": float(np.percentile(lead, 99)),
        "disruptions": float(len(events)),
        "disruptions_per_year": len(events) / span_years,
        "disruption_mean_days": float(np.mean([(e[1] - e[0]).days for e in events])),
    }


# Pinned 2026-11-27 from the independent derivation above (rows with all three dates usable).
SCMS_PINNED: dict[str, dict[str, float]] = {
    "Orgenics, Ltd": {"receipts": 747, "on_time_rate": 0.8688, "lead_time_mean_days": 103.2262,
                      "lead_time_p50_days": 91.0, "lead_time_p90_days": 168.4,
                      "lead_time_p95_days": 218.0, "lead_time_p99_days": 331.88,
                      "disruptions": 9, "disruptions_per_year": 1.1121,
                      "disruption_mean_days": 34.1111},
    "Aurobindo Pharma Limited": {"receipts": 642, "on_time_rate": 0.8536,
                                 "lead_time_mean_days": 130.285, "lead_time_p50_days": 123.0,
                                 "lead_time_p90_days": 228.5, "lead_time_p95_days": 270.95,
                                 "lead_time_p99_days": 305.18, "disruptions": 4,
                                 "disruptions_per_year": 0.4539, "disruption_mean_days": 171.0},
    "S. BUYS WHOLESALER": {"receipts": 491, "on_time_rate": 0.9837,
                           "lead_time_mean_days": 34.5886, "lead_time_p50_days": 19.0,
                           "lead_time_p90_days": 66.0, "lead_time_p95_days": 121.0,
                           "lead_time_p99_days": 182.8, "disruptions": 1,
                           "disruptions_per_year": 0.147, "disruption_mean_days": 168.0},
}  # fmt: skip


def test_scms_three_largest_vendors(scms_raw: pd.DataFrame) -> None:
    top = scms_raw["Vendor"].value_counts()
    assert top.index[:3].tolist() == list(SCMS_PINNED)
    prof = profile_supply(_scms_receipts(scms_raw))
    vendors = prof[prof["item_id"] == ""].set_index("supplier_id")
    for vendor, pinned in SCMS_PINNED.items():
        expected = _independent_vendor_figures(scms_raw[scms_raw["Vendor"] == vendor])
        row = vendors.loc[vendor]
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, rel=1e-9), (vendor, key)
        for key, value in pinned.items():
            assert expected[key] == pytest.approx(value, abs=5e-4), (vendor, key)


# --- invariants (hypothesis) ------------------------------------------------------------------

_rows = st.lists(
    st.tuples(
        st.sampled_from(["S1", "S2"]),
        st.sampled_from(["A", "B", "C"]),
        st.integers(0, 300),  # order day
        st.integers(1, 60),  # promised lead time
        st.integers(-5, 40),  # days late
    ),
    min_size=1,
    max_size=30,
)


def _frame(rows: list[tuple[str, str, int, int, int]]) -> pd.DataFrame:
    base = D("2023-01-01")
    return _receipts(
        [
            (str(i), item, sup, base + pd.Timedelta(days=o),
             base + pd.Timedelta(days=o + lt), base + pd.Timedelta(days=o + lt + late), 1.0, 1.0)
            for i, (sup, item, o, lt, late) in enumerate(rows)
        ]
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(rows=_rows, extra_late=st.integers(1, 200), order_day=st.integers(0, 300))
def test_adding_a_late_delivery_never_raises_on_time_rate(
    rows: list[tuple[str, str, int, int, int]], extra_late: int, order_day: int
) -> None:
    before = profile_supply(_frame(rows)).set_index(["supplier_id", "item_id"])
    more = [*rows, ("S1", "A", order_day, 10, extra_late)]
    after = profile_supply(_frame(more)).set_index(["supplier_id", "item_id"])
    for key in (("S1", ""), ("S1", "A")):
        if key in before.index:
            assert after.loc[key, "on_time_rate_raw"] <= before.loc[key, "on_time_rate_raw"]
            assert after.loc[key, "on_time_rate"] <= before.loc[key, "on_time_rate"] + 1e-12


@settings(max_examples=25, deadline=None)
@given(rows=_rows, seed=st.integers(0, 2**31))
def test_row_order_does_not_change_supply_profile(
    rows: list[tuple[str, str, int, int, int]], seed: int
) -> None:
    frame = _frame(rows)
    shuffled = frame.sample(frac=1.0, random_state=seed % (2**31))
    pd.testing.assert_frame_equal(profile_supply(frame), profile_supply(shuffled), check_exact=True)
    pd.testing.assert_frame_equal(disruption_events(frame), disruption_events(shuffled))


# --- shrinkage base, missing and impossible dates, calendar days -------------------------------


def _beta_binomial_data() -> pd.DataFrame:
    # supplier S: item B 20 receipts, promised, on time; item A 10 receipts, only the first
    # with a promised date (received 10 days after it)
    rows = [
        (f"b{i}", "B", "S", D("2024-01-01") + pd.Timedelta(days=i),
         D("2024-01-11") + pd.Timedelta(days=i), D("2024-01-11") + pd.Timedelta(days=i), 10.0, 10.0)
        for i in range(20)
    ]  # fmt: skip
    rows += [
        (f"a{i}", "A", "S", D("2024-01-01") + pd.Timedelta(days=i),
         D("2024-01-11") if i == 0 else pd.NaT, D("2024-01-21") + pd.Timedelta(days=i), 10.0, 10.0)
        for i in range(10)
    ]  # fmt: skip
    return _receipts(rows)


def test_on_time_shrinkage_is_the_beta_binomial_posterior() -> None:
    k = 5.0
    prof = profile_supply(_beta_binomial_data(), SupplySettings(credibility_k=k))
    s = prof[prof.item_id == ""].iloc[0]
    a = prof[prof.item_id == "A"].iloc[0]
    p = 20 / 21  # supplier: 20 of its 21 promised receipts on time
    assert s["on_time_rate"] == pytest.approx(p)
    # item A: 0 of 1 promised receipt on time -> posterior mean (0 + k p) / (1 + k) = 0.794
    # (weighting with all 10 receipts gave 10/15 x 0 + 5/15 x p = 0.317)
    assert a["on_time_rate"] == pytest.approx((0 + k * p) / (1 + k))
    assert a["on_time_rate"] == pytest.approx(0.7937, abs=1e-4)
    # days late over the same base: own mean 10 (one receipt), supplier 10 / 21
    w_prom = 1 / (1 + k)
    assert a["mean_days_late"] == pytest.approx(w_prom * 10 + (1 - w_prom) * 10 / 21)
    # lead-time figures: all 10 receipts have a lead time (20 days each): w = 10 / 15
    w_lead = 10 / (10 + k)
    assert a["credibility_weight"] == pytest.approx(w_lead)
    sup_mean = (20 * 10 + 10 * 20) / 30
    assert a["lead_time_mean_days"] == pytest.approx(w_lead * 20 + (1 - w_lead) * sup_mean)


def test_missing_order_date_is_left_out_of_the_observed_span() -> None:
    data = _disruption_data()
    expected = (D("2024-08-10") - D("2024-01-01")).days / 365.25
    broken = data.copy()
    broken.loc[broken["po_id"] == "n5", "order_date"] = pd.NaT
    prof = profile_supply(broken)
    assert prof.loc[0, "observed_years"] == pytest.approx(expected)
    assert np.isfinite(prof.loc[0, "disruptions_per_year"])
    # a supplier with no order date at all has no observed span (NaN, not a huge negative)
    none = data.assign(order_date=pd.NaT)
    prof = profile_supply(none)
    assert np.isnan(prof.loc[0, "observed_years"])
    assert np.isnan(prof.loc[0, "lead_time_mean_days"])


def test_received_before_ordered_is_left_out_of_lead_time() -> None:
    bad = pd.concat(
        [HAND, _receipts([("5", "X", "S", "2024-03-10", "2024-03-20", "2024-03-01", 1.0, 1.0)])],
        ignore_index=True,
    )
    facts = receipt_facts(bad)
    row = facts[facts["po_id"] == "5"].iloc[0]
    assert bool(row["received_before_ordered"]) and np.isnan(row["lead_time_days"])
    s = profile_supply(bad).iloc[0]
    assert s["receipts"] == 5
    assert s["lead_time_mean_days"] == pytest.approx(11.75)  # the four valid receipts (above)
    prof = profile_all(None, bad, bucket="week", forecast=False)
    assert any("1 receipts were received before they were ordered" in n for n in prof.notes)


def test_days_are_calendar_days() -> None:
    # a receipt at 10:00 on its promised day is on time (0 days late, not 0.42), and a lead time
    # from 18:00 on Jan 1 to 10:00 on Jan 11 is 10 calendar days
    timed = HAND.copy()
    timed["order_date"] += pd.Timedelta(hours=18)
    timed["received_date"] += pd.Timedelta(hours=10)
    facts = receipt_facts(timed)
    plain = receipt_facts(HAND)
    for col in ("lead_time_days", "lateness_days", "days_late", "on_time"):
        np.testing.assert_array_equal(facts[col].to_numpy(), plain[col].to_numpy())
    ids = np.array(["X", "Y"], dtype=object)
    # item X: mean lead time (10 + 13 + 9) / 3 = 10.67 days -> ceil(10.67 / 7) = 2 weeks
    assert _lead_time_buckets(ids, "week", None, None, _receipt_lead_days(facts)).tolist() == [
        2,
        3,
    ]
