"""The settings file: defaults, every section, overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bufferwise.errors import SettingsError
from bufferwise.settings import Settings, item_overrides, load_settings, parse_settings


def test_defaults_without_a_file() -> None:
    s = load_settings(None)
    assert s == Settings()
    assert s.sizing.service_target == 0.95
    assert s.profile.bucket == "week"


def test_full_file_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "bufferwise.toml"
    p.write_text(
        """
[profile]
bucket = "month"
forecast = false
[sizing]
service_target = "cost_optimal"
methods = ["analytic", "simulation"]
[costs]
stockout_cost_multiple = { critical = 50 }
[equipment]
micro_stop_threshold_s = 120
setup = "not_planned"
[simulation]
replications = 16
seed = 7
[review]
horizon_days = 180
[decide]
replications = 6
strategic_criticality = ["critical", "high"]
[diagnose]
lazy_ratio = 4.0
[[overrides]]
match = { category = "spare" }
service_target = 0.98
[[overrides]]
match = { supplier_id = "S04", category = "spare" }
service_target = 0.99
"""
    )
    s = load_settings(p)
    assert s.profile.bucket == "month" and s.profile.forecast is False
    assert s.sizing.service_target == "cost_optimal"
    assert s.sizing.methods == ("analytic", "simulation")
    assert s.costs.stockout_cost_multiple["critical"] == 50.0
    assert s.costs.stockout_cost_multiple["low"] == 0.5  # untouched levels keep defaults
    assert s.equipment.setup == "not_planned"
    assert s.simulation.replications == 16 and s.simulation.seed == 7
    assert s.decide.replications == 6
    assert s.decide.strategic_criticality == ("critical", "high")
    assert s.decide.diagnose.lazy_ratio == 4.0
    assert s.decide.diagnose.review_horizon_days == 180  # [review] horizon_days is the one key
    items = pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "category": ["spare", "spare", "raw"],
            "supplier_id": ["S04", "S01", "S04"],
        }
    )
    ov = item_overrides(items, s)
    assert ov == {"A": {"service_target": 0.99}, "B": {"service_target": 0.98}}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[sizing]\nservice_tarrget = 0.9\n", "unknown key [sizing] service_tarrget"),
        ("[sizng]\nservice_target = 0.9\n", "unknown section [sizng]"),
        ("[sizing]\nservice_target = 1.5\n", "[sizing] service_target = 1.5"),
        ('[sizing]\nservice_target = "high"\n', "[sizing] service_target = 'high'"),
        ('[sizing]\nmethods = ["magic"]\n', "[sizing] methods"),
        ('[profile]\nbucket = "year"\n', "[profile] bucket = 'year'"),
        ("[simulation]\nreplications = 0\n", "[simulation] replications = 0"),
        ("[simulation]\nreplications = 2.5\n", "[simulation] replications = 2.5"),
        ('[equipment]\nidle = "ignore"\n', "[equipment] idle = 'ignore'"),
        ("[costs]\nstockout_cost_multiple = { urgent = 3 }\n", "stockout_cost_multiple.urgent"),
        ('[[overrides]]\nmatch = { colour = "red" }\nservice_target = 0.9\n', "match.colour"),
        ('[[overrides]]\nmatch = { category = "spare" }\nreorder_point = 3\n', "reorder_point"),
        (
            '[[overrides]]\nmatch = { category = "spare" }\nservice_target = "cost_optimal"\n',
            "service_target",
        ),
        ("[[overrides]]\nservice_target = 0.9\n", "match"),
        ("[sizing\n", "not valid TOML"),
        ("[decide]\nreplicatons = 3\n", "unknown key [decide] replicatons"),
        ('[decide]\nreplications = "many"\n', "[decide] replications = 'many'"),
        ("[decide]\nreplications = 1\n", "[decide]"),
        ('[diagnose]\nlazy_ratio = "x"\n', "[diagnose] lazy_ratio"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    p = tmp_path / "plant.toml"
    p.write_text(text)
    with pytest.raises(SettingsError) as exc:
        load_settings(p)
    assert str(p) in str(exc.value)
    assert fragment in str(exc.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_parse_accepts_empty() -> None:
    assert parse_settings({}) == Settings(source="settings")


def test_review_horizon_has_one_key() -> None:
    with pytest.raises(SettingsError, match="unknown key \\[diagnose\\] review_horizon_days"):
        parse_settings({"diagnose": {"review_horizon_days": 10}})


def test_hidden_loss_bar_follows_the_readiness_bar_unless_diagnose_sets_it() -> None:
    # [equipment] min_availability is the default of [diagnose] machine_availability
    s = parse_settings({"equipment": {"min_availability": 0.7}})
    assert s.equipment.min_availability == 0.7
    assert s.decide.diagnose.machine_availability == 0.7
    # [diagnose] machine_availability wins, in either order of the sections
    for data in (
        {"equipment": {"min_availability": 0.7}, "diagnose": {"machine_availability": 0.9}},
        {"diagnose": {"machine_availability": 0.9}, "equipment": {"min_availability": 0.7}},
    ):
        s = parse_settings(data)
        assert s.equipment.min_availability == 0.7
        assert s.decide.diagnose.machine_availability == 0.9
    # neither given: both the default bar
    assert parse_settings({}).decide.diagnose.machine_availability == (
        parse_settings({}).equipment.min_availability
    )


def test_every_setting_is_documented() -> None:
    # docs/settings.md documents each key of each section ([decide] / [diagnose] point to
    # docs/decide.md, whose own test checks those fields)
    import dataclasses

    from bufferwise.settings import SECTIONS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "settings.md").read_text()
    for section, cls in SECTIONS.items():
        assert f"[{section}]" in doc, section
        for f in dataclasses.fields(cls):
            assert f"{f.name} =" in doc, f"[{section}] {f.name} is not in docs/settings.md"
