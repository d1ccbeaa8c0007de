"""The main job: from stored (or freshly imported) data to decisions, in one recorded run.

    import (optional) -> profile -> equipment (when machine data exist) -> decide + diagnose
      -> store every result table in the run -> exports and report (by the caller)

The same inputs, settings and seed give identical results. A process killed mid-run leaves the
run marked 'running' (never read as a result) and everything stored before it intact.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bufferwise.decide import Decisions, decide_items, decide_matrix
from bufferwise.equipment import EquipmentReport, analyze_equipment
from bufferwise.errors import InvalidInput
from bufferwise.profile import ForecastSettings, Profiles, profile_all
from bufferwise.services.background import Background
from bufferwise.services.imports import ImportSummary, import_files
from bufferwise.services.review import with_approved_levels
from bufferwise.services.runs import load_tables, recorded_run
from bufferwise.services.sizing import no_items_check, resolve_item_inputs
from bufferwise.settings import Settings
from bufferwise.storage import open_repository

#: progress(stage, done, total); stages: import, profile, equipment, decide, store
Progress = Callable[[str, int, int], None]

STAGES = ("import", "profile", "equipment", "decide", "store")

#: from this many items on, the forecast runs in a child process beside equipment and decide
BACKGROUND_FORECAST_ITEMS = 2_000


@dataclass(slots=True)
class AnalysisResult:
    """Everything one analyze run produced (also stored as the run's output tables)."""

    run_id: int
    settings: Settings
    seed: int
    items: pd.DataFrame
    receipts: pd.DataFrame
    profiles: Profiles
    decisions: Decisions
    equipment: EquipmentReport | None
    imported: ImportSummary | None = None
    #: first and last demand date (None: no demand rows); the demand table itself is let go
    #: once profiled and bucketed (each item's history is in `profiles.matrix`)
    demand_window: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None)
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    def output_tables(self) -> dict[str, pd.DataFrame]:
        """The result tables, by stable name (what the run stores and the exports write)."""
        d = self.decisions
        out: dict[str, pd.DataFrame] = {
            "recommendations": d.items,
            "findings": d.findings,
            "frontier": d.frontier,
            "totals": pd.DataFrame([d.totals]) if isinstance(d.totals, dict) else d.totals,
            "demand_profile": self.profiles.demand,
            "supply_profile": self.profiles.supply,
            "disruptions": self.profiles.disruptions,
        }
        if self.equipment is not None:
            out["machines"] = self.equipment.machines
            out["buffers"] = self.equipment.buffers
            out["losses"] = self.equipment.losses
        return out


