"""Supply disruptions: receipts far later than the supplier's normal spread, grouped into events.

Rule (docs/profiles.md, "Disruptions"):
1. threshold_s = max(factor x p90 of days_late over supplier s's promised receipts, min_days)
   (defaults: factor 2, min_days 14; days_late = max(received - promised, 0) [days]).
2. A receipt is disrupted when received - promised > threshold_s (strictly). Receipts without a
   promised date are never disrupted (nothing to measure against).
3. Disrupted receipts of one supplier whose windows [promised_date, received_date] overlap
   (touching counts) form one event: start = earliest promised date, end = latest received date,
   duration_days = end - start.
4. Per supplier: events, events per year over the supplier's observed span (latest received
   date - earliest order date, in years of 365.25 days), event duration mean / p90 / max, and
   the share of lead-time variance caused by disrupted receipts:
   1 - var(lead time without disrupted receipts) / var(lead time of all receipts), clipped to
   [0, 1] (0 when the supplier's lead time does not vary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bufferwise.profile._group import group_stats, run_codes
from bufferwise.profile.supply import SupplySettings, receipt_facts

_DAY_NS = 86_400 * 10**9
DAYS_PER_YEAR = 365.25


def flag_disrupted(facts: pd.DataFrame, settings: SupplySettings | None = None) -> pd.DataFrame:
    """`facts` (from `receipt_facts`) with disruption_threshold_days and disrupted added."""
    st = settings or SupplySettings()
    out = facts.copy()
    sup = out["supplier_id"].to_numpy(dtype=object)
    codes, heads = run_codes(sup)
    sup_ids = sup[heads]
    late = group_stats(codes, out["days_late"].to_numpy(), len(sup_ids), (0.9,))
    threshold = np.maximum(
        st.disruption_factor * np.nan_to_num(late["p90"]), st.disruption_min_days
    )
    out["disruption_threshold_days"] = threshold[codes]
    lateness = out["lateness_days"].to_numpy()
    with np.errstate(invalid="ignore"):
        out["disrupted"] = lateness > threshold[codes]
    return out


def disruption_events(
    receipts: pd.DataFrame | None = None,
    settings: SupplySettings | None = None,
    *,
    facts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per disruption event: supplier_id, event (1, 2, ... per supplier), start, end,
    duration_days, orders, max_days_late. Give canonical `receipts` or ready `facts`."""
    st = settings or SupplySettings()
    if facts is None:
        if receipts is None:
            raise ValueError("give receipts or facts")
        facts = receipt_facts(receipts, st)
    if "disrupted" not in facts.columns:
        facts = flag_disrupted(facts, st)
    d = facts.loc[facts["disrupted"].to_numpy(dtype=bool)]
    d = d.sort_values(["supplier_id", "promised_date", "received_date", "po_id", "item_id"])
    cols = ["supplier_id", "event", "start", "end", "duration_days", "orders", "max_days_late"]
    if d.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols}).astype(
            {
                "event": np.int64,
                "start": "datetime64[ns]",
                "end": "datetime64[ns]",
                "duration_days": np.float64,
                "orders": np.int64,
                "max_days_late": np.float64,
            }
        )
    sup = d["supplier_id"].to_numpy(dtype=object)
    start = d["promised_date"].to_numpy("datetime64[ns]").astype(np.int64)
    end = d["received_date"].to_numpy("datetime64[ns]").astype(np.int64)
    run_end = pd.Series(end).groupby(sup).cummax().to_numpy()
    same_sup = np.r_[False, sup[1:] == sup[:-1]]
    prev_end = np.r_[np.iinfo(np.int64).min, run_end[:-1]]
    new_event = ~same_sup | (start > prev_end)
    event_id = np.cumsum(new_event) - 1
    heads = np.flatnonzero(new_event)
    ev_start = np.minimum.reduceat(start, heads)
    ev_end = np.maximum.reduceat(end, heads)
    orders = np.bincount(event_id)
    max_late = np.maximum.reduceat(d["lateness_days"].to_numpy(), heads)
    ev_sup = sup[heads]
    number = pd.Series(ev_sup).groupby(ev_sup).cumcount().to_numpy() + 1
    return pd.DataFrame(
        {
            "supplier_id": ev_sup,
            "event": number.astype(np.int64),
            "start": ev_start.astype("datetime64[ns]"),
            "end": ev_end.astype("datetime64[ns]"),
            "duration_days": (ev_end - ev_start) / _DAY_NS,
            "orders": orders.astype(np.int64),
            "max_days_late": max_late,
        }
    )


