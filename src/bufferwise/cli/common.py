"""What every command shares: the database option, output formats, errors -> exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from bufferwise.errors import BufferwiseError, ImportRejected, InvalidInput

# markup off: data (item ids, messages, codes in [brackets]) is printed as it is
console = Console(highlight=False, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)
if not console.is_terminal and "COLUMNS" not in os.environ:
    # Piped or captured output: rich would fold tables to 80 columns; keep rows on one line.
    console.width = 160
    err_console.width = 160

DEFAULT_DB_FILE = "bufferwise.db"

# Exit codes: 0 ok, 1 bad input / rejected import, 2 usage (click / typer), 3 storage,
# 4 unexpected, 130 interrupted.
EXIT_INPUT = 1
EXIT_USAGE = 2  # click's usage error: raise typer.BadParameter in a command body
EXIT_STORAGE = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class State:
    """Global options, set by the app callback."""

    db_url: str | None = None
    debug: bool = False


def resolve_db_url(explicit: str | None = None) -> str:
    """--db URL, else BUFFERWISE_DB, else a SQLite file bufferwise.db in the working folder.

    A plain path (no '://') is taken as a SQLite file.
    """
    url = explicit or State.db_url or os.environ.get("BUFFERWISE_DB") or DEFAULT_DB_FILE
    if "://" not in url:
        url = "sqlite:///" + str(Path(url).expanduser().resolve())
    return url


def existing_db_url(explicit: str | None = None) -> str:
    """`resolve_db_url` for commands that only read what is stored: a SQLite file that does not
    exist is refused (InvalidInput, exit 1) instead of being created empty."""
    url = resolve_db_url(explicit)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise InvalidInput(
            f"{path}: no such database; check --db (or BUFFERWISE_DB), or create one with "
            "`bufferwise import` or `bufferwise demo`"
        )
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other back-ends, in-memory databases and URLs that do
    not parse (storage reports those)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    if database.startswith("file:"):  # a SQLite URI filename
        return None
    return Path(database).expanduser()


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr; yields `advance(n)`. Silent when stderr is not a tty."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def emit_frame(
    df: Any,
    fmt: OutputFormat,
    title: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
) -> None:
    """Print a DataFrame: in table format only `columns` (those present) and `limit` rows,
    with a line saying how many more there are; csv and json carry every row and column."""
    hidden = 0
    if fmt is OutputFormat.table:
        if columns is not None:
            df = df[[c for c in columns if c in df.columns]]
        if limit is not None:
            hidden = max(len(df) - max(limit, 0), 0)
            df = df.head(max(limit, 0))
    emit_rows(df.to_dict(orient="records"), fmt, title=title)
    print_more(hidden)


def print_more(hidden: int) -> None:
    """'... N more' under a table cut to --limit rows (nothing when none were cut)."""
    if hidden > 0:
        console.print(f"... {hidden} more (raise --limit, or --format csv / json for every row)")


def emit_rows(
    rows: Sequence[Mapping[Any, Any]], fmt: OutputFormat, title: str | None = None
) -> None:
    """Print rows as a rich table, CSV or JSON (to stdout)."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(list(rows), default=_json_default, indent=1) + "\n")
        return
    columns: list[str] = list(rows[0].keys()) if rows else []
    if fmt is OutputFormat.csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _cell(v) for k, v in r.items()})
        return
    table = RichTable(title=title, show_lines=False)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*(_cell(r.get(c)) for c in columns))
    console.print(table)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if hasattr(v, "hour") and hasattr(v, "date") and callable(v.date):
        if v != v:  # NaT
            return ""
        if (v.hour, v.minute, v.second) == (0, 0, 0):
            return str(v.date())
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        return f"{v:.6g}"
    return str(v)


def _json_default(v: Any) -> Any:
    if v != v:  # NaN / NaT
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return str(v)


T = TypeVar("T")


def _usage_error_types() -> tuple[type[Exception], ...]:
    """click's UsageError, the base of typer.BadParameter: click's own class, or the one of the
    copy of click that typer >= 0.2x carries (click itself need not be installed)."""
    found = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    return found or (typer.BadParameter,)


#: what a usage error (`typer.BadParameter` and the like) raised in a command body is
USAGE_ERRORS = _usage_error_types()


def run_guarded(fn: Callable[[], T]) -> T:
    """Run a command body; turn known errors into one clear line and an exit code."""
    try:
        return fn()
    except (InvalidInput, ImportRejected) as exc:
        _report(exc, getattr(exc, "problems", []))
        raise typer.Exit(EXIT_INPUT) from None
    except BufferwiseError as exc:
        _report(exc, [])
        raise typer.Exit(EXIT_STORAGE) from None
    except typer.Exit:
        raise
    except USAGE_ERRORS:
        # wrong use of the command (BadParameter included): click reports it, exit code 2
        raise
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing half-written was kept")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except OSError as exc:
        # a file or folder that cannot be read or written: name it, it is the user's to fix
        if State.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(
            f"[red]error:[/red] {escape(where + (exc.strerror or str(exc)))}",
            soft_wrap=True,
            markup=True,
        )
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:
        if State.debug:
            raise
        err_console.print(
            f"[red]error:[/red] unexpected {type(exc).__name__}: {escape(str(exc))} "
            "(run with --debug for the traceback)",
            markup=True,
        )
        raise typer.Exit(EXIT_BUG) from None


def _report(exc: Exception, problems: Sequence[Any], limit: int = 20) -> None:
    if State.debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, markup=True)
    for p in list(problems)[:limit]:
        err_console.print(f"  {p.message()}", soft_wrap=True)
    if len(problems) > limit:
        err_console.print(f"  ... and {len(problems) - limit} more")
