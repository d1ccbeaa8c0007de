"""Explanation: the few drivers that decided an item's stance, each with its number and effect.

Every sentence is built from the item's own figures (profile, risk model, simulated costs);
nothing is canned. Drivers (docs/decide.md, "Explanation"):

supplier      on-time share, disruptions and their mean length over the observed months, lead
              time and its spread; effect: the lead-time share of the normal-variability cover's
              value plus what covering disruptions saves over a lean buffer
stockout      stockout cost per unit short as a multiple of a year's holding of that unit (and
              where it came from: given, or derived from criticality); effect: the expected
              shortage cost JIT would run
demand        Syntetos-Boylan class with ADI and CV²; effect: the demand share of the
              normal-variability cover's value
machine       the machine's availability and stops per year (equipment risk given); effect: the
              cover the item holds only because of the machine
rare_outage   strategic items: the rare long outage priced; effect: what its cover saves

The value of normal-variability cover is C(jit) - C(lean) (expected annual cost under the item's
whole risk), split between demand and lead time by their shares of the lead-time-demand
variance, P sigma_d² and d² sigma_L². Drivers are ordered by the size of their effect; the
stockout and supplier drivers are always given (they are the cost basis and the supply risk),
the others when their effect reaches the tie tolerance. The conclusion states the cover, the
stance and what JIT would cost more a year in total, split into its expected shortages and its
holding (for a JIT item: what the next buffer would cost more). Every figure is one of the
options' (Analysis.options), the same the decision table shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.analysis import Analysis
from bufferwise.decide.risk import pool_mean_sd
from bufferwise.decide.stance import STANCES, tie_tolerance
from bufferwise.profile.demand import DemandSettings


@dataclass(frozen=True)
class Driver:
    """One reason: key (supplier, stockout, demand, machine, rare_outage), text with its
    numbers, effect [money / year] used to rank it (NaN = not a money figure)."""

    key: str
    text: str
    effect: float


def _money(x: float) -> str:
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.0f}"


def _months(years: float) -> str:
    return f"{round(years * 12)} months"


@dataclass
class _Context:
    """Per-portfolio lookups that every item's drivers read, built once (explain runs in
    O(items), not O(items x suppliers))."""

    protection: np.ndarray
    lead_time_sd: np.ndarray
    chosen_cost: np.ndarray
    tolerance: np.ndarray
    option_cost: np.ndarray
    lead_time_days_mean: np.ndarray
    lead_time_days_sd: np.ndarray
    recommended_ss: np.ndarray
    daily_demand: np.ndarray
    supplier_rows: dict[str, dict[str, float]]
    # the demand profile's class, ADI and CV² per item (class None: the profile lacks it)
    demand_class: np.ndarray
    demand_adi: np.ndarray
    demand_cv2: np.ndarray
    # "N <bucket>s" without demand at the end of the history, for the items held at zero
    since: dict[str, str]
    calibrated: frozenset[int] = frozenset()


def _context(analysis: Analysis) -> _Context:
    r = analysis.risk
    supply = analysis.profiles.supply
    suppliers: dict[str, dict[str, float]] = {}
    if supply is not None and len(supply):
        sid = supply["supplier_id"].astype(str)
        iid = supply["item_id"].astype(str)
        own = supply[iid == ""].assign(_sid=sid[iid == ""]).drop_duplicates("_sid")
        fields = ("on_time_rate", "disruptions", "observed_years", "disruption_mean_days")
        values = {f: pd.to_numeric(own[f], errors="coerce").to_numpy(float) for f in fields}
        for j, key in enumerate(own["_sid"]):
            suppliers[str(key)] = {f: float(values[f][j]) for f in fields}
    prof = analysis.demand_profile
    profiled = prof["profiled"].to_numpy(bool)
    demand_class = prof["demand_class"].astype(str).to_numpy(dtype=object)
    demand_class[~profiled] = None
    since: dict[str, str] = {}
    held = np.flatnonzero(profiled & (analysis.held_at_zero != ""))
    n_since = pd.to_numeric(prof["periods_since_demand"], errors="coerce").to_numpy(float)
    unit = prof["bucket"].to_numpy(object)
    for row in held.tolist():
        if np.isfinite(n_since[row]):
            b = str(unit[row]) if isinstance(unit[row], str) else "period"
            k = int(n_since[row])
            since[str(prof.index[row])] = f"{k} {b}{'s' if k != 1 else ''}"
    cal = analysis.calibration
    chosen = analysis.chosen("total_cost")
    lt_mean, lt_sd = pool_mean_sd(r.lead_time_days["normal"])
    return _Context(
        protection=r.protection_periods("normal"),
        lead_time_sd=r.lead_time_period_stats("normal")[1],
        chosen_cost=chosen,
        tolerance=tie_tolerance(chosen, analysis.settings),
        option_cost=analysis.options.total_cost,
        lead_time_days_mean=lt_mean,
        lead_time_days_sd=lt_sd,
        recommended_ss=analysis.recommended_ss,
        daily_demand=r.daily_demand(),
        supplier_rows=suppliers,
        demand_class=demand_class,
        demand_adi=pd.to_numeric(prof["adi"], errors="coerce").to_numpy(float),
        demand_cv2=pd.to_numeric(prof["cv2"], errors="coerce").to_numpy(float),
        calibrated=frozenset(int(j) for j in cal.rows) if cal is not None else frozenset(),
        since=since,
    )


def drivers_for(analysis: Analysis, i: int, context: _Context | None = None) -> list[Driver]:
    """The drivers of item i, ordered by effect (module docstring). `context` is the
    portfolio's lookups when the caller explains many items (built here when None)."""
    a = analysis
    r = a.risk
    ctx = context if context is not None else _context(a)
    costs = ctx.option_cost[i]
    c_jit = float(costs[0])
    c_lean = float(costs[1]) if np.isfinite(costs[1]) else c_jit
    c_buf = float(costs[2]) if np.isfinite(costs[2]) else c_lean
    c_rec = float(ctx.chosen_cost[i])
    tol = float(ctx.tolerance[i])
    normal_value = max(c_jit - c_lean, 0.0)
    prot = float(ctx.protection[i])
    sd_l = float(ctx.lead_time_sd[i])
    var_d = prot * float(r.demand_sd[i]) ** 2
    var_l = float(r.demand_mean[i]) ** 2 * sd_l**2
    total_var = var_d + var_l
    share_d = var_d / total_var if total_var > 0 else 1.0
    out: list[Driver] = []

    # supplier
    supplier = str(r.supplier_id[i])
    row = ctx.supplier_rows.get(supplier) if supplier else None
    lt_sd = float(ctx.lead_time_days_sd[i])
    lt_text = f"lead time {ctx.lead_time_days_mean[i]:.0f} days (sd {lt_sd:.1f})"
    if row is not None:
        late = 1.0 - row["on_time_rate"]
        events = int(row["disruptions"]) if np.isfinite(row["disruptions"]) else 0
        years = row["observed_years"]
        if events:
            dis = (
                f"{events} disruption{'s' if events > 1 else ''} averaging "
                f"{float(row['disruption_mean_days']):.0f} days in {_months(years)}"
            )
        else:
            dis = f"no disruption in {_months(years)}"
        text = f"supplier {supplier} delivered {late:.0%} of orders late with {dis}; {lt_text}"
    elif supplier:
        text = f"supplier {supplier}: no receipts measured; {lt_text}"
    else:
        text = lt_text
    disruption_value = max(c_lean - c_buf, 0.0)
    proc = (a.equipment_risk or {}).get(str(r.item_ids[i]))
    # without receipts of its own, the item's disruption layer is its machine's stops
    machine_disrupts = proc is not None and not str(r.lead_time_source[i]).startswith("item")
    supplier_disruption = 0.0 if machine_disrupts else disruption_value
    supply_effect = (1.0 - share_d) * normal_value + supplier_disruption
    if supplier_disruption >= tol:
        text += f" (covering its disruptions saves {_money(disruption_value)} a year over lean)"
    elif (1.0 - share_d) * normal_value >= tol:
        text += f" (lead-time variability is {1.0 - share_d:.0%} of the lead-time-demand variance)"
    out.append(Driver("supplier", text, supply_effect))

    # stockout cost
    h = float(r.holding_per_year[i])
    b = float(r.stockout_cost[i])
    ratio = b / h if h > 0 else math.inf
    source = f"derived from criticality {r.criticality[i]}" if r.stockout_derived[i] else "as given"
    jit_short = float(a.options.stockout_cost[i, 0])
    out.append(
        Driver(
            "stockout",
            f"a stockout costs {ratio:,.0f}x a year's holding ({_money(b)} per unit short, "
            f"{source}); JIT would run {_money(jit_short)} a year of expected shortages",
            max(c_jit - c_rec, 0.0),
        )
    )

    # demand
    if ctx.demand_class[i] is not None:
        cls = str(ctx.demand_class[i])
        adi, cv2 = float(ctx.demand_adi[i]), float(ctx.demand_cv2[i])
        effect = share_d * normal_value
        if effect >= tol or cls in ("lumpy", "erratic"):
            out.append(
                Driver(
                    "demand",
                    f"demand is {cls} ({_adi_cv2(adi, cv2)}"
                    f"{share_d:.0%} of the lead-time-demand variance)",
                    effect,
                )
            )

    # machine
    if proc is not None and math.isfinite(proc.availability) and proc.availability < 1.0:
        free = a.machine_free_ss[i]
        extra = (ctx.recommended_ss[i] - free) if np.isfinite(free) else float("nan")
        daily = float(ctx.daily_demand[i])
        effect = extra * float(r.holding_per_year[i]) if np.isfinite(extra) else 0.0
        more = (
            f"; {extra / daily:.1f} days of the cover are for its stops"
            if np.isfinite(extra) and extra > 0 and daily > 0
            else ""
        )
        if machine_disrupts and disruption_value >= tol:
            more += f" (covering them saves {_money(disruption_value)} a year over lean)"
            effect = max(effect, disruption_value)
        out.append(
            Driver(
                "machine",
                f"machine {proc.machine_id} is available {proc.availability:.0%} of the time "
                f"({proc.outage_rate_per_year:,.0f} stops a year, mean "
                f"{proc.mean_outage_days * 24:.1f} h){more}",
                max(effect, 0.0),
            )
        )

    # rare outage
    if r.strategic_eligible[i]:
        c_str = float(costs[3]) if np.isfinite(costs[3]) else c_buf
        saves = max(c_buf - c_str, 0.0)
        out.append(
            Driver(
                "rare_outage",
                f"critical, single-source, long-lead: a {r.rare_outage_days[i]:.0f}-day outage "
                f"once in {a.settings.rare_outage_return_years:g} years "
                + (
                    f"is worth covering (saves {_money(saves)} a year)"
                    if saves >= tol
                    else "does not pay for more cover"
                ),
                saves,
            )
        )
    out.sort(key=lambda d: -d.effect)
    return out


