"""Horizon-aware calibration (bufferwise.sizing.calibrate, "Horizon"; docs/decision-quality.md,
"Tried in round 3"): the fill's change with the age of a frozen policy, measured inside the
history and extrapolated from the validation window to the horizon.

Numbers are hand calculations, or synthetic data whose slope is known.
"""

from __future__ import annotations

import numpy as np
import pytest
from calibration_samples import stationary

from bufferwise.errors import InvalidInput
from bufferwise.kernels.replay import replay_base_stock
from bufferwise.sizing import calibrated_order_up_to
from bufferwise.sizing.calibrate import (
    age_decay,
    age_origins,
    horizon_shortfall,
    inner_target,
    short_by_period,
)


def test_short_by_period_is_the_replay_kernel_period_by_period() -> None:
    demand, lead, _ = stationary(200, 40, seed=3)
    level = np.ceil(np.random.default_rng(4).random(200) * 6)
    warm, window = demand[:, :25], demand[:, 25:]
    short = short_by_period(window, level, lead, warm)
    kernel = replay_base_stock(
        np.ascontiguousarray(window), level, lead.astype(np.int64), np.ascontiguousarray(warm)
    )[0]
    assert short.shape == window.shape
    # the same replay, period by period: its row sums are the totals (up to summation order)
    assert np.allclose(short.sum(axis=1), kernel, rtol=0, atol=1e-9)
    assert ((short >= 0) & (short <= window)).all()


def test_short_by_period_hand_example() -> None:
    # S = 3, L = 1, warm ends with 2 (in transit): net before t0 = 1; demand 2, 0, 4
    # t0: D(t-1..t) = 2 + 2 = 4 -> short min(4 - 3, 2) = 1; t1: 2 + 0 = 2 -> 0; t2: 0 + 4 -> 1
    s = short_by_period(
        np.array([[2.0, 0.0, 4.0]]), np.array([3.0]), np.array([1]), np.array([[5.0, 2.0]])
    )
    assert s.tolist() == [[1.0, 0.0, 1.0]]


def test_age_origins_from_the_middle_to_two_periods_before_the_end() -> None:
    assert age_origins(10) == [5, 6, 7, 8]
    assert age_origins(75, 12) == list(range(40, 74, 3))
    assert age_origins(3) == []


def test_age_decay_recovers_a_known_slope() -> None:
    ages = np.arange(30, dtype=np.float64)
    demand = [np.full(30, 100.0), np.full(20, 80.0), np.full(12, 50.0)]
    levels = [0.05, 0.08, 0.03]
    beta = 0.04
    short = [d * a0 * np.exp(beta * ages[: len(d)]) for d, a0 in zip(demand, levels, strict=True)]
    assert age_decay(short, demand, "exponential") == pytest.approx(beta, abs=1e-8)
    lin = [d * (a0 + 0.002 * ages[: len(d)]) for d, a0 in zip(demand, levels, strict=True)]
    assert age_decay(lin, demand, "linear") == pytest.approx(0.002, abs=1e-12)
    # no unit short anywhere: no information, slope 0
    assert age_decay([np.zeros(5)], [np.ones(5)], "exponential") == 0.0


def test_horizon_shortfall_and_inner_target_hand_example() -> None:
    # beta = ln 2 per period: e^(beta a) = 1, 2, 4, 8; validation 2 -> mean 1.5, horizon 4 ->
    # mean 3.75: the shortfall over the horizon is 2.5 x the inner one
    beta = float(np.log(2.0))
    assert horizon_shortfall(0.02, beta, 2, 4, "exponential") == pytest.approx(0.05)
    assert inner_target(0.95, beta, 2, 4, "exponential") == pytest.approx(0.98)
    # linear: + beta (H - v) / 2
    assert horizon_shortfall(0.02, 0.01, 2, 4, "linear") == pytest.approx(0.03)
    assert inner_target(0.97, 0.01, 2, 4, "linear") == pytest.approx(0.98)
    # no slope, no horizon beyond the window, or no model: unchanged
    assert horizon_shortfall(0.02, 0.0, 2, 4, "exponential") == pytest.approx(0.02)
    assert inner_target(0.95, 0.3, 4, 4, "exponential") == 0.95
    assert inner_target(0.95, 0.3, 2, 4, "none") == 0.95


def test_horizon_equal_to_the_validation_window_changes_nothing() -> None:
    demand, lead, value = stationary(300, 60, seed=8)
    args = (demand, lead, value, 0.95)
    plain = calibrated_order_up_to(*args, validation_periods=15, age_model="none")
    same = calibrated_order_up_to(*args, validation_periods=15, horizon=15, age_model="exponential")
    unset = calibrated_order_up_to(*args, validation_periods=15, age_model="exponential")
    assert np.array_equal(plain.order_up_to, same.order_up_to)
    assert np.array_equal(plain.order_up_to, unset.order_up_to)
    assert same.age_decay == 0.0 and same.horizon == 15


def test_a_fill_that_decays_with_age_asks_for_more_stock_over_a_longer_horizon() -> None:
    # demand of every item grows 2 % a period: a frozen policy falls short more as it ages,
    # so a horizon beyond the validation window needs a higher knob
    demand, lead, value = stationary(400, 60, seed=9)
    rng = np.random.default_rng(10)
    demand = rng.poisson(demand * 1.02 ** np.arange(60)[None, :]).astype(float)
    args = (demand, lead, value, 0.95)
    short = calibrated_order_up_to(*args, validation_periods=10, horizon=10)
    long = calibrated_order_up_to(*args, validation_periods=10, horizon=30, age_model="exponential")
    assert long.age_decay > 0
    assert long.knob > short.knob
    assert (long.order_up_to >= short.order_up_to).all()
    assert long.horizon == 30
    assert long.validation_reached
    assert long.horizon_fill == pytest.approx(0.95, abs=1e-3)


def test_invalid_horizon_and_age_model() -> None:
    demand, lead, value = stationary(20, 30, seed=1)
    with pytest.raises(InvalidInput, match="age_model"):
        calibrated_order_up_to(demand, lead, value, 0.9, age_model="cubic")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="horizon"):
        calibrated_order_up_to(demand, lead, value, 0.9, horizon=0)
