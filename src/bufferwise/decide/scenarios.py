"""What-if scenarios: named, declarative changes of risk, run on the whole portfolio with the
current and the recommended buffers; results as before / after tables.

Changes (any number per scenario):

SupplierOutage(supplier_id, days)      the supplier delivers nothing for `days`
DemandChange(change, weeks, ...)       demand x (1 + change) for `weeks` (all items, a list, or
                                       a category)
LeadTimeFactor(factor, supplier_id)    lead times (ordered -> promised and -> received) x factor,
                                       one supplier or all ("")
RepairTimeFactor(machine_id, factor)   the machine's repair times (MTTR) x factor: its stops
                                       and the lateness of its work orders grow by the factor

Method (docs/decide.md, "Scenarios"): every item is simulated under its whole risk (its full
layer) before and after the change, at the buffer in force and at the recommended one, with the
same kernel seed; the levels in force do not adapt (the reorder point keeps today's expected
demand over today's protection interval). A supplier outage happens once per simulated year at
a random point of the replenishment cycle, so the annual difference is the expected impact of
one outage (a start date, when given, is recorded but the impact does not depend on it: the
kernel is stationary). A demand change is simulated for the whole year and its annual
difference scaled by weeks / 52. Other changes are reported per year.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from bufferwise.decide.analysis import Analysis
from bufferwise.decide.cost_curve import CostEngine, Performance
from bufferwise.decide.risk import Outages, RiskModel, build_risk_model
from bufferwise.equipment.item_risk import SupplyOutageProcess
from bufferwise.errors import InvalidInput
from bufferwise.kernels.inventory import resolve_seed
from bufferwise.profile import DemandMatrix


@dataclass(frozen=True)
class SupplierOutage:
    supplier_id: str
    days: float
    start: str = ""


@dataclass(frozen=True)
class DemandChange:
    change: float
    weeks: float
    item_ids: tuple[str, ...] = ()
    category: str = ""


@dataclass(frozen=True)
class LeadTimeFactor:
    factor: float
    supplier_id: str = ""


@dataclass(frozen=True)
class RepairTimeFactor:
    machine_id: str
    factor: float


Change = SupplierOutage | DemandChange | LeadTimeFactor | RepairTimeFactor
_KINDS: dict[str, type] = {
    "supplier_outage": SupplierOutage,
    "demand_change": DemandChange,
    "lead_time_factor": LeadTimeFactor,
    "repair_time_factor": RepairTimeFactor,
}
SCENARIO_COLUMNS: tuple[str, ...] = (
    "scenario",
    "item_id",
    "policy",
    "affected",
    "safety_stock",
    "fill_rate_before",
    "fill_rate_after",
    "stockout_days_before",
    "stockout_days_after",
    "stockout_cost_before",
    "stockout_cost_after",
    "holding_cost_before",
    "holding_cost_after",
)


@dataclass(frozen=True)
class Scenario:
    """A named set of changes."""

    name: str
    changes: tuple[Change, ...] = field(default_factory=tuple)


def scenario_from_dict(spec: Mapping[str, object]) -> Scenario:
    """A Scenario from a declarative mapping, e.g. parsed TOML / JSON:

    {"name": "S05 out a month", "supplier_outage": {"supplier_id": "S05", "days": 30}}
    Each of supplier_outage, demand_change, lead_time_factor, repair_time_factor may be one
    mapping or a list of them."""
    name = str(spec.get("name", "")).strip()
    if not name:
        raise InvalidInput("scenario: needs a non-empty 'name'")
    unknown = [k for k in spec if k != "name" and k not in _KINDS]
    if unknown:
        raise InvalidInput(
            f"scenario {name!r}: unknown key(s) {', '.join(unknown)} "
            f"(expected name, {', '.join(_KINDS)})"
        )
    changes: list[Change] = []
    for key, cls in _KINDS.items():
        raw = spec.get(key)
        if raw is None:
            continue
        entries = raw if isinstance(raw, list) else [raw]
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise InvalidInput(f"scenario {name!r}: {key} must be a table of values")
            args = dict(entry)
            if "item_ids" in args:
                args["item_ids"] = tuple(str(x) for x in args["item_ids"])
            try:
                changes.append(cls(**args))
            except TypeError as exc:
                raise InvalidInput(f"scenario {name!r}, {key}: {exc}") from None
    if not changes:
        raise InvalidInput(f"scenario {name!r}: no change given")
    _check(name, changes)
    return Scenario(name, tuple(changes))


def _check(name: str, changes: Iterable[Change]) -> None:
    for c in changes:
        if isinstance(c, SupplierOutage) and not c.days > 0:
            raise InvalidInput(f"scenario {name!r}: supplier_outage days must be > 0")
        if isinstance(c, DemandChange) and not (c.change > -1 and c.weeks > 0):
            raise InvalidInput(f"scenario {name!r}: demand_change needs change > -1, weeks > 0")
        if isinstance(c, LeadTimeFactor | RepairTimeFactor) and not c.factor > 0:
            raise InvalidInput(f"scenario {name!r}: factor must be > 0")


def _whole(risk: RiskModel) -> RiskModel:
    """The risk model with a layer "whole": every item under its full layer."""
    n = risk.n_items
    full = [str(x) for x in risk.full_layer]
    lead = [risk.lead_time_days[full[i]][i] for i in range(n)]
    out = Outages(
        np.array([risk.outages[full[i]].rate_per_year[i] for i in range(n)]),
        [risk.outages[full[i]].lengths_days[i] for i in range(n)],
    )
    return replace(
        risk,
        lead_time_days={**risk.lead_time_days, "whole": lead},
        outages={**risk.outages, "whole": out},
        layer_rows={**risk.layer_rows, "whole": np.arange(n)},
        _periods_cache={},
    )


def _scaled_receipts(
    receipts: pd.DataFrame | None, changes: Iterable[Change], machine_items: dict[str, list[str]]
) -> pd.DataFrame | None:
    if receipts is None:
        return None
    r = receipts.copy()
    for c in changes:
        if isinstance(c, LeadTimeFactor):
            rows = (
                np.ones(len(r), dtype=bool)
                if not c.supplier_id
                else (r["supplier_id"].astype(str) == c.supplier_id).to_numpy()
            )
            order = pd.to_datetime(r["order_date"])
            for col in ("promised_date", "received_date"):
                if col in r.columns:
                    days = (pd.to_datetime(r[col]) - order).dt.days
                    new = order + pd.to_timedelta(np.round(days * c.factor), unit="D")
                    r.loc[rows, col] = new[rows]
        elif isinstance(c, RepairTimeFactor) and "promised_date" in r.columns:
            rows = r["item_id"].astype(str).isin(machine_items.get(c.machine_id, [])).to_numpy()
            prom = pd.to_datetime(r["promised_date"])
            late = (pd.to_datetime(r["received_date"]) - prom).dt.days.clip(lower=0)
            new = prom + pd.to_timedelta(np.round(late * c.factor), unit="D")
            rows &= (late > 0).to_numpy()
            r.loc[rows, "received_date"] = new[rows]
    return r


def _scaled_equipment(
    equipment_risk: Mapping[str, SupplyOutageProcess] | None, changes: Iterable[Change]
) -> dict[str, SupplyOutageProcess] | None:
    if equipment_risk is None:
        return None
    out = dict(equipment_risk)
    for c in changes:
        if not isinstance(c, RepairTimeFactor):
            continue
        for item, p in out.items():
            if p.machine_id != c.machine_id:
                continue
            a = p.availability
            avail = 1.0 / (1.0 + c.factor * (1.0 - a) / a) if 0 < a < 1 else a
            out[item] = replace(
                p,
                mean_outage_days=p.mean_outage_days * c.factor,
                p90_outage_days=p.p90_outage_days * c.factor,
                availability=avail,
            )
    return out


def _scaled_matrix(a: Analysis, changes: Iterable[Change]) -> tuple[DemandMatrix, np.ndarray]:
    m = a.matrix
    q = m.quantity.copy()
    ids = np.asarray(m.item_ids).astype(str)
    touched = np.zeros(len(ids), dtype=bool)
    cats = (
        dict(zip(a.items["item_id"].astype(str), a.items["category"].astype(str), strict=True))
        if "category" in a.items.columns
        else {}
    )
    for c in changes:
        if not isinstance(c, DemandChange):
            continue
        sel = np.ones(len(ids), dtype=bool)
        if c.item_ids:
            sel &= np.isin(ids, list(c.item_ids))
        if c.category:
            sel &= np.array([cats.get(i, "") == c.category for i in ids])
        q[sel] *= 1.0 + c.change
        touched |= sel
    return replace(m, quantity=q), touched


def run_scenarios(
    analysis: Analysis,
    scenarios: Iterable[Scenario],
    receipts: pd.DataFrame | None,
    seed: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per item and policy table SCENARIO_COLUMNS, summary per scenario and policy).

    `receipts` are the ones the analysis was built from (lead-time and repair scenarios change
    them). Summary columns: scenario, policy, items_affected, buffer_value, fill_rate_before /
    _after (demand-value weighted), stockout_days_before / _after, stockout_cost_before /
    _after, holding_cost_before / _after, extra_cost (stockout + holding, after - before)."""
    a = analysis
    st = a.settings
    base = _whole(a.risk)
    root = a.engine.seed if seed is None else resolve_seed(seed) % (2**63 - 1)
    engine = CostEngine(base, st, root)
    cycle = base.demand_mean * base.protection_periods("normal")
    levels = np.column_stack([np.nan_to_num(a.current_ss, nan=0.0), a.recommended_ss])
    before = engine.evaluate("whole", levels, cycle)
    machine_items: dict[str, list[str]] = {}
    for item, machine in zip(base.item_ids, base.machine_id, strict=True):
        machine_items.setdefault(str(machine), []).append(str(item))
    tables = []
    for sc in scenarios:
        _check(sc.name, sc.changes)
        rec = _scaled_receipts(receipts, sc.changes, machine_items)
        eq = _scaled_equipment(a.equipment_risk, sc.changes)
        matrix, demand_touched = _scaled_matrix(a, sc.changes)
        items = a.items
        if any(isinstance(c, LeadTimeFactor) for c in sc.changes):
            items = items.copy()
            items["nominal_lead_time_days"] = pd.to_numeric(
                items["nominal_lead_time_days"], errors="coerce"
            ).astype(float)
            for c in sc.changes:
                if isinstance(c, LeadTimeFactor):
                    sel = (
                        np.ones(len(items), dtype=bool)
                        if not c.supplier_id
                        else (items["supplier_id"].astype(str) == c.supplier_id).to_numpy()
                    )
                    items.loc[sel, "nominal_lead_time_days"] = (
                        pd.to_numeric(items.loc[sel, "nominal_lead_time_days"]) * c.factor
                    )
        risk = _whole(build_risk_model(items, matrix, rec, eq, st))
        affected = demand_touched[
            np.searchsorted(np.asarray(matrix.item_ids).astype(str), base.item_ids.astype(str))
        ].copy()
        outage = Outages.none(risk.n_items)
        for c in sc.changes:
            if isinstance(c, SupplierOutage):
                sel = risk.supplier_id.astype(str) == c.supplier_id
                outage.rate_per_year[sel] = 1.0
                for i in np.flatnonzero(sel):
                    outage.lengths_days[i] = np.array([float(c.days)])
                affected |= sel
            elif isinstance(c, LeadTimeFactor):
                affected |= (
                    np.ones(risk.n_items, dtype=bool)
                    if not c.supplier_id
                    else risk.supplier_id.astype(str) == c.supplier_id
                )
            elif isinstance(c, RepairTimeFactor):
                affected |= risk.machine_id.astype(str) == c.machine_id
        risk.outages["whole"] = risk.outages["whole"].plus(outage)
        after = CostEngine(risk, st, root).evaluate("whole", levels, cycle)
        weeks = [c.weeks for c in sc.changes if isinstance(c, DemandChange)]
        share = min(1.0, max(weeks) / 52.0) if weeks else 1.0
        tables.append(_table(sc.name, base, before, after, levels, affected, share))
    detail = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=list(SCENARIO_COLUMNS))
    )
    return detail, summarise(detail, base)


