"""`bufferwise profile`: demand, supply and disruption profiles of everything stored."""

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


class Bucket(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class ProfileTable(StrEnum):
    demand = "demand"
    supply = "supply"
    disruptions = "disruptions"


# The stable columns of issue 3, printed in table format (csv / json carry every column).
SHORT_COLUMNS = {
    "demand": (
        "item_id",
        "periods",
        "mean",
        "sd",
        "cv",
        "zero_share",
        "adi",
        "cv2",
        "demand_class",
        "forecast_model",
        "forecast_error_sd",
        "trend",
        "seasonal",
        "outliers",
    ),
    "supply": (
        "supplier_id",
        "item_id",
        "receipts",
        "lead_time_mean_days",
        "lead_time_sd_days",
        "lead_time_p95_days",
        "on_time_rate",
        "mean_days_late",
        "quantity_fill_rate",
        "disruptions_per_year",
        "disruption_mean_days",
    ),
}


def register(app: typer.Typer) -> None:
    app.command("profile")(profile_cmd)


def profile_cmd(
    bucket: Bucket | None = typer.Option(
        None,
        "--bucket",
        "-b",
        help="Demand bucket: day, week (ISO, Monday) or month (default: the settings', week).",
    ),
    forecast: bool | None = typer.Option(
        None,
        "--forecast/--no-forecast",
        help="Fit the class-chosen forecast model and measure its error by backtest "
        "(default: the settings', on).",
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML); its [profile] section is used."
    ),
    table: ProfileTable = typer.Option(
        ProfileTable.demand, "--table", "-t", help="Which profile table to print."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        30, "--limit", min=1, help="Rows to print in table format (csv/json print all)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Also write demand.csv, supply.csv, disruptions.csv here."
    ),
) -> None:
    """Measure each item's demand profile and each supplier's delivery behaviour; store them."""

    def body() -> None:
        from bufferwise.profile import EVENT_COLUMNS
        from bufferwise.services.profiles import profile_database
        from bufferwise.settings import load_settings

        # [profile] as `bufferwise analyze` reads it; the options given win
        settings = load_settings(settings_file).profile
        used_bucket = settings.bucket if bucket is None else bucket.value
        used_forecast = settings.forecast if forecast is None else forecast

        with progress("profiling") as advance:
            last = {"done": 0}

            def report(stage: str, done: int, total: int) -> None:
                advance(max(done - last["done"], 0))
                last["done"] = done

            result = profile_database(
                resolve_db_url(), bucket=used_bucket, forecast=used_forecast, progress=report
            )
        p = result.profiles
        frames = {"demand": p.demand, "supply": p.supply, "disruptions": p.disruptions}
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for name, df in frames.items():
                df.to_csv(out / f"{name}.csv", index=False)
        df = frames[table.value]
        emit_frame(
            df,
            fmt,
            title=f"{table.value} profile (run {result.run_id}, {len(df)} rows)",
            columns=SHORT_COLUMNS.get(table.value, EVENT_COLUMNS),
            limit=limit,
        )
        if fmt is OutputFormat.table:
            if p.demand is not None and len(p.demand) and "demand_class" in p.demand:
                counts = p.demand["demand_class"].value_counts().to_dict()
                console.print(
                    "demand classes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                )
            for note in p.notes:
                console.print(f"note: {note}")

    run_guarded(body)
