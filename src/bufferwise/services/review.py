"""The review cycle: which items need a fresh look, approving or rejecting new levels, and
their history.

Policies are versioned in storage (append-only); the recommendations come from the latest
successful `analyze` run. Nothing is ever overwritten. A version is a decision on an item:
an approval (the recommended levels become the policy) or a rejection (the plant keeps the
levels it has, and the recommendation turned down is recorded with the reason). Either way the
latest version's levels are the item's current policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

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
    "decision",
    "stance_rejected",
    "safety_stock_rejected",
    "what_changed",
)

#: `history`: the decision first, then the levels kept or approved, then the ones rejected
HISTORY_COLUMNS = (
    "item_id",
    "version",
    "decision",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "stance",
    "rejected_safety_stock",
    "rejected_reorder_point",
    "rejected_stance",
    "approved_at",
    "approved_by",
    "note",
    "run_id",
)

#: the stance stored for the levels an item had before any approval (imported, not decided)
CURRENT_STANCE = "current"

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
    """`items` with each item's latest version as its current policy: its safety stock and
    reorder point as current_safety_stock / current_reorder_point, the decision's date as
    buffer_set_on. Items never decided keep what was imported.

    The latest version's levels are the plant's policy once an item is decided: after an
    approval the approved levels, after a rejection the levels it kept. An analysis diagnoses
    those (and measures drift since the decision: a planner looked at the item then), not the
    levels of the first import."""
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
    """Items whose recommended level moved beyond the tolerance since the last decision, whose
    stance changed, whose risk drifted (set_and_forget diagnosis), whose decision is older
    than the horizon, or that were never decided; ordered by money at stake (largest first).

    `approved`: each item's latest version (`Repository.current_policies`). After an approval
    the recommendation is compared with the approved levels; after a rejection with the
    recommendation that was turned down (rejected_safety_stock, rejected_stance), so a
    rejected item returns only when the recommendation moves beyond the tolerance from what
    was rejected, or its stance changes from it. The horizon counts from any decision.

    `analysed_at`: when the analysis behind `recommended` started. A drift diagnosis is about
    the policy that analysis saw: an item decided (approved or rejected) since then is not
    queued for it (its next analysis measures drift from the decision, `with_approved_levels`).

    money_at_stake [money] = |recommended - current policy's safety stock| x unit cost
                              + the money per year of the item's diagnosis
    (the current policy's safety stock: the approved one, or the one a rejection kept; the
    recommended one for an item never decided: what approving it would change)
    """
    rec = recommended.assign(item_id=recommended["item_id"].astype(str))
    cols = ["item_id", "version", "safety_stock", "reorder_point", "stance", "approved_at"]
    optional: dict[str, Any] = {
        "decision": "approved",
        "rejected_safety_stock": np.nan,
        "rejected_reorder_point": np.nan,
        "rejected_stance": None,
    }
    appr = (
        approved.assign(
            item_id=approved["item_id"].astype(str),
            **{c: v for c, v in optional.items() if c not in approved.columns},
        )[cols + list(optional)]
        if len(approved)
        else pd.DataFrame({c: pd.Series(dtype=object) for c in cols + list(optional)})
    )
    # the policy's columns under names of their own: a recommendation never shadows them
    appr = appr.rename(columns={c: f"{c}_approved" for c in cols[1:] + list(optional)})
    m = rec.merge(appr, on="item_id", how="left")
    ss_new = m["safety_stock"].to_numpy(dtype=float)
    ss_old = pd.to_numeric(m["safety_stock_approved"], errors="coerce").to_numpy(dtype=float)
    never = m["version_approved"].isna().to_numpy(bool)
    rejected = ~never & (m["decision_approved"].astype(str) == "rejected").to_numpy(bool)
    ss_rejected = pd.to_numeric(m["rejected_safety_stock_approved"], errors="coerce").to_numpy(
        dtype=float
    )
    # what the recommendation is compared with: the approved level, or the rejected one
    ss_ref = np.where(rejected, ss_rejected, ss_old)
    delta = ss_new - ss_old
    delta_ref = ss_new - ss_ref
    moved = ~never & (
        np.abs(delta_ref) > np.maximum(settings.tolerance * np.abs(ss_ref), MIN_UNITS_CHANGE)
    )
    stance_old = m["stance_approved"].astype(object)
    stance_ref = stance_old.where(~rejected, m["rejected_stance_approved"].astype(object))
    stance_changed = ~never & (stance_ref.astype(str) != m["stance"].astype(str)).to_numpy()
    decided_at = pd.to_datetime(m["approved_at_approved"])
    age_days = (pd.Timestamp(today) - decided_at).dt.days.to_numpy(dtype=float)
    expired = ~never & (age_days > settings.horizon_days)
    diagnosis = (
        m["diagnosis"].fillna("").astype(str) if "diagnosis" in m else pd.Series("", index=m.index)
    )
    drifted = diagnosis.str.split(";").apply(lambda codes: "set_and_forget" in codes).to_numpy(bool)
    if analysed_at is not None:  # decided since the analysis: the drift it saw is answered
        decided_since = ~never & (decided_at >= pd.Timestamp(analysed_at)).to_numpy(bool)
        drifted &= ~decided_since
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
            rel = f" ({delta_ref[i] / ss_ref[i]:+.0%})" if ss_ref[i] > 0 else ""
            if rejected[i]:
                changed.append(
                    f"safety stock {ss_ref[i]:,.1f} rejected -> {ss_new[i]:,.1f} recommended"
                    f"{rel} (kept {ss_old[i]:,.1f})"
                )
            else:
                changed.append(f"safety stock {ss_old[i]:,.1f} -> {ss_new[i]:,.1f}{rel}")
        if stance_changed[i]:
            reasons.append("stance_changed")
            was = f"{stance_ref.iloc[i]} rejected" if rejected[i] else f"{stance_old.iloc[i]}"
            changed.append(f"stance {was} -> {m['stance'].iloc[i]}")
        if expired[i]:
            reasons.append("approval_expired")
            verb = "rejected" if rejected[i] else "approved"
            changed.append(f"{verb} {age_days[i]:.0f} days ago (horizon {settings.horizon_days})")
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
                "approved_version": None if never[i] else int(m["version_approved"].iloc[i]),
                "approved_at": None if never[i] else pd.Timestamp(decided_at.iloc[i]),
                "decision": None if never[i] else str(m["decision_approved"].iloc[i]),
                "stance_rejected": str(stance_ref.iloc[i]) if rejected[i] else None,
                "safety_stock_rejected": ss_rejected[i] if rejected[i] else np.nan,
                "what_changed": "; ".join(changed),
            }
        )
    out = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
    return out.sort_values(
        ["money_at_stake", "item_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _queue(
    recs: Recommendations,
    items: pd.DataFrame,
    settings: ReviewSettings,
    policies: pd.DataFrame,
) -> pd.DataFrame:
    """`review_queue` of the latest analysis: `items` indexed by item_id (text) give the unit
    costs, `policies` each item's latest version (`Repository.current_policies`)."""
    cost = pd.Series(items["unit_cost"].to_numpy(float), index=items.index)
    return review_queue(
        recs.table,
        policies,
        today=recs.run_started_at,
        settings=settings,
        unit_cost=cost,
        analysed_at=recs.run_started_at,
    )


