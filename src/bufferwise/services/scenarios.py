"""Use case: what-if scenarios from a file, run on the whole portfolio with the current and the
recommended buffers (the modelling is in `bufferwise.decide.scenarios`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bufferwise.decide.scenarios import Scenario, run_scenarios, scenario_from_dict
from bufferwise.errors import InvalidInput
from bufferwise.services.analyze import AnalysisResult, Progress, analyze
from bufferwise.settings import Settings


def load_scenarios(path: Path) -> list[Scenario]:
    """Scenarios from a TOML file: one `[[scenarios]]` table each, e.g.

        [[scenarios]]
        name = "S05 out for a month"
        supplier_outage = { supplier_id = "S05", days = 30, start = "2026-01-05" }

    Errors name the file and the scenario."""
    if not path.is_file():
        raise InvalidInput(f"{path}: scenario file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
    unknown = [k for k in data if k != "scenarios"]
    if unknown:
        raise InvalidInput(f"{path}: unknown key(s) {', '.join(unknown)} (expected [[scenarios]])")
    entries = data.get("scenarios")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(f"{path}: no [[scenarios]] tables found")
    out = []
    for i, entry in enumerate(entries, 1):
        try:
            out.append(scenario_from_dict(entry))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}, scenario #{i}: {exc}") from None
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInput(f"{path}: scenario name(s) used twice: {', '.join(dupes)}")
    return out


@dataclass(slots=True)
class ScenarioRun:
    result: AnalysisResult
    detail: pd.DataFrame
    summary: pd.DataFrame


def run_scenario_file(
    db_url: str,
    settings: Settings,
    path: Path,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> ScenarioRun:
    """Decide every stored item, then run each scenario of `path` against the buffers in
    force and the recommended ones; stored as a 'scenario' run."""
    scenarios = load_scenarios(path)

    def extra(result: AnalysisResult) -> dict[str, pd.DataFrame]:
        try:
            detail, summary = run_scenarios(
                result.decisions.analysis, scenarios, result.receipts, seed=result.seed
            )
        except InvalidInput as exc:  # e.g. a supplier id the stored items do not have
            raise InvalidInput(f"{path}: {exc}") from None
        return {"scenario_detail": detail, "scenario_summary": summary}

    result = analyze(
        db_url, settings, seed=seed, progress=progress, kind="scenario", extra_outputs=extra
    )
    return ScenarioRun(
        result=result,
        detail=result.extra["scenario_detail"],
        summary=result.extra["scenario_summary"],
    )
