"""`bufferwise backtest`: fit on the first part of a history, replay the rest.

With ``--dataset raf|man|carparts`` it runs the decision-quality protocol on a public data set
(docs/decision-quality.md); without it, it backtests the plant stored in the database
(`decide.backtest`: recommended, current, JIT and one-policy-for-all).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from bufferwise.cli.common import (
    OutputFormat,
    emit_frame,
    progress,
    resolve_db_url,
    run_guarded,
    usage_error,
)

DATASET_COLUMNS = (
    "dataset",
    "target",
    "policy",
    "demand_class",
    "items",
    "fill_rate",
    "cycle_service",
    "inventory_value",
    "stockout_periods",
    "knob",
    "value_to_uniform",
    "reached",
)
PLANT_COLUMNS = (
    "policy",
    "fill_rate",
    "expected_fill_rate",
    "stockout_days",
    "mean_inventory_value",
    "holding_cost_per_year",
    "stockout_cost_per_year",
    "total_cost_per_year",
)
#: the default shared data folder: ../shared/data beside the working folder's repository
DEFAULT_DATA_DIR = Path("..") / "shared" / "data"


class DatasetName(StrEnum):
    raf = "raf"
    man = "man"
    carparts = "carparts"


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest_cmd)


def backtest_cmd(
    dataset: list[DatasetName] | None = typer.Option(
        None,
        "--dataset",
        "-d",
        help="Public data set(s) to backtest, repeatable: raf, man, carparts. "
        "Default: the plant stored in the database.",
    ),
    target: list[float] | None = typer.Option(
        None,
        "--target",
        help="Aggregate fill-rate target(s), repeatable (data sets only). Default: 0.90 0.95 0.98.",
    ),
    data_dir: Path = typer.Option(
        DEFAULT_DATA_DIR, "--data-dir", help="Folder holding spare_parts/ and carparts_expsmooth/."
    ),
    all_classes: bool = typer.Option(
        False, "--classes", help="Also print one row per demand class (data sets only)."
    ),
    use_decide: bool = typer.Option(
        False,
        "--decide",
        help="With --dataset carparts: backtest decide's recommendation (recommended, JIT, "
        "one policy for all) instead of the calibrated sizing method.",
    ),
    settings_file: Path | None = typer.Option(
        None,
        "--settings",
        "-s",
        help="Settings file (TOML) for the plant backtest, and for the seed of --decide.",
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help="Seed of the plant and --decide backtests. Default: the settings' [simulation] seed.",
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        200, "--limit", min=1, help="Rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Backtest buffer decisions: fit on the first part, replay the held-out demand."""

    def body() -> None:
        import pandas as pd

        # option values and combinations: usage errors (exit code 2)
        if use_decide and not dataset:
            raise usage_error("--decide needs --dataset carparts")
        for t in target or ():
            if not 0.0 < t < 1.0:
                raise usage_error(f"--target {t:g}: expected a fill rate in (0, 1), e.g. 0.95")
        if dataset and use_decide:
            from bufferwise.services.backtest import decide_dataset_backtest
            from bufferwise.settings import load_settings

            # an explicit --seed, 0 included, wins; else the settings' [simulation] seed
            used_seed = seed if seed is not None else load_settings(settings_file).simulation.seed
            for name in dataset:
                with progress("backtest"):
                    res = decide_dataset_backtest(name.value, data_dir, seed=used_seed)
                title = (
                    f"{name.value}: decide backtest from {res.split.date()} "
                    f"(one policy: {res.one_policy_days:.1f} days of cover)"
                )
                emit_frame(res.totals, fmt, title=title, columns=PLANT_COLUMNS, limit=limit)
            return
        if dataset:
            from bufferwise.services.backtest import DEFAULT_TARGETS, dataset_backtest

            targets = tuple(target) if target else DEFAULT_TARGETS
            frames = []
            with progress("backtest", total=len(dataset)) as advance:
                for name in dataset:
                    frames.append(dataset_backtest(name.value, data_dir, targets))
                    advance(1)
            df = pd.concat(frames, ignore_index=True)
            if not all_classes and fmt is OutputFormat.table:
                df = df[df["demand_class"] == "all"]
            emit_frame(
                df,
                fmt,
                title="decision quality (fit, then replay)",
                columns=DATASET_COLUMNS,
                limit=limit,
            )
            return
        from bufferwise.services.backtest import plant_backtest
        from bufferwise.settings import load_settings

        settings = load_settings(settings_file)
        with progress("backtest"):
            result = plant_backtest(resolve_db_url(), settings, seed=seed)
        title = (
            f"plant backtest from {result.split.date()} "
            f"(one policy: {result.one_policy_days:.1f} days of cover)"
        )
        emit_frame(result.totals, fmt, title=title, columns=PLANT_COLUMNS, limit=limit)

    run_guarded(body)
