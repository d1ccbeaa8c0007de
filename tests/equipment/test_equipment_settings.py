"""JIT-readiness thresholds: named defaults (bufferwise.equipment.constants), checked by
ReadinessCriteria, settable in the settings file's [equipment] section (docs/settings.md)."""

from __future__ import annotations

import math

import pytest

from bufferwise.equipment import ReadinessCriteria, jit_readiness
from bufferwise.equipment.constants import (
    DEFAULT_MIN_AVAILABILITY,
    DEFAULT_MIN_MTBF_CYCLES,
    DEFAULT_TARGET_LINE_EFFICIENCY,
)
from bufferwise.errors import InvalidInput, SettingsError
from bufferwise.settings import EquipmentSettings, parse_settings


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"min_availability": 7}, "min_availability 7: expected a share in [0, 1]"),
        ({"min_availability": -0.1}, "min_availability"),
        ({"small_buffer_hours": -3}, "small_buffer_hours -3: expected hours of consumption > 0"),
        ({"small_buffer_hours": math.nan}, "small_buffer_hours"),
        ({"min_mtbf_cycles": 0}, "min_mtbf_cycles 0: expected a number of replenishment"),
        ({"target_line_efficiency": 1.5}, "target_line_efficiency 1.5"),
        ({"repair_quantile": 1.0}, "repair_quantile 1.0"),
    ],
)
def test_readiness_criteria_refuse_values_outside_their_range(
    kwargs: dict[str, float], named: str
) -> None:
    with pytest.raises(InvalidInput, match=named.replace("[", r"\[").replace("]", r"\]")):
        ReadinessCriteria(**kwargs)


def test_readiness_criteria_name_every_bad_value() -> None:
    with pytest.raises(InvalidInput) as err:
        ReadinessCriteria(min_availability=7, small_buffer_hours=-3)
    assert "min_availability 7" in str(err.value) and "small_buffer_hours -3" in str(err.value)


def test_settings_defaults_are_the_criteria_defaults() -> None:
    crit = EquipmentSettings().readiness_criteria()
    assert crit == ReadinessCriteria()
    assert crit.min_availability == DEFAULT_MIN_AVAILABILITY == 0.85
    assert crit.min_mtbf_cycles == DEFAULT_MIN_MTBF_CYCLES == 10
    assert crit.target_line_efficiency == DEFAULT_TARGET_LINE_EFFICIENCY == 0.95
    assert crit.small_buffer_hours is None  # one replenishment cycle


def test_readiness_thresholds_come_from_the_settings_file() -> None:
    s = parse_settings(
        {
            "equipment": {
                "min_availability": 0.9,
                "min_mtbf_cycles": 5,
                "small_buffer_hours": 8,
                "target_line_efficiency": 0.9,
            }
        },
        source="plant.toml",
    )
    crit = s.equipment.readiness_criteria()
    assert crit == ReadinessCriteria(
        target_line_efficiency=0.9, min_mtbf_cycles=5, small_buffer_hours=8, min_availability=0.9
    )

    # the thresholds change the verdict: MTBF 6 cycles, availability 0.88, p90 repair 6 h
    def verdict(criteria: ReadinessCriteria) -> str:
        return jit_readiness(
            "M",
            availability=0.88,
            mtbf_hours=144.0,
            mttr_hours=2.0,
            replenishment_cycle_hours=24.0,
            repair_quantile_hours=6.0,
            failures=20,
            criteria=criteria,
        ).verdict

    assert verdict(ReadinessCriteria()) == "ready_with_small_buffer"  # 0.88 >= 0.85, 6 h <= 24 h
    assert verdict(crit) == "not_ready"  # 0.88 < 0.9
    one_cycle = parse_settings({"equipment": {"small_buffer_hours": "replenishment_cycle"}})
    assert one_cycle.equipment.readiness_criteria().small_buffer_hours is None


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("min_availability", 7, "expected a share in [0, 1]"),
        ("min_availability", -0.1, "expected a share in [0, 1]"),
        ("target_line_efficiency", 0, "expected a share in (0, 1]"),
        ("min_mtbf_cycles", 0, "expected a number of replenishment cycles > 0"),
        ("min_mtbf_cycles", True, "expected a number of replenishment cycles > 0"),
        ("small_buffer_hours", -3, 'expected hours of consumption > 0, or "replenishment_cycle"'),
        ("small_buffer_hours", "cycle", "expected hours of consumption > 0"),
    ],
)
def test_bad_readiness_settings_name_the_file_and_key(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({"equipment": {key: value}}, source="plant.toml")
    assert str(err.value).startswith(f"plant.toml: [equipment] {key} = {value!r}: {expected}")
