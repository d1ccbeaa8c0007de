"""Table-level sizing: one row per item and method, the contract other layers plug into.

``size_items(items, demand, ...)`` reads per-item parameters from a DataFrame, the demand history
from an aligned 2-D array, lead-time samples from an aligned list, and returns the levels and
their expected performance by the analytic, empirical and/or simulation method. docs/sizing.md,
"The table API", states the contract column by column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from bufferwise.errors import InvalidInput, Problem
from bufferwise.kernels.inventory import (
    DEMAND_EMPIRICAL,
    POLICY_ORDER_UP_TO,
    POLICY_REORDER_QUANTITY,
    prepare_inputs,
)
from bufferwise.sizing import analytic, empirical, loss, simulated
from bufferwise.sizing._validate import invalid

DAYS_PER_YEAR = 365.0
METHODS = ("analytic", "empirical", "simulation")
REQUIRED_COLUMNS = (
    "item_id",
    "unit_cost",
    "holding_rate",
    "stockout_cost",
    "nominal_lead_time_days",
    "review_period_days",
    "moq",
    "order_multiple",
    "order_cost",
)
OUTPUT_COLUMNS = (
    "item_id",
    "method",
    "policy",
    "service_type",
    "service_target",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "order_quantity",
    "expected_fill_rate",
    "expected_cycle_service",
    "mean_on_hand",
    "days_of_cover",
    "expected_holding_cost",
    "expected_stockout_cost",
    "ci_low",
    "ci_high",
)
EMPIRICAL_CHUNK_CELLS = 5_000_000
"""Samples held in memory at once by the empirical method (items x n_samples)."""
ANALYTIC_DISTRIBUTIONS = ("normal", "gamma", "poisson", "negative_binomial", "auto")
#: distribution="auto": lead-time demand with a mean of this many units or more is sized with
#: the normal family; below it, integer demand with the Poisson or negative binomial. From a mean
#: of 20 the normal's reorder levels are within one unit of the Poisson's up to a 99 % cycle
#: service (Poisson(20): 31, normal: 30.4), and its skewness 1 / sqrt(20) = 0.22 is small
AUTO_NORMAL_MIN_MEAN = 20.0
#: distribution="auto": integer demand whose lead-time-demand variance exceeds this multiple of
#: its mean is over-dispersed (negative binomial), else Poisson. The negative binomial tends to
#: the Poisson as the variance nears the mean (its n = mean² / (variance - mean) grows without
#: bound), and a 5 % excess is well inside the sampling error of a variance estimated from a
#: short history (about sqrt(2 / n): 14 % at n = 100 buckets)
AUTO_OVERDISPERSION_RATIO = 1.05


def _problem(row: int | None, column: str | None, value: object, expected: str) -> Problem:
    return Problem(
        file="items",
        row=row,
        column=column,
        value=None if value is None else str(value),
        expected=expected,
    )


def _validate_items(items: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in items.columns]
    if missing:
        raise InvalidInput(
            f"items: missing column(s) {', '.join(missing)} "
            f"(size_items needs {', '.join(REQUIRED_COLUMNS)})",
            [_problem(None, c, None, "is a required column") for c in missing],
        )
    problems: list[Problem] = []
    rules = {
        "unit_cost": (lambda v: v >= 0, "must be a number >= 0"),
        "holding_rate": (
            lambda v: v > 0,
            "must be a number > 0 (annual share of unit cost, e.g. 0.25)",
        ),
        "stockout_cost": (lambda v: v >= 0, "must be a number >= 0 (cost per unit short)"),
        "nominal_lead_time_days": (lambda v: v >= 0, "must be a number of days >= 0"),
        "review_period_days": (
            lambda v: v >= 0,
            "must be a number of days >= 0 (0 = continuous review)",
        ),
        "moq": (lambda v: v >= 0, "must be a number >= 0"),
        "order_multiple": (lambda v: v >= 0, "must be a number >= 0 (0 = none)"),
        "order_cost": (lambda v: v >= 0, "must be a number >= 0 (cost per order)"),
    }
    for column, (ok, expected) in rules.items():
        values = pd.to_numeric(items[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | ~ok(np.nan_to_num(values, nan=-1.0))
        for row in np.flatnonzero(bad)[:50]:
            problems.append(_problem(int(row) + 1, column, items[column].iloc[row], expected))
    if items["item_id"].duplicated().any():
        for row in np.flatnonzero(items["item_id"].duplicated().to_numpy())[:50]:
            problems.append(
                _problem(
                    int(row) + 1, "item_id", items["item_id"].iloc[row], "is a duplicate item_id"
                )
            )
    if problems:
        raise InvalidInput(
            f"items: {len(problems)} problem(s), first: {problems[0].message()}", problems
        )


def _column(items: pd.DataFrame, name: str, default: np.ndarray | float) -> np.ndarray:
    n = len(items)
    if name in items.columns:
        values = pd.to_numeric(items[name], errors="coerce").to_numpy(dtype=float)
        fallback = np.broadcast_to(np.asarray(default, dtype=float), (n,))
        return np.where(np.isfinite(values), values, fallback)
    return np.broadcast_to(np.asarray(default, dtype=float), (n,)).astype(float)


def _lead_time_rows(
    items: pd.DataFrame, samples: Sequence[np.ndarray | Sequence[float] | None] | None
) -> list[np.ndarray]:
    nominal = items["nominal_lead_time_days"].to_numpy(dtype=float)
    if samples is None:
        return [np.array([v]) for v in nominal]
    if len(samples) != len(items):
        raise invalid(
            "lead_time_samples_days",
            f"{len(samples)} rows",
            f"must have one entry per item ({len(items)})",
        )
    rows = []
    for i, s in enumerate(samples):
        arr = np.asarray([] if s is None else s, dtype=float).ravel()
        arr = arr[np.isfinite(arr)]
        if np.any(arr < 0):
            raise InvalidInput(
                f"lead_time_samples_days: item {items['item_id'].iloc[i]!r} "
                "has a negative lead time",
                [
                    _problem(
                        i + 1,
                        "lead_time_samples_days",
                        arr[arr < 0][0],
                        "lead times must be >= 0 days",
                    )
                ],
            )
        rows.append(arr if arr.size else np.array([nominal[i]]))
    return rows


def _history_rows(demand: np.ndarray, n: int) -> list[np.ndarray]:
    arr = np.asarray(demand, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise invalid(
            "demand", f"shape {arr.shape}", f"must be a 2-D array with one row per item ({n} rows)"
        )
    rows = []
    for i in range(n):
        row = arr[i][np.isfinite(arr[i])]
        if np.any(row < 0):
            raise InvalidInput(
                f"demand: row {i} has negative demand",
                [
                    _problem(
                        i + 1,
                        "demand",
                        row[row < 0][0],
                        "demand must be >= 0 (returns are separate)",
                    )
                ],
            )
        rows.append(row)
    return rows


def _cdf(distribution: str, x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    if distribution == "normal":
        return np.where(
            sd > 0, stats.norm.cdf(x, mean, np.where(sd > 0, sd, 1.0)), (x >= mean).astype(float)
        )
    if distribution == "poisson":
        return np.asarray(stats.poisson.cdf(x, mean))
    if distribution == "negative_binomial":
        n, p = loss.negative_binomial_parameters(mean, sd)
        return np.asarray(stats.nbinom.cdf(x, n, p))
    shape = (mean / sd) ** 2
    return np.asarray(stats.gamma.cdf(x, shape, scale=sd * sd / mean))


def _family(requested: str, mean: float, sd: float, integer_history: bool) -> str:
    if mean <= 0 or sd <= 0:
        return "normal"
    if requested != "auto":
        if requested == "negative_binomial" and sd * sd <= mean:
            return "poisson"
        return requested
    if mean >= AUTO_NORMAL_MIN_MEAN or not integer_history:
        return "normal"
    return "negative_binomial" if sd * sd > mean * AUTO_OVERDISPERSION_RATIO else "poisson"


def size_items(
    items: pd.DataFrame,
    demand: np.ndarray,
    *,
    bucket_days: float = 1.0,
    lead_time_samples_days: Sequence[np.ndarray | Sequence[float] | None] | None = None,
    method: str | Sequence[str] = "analytic",
    service_target: float | str = 0.95,
    service_type: str = "fill_rate",
    lost_sales: bool = False,
    distribution: str = "normal",
    n_samples: int = 10_000,
    periods: int = 730,
    warmup: int = 30,
    replications: int = 8,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Size every item's buffer by the chosen method(s); one output row per item and method.

    items        DataFrame, one row per item, columns REQUIRED_COLUMNS (unit_cost [money/unit],
                 holding_rate [share of unit cost per year], stockout_cost [money per unit short],
                 nominal_lead_time_days, review_period_days [days, 0 = continuous review],
                 moq and order_multiple [units], order_cost [money per order]); optional
                 overrides (NaN = not given): demand_mean, demand_sd [units per bucket],
                 lead_time_mean_days, lead_time_sd_days, service_target, outage_start_prob,
                 outage_recovery_prob [per bucket]
    demand       f8[n_items, n_buckets]: per-bucket demand history aligned with the rows of items
                 (NaN = no observation, e.g. before the item existed)
    bucket_days  [days] length of one demand bucket; every period below is one bucket
    lead_time_samples_days  one array of observed lead times [days] per item (None / empty =
                 nominal_lead_time_days); they feed the empirical and simulation methods and,
                 unless lead_time_mean_days / _sd_days are given, the analytic mean and sd
    method       'analytic' | 'empirical' | 'simulation', or a list of them
    service_target  share (e.g. 0.95), or 'cost_optimal' (cycle service level from the
                 stockout / holding cost ratio; then service_type is 'cycle_service')
    service_type 'fill_rate' (type 2) or 'cycle_service' (type 1)
    distribution analytic lead-time-demand family: 'normal', 'gamma', 'poisson',
                 'negative_binomial', or 'auto' (Poisson / negative binomial for slow integer
                 movers with mean lead-time demand below AUTO_NORMAL_MIN_MEAN = 20 units, the
                 negative binomial when the variance exceeds AUTO_OVERDISPERSION_RATIO = 1.05
                 times the mean; normal otherwise)
    n_samples    empirical Monte Carlo samples per item
    periods      simulated buckets counted per replication, after a warm-up of at least
                 ``warmup`` buckets and at least twice the longest lead time plus review period
    replications independent replications (>= 2) behind ci_low / ci_high at ``confidence``
    seed         int | numpy Generator | None
    Policy: review_period_days = 0 gives (r,Q) with Q = EOQ, raised to the MOQ and rounded up to
    the order multiple; > 0 gives (R,S) with R = review_period_days / bucket_days buckets
    (at least 1). Returns a DataFrame with OUTPUT_COLUMNS; costs are per year.
    """
    if not isinstance(items, pd.DataFrame):
        raise invalid("items", type(items).__name__, "must be a pandas DataFrame")
    methods = [method] if isinstance(method, str) else list(method)
    for m in methods:
        if m not in METHODS:
            raise invalid("method", m, f"must be one of {', '.join(METHODS)}")
    if service_type not in analytic.SERVICE_TYPES:
        raise invalid(
            "service_type", service_type, f"must be one of {', '.join(analytic.SERVICE_TYPES)}"
        )
    if distribution not in ANALYTIC_DISTRIBUTIONS:
        raise invalid(
            "distribution", distribution, f"must be one of {', '.join(ANALYTIC_DISTRIBUTIONS)}"
        )
    if not (bucket_days > 0):
        raise invalid("bucket_days", bucket_days, "must be > 0 days")
    _validate_items(items)
    n = len(items)
    items = items.reset_index(drop=True)
    history = _history_rows(demand, n)
    lead_rows_days = _lead_time_rows(items, lead_time_samples_days)
    rng = empirical.as_generator(seed)

    # per-bucket demand statistics (profile outputs override the history)
    hist_mean = np.array([r.mean() if r.size else 0.0 for r in history])
    hist_sd = np.array([r.std(ddof=1) if r.size > 1 else 0.0 for r in history])
    d = _column(items, "demand_mean", hist_mean)
    sd = _column(items, "demand_sd", hist_sd)
    lt_mean_days = _column(
        items, "lead_time_mean_days", np.array([r.mean() for r in lead_rows_days])
    )
    lt_sd_days = _column(
        items,
        "lead_time_sd_days",
        np.array([r.std(ddof=1) if r.size > 1 else 0.0 for r in lead_rows_days]),
    )
    lt_mean, lt_sd = lt_mean_days / bucket_days, lt_sd_days / bucket_days
    review_days = items["review_period_days"].to_numpy(dtype=float)
    periodic = review_days > 0
    review = np.where(periodic, np.maximum(1.0, np.round(review_days / bucket_days)), 0.0)
    buckets_per_year = DAYS_PER_YEAR / bucket_days
    annual_demand = d * buckets_per_year
    unit_cost = items["unit_cost"].to_numpy(dtype=float)
    holding_year = unit_cost * items["holding_rate"].to_numpy(dtype=float)
    stockout_cost = items["stockout_cost"].to_numpy(dtype=float)
    moq = items["moq"].to_numpy(dtype=float)
    multiple = items["order_multiple"].to_numpy(dtype=float)
    eoq = np.asarray(
        analytic.economic_order_quantity(
            items["order_cost"].to_numpy(dtype=float),
            annual_demand,
            np.where(holding_year > 0, holding_year, 1e-9),
        ),
        dtype=float,
    )
    base_q = np.where(periodic, d * review, np.maximum(eoq, 1.0))
    q = np.asarray(analytic.round_order_quantity(base_q, moq, multiple), dtype=float)
    q = np.where(q > 0, q, 1.0)

    if isinstance(service_target, str):
        if service_target != "cost_optimal":
            raise invalid(
                "service_target", service_target, "must be a share in (0, 1) or 'cost_optimal'"
            )
        service_type = "cycle_service"
        safe_d = np.where(annual_demand > 0, annual_demand, 1.0)
        target = np.asarray(
            analytic.cost_optimal_cycle_service_level(
                np.where(stockout_cost > 0, stockout_cost, 1e-9),
                np.where(holding_year > 0, holding_year, 1e-9),
                safe_d,
                q,
                lost_sales=lost_sales,
            ),
            dtype=float,
        )
    else:
        target = np.full(n, float(service_target))
    target = _column(items, "service_target", target)
    if np.any((target <= 0) | (target >= 1)):
        raise invalid(
            "service_target",
            target[(target <= 0) | (target >= 1)][:3],
            "must be strictly between 0 and 1",
        )

    no_demand = d <= 0
    protection = lt_mean + review
    mu_p, sigma_p = (
        np.asarray(v, dtype=float) for v in analytic.lead_time_demand(d, sd, protection, lt_sd)
    )
    daily = d / bucket_days
    policy_name = np.where(periodic, "R,S", "r,Q")
    frames = []
    for m in methods:
        if m == "analytic":
            out = _analytic_rows(
                d,
                sd,
                lt_mean,
                lt_sd,
                review,
                q,
                target,
                service_type,
                distribution,
                history,
                mu_p,
                sigma_p,
            )
        elif m == "empirical":
            out = _empirical_rows(
                history,
                lead_rows_days,
                bucket_days,
                review,
                q,
                target,
                service_type,
                n_samples,
                rng,
                d,
            )
        else:
            out = _simulation_rows(
                items,
                history,
                lead_rows_days,
                bucket_days,
                review,
                periodic,
                q,
                target,
                service_type,
                lost_sales,
                periods,
                warmup,
                replications,
                confidence,
                rng,
                mu_p,
                sigma_p,
                d,
                protection,
            )
        safety, reorder, up_to, fill, csl, on_hand, short_per_bucket, ci_low, ci_high = out
        # an item without demand holds no buffer and never orders
        if np.any(no_demand):
            for arr in (safety, reorder, on_hand, short_per_bucket):
                arr[no_demand] = 0.0
            up_to[no_demand] = np.where(periodic[no_demand], 0.0, q[no_demand])
            fill[no_demand] = 1.0
            csl[no_demand] = 1.0
        frame = pd.DataFrame(
            {
                "item_id": items["item_id"].to_numpy(),
                "method": m,
                "policy": policy_name,
                "service_type": service_type,
                "service_target": target,
                "safety_stock": safety,
                "reorder_point": reorder,
                "order_up_to": up_to,
                "order_quantity": q,
                "expected_fill_rate": fill,
                "expected_cycle_service": csl,
                "mean_on_hand": on_hand,
                "days_of_cover": np.where(
                    daily > 0, safety / np.where(daily > 0, daily, 1.0), np.nan
                ),
                "expected_holding_cost": on_hand * holding_year,
                "expected_stockout_cost": short_per_bucket * buckets_per_year * stockout_cost,
                "ci_low": ci_low,
                "ci_high": ci_high,
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)[list(OUTPUT_COLUMNS)]


Rows = tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]