def _items_by_id(repo: Repository) -> pd.DataFrame:
    """The stored items table, indexed by item_id (text)."""
    items = repo.read_table("items")
    return items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")


def review_database(db_url: str, settings: ReviewSettings) -> tuple[Recommendations, pd.DataFrame]:
    repo = open_repository(db_url)
    try:
        recs = latest_recommendations(repo)
        queue = _queue(recs, _items_by_id(repo), settings, repo.current_policies())
        return recs, queue
    finally:
        repo.close()


@dataclass(slots=True)
class Selection:
    """The items an approve / reject picked from the latest analysis.

    recs      the latest analysis' recommendations
    chosen    the rows of recs.table selected (item_id as text)
    items     the items table, indexed by item_id (text)
    policies  each item's latest version (`Repository.current_policies`), read once
    """

    recs: Recommendations
    chosen: pd.DataFrame
    items: pd.DataFrame
    policies: pd.DataFrame


def select_recommendations(
    repo: Repository,
    verb: str,
    *,
    item_ids: Sequence[str] = (),
    stances: Sequence[str] = (),
    categories: Sequence[str] = (),
    suppliers: Sequence[str] = (),
    all_items: bool = False,
    in_review_only: bool = False,
    review_settings: ReviewSettings | None = None,
) -> Selection:
    """The latest recommendations the filters select (all must match), for `verb` ('approve'
    or 'reject'). No filter, or filters that select nothing, raise InvalidInput saying which
    filter matched nothing (with the values there are), or that they match nothing together.
    """
    if not (all_items or item_ids or stances or categories or suppliers or in_review_only):
        raise InvalidInput(
            f"say what to {verb}: --all, --item ID, --stance, --category, --supplier or --in-review"
        )
    recs = latest_recommendations(repo)
    table = recs.table.copy()
    table["item_id"] = table["item_id"].astype(str)
    items = _items_by_id(repo)
    policies = repo.current_policies()
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
        queue = _queue(recs, items, review_settings or ReviewSettings(), policies)
        in_queue = table["item_id"].isin(queue["item_id"])
        filters.append(("--in-review", in_queue, "the review queue is empty"))
    keep = pd.Series(True, index=table.index)
    for _, matched, _ in filters:
        keep &= matched
    if not keep.any():
        _nothing_selected(filters, recs.run_id, verb)
    return Selection(recs=recs, chosen=table.loc[keep], items=items, policies=policies)


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
    repo = open_repository(db_url)
    try:
        picked = select_recommendations(
            repo,
            "approve",
            item_ids=item_ids,
            stances=stances,
            categories=categories,
            suppliers=suppliers,
            all_items=all_items,
            in_review_only=in_review_only,
            review_settings=review_settings,
        )
        chosen = picked.chosen
        rows = pd.DataFrame(
            {
                "item_id": chosen["item_id"],
                "safety_stock": chosen["safety_stock"].astype(float),
                "reorder_point": chosen["reorder_point"].astype(float),
                "order_up_to": chosen["order_up_to"].astype(float),
                "stance": chosen["stance"].astype(str),
                "run_id": picked.recs.run_id,
            }
        )
        return repo.approve(rows, by=by, note=note)
    finally:
        repo.close()


