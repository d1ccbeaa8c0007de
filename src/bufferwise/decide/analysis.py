"""The numbers behind every decision: risk model, cost curves, options and the chosen stance.

`analyse` runs the cost engine once for the whole portfolio; explain, diagnose and portfolio
read the resulting `Analysis` and compute nothing by simulation themselves (except
`portfolio`'s interpolation of the curves).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide import stance as stance_mod
from bufferwise.decide.calibration import CalibratedChoice, calibrate_levels
from bufferwise.decide.cost_curve import (
    CostEngine,
    LayerCurve,
    Performance,
    engine_for,
    least_cost_level,
)
from bufferwise.decide.costs import DEFAULT_HOLDING_RATE, price_items
from bufferwise.decide.risk import RiskModel, build_risk_model, validate_items
from bufferwise.decide.settings import DecideSettings, within_budget
from bufferwise.decide.stance import cover_limit
from bufferwise.equipment.item_risk import SupplyOutageProcess
from bufferwise.errors import InvalidInput
from bufferwise.profile import DemandMatrix, Profiles, build_demand_matrix, profile_all

Progress = Callable[[str, int, int], None]
FULL_LAYERS: tuple[str, ...] = ("normal", "disruption", "rare")


@dataclass
class Analysis:
    """Everything decide measured, arrays aligned with `items` rows.

    options_ss      [n, 4] safety stock per stance option (NaN = zone not reachable) [units]
    options         Performance of the 4 options + the current buffer [n, 5] under full risk
    stance_index    index into stance.STANCES
    full            every item's cost curve under its full layer, Performance [n, G]
    zone            stance of every grid level [n, G]
    normal_cover, disruption_cover  the zone limits [units] (stance.py)
    curves          the cost curve of every layer (LayerCurve, rows = item indices)
    machine_free_ss least-cost safety stock if the item's machine never failed (NaN = no
                    machine risk)
    current_ss      current safety stock [units] (NaN = not given)
    calibration     the items whose recommended level was calibrated out of sample, and how
                    (None = none; decide/calibration.py)
    grid_rounds     how many times the item's full-layer grid was doubled because its least
                    cost lay at the grid's top (cost_curve.py, "Grid extension")
    grid_capped     the least cost still lies at the top of the item's final full-layer grid
                    (the bound 2 ** grid_extensions x the first top, or the extension budget,
                    was reached): the recommendation is capped by the grid
    demand_profile  the demand profile's row of every item (`item_demand_profile`: PROFILE_FIELDS,
                    indexed by item id, all NaN for an item the profile lacks)
    held_at_zero    why the item holds no buffer by rule, whatever the cost curves say: ""
                    (no rule), "no_demand" (no demand in the whole fitting history) or
                    "obsolete" (flagged obsolete by the demand profile); such items are jit
                    and left out of the calibration (`zero_buffer_rule`)
    """

    items: pd.DataFrame
    matrix: DemandMatrix
    profiles: Profiles
    risk: RiskModel
    engine: CostEngine
    curves: dict[str, LayerCurve]
    options_ss: np.ndarray
    options: Performance
    stance_index: np.ndarray
    full: Performance
    zone: np.ndarray
    normal_cover: np.ndarray
    disruption_cover: np.ndarray
    machine_free_ss: np.ndarray
    current_ss: np.ndarray
    equipment_risk: Mapping[str, SupplyOutageProcess] | None
    settings: DecideSettings
    demand_profile: pd.DataFrame
    calibration: CalibratedChoice | None
    grid_rounds: np.ndarray
    grid_capped: np.ndarray
    held_at_zero: np.ndarray

    @property
    def n_items(self) -> int:
        return self.risk.n_items

    @property
    def recommended_ss(self) -> np.ndarray:
        return self.options_ss[np.arange(self.n_items), self.stance_index]

    def option_column(self, name: str, k: int) -> np.ndarray:
        """A Performance field for option k (0-3 = STANCES, 4 = current) per item."""
        return np.asarray(getattr(self.options, name))[:, k]

    def chosen(self, name: str) -> np.ndarray:
        values = np.asarray(getattr(self.options, name))
        return values[np.arange(self.n_items), self.stance_index]

    def full_curve(self, i: int) -> tuple[np.ndarray, Performance]:
        """(safety-stock grid, Performance row) of item i under its whole risk."""
        p = self.full
        return p.safety_stock[i], Performance(
            *(np.asarray(getattr(p, f))[i] for f in Performance.__dataclass_fields__)
        )


def _check_items(items: pd.DataFrame) -> None:
    if not isinstance(items, pd.DataFrame) or len(items) == 0:
        raise InvalidInput("items: need a DataFrame with at least one item")
    validate_items(items)


def decide_matrix(
    items: pd.DataFrame, demand: pd.DataFrame | None, settings: DecideSettings | None = None
) -> DemandMatrix:
    """The demand matrix decide simulates from (settings.bucket, one row per item of `items`
    and of `demand`), after checking both tables. Built once by `analyse`, or beforehand by a
    caller that wants to let go of the demand table (analyze: about 1 GiB at 100,000 items)."""
    st = settings or DecideSettings()
    _check_items(items)
    ids = items.reset_index(drop=True)["item_id"].astype(str).tolist()
    if demand is None or len(demand) == 0:
        raise InvalidInput("demand is empty: decide needs each item's demand history")
    return build_demand_matrix(demand, st.bucket, item_ids=ids)


PROFILE_FIELDS: tuple[str, ...] = (
    "bucket",
    "demand_class",
    "adi",
    "cv2",
    "nonzero_periods",
    "missing_periods",
    "periods_since_demand",
    "obsolete",
)


def item_demand_profile(profiles: Profiles, item_ids: np.ndarray) -> pd.DataFrame:
    """The demand profile's row of every item of `item_ids` (its first row when the profile
    holds several), PROFILE_FIELDS only, in the order of `item_ids`, indexed by the item ids
    as strings, with a column "profiled" (False: the profile lacks the item, its fields NaN)."""
    ids = pd.Index([str(x) for x in item_ids])
    dem = profiles.demand
    if dem is None or not len(dem) or "item_id" not in dem:
        empty = pd.DataFrame(index=ids, columns=list(PROFILE_FIELDS), dtype=object)
        return empty.assign(profiled=False)
    cols = [c for c in PROFILE_FIELDS if c in dem]
    first = dem[cols].set_axis(pd.Index(dem["item_id"].astype(str)), axis=0)
    first = first[~first.index.duplicated(keep="first")]
    out = first.reindex(ids).reindex(columns=list(PROFILE_FIELDS))
    out["profiled"] = ids.isin(first.index)
    return out


def zero_buffer_rule(
    item_ids: np.ndarray,
    matrix: DemandMatrix,
    profiles: Profiles,
    bucket_days: float = 1.0,
    obsolete_min_days: float = 0.0,
    profile: pd.DataFrame | None = None,
) -> np.ndarray:
    """Per item, why it holds no buffer by rule ("" = no rule): "no_demand" when its fitting
    history holds no demand at all (every bucket of the decide matrix 0 or not observed, or
    the demand profile classes it no_demand), else "obsolete" when the demand profile flags
    it obsolete (a trailing run of zero periods of at least `obsolete_factor` x its ADI) and
    its last demand lies at least `obsolete_min_days` before the end of the history (the
    matrix's trailing zero buckets x bucket_days: on a daily bucket the profile's flag alone
    would take a sparse item silent for two weeks for obsolete). A
    buffer for an item that has never been or is no longer demanded is stock that waits for
    nothing: the cost curves say so for most (no recent demand, no shortage to avoid), the
    calibration's awakening rate would not, so the rule is stated once here.

    `profile` is `item_demand_profile(profiles, item_ids)` when the caller has it. The
    silence and the trailing zero buckets are the profile's nonzero_periods and
    periods_since_demand when it was measured on the decide matrix's calendar (same bucket,
    same period starts) and no item has a declared gap; else they are read from the matrix."""
    rows = profile if profile is not None else item_demand_profile(profiles, item_ids)
    n = len(rows)
    pos = pd.Index([str(k) for k in matrix.item_ids]).get_indexer(rows.index)
    in_matrix = pos >= 0
    nz_periods = pd.to_numeric(rows["nonzero_periods"], errors="coerce").to_numpy(float)
    since = pd.to_numeric(rows["periods_since_demand"], errors="coerce").to_numpy(float)
    gaps = pd.to_numeric(rows["missing_periods"], errors="coerce").to_numpy(float)
    same_calendar = (
        profiles.bucket == matrix.bucket
        and np.array_equal(
            np.asarray(profiles.period_starts, dtype="datetime64[ns]"),
            np.asarray(matrix.period_starts, dtype="datetime64[ns]"),
        )
        and bool(np.isfinite(nz_periods[in_matrix]).all())
        and bool(np.isfinite(since[in_matrix]).all())
        and bool((gaps[in_matrix] == 0).all())
    )
    if same_calendar:
        silent = ~in_matrix | (nz_periods == 0)
        quiet_days = since * float(bucket_days)
    else:
        q = np.asarray(matrix.quantity)
        if q.size:
            # in the matrix's own dtype: no float64 copy of it (73 M cells at 100,000 items x
            # 730 days: two copies were 1.2 GB at the peak of analyze)
            nz: np.ndarray = q != 0
            nz &= ~np.isnan(q)  # not observed is no demand
        else:
            nz = np.zeros((len(matrix.item_ids), 0), dtype=bool)
        m_silent = np.asarray(~nz.any(axis=1), dtype=bool)
        # buckets from the last demand to the end of the history (whole history when none)
        last = np.where(m_silent, -1, nz.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1))
        del nz
        at = np.where(in_matrix, pos, 0)
        silent = ~in_matrix | m_silent[at]
        quiet_days = (q.shape[1] - 1 - last[at]) * float(bucket_days)
    no_demand = silent | rows["demand_class"].eq("no_demand").to_numpy(bool)
    obsolete = (
        ~no_demand & rows["obsolete"].eq(True).to_numpy(bool) & (quiet_days >= obsolete_min_days)
    )
    out = np.full(n, "", dtype=object)
    out[no_demand] = "no_demand"
    out[obsolete] = "obsolete"
    return out


def analyse(
    items: pd.DataFrame,
    demand: pd.DataFrame | None,
    receipts: pd.DataFrame | None,
    profiles: Profiles | None = None,
    equipment_risk: Mapping[str, SupplyOutageProcess] | None = None,
    settings: DecideSettings | None = None,
    seed: int | np.random.Generator | None = None,
    progress: Progress | None = None,
    stockout_multiples: Mapping[str, float] | None = None,
    matrix: DemandMatrix | None = None,
    default_holding_rate: float = DEFAULT_HOLDING_RATE,
) -> Analysis:
    """Risk model, cost curves, options and stance of every item (see module docstring).

    stockout_multiples    criticality -> multiple of unit cost per unit short (costs.py)
    matrix                `decide_matrix(items, demand, settings)` built beforehand (then
                          `demand` may be None when `profiles` is given)
    default_holding_rate  [1 / year] for items whose holding_rate is empty (costs.py)
    `Analysis.items` holds the items as priced: holding_rate and ITEM_STOCKOUT_MULTIPLE
    resolved for every item, so that what reads them again (scenarios) prices them alike."""
    st = settings or DecideSettings()
    if matrix is None:
        matrix = decide_matrix(items, demand, st)
    else:
        _check_items(items)
    # the one place decide resolves the costs: the risk model and scenarios read these columns
    items = price_items(items.reset_index(drop=True), default_holding_rate, stockout_multiples)
    if profiles is None:
        if demand is None:
            raise InvalidInput("decide needs the demand table to profile the items")
        profiles = profile_all(demand, receipts, items, bucket=st.bucket, forecast=False)
    if progress is not None:
        progress("risk", 0, 1)
    risk = build_risk_model(items, matrix, receipts, equipment_risk, st)
    fitted = within_budget(st, risk.n_items)
    if fitted != st:
        risk.notes.append(
            f"{risk.n_items:,} items exceed the simulation budget ({st.sim_budget:.3g} "
            f"item-periods): cost curves simulated {fitted.sim_years:g} years x "
            f"{fitted.replications} replications at {fitted.grid_points} levels instead of "
            f"{st.sim_years:g} x {st.replications} at {st.grid_points} (settings.sim_budget)"
        )
        st = fitted
    engine = engine_for(risk, st, seed)
    curves: dict[str, LayerCurve] = {}
    current = (
        risk.current_safety_stock
        if risk.current_safety_stock is not None
        else np.full(risk.n_items, np.nan)
    )
    current_perf: dict[str, Performance] = {}
    layers = ("normal", "disruption", "rare", "machine_free")
    for k, layer in enumerate(layers):
        if progress is not None:
            progress("cost_curves", k, len(layers))
        curves[layer] = engine.curve(layer)
        rows = risk.layer_rows[layer]
        if layer in FULL_LAYERS and (risk.full_layer[rows] == layer).any():
            # the current buffer of the items whose whole risk this layer is
            current_perf[layer] = engine.evaluate(layer, np.nan_to_num(current[rows], nan=0.0))
        engine.release(layer)  # a layer's packed inputs are large; scenarios rebuild them
    if progress is not None:
        progress("cost_curves", len(layers), len(layers))
    n = risk.n_items
    fields = list(Performance.__dataclass_fields__)
    g = st.grid_points
    assembled = {f: np.zeros((n, g)) for f in fields}
    for layer in FULL_LAYERS:
        c = curves[layer]
        mine = risk.full_layer[c.rows] == layer
        for f in fields:
            assembled[f][c.rows[mine]] = np.asarray(getattr(c.perf, f))[mine]
    full = Performance(**assembled)
    grid_rounds = np.zeros(n, dtype=np.int64)
    grid_capped = np.zeros(n, dtype=bool)
    for layer in FULL_LAYERS:
        rows = risk.layer_rows[layer]
        mine = risk.full_layer[rows] == layer
        grid_rounds[rows[mine]] = engine.grid_rounds[layer][mine]
        grid_capped[rows[mine]] = engine.grid_capped[layer][mine]
    if grid_rounds.any():
        risk.notes.append(
            f"{int((grid_rounds > 0).sum()):,} items had their least cost at the top of the "
            f"cost curve's grid: their grids were extended (top doubled, up to "
            f"{st.grid_extensions} times) and simulated again; "
            + (
                f"{int(grid_capped.sum()):,} still have it at the top of the final grid "
                "(column grid_capped: their recommendation is capped by the grid)"
                if grid_capped.any()
                else "every one now has its least cost inside the grid"
            )
        )
    elif grid_capped.any():
        risk.notes.append(
            f"{int(grid_capped.sum()):,} items have their least cost at the top of the cost "
            "curve's grid and were not extended (settings.grid_extensions or the extension "
            "budget): their recommendation is capped by the grid (column grid_capped)"
        )
    annual = risk.demand_mean * risk.periods_per_year
    share = st.cover_shortage_share
    cn = curves["normal"]
    normal_cover = np.zeros(n)
    normal_cover[cn.rows] = cover_limit(
        cn.perf.safety_stock, cn.perf.short_per_year, annual[cn.rows], share
    )
    disruption_cover = normal_cover.copy()
    cd = curves["disruption"]
    if cd.rows.size:
        disruption_cover[cd.rows] = np.maximum(
            cover_limit(cd.perf.safety_stock, cd.perf.short_per_year, annual[cd.rows], share),
            normal_cover[cd.rows],
        )
    has_disruption = risk.full_layer != "normal"
    zone = stance_mod.zones(
        full.safety_stock, normal_cover, disruption_cover, has_disruption, risk.strategic_eligible
    )
    chosen, option_index = stance_mod.choose(full.safety_stock, full.total_cost, zone, st)
    # no demand in the history, or obsolete: no buffer, whatever the curves (zero_buffer_rule)
    demand_profile = item_demand_profile(profiles, risk.item_ids)
    zero_rule = zero_buffer_rule(
        risk.item_ids,
        matrix,
        profiles,
        risk.bucket_days,
        st.obsolete_min_days,
        profile=demand_profile,
    )
    if not st.obsolete_no_buffer:
        zero_rule = np.where(zero_rule == "obsolete", "", zero_rule).astype(object)
    ruled = zero_rule != ""
    chosen[ruled] = 0
    option_index[ruled, 0] = 0
    rows_all = np.arange(n)
    merged = {f: np.full((n, 5), np.nan) for f in fields}
    for k in range(4):
        idx = option_index[:, k]
        ok = idx >= 0
        for f in fields:
            merged[f][ok, k] = np.asarray(getattr(full, f))[rows_all[ok], idx[ok]]
    for layer, perf in current_perf.items():
        rows = risk.layer_rows[layer]
        mine = risk.full_layer[rows] == layer
        for f in fields:
            merged[f][rows[mine], 4] = np.asarray(getattr(perf, f))[mine, 0]
    has_current = np.isfinite(current)
    for f in fields:
        merged[f][:, 4] = np.where(has_current, merged[f][:, 4], np.nan)
    calibration = None
    if st.calibrate:
        if progress is not None:
            progress("calibration", 0, 1)
        calibration = calibrate_levels(
            engine,
            matrix,
            merged["safety_stock"][rows_all, chosen],
            merged["fill_rate"][rows_all, chosen],
            st,
            exclude=ruled,
        )
        if calibration is not None:
            rows = calibration.rows
            # the calibrated level's own zone is the item's stance (decide/calibration.py)
            chosen = chosen.copy()
            chosen[rows] = stance_mod.zones(
                calibration.safety_stock[:, None],
                normal_cover[rows],
                disruption_cover[rows],
                has_disruption[rows],
                risk.strategic_eligible[rows],
            )[:, 0]
            for f in fields:
                merged[f][rows, chosen[rows]] = np.asarray(getattr(calibration.performance, f))
            risk.notes.append(calibration.describe())
    options = Performance(**merged)
    options_ss = options.safety_stock[:, :4].copy()
    machine_free = np.full(n, np.nan)
    if curves["machine_free"].rows.size:
        machine_free[curves["machine_free"].rows] = least_cost_level(curves["machine_free"], st)
    if progress is not None:
        progress("stance", n, n)
    return Analysis(
        items=items,
        matrix=matrix,
        profiles=profiles,
        risk=risk,
        engine=engine,
        curves=curves,
        options_ss=options_ss,
        options=options,
        stance_index=chosen,
        full=full,
        zone=zone,
        normal_cover=normal_cover,
        disruption_cover=disruption_cover,
        machine_free_ss=machine_free,
        current_ss=current,
        equipment_risk=equipment_risk,
        settings=st,
        demand_profile=demand_profile,
        calibration=calibration,
        grid_rounds=grid_rounds,
        grid_capped=grid_capped,
        held_at_zero=zero_rule,
    )


__all__ = [
    "FULL_LAYERS",
    "PROFILE_FIELDS",
    "Analysis",
    "analyse",
    "item_demand_profile",
    "zero_buffer_rule",
]
