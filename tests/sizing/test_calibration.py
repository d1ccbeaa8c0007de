"""Calibrated, pooled base-stock sizing (bufferwise.sizing.calibrate, bufferwise.sizing.pooled).

Numbers are hand calculations in the tests, or stationary synthetic data whose future is
drawn from the same process as its past (then the calibrated fill must hold out of sample).
"""

from __future__ import annotations

import numpy as np
import pytest
from calibration_samples import stationary

from bufferwise.errors import InvalidInput
from bufferwise.simulate import replay_order_up_to
from bufferwise.sizing import (
    calibrated_order_up_to,
    expected_fill,
    inner_origins,
    level_drift,
    protection_demand,
    protection_demand_quantile,
)


@pytest.mark.parametrize("target", [0.90, 0.95, 0.98])
def test_calibrated_fill_holds_out_of_sample_on_stationary_demand(target: float) -> None:
    demand, lead, value = stationary(600, 120, seed=11)
    fit, future = demand[:, :60], demand[:, 60:]
    c = calibrated_order_up_to(fit, lead, value, target, validation_periods=30)
    r = replay_order_up_to(future, c.order_up_to, lead, warm_start=fit)
    assert abs(r.aggregate_fill_rate() - target) <= 0.02
    assert c.calibrated and len(c.origins) >= 1


def test_portfolio_allocation_gives_cheap_items_higher_service() -> None:
    demand, lead, value = stationary(200, 60, seed=2)
    c = calibrated_order_up_to(demand, lead, value, 0.95, validation_periods=20)
    order = np.argsort(value)
    assert (np.diff(c.service_level[order]) <= 1e-12).all()
    flat = calibrated_order_up_to(
        demand, lead, value, 0.95, validation_periods=20, allocation="per_item"
    )
    assert np.ptp(flat.service_level) == 0.0


def test_portfolio_holds_less_value_than_one_service_level_at_the_same_fill() -> None:
    demand, lead, value = stationary(500, 120, seed=5)
    fit, future = demand[:, :60], demand[:, 60:]
    out = {}
    for allocation in ("portfolio", "per_item"):
        c = calibrated_order_up_to(
            fit, lead, value, 0.95, validation_periods=30, allocation=allocation
        )
        r = replay_order_up_to(future, c.order_up_to, lead, warm_start=fit)
        out[allocation] = (r.aggregate_fill_rate(), float((r.mean_on_hand * value).sum()))
    assert abs(out["portfolio"][0] - out["per_item"][0]) <= 0.02
    assert out["portfolio"][1] < out["per_item"][1]


def test_levels_read_only_the_history_given() -> None:
    demand, lead, value = stationary(100, 80, seed=9)
    a = calibrated_order_up_to(demand[:, :50], lead, value, 0.95, validation_periods=20)
    altered = demand.copy()
    altered[:, 50:] = altered[:, 50:][:, ::-1] * 3
    b = calibrated_order_up_to(altered[:, :50], lead, value, 0.95, validation_periods=20)
    assert np.array_equal(a.order_up_to, b.order_up_to)


def test_protection_demand_hand_example() -> None:
    # item 0: 2, 0, 4, 2 -> rate 2, var (0 + 4 + 4 + 0) / 3 = 8/3; L = 1 -> P = 2:
    #   mean 4, var = 2 * 8/3 + 4 * (8/3) / 4 = 8
    # item 1 silent; item 2 silent in the first half, 1 and 3 in the second: the awakening
    #   rate is (0 + 0 + 1 + 3) / (2 + 2) = 1 per period over the first-half-silent items (1, 2)
    h = np.array([[2.0, 0.0, 4.0, 2.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0]])
    m = protection_demand(h, np.array([1.0, 0.0, 0.0]))
    assert m.rate[0] == pytest.approx(2.0)
    assert m.mean[0] == pytest.approx(4.0)
    assert m.sd[0] ** 2 == pytest.approx(8.0)
    assert m.silent.tolist() == [False, True, False]
    assert m.rate[1] == pytest.approx(1.0)
    assert m.integer
    quiet = protection_demand(h, np.zeros(3), awaken_silent=False)
    assert quiet.rate[1] == 0.0
    assert protection_demand_quantile(quiet, np.full(3, 0.99))[1] == 0.0


def test_level_drift_hand_example() -> None:
    # one item 1,1 | 3,3: m1 = 1, m2 = 3, no within-half variance -> (3 - 1)^2 / 2^2 = 1
    assert level_drift(np.array([[1.0, 1.0, 3.0, 3.0]])) == pytest.approx(1.0)
    # a steady item has no drift
    assert level_drift(np.array([[2.0, 2.0, 2.0, 2.0]])) == 0.0


def test_expected_fill_at_zero_stock_and_lead_zero_is_zero() -> None:
    # L = 0, S = 0: every unit is short (n_1(0) = mean, n_0 = 0)
    m = protection_demand(np.array([[1.0, 2.0, 0.0, 3.0]]), np.array([0.0]))
    assert expected_fill(m, np.array([0.0]))[0] == pytest.approx(0.0, abs=1e-9)
    assert expected_fill(m, np.array([1e6]))[0] == pytest.approx(1.0)


