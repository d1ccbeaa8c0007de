"""Getting data in: `import`, `validate`, `status`, `demo`."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path

import typer

from bufferwise.cli.common import (
    OutputFormat,
    console,
    emit_rows,
    err_console,
    existing_db_url,
    progress,
    resolve_db_url,
    run_guarded,
    write_json,
)

PATHS_ARG = typer.Argument(
    ...,
    metavar="PATHS",
    help="Files to read, or folders holding canonical files named after the tables "
    "(items.csv, demand.csv, receipts.csv, machines.csv, machine_events.csv, "
    "production_counts.csv, wip_buffers.csv; .xlsx and .parquet too).",
    exists=False,
)
MAPPING_OPT = typer.Option(
    None,
    "--mapping",
    "-m",
    help="Mapping file (TOML) or the name of a shipped mapping (e.g. scms_receipts) that turns "
    "a foreign export into canonical tables. See docs/mapping.md.",
)


def _canonical_table(value: str | None) -> str | None:
    """--table: a canonical table's name, else a usage error (exit code 2)."""
    from bufferwise.model import TABLES

    if value is not None and value not in TABLES:
        raise typer.BadParameter(
            f"{value!r} is not a canonical table (expected one of {', '.join(TABLES)})"
        )
    return value


TABLE_OPT = typer.Option(
    None,
    "--table",
    "-t",
    callback=_canonical_table,
    help="Canonical table of a file that needs no mapping (default: the file's name).",
)
FORMAT_OPT = typer.Option(OutputFormat.table, "--format", "-f", help="Output format.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("validate")(validate_cmd)
    app.command("status")(status_cmd)
    app.command("demo")(demo_cmd)


def _mode(skip_bad_rows: bool, strict: bool) -> str:
    if skip_bad_rows and strict:
        raise typer.BadParameter(
            "they exclude each other; give one", param_hint="'--skip-bad-rows' / '--strict'"
        )
    return "skip" if skip_bad_rows else "strict" if strict else "default"


def _print_problem_summary(problems: list, limit: int = 20, per_warning_code: int = 2) -> None:
    """Counts by code, every error up to `limit`, and a couple of examples of each warning."""
    if not problems:
        return
    by_code = Counter((p.severity, p.code) for p in problems)
    for (severity, code), n in sorted(by_code.items()):
        err_console.print(f"  {severity:7s} {code}: {n}")
    errors = [p for p in problems if p.severity == "error"]
    shown: Counter[str] = Counter()
    examples = []
    for p in problems:
        if p.severity != "error" and shown[p.code] < per_warning_code:
            shown[p.code] += 1
            examples.append(p)
    for p in errors[:limit] + examples:
        err_console.print(f"  {p.severity}: {p.message()}", soft_wrap=True)
    hidden = len(problems) - min(len(errors), limit) - len(examples)
    if hidden > 0:
        err_console.print(f"  ... {hidden} more (bufferwise validate --format json lists them all)")


def import_cmd(
    paths: list[Path] = PATHS_ARG,
    mapping: str | None = MAPPING_OPT,
    table: str | None = TABLE_OPT,
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Store the good rows and report the rejected ones."
    ),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first row error."),
    fmt: OutputFormat = FORMAT_OPT,
) -> None:
    """Import files into the database: one transaction, nothing written on failure,
    re-importing the same file adds nothing."""

    def body() -> None:
        from bufferwise.services.imports import import_files, plan_inputs

        mode = _mode(skip_bad_rows, strict)
        url = resolve_db_url()
        with progress("reading", total=len(plan_inputs(paths, table))) as advance:
            summary = import_files(
                url, paths, mapping=mapping, table=table, mode=mode, progress=advance
            )
        print_import_report(summary, fmt, url)

    run_guarded(body)


def validate_cmd(
    paths: list[Path] = PATHS_ARG,
    mapping: str | None = MAPPING_OPT,
    table: str | None = TABLE_OPT,
    fmt: OutputFormat = FORMAT_OPT,
) -> None:
    """Check files against the data model and print the report; writes nothing.
    Exit code 1 when any row would be rejected."""

    def body() -> None:
        from bufferwise.services.imports import problems_as_rows, validate_files

        summary = validate_files(paths, mapping=mapping, table=table, db_url=resolve_db_url())
        if fmt is OutputFormat.json:
            write_json(
                {"files": summary.rows(), "problems": problems_as_rows(summary.batch.problems)}
            )
        else:
            emit_rows(summary.rows(), fmt, title="validation (nothing written)")
            _print_problem_summary(summary.batch.problems)
        if summary.batch.errors:
            raise typer.Exit(1)

    run_guarded(body)


class StatusTable(StrEnum):
    tables = "tables"
    imports = "imports"


