"""Issue 7: the same inputs, settings and seed give identical results; another seed changes
only the simulated figures.

Profiles, equipment measurements and the facts about the current policy do not depend on the
seed at all; the recommended levels and their expected figures come from Monte Carlo cost
curves and may move a little. The portfolio totals are compared with a tolerance set from the
example plant: 240 items, 4 replications of 8 simulated years per level.
"""

from __future__ import annotations

import pandas as pd
import pytest

from bufferwise.demo import generate_plant
from bufferwise.services import analyze as analyze_module
from bufferwise.services.analyze import AnalysisResult, analyze
from bufferwise.services.imports import import_files
from bufferwise.settings import Settings

pytestmark = pytest.mark.slow

#: columns of the recommendations that describe the current policy, not a simulation
FACT_COLUMNS = (
    "item_id",
    "current_safety_stock",
    "stockout_cost_per_unit",
    "stockout_cost_derived",
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, AnalysisResult]:
    base = tmp_path_factory.mktemp("seeds")
    generate_plant(base / "plant")
    url = f"sqlite:///{base / 'p.db'}"
    import_files(url, [base / "plant"])
    first = analyze(url, Settings(), seed=11)
    # the second run forecasts in a child process beside decide, as a large plant does
    # (services/background.py): the same tables
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analyze_module, "BACKGROUND_FORECAST_ITEMS", 0)
        again = analyze(url, Settings(), seed=11)
    return {"a": first, "a_again": again, "b": analyze(url, Settings(), seed=12)}


def test_same_seed_same_results(runs: dict[str, AnalysisResult]) -> None:
    assert "forecast.computed" not in runs["a"].timings  # forecast in profile, in-process
    assert "forecast.computed" in runs["a_again"].timings  # in a child, joined after decide
    # decide's step timings are recorded whether the forecast ran beside it or not
    # (docs/performance.md: every analyze run records them)
    for run in ("a", "a_again"):
        steps = [k for k in runs[run].timings if k.startswith("decide.")]
        assert steps and all(runs[run].timings[k] >= 0 for k in steps), run
    first, again = runs["a"].output_tables(), runs["a_again"].output_tables()
    assert first.keys() == again.keys()
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name], obj=name)


def test_another_seed_changes_only_simulated_figures(runs: dict[str, AnalysisResult]) -> None:
    a, b = runs["a"].output_tables(), runs["b"].output_tables()
    for name in ("demand_profile", "supply_profile", "disruptions", "machines", "losses"):
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    cols = [c for c in FACT_COLUMNS if c in a["recommendations"].columns]
    pd.testing.assert_frame_equal(a["recommendations"][cols], b["recommendations"][cols])
    # the simulated portfolio figures move, but only by simulation noise
    ta, tb = a["totals"].iloc[0], b["totals"].iloc[0]
    assert ta["buffer_value_now"] == tb["buffer_value_now"]  # the buffers in force: a fact
    for key in ("buffer_value_recommended", "expected_fill_rate_recommended"):
        assert tb[key] == pytest.approx(ta[key], rel=0.05), key
    # and the stance of most items does not depend on the seed
    same = (a["recommendations"]["stance"] == b["recommendations"]["stance"]).mean()
    assert same >= 0.9


def test_another_seed_moves_figures_within_their_confidence_intervals(
    runs: dict[str, AnalysisResult],
) -> None:
    # Each item's expected fill and annual cost carry the half-width of their 95 % interval
    # (Student t over the kernel's replications). Two seeds are independent estimates, so the
    # difference of an item's figures should stay within sqrt(ci_a^2 + ci_b^2) for about 95 %
    # of the items -- also where the seeds chose neighbouring levels (near-ties of cost).
    # Measured on the example plant, seeds 11 / 12 (2026-11-27): 99.2 % of the fills and
    # 96.3 % of the costs; 53 % of the items got the same level.
    a, b = (
        runs["a"].output_tables()["recommendations"],
        runs["b"].output_tables()["recommendations"],
    )
    assert (a["item_id"].to_numpy() == b["item_id"].to_numpy()).all()
    for col in ("expected_fill_rate", "expected_annual_cost"):
        ci_a, ci_b = a[f"{col}_ci"].to_numpy(float), b[f"{col}_ci"].to_numpy(float)
        assert (ci_a >= 0).all() and (ci_b >= 0).all(), col
        diff = (a[col] - b[col]).abs().to_numpy(float)
        within = diff <= (ci_a**2 + ci_b**2) ** 0.5 + 1e-9
        assert within.mean() >= 0.9, (col, within.mean())
