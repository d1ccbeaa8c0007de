"""Forecast and forecast error per item, with statsforecast, by rolling-origin backtest.

Model by demand class (`DEFAULT_MODELS`; the measured speeds on 2 cores are in
docs/profiles.md):
    smooth, erratic      SES  (simple exponential smoothing, alpha optimised)
    intermittent         CrostonSBA (Croston with the Syntetos-Boylan 0.95 correction)
    lumpy                ADIDA (temporal aggregation at the mean interval + SES)
    insufficient         CrostonSBA
    no_demand            Zero (forecast 0; no model is fitted)
AutoETS / Theta can be chosen per class (`models=`), at about 10-100 series/s.

Backtest: the series is the item's observed periods in order (not-observed periods are left
out). For each of the last `windows` forecast origins o (spaced `step` buckets apart, by default
H buckets, the last one H buckets before the end), the model is fitted on periods [0, o) and
forecasts the next H = protection interval buckets (lead time + review period). The error of
one origin is
    e_o = sum(actual[o : o + H]) - sum(forecast[o : o + H])      [units over H buckets]
and per item: forecast_error_sd = sd(e_o, ddof = 1), forecast_bias = mean(e_o),
forecast_rmse = sqrt(mean(e_o²)). With the default step = H the H-bucket windows of the
origins do not overlap, so the errors are (close to) independent draws and their sd estimates
the error sd of one protection interval; origins closer than H share most of their window (at
step 1 and H = 14, 13 of 14 buckets), so their errors move together and their sd measures the
spread between origins, not the error (about half the real sd for white noise). As many
origins as the history allows, up to `windows` (so at most `windows` + 1 fits per item).
forecast_mean is the one-bucket forecast from the whole history [units per bucket]. Items too
short for `min_windows` origins (after `min_train` periods of fitting) get NaN error figures.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.errors import InvalidInput
from bufferwise.profile._group import group_stats
from bufferwise.profile.demand import DemandMatrix

DEFAULT_MODELS: dict[str, str] = {
    "smooth": "SES",
    "erratic": "SES",
    "intermittent": "CrostonSBA",
    "lumpy": "ADIDA",
    "insufficient": "CrostonSBA",
    "no_demand": "Zero",
}
MODEL_NAMES: tuple[str, ...] = (
    "SES",
    "CrostonSBA",
    "CrostonClassic",
    "TSB",
    "ADIDA",
    "IMAPA",
    "Theta",
    "AutoETS",
    "Naive",
    "HistoricAverage",
    "Zero",
)

FORECAST_COLUMNS: tuple[str, ...] = (
    "item_id",
    "forecast_model",
    "forecast_mean",
    "forecast_horizon",
    "backtest_windows",
    "forecast_error_sd",
    "forecast_bias",
    "forecast_rmse",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    """windows      forecast origins of the rolling-origin backtest
    step         buckets between consecutive origins; None (default): the item's horizon H,
                 so the H-bucket error windows do not overlap (an unbiased error sd)
    min_train    periods the model sees before the first origin
    min_windows  fewer feasible origins than this: error figures are NaN
    n_jobs       statsforecast worker processes
    season_length  season of AutoETS / Theta when chosen (None: no season)
    tsb_alpha_d, tsb_alpha_p  smoothing constants when TSB is chosen
    batch        series per statsforecast call (memory bound, progress step)
    max_series   forecast and backtest at most this many series (None: all). A larger
                 portfolio is forecast on a deterministic, evenly spaced sample within each
                 (model, horizon) group; the other items keep their model name and horizon,
                 with backtest_windows 0 and NaN forecast figures
    """

    windows: int = 8
    step: int | None = None
    min_train: int = 8
    min_windows: int = 3
    n_jobs: int = 1
    season_length: int | None = None
    tsb_alpha_d: float = 0.1
    tsb_alpha_p: float = 0.1
    batch: int = 5_000
    max_series: int | None = None


def make_model(name: str, settings: ForecastSettings | None = None) -> object:
    """The statsforecast model object for a model name of MODEL_NAMES (alias = name)."""
    from statsforecast import models as sfm

    st = settings or ForecastSettings()
    season = st.season_length or 1
    factories: dict[str, Callable[[], object]] = {
        "SES": lambda: sfm.SimpleExponentialSmoothingOptimized(alias="SES"),
        "CrostonSBA": lambda: sfm.CrostonSBA(alias="CrostonSBA"),
        "CrostonClassic": lambda: sfm.CrostonClassic(alias="CrostonClassic"),
        "TSB": lambda: sfm.TSB(alpha_d=st.tsb_alpha_d, alpha_p=st.tsb_alpha_p, alias="TSB"),
        "ADIDA": lambda: sfm.ADIDA(alias="ADIDA"),
        "IMAPA": lambda: sfm.IMAPA(alias="IMAPA"),
        "Theta": lambda: sfm.Theta(season_length=season, alias="Theta"),
        "AutoETS": lambda: sfm.AutoETS(season_length=season, alias="AutoETS"),
        "Naive": lambda: sfm.Naive(alias="Naive"),
        "HistoricAverage": lambda: sfm.HistoricAverage(alias="HistoricAverage"),
    }
    if name not in factories:
        raise InvalidInput(f"forecast model {name!r} is not one of {', '.join(factories)}")
    return factories[name]()


def _long(values: Sequence[np.ndarray], uids: np.ndarray) -> pd.DataFrame:
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    y = np.concatenate(values) if len(values) else np.zeros(0)
    uid = np.repeat(uids, lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    ds = np.arange(len(y), dtype=np.int64) - starts
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def observed_series(matrix: DemandMatrix, rows: np.ndarray | None = None) -> list[np.ndarray]:
    """Each item's observed periods in order (not-observed periods left out)."""
    q = matrix.quantity if rows is None else matrix.quantity[rows]
    return [r[~np.isnan(r)] for r in q]


