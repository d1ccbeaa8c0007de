"""Forecast model choice, Croston/SBA against a hand calculation, and the rolling-origin
backtest error of the cumulative forecast over the protection interval."""

from __future__ import annotations

import numpy as np
import pytest
import statsforecast  # noqa: F401  (a required dependency: a missing install is an error)

from bufferwise.errors import InvalidInput
from bufferwise.profile import DEFAULT_MODELS, ForecastSettings, forecast_errors


def _ses(values: list[float], alpha: float) -> float:
    """One-step SES forecast started at the first value (Croston 1972, as statsforecast)."""
    level = values[0]
    for v in values[1:]:
        level += alpha * (v - level)
    return level


def test_croston_sba_hand_calculation(reference_cases: dict[str, dict]) -> None:
    # reference_cases.json has no Croston / SBA case: hand calculation on the series of the
    # case syntetos_boylan_ADI_CV2_classification, 0 20 30 0 0 50.
    # sizes 20 30 50 -> SES(0.1) = 20 -> 21 -> 23.9; intervals (from period 0) 2 1 3 ->
    # 2 -> 1.9 -> 2.01; SBA = (1 - 0.1 / 2) x 23.9 / 2.01 = 11.2960...
    series = reference_cases["syntetos_boylan_ADI_CV2_classification"]["inputs"]["demand"]
    hand = 0.95 * _ses([20, 30, 50], 0.1) / _ses([2, 1, 3], 0.1)
    assert hand == pytest.approx(0.95 * 23.9 / 2.01)
    out = forecast_errors([np.asarray(series, float)], ["A"], ["intermittent"], 1)
    assert out.loc[0, "forecast_model"] == "CrostonSBA"
    assert out.loc[0, "forecast_mean"] == pytest.approx(hand, rel=1e-9)
    assert out.loc[0, "backtest_windows"] == 0  # 6 periods: too short for a backtest
    assert np.isnan(out.loc[0, "forecast_error_sd"])


def test_backtest_error_of_cumulative_forecast_hand_calculation() -> None:
    # Naive forecast of y_t = t + 1: from origin o the forecast of each of the next H = 2
    # buckets is y_{o-1} = o; actual sum (o + 1) + (o + 2): the error is 3 at every origin
    y = np.arange(1.0, 31.0)
    st = ForecastSettings(windows=5, step=2)
    out = forecast_errors([y], ["A"], ["smooth"], 2, models={"smooth": "Naive"}, settings=st)
    row = out.iloc[0]
    assert row["forecast_model"] == "Naive" and row["backtest_windows"] == 5
    assert row["forecast_bias"] == pytest.approx(3.0)
    assert row["forecast_rmse"] == pytest.approx(3.0)
    assert row["forecast_error_sd"] == pytest.approx(0.0, abs=1e-9)
    assert row["forecast_mean"] == pytest.approx(30.0)
    assert row["forecast_horizon"] == 2


def test_backtest_error_sd_of_white_noise_matches_theory() -> None:
    # HistoricAverage on iid N(50, 4²): the error of a 4-bucket sum has sd ~ sqrt(4) x 4 = 8
    rng = np.random.default_rng(7)
    series = [50 + rng.normal(0, 4, 300) for _ in range(40)]
    st = ForecastSettings(windows=30, step=4)
    out = forecast_errors(series, [f"i{i}" for i in range(40)], ["smooth"] * 40, 4,
                          models={"smooth": "HistoricAverage"}, settings=st)  # fmt: skip
    assert out["forecast_error_sd"].mean() == pytest.approx(8.0, rel=0.12)
    assert abs(out["forecast_bias"].mean()) < 1.0


def test_model_chosen_by_class_and_zero_model() -> None:
    rng = np.random.default_rng(0)
    smooth = rng.poisson(20, 60).astype(float)
    inter = np.where(rng.random(60) < 0.3, rng.poisson(5, 60) + 1, 0).astype(float)
    zero = np.zeros(60)
    classes = ["smooth", "intermittent", "lumpy", "no_demand"]
    out = forecast_errors([smooth, inter, inter, zero], list("abcd"), classes, [3, 3, 3, 3])
    assert out["forecast_model"].tolist() == [DEFAULT_MODELS[c] for c in classes]
    assert out.loc[3, "forecast_mean"] == 0.0 and out.loc[3, "forecast_error_sd"] == 0.0
    assert (out["backtest_windows"] == 8).all()
    assert out["forecast_error_sd"].notna().all()
    with pytest.raises(InvalidInput):
        forecast_errors([smooth], ["a"], ["smooth"], 0)


def test_batches_and_progress_do_not_change_results() -> None:
    rng = np.random.default_rng(9)
    series = [rng.poisson(4, 50).astype(float) for _ in range(7)]
    ids, classes = [f"i{i}" for i in range(7)], ["smooth"] * 4 + ["intermittent"] * 3
    whole = forecast_errors(series, ids, classes, 3)
    seen: list[int] = []
    batched = forecast_errors(series, ids, classes, 3, settings=ForecastSettings(batch=2),
                              progress=lambda done, total: seen.append(done))  # fmt: skip
    assert seen == [2, 3, 5, 7]  # CrostonSBA group (3 items: 2 + 1), then SES (4: 2 + 2)
    assert whole.equals(batched)


def test_backtest_error_sd_at_default_settings_matches_theory() -> None:
    # Default settings (8 origins, step None = H), H = 14, HistoricAverage on iid N(50, 4²).
    # Theory: the error of origin o is sum(y[o:o+14]) - 14 x mean(y[0:o]), variance
    # 14 x 16 + 14² x 16 / o (the sum, plus the estimation error of the training mean); the
    # origins lie 14 buckets apart at o = 1000 - 14 k (k = 1..8), so o ~ 937 and the variance is
    # 224 + 3.35 = 227.3. The sample variance (ddof 1) of the 8 errors is unbiased for it when
    # the windows do not overlap; the mean over 200 items has a standard error of about
    # 227 x sqrt(2 / 7) / sqrt(200) = 8.6 (3.8 %). With origins 1 bucket apart (the old
    # default) 13 of 14 buckets are shared and the mean sd was 6.9 instead of 15.
    rng = np.random.default_rng(11)
    n_items, length, h = 200, 1000, 14
    series = [50 + rng.normal(0, 4, length) for _ in range(n_items)]
    out = forecast_errors(series, [f"i{i}" for i in range(n_items)], ["smooth"] * n_items, h,
                          models={"smooth": "HistoricAverage"})  # fmt: skip
    assert (out["backtest_windows"] == 8).all()
    origins = length - h * np.arange(1, 9)
    theory = float(np.mean(h * 16 + h * h * 16 / origins))
    assert (out["forecast_error_sd"] ** 2).mean() == pytest.approx(theory, rel=0.12)
    assert out["forecast_rmse"].mean() == pytest.approx(np.sqrt(theory), rel=0.06)


def test_default_origins_are_one_horizon_apart() -> None:
    # a straight line y = t with Naive: the H-bucket error at origin o is
    # sum(o + i for i in range(H)) - H x (o - 1) = H (H + 1) / 2 at every origin; the number of
    # origins is what the history allows at step H: (30 - 8 - 5) // 5 + 1 = 4
    line = np.arange(30, dtype=float)
    out = forecast_errors([line], ["a"], ["smooth"], 5, models={"smooth": "Naive"})
    assert out.loc[0, "backtest_windows"] == 4
    assert out.loc[0, "forecast_bias"] == pytest.approx(15.0)
    assert out.loc[0, "forecast_error_sd"] == pytest.approx(0.0)
