"""`bufferwise decide` and `bufferwise scenario`: stances and what-ifs for every stored item."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from bufferwise.cli.common import (
    OutputFormat,
    console,
    emit_frame,
    emit_rows,
    progress,
    resolve_db_url,
    run_guarded,
)


class DecideTable(StrEnum):
    items = "items"
    findings = "findings"
    frontier = "frontier"


def register(app: typer.Typer) -> None:
    app.command("decide")(decide_cmd)
    app.command("scenario")(scenario_cmd)


def decide_cmd(
    table: DecideTable = typer.Option(
        DecideTable.items, "--table", "-t", help="items (one row each), findings or frontier."
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML); see docs/settings.md."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every simulation."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(30, "--limit", min=1, help="Rows to print in table format."),
) -> None:
    """Each stored item's stance (jit, lean, buffer, strategic), its levels, the drivers behind
    it and what the current policy gets wrong; stored as a 'decide' run."""

    def body() -> None:
        from bufferwise.decide import DECISION_COLUMNS
        from bufferwise.services.analyze import analyze
        from bufferwise.settings import load_settings

        settings = load_settings(settings_file)
        with progress("deciding"):
            result = analyze(resolve_db_url(), settings, seed=seed, kind="decide")
        d = result.decisions
        frames = {"items": d.items, "findings": d.findings, "frontier": d.frontier}
        df = frames[table.value]
        title = f"{table.value} (run {result.run_id}, {len(df)} rows)"
        # the stable columns up to the diagnosis; the drivers are printed as sentences below
        short = DECISION_COLUMNS[: DECISION_COLUMNS.index("diagnosis") + 1]
        columns = short if table is DecideTable.items else None
        emit_frame(df, fmt, title=title, columns=columns, limit=limit)
        if fmt is OutputFormat.table and table is DecideTable.items:
            for row in d.items.head(limit).itertuples():
                console.print(f"{row.item_id}: {row.drivers}", soft_wrap=True)

    run_guarded(body)


def _compact(r: dict[object, object]) -> dict[str, str]:
    """One summary row as before -> after pairs a planner reads at a glance."""

    def pair(name: str, spec: str) -> str:
        return f"{float(r[name + '_before']):{spec}} -> {float(r[name + '_after']):{spec}}"  # type: ignore[arg-type]

    return {
        "scenario": str(r["scenario"]),
        "policy": str(r["policy"]),
        "items": str(r["items_affected"]),
        "buffer value": f"{float(r['buffer_value']):,.0f}",  # type: ignore[arg-type]
        "fill rate": pair("fill_rate", ".1%"),
        "stockout days": pair("stockout_days", ",.0f"),
        "stockout cost / yr": pair("stockout_cost", ",.0f"),
        "extra cost / yr": f"{float(r['extra_cost']):,.0f}",  # type: ignore[arg-type]
    }


def scenario_cmd(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="Scenario file (TOML, [[scenarios]] tables)."
    ),
    detail: bool = typer.Option(False, "--detail", help="Print the per-item table too."),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML); see docs/settings.md."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every simulation."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(30, "--limit", min=1, help="Rows of the per-item table to print."),
) -> None:
    """Run what-if scenarios (supplier outage, demand change, lead times x k, machine MTTR x k)
    on the whole portfolio with the current and the recommended buffers: before / after."""

    def body() -> None:
        from bufferwise.services.scenarios import run_scenario_file
        from bufferwise.settings import load_settings

        settings = load_settings(settings_file)
        with progress("scenarios"):
            run = run_scenario_file(resolve_db_url(), settings, file, seed=seed)
        title = f"scenarios (run {run.result.run_id})"
        if fmt is OutputFormat.table:
            emit_rows([_compact(r) for r in run.summary.to_dict(orient="records")], fmt, title)
        else:
            emit_frame(run.summary, fmt, title=title)
        if detail:
            emit_frame(run.detail, fmt, title="per item", limit=limit)

    run_guarded(body)
