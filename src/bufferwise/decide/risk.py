"""The risk model of every item, in kernel units: what `cost_curve` simulates.

One `RiskModel` holds, aligned with the rows of items, the economics (unit cost, holding and
stockout cost), the replenishment policy (the kernel's (r,Q) or (R,S) with the item's review
period, order quantity, MOQ and order multiple), today's demand (the last `recent_days` of
history, bootstrapped per bucket) and four *risk layers*, each a lead-time pool plus an outage
process (docs/decide.md, "Cost model"):

    normal        demand variability + lead-time variability of the receipts that were not
                  disrupted (profile.flag_disrupted); no outages
    disruption    normal + the supplier's learned disruptions: each order is disrupted with
                  the supplier's measured share of disrupted receipts, and then arrives after
                  the item's median lead time plus the lateness of one of the supplier's
                  disrupted receipts (drawn); + the machine's outages for items whose
                  replenishment has no receipts to measure them (WIP items): stops of a
                  period or longer as an outage process, shorter ones as a one-period delay of
                  a share 1 - availability of the orders (`machine_outages`)
    rare          disruption + one rare long outage of the supplier every
                  `rare_outage_return_years` lasting max(the longest lateness of its disrupted
                  receipts, the item's lead time, `rare_outage_min_days`); only for
                  strategic-eligible items
    machine_free  normal with work orders on their promised lead time (no machine-caused
                  lateness) and no machine outage: what the item would need if its machine never
                  failed; only for items with an equipment outage process

Disruptions are drawn per order, as measured (a share of receipts, a lateness each), and not
as the profile's merged disruption *events*: overlapping late receipts merge into events that
span months while only a few orders in them were disrupted.
A made item's work orders already carry its machine's downtime in their real lead times, so the
machine outage process is added only where no receipts exist (no double counting).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from bufferwise.decide.costs import ITEM_STOCKOUT_MULTIPLE, criticality, stockout_costs_at
from bufferwise.decide.settings import DecideSettings
from bufferwise.equipment.item_risk import SupplyOutageProcess
from bufferwise.errors import InvalidInput
from bufferwise.kernels.inventory import POLICY_ORDER_UP_TO, POLICY_REORDER_QUANTITY, Pieces
from bufferwise.model.schema import ITEMS
from bufferwise.profile import BUCKET_DAYS, DemandMatrix
from bufferwise.profile.disruption import flag_disrupted
from bufferwise.profile.supply import receipt_facts
from bufferwise.sizing.analytic import economic_order_quantity, round_order_quantity

DAYS_PER_YEAR = 365.0
LAYERS: tuple[str, ...] = ("normal", "disruption", "rare", "machine_free")
_POOL_QUANTILES = (np.arange(16) + 0.5) / 16.0
MIXTURE_POOL = 400
#: lengths in the pool of two superposed outage processes (`Outages.plus`), shared out in
#: proportion to their rates (at least one each): four times the 16 lengths of an exponential
#: pool (`_exponential_pool`), so that a process holding most of the rate keeps every one of its
#: lengths, and one with a rate share down to 1/64 still has a length of its own
OUTAGE_MIX_POOL = 4 * _POOL_QUANTILES.size


@dataclass(frozen=True)
class Outages:
    """An outage process per item: rate per year and a pool of lengths [days]."""

    rate_per_year: np.ndarray
    lengths_days: list[np.ndarray]

    @staticmethod
    def none(n: int) -> Outages:
        return Outages(np.zeros(n), [np.zeros(0) for _ in range(n)])

    def plus(self, other: Outages) -> Outages:
        """Superpose two independent outage processes (rates add; lengths mix by rate)."""
        rates = self.rate_per_year + other.rate_per_year
        pools = []
        for i in range(len(rates)):
            a, b = self.lengths_days[i], other.lengths_days[i]
            ra, rb = self.rate_per_year[i], other.rate_per_year[i]
            if rb <= 0 or b.size == 0:
                pools.append(a)
            elif ra <= 0 or a.size == 0:
                pools.append(b)
            else:
                na = max(1, round(OUTAGE_MIX_POOL * ra / (ra + rb)))
                nb = max(1, OUTAGE_MIX_POOL - na)
                pools.append(np.concatenate([_cycled(a, na), _cycled(b, nb)]))
        return Outages(rates, pools)


@dataclass
class RiskModel:
    """Per-item inputs of the cost curves (arrays aligned with `item_ids`).

    bucket_days             [days] one simulated period
    unit_cost               [money / unit]; holding_per_year [money / unit / year]
    stockout_cost           [money / unit short]; stockout_derived: from criticality
    policy                  kernel POLICY_* code; review_periods [periods] (1 for (r,Q))
    order_quantity          [units] Q of (r,Q) (EOQ, MOQ, multiple); 0 for (R,S)
    demand_pool             per-period demand of the recent window [units / period]
    demand_mean, demand_sd  [units / period] of that window
    lead_time_days          per layer: one pool of lead times [days] per item
    outages                 per layer: the outage process
    layer_rows              per layer: the items it applies to (sorted indices)
    full_layer              the layer that is the item's whole risk (its stance is priced there)
    current_safety_stock    [units] the current buffer (NaN = not given); None = not known.
                            The cost engine simulates it along with the curves (cost_curve.py)
    """

    item_ids: np.ndarray
    bucket_days: float
    unit_cost: np.ndarray
    holding_per_year: np.ndarray
    stockout_cost: np.ndarray
    stockout_derived: np.ndarray
    criticality: np.ndarray
    supplier_id: np.ndarray
    machine_id: np.ndarray
    policy: np.ndarray
    review_periods: np.ndarray
    order_quantity: np.ndarray
    moq: np.ndarray
    order_multiple: np.ndarray
    demand_pool: list[np.ndarray]
    demand_mean: np.ndarray
    demand_sd: np.ndarray
    lead_time_days: dict[str, list[np.ndarray]]
    outages: dict[str, Outages]
    layer_rows: dict[str, np.ndarray]
    full_layer: np.ndarray
    strategic_eligible: np.ndarray
    rare_outage_days: np.ndarray
    lead_time_source: np.ndarray
    notes: list[str] = field(default_factory=list)
    current_safety_stock: np.ndarray | None = None
    _periods_cache: dict[str, list[np.ndarray]] = field(default_factory=dict, repr=False)
    # not an init field: a model made with dataclasses.replace starts with an empty one
    _stats_cache: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def periods_per_year(self) -> float:
        return DAYS_PER_YEAR / self.bucket_days

    def lead_time_periods(self, layer: str) -> list[np.ndarray]:
        """Lead-time pool of a layer in whole periods (>= 0)."""
        if layer not in self._periods_cache:
            pools = self.lead_time_days[layer]
            for other, cached in list(self._periods_cache.items()):
                if self.lead_time_days[other] is pools:  # layers that share one pool list
                    self._periods_cache[layer] = cached
                    return cached
            self._periods_cache[layer] = _whole_periods(pools, self.bucket_days)
        return self._periods_cache[layer]

    def lead_time_period_stats(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd with ddof 1; 0 for one value) of each item's lead-time pool [periods],
        computed once per layer."""
        if layer not in self._stats_cache:
            pools = self.lead_time_periods(layer)
            for other, stats in list(self._stats_cache.items()):
                if self.lead_time_periods(other) is pools:
                    self._stats_cache[layer] = stats
                    return stats
            mean, sd = pool_mean_sd(pools)
            self._stats_cache[layer] = (mean, sd)
        return self._stats_cache[layer]

    def protection_periods(self, layer: str = "normal") -> np.ndarray:
        """Mean lead time + review period [periods]: what a reorder level / order-up-to level
        covers besides the safety stock (docs/sizing.md, "one lead-time convention")."""
        mean_lt = self.lead_time_period_stats(layer)[0]
        review = np.where(self.policy == POLICY_ORDER_UP_TO, self.review_periods, 0)
        return mean_lt + review

    def sigma_lead_time_demand(self, layer: str = "normal") -> np.ndarray:
        """sqrt(P sigma_d² + d² sigma_L²) over the protection interval P [units]."""
        sd_l = self.lead_time_period_stats(layer)[1]
        p = self.protection_periods(layer)
        return np.sqrt(p * self.demand_sd**2 + self.demand_mean**2 * sd_l**2)

    def daily_demand(self) -> np.ndarray:
        """[units / day] of the recent window."""
        return self.demand_mean / self.bucket_days


