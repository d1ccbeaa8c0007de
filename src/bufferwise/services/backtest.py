"""Use case: backtest buffer decisions on real data.

* `dataset_backtest(name, data_dir, targets)` runs the decision-quality protocol
  (`simulate.decision_quality`, docs/decision-quality.md) on one of the public spare-parts data
  sets in ../shared/data, read through the shipped mappings:

  ========  =========  ===================================================  =================
  data set  bucket     fit / test                                           lead time, value
  ========  =========  ===================================================  =================
  raf       month      1996-01..1999-12 (48) / 2000-01..2002-12 (36)        item's, price_gbp
  man       week       first 75 / last 75 of 150 weeks (2012-2014)          item's, cost price
  carparts  month      1998-01..2000-10 (34) / 2000-11..2002-03 (17)        1 month, 1 per unit
  ========  =========  ===================================================  =================

  The fitting window is the first FIT_SHARE of the calendar (4/7 for RAF: its first four of
  seven years; a half for MAN; two thirds for carparts). Carparts series not observed in the
  test period (165 that stop after 14 months) are left out.
* `plant_backtest(db_url, settings)` backtests the plant stored in the database with
  `decide.backtest` (recommended, current, JIT and one-policy-for-all policies).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bufferwise.decide.backtest import Backtest, backtest
from bufferwise.decide.settings import DecideSettings
from bufferwise.errors import InvalidInput
from bufferwise.ingest import read_with_mapping
from bufferwise.profile import BUCKET_DAYS, bucket_start, build_demand_matrix
from bufferwise.services.runs import load_tables
from bufferwise.services.sizing import resolve_item_inputs
from bufferwise.settings import Settings
from bufferwise.simulate.decision import QUALITY_COLUMNS, decision_quality
from bufferwise.storage import open_repository

DATASETS: tuple[str, ...] = ("raf", "man", "carparts")
DEFAULT_TARGETS: tuple[float, ...] = (0.90, 0.95, 0.98)
#: share of each data set's calendar used for fitting (the rest is replayed)
FIT_SHARE: dict[str, float] = {"raf": 4 / 7, "man": 1 / 2, "carparts": 2 / 3}
#: carparts has no lead times: the stated one [months]
CARPARTS_LEAD_MONTHS = 1


def fit_periods(name: str, n_periods: int) -> int:
    """Periods of a data set's calendar used for fitting (the first FIT_SHARE of them)."""
    return round(n_periods * FIT_SHARE[name])


def carparts_items(ids: list[str]) -> pd.DataFrame:
    """The items decide needs for carparts, which has none: the stated lead time, unit cost 1,
    holding 25 %, criticality medium, continuous review with no lot rules (docs/decide.md)."""
    return pd.DataFrame(
        {
            "item_id": ids,
            "unit_cost": 1.0,
            "holding_rate": 0.25,
            "criticality": "medium",
            "nominal_lead_time_days": 30.0 * CARPARTS_LEAD_MONTHS,
            "review_period_days": 0.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "order_cost": 0.0,
        }
    )


#: the columns of a data-set backtest table
BACKTEST_DATASET_COLUMNS: tuple[str, ...] = ("dataset", *QUALITY_COLUMNS)


@dataclass(frozen=True, slots=True)
class Dataset:
    """One data set on its bucket: demand (items x periods, NaN = not observed), lead time in
    whole periods, unit value, the fitting window's length and calendar."""

    name: str
    bucket: str
    item_ids: np.ndarray
    demand: np.ndarray
    lead_periods: np.ndarray
    unit_value: np.ndarray | None
    fit_periods: int
    period_starts: np.ndarray

    @property
    def fit(self) -> np.ndarray:
        return self.demand[:, : self.fit_periods]

    @property
    def test(self) -> np.ndarray:
        return self.demand[:, self.fit_periods :]


def _batch_table(path: Path, mapping: str, table: str) -> pd.DataFrame:
    if not path.is_file():
        raise InvalidInput(f"{path}: file not found (use --data-dir to point at the data sets)")
    batch = read_with_mapping(path, mapping)
    if batch.errors:
        first = batch.errors[0]
        raise InvalidInput(f"{path}: {len(batch.errors)} rows rejected, e.g. {first}")
    return batch.tables[table]


