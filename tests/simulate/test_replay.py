"""Replay of a base-stock policy on real demand (bufferwise.simulate.replay).

Expected values are hand calculations in the tests (docs/sizing.md convention: an order placed
in period t with lead time L arrives at the start of t + L + 1; receive, serve, order).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from bufferwise.errors import InvalidInput
from bufferwise.simulate import aggregate_fill_rate, replay_order_up_to


def test_hand_calculation_cold_start() -> None:
    # S = 5, L = 1, demand 3, 4, 0, 6; start 5 on hand, nothing on order.
    # t0: serve 3 (net 2), order 3 (due t2); t1: serve 2 of 4 (short 2, net -2), order 4 (due t3)
    # t2: +3 -> net 1; t3: +4 -> net 5, serve 5 of 6 (short 1, net -1).
    # short 3 of 13, stockouts in t1 and t3, on hand 2, 0, 1, 0 -> mean 0.75.
    r = replay_order_up_to(np.array([[3.0, 4.0, 0.0, 6.0]]), np.array([5.0]), np.array([1]))
    assert r.short[0] == pytest.approx(3.0)
    assert r.demanded[0] == pytest.approx(13.0)
    assert r.fill_rate[0] == pytest.approx(10.0 / 13.0)
    assert r.stockout_periods[0] == 2
    assert r.cycle_service[0] == pytest.approx(0.5)
    assert r.mean_on_hand[0] == pytest.approx(0.75)


def test_hand_calculation_warm_start_is_the_steady_state() -> None:
    # warm history 2, 1 with L = 1: the order of the last period (1 unit) is still in transit,
    # so the replay starts with net 5 - 1 = 4; end of t0 net = S - (1 + 3) = 1 (steady state
    # S - demand over L + 1 periods). Then as above: short 2 in t1, 1 in t3; on hand 1, 0, 1, 0.
    r = replay_order_up_to(
        np.array([[3.0, 4.0, 0.0, 6.0]]),
        np.array([5.0]),
        np.array([1]),
        warm_start=np.array([[2.0, 1.0]]),
    )
    assert r.short[0] == pytest.approx(3.0)
    assert r.mean_on_hand[0] == pytest.approx(0.5)


def _reference(demand: np.ndarray, s: float, lead: int, warm: np.ndarray) -> tuple[float, float]:
    """Plain-Python twin: pipeline as a deque of (due period, quantity)."""
    pipe: deque[tuple[int, float]] = deque()
    net = s
    for k in range(1, lead + 1):
        if warm.size - k >= 0:
            pipe.append((lead + 1 - k, float(warm[warm.size - k])))
            net -= float(warm[warm.size - k])
    short = 0.0
    on_hand = 0.0
    for t, d in enumerate(demand):
        for due, q in list(pipe):
            if due == t:
                net += q
                pipe.remove((due, q))
        short += max(d - max(net, 0.0), 0.0)
        net -= d
        position = net + sum(q for _, q in pipe)
        if position < s:
            pipe.append((t + lead + 1, s - position))
        on_hand += max(net, 0.0)
    return short, on_hand / len(demand)


def test_matches_a_plain_python_twin_on_random_items() -> None:
    rng = np.random.default_rng(7)
    n, t = 40, 30
    demand = rng.poisson(2.0, size=(n, t)) * rng.integers(0, 2, size=(n, t))
    warm = rng.poisson(2.0, size=(n, 12)).astype(float)
    lead = rng.integers(0, 6, size=n)
    level = rng.integers(0, 20, size=n).astype(float)
    r = replay_order_up_to(demand, level, lead, warm_start=warm)
    for i in range(n):
        short, on_hand = _reference(demand[i].astype(float), level[i], int(lead[i]), warm[i])
        assert r.short[i] == pytest.approx(short)
        assert r.mean_on_hand[i] == pytest.approx(on_hand)


def test_more_stock_never_lowers_fill() -> None:
    rng = np.random.default_rng(3)
    demand = rng.poisson(1.5, size=(25, 40)).astype(float)
    lead = rng.integers(0, 4, size=25)
    fills = [
        replay_order_up_to(demand, np.full(25, s), lead, warm_start=demand[:, :5]).fill_rate
        for s in range(0, 20, 2)
    ]
    assert (np.diff(np.array(fills), axis=0) >= -1e-12).all()


def test_aggregate_fill_weights_items_by_units() -> None:
    # item 0: 10 units demanded, 0 short; item 1: 2 demanded, 2 short -> 10 / 12
    r = replay_order_up_to(np.array([[10.0], [2.0]]), np.array([10.0, 0.0]), np.array([0, 0]))
    assert aggregate_fill_rate(r) == pytest.approx(10.0 / 12.0)
    assert r.aggregate_fill_rate(np.array([False, True])) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("demand", "level", "lead", "match"),
    [
        (np.array([[-1.0]]), np.array([1.0]), np.array([0]), "negative"),
        (np.array([[1.0]]), np.array([1.0, 2.0]), np.array([0]), "one value per item"),
        (np.array([[1.0]]), np.array([1.0]), np.array([0.5]), "whole number"),
        (np.array([[1.0]]), np.array([np.inf]), np.array([0]), "finite"),
    ],
)
def test_invalid_inputs_say_what_is_wrong(
    demand: np.ndarray, level: np.ndarray, lead: np.ndarray, match: str
) -> None:
    with pytest.raises(InvalidInput, match=match):
        replay_order_up_to(demand, level, lead)