def reject_database(
    db_url: str,
    *,
    by: str,
    note: str,
    item_ids: Sequence[str] = (),
    stances: Sequence[str] = (),
    categories: Sequence[str] = (),
    suppliers: Sequence[str] = (),
    all_items: bool = False,
    in_review_only: bool = False,
    review_settings: ReviewSettings | None = None,
) -> pd.DataFrame:
    """Reject the latest recommendations of the selected items: one new version each, with
    decision 'rejected', the reason (`note`, required), the recommendation turned down
    (rejected_*, run_id = its analysis) and the levels the plant keeps as the version's levels:
    the item's latest version's, or, for an item never decided, its imported
    current_safety_stock / current_reorder_point (stance 'current', no order-up-to). An item
    never decided and without imported levels cannot be rejected (nothing to keep): the whole
    rejection is refused and nothing is written."""
    if not note or not note.strip():
        raise InvalidInput(
            "cannot reject: say why (--note): the reason is the point of a rejection"
        )
    repo = open_repository(db_url)
    try:
        picked = select_recommendations(
            repo,
            "reject",
            item_ids=item_ids,
            stances=stances,
            categories=categories,
            suppliers=suppliers,
            all_items=all_items,
            in_review_only=in_review_only,
            review_settings=review_settings,
        )
        chosen = picked.chosen
        ids = chosen["item_id"]
        latest = picked.policies
        latest = latest.assign(item_id=latest["item_id"].astype(str)).set_index("item_id")
        decided = ids.isin(latest.index).to_numpy(bool)

        def kept(policy_column: str, item_column: str | None) -> np.ndarray:
            from_policy = pd.to_numeric(latest[policy_column], errors="coerce").reindex(ids)
            from_items = (
                pd.to_numeric(picked.items[item_column], errors="coerce").reindex(ids)
                if item_column is not None and item_column in picked.items.columns
                else pd.Series(np.nan, index=ids)
            )
            return np.where(decided, from_policy.to_numpy(float), from_items.to_numpy(float))

        safety_stock = kept("safety_stock", "current_safety_stock")
        reorder_point = kept("reorder_point", "current_reorder_point")
        unknown = ~decided & (np.isnan(safety_stock) | np.isnan(reorder_point))
        if unknown.any():
            missing = ids[unknown].tolist()
            raise InvalidInput(
                f"cannot reject item(s) {', '.join(missing[:10])}"
                + (", ..." if len(missing) > 10 else "")
                + ": never approved and no current_safety_stock / current_reorder_point "
                "imported, so there are no levels to keep (import them, or approve)"
            )
        stance = np.where(
            decided,
            latest["stance"].reindex(ids).astype(object).to_numpy(),
            CURRENT_STANCE,
        )
        rows = pd.DataFrame(
            {
                "item_id": ids,
                "safety_stock": safety_stock,
                "reorder_point": reorder_point,
                "order_up_to": kept("order_up_to", None),
                "stance": stance,
                "rejected_safety_stock": chosen["safety_stock"].astype(float),
                "rejected_reorder_point": chosen["reorder_point"].astype(float),
                "rejected_stance": chosen["stance"].astype(str),
                "run_id": picked.recs.run_id,
            }
        )
        return repo.reject(rows, by=by, note=note.strip())
    finally:
        repo.close()


