"""Stance definitions and the tie rule, on hand-made numbers (stance.py docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.decide import STANCES, DecideSettings, choose, cover_limit, tie_tolerance, zones
from bufferwise.decide.stance import least_cost_index
from bufferwise.errors import InvalidInput

SETTINGS = DecideSettings(tie_relative=0.02, tie_absolute=25.0)
GRID = np.array([[0.0, 10.0, 20.0, 30.0, 40.0]])


def _zone(normal: float, disruption: float, risky: bool = True, eligible: bool = True):
    return zones(
        GRID, np.array([normal]), np.array([disruption]), np.array([risky]), np.array([eligible])
    )


def test_zones_follow_the_covers() -> None:
    # normal cover 10, disruption cover 30: 0 jit, 10 lean, 20-30 buffer, 40 strategic
    assert _zone(10, 30).tolist() == [[0, 1, 2, 2, 3]]
    # no disruption risk: everything above zero is lean
    assert _zone(10, 30, risky=False).tolist() == [[0, 1, 1, 1, 1]]
    # not strategic-eligible: at most buffer
    assert _zone(10, 30, eligible=False).tolist() == [[0, 1, 2, 2, 2]]
    # a disruption cover below the normal one is raised to it
    assert _zone(20, 5).tolist() == [[0, 1, 1, 3, 3]]


def test_least_cost_level_wins() -> None:
    cost = np.array([[5_000.0, 1_200.0, 900.0, 950.0, 1_500.0]])
    stance, option = choose(GRID, cost, _zone(10, 30), SETTINGS)
    assert STANCES[stance[0]] == "buffer" and option[0, 2] == 2
    # every reachable stance has an option: its zone's least-cost level
    assert option[0].tolist() == [0, 1, 2, 4]


def test_tie_rule_prefers_less_inventory_within_two_percent() -> None:
    # least 5000 at 20; 5080 at 10 is within 2 % (100) -> the smaller level, lean
    cost = np.array([[9_000.0, 5_080.0, 5_000.0, 5_300.0, 6_000.0]])
    assert STANCES[choose(GRID, cost, _zone(10, 30), SETTINGS)[0][0]] == "lean"
    # 5120 is 2.4 % above the least: no longer a tie
    cost = np.array([[9_000.0, 5_120.0, 5_000.0, 5_300.0, 6_000.0]])
    assert STANCES[choose(GRID, cost, _zone(10, 30), SETTINGS)[0][0]] == "buffer"


def test_tie_rule_absolute_amount_for_small_costs() -> None:
    # least cost 100: 2 % is 2, the absolute 25 applies -> jit at 120 ties with lean at 100
    cost = np.array([[120.0, 100.0, 130.0, 160.0, 190.0]])
    assert STANCES[choose(GRID, cost, _zone(10, 30), SETTINGS)[0][0]] == "jit"
    assert tie_tolerance(np.array([100.0, 10_000.0]), SETTINGS) == pytest.approx([25.0, 200.0])
    assert least_cost_index(cost, SETTINGS).tolist() == [0]


def test_a_higher_stockout_cost_never_lowers_the_chosen_level() -> None:
    # cost = h x on hand + b x shortage on a monotone curve: the chosen level never falls as b
    # grows (the proof is in docs/decide.md, "Stances")
    on_hand = np.array([5.0, 9.0, 14.0, 20.0, 27.0, 35.0])
    short = np.array([40.0, 18.0, 7.0, 2.5, 0.8, 0.1])
    previous = 0
    for b in np.geomspace(0.05, 500, 60):
        idx = int(least_cost_index((10.0 * on_hand + b * short)[None, :], SETTINGS)[0])
        assert idx >= previous
        previous = idx


def test_cover_limit_is_the_first_level_with_negligible_shortage() -> None:
    ss = np.array([[0.0, 5.0, 10.0, 20.0]])
    short = np.array([[50.0, 8.0, 0.9, 0.0]])
    # 0.1 % of 1000 units a year = 1 unit short a year
    assert cover_limit(ss, short, np.array([1_000.0]), 0.001).tolist() == [10.0]
    # never reached: the top of the grid
    assert cover_limit(ss, short + 5, np.array([1_000.0]), 0.001).tolist() == [20.0]


def test_settings_are_validated() -> None:
    with pytest.raises(InvalidInput, match="bucket"):
        DecideSettings(bucket="hour")
    with pytest.raises(InvalidInput, match="grid_points"):
        DecideSettings(grid_points=2)
    with pytest.raises(InvalidInput, match="cover_shortage_share"):
        DecideSettings(cover_shortage_share=0.0)
