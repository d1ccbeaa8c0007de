"""Decide: each item's stance between just-in-time and just-in-case, why, and what the current
policy gets wrong (docs/decide.md).

    from bufferwise.decide import decide_items
    decisions = decide_items(items, demand, receipts, equipment_risk=risk, seed=7)
    decisions.items      # one row per item, DECISION_COLUMNS
    decisions.findings   # the mistakes, item and portfolio level, with money
    decisions.frontier   # chart data: efficient frontier, one-policy curve, current, recommended
    decisions.totals     # buffer value now / recommended, cash freed / needed, expected costs
    run_scenarios(decisions.analysis, [scenario_from_dict({...})], receipts)  # what-if tables
    backtest(items, demand, receipts)   # fit on the first part, replay on the rest

Pure domain code: arrays and DataFrames in and out, no file I/O, no storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from bufferwise.decide.analysis import Analysis, analyse, decide_matrix
from bufferwise.decide.backtest import BACKTEST_COLUMNS, Backtest, backtest
from bufferwise.decide.costs import (
    DEFAULT_HOLDING_RATE,
    DEFAULT_STOCKOUT_MULTIPLE,
    holding_rates,
    stockout_costs,
)
from bufferwise.decide.diagnose import CODES, FINDING_COLUMNS, Diagnosis, diagnose
from bufferwise.decide.explain import Driver, drivers_for, explain
from bufferwise.decide.portfolio import FRONTIER_COLUMNS, allocate_budget, frontier, totals
from bufferwise.decide.scenarios import (
    SCENARIO_COLUMNS,
    DemandChange,
    LeadTimeFactor,
    RepairTimeFactor,
    Scenario,
    SupplierOutage,
    run_scenarios,
    scenario_from_dict,
)
from bufferwise.decide.settings import DecideSettings, DiagnoseSettings
from bufferwise.decide.stance import STANCES, choose, cover_limit, tie_tolerance, zones
from bufferwise.equipment.item_risk import SupplyOutageProcess
from bufferwise.kernels.inventory import POLICY_ORDER_UP_TO
from bufferwise.profile import DemandMatrix, Profiles
from bufferwise.sizing.analytic import cost_optimal_cycle_service_level

Progress = Callable[[str, int, int], None]

DECISION_COLUMNS: tuple[str, ...] = (
    "item_id",
    "stance",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "service_target",
    "expected_fill_rate",
    "days_of_cover",
    "buffer_value",
    "expected_annual_holding_cost",
    "expected_annual_stockout_cost",
    "jit_annual_cost",
    "current_safety_stock",
    "diagnosis",
    "drivers",
    # more, stable too
    "policy",
    "order_quantity",
    "expected_annual_cost",
    "lean_safety_stock",
    "buffer_safety_stock",
    "strategic_safety_stock",
    "risk_layer",
    "stockout_cost_per_unit",
    "stockout_cost_derived",
    "current_days_of_cover",
    "current_buffer_value",
    "current_expected_fill_rate",
    "current_annual_cost",
    "diagnosis_money_per_year",
    "cash_freed",
    "diagnosis_detail",
    "expected_fill_rate_ci",
    "expected_annual_cost_ci",
    "grid_capped",
)

#: two-sided level of the confidence intervals of the simulated figures
CI_LEVEL = 0.95


@dataclass
class Decisions:
    """items     one row per item (DECISION_COLUMNS)
    findings  one row per finding (FINDING_COLUMNS), item and portfolio scope
    frontier  chart data (FRONTIER_COLUMNS)
    totals    portfolio totals (portfolio.totals)
    analysis  the numbers behind it all (risk model, cost curves, options)
    diagnosis the mistake diagnostics in full (incl. the drift table)
    notes     what a planner should know about the inputs (profile and risk-model notes)
    """

    items: pd.DataFrame
    findings: pd.DataFrame
    frontier: pd.DataFrame
    totals: dict[str, float]
    analysis: Analysis
    diagnosis: Diagnosis
    notes: list[str]


def _service_target(a: Analysis) -> np.ndarray:
    """Cycle service level implied by the costs (SPT eq. 6.28: 1 - Q h / (D b), clipped)."""
    r = a.risk
    annual = r.demand_mean * r.periods_per_year
    q = np.where(r.policy == POLICY_ORDER_UP_TO, r.demand_mean * r.review_periods, r.order_quantity)
    ok = (annual > 0) & (q > 0) & (r.stockout_cost > 0) & (r.holding_per_year > 0)
    out = np.full(r.n_items, np.nan)
    if ok.any():
        out[ok] = cost_optimal_cycle_service_level(
            r.stockout_cost[ok], r.holding_per_year[ok], annual[ok], q[ok]
        )
    return out


def decision_table(a: Analysis, diag: Diagnosis, drivers: list[str]) -> pd.DataFrame:
    """The per-item table (DECISION_COLUMNS) from an Analysis and its Diagnosis."""
    r = a.risk
    ss = a.recommended_ss
    daily = r.daily_demand()
    level = r.demand_mean * r.protection_periods("normal") + ss
    periodic = r.policy == POLICY_ORDER_UP_TO
    cur = a.current_ss
    # Student t over the kernel's independent replications (few: 2-4)
    reps = a.settings.replications
    t = float(student_t.ppf(0.5 + CI_LEVEL / 2.0, reps - 1)) if reps > 1 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(daily > 0, ss / daily, np.nan)
        cur_cover = np.where(daily > 0, cur / daily, np.nan)
    table = pd.DataFrame(
        {
            "item_id": r.item_ids,
            "stance": [STANCES[k] for k in a.stance_index],
            "safety_stock": ss,
            "reorder_point": level,
            "order_up_to": np.where(periodic, level, level + r.order_quantity),
            "service_target": _service_target(a),
            "expected_fill_rate": a.chosen("fill_rate"),
            "days_of_cover": cover,
            "buffer_value": ss * r.unit_cost,
            "expected_annual_holding_cost": a.chosen("holding_cost"),
            "expected_annual_stockout_cost": a.chosen("stockout_cost"),
            "jit_annual_cost": a.options.total_cost[:, 0],
            "current_safety_stock": cur,
            "diagnosis": [";".join(c) for c in diag.codes],
            "drivers": drivers,
            "policy": np.where(periodic, "R,S", "r,Q"),
            "order_quantity": r.order_quantity,
            "expected_annual_cost": a.chosen("total_cost"),
            "lean_safety_stock": a.options_ss[:, 1],
            "buffer_safety_stock": a.options_ss[:, 2],
            "strategic_safety_stock": a.options_ss[:, 3],
            "risk_layer": r.full_layer.astype(str),
            "stockout_cost_per_unit": r.stockout_cost,
            "stockout_cost_derived": r.stockout_derived,
            "current_days_of_cover": cur_cover,
            "current_buffer_value": cur * r.unit_cost,
            "current_expected_fill_rate": a.options.fill_rate[:, 4],
            "current_annual_cost": a.options.total_cost[:, 4],
            "diagnosis_money_per_year": diag.money_per_year,
            "cash_freed": diag.cash,
            "diagnosis_detail": [" | ".join(d) for d in diag.details],
            "expected_fill_rate_ci": t * a.chosen("fill_rate_se"),
            "expected_annual_cost_ci": t * a.chosen("total_cost_se"),
            "grid_capped": a.grid_capped,
        }
    )
    return table[list(DECISION_COLUMNS)]


def decide_items(
    items: pd.DataFrame,
    demand: pd.DataFrame | None,
    receipts: pd.DataFrame | None,
    profiles: Profiles | None = None,
    equipment_risk: Mapping[str, SupplyOutageProcess] | None = None,
    settings: DecideSettings | None = None,
    seed: int | np.random.Generator | None = None,
    progress: Progress | None = None,
    *,
    stockout_multiples: Mapping[str, float] | None = None,
    matrix: DemandMatrix | None = None,
    default_holding_rate: float = DEFAULT_HOLDING_RATE,
) -> Decisions:
    """Stance, buffer, explanation and mistakes of every item, and the portfolio view.

    items, demand, receipts  canonical tables (bufferwise.model.schema); dates parsed or ISO text
    profiles        profile_all output; None = profiled here on settings.bucket (no forecast)
    equipment_risk  item_id -> SupplyOutageProcess (equipment.item_outage_processes)
    settings        DecideSettings (thresholds of every rule)
    seed            int | numpy Generator | None: the same seed gives the same decisions
    progress        progress(stage, done, total); stages risk, cost_curves, stance,
                    diagnose, explain, portfolio
    stockout_multiples  criticality -> multiple of unit cost per unit short (costs.py), for
                    items whose stockout_cost and stockout_cost_multiple are empty
    matrix          `decide_matrix(items, demand, settings)` built beforehand; `demand` may
                    then be None (with `profiles` given), so that the caller can let it go
    default_holding_rate  [1 / year] for items whose holding_rate is empty (costs.py; a plant's
                    is settings [costs] default_holding_rate: services.sizing.resolve_item_inputs
                    resolves it, and the per-group overrides, before decide)
    """
    st = settings or DecideSettings()
    a = analyse(
        items,
        demand,
        receipts,
        profiles=profiles,
        equipment_risk=equipment_risk,
        settings=st,
        seed=seed,
        progress=progress,
        stockout_multiples=stockout_multiples,
        matrix=matrix,
        default_holding_rate=default_holding_rate,
    )
    if progress is not None:
        progress("diagnose", 0, 1)
    diag = diagnose(a, receipts)
    if progress is not None:
        progress("explain", 0, a.n_items)
    text = explain(a)
    if progress is not None:
        progress("portfolio", 0, 1)
    table = decision_table(a, diag, text)
    return Decisions(
        items=table,
        findings=diag.findings,
        frontier=frontier(a),
        totals=totals(a),
        analysis=a,
        diagnosis=diag,
        notes=[*a.profiles.notes, *a.risk.notes],
    )


__all__ = [
    "BACKTEST_COLUMNS",
    "CODES",
    "DECISION_COLUMNS",
    "DEFAULT_HOLDING_RATE",
    "DEFAULT_STOCKOUT_MULTIPLE",
    "FINDING_COLUMNS",
    "FRONTIER_COLUMNS",
    "SCENARIO_COLUMNS",
    "STANCES",
    "Analysis",
    "Backtest",
    "DecideSettings",
    "Decisions",
    "DemandChange",
    "DiagnoseSettings",
    "Diagnosis",
    "Driver",
    "LeadTimeFactor",
    "RepairTimeFactor",
    "Scenario",
    "SupplierOutage",
    "allocate_budget",
    "analyse",
    "backtest",
    "choose",
    "cover_limit",
    "decide_items",
    "decide_matrix",
    "decision_table",
    "diagnose",
    "drivers_for",
    "explain",
    "frontier",
    "holding_rates",
    "run_scenarios",
    "scenario_from_dict",
    "stockout_costs",
    "tie_tolerance",
    "totals",
    "zones",
]
