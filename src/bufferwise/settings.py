"""One settings file (TOML) for a plant: service targets, costs, buckets, OEE conventions,
simulation and review settings, with per-group overrides.

Every key is documented in docs/settings.md. Unknown keys and bad values raise `SettingsError`
naming the file and the key, e.g. `bufferwise.toml: [sizing] service_target = 1.5: expected a
share between 0.5 and 0.9999`.

    [sizing]
    service_target = 0.95          # fill rate (type 2) target, or "cost_optimal"
    [[overrides]]                  # later entries win over earlier ones
    match = { category = "spare" }
    service_target = 0.98
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bufferwise.decide.costs import DEFAULT_HOLDING_RATE, DEFAULT_STOCKOUT_MULTIPLE
from bufferwise.decide.settings import DecideSettings, DiagnoseSettings
from bufferwise.equipment.constants import (
    DEFAULT_MIN_AVAILABILITY,
    DEFAULT_MIN_MTBF_CYCLES,
    DEFAULT_TARGET_LINE_EFFICIENCY,
    check_readiness_thresholds,
)
from bufferwise.equipment.conventions import (
    DEFAULT_MICRO_STOP_THRESHOLD_S,
    OeeConventions,
    TimeTreatment,
)
from bufferwise.equipment.readiness import ReadinessCriteria
from bufferwise.errors import InvalidInput, SettingsError
from bufferwise.sizing.analytic import MAX_SERVICE_LEVEL, MIN_SERVICE_LEVEL

BUCKETS = ("day", "week", "month")
SERVICE_TYPES = ("fill_rate", "cycle_service")
SIZING_METHODS = ("analytic", "empirical", "simulation")
TREATMENTS = ("availability_loss", "not_planned")
OVERRIDE_MATCH_KEYS = ("category", "supplier_id", "criticality", "item_id", "machine_id")
OVERRIDABLE = ("service_target", "holding_rate", "stockout_cost_multiple")


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    bucket: str = "week"  # demand bucket for profiles and sizing
    forecast: bool = True  # fit class-chosen forecast models and measure their error
    # analyze forecasts at most this many items (an evenly spaced sample of larger plants; 0 = all)
    forecast_max_items: int = 10_000


@dataclass(frozen=True, slots=True)
class SizingSettings:
    service_target: float | str = 0.95  # share, or "cost_optimal"
    service_type: str = "fill_rate"  # "fill_rate" (type 2) or "cycle_service" (type 1)
    methods: tuple[str, ...] = ("analytic", "empirical", "simulation")
    lost_sales: bool = False  # False: unmet demand is backordered


@dataclass(frozen=True, slots=True)
class CostSettings:
    # [1/year] for items whose holding_rate is empty (default, reason: bufferwise.decide.costs)
    default_holding_rate: float = DEFAULT_HOLDING_RATE
    # stockout cost per unit short as a multiple of unit cost, when items.stockout_cost is empty
    # (defaults and their rationale: bufferwise.decide.costs)
    stockout_cost_multiple: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_STOCKOUT_MULTIPLE)
    )


#: [equipment] small_buffer_hours: the largest "small" buffer is one replenishment cycle
SMALL_BUFFER_ONE_CYCLE = "replenishment_cycle"


@dataclass(frozen=True, slots=True)
class EquipmentSettings:
    """OEE conventions and JIT-readiness thresholds (defaults and their reasons:
    bufferwise.equipment.conventions and bufferwise.equipment.constants)."""

    setup: TimeTreatment = "availability_loss"
    idle: TimeTreatment = "not_planned"
    starved_blocked: TimeTreatment = "availability_loss"
    micro_stop_threshold_s: float = DEFAULT_MICRO_STOP_THRESHOLD_S
    target_line_efficiency: float = DEFAULT_TARGET_LINE_EFFICIENCY
    min_availability: float = DEFAULT_MIN_AVAILABILITY  # below it no buffer makes a JIT link
    min_mtbf_cycles: float = DEFAULT_MIN_MTBF_CYCLES  # MTBF in replenishment cycles for "ready"
    # largest coverage buffer still "small" [h of consumption], or one replenishment cycle
    small_buffer_hours: float | str = SMALL_BUFFER_ONE_CYCLE

    def conventions(self) -> OeeConventions:
        """The OEE conventions these settings give."""
        return OeeConventions(
            setup=self.setup,
            idle=self.idle,
            starved_blocked=self.starved_blocked,
            micro_stop_threshold_s=self.micro_stop_threshold_s,
        )

    def readiness_criteria(self) -> ReadinessCriteria:
        """The JIT-readiness thresholds these settings give."""
        small = self.small_buffer_hours
        return ReadinessCriteria(
            target_line_efficiency=self.target_line_efficiency,
            min_mtbf_cycles=self.min_mtbf_cycles,
            small_buffer_hours=None if small == SMALL_BUFFER_ONE_CYCLE else float(small),
            min_availability=self.min_availability,
        )


@dataclass(frozen=True, slots=True)
class SimulationSettings:
    replications: int = 8  # replications of `bufferwise size --method simulation`
    periods: int = 730  # simulated buckets per replication
    seed: int = 20261127


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    horizon_days: int = 365  # a buffer older than this is due for review
    tolerance: float = 0.2  # relative change of the recommended level that needs a review


@dataclass(frozen=True, slots=True)
class Override:
    match: dict[str, str]
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settings:
    profile: ProfileSettings = ProfileSettings()
    sizing: SizingSettings = SizingSettings()
    costs: CostSettings = CostSettings()
    equipment: EquipmentSettings = EquipmentSettings()
    simulation: SimulationSettings = SimulationSettings()
    review: ReviewSettings = ReviewSettings()
    decide: DecideSettings = field(default_factory=DecideSettings)
    overrides: tuple[Override, ...] = ()
    source: str = "defaults"

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for run records and the report)."""
        out = dataclasses.asdict(self)
        out["overrides"] = [dataclasses.asdict(o) for o in self.overrides]
        return out


