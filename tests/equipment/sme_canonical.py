"""SME retrofit CSV -> canonical machine_events / production_counts, for the equipment tests.

Source: Atzeni et al., Sensors 23(13):6078 (2023), company_A_labelled_subset.csv (5-minute,
irregular snapshots of 3 assets, 2022-08-31 .. 2022-09-21). Columns used: ts, asset, items,
status. What the data show (inspected for these tests):

* status 2 (auto) -> running: ~4-5 items per 5 minutes, the production state;
  status 3 (alarm) -> down: the machine's own stop; status 1 (manual) -> setup: the operator
  has the machine in manual mode (power low, ~0.1 items per snapshot); we count it as
  changeover / adjustment time (an availability loss under the default conventions).
* A row is a snapshot: the state holds from its ts until the next row of the same asset,
  capped at MAX_GAP_S (longer gaps are missing data, left unlogged). The last row of each
  asset has no successor and is dropped.
* `items` is a per-interval count, not a counter: it drops to 0 and grows with the gap since
  the previous row (asset 0: mean 3.9 items after a 300 s gap, 7.4 after 600 s). It counts the
  items made since the previous row, so it becomes a production_counts row from the previous
  ts to this ts; each asset's first row (unknown start) is dropped.
* No reject information: good_count = total_count (quality 1 by construction).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MAX_GAP_S = 900.0
STATUS_TO_STATE = {1: "setup", 2: "running", 3: "down"}
# ideal cycle time per asset [s / item]: 300 s / the 95th percentile of items in uninterrupted
# 5-minute auto intervals (asset 0: 5, asset 1: 8, asset 2: 6 items) - the fastest sustained rate
IDEAL_CYCLE_TIME_S = {"0": 60.0, "1": 37.5, "2": 50.0}


def read_sme(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    raw["ts"] = pd.to_datetime(raw["ts"], utc=True).dt.tz_localize(None)
    raw["asset"] = raw["asset"].astype(int).astype(str)
    return raw.sort_values(["asset", "ts"], kind="mergesort").reset_index(drop=True)


def sme_to_canonical(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(machines, machine_events, production_counts) in canonical shape."""
    nxt = raw.groupby("asset")["ts"].shift(-1)
    gap = (nxt - raw["ts"]).dt.total_seconds()
    has_next = nxt.notna()
    end = raw["ts"] + pd.to_timedelta(gap.clip(upper=MAX_GAP_S), unit="s")
    events = (
        pd.DataFrame(
            {
                "machine_id": raw["asset"],
                "start": raw["ts"],
                "end": end,
                "state": raw["status"].astype(int).map(STATUS_TO_STATE),
                "reason": "",
                "component": "",
            }
        )
        .loc[has_next]
        .reset_index(drop=True)
    )
    prev = raw.groupby("asset")["ts"].shift(1)
    counts = (
        pd.DataFrame(
            {
                "machine_id": raw["asset"],
                "start": prev,
                "end": raw["ts"],
                "total_count": raw["items"].astype(float),
                "good_count": raw["items"].astype(float),
            }
        )
        .loc[prev.notna()]
        .reset_index(drop=True)
    )
    machines = pd.DataFrame(
        {
            "machine_id": list(IDEAL_CYCLE_TIME_S),
            "ideal_cycle_time_s": list(IDEAL_CYCLE_TIME_S.values()),
            "planned_hours_per_day": 24.0,
        }
    )
    return machines, events, counts