def forecast_errors(
    series: Sequence[np.ndarray],
    item_ids: Sequence[str] | np.ndarray,
    classes: Sequence[str] | np.ndarray,
    horizon: int | Sequence[int] | np.ndarray,
    *,
    models: Mapping[str, str] | None = None,
    settings: ForecastSettings | None = None,
    progress: Progress | None = None,
    timings: dict[str, list[float]] | None = None,
) -> pd.DataFrame:
    """Model, one-bucket forecast and backtest error per item (columns FORECAST_COLUMNS).

    series   each item's demand per bucket, oldest first [units per bucket]
    classes  demand class per item (chooses the model through `models`, default
             DEFAULT_MODELS; classes not in the map use CrostonSBA)
    horizon  protection interval H [buckets] (one for all, or one per item; >= 1)
    timings  optional dict filled with model -> [series, seconds] (throughput figures)
    """
    st = settings or ForecastSettings()
    chosen = {**DEFAULT_MODELS, **(models or {})}
    ids = np.asarray(item_ids, dtype=object)
    n = len(series)
    if len(ids) != n or len(classes) != n:
        raise InvalidInput("series, item_ids and classes must have the same length")
    h = np.broadcast_to(np.asarray(horizon, dtype=np.int64), (n,)).copy()
    if (h < 1).any():
        raise InvalidInput("forecast horizon (protection interval) must be at least 1 bucket")
    model = np.array([chosen.get(str(c), "CrostonSBA") for c in classes], dtype=object)
    lengths = np.array([len(s) for s in series], dtype=np.int64)
    step = h if st.step is None else np.full(n, max(st.step, 1), dtype=np.int64)
    feasible = (lengths - st.min_train - h) // step + 1
    win = np.clip(feasible, 0, st.windows)
    win = np.where(win >= st.min_windows, win, 0)

    out = pd.DataFrame(
        {
            "item_id": ids,
            "forecast_model": model,
            "forecast_mean": np.full(n, np.nan),
            "forecast_horizon": h,
            "backtest_windows": win,
            "forecast_error_sd": np.full(n, np.nan),
            "forecast_bias": np.full(n, np.nan),
            "forecast_rmse": np.full(n, np.nan),
        }
    )
    zero = model == "Zero"
    if zero.any():
        # no demand in the history: the forecast is 0 and every backtest error is exactly 0
        out.loc[zero, "forecast_mean"] = 0.0
        judged = zero & (win > 0)
        for col in ("forecast_error_sd", "forecast_bias", "forecast_rmse"):
            out.loc[judged, col] = 0.0
    groups = pd.DataFrame({"model": model, "h": h, "w": win, "row": np.arange(n)})
    groups = groups[~zero]
    if st.max_series is not None and len(groups) > st.max_series:
        strata = groups["model"].astype(str) + "|" + groups["h"].astype(str)
        sampled = groups.iloc[sample_rows(strata, st.max_series)]
        left_out = np.setdiff1d(groups["row"].to_numpy(), sampled["row"].to_numpy())
        out.loc[left_out, "backtest_windows"] = 0
        groups = sampled
    keys = sorted(groups.groupby(["model", "h", "w"]).groups.items(), key=lambda kv: str(kv[0]))
    total = len(groups)
    done = 0
    for (name, hh, ww), index in keys:
        group_rows = groups.loc[index, "row"].to_numpy()
        # batches keep memory bounded and let progress move
        for lo in range(0, len(group_rows), st.batch):
            rows = group_rows[lo : lo + st.batch]
            started = time.perf_counter()
            _fit_group(out, series, rows, str(name), int(hh), int(ww), st)
            if timings is not None:
                t = timings.setdefault(str(name), [0.0, 0.0])
                t[0] += len(rows)
                t[1] += time.perf_counter() - started
            done += len(rows)
            if progress is not None:
                progress(done, total)
    return out


