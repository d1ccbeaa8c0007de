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
difference scaled by min(1, weeks / 52). Other changes are reported per year. In a combined
scenario the other changes are simulated together and each demand change on top of them, its
own extra difference scaled by its own weeks (run_scenarios), so a demand change never scales
an outage sharing its scenario.

Fields are checked for type and range (scenario_from_dict, and run_scenarios for scenarios built
in Python), ids against the analysed items (run_scenarios): InvalidInput naming the scenario,
the field, the value and what was expected.
"""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace

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
_KIND_OF: dict[type, str] = {cls: key for key, cls in _KINDS.items()}
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
    mapping or a list of them. Every field is checked (type and range); a bad one is refused
    with InvalidInput naming the scenario, the field, the value and what was expected."""
    if not isinstance(spec, Mapping):
        raise InvalidInput(
            f"scenario: expected a table with a name and changes, got {_shown(spec)}"
        )
    raw_name = spec.get("name", "")
    if not isinstance(raw_name, str) or not raw_name.strip():
        got = "" if raw_name == "" else f", got {_shown(raw_name)}"
        raise InvalidInput(f"scenario: needs a non-empty 'name' (text){got}")
    name = raw_name.strip()
    unknown = [str(k) for k in spec if k != "name" and k not in _KINDS]
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
        for i, entry in enumerate(entries, 1):
            where = f"{key}[{i}]" if isinstance(raw, list) and len(raw) > 1 else key
            if not isinstance(entry, Mapping):
                raise InvalidInput(
                    f"scenario {name!r}, {where}: expected a table of values, e.g. "
                    f"{key} = {{ {_EXAMPLES[key]} }}, got {_shown(entry)}"
                )
            changes.append(_build(name, where, cls, entry))
    if not changes:
        raise InvalidInput(f"scenario {name!r}: no change given")
    return Scenario(name, tuple(changes))


# what each field must be, as told in errors; examples as written in a TOML scenario file
_EXPECTED: dict[str, str] = {
    "supplier_outage.supplier_id": 'a supplier id (text), e.g. supplier_id = "S05"',
    "supplier_outage.days": "a number of days > 0, e.g. days = 30",
    "supplier_outage.start": 'a date, e.g. start = "2026-01-05"',
    "demand_change.change": "a number > -1 (+0.25 = +25 %), e.g. change = 0.25",
    "demand_change.weeks": "a number of weeks > 0, e.g. weeks = 8",
    "demand_change.item_ids": 'a list of item ids, e.g. item_ids = ["P-0001", "P-0002"]',
    "demand_change.category": 'an item category (text), e.g. category = "spare"',
    "lead_time_factor.factor": "a number > 0, e.g. factor = 1.5",
    "lead_time_factor.supplier_id": 'a supplier id (text; "" = all), e.g. supplier_id = "S03"',
    "repair_time_factor.machine_id": 'a machine id (text), e.g. machine_id = "A2"',
    "repair_time_factor.factor": "a number > 0, e.g. factor = 2.0",
}
_EXAMPLES: dict[str, str] = {
    "supplier_outage": 'supplier_id = "S05", days = 30',
    "demand_change": 'change = 0.25, weeks = 8, category = "spare"',
    "lead_time_factor": "factor = 1.5",
    "repair_time_factor": 'machine_id = "A2", factor = 2.0',
}


