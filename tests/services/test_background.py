"""Work beside the main job (services/background.py) and the forecast analyze runs that way:
the same result from the forked child, from the in-process fallback, and as profile_all's own
forecast."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from bufferwise.profile import PendingForecast, profile_all
from bufferwise.services.background import Background, fork_available


def _pid_and_square() -> tuple[int, int]:
    return os.getpid(), 7 * 7


def _fails() -> int:
    raise RuntimeError("boom")


@pytest.mark.skipif(not fork_available(), reason="fork is only used on Linux")
def test_the_work_runs_in_a_child_and_its_value_comes_back() -> None:
    (pid, value), seconds, where = Background(_pid_and_square).result()
    assert (value, where) == (49, "child") and pid != os.getpid() and seconds >= 0


def test_without_fork_or_when_the_child_fails_it_is_computed_here() -> None:
    (pid, value), _, where = Background(_pid_and_square, fork=False).result()
    assert (pid, value, where) == (os.getpid(), 49, "here")
    calls: list[int] = []

    def fails_in_the_child_only() -> int:
        if os.getpid() != parent:
            raise RuntimeError("boom")
        calls.append(1)
        return 5

    parent = os.getpid()
    assert Background(fails_in_the_child_only).result()[::2] == (5, "here")
    assert calls == [1]
    with pytest.raises(RuntimeError, match="boom"):  # failing here too: the error is the caller's
        Background(_fails).result()


def test_a_later_forecast_equals_profile_alls_own() -> None:
    rng = np.random.default_rng(3)
    days = pd.date_range("2023-01-02", periods=364, freq="D")
    rows = [
        {"item_id": f"I{i}", "date": d, "quantity": float(q)}
        for i in range(6)
        for d, q in zip(
            days, rng.poisson(2.0 + i, len(days)) * (rng.random(len(days)) < 0.6), strict=True
        )
    ]
    demand = pd.DataFrame(rows)
    now = profile_all(demand, None, forecast=True)
    later = profile_all(demand, None, forecast="later")
    assert later.pending_forecast is not None and now.pending_forecast is None
    table, _, _ = Background(later.pending_forecast.compute).result()
    PendingForecast.apply(later, table)
    assert later.pending_forecast is None
    pdt.assert_frame_equal(later.demand, now.demand, check_exact=True)
