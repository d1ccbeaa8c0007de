"""Mistake diagnostics: what the current policy gets wrong, each quantified in money.

Every rule reads the `Analysis` (costs simulated under the item's whole risk, the current
buffer priced the same way) and the thresholds of `DiagnoseSettings`
(docs/decide.md, "Mistake diagnostics"):

dogmatic_jit   the recommended stance is not jit (the item's risk calls for a buffer), the
               current safety stock is at most dogmatic_max_share x the recommended one, its
               expected fill rate is below dogmatic_max_fill_rate (it runs short), and its
               expected annual cost exceeds the recommended one by at least
               max(min_money_per_year, dogmatic_min_excess_share x recommended cost).
               Money: the current expected shortage cost per year and the excess over the
               recommendation.
lazy_jic       the recommended stance is jit or lean (a stable item), and the current safety
               stock is at least lazy_ratio x the recommended one, at least
               lazy_min_excess_days of demand above it and worth at least
               lazy_min_excess_value more. Money: excess stock value (cash freed) and its
               holding cost per year.
one_policy_for_all  a group of at least max(uniform_min_items, uniform_min_share x items)
               items whose current cover (days of average demand) lies within +- uniform_band
               of a common value, while the cover their risk calls for spreads by at least
               uniform_risk_spread x that value (90th - 10th percentile). Portfolio finding;
               every member is flagged. Money: the group's expected annual cost now minus
               recommended; shortage cost of its under-covered members; excess value of its
               over-covered members.
set_and_forget the buffer was set more than review_horizon_days before the end of the data and
               its risk drifted since: the demand drift (profile.demand_drift) or the item's
               supply drift (profile.supply_drift) between the recent drift_recent_days and the
               earlier data `matters`, or the recent measured lead time is at least
               lead_time_growth x the nominal one. Money: expected annual cost of the current
               buffer minus the recommended one.
hidden_loss    equipment risk is given, the item's machine has availability below
               machine_availability, and the current buffer rides out most of its outages
               (current cover >= the machine's p90 outage length). Money: the buffer value
               that exists for the machine (current minus what the item would need with a
               machine that never fails, at least the p90 outage's demand) and its holding cost
               per year; the machine's down hours a year the buffer would outlast if full at
               each stop (equipment.hidden_loss.stop_hours_ridden_out: an upper bound, not the
               net starvation the equipment buffers table's hidden_loss_hours measures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.analysis import Analysis
from bufferwise.decide.stance import STANCE_RANK, STANCES, zones
from bufferwise.equipment.hidden_loss import stop_hours_ridden_out
from bufferwise.profile import demand_drift, supply_drift

CODES: tuple[str, ...] = (
    "dogmatic_jit",
    "lazy_jic",
    "one_policy_for_all",
    "set_and_forget",
    "hidden_loss",
)
FINDING_COLUMNS: tuple[str, ...] = (
    "code",
    "scope",
    "items",
    "item_count",
    "money_per_year",
    "stock_value",
    "message",
)


@dataclass
class Diagnosis:
    """codes          per item, the list of mistake codes
    details        per item, the sentences that quantify them
    money_per_year per item, the largest annual amount of its findings [money / year]
    cash           per item, stock value that can be freed (> 0) or must be added (< 0)
    findings       one row per item finding and per portfolio finding (FINDING_COLUMNS)
    drift          per item: demand mean ratio, lead-time ratio (recent / earlier), matters
    """

    codes: list[list[str]]
    details: list[list[str]]
    money_per_year: np.ndarray
    cash: np.ndarray
    findings: pd.DataFrame
    drift: pd.DataFrame


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _days_since(analysis: Analysis) -> np.ndarray:
    items = analysis.items
    if "buffer_set_on" not in items.columns or len(analysis.matrix.period_starts) == 0:
        return np.full(analysis.n_items, np.nan)
    end = pd.Timestamp(analysis.matrix.period_starts[-1])
    set_on = pd.to_datetime(items["buffer_set_on"], errors="coerce")
    return ((end - set_on).dt.days).to_numpy(dtype=float)


def item_drift(analysis: Analysis, receipts: pd.DataFrame | None) -> pd.DataFrame:
    """Per item: demand and supply drift between the recent window and the earlier data."""
    st = analysis.settings.diagnose
    risk = analysis.risk
    m = analysis.matrix
    ids = risk.item_ids
    out = pd.DataFrame(
        {
            "item_id": ids,
            "demand_mean_ratio": np.nan,
            "demand_matters": False,
            "lead_time_ratio": np.nan,
            "supply_matters": False,
            "recent_lead_time_days": np.nan,
            "nominal_lead_time_days": pd.to_numeric(
                analysis.items["nominal_lead_time_days"], errors="coerce"
            ).to_numpy(float),
        }
    )
    recent = max(1, round(st.drift_recent_days / risk.bucket_days))
    if len(m.period_starts) <= recent + 1:
        return out
    split = pd.Timestamp(m.period_starts[-recent])
    lt = risk.protection_periods("normal")
    sd_l = risk.lead_time_period_stats("normal")[1]
    order = pd.Index([str(k) for k in m.item_ids]).get_indexer(pd.Index([str(i) for i in ids]))
    if (order < 0).any():
        raise KeyError(str(ids[int(np.argmax(order < 0))]))
    lt_m = np.ones(len(m.item_ids))
    sd_m = np.zeros(len(m.item_ids))
    lt_m[order] = np.maximum(lt, 1.0)
    sd_m[order] = sd_l
    dd = demand_drift(m, split, lead_time_buckets=lt_m, lead_time_sd_buckets=sd_m)
    dd = dd.set_index(dd["item_id"].astype(str))
    out["demand_mean_ratio"] = dd["mean_ratio"].reindex(ids).to_numpy(float)
    out["demand_matters"] = dd["matters"].astype(bool).reindex(ids).to_numpy(dtype=object) == True  # noqa: E712
    if receipts is not None and len(receipts):
        sd = supply_drift(receipts, split)
        pairs = sd[sd["item_id"].astype(str) != ""].copy()
        pairs.index = pairs["item_id"].astype(str)
        pairs = pairs[~pairs.index.duplicated()]
        out["lead_time_ratio"] = pairs["lead_time_ratio"].reindex(ids).to_numpy(float)
        matters = pairs["matters"].astype(bool).reindex(ids)
        out["supply_matters"] = matters.to_numpy(dtype=object) == True  # noqa: E712
        r = receipts[pd.to_datetime(receipts["order_date"]) >= split]
        lead = (pd.to_datetime(r["received_date"]) - pd.to_datetime(r["order_date"])).dt.days
        recent_lt = lead.groupby(r["item_id"].astype(str).to_numpy()).mean()
        out["recent_lead_time_days"] = recent_lt.reindex(ids).to_numpy(float)
    return out


def _history_mean(analysis: Analysis) -> np.ndarray:
    """Mean demand per bucket of each item's whole observed history (NaN: none), in the order
    of the risk model's items."""
    m = analysis.matrix
    q = m.quantity
    count = np.zeros(q.shape[0], dtype=np.int64)
    total = np.zeros(q.shape[0])
    for start in range(0, q.shape[0], 4096):  # row sums by blocks: small temporaries
        block = q[start : start + 4096]
        observed = np.isfinite(block)
        count[start : start + len(block)] = observed.sum(axis=1)
        total[start : start + len(block)] = np.where(observed, block, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    pos = pd.Index([str(k) for k in m.item_ids]).get_indexer(
        pd.Index([str(x) for x in analysis.risk.item_ids])
    )
    return np.where(pos >= 0, mean[np.maximum(pos, 0)], np.nan)


def _uniform_groups(cover: np.ndarray, band: float, min_items: int) -> list[np.ndarray]:
    """Groups of items whose cover lies within +- band of a common value (largest first)."""
    groups: list[np.ndarray] = []
    free = np.isfinite(cover) & (cover > 0)
    width = math.log1p(band)
    while free.sum() >= min_items:
        idx = np.flatnonzero(free)
        logc = np.log(cover[idx])
        srt = np.sort(logc)
        counts = np.searchsorted(srt, logc + width, "right") - np.searchsorted(
            srt, logc - width, "left"
        )
        best = int(np.argmax(counts))
        if counts[best] < min_items:
            break
        first = idx[np.abs(logc - logc[best]) <= width]
        center = float(np.median(cover[first]))
        members = idx[np.abs(np.log(cover[idx]) - math.log(center)) <= width]
        if members.size < min_items:
            break
        groups.append(members)
        free[members] = False
    return groups


def diagnose(analysis: Analysis, receipts: pd.DataFrame | None = None) -> Diagnosis:
    """Run every diagnostic (module docstring) on an Analysis."""
    a = analysis
    st = a.settings.diagnose
    risk = a.risk
    n = a.n_items
    codes: list[list[str]] = [[] for _ in range(n)]
    details: list[list[str]] = [[] for _ in range(n)]
    money = np.zeros(n)
    cash = np.zeros(n)
    rows: list[dict[str, object]] = []
    ids = risk.item_ids
    rank = a.stance_index
    rec_ss = a.recommended_ss
    cur = a.current_ss
    has_cur = np.isfinite(cur)
    daily = risk.daily_demand()
    unit = risk.unit_cost
    c_rec = a.chosen("total_cost")
    c_cur = a.option_column("total_cost", 4)
    so_cur = a.option_column("stockout_cost", 4)
    fill_cur = a.option_column("fill_rate", 4)
    fill_rec = a.chosen("fill_rate")

    def add(i: int | np.integer, code: str, text: str, per_year: float, value: float) -> None:
        codes[i].append(code)
        details[i].append(text)
        money[i] = max(money[i], per_year)
        if value:
            cash[i] = value
        rows.append(
            {
                "code": code,
                "scope": "item",
                "items": str(ids[i]),
                "item_count": 1,
                "money_per_year": per_year,
                "stock_value": value,
                "message": text,
            }
        )

    def cover(x: float, i: int | np.integer) -> str:
        return f"{x / daily[i]:.1f} days" if daily[i] > 0 else f"{x:,.0f} units"

    def held_now(i: int | np.integer) -> str:
        """The current stance in words: the zone the current safety stock falls in (jit at
        zero safety stock, README "Stances"), with its cover."""
        if not cur[i] > 0:
            return "held jit (no safety stock)"
        at = np.array([int(i)])
        k = int(
            zones(
                np.array([[cur[i]]]),
                a.normal_cover[at],
                a.disruption_cover[at],
                np.array([risk.full_layer[i] != "normal"]),
                risk.strategic_eligible[at],
            )[0, 0]
        )
        return f"held {STANCES[k]} ({cover(cur[i], i)} of cover)"

    # dogmatic_jit
    for i in np.flatnonzero(has_cur & (rank >= STANCE_RANK["lean"])):
        excess = c_cur[i] - c_rec[i]
        floor = max(st.min_money_per_year, st.dogmatic_min_excess_share * c_rec[i])
        short_now = fill_cur[i] < st.dogmatic_max_fill_rate
        if cur[i] <= st.dogmatic_max_share * rec_ss[i] and excess >= floor and short_now:
            text = (
                f"{held_now(i)} against a risk that calls for "
                f"{cover(rec_ss[i], i)} ({STANCES[rank[i]]}): expected shortages cost "
                f"{_money(so_cur[i])} a year, {_money(excess)} a year more than the "
                f"recommended buffer (fill rate {fill_cur[i]:.1%} -> {fill_rec[i]:.1%})"
            )
            add(i, "dogmatic_jit", text, float(excess), -float((rec_ss[i] - cur[i]) * unit[i]))

    # lazy_jic
    for i in np.flatnonzero(has_cur & (rank <= STANCE_RANK["lean"])):
        extra = cur[i] - rec_ss[i]
        value = extra * unit[i]
        days_extra = extra / daily[i] if daily[i] > 0 else math.inf
        if (
            cur[i] >= st.lazy_ratio * rec_ss[i]
            and days_extra >= st.lazy_min_excess_days
            and value >= st.lazy_min_excess_value
        ):
            holding = extra * risk.holding_per_year[i]
            text = (
                f"holds {cover(cur[i], i)} of cover where its risk calls for "
                f"{cover(rec_ss[i], i)}: {_money(value)} of stock can be freed, saving "
                f"{_money(holding)} a year in holding "
                f"(expected annual cost {_money(c_cur[i])} -> {_money(c_rec[i])})"
            )
            add(i, "lazy_jic", text, float(max(holding, c_cur[i] - c_rec[i])), float(value))

    # one_policy_for_all (portfolio level)
    hist = _history_mean(a) / risk.bucket_days
    with np.errstate(divide="ignore", invalid="ignore"):
        cur_cover = np.where(has_cur & (hist > 0), cur / hist, np.nan)
        rec_cover = np.where(daily > 0, rec_ss / daily, np.nan)
    min_items = max(st.uniform_min_items, math.ceil(st.uniform_min_share * n))
    for members in _uniform_groups(cur_cover, st.uniform_band, min_items):
        center = float(np.median(cur_cover[members]))
        spread_lo, spread_hi = np.nanpercentile(rec_cover[members], [10, 90])
        if (spread_hi - spread_lo) < st.uniform_risk_spread * center:
            continue
        lo, hi = np.nanmin(cur_cover[members]), np.nanmax(cur_cover[members])
        gap = float(np.nansum(c_cur[members] - c_rec[members]))
        under = members[cur[members] < rec_ss[members]]
        over = members[cur[members] > rec_ss[members]]
        short_cost = float(np.nansum(so_cur[under]))
        excess_value = float(np.nansum((cur[over] - rec_ss[over]) * unit[over]))
        text = (
            f"{members.size} items hold {center:.1f} days of cover (from {lo:.1f} to {hi:.1f}) "
            f"while the cover their risk calls for ranges from {spread_lo:.1f} to "
            f"{spread_hi:.1f} days (10th-90th percentile): {under.size} of them are "
            f"under-covered (expected shortages {_money(short_cost)} a year), {over.size} "
            f"over-covered ({_money(excess_value)} of stock above need); allocating by risk "
            f"saves {_money(gap)} a year"
        )
        rows.append(
            {
                "code": "one_policy_for_all",
                "scope": "portfolio",
                "items": ";".join(str(ids[i]) for i in members),
                "item_count": int(members.size),
                "money_per_year": gap,
                "stock_value": excess_value,
                "message": text,
            }
        )
        for i in members:
            codes[i].append("one_policy_for_all")
            details[i].append(
                f"one of {members.size} items held at {center:.1f} days of cover; its risk "
                f"calls for {rec_cover[i]:.1f} days"
            )
            money[i] = max(money[i], float(c_cur[i] - c_rec[i]))

    # set_and_forget
    drift = item_drift(a, receipts)
    age = _days_since(a)
    grown = (
        drift["recent_lead_time_days"] >= st.lead_time_growth * drift["nominal_lead_time_days"]
    ).to_numpy(bool)
    drifted = (
        drift["demand_matters"].to_numpy(bool) | drift["supply_matters"].to_numpy(bool) | grown
    )
    drift_columns = {c: drift[c].to_numpy() for c in drift.columns}
    for i in np.flatnonzero(has_cur & (age > st.review_horizon_days) & drifted):
        changes = []
        dr = {c: v[i] for c, v in drift_columns.items()}
        if dr["demand_matters"]:
            changes.append(f"demand level x{dr['demand_mean_ratio']:.2f}")
        if dr["supply_matters"] or grown[i]:
            ratio = dr["lead_time_ratio"]
            part = f"lead time x{ratio:.2f}" if np.isfinite(ratio) else "lead time changed"
            if np.isfinite(dr["recent_lead_time_days"]):
                part += (
                    f" (now {dr['recent_lead_time_days']:.0f} days against a nominal "
                    f"{dr['nominal_lead_time_days']:.0f})"
                )
            changes.append(part)
        gap = float(c_cur[i] - c_rec[i])
        text = (
            f"buffer set {age[i] / 365.25:.1f} years ago and not reviewed since; in the last "
            f"{st.drift_recent_days} days {', '.join(changes)}: it now covers "
            f"{cover(cur[i], i)} where {cover(rec_ss[i], i)} is needed, costing "
            f"{_money(gap)} a year more than the recommended buffer"
        )
        add(i, "set_and_forget", text, max(gap, 0.0), float((cur[i] - rec_ss[i]) * unit[i]))

    # hidden_loss
    eq = a.equipment_risk or {}
    for i in np.flatnonzero(has_cur & (cur > 0)):
        proc = eq.get(str(ids[i]))
        if proc is None or not math.isfinite(proc.availability):
            continue
        if proc.availability >= st.machine_availability or daily[i] <= 0:
            continue
        cover_days = cur[i] / daily[i]
        if cover_days < proc.p90_outage_days:
            continue
        need_free = a.machine_free_ss[i] if np.isfinite(a.machine_free_ss[i]) else 0.0
        for_machine = min(cur[i], max(cur[i] - need_free, daily[i] * proc.p90_outage_days))
        value = for_machine * unit[i]
        holding = for_machine * risk.holding_per_year[i]
        # the machine's down hours a year this buffer outlasts when full at each stop (an
        # upper bound: equipment's buffers table, hidden_loss_hours, is the net starvation a
        # pile between two machines removes, refill and both machines' stops counted)
        mean_days = proc.mean_outage_days
        down_hours = proc.outage_rate_per_year * mean_days * 24.0 if mean_days > 0 else 0.0
        ridden_hours = stop_hours_ridden_out(
            proc.outage_rate_per_year, mean_days * 24.0, cover_days * 24.0
        )
        text = (
            f"machine {proc.machine_id} is available only {proc.availability:.0%} of the time "
            f"({proc.outage_rate_per_year:,.0f} stops a year, p90 "
            f"{proc.p90_outage_days * 24:.1f} h); this buffer of {cover_days:.1f} days rides "
            f"them out: full at each stop, it would outlast about {ridden_hours:,.0f} of the "
            f"machine's {down_hours:,.0f} down hours a year (an upper bound: refill between "
            f"stops not counted): "
            f"{_money(value)} of stock ({_money(holding)} a year in holding) is there for the "
            f"machine (with a machine that never failed the item would need {cover(need_free, i)})"
        )
        if holding >= 0:
            add(i, "hidden_loss", text, float(holding), float(value))

    findings = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    return Diagnosis(codes, details, money, cash, findings, drift)


__all__ = ["CODES", "FINDING_COLUMNS", "Diagnosis", "diagnose", "item_drift"]