def status_cmd(
    table: StatusTable | None = typer.Option(
        None,
        "--table",
        "-t",
        help="Print one table: tables (rows per table) or imports. Needed with --format csv "
        "(one table per call); default: both (json: one object holding both).",
    ),
    fmt: OutputFormat = FORMAT_OPT,
) -> None:
    """What is stored: rows per table, and every import with its counts."""

    def body() -> None:
        from bufferwise.services.imports import stored_status

        if fmt is OutputFormat.csv and table is None:
            raise typer.BadParameter(
                "csv holds one table: give --table tables or --table imports",
                param_hint="'--format csv'",
            )
        url = existing_db_url()
        st = stored_status(url)
        tables = [{"table": k, "rows": v} for k, v in st["tables"].items()]
        imports = [_import_row(r) for r in st["imports"]]
        if table is not None:
            emit_rows(
                tables if table is StatusTable.tables else imports,
                fmt,
                title=f"stored in {url}" if table is StatusTable.tables else "imports",
            )
            return
        if fmt is OutputFormat.json:
            write_json({"database": url, "tables": tables, "imports": imports})
            return
        emit_rows(tables, fmt, title=f"stored in {url}")
        if imports:
            emit_rows(imports, fmt, title="imports")
            console.print(
                "batch_inserted / batch_updated: what the whole batch (the files imported "
                "together) added / updated, not each file's own"
            )

    run_guarded(body)


def _import_row(rec: object) -> dict[str, object]:
    """The columns of an import record worth a glance (JSON output keeps the same ones).
    Rows inserted / updated are stored per batch (the files of one `import` are merged into
    the tables together), so they are the batch's, named so, with the batch's id."""
    r = _record_row(rec)
    finished = r.get("finished_at")
    return {
        "import": r.get("import_id"),
        "batch": str(r.get("batch_id", ""))[:8],
        "file": Path(str(r.get("file", ""))).name,
        "mapping": r.get("mapping"),
        "read": r.get("rows_read"),
        "accepted": r.get("rows_accepted"),
        "rejected": r.get("rows_rejected"),
        "warned": r.get("rows_warned"),
        "batch_inserted": r.get("rows_inserted"),
        "batch_updated": r.get("rows_updated"),
        "status": r.get("status"),
        "finished": finished.strftime("%Y-%m-%d %H:%M")
        if hasattr(finished, "strftime")
        else finished,
        "sha256": str(r.get("content_hash", ""))[:12],
    }


def _record_row(rec: object) -> dict[str, object]:
    if isinstance(rec, dict):
        return rec
    fields = getattr(rec, "__dataclass_fields__", None)
    if fields:
        return {k: getattr(rec, k) for k in fields if k != "problems"}
    return {"import": str(rec)}


def demo_cmd(
    out: Path = typer.Option(
        Path("examples/plant/data"),
        "--out",
        help="Folder to write the example plant's CSV files to.",
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Generator seed (default: the documented one)."
    ),
    no_import: bool = typer.Option(False, "--no-import", help="Only write the files."),
) -> None:
    """Build the example plant (seeded generator) and import it into the database."""

    def body() -> None:
        from bufferwise.demo import DEFAULT_SEED, generate_plant
        from bufferwise.model import TABLES
        from bufferwise.services.imports import import_files

        used_seed = DEFAULT_SEED if seed is None else seed
        with progress("generating the example plant"):
            generate_plant(out, seed=used_seed)
        console.print(f"example plant written to {out} (seed {used_seed})")
        if no_import:
            return
        url = resolve_db_url()
        with progress("importing", total=len(TABLES)) as advance:
            summary = import_files(url, [out], progress=advance)
        print_import_report(summary, OutputFormat.table, url)

    run_guarded(body)


def print_import_report(summary: object, fmt: OutputFormat, url: str) -> None:
    """Per-file counts, what storing did, and the problems found."""
    rows = summary.rows()  # type: ignore[attr-defined]
    result = summary.result  # type: ignore[attr-defined]
    if fmt is OutputFormat.json:
        payload = {
            "database": url,
            "files": rows,
            "tables": {
                k: vars(v) if hasattr(v, "__dict__") else _record_row(v)
                for k, v in result.tables.items()
            },
            "skipped": result.skipped,
            "message": result.message,
            "problems": [p.as_dict() for p in summary.batch.problems],  # type: ignore[attr-defined]
        }
        write_json(payload)
        return
    emit_rows(rows, fmt, title="read and checked")
    emit_rows(
        [{"table": k, **_record_row(v)} for k, v in result.tables.items()],
        fmt,
        title=f"stored in {url}",
    )
    console.print(result.message)
    _print_problem_summary(summary.batch.problems)  # type: ignore[attr-defined]
