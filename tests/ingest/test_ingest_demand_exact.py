"""The compiled demand checks (per-item median and MAD, gap spans, the collector's per-slice
work) against the pandas implementation they replaced (`reference_demand_checks`): the same
numbers bit for bit (the sign of a zero included) and the same problems in the same order."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bufferwise.ingest import checks
from ingest import reference_demand_checks as reference
from ingest.helpers import shuffled_rows

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

# values that make a median hard: ties, both zeros, NaN, infinities, tiny and huge numbers
_VALUES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, np.nan, np.inf, -np.inf, 1e-300, 1e300]),
    st.integers(-5, 40).map(float),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)  # pandas' NaN payload is not part of the contract
    return bool(np.array_equal(a.view(np.int64)[~both_nan], b.view(np.int64)[~both_nan]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_VALUES, min_size=1, max_size=40), min_size=1, max_size=12))
def test_grouped_median_and_mad_are_pandas_bit_for_bit(groups: list[list[float]]) -> None:
    q = np.array([v for g in groups for v in g], dtype=np.float64)
    codes = np.repeat(np.arange(len(groups), dtype=np.int32), [len(g) for g in groups])
    median_of, mad_of = checks._medians_and_mads(q, codes)
    want_median, want_mad = reference._median_and_mad(q, codes)
    assert _same_bits(median_of, want_median)
    assert _same_bits(mad_of, want_mad)


@pytest.mark.parametrize("seed", range(6))
def test_big_grouped_median_and_mad_are_pandas_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 7, 8, 365, 1000, 20_000], size=60)
    codes = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    kind = seed % 3
    if kind == 0:  # Poisson counts: many ties
        q = rng.poisson(rng.uniform(0.1, 30, len(sizes)).repeat(sizes)).astype(np.float64)
    elif kind == 1:  # zeros of both signs and NaN
        q = rng.choice([0.0, -0.0, 1.0, np.nan], size=len(codes), p=[0.4, 0.4, 0.1, 0.1])
    else:
        q = rng.standard_normal(len(codes)) * 1e3
        q[rng.random(len(codes)) < 0.05] = np.nan
    q[codes == 5] = np.nan  # an item without any number
    median_of, mad_of = checks._medians_and_mads(q, codes)
    want_median, want_mad = reference._median_and_mad(q, codes)
    assert _same_bits(median_of, want_median)
    assert _same_bits(mad_of, want_mad)


def _demand(seed: int, grouped: bool | str, weekly: bool = False) -> checks.DemandRows:
    """Demand with outliers, returns, gaps (before, inside, after), -0.0 and NaN quantities."""
    rng = np.random.default_rng(seed)
    items, days = 50, 60
    codes = np.repeat(np.arange(items), days)
    quantity = rng.poisson(rng.uniform(0, 9, items).repeat(days)).astype(float)
    quantity[rng.choice(len(quantity), 40, replace=False)] = 500.0  # outliers
    quantity[rng.random(len(quantity)) < 0.02] = -0.0
    quantity[rng.random(len(quantity)) < 0.01] = np.nan
    step = 7 if weekly else 1
    day = np.tile(np.arange(days) * step, items) + 19_723
    keep = rng.random(len(codes)) > 0.05  # gaps
    keep[codes == 3] = np.arange(days) >= 10  # missing at the start
    keep[codes == 4] = np.arange(days) < 50  # missing at the end
    codes, quantity, day = codes[keep], quantity[keep], day[keep]
    returns = np.where(rng.random(len(codes)) < 0.05, rng.integers(1, 4, len(codes)), np.nan)
    rows = np.arange(2, len(codes) + 2)
    if grouped == "late":  # grouped until an early item comes back in the last rows
        order = np.concatenate([np.flatnonzero(codes != 1), np.flatnonzero(codes == 1)[-3:]])
        order = np.concatenate([np.setdiff1d(np.arange(len(codes)), order[-3:]), order[-3:]])
        codes, quantity, day, returns = codes[order], quantity[order], day[order], returns[order]
    elif not grouped:
        codes, quantity, day, returns = shuffled_rows(rng, items, codes, quantity, day, returns)
    return checks.DemandRows(
        codes.astype(np.int32),
        [f"I{i}" for i in range(items)],
        quantity,
        returns.astype(np.float64),
        day.astype(np.int32),
        rows.astype(np.int64),
    )


@pytest.mark.parametrize("cold", [False, True])
@pytest.mark.parametrize("grouped", [True, False, "late"])
@pytest.mark.parametrize("weekly", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_demand_problems_are_the_old_ones(
    monkeypatch: pytest.MonkeyPatch, seed: int, grouped: bool | str, weekly: bool, cold: bool
) -> None:
    data = _demand(seed, grouped, weekly)
    sources = {"quantity": "qty", "date": "day"}
    want = reference.demand_row_warnings(data, "d.csv", sources)
    assert {"outlier", "returns", "gap"} <= {p.code for p in want}
    assert checks.demand_row_warnings(data, "d.csv", sources) == want
    # the collector, fed slice by slice, gives the same list
    rng = np.random.default_rng(seed)
    if cold:  # numba not ready for the first slices: numpy spans, outliers checked later
        monkeypatch.setattr(checks, "_warm_kernels", lambda: time.sleep(0.3))
    else:
        checks._warm_kernels()
    collector = checks.DemandCollector()
    assert collector._warming is None  # no thread before the first slice (safe to fork)
    if not cold:
        collector.start_warming()
        assert collector._warming is not None
        collector._warming.join()
    cuts = np.sort(rng.choice(np.arange(1, len(data.rows)), size=6, replace=False))
    for part in np.split(np.arange(len(data.rows)), cuts):
        collector.add(
            pa.chunked_array([pa.array([data.item_names[c] for c in data.item_codes[part]])]),
            data.quantity[part],
            data.returns[part],
            data.days[part].astype("datetime64[D]").astype("datetime64[ns]"),
            data.rows[part],
            "d.csv",
            sources,
        )
    assert collector.grouped is (grouped is True)
    assert collector.warnings("d.csv", sources) == want


def test_demand_file_problems_are_the_old_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A whole demand file read in slices: the file's problems are those the old checks give."""
    from bufferwise.ingest import read_canonical

    data = _demand(9, grouped=True)
    data.quantity = np.nan_to_num(data.quantity)  # a quantity is required: no empty cells
    lines = ["item_id,date,quantity,returns"]
    for c, d, q, r in zip(data.item_codes, data.days, data.quantity, data.returns, strict=True):
        date = np.datetime64(int(d), "D")
        lines.append(
            f"I{c},{date},{'' if np.isnan(q) else repr(float(q))},{'' if np.isnan(r) else r}"
        )
    path = tmp_path / "demand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = read_canonical(path, "demand", slice_rows=400)
    frame = batch.tables["demand"]
    names, codes = np.unique(frame["item_id"].astype(str).to_numpy(), return_inverse=True)
    assert batch.files[0].rows_accepted == len(frame) == len(data.rows), batch.problems[:3]
    # the accepted rows, numbered as the collector numbers items (first appearance)
    _, first = np.unique(codes, return_index=True)
    order = np.argsort(first)
    renumber = np.empty(len(names), dtype=np.int64)
    renumber[order] = np.arange(len(names))
    accepted_rows = np.arange(1, len(frame) + 1)  # data rows are numbered from 1
    whole = checks.DemandRows(
        renumber[codes].astype(np.int32),
        [str(n) for n in names[order]],
        frame["quantity"].to_numpy(np.float64),
        frame["returns"].to_numpy(np.float64),
        frame["date"].to_numpy("datetime64[D]").astype(np.int64).astype(np.int32),
        accepted_rows[: len(frame)],
    )
    want = reference.demand_row_warnings(whole, "demand.csv", {})
    got = [p for p in batch.problems if p.code in {"outlier", "returns", "gap"}]
    assert {"outlier", "returns", "gap"} <= {p.code for p in want}
    assert got == sorted(want, key=lambda p: -1 if p.row is None else p.row)


@pytest.mark.parametrize("seed", range(5))
def test_day_spans_by_numpy_are_the_kernels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = 30
    state = [np.zeros(items, dtype=np.int64) for _ in range(6)]
    for _ in range(5):  # slices with some items new, some seen before
        n = int(rng.integers(1, 200))
        codes = rng.integers(0, items, n).astype(np.int32)
        days = rng.integers(18_000, 18_400, n).astype(np.int32)
        got = checks._add_day_spans_numpy(days, codes, *state[:3])
        want = checks._add_day_spans(days, codes, *state[3:])
        assert got[1] == want[1]
        assert np.array_equal(got[0], want[0])
        for a, b in zip(state[:3], state[3:], strict=True):
            assert np.array_equal(a, b)