class _Steps:
    """Times the steps a stage reports through its progress callback (stage.step -> seconds,
    `stage.start` = before its first report) and passes the progress on as the stage's."""

    def __init__(self, stage: str, tick: Callable[[str, int, int], None]) -> None:
        self.stage = stage
        self.tick = tick
        self.started = time.perf_counter()
        self.marks: list[tuple[str, float]] = []

    def progress(self, step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.marks or self.marks[-1][0] != step:
            self.marks.append((step, now))
        self.tick(self.stage, done, total)

    def timings(self) -> dict[str, float]:
        """Call when the stage's work has returned (the last step ends now)."""
        end = time.perf_counter()
        out: dict[str, float] = {}
        if not self.marks:  # the stage reported no step (every step skipped): nothing timed
            return out
        out[f"{self.stage}.start"] = round(self.marks[0][1] - self.started, 3)
        following = [at for _, at in self.marks[1:]] + [end]
        for (step, at), nxt in zip(self.marks, following, strict=True):
            key = f"{self.stage}.{step}"
            out[key] = round(out.get(key, 0.0) + nxt - at, 3)
        return out


def require_items(items: pd.DataFrame, machine_events: pd.DataFrame | None = None) -> None:
    """Refuse (InvalidInput, exit code 1) a job that needs items when none are stored, with
    the sizing service's message; with machine data stored, say which command measures them."""
    try:
        no_items_check(items)
    except InvalidInput as exc:
        if machine_events is not None and len(machine_events):
            raise InvalidInput(
                f"{exc}; the machine data stored are measured alone by `bufferwise equipment`"
            ) from None
        raise


def _window(demand: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last demand date (None, None without dated rows)."""
    if len(demand) == 0:
        return None, None
    dates = pd.to_datetime(demand["date"], errors="coerce")
    if dates.isna().all():
        return None, None
    return pd.Timestamp(dates.min()), pd.Timestamp(dates.max())


def analyze(
    db_url: str,
    settings: Settings,
    *,
    paths: Sequence[Path] = (),
    mapping: str | None = None,
    import_mode: str = "default",
    seed: int | None = None,
    progress: Progress | None = None,
    kind: str = "analyze",
    extra_outputs: Callable[[AnalysisResult], dict[str, pd.DataFrame]] | None = None,
    on_import: Callable[[ImportSummary], None] | None = None,
) -> AnalysisResult:
    """Run the main job on the database at `db_url` (importing `paths` first when given).

    kind           the run's kind ('analyze'; 'decide' and 'scenario' runs reuse the job)
    extra_outputs  more result tables computed from the result inside the same run (e.g.
                   what-if scenarios); stored with the others
    on_import      called with the import's summary as soon as `paths` are stored (before
                   the analysis, which may still fail), e.g. to report rejected rows

    A database without items is refused before any run is recorded (`require_items`,
    InvalidInput): the job decides items' stances; machine data alone are `equipment`'s.
    """
    used_seed = settings.simulation.seed if seed is None else seed
    timings: dict[str, float] = {}

    def tick(stage: str, done: int = 0, total: int = 1) -> None:
        if progress is not None:
            progress(stage, done, total)

    imported = None
    if paths:
        tick("import")
        t0 = time.perf_counter()
        imported = import_files(db_url, paths, mapping=mapping, mode=import_mode)
        timings["import"] = round(time.perf_counter() - t0, 3)
        if on_import is not None:
            on_import(imported)

    repo = open_repository(db_url)
    froze = False
    forecasting: Background[pd.DataFrame] | None = None
    try:
        t0 = time.perf_counter()
        t = load_tables(repo)
        require_items(t["items"], t["machine_events"])
        # the approved levels are the current policy once there are any (the review cycle)
        t["items"] = with_approved_levels(t["items"], repo.current_policies())
        timings["read"] = round(time.perf_counter() - t0, 3)
        # The tables hold tens of millions of object references (one per demand row's item
        # id): every full garbage collection would walk them all (about 0.4 s each at 100,000
        # items, 1.8 s a run). They go to the permanent generation for the run (reference
        # counting still frees them); unfrozen at the end unless something froze before us.
        froze = gc.get_freeze_count() == 0
        gc.freeze()
        with recorded_run(repo, kind, settings.as_dict(), seed=used_seed) as run:
            run.timings.update(timings)
            with run.stage("profile"):
                tick("profile")
                cap = settings.profile.forecast_max_items
                profile_steps = _Steps("profile", tick)
                profiles = profile_all(
                    t["demand"],
                    t["receipts"],
                    t["items"],
                    bucket=settings.profile.bucket,
                    # the forecast (demand profile figures only; decide does not use them)
                    # of a large plant runs in a child process beside equipment and decide,
                    # joined before store; a small one here (a child costs ~2 s to start)
                    forecast=(
                        ("later" if len(t["items"]) >= BACKGROUND_FORECAST_ITEMS else True)
                        if settings.profile.forecast
                        else False
                    ),
                    progress=profile_steps.progress,
                    forecast_settings=ForecastSettings(max_series=cap or None),
                )
                run.timings.update(profile_steps.timings())
                pending = profiles.pending_forecast
                if pending is not None:
                    forecasting = Background(pending.compute)
                if settings.profile.forecast and cap and len(profiles.demand) > cap:
                    profiles.notes.append(
                        f"forecast error measured on a sample of {cap:,} of "
                        f"{len(profiles.demand):,} items (settings [profile] "
                        "forecast_max_items); the others have no forecast figures"
                    )
            equipment: EquipmentReport | None = None
            if len(t["machine_events"]):
                with run.stage("equipment"):
                    tick("equipment")
                    eq = settings.equipment
                    equipment = analyze_equipment(
                        t["machines"],
                        t["machine_events"],
                        t["production_counts"] if len(t["production_counts"]) else None,
                        t["wip_buffers"] if len(t["wip_buffers"]) else None,
                        conventions=eq.conventions(),
                        target_line_efficiency=eq.target_line_efficiency,
                        criteria=eq.readiness_criteria(),
                        seed=used_seed,
                        items=t["items"],
                    )
            window = _window(t["demand"])
            with run.stage("decide"):
                tick("decide")
                decide_steps = _Steps("decide", tick)
                # holding rates, stockout multiples and per-group overrides from the settings,
                # resolved as the sizing service resolves them
                items = resolve_item_inputs(t["items"], settings)
                matrix = decide_matrix(items, t["demand"], settings.decide)
                # nothing after this needs the demand rows (about 1 GiB at 100,000 items x
                # 730 days): the profiles and the matrix hold what the run and report use
                del t["demand"]
                decisions = decide_items(
                    items,
                    None,
                    t["receipts"],
                    profiles=profiles,
                    equipment_risk=equipment.item_outages if equipment is not None else None,
                    settings=settings.decide,
                    seed=used_seed,
                    progress=decide_steps.progress,
                    matrix=matrix,
                )
                del matrix  # decisions.analysis holds it
            if forecasting is not None:
                assert pending is not None
                waited = time.perf_counter()
                table, seconds, _ = forecasting.result()
                pending.apply(profiles, table)
                # computed: the forecast's own time (beside decide in the child); waited: what
                # the run spent waiting for it after decide
                run.timings["forecast.computed"] = round(seconds, 3)
                run.timings["forecast.waited"] = round(time.perf_counter() - waited, 3)
            run.timings.update(decide_steps.timings())  # every run, forecast beside it or not
            result = AnalysisResult(
                run_id=run.run_id,
                settings=settings,
                seed=used_seed,
                items=t["items"],
                receipts=t["receipts"],
                profiles=profiles,
                decisions=decisions,
                equipment=equipment,
                imported=imported,
                demand_window=window,
            )
            if extra_outputs is not None:
                with run.stage("extra"):
                    result.extra = extra_outputs(result)
            with run.stage("store"):
                tick("store")
                for name, df in {**result.output_tables(), **result.extra}.items():
                    run.save(name, df)
            result.timings = run.timings
        return result
    finally:
        if forecasting is not None:
            forecasting.close()  # a run that failed before the join: no child left behind
        if froze:
            gc.unfreeze()
        repo.close()