def _table(
    name: str,
    base: RiskModel,
    before: Performance,
    after: Performance,
    levels: np.ndarray,
    affected: np.ndarray,
    share: float,
) -> pd.DataFrame:
    frames = []
    days = base.bucket_days
    for k, policy in enumerate(("current", "recommended")):

        def delta(b: np.ndarray, x: np.ndarray) -> np.ndarray:
            return b + (x - b) * share

        frames.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "item_id": base.item_ids,
                    "policy": policy,
                    "affected": affected,
                    "safety_stock": levels[:, k],
                    "fill_rate_before": before.fill_rate[:, k],
                    "fill_rate_after": delta(before.fill_rate[:, k], after.fill_rate[:, k]),
                    "stockout_days_before": before.stockout_periods_per_year[:, k] * days,
                    "stockout_days_after": delta(
                        before.stockout_periods_per_year[:, k],
                        after.stockout_periods_per_year[:, k],
                    )
                    * days,
                    "stockout_cost_before": before.stockout_cost[:, k],
                    "stockout_cost_after": delta(
                        before.stockout_cost[:, k], after.stockout_cost[:, k]
                    ),
                    "holding_cost_before": before.holding_cost[:, k],
                    "holding_cost_after": delta(
                        before.holding_cost[:, k], after.holding_cost[:, k]
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[list(SCENARIO_COLUMNS)]


def summarise(detail: pd.DataFrame, base: RiskModel) -> pd.DataFrame:
    """One row per scenario and policy (see run_scenarios)."""
    weight = pd.Series(
        base.demand_mean * base.periods_per_year * base.unit_cost, index=base.item_ids.astype(str)
    )
    rows = []
    for (name, policy), g in detail.groupby(["scenario", "policy"], sort=False):
        w = weight.reindex(g["item_id"].astype(str)).to_numpy()
        tw = float(w.sum())
        unit = pd.Series(base.unit_cost, index=base.item_ids.astype(str))
        value = float((g["safety_stock"].to_numpy() * unit.reindex(g["item_id"]).to_numpy()).sum())

        def wfill(col: str, g: pd.DataFrame = g, w: np.ndarray = w, tw: float = tw) -> float:
            return float((g[col].to_numpy() * w).sum() / tw) if tw > 0 else math.nan

        before = g["stockout_cost_before"].sum() + g["holding_cost_before"].sum()
        after = g["stockout_cost_after"].sum() + g["holding_cost_after"].sum()
        rows.append(
            {
                "scenario": name,
                "policy": policy,
                "items_affected": int(g["affected"].sum()),
                "buffer_value": value,
                "fill_rate_before": wfill("fill_rate_before"),
                "fill_rate_after": wfill("fill_rate_after"),
                "stockout_days_before": float(g["stockout_days_before"].sum()),
                "stockout_days_after": float(g["stockout_days_after"].sum()),
                "stockout_cost_before": float(g["stockout_cost_before"].sum()),
                "stockout_cost_after": float(g["stockout_cost_after"].sum()),
                "holding_cost_before": float(g["holding_cost_before"].sum()),
                "holding_cost_after": float(g["holding_cost_after"].sum()),
                "extra_cost": float(after - before),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "SCENARIO_COLUMNS",
    "Change",
    "DemandChange",
    "LeadTimeFactor",
    "RepairTimeFactor",
    "Scenario",
    "SupplierOutage",
    "run_scenarios",
    "scenario_from_dict",
    "summarise",
]
