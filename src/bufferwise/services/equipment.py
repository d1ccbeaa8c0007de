"""Use case: OEE, reliability, JIT readiness and WIP buffers of the stored machines."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bufferwise.equipment import (
    EquipmentReport,
    OeeConventions,
    ReadinessCriteria,
    analyze_equipment,
)
from bufferwise.equipment.constants import DEFAULT_TARGET_LINE_EFFICIENCY
from bufferwise.errors import InvalidInput
from bufferwise.services.runs import load_tables, recorded_run
from bufferwise.storage import open_repository

EQUIPMENT_OUTPUTS = ("machines", "buffers", "oee", "losses", "reliability")


@dataclass(slots=True)
class EquipmentRun:
    run_id: int
    report: EquipmentReport


def equipment_database(
    db_url: str,
    *,
    conventions: OeeConventions | None = None,
    target_line_efficiency: float = DEFAULT_TARGET_LINE_EFFICIENCY,
    seed: int | None = None,
    criteria: ReadinessCriteria | None = None,
) -> EquipmentRun:
    """Analyse every stored machine and WIP buffer; store the tables as an 'equipment' run.

    criteria: the JIT-readiness thresholds (default: ReadinessCriteria's, with
    target_line_efficiency); `EquipmentSettings.readiness_criteria()` gives a settings file's.
    """
    conv = conventions or OeeConventions()
    crit = criteria or ReadinessCriteria(target_line_efficiency=target_line_efficiency)
    repo = open_repository(db_url)
    try:
        t = load_tables(
            repo, ("machines", "machine_events", "production_counts", "wip_buffers", "items")
        )
        if len(t["machine_events"]) == 0:
            raise InvalidInput(
                "no machine events are stored: import machine_events (and machines, "
                "production_counts) first, e.g. `bufferwise import machine_events.csv`"
            )
        settings: dict[str, Any] = {
            "conventions": dataclasses.asdict(conv),
            "target_line_efficiency": target_line_efficiency,
            "readiness": dataclasses.asdict(crit),
        }
        with recorded_run(repo, "equipment", settings, seed=seed) as run:
            with run.stage("equipment"):
                report = analyze_equipment(
                    t["machines"],
                    t["machine_events"],
                    t["production_counts"] if len(t["production_counts"]) else None,
                    t["wip_buffers"] if len(t["wip_buffers"]) else None,
                    conventions=conv,
                    target_line_efficiency=target_line_efficiency,
                    criteria=crit,
                    seed=seed,
                    items=t["items"] if len(t["items"]) else None,
                )
            with run.stage("store"):
                run.save("machines", report.machines)
                run.save("buffers", report.buffers)
                run.save("oee", report.oee)
                run.save("losses", report.losses)
                run.save("reliability", report.reliability)
        return EquipmentRun(run_id=run.run_id, report=report)
    finally:
        repo.close()
