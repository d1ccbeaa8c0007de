"""Supply profile per supplier and per (item, supplier) from purchase-order receipts.

Per receipt (canonical receipts row):
    lead_time_days  = received_date - order_date                        [days]
    lateness_days   = received_date - promised_date (negative = early)   [days]; NaN without
                      a promised date
    days_late       = max(lateness_days, 0)                              [days]
    on_time         = lateness_days <= on_time_tolerance_days            (1 / 0; NaN without
                      a promise)
Per group: lead-time mean, sd (ddof = 1), p50 / p90 / p95 / p99 (linear interpolation between
order statistics); on-time rate over receipts with a promise; mean and p95 of days_late over
receipts with a promise (early = 0 days late); quantity fill rate = sum(qty_received) /
sum(qty_ordered) over receipts whose qty_received is known.

Days are calendar days: every date is floored to its day first (a time of day never counts).
A receipt received before it was ordered is a data error: it has no lead time (left out of the
lead-time figures); profile_all notes how many there were.

(item, supplier) rows are shrunk toward their supplier with the credibility weight
w = n / (n + k) (Bühlmann): estimate = w * item + (1 - w) * supplier, where n counts the receipts
the figure is measured on: the receipts with a lead time for the lead-time mean and percentiles,
the receipts with a promised date for the on-time rate and days late (so the on-time rate is the
Beta-binomial posterior mean (on-time + k * supplier rate) / (n + k)). The lead-time variance
uses w_var = (n - 1) / (n - 1 + k) (the degrees of freedom behind the item's variance).
credibility_weight reports the lead-time weight. Raw item figures are kept in *_raw columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput
from bufferwise.profile._group import group_count, group_stats, group_sum, run_codes

RECEIPT_COLUMNS: tuple[str, ...] = (
    "po_id",
    "item_id",
    "supplier_id",
    "order_date",
    "promised_date",
    "received_date",
    "qty_ordered",
    "qty_received",
)

SUPPLY_COLUMNS: tuple[str, ...] = (
    "supplier_id",
    "item_id",
    "receipts",
    "promised_receipts",
    "lead_time_mean_days",
    "lead_time_sd_days",
    "lead_time_p50_days",
    "lead_time_p90_days",
    "lead_time_p95_days",
    "lead_time_p99_days",
    "on_time_rate",
    "mean_days_late",
    "p95_days_late",
    "p90_days_late",
    "quantity_fill_rate",
    "credibility_weight",
    "lead_time_mean_raw_days",
    "lead_time_sd_raw_days",
    "on_time_rate_raw",
    "disrupted_orders",
    "disruptions",
    "disruptions_per_year",
    "disruption_mean_days",
    "disruption_p90_days",
    "disruption_max_days",
    "disruption_threshold_days",
    "disruption_lead_time_variance_share",
    "observed_years",
)

_LEAD_TIME_FIGURES: tuple[str, ...] = (
    "lead_time_mean_days",
    "lead_time_p50_days",
    "lead_time_p90_days",
    "lead_time_p95_days",
    "lead_time_p99_days",
)
_PROMISE_FIGURES: tuple[str, ...] = (
    "on_time_rate",
    "mean_days_late",
    "p90_days_late",
    "p95_days_late",
)


@dataclass(frozen=True, slots=True)
class SupplySettings:
    """Settings of the supply and disruption profiles.

    on_time_tolerance_days  a receipt is on time when at most this many days late [days]
    credibility_k           k of the credibility weight n / (n + k) [receipts]
    disruption_factor       a receipt is disrupted when its lateness exceeds
                            max(disruption_factor x the supplier's p90 days late,
                            disruption_min_days)
    disruption_min_days     [days]
    """

    on_time_tolerance_days: float = 0.0
    credibility_k: float = 5.0
    disruption_factor: float = 2.0
    disruption_min_days: float = 14.0


def _ns(values: pd.Series) -> np.ndarray:
    """Dates as datetime64[ns]; a column already of that dtype is taken as it is (pandas'
    to_datetime would return it unchanged, after scanning it)."""
    if values.dtype == np.dtype("datetime64[ns]"):
        return values.to_numpy()
    return pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")


def calendar_days(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """Calendar days from `earlier` to `later` (datetime64 arrays): both dates are floored to
    their day first, so a time of day never counts (a receipt at 10:00 on its promised day is 0
    days late, not 0.42). NaN where either date is missing."""
    a = np.asarray(later, dtype="datetime64[ns]").astype("datetime64[D]")
    b = np.asarray(earlier, dtype="datetime64[ns]").astype("datetime64[D]")
    diff = a - b
    out = diff.astype(np.int64).astype(np.float64)
    out[np.isnat(diff)] = np.nan
    return out


def _days(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return calendar_days(_ns(later), _ns(earlier))


def receipt_facts(receipts: pd.DataFrame, settings: SupplySettings | None = None) -> pd.DataFrame:
    """Canonical receipts in a fixed order (supplier, item, po, dates, quantities) with the
    per-receipt facts: lead_time_days, lateness_days, days_late, on_time (1.0 / 0.0 / NaN) and
    received_before_ordered. Days are calendar days (dates floored to the day). lead_time_days
    is NaN without an order date and for a receipt received before it was ordered (a data
    error: left out of the lead-time figures, flagged in received_before_ordered)."""
    st = settings or SupplySettings()
    optional = ("promised_date", "qty_received")
    absent = [c for c in RECEIPT_COLUMNS if c not in receipts.columns and c not in optional]
    if absent:
        raise InvalidInput(
            f"receipts has no column {', '.join(absent)} (expected {', '.join(RECEIPT_COLUMNS)})"
        )
    n = len(receipts)

    def dates(col: str) -> np.ndarray:
        if col not in receipts.columns:
            return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        return _ns(receipts[col])

    df = pd.DataFrame(
        {
            "po_id": receipts["po_id"].astype(str).to_numpy(),
            "item_id": receipts["item_id"].astype(str).to_numpy(),
            "supplier_id": receipts["supplier_id"].astype(str).to_numpy(),
            "order_date": dates("order_date"),
            "promised_date": dates("promised_date"),
            "received_date": dates("received_date"),
            "qty_ordered": receipts["qty_ordered"].to_numpy(dtype=np.float64),
            "qty_received": (
                receipts["qty_received"].to_numpy(dtype=np.float64)
                if "qty_received" in receipts.columns
                else np.full(n, np.nan)
            ),
        }
    )
    order = ["supplier_id", "item_id", "po_id", "order_date", "promised_date", "received_date"]
    order += ["qty_ordered", "qty_received"]
    df = df.sort_values(order, kind="mergesort", na_position="last")
    df = df.reset_index(drop=True)
    lead = _days(df["received_date"], df["order_date"])
    late = _days(df["received_date"], df["promised_date"])
    # received before ordered: a data error (ingest rejects such rows; this is the API path);
    # kept as a receipt, but left out of every lead-time figure (profile_all notes the count)
    with np.errstate(invalid="ignore"):
        before = lead < 0
    df["received_before_ordered"] = before
    df["lead_time_days"] = np.where(before, np.nan, lead)
    df["lateness_days"] = late
    df["days_late"] = np.where(np.isnan(late), np.nan, np.maximum(late, 0.0))
    with np.errstate(invalid="ignore"):
        on_time = (late <= st.on_time_tolerance_days).astype(np.float64)
    on_time[np.isnan(late)] = np.nan
    df["on_time"] = on_time
    return df


def _aggregate(facts: pd.DataFrame, codes: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    lt = group_stats(codes, facts["lead_time_days"].to_numpy(), n_groups, (0.5, 0.9, 0.95, 0.99))
    late = group_stats(codes, facts["days_late"].to_numpy(), n_groups, (0.9, 0.95))
    on_time = facts["on_time"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        on_rate = group_sum(codes, on_time, n_groups) / group_count(codes, on_time, n_groups)
        recv = facts["qty_received"].to_numpy()
        ordered_known = np.where(np.isnan(recv), np.nan, facts["qty_ordered"].to_numpy())
        fill = group_sum(codes, recv, n_groups) / group_sum(codes, ordered_known, n_groups)
    fill[group_count(codes, recv, n_groups) == 0] = np.nan
    return {
        "receipts": np.bincount(codes, minlength=n_groups).astype(np.int64),
        "promised_receipts": group_count(codes, on_time, n_groups),
        "lead_time_receipts": lt["n"],
        "lead_time_mean_days": lt["mean"],
        "lead_time_sd_days": lt["sd"],
        "lead_time_p50_days": lt["p50"],
        "lead_time_p90_days": lt["p90"],
        "lead_time_p95_days": lt["p95"],
        "lead_time_p99_days": lt["p99"],
        "on_time_rate": on_rate,
        "mean_days_late": late["mean"],
        "p90_days_late": late["p90"],
        "p95_days_late": late["p95"],
        "quantity_fill_rate": fill,
    }


def credibility_weight(n: np.ndarray, k: float) -> np.ndarray:
    """Bühlmann credibility weight n / (n + k) of a group with n observations."""
    n = np.asarray(n, dtype=np.float64)
    return n / (n + k) if k > 0 else np.ones_like(n)


def profile_supply(
    receipts: pd.DataFrame,
    settings: SupplySettings | None = None,
    *,
    facts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Supply profile: one row per supplier (item_id "") followed by one row per (supplier,
    item), columns SUPPLY_COLUMNS. Disruption columns come from
    `bufferwise.profile.disruption.supplier_disruptions`; item rows carry their supplier's
    rate, duration and threshold and their own count of disrupted orders."""
    from bufferwise.profile.disruption import flag_disrupted, supplier_disruptions

    st = settings or SupplySettings()
    f = facts if facts is not None else receipt_facts(receipts, st)
    if "disrupted" not in f.columns:
        f = flag_disrupted(f, st)
    sup_all = f["supplier_id"].to_numpy(dtype=object)
    item_all = f["item_id"].to_numpy(dtype=object)
    sup_codes, sup_heads = run_codes(sup_all)
    sup_ids = sup_all[sup_heads]
    n_sup = len(sup_ids)
    sup = _aggregate(f, sup_codes, n_sup)

    pair, first_row = run_codes(sup_all, item_all)
    n_pair = len(first_row)
    pair_sup = sup_codes[first_row]
    pair_item = item_all[first_row]
    item = _aggregate(f, pair, n_pair)

    # each figure is shrunk with the weight of the receipts it is measured on: lead-time figures
    # over the receipts with a lead time, on-time and lateness figures over the receipts with a
    # promised date (so that the on-time rate is the Beta-binomial posterior mean
    # (on-time + k x supplier rate) / (promised + k))
    w_lead = credibility_weight(item["lead_time_receipts"], st.credibility_k)
    w_prom = credibility_weight(item["promised_receipts"], st.credibility_k)
    n_var = np.maximum(item["lead_time_receipts"] - 1, 0).astype(np.float64)
    w_var = credibility_weight(n_var, st.credibility_k)
    blended = dict(item)
    blended["lead_time_mean_raw_days"] = item["lead_time_mean_days"]
    blended["lead_time_sd_raw_days"] = item["lead_time_sd_days"]
    blended["on_time_rate_raw"] = item["on_time_rate"]
    shrunk = {col: w_lead for col in _LEAD_TIME_FIGURES} | {col: w_prom for col in _PROMISE_FIGURES}
    for col, w in shrunk.items():
        own, prior = item[col], sup[col][pair_sup]
        wc = np.where(np.isnan(own), 0.0, w)
        blended[col] = wc * np.nan_to_num(own) + (1 - wc) * prior
    own_var = np.nan_to_num(item["lead_time_sd_days"] ** 2)
    prior_var = sup["lead_time_sd_days"][pair_sup] ** 2
    wv = np.where(np.isnan(item["lead_time_sd_days"]), 0.0, w_var)
    blended["lead_time_sd_days"] = np.sqrt(wv * own_var + (1 - wv) * prior_var)

    dis = supplier_disruptions(f, st)
    dis = dis.set_index("supplier_id").reindex(sup_ids)
    disrupted = f["disrupted"].to_numpy(dtype=np.float64)
    sup_rows = pd.DataFrame(sup)
    sup_rows.insert(0, "item_id", "")
    sup_rows.insert(0, "supplier_id", sup_ids)
    sup_rows["credibility_weight"] = 1.0
    sup_rows["lead_time_mean_raw_days"] = sup["lead_time_mean_days"]
    sup_rows["lead_time_sd_raw_days"] = sup["lead_time_sd_days"]
    sup_rows["on_time_rate_raw"] = sup["on_time_rate"]
    sup_rows["disrupted_orders"] = np.bincount(sup_codes, weights=disrupted, minlength=n_sup)
    item_rows = pd.DataFrame(blended)
    item_rows.insert(0, "item_id", pair_item)
    item_rows.insert(0, "supplier_id", sup_ids[pair_sup])
    item_rows["credibility_weight"] = w_lead
    item_rows["disrupted_orders"] = np.bincount(pair, weights=disrupted, minlength=n_pair)
    for col in (
        "disruptions",
        "disruptions_per_year",
        "disruption_mean_days",
        "disruption_p90_days",
        "disruption_max_days",
        "disruption_threshold_days",
        "disruption_lead_time_variance_share",
        "observed_years",
    ):
        values = dis[col].to_numpy()
        sup_rows[col] = values
        item_rows[col] = values[pair_sup]
    out = pd.concat([sup_rows, item_rows], ignore_index=True)
    out["disrupted_orders"] = out["disrupted_orders"].astype(np.int64)
    out["disruptions"] = out["disruptions"].astype(np.int64)
    return out[list(SUPPLY_COLUMNS)]