def _cycle_demand(d: np.ndarray, review: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Demand per replenishment cycle, the fill-rate denominator: Q for continuous review,
    d R for periodic review (whatever the MOQ makes the order); 1 where there is no demand."""
    cycle = np.where(review > 0, d * review, q)
    return np.where(cycle > 0, cycle, 1.0)


def _cycle_shares(d: np.ndarray, review: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Replenishment cycles per bucket: 1/R for periodic review, d/Q for continuous review."""
    return np.where(review > 0, 1.0 / np.where(review > 0, review, 1.0), d / q)


def _analytic_rows(
    d: np.ndarray,
    sd: np.ndarray,
    lt_mean: np.ndarray,
    lt_sd: np.ndarray,
    review: np.ndarray,
    q: np.ndarray,
    target: np.ndarray,
    service_type: str,
    distribution: str,
    history: list[np.ndarray],
    mu_p: np.ndarray,
    sigma_p: np.ndarray,
) -> Rows:
    n = d.size
    cycle_q = _cycle_demand(d, review, q)
    level = np.empty(n)
    fill = np.empty(n)
    csl = np.empty(n)
    short = np.empty(n)
    is_normal = np.zeros(n, dtype=bool)
    normal = analytic.normal_policy_levels(
        d,
        sd,
        lt_mean,
        lt_sd,
        review_period=review,
        order_quantity=q,
        service_level=target,
        service_type=service_type,
    )
    for i in range(n):
        integer_history = bool(history[i].size and np.all(history[i] == np.round(history[i])))
        family = _family(distribution, float(mu_p[i]), float(sigma_p[i]), integer_history)
        if family == "normal":
            level[i] = normal.reorder_point[i]
            fill[i] = normal.expected_fill_rate[i]
            csl[i] = normal.expected_cycle_service[i]
            short[i] = normal.expected_short_per_cycle[i]
            is_normal[i] = True
            continue
        level[i] = float(
            analytic.reorder_point_for_distribution(
                family,
                mu_p[i],
                sigma_p[i],
                service_level=target[i],
                service_type=service_type,
                order_quantity=cycle_q[i],
            )
        )
        short[i] = float(analytic.distribution_loss(family, level[i], mu_p[i], sigma_p[i]))
        fill[i] = max(0.0, 1.0 - short[i] / cycle_q[i])
        csl[i] = float(_cdf(family, np.array(level[i]), np.array(mu_p[i]), np.array(sigma_p[i])))
    safety = level - mu_p
    up_to = np.where(review > 0, level, level + q)
    # normal: SS + Q/2 + Hadley-Whitin backorders; other families: E[(r - X)^+] + Q/2; the
    # cycle stock is half the order actually placed (the MOQ can make it exceed d R)
    on_hand = np.where(
        is_normal,
        normal.mean_on_hand + (q - normal.order_quantity) / 2.0,
        np.maximum(safety + short + q / 2.0, 0.0),
    )
    nan = np.full(n, np.nan)
    return safety, level, up_to, fill, csl, on_hand, short * _cycle_shares(d, review, q), nan, nan


def _empirical_rows(
    history: list[np.ndarray],
    lead_rows_days: list[np.ndarray],
    bucket_days: float,
    review: np.ndarray,
    q: np.ndarray,
    target: np.ndarray,
    service_type: str,
    n_samples: int,
    rng: np.random.Generator,
    d: np.ndarray,
) -> Rows:
    n = len(history)
    cycle_q = _cycle_demand(d, review, q)
    level, fill, csl, short, mean = (np.empty(n) for _ in range(5))
    has = np.array([h.size > 0 for h in history])
    level[~has], fill[~has], csl[~has], short[~has], mean[~has] = 0.0, 1.0, 1.0, 0.0, 0.0
    rows = np.flatnonzero(has)
    seed = int(rng.integers(0, 2**63 - 1))
    chunk = max(1, EMPIRICAL_CHUNK_CELLS // max(n_samples, 1))
    for start in range(0, rows.size, chunk):
        part = rows[start : start + chunk]
        samples = empirical.lead_time_demand_samples_many(
            [history[i] for i in part],
            [lead_rows_days[i] / bucket_days for i in part],
            review_period=review[part],
            n_samples=n_samples,
            seed=seed,
            item_offset=int(part[0]),
        )
        level[part] = empirical.reorder_levels_from_samples(
            samples,
            service_level=target[part],
            service_type=service_type,
            order_quantity=cycle_q[part],
        )
        perf = empirical.performance_from_samples_many(samples, level[part], cycle_q[part])
        fill[part] = perf["fill_rate"]
        csl[part] = perf["cycle_service_level"]
        short[part] = perf["expected_short_per_cycle"]
        mean[part] = perf["mean"]
    safety = level - mean
    up_to = np.where(review > 0, level, level + q)
    on_hand = np.maximum(safety + short + q / 2.0, 0.0)
    nan = np.full(n, np.nan)
    return safety, level, up_to, fill, csl, on_hand, short * _cycle_shares(d, review, q), nan, nan


def _simulation_rows(
    items: pd.DataFrame,
    history: list[np.ndarray],
    lead_rows_days: list[np.ndarray],
    bucket_days: float,
    review: np.ndarray,
    periodic: np.ndarray,
    q: np.ndarray,
    target: np.ndarray,
    service_type: str,
    lost_sales: bool,
    periods: int,
    warmup: int,
    replications: int,
    confidence: float,
    rng: np.random.Generator,
    mu_p: np.ndarray,
    sigma_p: np.ndarray,
    d: np.ndarray,
    protection: np.ndarray,
) -> Rows:
    n = len(history)
    if replications < 2:
        raise invalid("replications", replications, "must be >= 2 for confidence intervals")
    pools = [h if h.size else np.zeros(1) for h in history]
    leads = [np.round(r / bucket_days).astype(float) for r in lead_rows_days]
    longest = max(float(r.max()) for r in leads) + float(np.max(review, initial=0.0))
    run_warmup = max(int(warmup), int(np.ceil(2.0 * longest)))
    inputs = prepare_inputs(
        n,
        policy=np.where(periodic, POLICY_ORDER_UP_TO, POLICY_REORDER_QUANTITY),
        lead_time_pool=leads,
        demand_pool=pools,
        demand_kind=DEMAND_EMPIRICAL,
        review_period=np.maximum(review, 1).astype(np.int64),
        moq=items["moq"].to_numpy(dtype=float),
        order_multiple=items["order_multiple"].to_numpy(dtype=float),
        outage_start_prob=_column(items, "outage_start_prob", 0.0),
        outage_recovery_prob=_column(items, "outage_recovery_prob", 1.0),
    )
    guess = mu_p + sigma_p * 1.5
    spread = 3.0 * sigma_p + d + 1.0
    result = simulated.optimise_service_level(
        inputs,
        service_level=target,
        service_type=service_type,
        quantity=np.where(periodic, 0.0, q),
        lower=np.floor(guess - spread),
        upper=np.ceil(guess + spread),
        floor=np.where(periodic, 0.0, -q),
        periods=run_warmup + periods,
        warmup=run_warmup,
        replications=replications,
        lost_sales=lost_sales,
        seed=rng,
    )
    res = result.result
    level = result.level
    metric = "fill_rate" if service_type == "fill_rate" else "cycle_service_level"
    ci_low, ci_high = (np.clip(v, 0.0, 1.0) for v in res.confidence_interval(metric, confidence))
    safety = level - d * protection
    up_to = np.where(periodic, level, level + q)
    return (
        safety,
        level,
        up_to,
        res.mean["fill_rate"],
        res.mean["cycle_service_level"],
        res.mean["mean_on_hand"],
        res.mean["mean_short"],
        ci_low,
        ci_high,
    )


__all__ = ["METHODS", "OUTPUT_COLUMNS", "REQUIRED_COLUMNS", "size_items"]
