"""Work beside the main job (services/background.py) and the forecast analyze runs that way:
the same result from the forked child, from the in-process fallback, and as profile_all's own
forecast."""

from __future__ import annotations

import functools
import operator
import os

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from bufferwise.profile import PendingForecast, profile_all
from bufferwise.services.background import Background


def _here_only() -> str:
    # defined in this test module, which the child cannot import: it cannot run there
    return "computed"


def test_the_work_runs_in_a_child_and_its_value_comes_back() -> None:
    pid, _, where = Background(os.getpid).result()
    assert where == "child" and pid != os.getpid()
    value, seconds, where = Background(functools.partial(operator.mul, 7, 7)).result()
    assert (value, where) == (49, "child") and seconds >= 0


def test_without_a_child_or_when_the_child_fails_it_is_computed_here() -> None:
    assert Background(os.getpid, child=False).result()[::2] == (os.getpid(), "here")
    assert Background(_here_only).result()[::2] == ("computed", "here")
    assert Background(lambda: 5).result()[::2] == (5, "here")  # cannot be pickled at all
    with pytest.raises(ZeroDivisionError):  # failing here too: the error is the caller's
        Background(functools.partial(operator.truediv, 1, 0)).result()


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