def _whole_periods(pools: list[np.ndarray], bucket_days: float) -> list[np.ndarray]:
    """max(round(pool / bucket_days), 0) as int64 for every pool: float64 pools converted in one
    pass over their concatenation (the same elementwise figures) and split back into views."""
    if not pools or any(p.dtype != np.float64 or p.ndim != 1 for p in pools):
        return [np.maximum(np.round(p / bucket_days), 0).astype(np.int64) for p in pools]
    sizes = np.fromiter((p.size for p in pools), dtype=np.int64, count=len(pools))
    flat = _rounded_periods(np.concatenate(pools), float(bucket_days))
    return Pieces(flat, sizes)  # views of `flat`, which the packers take without a copy


@numba.njit(cache=True, nogil=True)
def _rounded_periods(days: np.ndarray, bucket_days: float) -> np.ndarray:  # pragma: no cover
    """np.maximum(np.round(days / bucket_days), 0).astype(np.int64) in one pass (np.round of
    whole numbers is np.rint: half to even), without numpy's three full-size temporaries
    (40 million values in the disruption layer at 100,000 items)."""
    out = np.empty(days.size, dtype=np.int64)
    for k in range(days.size):
        value = np.rint(days[k] / bucket_days)
        out[k] = np.int64(value) if value > 0.0 else 0
    return out


