"""What every command shares: the database option, output formats, errors -> exit codes."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable
from typer.core import TyperArgument, TyperCommand

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
# 4 unexpected, 130 interrupted, 141 output pipe closed early (`bufferwise size | head`).
EXIT_INPUT = 1
EXIT_USAGE = 2  # click's usage error: raise typer.BadParameter in a command body
EXIT_STORAGE = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the signal


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
    from bufferwise.storage.engine import sqlite_path

    url = resolve_db_url(explicit)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise InvalidInput(
            f"{path}: no such database; check --db (or BUFFERWISE_DB), or create one with "
            "`bufferwise import` or `bufferwise demo`"
        )
    return url


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
            hidden = max(len(df) - limit, 0)
            df = df.head(limit)
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
        write_json(list(rows))
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


def write_json(payload: Any) -> None:
    """Write `payload` to stdout as strict JSON: every JSON output of the command line goes
    through here. NaN, NaT, pd.NA and +-inf become null (bare NaN / Infinity are not JSON),
    numpy scalars plain numbers, dates ISO text, anything else its text."""
    text = json.dumps(_jsonable(payload), indent=1, allow_nan=False)
    sys.stdout.write(text + "\n")


def _jsonable(v: Any) -> Any:
    """`v` with every value JSON can carry as it is (see `write_json`)."""
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | frozenset):
        return [_jsonable(x) for x in v]
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return float(v) if math.isfinite(v) else None
    if hasattr(v, "tolist") and getattr(v, "ndim", 0) > 0:  # a numpy array
        return _jsonable(v.tolist())
    try:
        missing = bool(v != v)  # NaN, NaT; pd.NA has no truth value
    except TypeError:
        return None
    if missing:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):  # a numpy scalar
        return _jsonable(v.item())
    return str(v)


class PlainUsageCommand(TyperCommand):
    """A command whose usage line names its arguments the usual way, `PATHS...` (required)
    and `[PATHS]...` (optional): typer's own line writes `{paths}...`, which reads as a
    placeholder left unfilled. Every command gets it (cli.main)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                if not param.required:
                    name = f"[{name}]"
                if param.nargs != 1:
                    name += "..."
                pieces.append(name)
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


T = TypeVar("T")


def _usage_error_types() -> tuple[type[Exception], ...]:
    """click's UsageError, the base of typer.BadParameter: click's own class, or the one of the
    copy of click that typer >= 0.2x carries (click itself need not be installed)."""
    found = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    return found or (typer.BadParameter,)


#: what a usage error (`typer.BadParameter` and the like) raised in a command body is
USAGE_ERRORS = _usage_error_types()


def usage_error(message: str) -> Exception:
    """A usage error (exit code 2) whose message names the options itself, to raise in a
    command body: `raise usage_error("--target 1.5: expected a fill rate in (0, 1)")`."""
    return USAGE_ERRORS[0](message)


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
    except BrokenPipeError:
        # the reader of stdout went away (`bufferwise size -f csv | head -1`): nothing to say
        quiet_broken_pipe()
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


def quiet_broken_pipe() -> NoReturn:
    """Exit quietly (EXIT_BROKEN_PIPE) when stdout's reader has closed the pipe: stdout is
    pointed at the null device so that the interpreter's last flush does not fail again (the
    idiom of the Python docs, signal module, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a file (tests capture it): nothing is flushed to a pipe
    raise typer.Exit(EXIT_BROKEN_PIPE)


def checked_option(option: str, section: str, key: str, value: Any) -> Any:
    """A command-line option's value checked as the settings file's `[section] key` is
    (`bufferwise.settings.CHECKS`) and returned; a bad one is a usage error (exit code 2)
    naming the option as typed: `Invalid value for '--target': 1.5: expected a share ...`."""
    from bufferwise.errors import SettingsError
    from bufferwise.settings import CHECKS

    source, name = "\x00source", "\x00key"
    try:
        return CHECKS[(section, key)](source, name, value)
    except SettingsError as exc:
        text = str(exc)
        prefix = f"{source}: {name} = "
        text = text[len(prefix) :] if text.startswith(prefix) else text
        raise typer.BadParameter(text, param_hint=f"'{option}'") from None


def _report(exc: Exception, problems: Sequence[Any], limit: int = 20) -> None:
    if State.debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, markup=True)
    for p in list(problems)[:limit]:
        err_console.print(f"  {p.message()}", soft_wrap=True)
    if len(problems) > limit:
        err_console.print(f"  ... and {len(problems) - limit} more")
