"""The large-portfolio paths of decide: the simulation budget and the vectorised helpers give
the figures their plain per-item versions give."""

from __future__ import annotations

import numpy as np
import pytest

from bufferwise.decide import DecideSettings
from bufferwise.decide.portfolio import _interp_rows
from bufferwise.decide.risk import pool_mean_sd
from bufferwise.decide.settings import simulation_effort, within_budget
from bufferwise.errors import InvalidInput


def test_budget_leaves_small_portfolios_alone() -> None:
    st = DecideSettings()
    assert within_budget(st, 240) is st  # the example plant keeps the full simulation
    assert within_budget(st, 5_000) is st


def test_budget_shortens_years_then_replications_then_levels() -> None:
    st = DecideSettings()
    mid = within_budget(st, 20_000)
    assert (mid.sim_years, mid.replications, mid.grid_points) == (2.0, 3, 16)
    assert simulation_effort(mid, 20_000) <= st.sim_budget
    big = within_budget(st, 100_000)
    assert (big.sim_years, big.replications, big.grid_points) == (2.0, 2, 8)  # the floors
    # a budget large enough keeps everything, a generous one only trims the years
    assert within_budget(DecideSettings(sim_budget=1e12), 100_000).sim_years == 8.0
    trimmed = within_budget(DecideSettings(sim_budget=2e10), 100_000)
    assert trimmed.replications == 4 and trimmed.grid_points == 16
    assert 2.0 <= trimmed.sim_years < 8.0


def test_budget_settings_are_checked() -> None:
    with pytest.raises(InvalidInput):
        DecideSettings(sim_budget=0)
    with pytest.raises(InvalidInput):
        DecideSettings(min_grid_points=2)


def test_pool_statistics_are_numpy_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    pools = [rng.gamma(2.0, 7.0, size=int(k)) for k in rng.integers(1, 500, 300)]
    pools += [rng.integers(0, 40, size=int(k)) for k in rng.integers(1, 30, 300)]
    mean, sd = pool_mean_sd(pools)
    assert np.array_equal(mean, [p.mean() for p in pools])
    assert np.array_equal(sd, [p.std(ddof=1) if p.size > 1 else 0.0 for p in pools])


def test_row_interpolation_is_np_interp() -> None:
    rng = np.random.default_rng(5)
    xs = np.sort(rng.random((400, 16)), axis=1)
    xs[:10] = 0.0  # items without demand: a grid of zeros
    xs[10:20, :4] = 0.0
    ys = rng.random((400, 16))
    x = rng.random(400) * 1.3 - 0.1
    x[:5] = 0.0
    expected = [np.interp(x[i], xs[i], ys[i]) for i in range(400)]
    assert np.array_equal(_interp_rows(x, xs, ys), expected)