def supplier_disruptions(
    facts: pd.DataFrame, settings: SupplySettings | None = None
) -> pd.DataFrame:
    """Per supplier: disruptions, disruptions_per_year, disruption_mean_days,
    disruption_p90_days, disruption_max_days, disruption_threshold_days,
    disruption_lead_time_variance_share, observed_years. `facts` from `receipt_facts`."""
    st = settings or SupplySettings()
    if "disrupted" not in facts.columns:
        facts = flag_disrupted(facts, st)
    sup = facts["supplier_id"].to_numpy(dtype=object)
    codes, heads = run_codes(sup)
    sup_ids = sup[heads]
    n_sup = len(sup_ids)
    events = disruption_events(facts=facts, settings=st)
    ev_codes = np.searchsorted(sup_ids, events["supplier_id"].to_numpy(dtype=object))
    dur = group_stats(ev_codes, events["duration_days"].to_numpy(np.float64), n_sup, (0.9, 1.0))
    order = facts["order_date"].to_numpy("datetime64[ns]")
    recv = facts["received_date"].to_numpy("datetime64[ns]")
    # missing dates (NaT, int64 min as integers) are left out of the span
    has_order, has_recv = ~np.isnat(order), ~np.isnat(recv)
    first = np.full(n_sup, np.iinfo(np.int64).max)
    last = np.full(n_sup, np.iinfo(np.int64).min)
    np.minimum.at(first, codes[has_order], order[has_order].astype(np.int64))
    np.maximum.at(last, codes[has_recv], recv[has_recv].astype(np.int64))
    known = (np.bincount(codes[has_order], minlength=n_sup) > 0) & (
        np.bincount(codes[has_recv], minlength=n_sup) > 0
    )
    span = (last.astype(np.float64) - first.astype(np.float64)) / _DAY_NS
    years = np.where(known, span / DAYS_PER_YEAR, np.nan)
    n_events = dur["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(years > 0, n_events / years, np.nan)
    lead = facts["lead_time_days"].to_numpy(np.float64)
    disrupted = facts["disrupted"].to_numpy(dtype=bool)
    var_all = group_stats(codes, lead, n_sup)["sd"] ** 2
    var_clean = group_stats(codes, np.where(disrupted, np.nan, lead), n_sup)["sd"] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip(1.0 - var_clean / var_all, 0.0, 1.0)
    has_disrupted = np.bincount(codes, weights=disrupted.astype(np.float64), minlength=n_sup) > 0
    share = np.where(
        has_disrupted & (np.nan_to_num(var_all) > 0), np.nan_to_num(share, nan=1.0), 0.0
    )
    threshold = np.full(n_sup, np.nan)
    threshold[codes] = facts["disruption_threshold_days"].to_numpy(np.float64)
    none = n_events == 0
    return pd.DataFrame(
        {
            "supplier_id": sup_ids,
            "disruptions": n_events.astype(np.int64),
            "disruptions_per_year": rate,
            "disruption_mean_days": np.where(none, 0.0, dur["mean"]),
            "disruption_p90_days": np.where(none, 0.0, dur["p90"]),
            "disruption_max_days": np.where(none, 0.0, dur["p100"]),
            "disruption_threshold_days": threshold,
            "disruption_lead_time_variance_share": share,
            "observed_years": years,
        }
    )
