"""Profile throughput: 100,000 items x 730 daily periods plus 500,000 receipts.

Prints, in one run and side by side with the target:
  1. the profile without forecasting (`profile_all(..., forecast=False)`: bucketing, demand
     statistics and classes, outliers, supply, disruptions), target <= 20 s on 2 cores;
  2. forecasting on a sample of items (model chosen by class, rolling-origin backtest over a
     14-day protection interval): series/s per model at two sample sizes (the scaling figure)
     and the time the whole population would take at those rates.
Data generation is not timed. The first call compiles the numba kernels (cached afterwards);
a warm-up on 200 items runs first so that compile time is not counted.

    .venv/bin/python benchmarks/profile_benchmark.py                 # full size
    .venv/bin/python benchmarks/profile_benchmark.py --items 10000   # smaller (receipts 5 x items)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from bufferwise.profile import (
    ForecastSettings,
    build_demand_matrix,
    forecast_errors,
    observed_series,
    profile_all,
)

TARGET_S = 20.0
PERIODS = 730


def synthetic_demand(items: int, periods: int = PERIODS, seed: int = 0) -> pd.DataFrame:
    """Daily transactions (rows only on days with demand): 30 % smooth, 45 % intermittent,
    25 % lumpy items; item_id categorical (the fast path)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, items, p=[0.30, 0.45, 0.25])
    p_occ = np.where(kind == 0, rng.uniform(0.85, 1.0, items), rng.uniform(0.03, 0.5, items))
    size_shape = np.where(kind == 2, 0.6, 4.0)
    size_scale = rng.uniform(2.0, 20.0, items)
    codes, days, qty = [], [], []
    chunk = 5_000
    for lo in range(0, items, chunk):
        hi = min(items, lo + chunk)
        occ = rng.random((hi - lo, periods)) < p_occ[lo:hi, None]
        size = rng.gamma(size_shape[lo:hi, None], size_scale[lo:hi, None], (hi - lo, periods))
        r, c = np.nonzero(occ)
        codes.append((r + lo).astype(np.int32))
        days.append(c.astype(np.int64))
        qty.append(np.ceil(size[r, c]))
    start = np.datetime64("2023-01-02", "D")
    names = [f"I{i:06d}" for i in range(items)]
    return pd.DataFrame(
        {
            "item_id": pd.Categorical.from_codes(np.concatenate(codes), pd.Index(names)),
            "date": (start + np.concatenate(days).astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "quantity": np.concatenate(qty),
        }
    )


def synthetic_receipts(rows: int, items: int, suppliers: int = 500, seed: int = 1) -> pd.DataFrame:
    """Purchase-order lines: gamma lead times, mostly small lateness, 1 % long delays."""
    rng = np.random.default_rng(seed)
    order = np.datetime64("2023-01-02", "D") + rng.integers(0, PERIODS, rows).astype(
        "timedelta64[D]"
    )
    lead = np.round(rng.gamma(4.0, 4.0, rows)).astype(np.int64) + 1
    late = np.where(rng.random(rows) < 0.01, rng.integers(20, 90, rows), rng.integers(-3, 5, rows))
    promised = order + lead.astype("timedelta64[D]")
    received = promised + late.astype("timedelta64[D]")
    received = np.maximum(received, order)
    qty = rng.integers(1, 50, rows).astype(float) * 10
    return pd.DataFrame(
        {
            "po_id": np.char.add("PO", np.arange(rows).astype(str)),
            "item_id": np.char.add("I", np.char.zfill(rng.integers(0, items, rows).astype(str), 6)),
            "supplier_id": np.char.add("S", rng.integers(0, suppliers, rows).astype(str)),
            "order_date": order.astype("datetime64[ns]"),
            "promised_date": promised.astype("datetime64[ns]"),
            "received_date": received.astype("datetime64[ns]"),
            "qty_ordered": qty,
            "qty_received": np.where(rng.random(rows) < 0.05, qty * 0.9, qty),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--receipts", type=int, default=None, help="default 5 x items")
    ap.add_argument("--sample", type=int, default=2_000, help="forecast sample (largest size)")
    ap.add_argument("--horizon", type=int, default=14, help="protection interval [days]")
    args = ap.parse_args()
    n_receipts = args.receipts if args.receipts is not None else 5 * args.items

    warm_d, warm_r = synthetic_demand(200), synthetic_receipts(1_000, 200)
    profile_all(warm_d, warm_r, bucket="day", forecast=False)
    warm_y = [np.r_[np.zeros(30), np.arange(1.0, 91.0) % 4]] * 3  # compile the models once
    forecast_errors(warm_y, ["a", "b", "c"], ["smooth", "intermittent", "lumpy"], 14)

    t = time.perf_counter()
    demand = synthetic_demand(args.items)
    receipts = synthetic_receipts(n_receipts, args.items)
    gen_s = time.perf_counter() - t
    print(f"data: {args.items:,} items x {PERIODS} days ({len(demand):,} demand rows), "
          f"{len(receipts):,} receipts; generated in {gen_s:.1f} s (not timed)")  # fmt: skip

    t = time.perf_counter()
    prof = profile_all(demand, receipts, bucket="day", forecast=False)
    total_s = time.perf_counter() - t
    t = time.perf_counter()
    matrix = build_demand_matrix(demand, "day")
    build_s = time.perf_counter() - t
    classes = prof.demand["demand_class"].value_counts()
    print()
    print(f"{'profile without forecasting':<44}{'measured':>12}{'target':>12}")
    print(f"{'  all of profile_all(forecast=False)':<44}{total_s:>10.1f} s{TARGET_S:>10.1f} s"
          f"   {'OK' if total_s <= TARGET_S else 'MISSED'}")  # fmt: skip
    print(f"{'  of which bucketing (build_demand_matrix)':<44}{build_s:>10.1f} s")
    print(f"{'  items / s':<44}{args.items / total_s:>12,.0f}")
    print("  classes: " + ", ".join(f"{k} {v:,}" for k, v in classes.items()))
    print(f"  supply rows {len(prof.supply):,}, disruption events {len(prof.disruptions):,}")

    print()
    print(f"forecasting (daily series of {PERIODS} periods, H = {args.horizon} days, "
          f"8 backtest origins, n_jobs = 1)")  # fmt: skip
    rng = np.random.default_rng(3)
    base_class = prof.demand["demand_class"].to_numpy()
    sizes = sorted({max(args.sample // 4, 1), args.sample})
    rates: dict[int, dict[str, float]] = {}
    for size in sizes:
        rows = np.sort(rng.choice(args.items, size=min(size, args.items), replace=False))
        timings: dict[str, list[float]] = {}
        forecast_errors(
            observed_series(matrix, rows),
            matrix.item_ids[rows],
            base_class[rows],
            args.horizon,
            settings=ForecastSettings(windows=8),
            timings=timings,
        )
        rates[size] = {m: n / s for m, (n, s) in timings.items() if s > 0}
    models = sorted({m for r in rates.values() for m in r})
    print(f"  {'model':<14}" + "".join(f"{f'series/s @{s:,}':>20}" for s in sizes))
    for m in models:
        print(f"  {m:<14}" + "".join(f"{rates[s].get(m, float('nan')):>20,.0f}" for s in sizes))
    from bufferwise.profile import DEFAULT_MODELS

    per_model = pd.Series(base_class).map(DEFAULT_MODELS).value_counts()
    largest = rates[sizes[-1]]
    est = sum(cnt / largest[m] for m, cnt in per_model.items() if m in largest)
    print(f"  whole population at the @{sizes[-1]:,} rates: {est:,.0f} s "
          f"({args.items / max(est, 1e-9):,.0f} series/s); linear in items, "
          f"divides by n_jobs")  # fmt: skip


if __name__ == "__main__":
    main()