def test_inner_origins_step_back_a_quarter_of_the_validation() -> None:
    # 48 periods, 16 validation: cuts 32, 28, 24
    assert inner_origins(48, 16, 3).tolist() == [32, 28, 24]
    with pytest.raises(InvalidInput, match="validation_periods"):
        inner_origins(10, 10, 3)


def test_invalid_target_and_allocation() -> None:
    demand, lead, value = stationary(10, 20, seed=1)
    with pytest.raises(InvalidInput, match="target"):
        calibrated_order_up_to(demand, lead, value, 1.0)
    with pytest.raises(InvalidInput, match="allocation"):
        calibrated_order_up_to(demand, lead, value, 0.9, allocation="magic")  # type: ignore[arg-type]


def test_group_knobs_are_calibrated_per_class() -> None:
    demand, lead, value = stationary(400, 60, seed=4)
    c = calibrated_order_up_to(demand, lead, value, 0.95, validation_periods=20, group_by="class")
    assert c.group_knobs
    assert set(c.group_knobs) <= {str(x) for x in c.model.demand_class} | {
        "smooth",
        "erratic",
        "intermittent",
        "lumpy",
        "insufficient",
        "no_demand",
    }
    with pytest.raises(InvalidInput, match="group_by"):
        calibrated_order_up_to(demand, lead, value, 0.95, group_by="colour")  # type: ignore[arg-type]


def test_common_level_rescales_the_inner_model() -> None:
    # modelled rates 1 and 3 per period (total 4); the window holds 2 per period -> x 0.5
    from bufferwise.sizing.calibrate import _rescaled

    m = protection_demand(np.array([[1.0, 1.0], [3.0, 3.0]]), np.zeros(2))
    r = _rescaled(m, np.array([[1.0, 0.0], [1.0, 2.0]]))
    assert r.rate.tolist() == pytest.approx([0.5, 1.5])
    assert r.mean.tolist() == pytest.approx([0.5, 1.5])


def test_origin_half_life_weights_the_inner_origins_toward_the_latest() -> None:
    # demand doubles in the last 20 periods: the latest origin's window needs a higher knob
    # than the earlier ones; a half-life near zero leaves only the latest origin's weight
    demand, lead, value = stationary(300, 80, seed=5)
    demand[:, 60:] *= 2.0
    args = (demand, lead, value, 0.95)
    equal = calibrated_order_up_to(*args, validation_periods=20, n_origins=4, origin_half_life=None)
    latest = calibrated_order_up_to(*args, validation_periods=20, n_origins=1)
    weighted = calibrated_order_up_to(
        *args, validation_periods=20, n_origins=4, origin_half_life=1e-3
    )
    assert len(equal.origins) == 4
    assert weighted.knob == pytest.approx(latest.knob, abs=1e-6)
    assert weighted.knob > equal.knob
    one = calibrated_order_up_to(*args, validation_periods=20, n_origins=1, origin_half_life=1.0)
    assert one.knob == latest.knob
    with pytest.raises(InvalidInput, match="origin_half_life"):
        calibrated_order_up_to(*args, origin_half_life=0.0)


def test_an_unreachable_target_is_reported() -> None:
    # 30 periods of 1 unit, then 10 periods of 100: fitted on the ones, no level at the
    # max_service quantile serves the hundreds in the validation window
    history = np.concatenate([np.ones(30), np.full(10, 100.0)])[None, :]
    c = calibrated_order_up_to(history, np.array([1.0]), None, 0.98, validation_periods=10)
    assert not c.validation_reached
    assert c.validation_fill[0] < 0.5


def test_bootstrap_samples_add_p_periods_of_the_history() -> None:
    # history 0, 2, 0, 0, 5, 0, 1, 0: mean 1 per period; L = 2 -> P = 3, E[D_P] = 3, E[D_L] = 2
    from bufferwise.sizing import protection_demand_samples

    h = np.array([[0.0, 2.0, 0.0, 0.0, 5.0, 0.0, 1.0, 0.0]])
    p, lt = protection_demand_samples(h, np.array([2.0]), n_samples=20_000, jitter=False, seed=3)
    assert p.mean() == pytest.approx(3.0, rel=0.05)
    assert lt.mean() == pytest.approx(2.0, rel=0.05)
    assert (np.diff(p[0]) >= 0).all()  # sorted
    assert set(np.unique(p)) <= {float(v) for v in range(0, 16)}  # sums of 0, 1, 2, 5
    again, _ = protection_demand_samples(h, np.array([2.0]), n_samples=20_000, jitter=False, seed=3)
    assert np.array_equal(p, again)


def test_bootstrap_distribution_is_reproducible_with_a_seed() -> None:
    demand, lead, value = stationary(150, 60, seed=6)
    a = calibrated_order_up_to(
        demand, lead, value, 0.95, validation_periods=20, distribution="bootstrap", seed=5
    )
    b = calibrated_order_up_to(
        demand, lead, value, 0.95, validation_periods=20, distribution="bootstrap", seed=5
    )
    assert np.array_equal(a.order_up_to, b.order_up_to)
    assert a.validation_reached


def test_a_higher_target_never_lowers_a_level() -> None:
    demand, lead, value = stationary(300, 60, seed=8)
    low = calibrated_order_up_to(demand, lead, value, 0.90, validation_periods=20)
    high = calibrated_order_up_to(demand, lead, value, 0.98, validation_periods=20)
    assert high.knob >= low.knob
    assert (high.order_up_to >= low.order_up_to).all()
