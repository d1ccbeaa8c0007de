"""Use case: measure demand, supply, disruption profiles of everything stored, and keep them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bufferwise.profile import Profiles, profile_all
from bufferwise.services.runs import load_tables, recorded_run
from bufferwise.storage import open_repository

#: Result tables a profile run stores (run output names).
PROFILE_OUTPUTS = ("demand_profile", "supply_profile", "disruptions", "demand_outliers")


@dataclass(slots=True)
class ProfileRun:
    run_id: int
    profiles: Profiles


def profile_database(
    db_url: str,
    *,
    bucket: str = "week",
    forecast: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> ProfileRun:
    """Profile every stored item and supplier; store the tables as a 'profile' run."""
    repo = open_repository(db_url)
    try:
        tables = load_tables(repo, ("items", "demand", "receipts"))
        settings = {"bucket": bucket, "forecast": forecast}
        with recorded_run(repo, "profile", settings, seed=None) as run:
            with run.stage("profile"):
                profiles = profile_all(
                    tables["demand"],
                    tables["receipts"],
                    tables["items"] if len(tables["items"]) else None,
                    bucket=bucket,
                    forecast=forecast,
                    progress=progress,
                )
            with run.stage("store"):
                run.save("demand_profile", profiles.demand)
                run.save("supply_profile", profiles.supply)
                run.save("disruptions", profiles.disruptions)
                run.save("demand_outliers", profiles.outliers)
        return ProfileRun(run_id=run.run_id, profiles=profiles)
    finally:
        repo.close()
