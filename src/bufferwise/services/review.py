"""The review cycle: which items need a fresh look, approving new levels, and their history.

Policies are versioned in storage (append-only); the recommendations come from the latest
successful `analyze` run. Nothing is ever overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput
from bufferwise.settings import ReviewSettings
from bufferwise.storage import Repository, open_repository

REVIEW_COLUMNS = (
    "item_id",
    "reasons",
    "money_at_stake",
    "stance_approved",
    "stance_recommended",
    "safety_stock_approved",
    "safety_stock_recommended",
    "reorder_point_approved",
    "reorder_point_recommended",
    "approved_version",
    "approved_at",
    "what_changed",
)

#: a change of safety stock smaller than this many units never needs a review on its own
MIN_UNITS_CHANGE = 1.0


@dataclass(slots=True)
class Recommendations:
    run_id: int
    run_started_at: datetime
    table: pd.DataFrame


def latest_recommendations(repo: Repository) -> Recommendations:
    """The recommendations of the latest successful analyze run."""
    runs = [r for r in repo.list_runs() if r.kind == "analyze" and r.status == "succeeded"]
    if not runs:
        raise InvalidInput("no successful analysis is stored yet: run `bufferwise analyze` first")
    last = max(runs, key=lambda r: r.run_id)
    table = repo.load_output("recommendations", run_id=last.run_id)
    return Recommendations(run_id=last.run_id, run_started_at=last.started_at, table=table)


def with_approved_levels(items: pd.DataFrame, approved: pd.DataFrame) -> pd.DataFrame:
    """`items` with each item's latest approved version as its current policy: the approved
    safety stock and reorder point as current_safety_stock / current_reorder_point, the
    approval's date as buffer_set_on. Items never approved keep what was imported.

    The approved levels are the plant's policy once approved: an analysis diagnoses those (and
    measures drift since the approval), not the levels of the first import."""
    if len(approved) == 0 or len(items) == 0:
        return items
    latest = approved.assign(item_id=approved["item_id"].astype(str)).set_index("item_id")
    ids = items["item_id"].astype(str)
    has = ids.isin(latest.index).to_numpy()
    if not has.any():
        return items
    out = items.copy()
    hit = ids[has]
    for column, source in (
        ("current_safety_stock", "safety_stock"),
        ("current_reorder_point", "reorder_point"),
    ):
        values = pd.to_numeric(latest[source], errors="coerce").reindex(hit).to_numpy(float)
        if column not in out.columns:
            out[column] = np.nan
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
        out.loc[has, column] = values
    set_on = pd.to_datetime(latest["approved_at"]).dt.normalize().reindex(hit).to_numpy()
    if "buffer_set_on" not in out.columns:
        out["buffer_set_on"] = pd.NaT
    out["buffer_set_on"] = pd.to_datetime(out["buffer_set_on"], errors="coerce")
    out.loc[has, "buffer_set_on"] = set_on
    return out


def review_queue(
    recommended: pd.DataFrame,
    approved: pd.DataFrame,
    *,
    today: datetime,
    settings: ReviewSettings,
    unit_cost: pd.Series | None = None,
    analysed_at: datetime | None = None,
) -> pd.DataFrame:
    """Items whose recommended level moved beyond the tolerance since the approved one, whose
    stance changed, whose risk drifted (set_and_forget diagnosis), whose approval is older than
    the horizon, or that were never approved; ordered by money at stake (largest first).

    `analysed_at`: when the analysis behind `recommended` started. A drift diagnosis is about
    the policy that analysis saw: an item approved since then is not queued for it (its next
    analysis measures drift from the approval, `with_approved_levels`).

    money_at_stake [money] = |recommended - approved safety stock| x unit cost
                              + the money per year of the item's diagnosis
    """
    rec = recommended.assign(item_id=recommended["item_id"].astype(str))
    cols = ["item_id", "version", "safety_stock", "reorder_point", "stance", "approved_at"]
    appr = (
        approved[cols].assign(item_id=approved["item_id"].astype(str))
        if len(approved)
        else pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    )
    m = rec.merge(appr, on="item_id", how="left", suffixes=("", "_approved"))
    ss_new = m["safety_stock"].to_numpy(dtype=float)
    ss_old = pd.to_numeric(m["safety_stock_approved"], errors="coerce").to_numpy(dtype=float)
    never = np.isnan(ss_old)
    delta = ss_new - ss_old
    moved = ~never & (
        np.abs(delta) > np.maximum(settings.tolerance * np.abs(ss_old), MIN_UNITS_CHANGE)
    )
    stance_old = m["stance_approved"].astype(object)
    stance_changed = ~never & (stance_old.astype(str) != m["stance"].astype(str)).to_numpy()
    age_days = (pd.Timestamp(today) - pd.to_datetime(m["approved_at"])).dt.days.to_numpy(
        dtype=float
    )
    expired = ~never & (age_days > settings.horizon_days)
    diagnosis = (
        m["diagnosis"].fillna("").astype(str) if "diagnosis" in m else pd.Series("", index=m.index)
    )
    drifted = diagnosis.str.split(";").apply(lambda codes: "set_and_forget" in codes).to_numpy(bool)
    if analysed_at is not None:  # approved since the analysis: the drift it saw is answered
        approved_since = ~never & (
            pd.to_datetime(m["approved_at"]) >= pd.Timestamp(analysed_at)
        ).to_numpy(bool)
        drifted &= ~approved_since
    detail = (
        m["diagnosis_detail"].fillna("").astype(str)
        if "diagnosis_detail" in m
        else pd.Series("", index=m.index)
    )
    price = (
        unit_cost.reindex(m["item_id"]).fillna(0.0).to_numpy(dtype=float)
        if unit_cost is not None
        else np.zeros(len(m))
    )
    money_diag = (
        pd.to_numeric(m["diagnosis_money_per_year"], errors="coerce").fillna(0.0).to_numpy(float)
        if "diagnosis_money_per_year" in m
        else np.zeros(len(m))
    )
    money = np.where(never, ss_new, np.abs(delta)) * price + money_diag

    rows = []
    for i in np.flatnonzero(never | moved | stance_changed | expired | drifted):
        reasons, changed = [], []
        if never[i]:
            reasons.append("never_approved")
            changed.append(f"no approved level yet; recommended safety stock {ss_new[i]:,.1f}")
        if moved[i]:
            reasons.append("level_moved")
            rel = f" ({delta[i] / ss_old[i]:+.0%})" if ss_old[i] > 0 else ""
            changed.append(f"safety stock {ss_old[i]:,.1f} -> {ss_new[i]:,.1f}{rel}")
        if stance_changed[i]:
            reasons.append("stance_changed")
            changed.append(f"stance {stance_old.iloc[i]} -> {m['stance'].iloc[i]}")
        if expired[i]:
            reasons.append("approval_expired")
            changed.append(f"approved {age_days[i]:.0f} days ago (horizon {settings.horizon_days})")
        if drifted[i]:
            reasons.append("risk_drifted")
            changed.append(detail.iloc[i] or "risk drifted since the buffer was set")
        rows.append(
            {
                "item_id": m["item_id"].iloc[i],
                "reasons": ";".join(reasons),
                "money_at_stake": round(float(money[i]), 2),
                "stance_approved": None if never[i] else str(stance_old.iloc[i]),
                "stance_recommended": str(m["stance"].iloc[i]),
                "safety_stock_approved": ss_old[i],
                "safety_stock_recommended": ss_new[i],
                "reorder_point_approved": float(
                    pd.to_numeric(m["reorder_point_approved"].iloc[i], errors="coerce")
                ),
                "reorder_point_recommended": float(m["reorder_point"].iloc[i]),
                "approved_version": None if never[i] else int(m["version"].iloc[i]),
                "approved_at": None if never[i] else pd.Timestamp(m["approved_at"].iloc[i]),
                "what_changed": "; ".join(changed),
            }
        )
    out = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
    return out.sort_values(
        ["money_at_stake", "item_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def review_database(db_url: str, settings: ReviewSettings) -> tuple[Recommendations, pd.DataFrame]:
    repo = open_repository(db_url)
    try:
        recs = latest_recommendations(repo)
        items = repo.read_table("items")
        cost = pd.Series(items["unit_cost"].to_numpy(float), index=items["item_id"].astype(str))
        queue = review_queue(
            recs.table,
            repo.current_policies(),
            today=recs.run_started_at,
            settings=settings,
            unit_cost=cost,
            analysed_at=recs.run_started_at,
        )
        return recs, queue
    finally:
        repo.close()


def approve_database(
    db_url: str,
    *,
    by: str,
    note: str = "",
    item_ids: Sequence[str] = (),
    stances: Sequence[str] = (),
    categories: Sequence[str] = (),
    suppliers: Sequence[str] = (),
    all_items: bool = False,
    in_review_only: bool = False,
    review_settings: ReviewSettings | None = None,
) -> pd.DataFrame:
    """Record the latest recommendations of the selected items as new approved versions."""
    if not (all_items or item_ids or stances or categories or suppliers or in_review_only):
        raise InvalidInput(
            "say what to approve: --all, --item ID, --stance, --category, --supplier or --in-review"
        )
    repo = open_repository(db_url)
    try:
        recs = latest_recommendations(repo)
        table = recs.table.copy()
        table["item_id"] = table["item_id"].astype(str)
        items = repo.read_table("items")
        items = items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")
        # each filter given: (how the user wrote it, the items it matches, a hint for the error)
        filters: list[tuple[str, pd.Series, str]] = []
        if item_ids:
            unknown = sorted(set(item_ids) - set(table["item_id"]))
            if unknown:
                raise InvalidInput(
                    f"no recommendation for item(s) {', '.join(unknown)} in run {recs.run_id}"
                )
            filters.append(_filter("--item", item_ids, table["item_id"]))
        if stances:
            filters.append(_filter("--stance", stances, table["stance"].astype(str)))
        if categories:
            category = table["item_id"].map(items["category"].astype(str))
            filters.append(_filter("--category", categories, category))
        if suppliers:
            supplier = table["item_id"].map(items["supplier_id"].astype(str))
            filters.append(_filter("--supplier", suppliers, supplier))
        if in_review_only:
            cost = pd.Series(items["unit_cost"].to_numpy(float), index=items.index)
            queue = review_queue(
                recs.table,
                repo.current_policies(),
                today=recs.run_started_at,
                settings=review_settings or ReviewSettings(),
                unit_cost=cost,
                analysed_at=recs.run_started_at,
            )
            in_queue = table["item_id"].isin(queue["item_id"])
            filters.append(("--in-review", in_queue, "the review queue is empty"))
        keep = pd.Series(True, index=table.index)
        for _, matched, _ in filters:
            keep &= matched
        if not keep.any():
            _nothing_selected(filters, recs.run_id)
        chosen = table.loc[keep]
        rows = pd.DataFrame(
            {
                "item_id": chosen["item_id"],
                "safety_stock": chosen["safety_stock"].astype(float),
                "reorder_point": chosen["reorder_point"].astype(float),
                "order_up_to": chosen["order_up_to"].astype(float),
                "stance": chosen["stance"].astype(str),
                "run_id": recs.run_id,
            }
        )
        return repo.approve(rows, by=by, note=note)
    finally:
        repo.close()


def _filter(option: str, wanted: Sequence[str], values: pd.Series) -> tuple[str, pd.Series, str]:
    """One approve filter: how it was written, the items it matches, the values there are."""
    present = sorted(values.dropna().astype(str).unique())
    shown = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
    text = " ".join(f"{option} {w}" for w in wanted)
    return text, values.isin(wanted), f"there are: {shown}" if present else "there are none"


def _nothing_selected(filters: list[tuple[str, pd.Series, str]], run_id: int) -> NoReturn:
    """Raise InvalidInput saying which filters match no item (or that together they do not)."""
    if not filters:
        raise InvalidInput(f"nothing to approve: analysis run {run_id} holds no item")
    empty = [f"{text} ({hint})" for text, matched, hint in filters if not matched.any()]
    if empty:
        raise InvalidInput(
            f"nothing approved: no item of analysis run {run_id} matches " + "; ".join(empty)
        )
    together = " and ".join(text for text, _, _ in filters)
    raise InvalidInput(
        f"nothing approved: no item of analysis run {run_id} matches {together} together"
    )


def history_database(db_url: str, item_id: str) -> pd.DataFrame:
    repo = open_repository(db_url)
    try:
        hist = repo.policy_history(item_id)
        if len(hist) == 0:
            raise InvalidInput(
                f"item {item_id!r} has no approved policy yet (see `bufferwise review`)"
            )
        return hist
    finally:
        repo.close()