def _adi_cv2(adi: float, cv2: float) -> str:
    """'ADI a, CV² c; ' with the figures the profile could measure (too few demands leave them
    undefined: said in words, never as nan)."""
    parts = [f"ADI {adi:.1f}"] if math.isfinite(adi) else []
    if math.isfinite(cv2):
        parts.append(f"CV² {cv2:.2f}")
    if not parts:
        return "too few demands to measure ADI and CV²; "
    if len(parts) == 1:
        parts.append("CV² not measurable")
    return ", ".join(parts) + "; "


def _more_or_less(amount: float, what: str) -> str:
    """'X more in <what>' for amount >= 0, else 'X less in <what>'."""
    return f"{_money(abs(amount))} {'more' if amount >= 0 else 'less'} in {what}"


def conclusion(analysis: Analysis, i: int, context: _Context | None = None) -> str:
    """'-> hold N days of cover (stance, S units); JIT would cost X a year more in total (Y more
    in expected shortages, Z less in holding)', with X = C(jit) - C(recommended) (decision table:
    jit_annual_cost - expected_annual_cost), Y and Z the same differences of the expected annual
    stockout and holding costs (X = Y - Z). `context` as for `drivers_for`.

    Without recent demand the cover is said in units ("no recent demand to cover in days"),
    never as NaN days. An item held at no buffer by rule (`Analysis.held_at_zero`) says why in
    plain words. A calibrated item (decide/calibration.py) says that its level is set by the
    fill target, not by cost, and, when JIT is cheaper by the expected figures, by how much."""
    a = analysis
    ctx = context if context is not None else _context(a)
    k = int(a.stance_index[i])
    ss = float(ctx.recommended_ss[i])
    daily = float(ctx.daily_demand[i])
    costs = ctx.option_cost[i]
    c_rec = float(costs[k])
    rule = str(a.held_at_zero[i])
    since = ctx.since.get(str(a.risk.item_ids[i]), "periods")
    if rule == "no_demand":
        return (
            "-> hold no buffer (jit): no demand at all in its history "
            f"({a.matrix.quantity.shape[1]} {a.matrix.bucket}s), nothing to cover"
        )
    if rule == "obsolete":
        return (
            "-> hold no buffer (jit): obsolete, its demand stopped (the last "
            f"{since} without any, at least {_OBSOLETE_FACTOR:g} times its usual "
            "interval between demands); stock for it would wait for demand that has ended"
        )
    if k == 0:
        if daily <= 0:
            return "-> hold no buffer (jit): no recent demand to cover"
        nxt = next((j for j in (1, 2, 3) if np.isfinite(costs[j])), None)
        if nxt is None:
            grid, perf = a.full_curve(i)
            more = float(perf.total_cost[1] - perf.total_cost[0])
            return (
                f"-> hold no buffer (jit); even {grid[1] / daily:.1f} days of cover would cost "
                f"{_money(more)} a year more than it saves"
            )
        more = float(costs[nxt]) - c_rec
        cover = a.options_ss[i, nxt] / daily
        if more < 0:
            tol = float(tie_tolerance(np.array([float(costs[nxt])]), a.settings)[0])
            return (
                f"-> hold no buffer (jit); a {STANCES[nxt]} buffer of {cover:.1f} days would save "
                f"only {_money(-more)} a year, within the tie tolerance of {_money(tol)}"
            )
        return (
            f"-> hold no buffer (jit); a {STANCES[nxt]} buffer of {cover:.1f} days would cost "
            f"{_money(more)} a year more than it saves"
        )
    held = (
        f"hold {ss / daily:.1f} days of cover ({STANCES[k]}, {_money(ss)} units)"
        if daily > 0
        else f"hold {_money(ss)} units ({STANCES[k]}; no recent demand to cover in days)"
    )
    more = float(costs[0]) - c_rec
    shortages = float(a.options.stockout_cost[i, 0] - a.options.stockout_cost[i, k])
    holding = float(a.options.holding_cost[i, 0] - a.options.holding_cost[i, k])
    split = (
        f"({_more_or_less(shortages, 'expected shortages')}, {_more_or_less(holding, 'holding')})"
    )
    cal = a.calibration
    if cal is not None and i in ctx.calibrated:
        # the level is the fill target's (decide/calibration.py), not the least cost's
        basis = (
            f"-> {held}: level set by the fill target, not by cost (base stock calibrated "
            f"out of sample to the {cal.target:.1%} portfolio fill; this item "
            f"{float(a.chosen('fill_rate')[i]):.1%})"
        )
        if more >= 0:
            return f"{basis}; JIT would cost {_money(more)} a year more in total {split}"
        return (
            f"{basis}; by the expected figures it costs {_money(-more)} a year more than JIT "
            f"{split}"
        )
    return (
        f"-> {held}; JIT would cost {_money(abs(more))} a year "
        f"{'more' if more >= 0 else 'less'} in total {split}"
    )