def _shown(value: object) -> str:
    """A value as quoted in an error, with its type when that is the problem."""
    kind = {
        str: "text",
        bool: "true/false",
        list: "a list",
        tuple: "a list",
        type(None): "no value",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({kind})"


def _field(name: str, where: str, kind: str, fname: str, value: object) -> object:
    """The checked value of one field of a change; InvalidInput naming the scenario, the field,
    the value and what was expected otherwise."""
    expected = _EXPECTED[f"{kind}.{fname}"]

    def bad(why: str = "") -> InvalidInput:
        return InvalidInput(
            f"scenario {name!r}, {where}.{fname}: got {_shown(value)}{why}; expected {expected}"
        )

    if fname in ("days", "change", "weeks", "factor"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad()
        x = float(value)
        if not math.isfinite(x):
            raise bad(", not finite")
        if (fname == "change" and not x > -1.0) or (fname != "change" and not x > 0.0):
            raise bad()
        return x
    if fname == "item_ids":
        if not isinstance(value, list | tuple):
            raise bad()
        if not value:
            raise bad(", empty (leave item_ids out for every item)")
        ids = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, str | int) or not str(v).strip():
                raise bad(f", item id {v!r}")
            ids.append(str(v).strip())
        return tuple(ids)
    if fname == "start":
        if isinstance(value, datetime.date):  # TOML date (datetime is a date too)
            return value.isoformat()
        if not isinstance(value, str):
            raise bad()
        if value.strip():
            try:
                datetime.date.fromisoformat(value.strip()[:10])
            except ValueError:
                raise bad() from None
        return value.strip()
    # ids and the category: text; empty only where it means "all"
    if not isinstance(value, str):
        raise bad()
    if not value.strip() and fname in ("supplier_id", "machine_id") and kind != "lead_time_factor":
        raise bad()
    return value.strip()


def _build(name: str, where: str, cls: type, args: Mapping[str, object]) -> Change:
    """One change from its fields, each checked by `_field`."""
    kind = _KIND_OF[cls]
    spec = {f.name: f for f in fields(cls)}
    unknown = [str(k) for k in args if k not in spec]
    if unknown:
        raise InvalidInput(
            f"scenario {name!r}, {where}: unknown field(s) {', '.join(unknown)} "
            f"(expected {', '.join(spec)})"
        )
    required = [n for n, f in spec.items() if f.default is MISSING]
    missing = [n for n in required if n not in args]
    if missing:
        raise InvalidInput(
            f"scenario {name!r}, {where}: missing field(s) {', '.join(missing)}; expected "
            + "; ".join(_EXPECTED[f"{kind}.{n}"] for n in missing)
        )
    checked = {str(k): _field(name, where, kind, str(k), v) for k, v in args.items()}
    change: Change = cls(**checked)
    return change


def _check(name: str, changes: Iterable[Change]) -> tuple[Change, ...]:
    """The changes of a scenario built in Python, checked as `scenario_from_dict` checks a
    file's (types and ranges); ids are checked against the portfolio in `run_scenarios`."""
    out = []
    for i, c in enumerate(changes, 1):
        cls = type(c)
        if cls not in _KIND_OF:
            raise InvalidInput(
                f"scenario {name!r}, change #{i}: expected one of "
                f"{', '.join(k.__name__ for k in _KIND_OF)}, got {_shown(c)}"
            )
        args = {
            f.name: getattr(c, f.name)
            for f in fields(c)
            # a field left at its default is not given (item_ids=() means every item)
            if not (
                f.default is not MISSING
                and type(getattr(c, f.name)) is type(f.default)
                and getattr(c, f.name) == f.default
            )
        }
        out.append(_build(name, f"change #{i} ({_KIND_OF[cls]})", cls, args))
    if not out:
        raise InvalidInput(f"scenario {name!r}: no change given")
    return tuple(out)


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


def _listed(values: Iterable[str], limit: int = 8) -> str:
    """Up to `limit` values, then how many there are in all."""
    vals = sorted(set(values))
    head = ", ".join(vals[:limit])
    return f"{head}, ... ({len(vals)} in all)" if len(vals) > limit else head


def _check_ids(sc: Scenario, base: RiskModel, items: pd.DataFrame) -> None:
    """Refuse ids that match nothing in the analysed portfolio: a typo would otherwise give a
    silent "no impact"."""
    suppliers = {str(x) for x in base.supplier_id if str(x)}
    machines = {str(x) for x in base.machine_id if str(x)}
    item_ids = [str(x) for x in base.item_ids]
    known_items = set(item_ids)
    cats = (
        dict(zip(items["item_id"].astype(str), items["category"].astype(str), strict=True))
        if "category" in items.columns
        else {}
    )
    kinds: dict[str, int] = {}
    for c in sc.changes:
        kind = _KIND_OF[type(c)]
        kinds[kind] = kinds.get(kind, 0) + 1
        n_kind = sum(isinstance(x, type(c)) for x in sc.changes)
        where = f"{kind}[{kinds[kind]}]" if n_kind > 1 else kind
        head = f"scenario {sc.name!r}, {where}"
        if isinstance(c, SupplierOutage | LeadTimeFactor):
            if c.supplier_id and c.supplier_id not in suppliers:
                raise InvalidInput(
                    f"{head}.supplier_id: unknown supplier {c.supplier_id!r}; expected a "
                    f"supplier of the analysed items ({_listed(suppliers) or 'none'})"
                )
        elif isinstance(c, RepairTimeFactor):
            if c.machine_id not in machines:
                raise InvalidInput(
                    f"{head}.machine_id: unknown machine {c.machine_id!r}; expected a machine "
                    f"that feeds an analysed item ({_listed(machines) or 'none'})"
                )
        elif isinstance(c, DemandChange):
            unknown = [i for i in dict.fromkeys(c.item_ids) if i not in known_items]
            if unknown:
                raise InvalidInput(
                    f"{head}.item_ids: unknown item id(s) {_listed(unknown)}; expected "
                    f"analysed items ({_listed(item_ids)})"
                )
            if c.category:
                if not cats:
                    raise InvalidInput(
                        f"{head}.category: the items have no category column; expected no "
                        "category (or item_ids)"
                    )
                if c.category not in set(cats.values()):
                    raise InvalidInput(
                        f"{head}.category: unknown category {c.category!r}; expected a "
                        f"category of the analysed items ({_listed(cats.values())})"
                    )
                if c.item_ids and not any(cats.get(i) == c.category for i in c.item_ids):
                    raise InvalidInput(
                        f"{head}: none of item_ids is in category {c.category!r}; expected "
                        "item_ids of that category (both given: the items of the list in it)"
                    )


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
    _after, holding_cost_before / _after, extra_cost (stockout + holding, after - before).

    Every scenario is checked before any is simulated: bad values, and supplier, machine or
    item ids and categories the analysed items do not have, raise InvalidInput naming the
    scenario and the field.

    A scenario's changes other than demand changes are simulated together (per year); each
    demand change is then simulated on top of them for a whole year and its own extra
    difference scaled by its own min(1, weeks / 52):
    after = before + (others - before) + sum_j min(1, weeks_j / 52) (others + demand_j - others).
    """
    a = analysis
    st = a.settings
    base = _whole(a.risk)
    checked = [Scenario(sc.name, _check(sc.name, sc.changes)) for sc in scenarios]
    for sc in checked:
        _check_ids(sc, base, a.items)
    root = a.engine.seed if seed is None else resolve_seed(seed) % (2**63 - 1)
    engine = CostEngine(base, st, root)
    cycle = base.demand_mean * base.protection_periods("normal")
    levels = np.column_stack([np.nan_to_num(a.current_ss, nan=0.0), a.recommended_ss])
    before = engine.evaluate("whole", levels, cycle)
    machine_items: dict[str, list[str]] = {}
    for item, machine in zip(base.item_ids, base.machine_id, strict=True):
        machine_items.setdefault(str(machine), []).append(str(item))

    def simulate(changes: tuple[Change, ...]) -> tuple[Performance, np.ndarray]:
        return _simulate(a, base, changes, receipts, machine_items, root, levels, cycle)

    tables = []
    for sc in checked:
        demand = [c for c in sc.changes if isinstance(c, DemandChange)]
        others = tuple(c for c in sc.changes if not isinstance(c, DemandChange))
        if others:
            rest, affected = simulate(others)
        else:
            rest, affected = before, np.zeros(base.n_items, dtype=bool)
        parts = []
        for d in demand:
            with_d, touched = simulate((*others, d))
            affected = affected | touched
            parts.append((min(1.0, d.weeks / 52.0), with_d))
        tables.append(_table(sc.name, base, before, rest, parts, levels, affected))
    detail = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=list(SCENARIO_COLUMNS))
    )
    return detail, summarise(detail, base)


def _simulate(
    a: Analysis,
    base: RiskModel,
    changes: tuple[Change, ...],
    receipts: pd.DataFrame | None,
    machine_items: dict[str, list[str]],
    root: int,
    levels: np.ndarray,
    cycle: np.ndarray,
) -> tuple[Performance, np.ndarray]:
    """(the figures of every item under its whole risk with `changes` applied for a whole
    year, the items the changes touch)."""
    st = a.settings
    rec = _scaled_receipts(receipts, changes, machine_items)
    eq = _scaled_equipment(a.equipment_risk, changes)
    matrix, demand_touched = _scaled_matrix(a, changes)
    items = a.items
    if any(isinstance(c, LeadTimeFactor) for c in changes):
        items = items.copy()
        items["nominal_lead_time_days"] = pd.to_numeric(
            items["nominal_lead_time_days"], errors="coerce"
        ).astype(float)
        for c in changes:
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
    for c in changes:
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
    return CostEngine(risk, st, root).evaluate("whole", levels, cycle), affected


def _table(
    name: str,
    base: RiskModel,
    before: Performance,
    rest: Performance,
    parts: list[tuple[float, Performance]],
    levels: np.ndarray,
    affected: np.ndarray,
) -> pd.DataFrame:
    """`rest`: the changes other than demand changes (per year); `parts`: (share, figures with
    one demand change on top of the rest) per demand change (run_scenarios)."""
    frames = []
    days = base.bucket_days
    for k, policy in enumerate(("current", "recommended")):

        def after(metric: str, lo: float = 0.0, hi: float = math.inf, k: int = k) -> np.ndarray:
            x = getattr(rest, metric)[:, k]
            out = x + sum((share * (getattr(p, metric)[:, k] - x) for share, p in parts), 0.0)
            return np.clip(out, lo, hi)

        frames.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "item_id": base.item_ids,
                    "policy": policy,
                    "affected": affected,
                    "safety_stock": levels[:, k],
                    "fill_rate_before": before.fill_rate[:, k],
                    "fill_rate_after": after("fill_rate", hi=1.0),
                    "stockout_days_before": before.stockout_periods_per_year[:, k] * days,
                    "stockout_days_after": after("stockout_periods_per_year") * days,
                    "stockout_cost_before": before.stockout_cost[:, k],
                    "stockout_cost_after": after("stockout_cost"),
                    "holding_cost_before": before.holding_cost[:, k],
                    "holding_cost_after": after("holding_cost"),
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
