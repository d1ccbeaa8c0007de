"""Reliability: censored exponential / Weibull fits, failures from state logs, Azure PdM data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bufferwise.equipment import (
    failure_stops,
    fit_exponential,
    fit_weibull,
    reliability_by_component,
    reliability_by_machine,
)

# Azure PdM failures are 2015 data (the telemetry year); the observation window we assume:
AZURE_WINDOW = (pd.Timestamp("2015-01-01"), pd.Timestamp("2016-01-01"))


def _censored_weibull(shape: float, scale: float, n: int, censor_at: float, seed: int):
    rng = np.random.default_rng(seed)
    t = scale * rng.weibull(shape, n)
    return np.minimum(t, censor_at), t <= censor_at


def test_weibull_fit_recovers_known_parameters_within_its_interval() -> None:
    # synthetic: shape 1.8, scale 1000 h, 80 units, type-I censoring at 1200 h (about 30%)
    t, d = _censored_weibull(1.8, 1000.0, 80, 1200.0, seed=7)
    assert 0.2 < 1 - d.mean() < 0.45
    fit = fit_weibull(t, d, confidence=0.95)
    assert fit.contains(1.8, 1000.0)
    assert fit.shape_lower < fit.shape < fit.shape_upper

    # the MLE solves the censored likelihood equations: compare with scipy's generic optimiser
    def nll(p: np.ndarray) -> float:
        k, lam = np.exp(p)
        return -(
            stats.weibull_min.logpdf(t[d], k, scale=lam).sum()
            + stats.weibull_min.logsf(t[~d], k, scale=lam).sum()
        )

    from scipy.optimize import minimize

    res = minimize(
        nll,
        np.log([1.0, float(t.mean())]),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
    )
    assert fit.shape == pytest.approx(np.exp(res.x[0]), rel=1e-4)
    assert fit.scale_hours == pytest.approx(np.exp(res.x[1]), rel=1e-4)
    assert fit.log_likelihood == pytest.approx(-res.fun, abs=1e-6)


def test_weibull_interval_coverage_is_close_to_nominal() -> None:
    # 300 synthetic censored samples: the 90% intervals cover the truth about 90% of the time
    rng = np.random.default_rng(11)
    cover_shape = cover_scale = 0
    reps = 300
    for _ in range(reps):
        t, d = _censored_weibull(0.8, 500.0, 50, 900.0, seed=int(rng.integers(1 << 31)))
        f = fit_weibull(t, d, confidence=0.9)
        cover_shape += f.shape_lower <= 0.8 <= f.shape_upper
        cover_scale += f.scale_lower_hours <= 500.0 <= f.scale_upper_hours
    # binomial(300, 0.9): sd 1.7 points; allow 4 sd either side
    assert 0.83 <= cover_shape / reps <= 0.97
    assert 0.83 <= cover_scale / reps <= 0.97


def test_exponential_fit_chi_square_interval() -> None:
    # 10 failures in 5,000 h of total time (time-terminated): MTBF 500 h; 90% interval from
    # chi-square with 22 and 20 degrees of freedom: 2T/33.924 .. 2T/10.851 (tables)
    fit = fit_exponential([500.0] * 10, [True] * 10, confidence=0.9)
    assert fit.mtbf_hours == pytest.approx(500.0)
    assert fit.mtbf_lower_hours == pytest.approx(10_000 / 33.924, rel=1e-4)
    assert fit.mtbf_upper_hours == pytest.approx(10_000 / 10.851, rel=1e-4)
    none = fit_exponential([1000.0], [False])
    assert none.failures == 0 and none.mtbf_hours == np.inf
    assert none.mtbf_lower_hours == pytest.approx(2000 / stats.chi2.ppf(0.95, 2))


def test_failures_from_state_log_keep_neighbour_stops_apart() -> None:
    t0 = pd.Timestamp("2024-01-01")

    def h(x: float) -> pd.Timestamp:
        return t0 + pd.Timedelta(hours=x)

    events = pd.DataFrame(
        {
            "machine_id": ["A"] * 7,
            "start": [h(0), h(10), h(11), h(30), h(31), h(50), h(70)],
            "end": [h(10), h(11), h(12), h(31), h(31.05), h(52), h(100)],
            "state": ["running", "down", "down", "starved", "down", "blocked", "running"],
        }
    )
    stops = failure_stops(events)
    # 10-12 h is one failure (two touching records); the 3-minute stop is a small stop; the
    # starved and blocked periods are not failures
    assert len(stops) == 1 and stops["repair_hours"].iloc[0] == pytest.approx(2.0)
    rel = reliability_by_machine(events).iloc[0]
    assert rel["failures"] == 1
    assert rel["exposure_hours"] == pytest.approx(98.0)  # 100 h window - 2 h repair
    assert rel["mtbf_hours"] == pytest.approx(98.0)
    assert rel["mttr_hours"] == pytest.approx(2.0)
    assert rel["starved_hours"] == pytest.approx(1.0)
    assert rel["blocked_hours"] == pytest.approx(2.0)
    # with no micro-stop threshold the 3-minute stop counts as a failure too
    rel0 = reliability_by_machine(events, micro_stop_threshold_s=0).iloc[0]
    assert rel0["failures"] == 2


@pytest.fixture(scope="module")
def azure(shared_data: Path) -> tuple[pd.DataFrame, list[str]]:
    base = shared_data / "azure_pdm"
    f = pd.read_csv(base / "PdM_failures.csv", parse_dates=["datetime"])
    machines = pd.read_csv(base / "PdM_machines.csv")
    events = pd.DataFrame(
        {
            "machine_id": f["machineID"].astype(str),
            "start": f["datetime"],
            "end": f["datetime"],  # instantaneous: the repair time is not in the data
            "state": "down",
            "reason": "failure",
            "component": f["failure"],
        }
    )
    return events, machines["machineID"].astype(str).tolist()


def test_azure_pdm_mtbf_per_machine(azure: tuple[pd.DataFrame, list[str]]) -> None:
    events, ids = azure
    rel = reliability_by_machine(events, window=AZURE_WINDOW, machine_ids=ids)
    rel = rel.set_index("machine_id")
    assert len(rel) == 100
    # 761 component failures; 42 machine-instants name two components: 719 failure events
    assert rel["failures"].sum() == 719
    assert (rel["failures"] == 0).sum() == 2  # two machines never fail in 2015
    assert rel["mttr_hours"].isna().all()  # repair times unknown, stated
    assert rel["note"].str.contains("repair times unknown").sum() == 98
    # machine 1: failures on 7 distinct instants in 8,760 h -> MTBF 1251.43 h
    assert rel.loc["1", "failures"] == 7
    assert rel.loc["1", "mtbf_hours"] == pytest.approx(8760 / 7)
    # plant-wide exponential MTBF: 876,000 machine-hours / 719 failures
    assert 876_000 / rel["failures"].sum() == pytest.approx(1218.36, abs=0.01)
    # pinned censored Weibull fit of machine 1 (computed here 2026-11-27)
    assert rel.loc["1", "weibull_shape"] == pytest.approx(2.3207, abs=1e-3)
    assert rel.loc["1", "weibull_scale"] == pytest.approx(1323.10, abs=0.05)


def test_azure_pdm_mtbf_per_component_with_censored_weibull(
    azure: tuple[pd.DataFrame, list[str]],
) -> None:
    events, ids = azure
    comp = reliability_by_component(events, window=AZURE_WINDOW, machine_ids=ids)
    comp = comp.set_index("component")
    print(
        comp[
            [
                "failures",
                "mtbf_hours",
                "weibull_shape",
                "weibull_shape_lower",
                "weibull_shape_upper",
                "weibull_scale",
                "mttf_hours",
            ]
        ]
    )
    counts = {"comp1": 192, "comp2": 259, "comp3": 131, "comp4": 179}
    for c, n in counts.items():
        assert comp.loc[c, "failures"] == n
        # 100 machines x 8,760 h of exposure (instantaneous failures take no time)
        assert comp.loc[c, "mtbf_hours"] == pytest.approx(876_000 / n)
    # comp2 wears out (shape CI above 1); comp3 fails more often early (shape CI below 1)
    assert comp.loc["comp2", "weibull_shape_lower"] > 1.0
    assert comp.loc["comp3", "weibull_shape_upper"] < 1.0
    # pinned censored Weibull fits, pooled over the 100 machines (computed here 2026-11-27)
    pinned = {
        "comp1": (1.0258, 4551.7),
        "comp2": (1.2013, 3406.0),
        "comp3": (0.8038, 7112.4),
        "comp4": (0.9404, 4921.3),
    }
    for c, (k, eta) in pinned.items():
        assert comp.loc[c, "weibull_shape"] == pytest.approx(k, abs=1e-3)
        assert comp.loc[c, "weibull_scale"] == pytest.approx(eta, abs=0.5)


def test_per_machine_and_component(azure: tuple[pd.DataFrame, list[str]]) -> None:
    events, ids = azure
    per = reliability_by_component(
        events, window=AZURE_WINDOW, pool_machines=False, machine_ids=ids
    )
    assert len(per) == 400  # 100 machines x 4 components, censored rows where none failed
    assert per["failures"].sum() == 761
    one = per[(per["machine_id"] == "1")].set_index("component")
    # machine 1 in PdM_failures.csv: comp4 4 times, comp2 twice, comp1 once, comp3 never
    for comp, n in {"comp4": 4, "comp2": 2, "comp1": 1}.items():
        assert one.loc[comp, "failures"] == n
        assert one.loc[comp, "mtbf_hours"] == pytest.approx(8760 / n)
    assert one.loc["comp3", "failures"] == 0
    assert one.loc["comp3", "mtbf_hours"] == np.inf


def test_stop_under_way_at_window_start_is_not_a_failure_in_the_window() -> None:
    t0 = pd.Timestamp("2024-01-01")
    events = pd.DataFrame(
        {
            "machine_id": ["A", "A", "A", "A"],
            "start": [
                t0,
                t0 + pd.Timedelta(hours=5),
                t0 + pd.Timedelta(hours=6),
                t0 + pd.Timedelta(hours=40),
            ],
            "end": [
                t0 + pd.Timedelta(hours=5),
                t0 + pd.Timedelta(hours=6),
                t0 + pd.Timedelta(hours=40),
                t0 + pd.Timedelta(hours=42),
            ],
            "state": ["down", "running", "running", "down"],
        }
    )
    window = (t0 + pd.Timedelta(hours=2), t0 + pd.Timedelta(hours=50))
    stops = failure_stops(events, window=window)
    assert len(stops) == 1 and stops["start"].iloc[0] == t0 + pd.Timedelta(hours=40)
    rel = reliability_by_machine(events, window=window).iloc[0]
    assert rel["failures"] == 1 and rel["mttr_hours"] == pytest.approx(2.0)
