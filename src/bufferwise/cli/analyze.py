"""`bufferwise analyze`: the main job, from data to decisions, exports and report."""

from __future__ import annotations

from pathlib import Path

import typer

from bufferwise.cli.common import (
    OutputFormat,
    console,
    emit_rows,
    progress,
    resolve_db_url,
    run_guarded,
)

STAGE_WEIGHTS = {"import": 1, "profile": 2, "equipment": 1, "decide": 5, "store": 1}


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_cmd)


def analyze_cmd(
    paths: list[Path] | None = typer.Argument(
        None,
        metavar="PATHS",
        help="Optional files or folders to import first (as `bufferwise import`); without them "
        "the job runs on what is stored.",
    ),
    mapping: str | None = typer.Option(
        None, "--mapping", "-m", help="Mapping for the files given (see docs/mapping.md)."
    ),
    skip_bad_rows: bool = typer.Option(
        False,
        "--skip-bad-rows",
        help="Import the good rows of the files given and report the rest.",
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML); see docs/settings.md."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of every simulation (default: the settings')."
    ),
    out: Path = typer.Option(
        Path("out"), "--out", "-o", help="Folder for the exports and the HTML report."
    ),
    report: bool = typer.Option(
        True, "--report/--no-report", help="Write the HTML report (report.html)."
    ),
    fmt: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="Format of the summary."
    ),
) -> None:
    """Run the main job: import (optional), profile, equipment, size, decide and diagnose;
    record the run, write exports and the report, print a summary."""

    def body() -> None:
        from bufferwise.report.exports import check_out_dir
        from bufferwise.services.analyze import analyze
        from bufferwise.settings import load_settings

        settings = load_settings(settings_file)
        check_out_dir(out)  # fail before the analysis runs, not after it is stored
        url = resolve_db_url()
        total = sum(STAGE_WEIGHTS.values())
        imported: list[object] = []
        try:
            with progress("analyze", total=total) as advance:
                seen: set[str] = set()

                def report_stage(stage: str, done: int, n: int) -> None:
                    if stage not in seen:
                        seen.add(stage)
                        advance(STAGE_WEIGHTS.get(stage, 0))

                result = analyze(
                    url,
                    settings,
                    paths=tuple(paths or ()),
                    mapping=mapping,
                    import_mode="skip" if skip_bad_rows else "default",
                    seed=seed,
                    progress=report_stage,
                    on_import=imported.append,
                )
        finally:
            # the import report, as `bufferwise import` prints it (rejected rows, warnings),
            # also when the analysis after a successful import failed
            for batch in imported:
                _show_import(batch, fmt, url)
        written = _write_outputs(result, out, report)
        summary = summarize(result)
        if fmt is OutputFormat.table:
            _print_summary(summary, url, written)
        else:
            emit_rows([summary], fmt)

    run_guarded(body)


def _show_import(summary: object, fmt: OutputFormat, url: str) -> None:
    """`bufferwise import`'s report of the files given; with --format csv / json it goes to
    stderr, so that stdout holds the summary alone."""
    import sys
    from contextlib import redirect_stdout

    from bufferwise.cli.data import print_import_report

    if fmt is OutputFormat.table:
        print_import_report(summary, OutputFormat.table, url)
        return
    with redirect_stdout(sys.stderr):
        print_import_report(summary, OutputFormat.table, url)


#: the HTML report's file name in --out
REPORT_NAME = "report.html"


def _write_outputs(result: object, out: Path, report: bool) -> list[Path]:
    """Exports and report written to a hidden folder in `out`, then moved into place file by
    file (each replaced whole); bufferwise's own files of an earlier run that this run does
    not write (a table it lacks, report.html with --no-report) are removed. On an error or
    Ctrl-C, `out` keeps the earlier run's files untouched."""
    from bufferwise.errors import InvalidInput
    from bufferwise.report import write_html_report
    from bufferwise.report.exports import export_file_names, staged_folder, write_export_files

    names: list[str] = []
    try:
        with staged_folder(out, replaces=[*export_file_names(), REPORT_NAME]) as stage:
            names += write_export_files(result, stage)  # type: ignore[arg-type]
            if report:
                write_html_report(result, stage / REPORT_NAME)  # type: ignore[arg-type]
                names.append(REPORT_NAME)
    except InvalidInput as exc:
        run_id = result.run_id  # type: ignore[attr-defined]
        raise InvalidInput(
            f"{exc} (analysis run {run_id} is stored; its exports were not written)"
        ) from None
    return [out / n for n in names]


def summarize(result: object) -> dict[str, object]:
    """The short summary: stances, buffer value now vs recommended, top five findings."""
    d = result.decisions  # type: ignore[attr-defined]
    items = d.items
    totals = d.totals
    stances = items["stance"].value_counts().to_dict()
    findings = d.findings.sort_values("money_per_year", ascending=False, kind="stable").head(5)
    return {
        "run_id": result.run_id,  # type: ignore[attr-defined]
        "items": len(items),
        "stances": {k: int(v) for k, v in sorted(stances.items())},
        "buffer_value_now": round(float(totals["buffer_value_now"]), 2),
        "buffer_value_recommended": round(float(totals["buffer_value_recommended"]), 2),
        "cash_freed": round(float(totals["cash_freed"]), 2),
        "cash_needed": round(float(totals["cash_needed"]), 2),
        "expected_fill_rate_now": round(float(totals["expected_fill_rate_now"]), 4),
        "expected_fill_rate_recommended": round(float(totals["expected_fill_rate_recommended"]), 4),
        "top_findings": [
            {
                "code": r.code,
                "items": r.items,
                "money_per_year": round(float(r.money_per_year), 2),
                "message": r.message,
            }
            for r in findings.itertuples()
        ],
        "timings_s": dict(result.timings),  # type: ignore[attr-defined]
    }


def _print_summary(s: dict[str, object], url: str, written: list[Path]) -> None:
    console.print(f"analysis run {s['run_id']} on {url}: {s['items']} items", style="bold")
    stances = s["stances"]
    assert isinstance(stances, dict)
    console.print("stances: " + ", ".join(f"{k} {v}" for k, v in stances.items()))
    console.print(
        f"buffer value: now {s['buffer_value_now']:,.0f}, "
        f"recommended {s['buffer_value_recommended']:,.0f} "
        f"(cash freed {s['cash_freed']:,.0f}, cash needed {s['cash_needed']:,.0f})"
    )
    now = float(s["expected_fill_rate_now"])  # type: ignore[arg-type]
    console.print(
        f"expected fill rate: now {'n/a' if now != now else f'{now:.1%}'}, "
        f"recommended {float(s['expected_fill_rate_recommended']):.1%}"  # type: ignore[arg-type]
    )
    console.print("top findings (money per year):")
    top = s["top_findings"]
    assert isinstance(top, list)
    for i, f in enumerate(top, 1):
        console.print(
            f"  {i}. [{f['code']}] {f['items']}: {f['money_per_year']:,.0f} - {f['message']}",
            soft_wrap=True,
        )
    if written:
        console.print("written: " + ", ".join(str(p) for p in written))