def sample_rows(strata: pd.Series, size: int) -> np.ndarray:
    """Positions of a deterministic sample of `size` rows, evenly spaced within each stratum
    (each stratum gets its share of the sample, at least one row), in their original order."""
    codes, _ = pd.factorize(strata.to_numpy())
    n = len(codes)
    if size >= n:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    counts = np.bincount(codes)
    for code, count in enumerate(counts):
        members = np.flatnonzero(codes == code)
        want = max(1, round(size * count / n))
        step = count / min(want, count)
        keep[members[(np.arange(min(want, count)) * step).astype(np.int64)]] = True
    return np.flatnonzero(keep)


def _fit_group(
    out: pd.DataFrame,
    series: Sequence[np.ndarray],
    rows: np.ndarray,
    name: str,
    h: int,
    windows: int,
    st: ForecastSettings,
) -> None:
    from statsforecast import StatsForecast

    df = _long([np.asarray(series[i], dtype=np.float64) for i in rows], rows)
    if df.empty:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = StatsForecast(models=[make_model(name, st)], freq=1, n_jobs=st.n_jobs)
        fc = sf.forecast(df=df, h=1)
        level = fc.set_index("unique_id")[name]
        out.loc[level.index.to_numpy(), "forecast_mean"] = level.to_numpy()
        if windows <= 0:
            return
        step = h if st.step is None else max(st.step, 1)
        cv = sf.cross_validation(df=df, h=h, n_windows=windows, step_size=step)
    err = (cv["y"] - cv[name]).to_numpy()
    frame = pd.DataFrame({"uid": cv["unique_id"].to_numpy(), "cut": cv["cutoff"].to_numpy()})
    frame["e"] = err
    per_origin = frame.groupby(["uid", "cut"], sort=True)["e"].sum()
    uid = per_origin.index.get_level_values(0).to_numpy().astype(np.int64)
    e = per_origin.to_numpy(dtype=np.float64)
    n_out = len(out)
    stats = group_stats(uid, e, n_out)
    sq = group_stats(uid, e * e, n_out)
    idx = np.unique(uid)
    out.loc[idx, "forecast_error_sd"] = stats["sd"][idx]
    out.loc[idx, "forecast_bias"] = stats["mean"][idx]
    out.loc[idx, "forecast_rmse"] = np.sqrt(sq["mean"][idx])
