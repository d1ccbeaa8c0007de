"""Use case: size every stored item's buffer by the chosen method(s), and keep the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.costs import (
    ITEM_STOCKOUT_MULTIPLE,
    holding_rates,
    item_stockout_multiples,
    stockout_costs,
)
from bufferwise.errors import InvalidInput
from bufferwise.model.schema import ITEMS
from bufferwise.profile import BUCKET_DAYS, build_demand_matrix
from bufferwise.services.runs import load_tables, recorded_run
from bufferwise.settings import Settings, item_overrides
from bufferwise.sizing import size_items
from bufferwise.storage import open_repository


@dataclass(slots=True)
class SizingInputs:
    """What `size_items` needs, aligned row by row with `items`."""

    items: pd.DataFrame
    demand: np.ndarray  # f8[n_items, n_buckets]
    bucket_days: float
    lead_time_samples_days: list[np.ndarray]


#: items columns that set the replenishment rule; an empty cell takes the column's default in
#: the items table (model.schema), the value an import gives it
POLICY_COLUMNS = ("review_period_days", "moq", "order_multiple", "order_cost")


def resolve_item_inputs(items: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The items as sizing and decide price them, rows in the given order (a copy):

    holding_rate            a per-group override, else the item's own, else settings [costs]
                            default_holding_rate (decide.costs.holding_rates)
    stockout_cost_multiple  multiple of unit cost per unit short for an item whose
                            stockout_cost is empty: a per-group override, else settings [costs]
                            stockout_cost_multiple by criticality (decide.costs)
    service_target          a per-group override (NaN = the run's target)
    POLICY_COLUMNS          empty = the items table's default

    The one place where settings reach item costs: the sizing service and analyze both call it
    before the domain."""
    it = items.copy()
    it["item_id"] = it["item_id"].astype(str)
    for col in POLICY_COLUMNS:
        default = ITEMS.column(col).default
        assert isinstance(default, float), f"items.{col} has a number default"
        values = it[col] if col in it.columns else pd.Series(np.nan, index=it.index)
        it[col] = pd.to_numeric(values, errors="coerce").fillna(default)
    holding = holding_rates(it, settings.costs.default_holding_rate)
    multiple = item_stockout_multiples(it, settings.costs.stockout_cost_multiple)
    target = np.full(len(it), np.nan)
    overrides = item_overrides(it, settings)
    if overrides:
        for i, item_id in enumerate(it["item_id"]):
            ov = overrides.get(item_id)
            if not ov:
                continue
            if "holding_rate" in ov:
                holding[i] = float(ov["holding_rate"])
            if "stockout_cost_multiple" in ov:
                multiple[i] = float(ov["stockout_cost_multiple"])
            if "service_target" in ov:
                target[i] = float(ov["service_target"])
    it["holding_rate"] = holding
    it[ITEM_STOCKOUT_MULTIPLE] = multiple
    it["service_target"] = target
    return it


def no_items_check(items: pd.DataFrame) -> None:
    """InvalidInput (exit code 1) when no items are stored: what sizing and analyze say."""
    if len(items) == 0:
        raise InvalidInput(
            "no items are stored: import items first (`bufferwise import items.csv`)"
        )


def sizing_inputs(
    items: pd.DataFrame, demand: pd.DataFrame, receipts: pd.DataFrame, settings: Settings
) -> SizingInputs:
    """Items with costs resolved (`resolve_item_inputs`; stockout_cost filled: given, else unit
    cost x the item's multiple), the demand history on the settings' bucket, and each item's
    observed lead times (its own receipts, or its supplier's when it has fewer than
    `[decide] min_item_receipts`, the rule decide follows too)."""
    no_items_check(items)
    it = items.assign(item_id=items["item_id"].astype(str))
    it = it.sort_values("item_id", kind="stable").reset_index(drop=True)
    it = resolve_item_inputs(it, settings)
    cost, _ = stockout_costs(it)  # each row's multiple is resolved above
    it["stockout_cost"] = cost

    bucket = settings.profile.bucket
    if len(demand):
        matrix = build_demand_matrix(demand, bucket, item_ids=it["item_id"].tolist())
        rows = pd.Index(matrix.item_ids.astype(str)).get_indexer(pd.Index(it["item_id"]))
        q = matrix.quantity[rows]
    else:
        q = np.zeros((len(it), 0))
    samples = _lead_time_samples(it, receipts, settings.decide.min_item_receipts)
    return SizingInputs(
        items=it,
        demand=np.ascontiguousarray(q, dtype=np.float64),
        bucket_days=float(BUCKET_DAYS[bucket]),
        lead_time_samples_days=samples,
    )


def _lead_time_samples(
    items: pd.DataFrame, receipts: pd.DataFrame, min_item_receipts: int
) -> list[np.ndarray]:
    if len(receipts) == 0:
        return [np.zeros(0) for _ in range(len(items))]
    lt = (
        pd.to_datetime(receipts["received_date"]) - pd.to_datetime(receipts["order_date"])
    ).dt.days
    r = pd.DataFrame(
        {
            "item_id": receipts["item_id"].astype(str),
            "supplier_id": receipts["supplier_id"].astype(str),
            "lt": lt.astype(float),
        }
    ).dropna()
    by_item = {k: g.to_numpy() for k, g in r.groupby("item_id")["lt"]}
    by_supplier = {k: g.to_numpy() for k, g in r.groupby("supplier_id")["lt"]}
    out = []
    for item_id, supplier in zip(items["item_id"], items["supplier_id"].astype(str), strict=True):
        own = by_item.get(item_id, np.zeros(0))
        if len(own) < min_item_receipts and supplier in by_supplier:
            own = by_supplier[supplier]
        out.append(np.sort(own))
    return out


@dataclass(slots=True)
class SizingRun:
    run_id: int
    sizes: pd.DataFrame


def size_database(
    db_url: str,
    settings: Settings,
    *,
    methods: Sequence[str] | None = None,
    seed: int | None = None,
) -> SizingRun:
    """Size every stored item; store the table as a 'size' run."""
    repo = open_repository(db_url)
    try:
        t = load_tables(repo, ("items", "demand", "receipts"))
        used_seed = settings.simulation.seed if seed is None else seed
        chosen = tuple(methods or settings.sizing.methods)
        with recorded_run(
            repo, "size", {**settings.as_dict(), "methods": chosen}, seed=used_seed
        ) as run:
            with run.stage("inputs"):
                inp = sizing_inputs(t["items"], t["demand"], t["receipts"], settings)
            with run.stage("size"):
                sizes = size_items(
                    inp.items,
                    inp.demand,
                    bucket_days=inp.bucket_days,
                    lead_time_samples_days=inp.lead_time_samples_days,
                    method=list(chosen),
                    service_target=settings.sizing.service_target,
                    service_type=settings.sizing.service_type,
                    lost_sales=settings.sizing.lost_sales,
                    replications=settings.simulation.replications,
                    periods=settings.simulation.periods,
                    seed=used_seed,
                )
            with run.stage("store"):
                run.save("sizes", sizes)
        return SizingRun(run_id=run.run_id, sizes=sizes)
    finally:
        repo.close()