def _filter(option: str, wanted: Sequence[str], values: pd.Series) -> tuple[str, pd.Series, str]:
    """One selection filter: how it was written, the items it matches, the values there are."""
    present = sorted(values.dropna().astype(str).unique())
    shown = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
    text = " ".join(f"{option} {w}" for w in wanted)
    return text, values.isin(wanted), f"there are: {shown}" if present else "there are none"


def _nothing_selected(
    filters: list[tuple[str, pd.Series, str]], run_id: int, verb: str
) -> NoReturn:
    """Raise InvalidInput saying which filters match no item (or that together they do not)."""
    done = f"{verb}d" if verb.endswith("e") else f"{verb}ed"
    if not filters:
        raise InvalidInput(f"nothing to {verb}: analysis run {run_id} holds no item")
    empty = [f"{text} ({hint})" for text, matched, hint in filters if not matched.any()]
    if empty:
        raise InvalidInput(
            f"nothing {done}: no item of analysis run {run_id} matches " + "; ".join(empty)
        )
    together = " and ".join(text for text, _, _ in filters)
    raise InvalidInput(
        f"nothing {done}: no item of analysis run {run_id} matches {together} together"
    )


def history_database(db_url: str, item_id: str) -> pd.DataFrame:
    """Every version of `item_id`, oldest first. InvalidInput when it has none: "unknown item"
    when no stored item has that id, else "no approved policy yet"."""
    repo = open_repository(db_url)
    try:
        hist = repo.policy_history(item_id)
        if len(hist) == 0:
            if len(repo.read_table("items", item_id=item_id)) == 0:
                raise InvalidInput(
                    f"unknown item {item_id!r}: no stored item has this id (ids are "
                    "case-sensitive; see `bufferwise decide` or your items file)"
                )
            raise InvalidInput(
                f"item {item_id!r} has no approved policy yet (see `bufferwise review`)"
            )
        return hist[[c for c in HISTORY_COLUMNS if c in hist.columns]]
    finally:
        repo.close()