def pool_mean_sd(pools: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per pool: mean and sd (ddof 1; 0 for a pool of one value), bit for bit what numpy's
    mean() and std(ddof=1) of each pool give. Pools of one length are stacked and reduced along
    their rows together (numpy reduces each contiguous row as it reduces a 1-D array)."""
    n = len(pools)
    mean = np.zeros(n)
    sd = np.zeros(n)
    sizes = np.array([p.size for p in pools], dtype=np.int64)
    for size in np.unique(sizes):
        members = np.flatnonzero(sizes == size)
        if size == 0:
            mean[members] = np.nan
            continue
        if isinstance(pools, Pieces) and pools.intact():
            block = pools.gather(members, int(size))
        else:
            block = np.concatenate([pools[i] for i in members]).reshape(members.size, size)
        mean[members] = block.mean(axis=1)
        if size > 1:
            sd[members] = block.std(axis=1, ddof=1)
    return mean, sd


def _exponential_pool(mean_days: float) -> np.ndarray:
    """16 equally likely outage lengths [days] of an exponential with this mean."""
    return -mean_days * np.log1p(-_POOL_QUANTILES)


def machine_outages(
    item_ids: np.ndarray,
    equipment_risk: Mapping[str, SupplyOutageProcess] | None,
    bucket_days: float,
) -> tuple[Outages, np.ndarray]:
    """Per item, from its machine's `SupplyOutageProcess` (nothing when not given):

    - stops lasting at least one period on average: an outage process (rate per year,
      exponential lengths with the mean outage length);
    - shorter stops: a share 1 - availability of the orders is delayed by one period (a stop
      inside a period holds back what was due in it; the kernel has no partial periods).
    Returns (outages, delay_share)."""
    n = len(item_ids)
    out = Outages.none(n)
    delay = np.zeros(n)
    if not equipment_risk:
        return out, delay
    for i, item in enumerate(item_ids):
        proc = equipment_risk.get(str(item))
        if proc is None or not math.isfinite(proc.availability) or proc.availability >= 1.0:
            continue
        mean = proc.mean_outage_days
        if not math.isfinite(mean) or mean <= 0:
            continue
        if mean >= bucket_days:
            out.rate_per_year[i] = proc.outage_rate_per_year
            out.lengths_days[i] = _exponential_pool(mean)
        else:
            delay[i] = 1.0 - max(proc.availability, 0.0)
    return out, delay


def _policy(
    items: pd.DataFrame, d: np.ndarray, bucket_days: float, holding_rate: np.ndarray
) -> tuple[np.ndarray, ...]:
    """(policy code, review periods, order quantity, moq, order multiple, holding cost [money /
    unit / year]) per item; `holding_rate` [1 / year] resolved per item (costs.holding_rates).
    An empty review period, MOQ, order multiple or order cost takes the items table's default
    (model.schema: the value an import gives an empty cell)."""

    def col(name: str) -> np.ndarray:
        default = ITEMS.column(name).default
        assert isinstance(default, float), f"items.{name} has a number default"
        if name not in items.columns:
            return np.full(len(items), default)
        v = pd.to_numeric(items[name], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isfinite(v), v, default)

    review_days = col("review_period_days")
    periodic = review_days > 0
    review = np.where(periodic, np.maximum(1, np.round(review_days / bucket_days)), 1).astype(
        np.int64
    )
    unit = pd.to_numeric(items["unit_cost"], errors="coerce").to_numpy(dtype=float)
    h_year = unit * holding_rate
    annual = d * DAYS_PER_YEAR / bucket_days
    eoq = np.asarray(
        economic_order_quantity(col("order_cost"), annual, np.where(h_year > 0, h_year, 1e-9)),
        dtype=float,
    )
    moq, mult = col("moq"), col("order_multiple")
    q = np.asarray(round_order_quantity(np.maximum(eoq, 1.0), moq, mult), dtype=float)
    q = np.where(q > 0, q, 1.0)
    policy = np.where(periodic, POLICY_ORDER_UP_TO, POLICY_REORDER_QUANTITY).astype(np.int8)
    return policy, review, np.where(periodic, 0.0, q), moq, mult, h_year


def _priced(items: pd.DataFrame, column: str) -> np.ndarray:
    """items[column] as resolved by `costs.price_items` (a number on every row)."""
    v = (
        pd.to_numeric(items[column], errors="coerce").to_numpy(dtype=float)
        if column in items.columns
        else np.full(len(items), np.nan)
    )
    if not np.isfinite(v).all():
        raise InvalidInput(
            f"items: column {column} is not resolved on every row; the risk model reads the "
            "items as priced (decide.costs.price_items, as analyse resolves them)"
        )
    return v


def build_risk_model(
    items: pd.DataFrame,
    matrix: DemandMatrix,
    receipts: pd.DataFrame | None,
    equipment_risk: Mapping[str, SupplyOutageProcess] | None,
    settings: DecideSettings,
) -> RiskModel:
    """Risk model of every row of `items` (see module docstring), `items` as priced
    (`costs.price_items`, as `analyse` resolves them): holding_rate and
    ITEM_STOCKOUT_MULTIPLE given for every row."""
    st = settings
    bucket_days = float(BUCKET_DAYS[matrix.bucket])
    ids = items["item_id"].astype(str).to_numpy(dtype=object)
    n = len(ids)
    recent = max(1, round(st.recent_days / bucket_days))
    pools = _demand_pools(ids, matrix, recent)
    d, sd = pool_mean_sd(pools)
    holding = _priced(items, "holding_rate")
    policy, review, q, moq, mult, h_year = _policy(items, d, bucket_days, holding)
    b, derived = stockout_costs_at(items, _priced(items, ITEM_STOCKOUT_MULTIPLE))
    crit = criticality(items)
    supplier = (
        items["supplier_id"].astype(object).where(items["supplier_id"].notna(), "").astype(str)
        if "supplier_id" in items.columns
        else pd.Series([""] * n)
    ).to_numpy(dtype=object)
    machine = (
        items["machine_id"].astype(object).where(items["machine_id"].notna(), "").astype(str)
        if "machine_id" in items.columns
        else pd.Series([""] * n)
    ).to_numpy(dtype=object)
    nominal = pd.to_numeric(items["nominal_lead_time_days"], errors="coerce").to_numpy(float)
    nominal = np.where(np.isfinite(nominal), nominal, 0.0)

    normal, promised_pools, sources, suppliers_seen, share, lateness = _lead_time_pools(
        ids, supplier, nominal, receipts, matrix, st
    )
    disrupted_lt = _mixtures(normal, supplier, share, lateness)
    longest = np.array(
        [
            float(lateness[str(s)].max()) if str(s) in lateness and lateness[str(s)].size else 0.0
            for s in supplier
        ]
    )
    mach, delay = machine_outages(ids, equipment_risk, bucket_days)
    has_receipts = np.array([src.startswith("item") for src in sources])
    # the machine is simulated only where no receipts of the item already measure it
    disruption = Outages(
        np.where(has_receipts, 0.0, mach.rate_per_year),
        [np.zeros(0) if has_receipts[i] else mach.lengths_days[i] for i in range(n)],
    )
    for i in np.flatnonzero(~has_receipts & (delay > 0)):
        disrupted_lt[i] = _mixture(disrupted_lt[i], float(delay[i]), np.array([bucket_days]))
    measured_lt = pool_mean_sd(normal)[0]
    eligible = (
        np.isin(crit, list(st.strategic_criticality))
        & (np.maximum(nominal, measured_lt) >= st.strategic_min_lead_time_days)
        & (suppliers_seen <= 1)
        & (d > 0)
    )
    rare_days = np.maximum.reduce([longest, nominal, np.full(n, st.rare_outage_min_days)])
    rare_only = Outages(
        np.where(eligible, 1.0 / st.rare_outage_return_years, 0.0),
        [np.array([rare_days[i]]) if eligible[i] else np.zeros(0) for i in range(n)],
    )
    rare = disruption.plus(rare_only)
    has_machine = (mach.rate_per_year > 0) | (delay > 0)
    machine_free_lt = [
        promised_pools[i] if has_machine[i] and promised_pools[i].size else normal[i]
        for i in range(n)
    ]
    has_disruption = (disruption.rate_per_year > 0) | np.array(
        [disrupted_lt[i] is not normal[i] for i in range(n)]
    )
    full = np.where(eligible, "rare", np.where(has_disruption, "disruption", "normal"))
    rows = {
        "normal": np.arange(n),
        # every item, so that normal and disruption layers share each item's random numbers
        # (same row, same kernel streams): the two covers compared by the stance differ by
        # the risk, not by sampling noise
        "disruption": np.arange(n),
        "rare": np.flatnonzero(eligible),
        "machine_free": np.flatnonzero(has_machine),
    }
    notes = []
    if has_machine.any():
        notes.append(
            f"{int(has_machine.sum())} items carry their machine's outage process "
            f"({int((has_machine & ~has_receipts).sum())} without receipts simulate it directly)"
        )
    return RiskModel(
        item_ids=ids,
        bucket_days=bucket_days,
        unit_cost=pd.to_numeric(items["unit_cost"], errors="coerce").to_numpy(float),
        holding_per_year=h_year,
        stockout_cost=b,
        stockout_derived=derived,
        criticality=crit,
        supplier_id=supplier,
        machine_id=machine,
        policy=policy,
        review_periods=review,
        order_quantity=q,
        moq=moq,
        order_multiple=mult,
        demand_pool=pools,
        demand_mean=d,
        demand_sd=sd,
        lead_time_days={
            "normal": normal,
            "disruption": disrupted_lt,
            "rare": disrupted_lt,
            "machine_free": machine_free_lt,
        },
        outages={
            "normal": Outages.none(n),
            "disruption": disruption,
            "rare": rare,
            "machine_free": Outages.none(n),
        },
        layer_rows=rows,
        full_layer=full.astype(object),
        strategic_eligible=eligible,
        rare_outage_days=np.where(eligible, rare_days, 0.0),
        lead_time_source=np.array(sources, dtype=object),
        notes=notes,
        current_safety_stock=_current_safety_stock(items),
    )


def _current_safety_stock(items: pd.DataFrame) -> np.ndarray:
    """The current buffer [units] per item; NaN where not given or negative."""
    if "current_safety_stock" not in items.columns:
        return np.full(len(items), np.nan)
    v = pd.to_numeric(items["current_safety_stock"], errors="coerce").to_numpy(dtype=float)
    return np.where(v >= 0, v, np.nan)


def _demand_pools(ids: np.ndarray, matrix: DemandMatrix, recent: int) -> list[np.ndarray]:
    """Per item: its observed demand of the last `recent` buckets (zeros(1) when none).

    Rows with every bucket observed are views of one copied block (the values of boolean
    selection, without a copy per item)."""
    n = len(ids)
    pos = pd.Index([str(k) for k in matrix.item_ids]).get_indexer(pd.Index([str(x) for x in ids]))
    known = pos >= 0
    # rows and the recent columns picked in one indexing: one copy of the block itself
    block = np.ascontiguousarray(matrix.quantity[pos[known], -recent:])
    finite = np.isfinite(block)
    full = finite.all(axis=1)
    if known.all() and full.all() and block.shape[1]:
        # every item's recent window observed: the rows of the block, which the packers take
        # as they are
        return Pieces(block.reshape(-1), np.full(n, block.shape[1]))
    pools: list[np.ndarray] = [np.zeros(1)] * n
    for j, i in enumerate(np.flatnonzero(known)):
        row = block[j] if full[j] else block[j][finite[j]]
        pools[i] = row if row.size else np.zeros(1)
    return pools


def _medians(pools: list[np.ndarray]) -> np.ndarray:
    """np.median of every (non-empty) pool; pools of one length are stacked and reduced
    together (the same two middle values and the same (a + b) / 2)."""
    out = np.full(len(pools), np.nan)
    sizes = np.fromiter((p.size for p in pools), dtype=np.int64, count=len(pools))
    for size in np.unique(sizes):
        if size == 0:
            continue
        members = np.flatnonzero(sizes == size)
        out[members] = np.median(np.stack([pools[i] for i in members]), axis=1)
    return out


def _mixtures(
    normal: list[np.ndarray],
    supplier: np.ndarray,
    share: dict[str, float],
    lateness: dict[str, np.ndarray],
) -> list[np.ndarray]:
    """`_mixture` of every item with its supplier's share and lateness, the sorted lateness
    cycled once per supplier and the medians taken together."""
    n = len(normal)
    out = list(normal)
    late_of: dict[str, tuple[int, np.ndarray]] = {}
    todo = []
    for i in range(n):
        sup = str(supplier[i])
        sh = share.get(sup, 0.0)
        late = lateness.get(sup)
        if sh <= 0 or late is None or late.size == 0:
            continue
        if sup not in late_of:
            k = max(1, round(MIXTURE_POOL * sh))
            late_of[sup] = (k, _cycled(np.sort(late), k))
        todo.append(i)
    if not todo:
        return out
    base = _medians([normal[i] for i in todo])
    index: dict[tuple[int, int], np.ndarray] = {}
    for b, i in zip(base, todo, strict=True):
        k, late_k = late_of[str(supplier[i])]
        pool = normal[i]
        key = (pool.size, MIXTURE_POOL - k)
        if key not in index:
            index[key] = np.arange(MIXTURE_POOL - k) % pool.size
        out[i] = np.concatenate([pool[index[key]], float(b) + late_k])
    return out


def _mixture(normal: np.ndarray, share: float, lateness: np.ndarray | None) -> np.ndarray:
    """Lead-time pool [days] with disruptions: `share` of the draws are the median normal lead
    time plus a disrupted receipt's lateness, the rest normal draws (MIXTURE_POOL values)."""
    if share <= 0 or lateness is None or lateness.size == 0:
        return normal
    k = max(1, round(MIXTURE_POOL * share))
    base = float(np.median(normal))
    late = base + _cycled(np.sort(lateness), k)
    return np.concatenate([_cycled(normal, MIXTURE_POOL - k), late])


def _cycled(values: np.ndarray, size: int) -> np.ndarray:
    """`values` repeated cyclically (or cut) to `size` elements: np.resize of a non-empty 1-D
    array, without its Python-level overhead."""
    return values[np.arange(size) % values.size]


def _lead_time_pools(
    ids: np.ndarray,
    supplier: np.ndarray,
    nominal: np.ndarray,
    receipts: pd.DataFrame | None,
    matrix: DemandMatrix,
    st: DecideSettings,
) -> tuple[
    list[np.ndarray],
    list[np.ndarray],
    list[str],
    np.ndarray,
    dict[str, float],
    dict[str, np.ndarray],
]:
    """Per item: lead times [days] of its undisrupted receipts (recent window when it holds
    enough, else all; else its supplier's, scaled to the item's nominal lead time; else the
    nominal lead time), promised lead times (promised - ordered), where they came from and how
    many suppliers delivered it; per supplier: the share of its receipts that were disrupted
    and their lateness [days]."""
    n = len(ids)
    normal = [np.array([nominal[i]]) for i in range(n)]  # no receipts: the nominal lead time
    promised = [np.zeros(0) for _ in range(n)]
    sources = ["nominal"] * n
    suppliers_seen = np.zeros(n, dtype=np.int64)
    share: dict[str, float] = {}
    lateness: dict[str, np.ndarray] = {}
    if receipts is None or len(receipts) == 0:
        return normal, promised, sources, suppliers_seen, share, lateness
    facts = flag_disrupted(receipt_facts(receipts))
    facts = facts[np.isfinite(facts["lead_time_days"].to_numpy(dtype=float))]
    for s, g in facts.groupby("supplier_id"):
        dis = g["disrupted"].to_numpy(dtype=bool)
        share[str(s)] = float(dis.mean()) if len(g) else 0.0
        lateness[str(s)] = g["lateness_days"].to_numpy(dtype=float)[dis]
    if len(matrix.period_starts):
        end = pd.Timestamp(matrix.period_starts[-1])
    else:
        end = pd.Timestamp(facts["order_date"].max())
    cut = end - pd.Timedelta(days=st.recent_days)
    ok = ~facts["disrupted"].to_numpy(dtype=bool)
    clean = facts[ok]
    by_sup = {str(k): g["lead_time_days"].to_numpy(float) for k, g in clean.groupby("supplier_id")}
    seen = facts.groupby("item_id")["supplier_id"].nunique()
    seen.index = seen.index.astype(str)
    suppliers_seen[:] = seen.reindex([str(x) for x in ids]).fillna(0).to_numpy(dtype=np.int64)
    # each item's clean receipts in their table order, split into per-item arrays at once
    code = pd.Index([str(x) for x in ids]).get_indexer(clean["item_id"].astype(str).to_numpy())
    known = code >= 0
    code = code[known]
    lead = clean["lead_time_days"].to_numpy(float)[known]
    order_date = clean["order_date"].to_numpy(dtype="datetime64[ns]")[known]
    prom = (clean["promised_date"] - clean["order_date"]).dt.days.to_numpy(dtype=float)[known]
    is_recent = order_date >= np.asarray(cut.to_datetime64()).astype("datetime64[ns]")
    count_all = np.bincount(code, minlength=n)
    count_recent = np.bincount(code[is_recent], minlength=n)
    own = (count_all > 0) & (count_all >= st.min_item_receipts)
    use_recent = own & (count_recent >= st.min_recent_receipts)
    take = own[code] & (is_recent | ~use_recent[code])
    order = np.argsort(code[take], kind="stable")
    taken_code = code[take][order]
    bounds = np.searchsorted(taken_code, np.arange(n + 1))
    taken_lead = lead[take][order]
    taken_prom = prom[take][order]
    for i in np.flatnonzero(own):
        lo, hi = bounds[i], bounds[i + 1]
        normal[i] = taken_lead[lo:hi]
        sources[i] = "item_recent" if use_recent[i] else "item"
        p = taken_prom[lo:hi]
        promised[i] = p[np.isfinite(p)]
    for i in np.flatnonzero(~own):
        pool = by_sup.get(str(supplier[i]))
        if pool is not None and pool.size:
            # the supplier's spread, scaled to this item's own nominal lead time
            mean = float(pool.mean())
            normal[i] = pool * (nominal[i] / mean) if mean > 0 else np.array([nominal[i]])
            sources[i] = "supplier"
    return normal, promised, sources, suppliers_seen, share, lateness


def validate_items(items: pd.DataFrame) -> None:
    """The columns decide needs, with planner-readable errors."""
    need = ("item_id", "unit_cost", "nominal_lead_time_days")
    missing = [c for c in need if c not in items.columns]
    if missing:
        raise InvalidInput(f"items: missing column(s) {', '.join(missing)} (decide needs them)")
    if items["item_id"].astype(str).duplicated().any():
        dup = items["item_id"].astype(str)[items["item_id"].astype(str).duplicated()].iloc[0]
        raise InvalidInput(f"items: item_id {dup!r} appears more than once")
    unit = pd.to_numeric(items["unit_cost"], errors="coerce")
    if (~np.isfinite(unit) | (unit < 0)).any():
        row = int(np.flatnonzero(~np.isfinite(unit) | (unit < 0))[0]) + 1
        raise InvalidInput(f"items row {row}, column unit_cost: must be a number >= 0")


__all__ = [
    "LAYERS",
    "Outages",
    "RiskModel",
    "build_risk_model",
    "machine_outages",
    "pool_mean_sd",
]