def _domain_section(source: str, name: str, cls: type, values: dict[str, Any], base: Any) -> Any:
    """A section whose keys are the fields of a domain settings dataclass ([decide] ->
    DecideSettings, [diagnose] -> DiagnoseSettings): unknown keys and values the dataclass
    refuses are errors naming the key."""
    # [review] horizon_days is the one key for the review horizon; [decide] has no [diagnose].
    hidden = {"diagnose", "review_horizon_days"}
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in hidden}
    for key, value in values.items():
        if key not in fields:
            expected = ", ".join(sorted(fields))
            raise SettingsError(
                f"{source}: unknown key [{name}] {key} (expected one of {expected})"
            )
        current = getattr(base, key)
        if (
            isinstance(current, bool) != isinstance(value, bool)
            or (isinstance(current, int | float) and not isinstance(value, int | float))
            or (isinstance(current, str) and not isinstance(value, str))
        ):
            raise _err(source, f"[{name}] {key}", value, f"a value like {current!r}")
        if isinstance(current, tuple):
            if not isinstance(value, list):
                raise _err(source, f"[{name}] {key}", value, f"a list like {list(current)!r}")
            values[key] = tuple(value)
    try:
        return dataclasses.replace(base, **values)
    except (InvalidInput, TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: [{name}]: {exc}") from None


SECTIONS: dict[str, type] = {
    "profile": ProfileSettings,
    "sizing": SizingSettings,
    "costs": CostSettings,
    "equipment": EquipmentSettings,
    "simulation": SimulationSettings,
    "review": ReviewSettings,
}


def _err(source: str, key: str, value: Any, expected: str) -> SettingsError:
    return SettingsError(f"{source}: {key} = {value!r}: expected {expected}")


def _number(
    source: str, key: str, value: Any, lo: float, hi: float, *, integer: bool = False
) -> float:
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type or not (lo <= value <= hi):
        kind = "a whole number" if integer else "a number"
        raise _err(source, key, value, f"{kind} between {lo:g} and {hi:g}")
    return value


def _one_of(options: tuple[str, ...]) -> Callable[[str, str, Any], Any]:
    def check(source: str, key: str, value: Any) -> Any:
        if value not in options:
            raise _err(source, key, value, "one of " + ", ".join(options))
        return value

    return check


def _boolean(source: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _err(source, key, value, "true or false")
    return value


def _between(lo: float, hi: float, *, integer: bool = False) -> Callable[[str, str, Any], Any]:
    return lambda source, key, value: _number(source, key, value, lo, hi, integer=integer)


def _readiness(name: str) -> Callable[[str, str, Any], Any]:
    """[equipment] `name`, a JIT-readiness threshold, checked as `ReadinessCriteria` checks it
    (equipment.constants.check_readiness_thresholds; small_buffer_hours may also be
    SMALL_BUFFER_ONE_CYCLE)."""

    def check(source: str, key: str, value: Any) -> Any:
        thresholds: dict[str, Any] = {
            f.name: getattr(_DEFAULT_CRITERIA, f.name)
            for f in dataclasses.fields(ReadinessCriteria)
        }
        thresholds[name] = (
            None if name == "small_buffer_hours" and value == SMALL_BUFFER_ONE_CYCLE else value
        )
        problems = check_readiness_thresholds(**thresholds, one_cycle=f'"{SMALL_BUFFER_ONE_CYCLE}"')
        if problems:
            raise _err(source, key, value, problems[0].rsplit(": expected ", 1)[1])
        return value

    return check


_DEFAULT_CRITERIA = ReadinessCriteria()


def _methods(source: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(m not in SIZING_METHODS for m in value):
        raise _err(source, key, value, "a non-empty list of " + ", ".join(SIZING_METHODS))
    return tuple(value)


def _multiples(source: str, key: str, value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _err(source, key, value, "a table criticality = multiple of unit cost")
    merged = dict(CostSettings().stockout_cost_multiple)
    for level, mult in value.items():
        if level not in merged:
            raise _err(source, f"{key}.{level}", mult, "a criticality: " + ", ".join(merged))
        merged[level] = float(_number(source, f"{key}.{level}", mult, 0.0, 1e6))
    return merged


#: (section, key) -> check(source, "[section] key", value) returning the value to keep
CHECKS: dict[tuple[str, str], Callable[[str, str, Any], Any]] = {
    ("profile", "bucket"): _one_of(BUCKETS),
    ("profile", "forecast"): _boolean,
    ("profile", "forecast_max_items"): _between(0, 10**9, integer=True),
    ("sizing", "service_target"): lambda source, key, value: _check_target(source, key, value),
    ("sizing", "service_type"): _one_of(SERVICE_TYPES),
    ("sizing", "methods"): _methods,
    ("sizing", "lost_sales"): _boolean,
    ("costs", "default_holding_rate"): _between(0.0, 5.0),
    ("costs", "stockout_cost_multiple"): _multiples,
    ("equipment", "setup"): _one_of(TREATMENTS),
    ("equipment", "idle"): _one_of(TREATMENTS),
    ("equipment", "starved_blocked"): _one_of(TREATMENTS),
    ("equipment", "micro_stop_threshold_s"): _between(0.0, 86400.0),
    ("equipment", "target_line_efficiency"): _readiness("target_line_efficiency"),
    ("equipment", "min_availability"): _readiness("min_availability"),
    ("equipment", "min_mtbf_cycles"): _readiness("min_mtbf_cycles"),
    ("equipment", "small_buffer_hours"): _readiness("small_buffer_hours"),
    ("simulation", "replications"): _between(1, 10_000, integer=True),
    ("simulation", "periods"): _between(10, 100_000, integer=True),
    ("simulation", "seed"): _between(0, 2**63 - 1, integer=True),
    ("review", "horizon_days"): _between(1, 36_500, integer=True),
    ("review", "tolerance"): _between(0.0, 10.0),
}


def _check_section(source: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Validate one section's values; return them converted to the dataclass field types."""
    return {key: CHECKS[(name, key)](source, f"[{name}] {key}", v) for key, v in values.items()}


def _check_target(source: str, key: str, value: Any) -> float | str:
    if value == "cost_optimal":
        return value
    if not _is_service_level(value):
        raise _err(source, key, value, f'{_SERVICE_LEVEL_RANGE}, or "cost_optimal"')
    return value


#: what a service target must be (sizing.analytic: MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL)
_SERVICE_LEVEL_RANGE = f"a share between {MIN_SERVICE_LEVEL:g} and {MAX_SERVICE_LEVEL:g}"


def _is_service_level(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and MIN_SERVICE_LEVEL <= value <= MAX_SERVICE_LEVEL
    )


def _check_override(source: str, index: int, entry: Any) -> Override:
    where = f"[[overrides]] #{index + 1}"
    if not isinstance(entry, dict):
        raise _err(source, where, entry, "a table")
    match = entry.get("match")
    if not isinstance(match, dict) or not match:
        raise _err(source, f"{where} match", match, 'a table such as { category = "spare" }')
    for k, v in match.items():
        if k not in OVERRIDE_MATCH_KEYS:
            raise _err(
                source, f"{where} match.{k}", v, "a match key: " + ", ".join(OVERRIDE_MATCH_KEYS)
            )
        if not isinstance(v, str):
            raise _err(source, f"{where} match.{k}", v, "a text value")
    values = {k: v for k, v in entry.items() if k != "match"}
    if not values:
        raise _err(
            source, where, entry, "at least one setting to override: " + ", ".join(OVERRIDABLE)
        )
    for k, v in values.items():
        key = f"{where} {k}"
        if k == "service_target":
            if not _is_service_level(v):
                raise _err(source, key, v, _SERVICE_LEVEL_RANGE)
        elif k == "holding_rate":
            _number(source, key, v, 0.0, 5.0)
        elif k == "stockout_cost_multiple":
            _number(source, key, v, 0.0, 1e6)
        else:
            raise _err(source, key, v, "an overridable setting: " + ", ".join(OVERRIDABLE))
    return Override(match={k: str(v) for k, v in match.items()}, values=values)


def parse_settings(data: dict[str, Any], source: str = "settings") -> Settings:
    """Build Settings from parsed TOML; unknown sections / keys and bad values are errors."""
    kwargs: dict[str, Any] = {"source": source}
    decide = DecideSettings()
    for section in ("decide", "diagnose"):
        values = data.get(section)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise _err(source, section, values, "a table")
        if section == "decide":
            decide = _domain_section(source, "decide", DecideSettings, dict(values), decide)
        else:
            diag = _domain_section(
                source, "diagnose", DiagnoseSettings, dict(values), decide.diagnose
            )
            decide = dataclasses.replace(decide, diagnose=diag)
    for section, values in data.items():
        if section in ("decide", "diagnose"):
            continue
        if section == "overrides":
            if not isinstance(values, list):
                raise _err(source, "overrides", values, "an array of tables ([[overrides]])")
            kwargs["overrides"] = tuple(_check_override(source, i, e) for i, e in enumerate(values))
            continue
        cls = SECTIONS.get(section)
        if cls is None:
            raise SettingsError(
                f"{source}: unknown section [{section}] (expected one of "
                f"{', '.join([*SECTIONS, 'decide', 'diagnose', 'overrides'])})"
            )
        if not isinstance(values, dict):
            raise _err(source, section, values, "a table")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                expected = ", ".join(sorted(known))
                raise SettingsError(
                    f"{source}: unknown key [{section}] {key} (expected one of {expected})"
                )
        kwargs[section] = cls(**_check_section(source, section, values))
    review = kwargs.get("review", ReviewSettings())
    diagnose = dataclasses.replace(decide.diagnose, review_horizon_days=review.horizon_days)
    if "machine_availability" not in (data.get("diagnose") or {}):
        # the hidden-loss bar is the JIT-readiness bar unless [diagnose] sets its own
        equipment = kwargs.get("equipment", EquipmentSettings())
        diagnose = dataclasses.replace(
            diagnose, machine_availability=float(equipment.min_availability)
        )
    kwargs["decide"] = dataclasses.replace(decide, diagnose=diagnose)
    return Settings(**kwargs)


def load_settings(path: str | Path | None) -> Settings:
    """Settings from a TOML file; None gives the documented defaults."""
    if path is None:
        return Settings()
    p = Path(path)
    if not p.is_file():
        raise SettingsError(f"{p}: settings file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{p}: not UTF-8 text: {exc}") from None
    return parse_settings(data, source=str(p))


def item_overrides(items: Any, settings: Settings) -> dict[str, dict[str, Any]]:
    """item_id -> the override values that apply to it (later overrides win).

    `items` is the canonical items DataFrame.
    """
    out: dict[str, dict[str, Any]] = {}
    if not settings.overrides or items is None or len(items) == 0:
        return out
    for ov in settings.overrides:
        mask = None
        for k, v in ov.match.items():
            if k not in items.columns:
                m = items["item_id"].astype(str) != items["item_id"].astype(str)
            else:
                m = items[k].astype(str) == v
            mask = m if mask is None else (mask & m)
        assert mask is not None
        for item_id in items.loc[mask, "item_id"].astype(str):
            out.setdefault(item_id, {}).update(ov.values)
    return out
