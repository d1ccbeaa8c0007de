"""Profiles: the measured risk facts behind every buffer.

Demand per item (level, spread, Syntetos-Boylan class, trend, season, outliers, obsolescence,
forecast error over the protection interval), supply per supplier and (supplier, item)
(lead time, lateness, fill, shrinkage), disruption events and drift between windows. Pure
functions over DataFrames and arrays; docs/profiles.md documents every column and rule.

    from bufferwise.profile import profile_all
    profiles = profile_all(demand, receipts, items, bucket="week")
    profiles.demand   # one row per item (DEMAND_COLUMNS)
    profiles.supply   # one row per supplier (item_id "") and per (supplier, item)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput
from bufferwise.profile.demand import (
    ADI_CUTOFF,
    BUCKET_DAYS,
    CV2_CUTOFF,
    DEMAND_CLASSES,
    DEMAND_COLUMNS,
    DemandMatrix,
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
from bufferwise.profile.disruption import disruption_events, flag_disrupted, supplier_disruptions
from bufferwise.profile.drift import DriftSettings, demand_drift, split_for_recent, supply_drift
from bufferwise.profile.forecast import (
    DEFAULT_MODELS,
    FORECAST_COLUMNS,
    ForecastSettings,
    forecast_errors,
    observed_series,
)
from bufferwise.profile.supply import (
    SUPPLY_COLUMNS,
    SupplySettings,
    credibility_weight,
    profile_supply,
    receipt_facts,
)

#: progress(stage, done, total); stages: "demand", "forecast", "supply".
Progress = Callable[[str, int, int], None]

EVENT_COLUMNS: tuple[str, ...] = (
    "supplier_id",
    "event",
    "start",
    "end",
    "duration_days",
    "orders",
    "max_days_late",
)


@dataclass(slots=True)
class Profiles:
    """Everything `profile_all` measured.

    demand       one row per item, DEMAND_COLUMNS (docs/profiles.md)
    supply       one row per supplier (item_id "") then per (supplier, item), SUPPLY_COLUMNS
    disruptions  one row per disruption event (EVENT_COLUMNS)
    outliers     flagged outlier periods: item_id, date, quantity, threshold
    bucket       "day", "week" or "month"
    period_starts  first day of each bucket of the demand calendar
    notes        what a planner should know about the inputs (dropped rows, gaps)
    matrix       the bucketed demand the profiles were measured on (None: no demand rows);
                 the report draws each item's demand history from it
    """

    demand: pd.DataFrame
    supply: pd.DataFrame
    disruptions: pd.DataFrame
    outliers: pd.DataFrame
    bucket: str
    period_starts: np.ndarray
    notes: list[str] = field(default_factory=list)
    matrix: DemandMatrix | None = None
    pending_forecast: PendingForecast | None = None


@dataclass
class PendingForecast:
    """The forecast of a `profile_all(..., forecast="later")`: `compute()` runs it (anywhere:
    the caller may run it beside other work), `apply(profiles, table)` writes its figures into
    the demand profile, as `profile_all(forecast=True)` would have."""

    series: list[np.ndarray]
    item_ids: np.ndarray
    classes: np.ndarray
    horizon: np.ndarray
    models: Mapping[str, str] | None
    settings: ForecastSettings | None

    def compute(self) -> pd.DataFrame:
        return forecast_errors(
            self.series,
            self.item_ids,
            self.classes,
            self.horizon,
            models=self.models,
            settings=self.settings,
        )

    @staticmethod
    def apply(profiles: Profiles, table: pd.DataFrame) -> None:
        for col in FORECAST_COLUMNS[1:]:
            if col in profiles.demand.columns:
                profiles.demand[col] = table[col].to_numpy()
        profiles.pending_forecast = None


def _receipt_lead_days(facts: pd.DataFrame) -> pd.Series:
    """item id -> mean lead_time_days of its receipts (`receipt_facts`: calendar days, NaN for
    a receipt without an order date or received before it was ordered; NaN when none has one)."""
    return facts.groupby("item_id", sort=False)["lead_time_days"].mean()


def _lead_time_buckets(
    item_ids: np.ndarray,
    bucket: str,
    lead_time_buckets: int | Mapping[str, float] | pd.Series | None,
    items: pd.DataFrame | None,
    receipt_lead_days: pd.Series | None,
) -> np.ndarray:
    """Protection interval per item in buckets (>= 1): given, else (nominal lead time + review
    period) from items, else the item's mean receipt lead time (`receipt_lead_days`: item id
    -> mean lead_time_days of its `receipt_facts`), else 1."""
    days_per = BUCKET_DAYS[bucket]
    ids = pd.Index(item_ids)
    if lead_time_buckets is not None and not isinstance(lead_time_buckets, Mapping | pd.Series):
        return np.full(len(ids), max(int(np.ceil(float(lead_time_buckets))), 1), dtype=np.int64)
    days = pd.Series(np.nan, index=ids)
    if receipt_lead_days is not None:
        days = receipt_lead_days.reindex(ids).astype(np.float64)
    if items is not None and "nominal_lead_time_days" in items.columns:
        it = items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")
        nominal = it["nominal_lead_time_days"].astype(np.float64)
        review = (
            it["review_period_days"].astype(np.float64).fillna(0.0)
            if "review_period_days" in it.columns
            else 0.0
        )
        given = (nominal + review).reindex(ids)
        days = given.where(given.notna(), days)
    out = np.ceil(days.to_numpy(np.float64) / days_per)
    if lead_time_buckets is not None:
        explicit = pd.Series(lead_time_buckets, dtype=np.float64)
        explicit.index = explicit.index.astype(str)
        over = explicit.reindex(ids).to_numpy(np.float64)
        out = np.where(np.isnan(over), out, np.ceil(over))
    out = np.where(np.isnan(out), 1.0, out)
    return np.maximum(out, 1).astype(np.int64)


def profile_all(
    demand: pd.DataFrame | None,
    receipts: pd.DataFrame | None,
    items: pd.DataFrame | None = None,
    bucket: str = "week",
    forecast: bool | str = True,
    lead_time_buckets: int | Mapping[str, float] | pd.Series | None = None,
    progress: Progress | None = None,
    *,
    missing: pd.DataFrame | None = None,
    start: object = None,
    end: object = None,
    demand_settings: DemandSettings | None = None,
    supply_settings: SupplySettings | None = None,
    forecast_settings: ForecastSettings | None = None,
    forecast_models: Mapping[str, str] | None = None,
) -> Profiles:
    """Profile demand (per item), supply and disruptions (per supplier and (supplier, item)).

    demand, receipts, items  canonical tables (bufferwise.model.schema); None = not available
    bucket              "day", "week" (ISO, Monday) or "month"
    forecast            fit the class-chosen model and backtest it (statsforecast); "later":
                        not here - `Profiles.pending_forecast` holds it for the caller to
                        compute (e.g. beside other work) and apply
    lead_time_buckets   protection interval H of the backtest [buckets]: one number, or per
                        item; default (nominal lead time + review period) / bucket length from
                        items, else the item's mean receipt lead time, else 1
    progress            progress(stage, done, total)
    missing             (item_id, date) buckets declared not observed (see build_demand_matrix)
    start, end          one calendar for all items (default: each item from its first row to
                        the last complete bucket of the data)
    """
    notes: list[str] = []
    pending: PendingForecast | None = None
    ds = demand_settings or DemandSettings()
    ss = supply_settings or SupplySettings()
    # the per-receipt facts (calendar days; received before ordered left out of the lead
    # time), measured once for the forecast horizon and the supply profile
    facts: pd.DataFrame | None = None
    receipt_lead_days: pd.Series | None = None
    if receipts is not None and len(receipts):
        facts = flag_disrupted(receipt_facts(receipts, ss), ss)
        receipt_lead_days = _receipt_lead_days(facts)
    extra = items["item_id"].astype(str).tolist() if items is not None else None
    if demand is not None and len(demand):
        matrix = build_demand_matrix(
            demand, bucket, missing=missing, item_ids=extra, start=start, end=end
        )
        n_items = len(matrix.item_ids)
        if progress is not None:
            progress("demand", 0, n_items)
        dprof = profile_matrix(
            matrix,
            ds,
            progress=(lambda d, t: progress("demand", d, t)) if progress is not None else None,
        )
        outliers = outlier_periods(matrix, dprof)
        if matrix.dropped_rows:
            notes.append(
                f"{matrix.dropped_rows} demand rows fall in partly covered buckets at the edges "
                "of the data window and were left out"
            )
        gaps = int((dprof["missing_periods"] > 0).sum())
        if gaps:
            notes.append(
                f"{gaps} items have buckets declared not observed; they are profiled on their "
                f"observed periods only (gaps={ds.gaps!r})"
            )
        if forecast == "later":
            pending = PendingForecast(
                observed_series(matrix),
                matrix.item_ids,
                np.asarray(classify(dprof["adi"], dprof["cv2"], dprof["nonzero_periods"])),
                _lead_time_buckets(
                    matrix.item_ids, bucket, lead_time_buckets, items, receipt_lead_days
                ),
                forecast_models,
                forecast_settings,
            )
        elif forecast:
            base_class = classify(dprof["adi"], dprof["cv2"], dprof["nonzero_periods"])
            horizon = _lead_time_buckets(
                matrix.item_ids, bucket, lead_time_buckets, items, receipt_lead_days
            )
            fc = forecast_errors(
                observed_series(matrix),
                matrix.item_ids,
                base_class,
                horizon,
                models=forecast_models,
                settings=forecast_settings,
                progress=(lambda d, t: progress("forecast", d, t)) if progress else None,
            )
            for col in FORECAST_COLUMNS[1:]:
                if col in dprof.columns:
                    dprof[col] = fc[col].to_numpy()
        period_starts = matrix.period_starts
    else:
        matrix = None
        if bucket not in BUCKET_DAYS:
            raise InvalidInput(f"bucket {bucket!r} is not one of {', '.join(BUCKET_DAYS)}")
        notes.append("no demand rows: the demand profile is empty")
        dprof = pd.DataFrame({c: pd.Series(dtype=object) for c in DEMAND_COLUMNS})
        outliers = pd.DataFrame(columns=["item_id", "date", "quantity", "threshold"])
        period_starts = np.zeros(0, dtype="datetime64[ns]")

    if receipts is not None and facts is not None:
        if progress is not None:
            progress("supply", 0, len(facts))
        sprof = profile_supply(receipts, ss, facts=facts)
        events = disruption_events(facts=facts, settings=ss)
        if progress is not None:
            progress("supply", len(facts), len(facts))
        no_order = int(facts["order_date"].isna().sum())
        if no_order:
            notes.append(
                f"{no_order} receipts have no order date: they have no lead time and are left "
                "out of the lead-time figures and of the supplier's observed span"
            )
        before = int(facts["received_before_ordered"].sum())
        if before:
            notes.append(
                f"{before} receipts were received before they were ordered (a data error): "
                "they are left out of the lead-time figures"
            )
        unpromised = int(facts["promised_date"].isna().sum())
        if unpromised:
            notes.append(
                f"{unpromised} receipts have no promised date: they count for lead time but "
                "not for on-time rate or disruptions"
            )
    else:
        sprof = pd.DataFrame({c: pd.Series(dtype=object) for c in SUPPLY_COLUMNS})
        events = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
    return Profiles(
        demand=dprof,
        supply=sprof,
        disruptions=events,
        outliers=outliers,
        bucket=bucket,
        period_starts=period_starts,
        notes=notes,
        matrix=matrix,
        pending_forecast=pending,
    )


__all__ = [
    "ADI_CUTOFF",
    "BUCKET_DAYS",
    "CV2_CUTOFF",
    "DEFAULT_MODELS",
    "DEMAND_CLASSES",
    "DEMAND_COLUMNS",
    "EVENT_COLUMNS",
    "FORECAST_COLUMNS",
    "SUPPLY_COLUMNS",
    "DemandMatrix",
    "DemandSettings",
    "DriftSettings",
    "ForecastSettings",
    "PendingForecast",
    "Profiles",
    "Progress",
    "SupplySettings",
    "bucket_start",
    "build_demand_matrix",
    "class_counts",
    "classify",
    "credibility_weight",
    "demand_drift",
    "demand_matrix_from_array",
    "disruption_events",
    "forecast_errors",
    "observed_series",
    "outlier_periods",
    "profile_all",
    "profile_demand",
    "profile_matrix",
    "profile_supply",
    "receipt_facts",
    "split_for_recent",
    "supplier_disruptions",
    "supply_drift",
]
