"""Decision quality: fit on the first part of a real history, replay on the rest.

`decision_quality(fit, test, lead_periods, unit_value, targets)` is the protocol of
docs/decision-quality.md. Every policy is an order-up-to (base-stock) level per item, reviewed
every period, with backorders, replayed on the real held-out demand in its order
(`replay_order_up_to`, warm start from the fitting window). For every target:

    calibrated  `sizing.calibrated_order_up_to` (portfolio allocation, rolling-origin
                calibration), set from the fitting window ONLY
    classic     the per-item normal formula S = P m + z s sqrt(P), m and s the mean and sd of
                past per-period demand, P = L + 1, z = Phi^-1(target)
    classic_eq  the same formula with z tuned ON THE TEST PERIOD to the calibrated policy's
                achieved aggregate fill (flatters it)
    uniform     one cover for all: S = k P m, k tuned ON THE TEST PERIOD to the calibrated
                policy's achieved aggregate fill (flatters it)
    jit         no safety stock: S = P m

The knobs of `classic_eq` and `uniform` see the test period, the calibrated levels never do.
Levels are rounded up to whole units when the fitting history is whole units.
Rows per (target, policy, demand class of the fitting window, and "all"): items, achieved unit
fill (units filled / units demanded), cycle service (mean over items of the share of periods
without a shortage), mean inventory value (sum over items of mean on hand x unit value),
stockout periods (sum), the policy's knob, ``value_to_uniform`` and ``reached`` (whether the
policy's tuned knob met its target within its bounds: the calibrated knob the target in its
inner replays, `CalibratedLevels.validation_reached`, False when it sits at its ceiling; the
test-tuned knobs of ``classic_eq`` and ``uniform`` the calibrated fill; None for ``classic``
and ``jit``, which tune no knob).

``value_to_uniform`` is the policy's inventory value over uniform cover's AT THE SAME FILL, so
it is given only where the fills are the same by construction: on the "all" rows of
`calibrated` (uniform cover is tuned to its fill), `classic_eq` (tuned to the same fill) and
`uniform` itself (1), and only when the tuned knobs reached that fill (k within
UNIFORM_K_BOUNDS, z within CLASSIC_Z_BOUNDS). Everywhere else it is NaN: `classic` and `jit`
deliver other fills, and within a demand class uniform cover's portfolio-wide k gives another
fill than the policy's (compare the classes' ``fill_rate`` and ``inventory_value`` directly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bufferwise.errors import InvalidInput
from bufferwise.simulate.replay import ReplayResult, replay_order_up_to
from bufferwise.sizing.calibrate import CalibratedLevels, calibrated_order_up_to
from bufferwise.sizing.pooled import demand_classes

POLICIES: tuple[str, ...] = ("calibrated", "classic", "classic_eq", "uniform", "jit")
#: the policies whose "all" row is at the calibrated policy's fill (their knob tuned to it, or
#: the calibrated policy itself): the only rows with a value_to_uniform
EQUAL_FILL_POLICIES: tuple[str, ...] = ("calibrated", "classic_eq", "uniform")
#: the range the classic formula's z is tuned in: Phi(-5) ~ 3e-7, below any fill a test asks;
#: 60 is far past any normal quantile, so a fill out of reach there is out of reach of the
#: formula (MAN tops out at 94.8 %, docs/decision-quality.md)
CLASSIC_Z_BOUNDS: tuple[float, float] = (-5.0, 60.0)
#: the range uniform cover's k (multiples of the demand over lead time + 1 period) is tuned in:
#: 0 = no stock; 500 periods of cover per period of exposure is past any sensible stock (MAN:
#: 301.7 M of inventory at k = 500 for 94.8 %)
UNIFORM_K_BOUNDS: tuple[float, float] = (0.0, 500.0)
#: bisection steps of a tuned knob: 40 halvings leave 65 / 2^40 ~ 6e-11 of z, far below what
#: moves a whole-unit level
TUNE_ITERATIONS = 40
#: slack when rounding a level up to whole units: floating-point noise (3.0000000001) does not
#: add a unit
WHOLE_UNIT_SLACK = 1e-9
#: an inventory value below this is none: uniform cover holding nothing gives no ratio
MIN_BASE_VALUE = 1e-9
QUALITY_COLUMNS: tuple[str, ...] = (
    "target",
    "policy",
    "demand_class",
    "items",
    "fill_rate",
    "cycle_service",
    "inventory_value",
    "stockout_periods",
    "knob",
    "value_to_uniform",
    "reached",
)


@dataclass
class DecisionQuality:
    """table: QUALITY_COLUMNS rows; levels: target -> policy -> order-up-to levels per item;
    expected_fill: target -> the calibrated policy's own model promise (for the record);
    calibration: target -> the full `CalibratedLevels` (knob, inner validation fills...)."""

    table: pd.DataFrame
    levels: dict[float, dict[str, np.ndarray]] = field(default_factory=dict)
    expected_fill: dict[float, float] = field(default_factory=dict)
    calibration: dict[float, CalibratedLevels] = field(default_factory=dict)


def _tune(
    make_levels: Callable[[float], np.ndarray],
    fill_of: Callable[[np.ndarray], float],
    target: float,
    lo: float,
    hi: float,
    iterations: int = TUNE_ITERATIONS,
) -> tuple[float, bool]:
    """Smallest knob in [lo, hi] whose levels reach `target` (bisection; fill is monotone)."""
    if fill_of(make_levels(hi)) < target:
        return hi, False
    if fill_of(make_levels(lo)) >= target:
        return lo, True
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if fill_of(make_levels(mid)) >= target:
            hi = mid
        else:
            lo = mid
    return hi, True


def decision_quality(
    fit: np.ndarray,
    test: np.ndarray,
    lead_periods: np.ndarray,
    unit_value: np.ndarray | None,
    targets: Sequence[float] = (0.90, 0.95, 0.98),
    *,
    sizing_options: dict[str, Any] | None = None,
) -> DecisionQuality:
    """Run the protocol (module docstring) on one data set.

    fit, test      (n_items, n_fit) and (n_items, n_test) demand per period [units], in time
                   order, the test period right after the fitting window; NaN = not observed
                   (replayed as no demand)
    lead_periods   (n_items,) whole periods L >= 0
    unit_value     (n_items,) value of a unit on hand (inventory value = on hand x value);
                   None = 1 (inventory in units)
    sizing_options extra keyword arguments of `calibrated_order_up_to`; by default its
                   validation_periods is min(test periods, fit periods // 4) (four recent
                   origins, weighted toward the latest) and its horizon is the test period's
                   length: the levels stay frozen that long, and the age model extrapolates
                   the inner replays' fill to it (the LENGTH of the test period is used,
                   never its demand; docs/decision-quality.md, "Tried in round 3")
    """
    f = np.asarray(fit, dtype=np.float64)
    t = np.asarray(test, dtype=np.float64)
    if f.ndim != 2 or t.ndim != 2 or f.shape[0] != t.shape[0]:
        raise InvalidInput(f"fit {f.shape} and test {t.shape} must be (items, periods) alike")
    n = f.shape[0]
    lead = np.asarray(lead_periods, dtype=np.float64).reshape(-1)
    value = np.ones(n) if unit_value is None else np.asarray(unit_value, float).reshape(-1)
    if lead.shape != (n,) or value.shape != (n,):
        raise InvalidInput(f"lead_periods and unit_value need one value per item ({n})")
    for target in targets:
        if not 0.0 < target < 1.0:
            raise InvalidInput(f"target must be a fill rate in (0, 1), got {target}")
    obs = ~np.isnan(f)
    x = np.where(obs, f, 0.0)
    integer = bool(np.all(x == np.round(x)))
    n_obs = np.maximum(obs.sum(axis=1), 1)
    mean = x.sum(axis=1) / n_obs
    sd = np.sqrt(
        np.maximum((x * x).sum(axis=1) / n_obs - mean**2, 0.0)
        * np.where(n_obs > 1, n_obs / np.maximum(n_obs - 1, 1), 1.0)
    )
    periods = lead + 1.0
    classes = demand_classes(f)
    warm = np.nan_to_num(f, nan=0.0)

    def rounded(s: np.ndarray) -> np.ndarray:
        s = np.maximum(s, 0.0)
        return np.ceil(s - WHOLE_UNIT_SLACK) if integer else s

    def run(s: np.ndarray) -> ReplayResult:
        return replay_order_up_to(t, s, lead, warm_start=warm)

    def uniform(k: float) -> np.ndarray:
        return rounded(k * periods * mean)

    def classic(z: float) -> np.ndarray:
        return rounded(periods * mean + z * sd * np.sqrt(periods))

    def agg(s: np.ndarray) -> float:
        return run(s).aggregate_fill_rate()

    options: dict[str, Any] = {
        "validation_periods": max(min(t.shape[1], f.shape[1] // 4), 1),
        "horizon": t.shape[1],
    }
    options.update(sizing_options or {})
    out = DecisionQuality(table=pd.DataFrame(columns=list(QUALITY_COLUMNS)))
    rows: list[dict[str, object]] = []
    for target in targets:
        cal = calibrated_order_up_to(f, lead, unit_value, float(target), **options)
        s_cal = cal.order_up_to
        achieved = agg(s_cal)
        z = float(stats.norm.ppf(target))
        z_eq, z_ok = _tune(classic, agg, achieved, *CLASSIC_Z_BOUNDS)
        k_eq, k_ok = _tune(uniform, agg, achieved, *UNIFORM_K_BOUNDS)
        levels = {
            "calibrated": s_cal,
            "classic": classic(z),
            "classic_eq": classic(z_eq),
            "uniform": uniform(k_eq),
            "jit": rounded(periods * mean),
        }
        knobs = {
            "calibrated": cal.knob,
            "classic": z,
            "classic_eq": z_eq,
            "uniform": k_eq,
            "jit": 0.0,
        }
        tuned = {"classic_eq": z_ok, "uniform": k_ok}
        # the policies at the calibrated fill on their "all" row (module docstring)
        equal_fill = {name for name in EQUAL_FILL_POLICIES if k_ok and tuned.get(name, True)}
        # `reached`: the policy's tuned knob met its target within the knob's bounds (the
        # calibrated knob the target in the age-corrected inner replays, not at its ceiling;
        # classic_eq's z and uniform's k the calibrated fill); None for the policies that
        # tune no knob to a target (classic: z = Phi^-1(target) as given, jit: no knob)
        reached: dict[str, bool | None] = {
            "calibrated": bool(cal.validation_reached),
            **tuned,
            "classic": None,
            "jit": None,
        }
        out.levels[float(target)] = levels
        out.expected_fill[float(target)] = cal.expected_fill
        out.calibration[float(target)] = cal
        results = {name: run(s) for name, s in levels.items()}
        uniform_value = {
            cls: float((results["uniform"].mean_on_hand * value)[sel].sum())
            for cls, sel in _groups(classes)
        }
        for name in POLICIES:
            rep = results[name]
            for cls, sel in _groups(classes):
                inv = float((rep.mean_on_hand * value)[sel].sum())
                base = uniform_value[cls]
                comparable = cls == "all" and name in equal_fill and base > MIN_BASE_VALUE
                rows.append(
                    {
                        "target": float(target),
                        "policy": name,
                        "demand_class": cls,
                        "items": int(sel.sum()),
                        "fill_rate": rep.aggregate_fill_rate(sel),
                        "cycle_service": float(rep.cycle_service[sel].mean()),
                        "inventory_value": inv,
                        "stockout_periods": float(rep.stockout_periods[sel].sum()),
                        "knob": knobs[name],
                        "value_to_uniform": inv / base if comparable else np.nan,
                        "reached": reached[name],
                    }
                )
    out.table = pd.DataFrame(rows, columns=list(QUALITY_COLUMNS))
    return out


def _groups(classes: np.ndarray) -> list[tuple[str, np.ndarray]]:
    groups = [("all", np.ones(classes.shape, dtype=bool))]
    for cls in sorted({str(c) for c in classes}):
        groups.append((cls, classes == cls))
    return groups


__all__ = [
    "CLASSIC_Z_BOUNDS",
    "EQUAL_FILL_POLICIES",
    "POLICIES",
    "QUALITY_COLUMNS",
    "UNIFORM_K_BOUNDS",
    "DecisionQuality",
    "decision_quality",
]
