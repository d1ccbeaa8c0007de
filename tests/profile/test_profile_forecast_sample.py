"""Forecasting a sample of a large portfolio (ForecastSettings.max_series)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bufferwise.profile import ForecastSettings, forecast_errors
from bufferwise.profile.forecast import sample_rows


def test_sample_is_even_within_each_stratum_and_deterministic() -> None:
    strata = pd.Series(["a"] * 600 + ["b"] * 300 + ["c"] * 100)
    rows = sample_rows(strata, 100)
    assert np.array_equal(rows, sample_rows(strata, 100))
    picked = strata.iloc[rows].value_counts().to_dict()
    assert picked == {"a": 60, "b": 30, "c": 10}
    assert np.all(np.diff(rows) > 0)
    assert np.array_equal(sample_rows(strata, 5_000), np.arange(1_000))


def test_unsampled_items_get_no_forecast_figures() -> None:
    rng = np.random.default_rng(0)
    series = [rng.poisson(3.0, 60).astype(float) for _ in range(40)]
    ids = [f"I{i}" for i in range(40)]
    classes = ["smooth"] * 40
    full = forecast_errors(series, ids, classes, 2)
    part = forecast_errors(series, ids, classes, 2, settings=ForecastSettings(max_series=10))
    fitted = part["forecast_mean"].notna().to_numpy()
    assert fitted.sum() == 10
    assert (part.loc[~fitted, "backtest_windows"] == 0).all()
    # the sampled items get exactly the figures a full run gives them
    cols = ["forecast_mean", "forecast_error_sd", "forecast_bias", "forecast_rmse"]
    pd.testing.assert_frame_equal(part.loc[fitted, cols], full.loc[fitted, cols])