def _matrix(demand: pd.DataFrame, bucket: str, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    m = build_demand_matrix(demand, bucket, item_ids=ids, start=demand["date"].min())
    rows = pd.Index(m.item_ids.astype(str)).get_indexer(pd.Index(ids))
    return m.quantity[rows], m.period_starts


def load_dataset(name: str, data_dir: Path) -> Dataset:
    """Read one public data set (module docstring) from `data_dir` (../shared/data)."""
    spare = data_dir / "spare_parts"
    if name == "carparts":
        demand = _batch_table(
            data_dir / "carparts_expsmooth" / "carparts_long.csv", "carparts_long", "demand"
        )
        ids = sorted(demand["item_id"].astype(str).unique())
        q, starts = _matrix(demand, "month", ids)
        # a month without a row was not recorded (the mapping drops empty cells): not a zero
        seen = np.zeros(q.shape, dtype=bool)
        row = pd.Index(ids).get_indexer(demand["item_id"].astype(str))
        col = pd.Index(starts).get_indexer(pd.Index(bucket_start(demand["date"], "month")))
        seen[row[col >= 0], col[col >= 0]] = True
        q = np.where(seen, q, np.nan)
        fit_n = fit_periods(name, q.shape[1])
        keep = ~np.isnan(q[:, fit_n:]).any(axis=1)
        return Dataset(
            name,
            "month",
            np.asarray(ids, dtype=object)[keep],
            q[keep],
            np.full(int(keep.sum()), float(CARPARTS_LEAD_MONTHS)),
            None,
            fit_n,
            starts,
        )
    if name not in ("raf", "man"):
        raise InvalidInput(f"data set {name!r} is not one of {', '.join(DATASETS)}")
    bucket = "month" if name == "raf" else "week"
    items = _batch_table(spare / f"{name}_items.csv", f"{name}_items", "items")
    demand = _batch_table(spare / f"{name}_demand_wide.csv", f"{name}_demand", "demand")
    items = items.assign(item_id=items["item_id"].astype(str))
    ids = items["item_id"].tolist()
    q, starts = _matrix(demand, bucket, ids)
    q = np.where(np.isnan(q), 0.0, q)  # wide files: every item is observed every period
    lead = np.round(
        pd.to_numeric(items["nominal_lead_time_days"]).to_numpy(float) / BUCKET_DAYS[bucket]
    )
    value = pd.to_numeric(items["unit_cost"]).to_numpy(float)
    fit_n = fit_periods(name, q.shape[1])
    return Dataset(name, bucket, np.asarray(ids, dtype=object), q, lead, value, fit_n, starts)


def dataset_backtest(
    name: str,
    data_dir: Path,
    targets: tuple[float, ...] = DEFAULT_TARGETS,
) -> pd.DataFrame:
    """The decision-quality table of one data set (BACKTEST_DATASET_COLUMNS)."""
    ds = load_dataset(name, data_dir)
    result = decision_quality(ds.fit, ds.test, ds.lead_periods, ds.unit_value, targets)
    table = result.table.copy()
    table.insert(0, "dataset", name)
    return table


#: decide's backtest of carparts (docs/decide.md, "Backtest"): monthly bucket, the stated lead
#: time, unit cost 1, holding 25 %, criticality medium; recent window 2 years
CARPARTS_DECIDE = DecideSettings(bucket="month", recent_days=730, warmup_days=360)


def decide_dataset_backtest(name: str, data_dir: Path, *, seed: int = 1) -> Backtest:
    """`decide.backtest` (recommended, current = none, JIT, one policy for all) on a public
    data set, split where the decision-quality protocol splits it (FIT_SHARE: carparts fits
    1998-01..2000-10 and replays 2000-11..2002-03); carparts only (docs/decide.md)."""
    if name != "carparts":
        raise InvalidInput(
            f"--decide backtests carparts only (got {name!r}); raf and man are backtested "
            "with the calibrated sizing method without --decide"
        )
    demand = _batch_table(
        data_dir / "carparts_expsmooth" / "carparts_long.csv", "carparts_long", "demand"
    )
    items = carparts_items(sorted(demand["item_id"].astype(str).unique()))
    first_months = bucket_start(demand["date"], "month")
    months = pd.date_range(first_months.min(), first_months.max(), freq="MS")
    split = months[fit_periods(name, len(months))]
    return backtest(items, demand, None, split=split, settings=CARPARTS_DECIDE, seed=seed)


def plant_backtest(
    db_url: str,
    settings: Settings,
    *,
    split: object = None,
    seed: int | None = None,
) -> Backtest:
    """`decide.backtest` on the plant stored at `db_url` (items, demand, receipts)."""
    repo = open_repository(db_url)
    try:
        t = load_tables(repo, ("items", "demand", "receipts"))
    finally:
        repo.close()
    if len(t["items"]) == 0 or len(t["demand"]) == 0:
        raise InvalidInput(
            "no items or no demand are stored: import them first (`bufferwise import`), or "
            "backtest a public data set with --dataset raf|man|carparts"
        )
    used_seed = settings.simulation.seed if seed is None else seed
    return backtest(
        resolve_item_inputs(t["items"], settings),  # priced as analyze prices them
        t["demand"],
        t["receipts"] if len(t["receipts"]) else None,
        split=split,
        settings=settings.decide,
        seed=used_seed,
    )


__all__ = [
    "BACKTEST_DATASET_COLUMNS",
    "CARPARTS_DECIDE",
    "DATASETS",
    "DEFAULT_TARGETS",
    "FIT_SHARE",
    "Dataset",
    "carparts_items",
    "dataset_backtest",
    "decide_dataset_backtest",
    "fit_periods",
    "load_dataset",
    "plant_backtest",
]
