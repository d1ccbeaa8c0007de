"""OEE throughput on synthetic state logs: 10 million events over 200 machines (target <= 10 s).

Prints the time to generate the data (not counted) and the time of `compute_oee` for the whole
window and per day, side by side with the target, in one run.

    .venv/bin/python benchmarks/oee_benchmark.py              # 10,000,000 events
    .venv/bin/python benchmarks/oee_benchmark.py --events 1000000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from bufferwise.equipment import OeeConventions, compute_oee, rollup_oee
from bufferwise.model.schema import MACHINE_STATES

TARGET_S = 10.0


def synthetic_log(
    events: int, machines: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Back-to-back state intervals per machine (mean 60 s), counts per running interval."""
    rng = np.random.default_rng(seed)
    per = events // machines
    n = per * machines
    dur_s = rng.exponential(60.0, n).astype(np.int64) + 1
    state = rng.choice(len(MACHINE_STATES), n, p=[0.6, 0.1, 0.08, 0.08, 0.06, 0.04, 0.04])
    mid = np.repeat(np.arange(machines), per)
    # cumulative time per machine: restart the running sum at each machine's first event
    csum = np.cumsum(dur_s)
    first = np.arange(machines) * per
    offset = np.repeat(csum[first] - dur_s[first], per)
    end_s = csum - offset
    t0 = np.datetime64("2024-01-01T00:00:00", "ns").astype(np.int64)
    end_ns = t0 + end_s * 1_000_000_000
    start_ns = end_ns - dur_s * 1_000_000_000
    ids = pd.Categorical.from_codes(mid, [f"M{i:03d}" for i in range(machines)])
    events_df = pd.DataFrame(
        {
            "machine_id": ids,
            "start": start_ns.view("datetime64[ns]"),
            "end": end_ns.view("datetime64[ns]"),
            "state": pd.Categorical.from_codes(state, list(MACHINE_STATES)),
        }
    )
    running = state == 0
    total = rng.poisson(dur_s[running] / 2.2).astype(float)
    good = np.minimum(total, rng.binomial(total.astype(np.int64), 0.98)).astype(float)
    counts_df = pd.DataFrame(
        {
            "machine_id": ids[running],
            "start": events_df["start"].to_numpy()[running],
            "end": events_df["end"].to_numpy()[running],
            "total_count": total,
            "good_count": good,
        }
    )
    machines_df = pd.DataFrame(
        {"machine_id": [f"M{i:03d}" for i in range(machines)], "ideal_cycle_time_s": 2.0}
    )
    return machines_df, events_df, counts_df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--machines", type=int, default=200)
    args = parser.parse_args()
    t = time.perf_counter()
    machines, events, counts = synthetic_log(args.events, args.machines)
    gen = time.perf_counter() - t
    print(
        f"synthetic data: {len(events):,} state events, {len(counts):,} count rows, "
        f"{args.machines} machines ({gen:.1f} s to generate, not counted)"
    )
    conv = OeeConventions()
    for period in ("all", "day"):
        t = time.perf_counter()
        table = compute_oee(events, counts, machines, conv, period=period)
        el = time.perf_counter() - t
        scaled = el * 10_000_000 / len(events)
        print(
            f"compute_oee period={period:<4} {el:6.2f} s  "
            f"({len(events) / el / 1e6:5.2f} M events/s, {len(table):,} rows; "
            f"scaled to 10 M events: {scaled:5.2f} s; target <= "
            f"{TARGET_S:g} s: {'met' if scaled <= TARGET_S else 'MISSED'})"
        )
    plant = rollup_oee(table, None, conv)[["availability", "performance", "quality", "oee"]]
    print("plant roll-up (summed times and counts):", plant.round(4).to_dict("records")[0])


if __name__ == "__main__":
    main()
