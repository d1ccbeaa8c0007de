"""`bufferwise equipment`: OEE, losses, reliability, JIT readiness, WIP buffers."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from bufferwise.cli.common import (
    OutputFormat,
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
    setup: Treatment = typer.Option(
        Treatment.availability_loss, "--setup", help="How setup time counts in OEE."
    ),
    idle: Treatment = typer.Option(
        Treatment.not_planned, "--idle", help="How idle time counts in OEE."
    ),
    starved_blocked: Treatment = typer.Option(
        Treatment.availability_loss,
        "--starved-blocked",
        help="How starved / blocked time counts in OEE.",
    ),
    micro_stop_s: float = typer.Option(
        300.0,
        "--micro-stop-s",
        help="Stops shorter than this [s] are small stops (performance loss).",
    ),
    target: float = typer.Option(
        0.95,
        "--target-line-efficiency",
        help="Line-efficiency target for buffer sizing and JIT readiness.",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the simulation checks."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    out: Path | None = typer.Option(
        None, "--out", help="Also write machines.csv, buffers.csv, losses.csv here."
    ),
) -> None:
    """Measure the machines: OEE (A x P x Q), losses, MTBF / MTTR, JIT readiness, WIP buffers."""

    def body() -> None:
        from bufferwise.equipment import OeeConventions
        from bufferwise.equipment.report import BUFFER_COLUMNS, MACHINE_COLUMNS
        from bufferwise.services.equipment import equipment_database

        conv = OeeConventions(
            setup=setup.value,
            idle=idle.value,
            starved_blocked=starved_blocked.value,
            micro_stop_threshold_s=micro_stop_s,
        )
        with progress("equipment"):
            result = equipment_database(
                resolve_db_url(), conventions=conv, target_line_efficiency=target, seed=seed
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