#: the demand profile's default obsolete_factor, quoted in the obsolete conclusion
_OBSOLETE_FACTOR = DemandSettings().obsolete_factor


def explain(analysis: Analysis, max_drivers: int = 4) -> list[str]:
    """Explanation text per item: up to `max_drivers` drivers and the conclusion."""
    out = []
    ctx = _context(analysis)
    for i in range(analysis.n_items):
        ds = drivers_for(analysis, i, ctx)
        keep = [d for d in ds if d.key in ("supplier", "stockout")]
        rest = [d for d in ds if d.key not in ("supplier", "stockout")]
        chosen = sorted(keep + rest[: max(0, max_drivers - len(keep))], key=lambda d: -d.effect)
        out.append(
            "; ".join(d.text for d in chosen)
            + " "
            + conclusion(analysis, i, ctx)
            + grid_capped_note(analysis, i)
        )
    return out


def grid_capped_note(analysis: Analysis, i: int) -> str:
    """'' unless item i's least cost lies at the top of its final grid (`grid_capped`): then
    a sentence saying that the recommendation is capped by the grid, not a cost minimum."""
    a = analysis
    if not bool(a.grid_capped[i]):
        return ""
    top = float(a.full.safety_stock[i, -1])
    rounds = int(a.grid_rounds[i])
    how = f" after {rounds} doubling{'s' if rounds != 1 else ''} of the grid" if rounds else ""
    return (
        f" [grid capped: the expected cost was still falling at the top of the simulated grid "
        f"({_money(top)} units{how}); the least-cost level lies higher and this "
        f"recommendation is bounded by the grid]"
    )


__all__ = ["Driver", "conclusion", "drivers_for", "explain", "grid_capped_note"]
