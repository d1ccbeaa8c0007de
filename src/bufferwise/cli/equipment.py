"""`bufferwise equipment`: OEE, losses, reliability, JIT readiness, WIP buffers."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from bufferwise.cli.common import (
    OutputFormat,
    checked_option,
    console,
    emit_frame,
    progress,
    resolve_db_url,
    run_guarded,
)


class Treatment(StrEnum):
    availability_loss = "availability_loss"
    not_planned = "not_planned"


class EquipmentTable(StrEnum):
    machines = "machines"
    buffers = "buffers"
    losses = "losses"


def register(app: typer.Typer) -> None:
    app.command("equipment")(equipment_cmd)


def equipment_cmd(
    table: EquipmentTable = typer.Option(
        EquipmentTable.machines, "--table", "-t", help="Which table to print."
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML); see docs/settings.md."
    ),
    setup: Treatment | None = typer.Option(
        None, "--setup", help="How setup time counts in OEE (default: the settings')."
    ),
    idle: Treatment | None = typer.Option(
        None, "--idle", help="How idle time counts in OEE (default: the settings')."
    ),
    starved_blocked: Treatment | None = typer.Option(
        None,
        "--starved-blocked",
        help="How starved / blocked time counts in OEE (default: the settings').",
    ),
    micro_stop_s: float | None = typer.Option(
        None,
        "--micro-stop-s",
        help="Stops shorter than this [s] are small stops (default: the settings').",
    ),
    target: float | None = typer.Option(
        None,
        "--target-line-efficiency",
        help="Line-efficiency target for buffer sizing and JIT readiness (default: the settings').",
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the simulation checks (default: the settings')."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    out: Path | None = typer.Option(
        None, "--out", help="Also write machines.csv, buffers.csv, losses.csv here."
    ),
) -> None:
    """Measure the machines: OEE (A x P x Q), losses, MTBF / MTTR, JIT readiness, WIP buffers."""

    def body() -> None:
        from bufferwise.equipment.report import BUFFER_COLUMNS, MACHINE_COLUMNS
        from bufferwise.services.equipment import equipment_database
        from bufferwise.settings import load_settings

        # the settings file (or its defaults), as `bufferwise analyze` reads it; the options
        # given on the command line win over it
        # a bad option value is a usage error (exit code 2) naming the option, checked as the
        # settings file's key is; a bad settings file stays exit code 1
        numbers = {
            "micro_stop_threshold_s": ("--micro-stop-s", micro_stop_s),
            "target_line_efficiency": ("--target-line-efficiency", target),
        }
        checked = {
            key: checked_option(option, "equipment", key, value)
            for key, (option, value) in numbers.items()
            if value is not None
        }
        settings = load_settings(settings_file)
        given: dict[str, Any] = {
            "setup": setup.value if setup is not None else None,
            "idle": idle.value if idle is not None else None,
            "starved_blocked": starved_blocked.value if starved_blocked is not None else None,
            **checked,
        }
        eq = dataclasses.replace(
            settings.equipment, **{k: v for k, v in given.items() if v is not None}
        )
        with progress("equipment"):
            result = equipment_database(
                resolve_db_url(),
                conventions=eq.conventions(),
                target_line_efficiency=eq.target_line_efficiency,
                criteria=eq.readiness_criteria(),
                seed=settings.simulation.seed if seed is None else seed,
            )
        rep = result.report
        frames = {"machines": rep.machines, "buffers": rep.buffers, "losses": rep.losses}
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for name, df in frames.items():
                df.to_csv(out / f"{name}.csv", index=False)
        df = frames[table.value]
        # the stable columns; the machines' reasons are printed as sentences below
        machine_cols = tuple(c for c in MACHINE_COLUMNS if c != "reason")
        short = {"machines": machine_cols, "buffers": BUFFER_COLUMNS}.get(table.value)
        emit_frame(df, fmt, title=f"{table.value} (run {result.run_id})", columns=short)
        if fmt is OutputFormat.table:
            if table is EquipmentTable.machines and "reason" in df.columns:
                for mid, reason in zip(df["machine_id"], df["reason"], strict=True):
                    console.print(f"{mid}: {reason}")
            console.print("conventions used:")
            for line in rep.conventions_used:
                console.print(f"  - {line}")

    run_guarded(body)
