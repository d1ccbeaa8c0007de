"""`bufferwise size`: safety stock and reorder levels for every stored item."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from bufferwise.cli.common import (
    OutputFormat,
    checked_option,
    emit_frame,
    progress,
    resolve_db_url,
    run_guarded,
)


class ServiceType(StrEnum):
    """[sizing] service_type's values (bufferwise.settings.SERVICE_TYPES)."""

    fill_rate = "fill_rate"
    cycle_service = "cycle_service"


class Method(StrEnum):
    analytic = "analytic"
    empirical = "empirical"
    simulation = "simulation"


def register(app: typer.Typer) -> None:
    app.command("size")(size_cmd)


def size_cmd(
    method: list[Method] | None = typer.Option(
        None,
        "--method",
        "-m",
        help="Sizing method(s), repeatable: analytic, empirical, simulation. "
        "Default: the settings' methods.",
    ),
    target: str | None = typer.Option(
        None,
        "--target",
        help='Service target: a share such as 0.95, or "cost_optimal". Default: the settings.',
    ),
    service_type: ServiceType | None = typer.Option(
        None, "--service-type", help="fill_rate (type 2) or cycle_service (type 1)."
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML); see docs/settings.md."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the Monte Carlo methods (default: the settings')."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        30, "--limit", min=1, help="Rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Size every stored item's safety stock and reorder level (analytic, empirical, simulation)."""

    def body() -> None:
        import dataclasses

        from bufferwise.services.sizing import size_database
        from bufferwise.settings import load_settings
        from bufferwise.sizing import OUTPUT_COLUMNS

        # option values first: a bad one is a usage error (exit code 2) naming the option
        given: dict[str, Any] = {}
        if target is not None:
            value = target if target == "cost_optimal" else _share(target)
            given["service_target"] = checked_option("--target", "sizing", "service_target", value)
        if service_type is not None:
            given["service_type"] = service_type.value
        settings = load_settings(settings_file)
        if given:
            sizing = dataclasses.replace(settings.sizing, **given)
            settings = dataclasses.replace(settings, sizing=sizing)
        methods = [m.value for m in method] if method else None
        with progress("sizing"):
            result = size_database(resolve_db_url(), settings, methods=methods, seed=seed)
        df = result.sizes
        title = f"sizes (run {result.run_id}, {len(df)} rows)"
        columns = [c for c in OUTPUT_COLUMNS if c not in ("policy", "service_type")]
        emit_frame(df, fmt, title=title, columns=columns, limit=limit)

    run_guarded(body)


def _share(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: expected a share such as 0.95, or cost_optimal", param_hint="'--target'"
        ) from None
