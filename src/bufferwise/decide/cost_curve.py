"""Expected annual holding + stockout cost against buffer level, per item and risk layer.

For every item and risk layer (`risk.LAYERS`) the numba policy kernel
(`bufferwise.kernels.run_simulation`) simulates the item's real policy ((r,Q) or (R,S), MOQ,
order multiple, backorders) at a grid of safety-stock levels

    s_k = U (k / (G - 1))^1.5,  k = 0 .. G - 1   (denser near zero)
    U   = max(4 sigma_LTD, one period of demand) + daily demand x (p90 outage length, when the
          layer has outages) [+ daily demand x the rare outage length, strategic layer];
          the normal and disruption layers share the larger U of the two

for `sim_years` x `replications` years after a warm-up, every level of an item with the same
random numbers (common random numbers), all items and levels of a layer in one kernel
call (`run_simulation_levels`: the draws are made once and shared by the levels).
Safety stock is the level above the expected demand over the protection interval:
reorder point r = d L + s for (r,Q), order-up-to S = d (R + L) + s for (R,S), with d the
recent mean demand per period and L the mean lead time of the layer's pool [periods].

Expected annual cost at level s:  h E[on hand](s) + b E[units short per year](s)
(h = unit_cost x holding_rate [money / unit / year]; b [money / unit short], `costs`).
The true expected shortage falls and the true on-hand stock rises with s; the simulated curves
are made monotone the same way (running min / max over the grid) so that sampling noise never
reverses them.

Grid extension: an item whose least cost (tie rule, `stance.least_cost_index`) lies at the top
of its grid in the layer that prices it (its full layer; every item of `machine_free`) has its
cost still falling there, so the grid capped its optimum. Its grid's top is doubled (same
number of points, same formula) and the item alone is simulated again with the same random
numbers (its kernel streams in the whole layer), round after round, until its least cost is
interior or `grid_extensions` rounds are spent (bound: 2 ** grid_extensions x the first top)
or the extensions would exceed `grid_extension_share` x `sim_budget` item-periods in all;
items still at the top are flagged (`CostEngine.grid_capped`). Each round is one kernel pass
over the items still capped, with the budget-fitted settings of the whole curve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bufferwise.decide.risk import RiskModel
from bufferwise.decide.settings import DecideSettings
from bufferwise.decide.stance import least_cost_index, tie_tolerance
from bufferwise.kernels.inventory import (
    DEMAND_EMPIRICAL,
    POLICY_ORDER_UP_TO,
    SimulationInputs,
    prepare_inputs,
    resolve_seed,
    run_simulation_levels,
)

Progress = Callable[[str, int, int], None]


@dataclass
class Performance:
    """Simulated figures at given safety stocks, arrays [rows, levels].

    safety_stock [units]; mean_on_hand [units]; short_per_year [units]; fill_rate (type 2);
    stockout_periods_per_year; holding_cost, stockout_cost [money / year];
    fill_rate_se, total_cost_se  standard errors of the fill rate and of the annual holding +
    stockout cost across the kernel's independent replications (std / sqrt(replications)), as
    simulated (the curve's monotone smoothing does not touch them)
    """

    safety_stock: np.ndarray
    mean_on_hand: np.ndarray
    short_per_year: np.ndarray
    fill_rate: np.ndarray
    stockout_periods_per_year: np.ndarray
    holding_cost: np.ndarray
    stockout_cost: np.ndarray
    fill_rate_se: np.ndarray
    total_cost_se: np.ndarray

    @property
    def total_cost(self) -> np.ndarray:
        return self.holding_cost + self.stockout_cost


@dataclass
class LayerCurve:
    """The cost curve of one layer: `rows` (item indices) x grid levels."""

    layer: str
    rows: np.ndarray
    perf: Performance


@dataclass
class CostEngine:
    """Simulates any safety stocks of any layer with that layer's fixed random numbers."""

    risk: RiskModel
    settings: DecideSettings
    seed: int
    _inputs: dict[str, SimulationInputs] = field(default_factory=dict)
    evaluations: int = 0
    # per layer: (safety stocks [rows], their Performance) simulated with the layer's curve
    _presimulated: dict[str, tuple[np.ndarray, Performance]] = field(
        default_factory=dict, repr=False
    )
    # the normal layer's curve run as simulated (safety stocks [rows, K], Performance): the
    # disruption layer copies the rows it does not change (`_reusable_rows`)
    _normal_run: tuple[np.ndarray, Performance] | None = field(default=None, repr=False)
    # per layer: the grid's top [units] (`_upper`) of the risk model it was computed for
    _uppers: dict[str, tuple[RiskModel, np.ndarray]] = field(default_factory=dict, repr=False)
    # per layer, positions in its rows: how many times the grid was doubled (`_extend`), and
    # whether the least cost still lies at the top of the final grid (an item the layer prices)
    grid_rounds: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    grid_capped: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # item-periods simulated by grid extensions so far (bounded by grid_extension_share)
    extension_effort: float = 0.0

    def layer_seed(self, layer: str) -> int:
        """Kernel seed of a layer: the same for every layer, so that an item simulated in the
        same row of two layers sees the same demand and draws (common random numbers)."""
        return self.seed

    def periods(self, layer: str) -> tuple[int, int]:
        per_year = self.risk.periods_per_year
        years = self.settings.sim_years * (self.settings.rare_sim_factor if layer == "rare" else 1)
        warm = max(1, round(self.settings.warmup_days / self.risk.bucket_days))
        return warm + max(2, round(years * per_year)), warm

    def inputs(self, layer: str) -> SimulationInputs:
        if layer not in self._inputs:
            self._inputs[layer] = self._pack(layer, np.arange(self.risk.layer_rows[layer].size))
        return self._inputs[layer]

    def _pack(self, layer: str, positions: np.ndarray) -> SimulationInputs:
        """Kernel inputs of the layer's rows at `positions` (indices into its layer_rows)."""
        r = self.risk
        rows = r.layer_rows[layer][positions]
        leads = r.lead_time_periods(layer)
        out = r.outages[layer]
        p_start = 1.0 - np.exp(-out.rate_per_year[rows] * r.bucket_days / 365.0)
        days = out.lengths_days
        has_pool = np.fromiter((days[i].size > 0 for i in rows), dtype=bool, count=rows.size)
        empty = np.zeros(0)
        lengths = [empty] * rows.size
        for j in np.flatnonzero(has_pool):
            lengths[j] = np.maximum(np.round(days[rows[j]] / r.bucket_days), 1)
        every = rows.size == r.n_items and bool(np.array_equal(rows, np.arange(r.n_items)))
        return prepare_inputs(
            len(rows),
            policy=r.policy[rows],
            # all items in order: the risk model's pools as they are (`kernels.Pieces`: packed
            # from the one array they are pieces of, without a copy)
            lead_time_pool=leads if every else [leads[i] for i in rows],
            demand_pool=r.demand_pool if every else [r.demand_pool[i] for i in rows],
            demand_kind=DEMAND_EMPIRICAL,
            review_period=r.review_periods[rows],
            moq=r.moq[rows],
            order_multiple=r.order_multiple[rows],
            outage_start_prob=np.where(has_pool, np.minimum(p_start, 1.0), 0.0),
            outage_recovery_prob=1.0,
            outage_length_pool=lengths,
        )

    def _reusable_rows(self, levels: np.ndarray) -> np.ndarray:
        """Positions in the disruption layer whose simulation would repeat the normal layer's,
        draw for draw: no outage process, the same lead times in periods, the same levels in
        the same row (both layers hold every item in the same order and share the kernel's
        streams), and the normal run at hand. Empty when it is not."""
        r = self.risk
        done = self._normal_run
        rows = r.layer_rows["disruption"]
        if (
            done is None
            or not np.array_equal(rows, r.layer_rows["normal"])
            or done[0].shape != levels.shape
        ):
            return np.zeros(0, dtype=np.int64)
        out = r.outages["disruption"]
        calm = np.array(
            [not (out.rate_per_year[i] > 0 and out.lengths_days[i].size > 0) for i in rows]
        )
        lead_d, lead_n = r.lead_time_periods("disruption"), r.lead_time_periods("normal")
        same_lead = np.array(
            [lead_d[i] is lead_n[i] or np.array_equal(lead_d[i], lead_n[i]) for i in rows]
        )
        same_prot = r.protection_periods("disruption")[rows] == r.protection_periods("normal")[rows]
        same_levels = (levels == done[0]).all(axis=1)
        return np.flatnonzero(calm & same_lead & same_prot & same_levels)

    def release(self, layer: str) -> None:
        """Drop a layer's packed kernel inputs (rebuilt when the layer is evaluated again)."""
        self._inputs.pop(layer, None)
        self._presimulated.pop(layer, None)

    def levels(self, layer: str, rows: np.ndarray, safety_stock: np.ndarray) -> np.ndarray:
        """Kernel level (r or S) for a safety stock [units] per row."""
        r = self.risk
        prot = r.protection_periods(layer)[rows]
        return r.demand_mean[rows] * prot + safety_stock

    def evaluate(
        self, layer: str, safety_stock: np.ndarray, cycle_level: np.ndarray | None = None
    ) -> Performance:
        """Simulate the layer's items at safety stocks [rows, k] (or [rows]) -> Performance.

        cycle_level  [rows] the level below the safety stock (expected demand over the
                     protection interval); default this risk model's. A scenario passes the
                     policy's own (the levels in force do not adapt to a changed risk)."""
        rows = self.risk.layer_rows[layer]
        ss = np.asarray(safety_stock, dtype=float)
        if ss.ndim == 1:
            ss = ss[:, None]
        if ss.shape[0] != rows.size:
            raise ValueError(f"layer {layer}: {ss.shape[0]} rows of levels for {rows.size} items")
        done = self._presimulated.get(layer)
        if (
            done is not None
            and cycle_level is None
            and ss.shape[1] == 1
            and np.array_equal(done[0], ss[:, 0])
        ):
            # simulated along with the layer's curve: the same figures (every level of a
            # kernel pass equals a pass at that level alone)
            del self._presimulated[layer]
            self.evaluations += 1
            return done[1]
        return self._simulate(layer, ss, cycle_level)

    def _simulate(
        self,
        layer: str,
        ss: np.ndarray,
        cycle_level: np.ndarray | None = None,
        positions: np.ndarray | None = None,
    ) -> Performance:
        """`evaluate` of safety stocks [rows, k] by one kernel pass; `positions` (indices into
        the layer's rows) simulates only those rows, with the draws they get in the whole
        layer (`ss` and `cycle_level` then hold those rows only)."""
        r = self.risk
        rows = r.layer_rows[layer] if positions is None else r.layer_rows[layer][positions]
        k = ss.shape[1]
        shape = (rows.size, k)
        on_hand, short, fill, so, fill_se, cost_se = (np.zeros(shape) for _ in range(6))
        if rows.size and k:
            inp = self.inputs(layer) if positions is None else self._pack(layer, positions)
            periods, warm = self.periods(layer)
            q = r.order_quantity[rows]
            periodic = r.policy[rows] == POLICY_ORDER_UP_TO
            # Every level in one kernel pass over the layer's draws (common random numbers:
            # each level's figures are those of a run at that level alone, bit for bit).
            level = (
                np.column_stack([self.levels(layer, rows, ss[:, j]) for j in range(k)])
                if cycle_level is None
                else np.asarray(cycle_level, dtype=float)[:, None] + ss
            )
            target = np.where(periodic[:, None], level, q[:, None])
            results = run_simulation_levels(
                inp,
                level,
                target,
                periods=periods,
                warmup=warm,
                replications=self.settings.replications,
                seed=self.layer_seed(layer),
                streams=positions,
            )
            self.evaluations += k
            for j, res in enumerate(results):
                on_hand[:, j] = res.mean["mean_on_hand"]
                short[:, j] = res.mean["mean_short"]
                fill[:, j] = res.mean["fill_rate"]
                so[:, j] = res.mean["stockout_periods"] / (periods - warm)
                fill_se[:, j] = res.standard_error["fill_rate"]
                cost = res.per_replication["mean_on_hand"] * r.holding_per_year[
                    rows, None
                ] + res.per_replication["mean_short"] * (
                    r.periods_per_year * r.stockout_cost[rows, None]
                )
                reps = cost.shape[1]
                cost_se[:, j] = cost.std(axis=1, ddof=1) / np.sqrt(reps) if reps > 1 else np.nan
        per_year = r.periods_per_year
        short_y = short * per_year
        return Performance(
            safety_stock=ss,
            mean_on_hand=on_hand,
            short_per_year=short_y,
            fill_rate=fill,
            stockout_periods_per_year=so * per_year,
            holding_cost=on_hand * r.holding_per_year[rows, None],
            stockout_cost=short_y * r.stockout_cost[rows, None],
            fill_rate_se=fill_se,
            total_cost_se=cost_se,
        )

    def _upper(self, layer: str) -> np.ndarray:
        """Top of the grid [units] for every item (module docstring); computed once per layer
        (`grid` asks for the normal and disruption tops for both layers)."""
        r = self.risk
        cached = self._uppers.get(layer)
        if cached is not None and cached[0] is r:
            return cached[1]
        sigma = r.sigma_lead_time_demand(layer)
        upper = np.maximum(4.0 * sigma, r.demand_mean)
        out = r.outages[layer]
        p90 = np.zeros(r.n_items)
        for i in range(r.n_items):
            if out.lengths_days[i].size:
                p90[i] = np.quantile(out.lengths_days[i], 0.9)
        upper = upper + r.daily_demand() * p90
        if layer == "rare":
            upper = upper + r.daily_demand() * r.rare_outage_days
        self._uppers[layer] = (r, upper)
        return upper

    def grid(self, layer: str) -> np.ndarray:
        """Safety-stock grid [rows, G] of a layer (module docstring). The normal and disruption
        layers share one grid per item (the wider of the two), so that their covers and the
        chosen level are compared on the same levels."""
        rows = self.risk.layer_rows[layer]
        if layer in ("normal", "disruption"):
            upper = np.maximum(self._upper("normal"), self._upper("disruption"))
        else:
            upper = self._upper(layer)
        return upper[rows, None] * _frac(self.settings.grid_points)[None, :]

    def _run_curve(self, layer: str, levels: np.ndarray) -> Performance:
        """`_simulate` of a layer's curve levels [rows, K]; the disruption layer simulates only
        the items its risk changes and copies the others' figures from the normal layer's run
        (the same draws at the same levels: the same figures, bit for bit)."""
        if layer == "disruption":
            reuse = self._reusable_rows(levels)
            self._normal_run = None if not reuse.size else self._normal_run
            if reuse.size:
                assert self._normal_run is not None
                copied = self._normal_run[1]
                n = levels.shape[0]
                todo = np.setdiff1d(np.arange(n), reuse)
                fields = list(Performance.__dataclass_fields__)
                merged = {f: np.empty(levels.shape) for f in fields}
                for f in fields:
                    merged[f][reuse] = np.asarray(getattr(copied, f))[reuse]
                if todo.size:
                    part = self._simulate(layer, levels[todo], positions=todo)
                    for f in fields:
                        merged[f][todo] = np.asarray(getattr(part, f))
                self._normal_run = None
                return Performance(**merged)
        perf = self._simulate(layer, levels)
        if layer == "normal":
            self._normal_run = (levels.copy(), perf)
        return perf

    def _current_levels(self, layer: str) -> np.ndarray | None:
        """The current buffers [rows] that analysis prices in this layer (items whose whole
        risk it is, NaN as 0), simulated with the curve; None when there are none."""
        r = self.risk
        if r.current_safety_stock is None or layer not in ("normal", "disruption", "rare"):
            return None
        rows = r.layer_rows[layer]
        if not rows.size or not (r.full_layer[rows] == layer).any():
            return None
        return np.nan_to_num(np.asarray(r.current_safety_stock, dtype=float)[rows], nan=0.0)

    def _monotone(self, perf: Performance, rows: np.ndarray) -> Performance:
        """The curve made monotone along the grid (module docstring), costs recomputed; a new
        Performance (the simulated one may be shared with the disruption layer's reuse)."""
        r = self.risk
        on_hand = np.maximum.accumulate(perf.mean_on_hand, axis=1)
        short = np.minimum.accumulate(perf.short_per_year, axis=1)
        return Performance(
            safety_stock=perf.safety_stock,
            mean_on_hand=on_hand,
            short_per_year=short,
            fill_rate=np.maximum.accumulate(perf.fill_rate, axis=1),
            stockout_periods_per_year=np.minimum.accumulate(perf.stockout_periods_per_year, axis=1),
            holding_cost=on_hand * r.holding_per_year[rows, None],
            stockout_cost=short * r.stockout_cost[rows, None],
            fill_rate_se=perf.fill_rate_se,
            total_cost_se=perf.total_cost_se,
        )

    def _extend(self, layer: str, perf: Performance) -> Performance:
        """Grid extension of the layer's items whose least cost lies at their grid's top
        (module docstring): returns the curve with those rows simulated on the extended grids
        and records `grid_rounds` and `grid_capped` of the layer."""
        r, st = self.risk, self.settings
        rows = r.layer_rows[layer]
        g = perf.safety_stock.shape[1] if perf.safety_stock.ndim == 2 else 0
        rounds = np.zeros(rows.size, dtype=np.int64)
        if not rows.size or g < 2:
            self.grid_rounds[layer] = rounds
            self.grid_capped[layer] = np.zeros(rows.size, dtype=bool)
            return perf
        # the items this layer prices: their full layer; machine_free prices all its items
        mine = (
            np.ones(rows.size, dtype=bool)
            if layer == "machine_free"
            else (r.full_layer[rows] == layer)
        )
        top = perf.safety_stock[:, -1]
        capped = mine & (top > 0) & (least_cost_index(perf.total_cost, st) == g - 1)
        periods = self.periods(layer)[0]
        allowed = st.grid_extension_share * st.sim_budget
        fields = list(Performance.__dataclass_fields__)
        frac = _frac(g)
        arrays: dict[str, np.ndarray] | None = None
        for _ in range(st.grid_extensions):
            pos = np.flatnonzero(capped)
            if not pos.size:
                break
            effort = float(pos.size) * g * st.replications * periods
            if self.extension_effort + effort > allowed:
                break
            self.extension_effort += effort
            if arrays is None:
                arrays = {f: np.array(getattr(perf, f), dtype=float) for f in fields}
            levels = (arrays["safety_stock"][pos, -1] * 2.0)[:, None] * frac[None, :]
            part = self._monotone(self._simulate(layer, levels, positions=pos), rows[pos])
            for f in fields:
                arrays[f][pos] = np.asarray(getattr(part, f))
            rounds[pos] += 1
            capped[pos] = least_cost_index(part.total_cost, st) == g - 1
        self.grid_rounds[layer] = rounds
        self.grid_capped[layer] = capped
        return perf if arrays is None else Performance(**arrays)

    def curve(self, layer: str) -> LayerCurve:
        """The monotone cost curve of a layer on its grid.

        The current buffers of the layer's items (`RiskModel.current_safety_stock`) ride along
        as one more level of the same kernel pass; `evaluate` of exactly those safety stocks
        then returns their figures without simulating again."""
        grid = self.grid(layer)
        extra = self._current_levels(layer)
        levels = grid if extra is None else np.column_stack([grid, extra])
        both = self._run_curve(layer, levels)
        if extra is None:
            perf = both
        else:
            g = grid.shape[1]
            fields = list(Performance.__dataclass_fields__)
            self._presimulated[layer] = (
                extra,
                Performance(**{f: getattr(both, f)[:, g:].copy() for f in fields}),
            )
            perf = Performance(**{f: getattr(both, f)[:, :g].copy() for f in fields})
            self.evaluations -= 1  # counted when evaluated
        rows = self.risk.layer_rows[layer]
        perf = self._monotone(perf, rows)
        perf = self._extend(layer, perf)
        return LayerCurve(layer, rows, perf)


def _frac(g: int) -> np.ndarray:
    """Grid fractions of the top, (k / (G - 1))^1.5, k = 0 .. G - 1 (denser near zero)."""
    return (np.arange(g) / (g - 1)) ** 1.5


def least_cost_level(curve: LayerCurve, settings: DecideSettings) -> np.ndarray:
    """Per row of a curve: the smallest grid safety stock whose cost is within the tie
    tolerance of the least cost (`stance.tie_tolerance`)."""
    total = curve.perf.total_cost
    best = total.min(axis=1)
    tol = tie_tolerance(best, settings)
    ok = total <= (best + tol)[:, None]
    first = np.argmax(ok, axis=1)
    return curve.perf.safety_stock[np.arange(len(first)), first]


def engine_for(
    risk: RiskModel, settings: DecideSettings, seed: int | np.random.Generator | None
) -> CostEngine:
    """A CostEngine with a root seed from an int, a Generator (one draw) or None (fresh)."""
    return CostEngine(risk, settings, resolve_seed(seed) % (2**63 - 1))


__all__ = ["CostEngine", "LayerCurve", "Performance", "engine_for", "least_cost_level"]
