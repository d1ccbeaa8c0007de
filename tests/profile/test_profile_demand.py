"""Demand profile: reference classification case, bucketing rules, trend / season / outlier /
obsolescence flags, carparts class counts and gap treatment, and invariants (hypothesis)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bufferwise.errors import InvalidInput
from bufferwise.profile import (
    DemandSettings,
    bucket_start,
    build_demand_matrix,
    class_counts,
    classify,
    demand_matrix_from_array,
    outlier_periods,
    profile_demand,
    profile_matrix,
)


def _series(values: list[float] | np.ndarray, *, item: str = "A", freq: str = "MS",
            start: str = "2020-01-01") -> pd.DataFrame:  # fmt: skip
    dates = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({"item_id": item, "date": dates, "quantity": np.asarray(values, float)})


def _one(values: list[float] | np.ndarray, bucket: str = "month", **kw: object) -> pd.Series:
    freq = {"day": "D", "week": "W-MON", "month": "MS"}[bucket]
    return profile_demand(_series(values, freq=freq), bucket, **kw).iloc[0]  # type: ignore[arg-type]


# --- reference case ---------------------------------------------------------------------------


def test_syntetos_boylan_reference_case(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json: syntetos_boylan_ADI_CV2_classification
    case = reference_cases["syntetos_boylan_ADI_CV2_classification"]
    exp, tol = case["expected"], case["tolerance"]["abs"]
    row = _one(case["inputs"]["demand"])
    # our ADI convention: mean interval between consecutive non-zero periods
    assert row["adi"] == pytest.approx(exp["ADI_between_nonzero_only"], abs=tol)
    # the "from start" convention is reported alongside (intervals counted from period 0)
    assert row["adi_from_start"] == pytest.approx(exp["ADI_interval_from_start"], abs=tol)
    # our CV² uses the sample sd (ddof = 1) of the non-zero sizes. The published CV² figures
    # are exact (sizes 20 30 50: sample variance 700/3, population 1400/9, mean² 10000/9 ->
    # 0.21 and 0.14), so the case's own tolerance holds.
    assert row["cv2"] == pytest.approx(exp["CV2_sample_sd"], abs=tol)
    n = row["nonzero_periods"]
    assert row["cv2"] * (n - 1) / n == pytest.approx(exp["CV2_population_sd"], abs=tol)
    assert row["demand_class"] == exp["class"].lower()


def test_classes_and_cutoffs() -> None:
    # Syntetos, Boylan & Croston (2005): ADI < 1.32 frequent, CV² < 0.49 steady
    adi = np.array([1.0, 1.0, 1.32, 2.0, 1.31, 2.0, np.nan, np.nan])
    cv2 = np.array([0.2, 0.49, 0.2, 0.8, 0.48, 0.1, np.nan, np.nan])
    nz = np.array([10, 10, 10, 10, 10, 10, 1, 0])
    assert classify(adi, cv2, nz).tolist() == [
        "smooth",
        "erratic",
        "intermittent",
        "lumpy",
        "smooth",
        "intermittent",
        "insufficient",
        "no_demand",
    ]


def test_basic_statistics_hand_calculation() -> None:
    # quantities 4, 0, 6, 0, 0, 8: mean 3, sd (ddof 1) = sqrt(56 / 5); non-zero 4, 6, 8
    row = _one([4, 0, 6, 0, 0, 8])
    assert row["periods"] == 6
    assert row["mean"] == pytest.approx(3.0)
    assert row["sd"] == pytest.approx(np.sqrt((1 + 9 + 9 + 9 + 9 + 25) / 5))
    assert row["cv"] == pytest.approx(row["sd"] / 3.0)
    assert row["zero_share"] == pytest.approx(0.5)
    assert row["adi"] == pytest.approx(2.5)  # positions 0, 2, 5: intervals 2 and 3
    assert row["cv2"] == pytest.approx(4.0 / 36.0)  # sd of 4, 6, 8 is 2, mean 6
    assert row["demand_class"] == "intermittent"
    assert row["periods_since_demand"] == 0


# --- bucketing --------------------------------------------------------------------------------


def test_bucket_start_iso_week_and_month() -> None:
    dates = np.array(["2024-01-01", "2024-01-07", "2024-01-08", "2024-02-29"], "datetime64[ns]")
    # 2024-01-01 is a Monday; the 7th a Sunday (same ISO week); 2024-02-29 a Thursday
    assert bucket_start(dates, "week").astype(str).tolist() == [
        "2024-01-01",
        "2024-01-01",
        "2024-01-08",
        "2024-02-26",
    ]
    assert bucket_start(dates, "month").astype(str).tolist() == [
        "2024-01-01",
        "2024-01-01",
        "2024-01-01",
        "2024-02-01",
    ]
    with pytest.raises(InvalidInput):
        bucket_start(dates, "fortnight")


def test_daily_transactions_to_weeks_zero_fill_and_partial_edges() -> None:
    # transactions on Wed 2024-01-03 (partial first week), Mon 8th, Tue 9th, Fri 26th,
    # Wed 2024-01-31 (partial last week): weeks of Jan 8, 15, 22 are complete
    demand = pd.DataFrame(
        {
            "item_id": ["A", "A", "A", "A", "A"],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-01-08", "2024-01-09", "2024-01-26", "2024-01-31"]
            ),
            "quantity": [5.0, 2.0, 3.0, 4.0, 9.0],
            "returns": [1.0, 0.0, 2.0, 0.0, 7.0],
        }
    )
    m = build_demand_matrix(demand, "week")
    assert m.returns.tolist() == [2.0]  # returns of the dropped edge buckets are left out too
    assert pd.to_datetime(m.period_starts).strftime("%Y-%m-%d").tolist() == [
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
    ]
    assert m.quantity.tolist() == [[5.0, 0.0, 4.0]]  # same-week rows summed, empty week = 0
    assert m.dropped_rows == 2


def test_item_span_missing_rows_and_items_without_demand() -> None:
    demand = pd.concat(
        [
            _series([1, 2, 3, 4, 5, 6], item="A"),
            _series([7, 0, 8], item="B", start="2020-04-01"),
        ]
    )
    demand.loc[(demand.item_id == "A") & (demand.date == "2020-03-01"), "quantity"] = np.nan
    missing = pd.DataFrame({"item_id": ["A"], "date": [pd.Timestamp("2020-05-17")]})
    m = build_demand_matrix(demand, "month", missing=missing, item_ids=["C"])
    assert m.item_ids.tolist() == ["A", "B", "C"]
    q = m.quantity
    assert np.isnan(q[0, 2]) and np.isnan(q[0, 4])  # declared by NaN row and by `missing`
    assert np.isnan(q[1, :3]).all()  # before B's first row: outside its span
    assert (q[2] == 0).all()  # C has no rows: zero over the whole calendar
    prof = profile_demand(demand, "month", missing=missing, item_ids=["C"]).set_index("item_id")
    assert prof.loc["A", "periods"] == 4 and prof.loc["A", "missing_periods"] == 2
    assert prof.loc["A", "mean"] == pytest.approx((1 + 2 + 4 + 6) / 4)
    assert prof.loc["B", "periods"] == 3 and prof.loc["B", "missing_periods"] == 0
    assert prof.loc["C", "demand_class"] == "no_demand"
    exclude = DemandSettings(gaps="exclude")
    excluded = profile_demand(demand, "month", missing=missing, settings=exclude)
    excluded = excluded.set_index("item_id")
    assert excluded.loc["A", "demand_class"] == "excluded_gaps"
    assert excluded.loc["B", "demand_class"] == "intermittent"  # 7, 0, 8: ADI 2


def test_negative_quantity_is_refused() -> None:
    with pytest.raises(InvalidInput, match="returns"):
        profile_demand(_series([1, -2, 3]), "month")


# --- flags ------------------------------------------------------------------------------------


def test_trend_flag() -> None:
    rng = np.random.default_rng(1)
    rising = 10 + 0.5 * np.arange(36) + rng.normal(0, 1, 36)
    flat = 10 + rng.normal(0, 1, 36)
    up, level = _one(rising), _one(flat)
    assert up["trend"] and up["trend_slope"] == pytest.approx(0.5, abs=0.1)
    assert up["trend_p"] < 1e-6
    assert not level["trend"] and level["trend_p"] > 0.05


def test_seasonality_needs_two_seasons_and_is_found() -> None:
    months = np.arange(48)
    seasonal = 100 + 30 * np.sin(2 * np.pi * months / 12)
    row = _one(seasonal)
    assert row["season_length"] == 12
    assert row["seasonal"] and row["seasonal_acf"] > 0.5
    short = _one(seasonal[:20])  # fewer than 2 seasons: not tested
    assert not short["seasonal"] and np.isnan(short["seasonal_acf"])
    rng = np.random.default_rng(3)
    assert not _one(100 + rng.normal(0, 5, 48))["seasonal"]


def test_outliers_flagged_not_removed() -> None:
    values = [10, 12, 11, 0, 9, 10, 13, 200, 11, 10, 12, 9]
    demand = _series(values)
    m = build_demand_matrix(demand, "month")
    prof = profile_demand(demand, "month")
    # non-zero sizes sorted: 9 9 10 10 10 11 11 12 12 13 200 -> Q1 = 10, Q3 = 12 (linear
    # interpolation), fence = 12 + 3 * 2 = 18: only 200 is out
    assert prof.loc[0, "outlier_threshold"] == pytest.approx(18.0)
    assert prof.loc[0, "outliers"] == 1
    assert prof.loc[0, "mean"] == pytest.approx(np.mean(values))  # kept in the statistics
    flagged = outlier_periods(m, prof)
    assert flagged["date"].dt.strftime("%Y-%m").tolist() == ["2020-08"]
    assert flagged["quantity"].tolist() == [200.0]


def test_obsolescence_signal() -> None:
    active = _one([3, 0, 4, 0, 5, 0, 2, 0, 3, 0, 4, 0, 2, 1])
    dead = _one([3, 0, 4, 0, 5, 0, 2, 0, 0, 0, 0, 0, 0, 0])
    assert not active["obsolete"]
    # ADI = 2, trailing run 7 >= 3 x 2: obsolete; the TSB probability has fallen
    assert dead["periods_since_demand"] == 7 and dead["obsolete"]
    assert dead["tsb_probability"] < active["tsb_probability"]
    assert dead["last_demand_date"] == pd.Timestamp("2020-07-01")


# --- carparts (../shared/data, Hyndman's expsmooth::carparts) --------------------------------


@pytest.fixture(scope="module")
def carparts(shared_file: Callable[[str], Path]) -> pd.DataFrame:
    path = shared_file("carparts_expsmooth/carparts_long.csv")
    raw = pd.read_csv(path, dtype={"part_id": str})
    return pd.DataFrame(
        {
            "item_id": raw["part_id"],
            "date": pd.to_datetime(raw["month"], format="%Y-%m"),
            "quantity": raw["demand"].astype(float),  # empty cells: months not observed
        }
    )


def _plain_class(values: list[float]) -> str:
    """Independent plain-Python classification with the documented conventions."""
    pos = [i for i, v in enumerate(values) if v != 0]
    if not pos:
        return "no_demand"
    if len(pos) == 1:
        return "insufficient"
    adi = sum(b - a for a, b in itertools.pairwise(pos)) / (len(pos) - 1)
    sizes = [values[i] for i in pos]
    mean = sum(sizes) / len(sizes)
    var = sum((s - mean) ** 2 for s in sizes) / (len(sizes) - 1)
    cv2 = var / mean**2
    if adi < 1.32:
        return "smooth" if cv2 < 0.49 else "erratic"
    return "intermittent" if cv2 < 0.49 else "lumpy"


def test_carparts_class_counts_over_complete_series(carparts: pd.DataFrame) -> None:
    prof = profile_demand(carparts, "month")
    assert len(prof) == 2674
    expected: dict[str, int] = {}
    complete = 0
    for _, g in carparts.sort_values("date").groupby("item_id"):
        q = g["quantity"].tolist()
        if any(np.isnan(v) for v in q):
            continue
        complete += 1
        c = _plain_class(q)
        expected[c] = expected.get(c, 0) + 1
    assert complete == 2674 - 165  # the data README: 165 series have gaps
    assert class_counts(prof, complete_only=True) == expected
    # pinned (computed with the plain loop above, 2026-11-27)
    assert expected == PINNED_CARPARTS_COUNTS


PINNED_CARPARTS_COUNTS = {
    "smooth": 16,
    "erratic": 9,
    "intermittent": 2051,
    "lumpy": 407,
    "insufficient": 26,
}


def test_carparts_gap_treatment(carparts: pd.DataFrame) -> None:
    # the 165 series with gaps miss their last 37 (or more) months: profiled on the observed
    # months only, counted in missing_periods, left out of the complete-series class counts
    prof = profile_demand(carparts, "month").set_index("item_id")
    gappy = prof[prof["missing_periods"] > 0]
    assert len(gappy) == 165
    assert (gappy["periods"] + gappy["missing_periods"] == 51).all()
    assert gappy["missing_periods"].min() >= 37
    one = gappy.index[0]
    observed = carparts.loc[carparts.item_id == one, "quantity"].dropna()
    assert gappy.loc[one, "periods"] == len(observed)
    assert gappy.loc[one, "mean"] == pytest.approx(observed.mean())
    assert gappy.loc[one, "sd"] == pytest.approx(observed.std(ddof=1))
    excluded = profile_demand(carparts, "month", settings=DemandSettings(gaps="exclude"))
    assert (excluded["demand_class"] == "excluded_gaps").sum() == 165
    all_counts = class_counts(excluded, complete_only=False)
    assert all_counts["excluded_gaps"] == 165


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "known defect: the shipped carparts mappings drop the empty months (the demand table "
        "cannot store a not-observed month: quantity is required, NOT NULL in storage), so the "
        "profile reads the months after a part's last row as zero demand (as the import's gap "
        "warning says). Fixing it needs schema, validate and storage "
        "changes (see docs/profiles.md, carparts)."
    ),
)
@pytest.mark.parametrize("mapping", ["carparts_long", "carparts_wide"])
def test_carparts_imported_with_the_shipped_mapping_keeps_the_gaps(
    carparts: pd.DataFrame, shared_file: Callable[[str], Path], mapping: str
) -> None:
    from bufferwise.ingest import enforce_policy, read_with_mapping

    layout = mapping.removeprefix("carparts_")
    path = shared_file(f"carparts_expsmooth/carparts_{layout}.csv")
    demand = enforce_policy(read_with_mapping(path, mapping)).tables["demand"]
    imported = profile_demand(demand, "month").set_index("item_id")
    direct = profile_demand(carparts, "month").set_index("item_id")
    # the part the import warns about ("has 37 missing months"): 3 units (2 + 1) in its 14
    # observed months, 1998-01 .. 1999-02
    one = imported.loc["21029627"]
    assert (one["periods"], one["missing_periods"]) == (14, 37)
    assert one["mean"] == pytest.approx(3 / 14)
    assert (imported["missing_periods"] > 0).sum() == 165
    cols = ["periods", "missing_periods", "mean", "demand_class", "obsolete"]
    pd.testing.assert_frame_equal(imported[cols].sort_index(), direct[cols].sort_index())


# --- invariants (hypothesis) ------------------------------------------------------------------

_demand_values = st.lists(
    st.one_of(st.just(0.0), st.integers(1, 500).map(float)), min_size=8, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=_demand_values, k=st.sampled_from([0.5, 2.0, 4.0, 1024.0]),
       k_any=st.floats(0.01, 1000.0))  # fmt: skip
def test_scaling_demand(values: list[float], k: float, k_any: float) -> None:
    base = _one(values)
    for factor, exact in ((k, True), (k_any, False)):
        scaled = _one([v * factor for v in values])
        for col in ("mean", "sd"):
            assert scaled[col] == pytest.approx(base[col] * factor, rel=1e-9, nan_ok=True)
        for col in ("cv", "adi", "cv2", "zero_share"):
            assert scaled[col] == pytest.approx(base[col], rel=1e-9, nan_ok=True)
        near_cut = abs(base["cv2"] - 0.49) < 1e-9 if np.isfinite(base["cv2"]) else False
        if exact or not near_cut:
            assert scaled["demand_class"] == base["demand_class"]


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("ABC"), st.integers(0, 60), st.floats(0, 100).map(round)),
        min_size=5,
        max_size=60,
    ),
    seed=st.integers(0, 2**31),
)
def test_row_order_does_not_change_profile(rows: list[tuple[str, int, float]], seed: int) -> None:
    frame = pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta([r[1] for r in rows], "D"),
            "quantity": [float(r[2]) + 0.1 for r in rows],
        }
    )
    shuffled = frame.sample(frac=1.0, random_state=np.random.default_rng(seed).integers(1 << 30))
    for bucket in ("day", "week"):
        no_complete = f"demand covers no complete {bucket}"
        try:
            a = profile_demand(frame, bucket)
        except InvalidInput as exc:
            if no_complete not in str(exc):
                raise
            # no complete week in the window: the shuffled rows are refused the same way
            with pytest.raises(InvalidInput, match=no_complete):
                profile_demand(shuffled, bucket)
            continue
        b = profile_demand(shuffled, bucket)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_matrix_from_arrays_with_observed_mask() -> None:
    # already-bucketed data with declared gaps passed as a mask (False = not observed)
    q = np.array([[5.0, 0.0, 7.0, 0.0, 6.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    observed = np.array([[True, True, True, False, False], [True] * 5])
    starts = pd.date_range("2024-01-01", periods=5, freq="MS")
    m = demand_matrix_from_array(["A", "B"], starts, q, "month", observed=observed)
    prof = profile_matrix(m).set_index("item_id")
    assert prof.loc["A", "periods"] == 3 and prof.loc["A", "missing_periods"] == 2
    assert prof.loc["A", "mean"] == pytest.approx(4.0)  # 5, 0, 7: the masked 6 is not used
    assert prof.loc["B", "trend"] and prof.loc["B", "trend_slope"] == pytest.approx(1.0)
    assert q[0, 4] == 6.0  # the caller's array is not modified
    with pytest.raises(InvalidInput):
        demand_matrix_from_array(["A"], starts, q, "month")


def test_progress_reports_every_item() -> None:
    rng = np.random.default_rng(4)
    q = rng.poisson(2.0, (2_500, 30)).astype(float)
    starts = pd.date_range("2024-01-01", periods=30, freq="D")
    m = demand_matrix_from_array([f"I{i:04d}" for i in range(2_500)], starts, q, "day")
    seen: list[tuple[int, int]] = []
    prof = profile_matrix(m, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2_500, 2_500) and len(seen) >= 2
    assert prof["mean"].to_numpy() == pytest.approx(q.mean(axis=1))
    assert prof["sd"].to_numpy() == pytest.approx(q.std(axis=1, ddof=1))


def test_common_calendar_with_start_and_end() -> None:
    demand = pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
            "quantity": [1.0, 2.0],
        }
    )
    own = profile_demand(demand, "month").set_index("item_id")
    assert own["periods"].tolist() == [3, 1]  # each item from its first row to March
    common = profile_demand(demand, "month", start="2024-01-15", end="2024-04-30")
    common = common.set_index("item_id")
    assert common["periods"].tolist() == [4, 4]  # January to April for both
    assert common["mean"].tolist() == [0.25, 0.5]


@pytest.mark.parametrize("ordered", [True, False])
def test_identity_factorize_groups_as_pandas(ordered: bool) -> None:
    # the readers share one object per distinct text; the fast path factorizes pointers and
    # must still merge equal texts held by other objects and keep None / NaN missing
    from bufferwise.profile.demand import _factorize

    rng = np.random.default_rng(7)
    ids = np.array([f"ITEM{i:05d}" for i in range(3_000)], dtype=object)
    pick = rng.integers(0, len(ids), 200_000)
    values = ids[np.sort(pick) if ordered else pick]
    values[11] = None
    values[13] = np.nan
    values[17] = "".join(["ITEM", str(values[19])[4:]])  # equal text, another object
    codes, uniques = _factorize(values)
    expected_codes, expected_uniques = pd.factorize(values)
    assert len(uniques) == len(expected_uniques)
    got = np.where(codes >= 0, np.append(uniques.astype(object), None)[codes], None)
    want = np.where(
        expected_codes >= 0, np.append(expected_uniques.astype(object), None)[expected_codes], None
    )
    assert (got == want).all()
    assert codes[11] == codes[13] == -1
    assert codes[17] == codes[19]


def test_outliers_need_the_named_minimum_of_non_zero_buckets() -> None:
    from bufferwise.profile.demand import OUTLIER_MIN_NONZERO

    assert OUTLIER_MIN_NONZERO == 4
    # three non-zero sizes: no fence; four (1 1 1 100): Q1 = 1, Q3 = 1 + 0.25 x 99 = 25.75
    # (h = 0.75 x 3 = 2.25), fence 25.75 + 3 x 24.75 = 100.0, nothing strictly above it
    three = _one([1, 0, 1, 0, 100, 0])
    assert np.isnan(three["outlier_threshold"]) and three["outliers"] == 0
    four = _one([1, 0, 1, 0, 1, 100])
    assert four["outlier_threshold"] == pytest.approx(100.0) and four["outliers"] == 0
