"""`bufferwise` entry point. Each area's commands live in their own module with `register(app)`."""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperCommand

from bufferwise import __version__
from bufferwise.cli.common import PlainUsageCommand, State, quiet_broken_pipe

app = typer.Typer(
    name="bufferwise",
    help="Size each part's buffer between just-in-time and just-in-case, by measured risk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: rich markup would eat [[scenarios]], [review], [s] and other brackets
    rich_markup_mode=None,
)

# Modules that define commands; each exposes `register(app)`. Missing ones are skipped so a
# partial install (no optional extras) still runs the rest.
COMMAND_MODULES = (
    "bufferwise.cli.data",  # import, validate, status, demo
    "bufferwise.cli.profile",  # profile
    "bufferwise.cli.size",  # size
    "bufferwise.cli.equipment",  # equipment
    "bufferwise.cli.analyze",  # analyze
    "bufferwise.cli.decide",  # decide, scenario
    "bufferwise.cli.backtest",  # backtest
    "bufferwise.cli.review",  # review, approve, history
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bufferwise {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database URL (sqlite:///file.db, postgresql+psycopg://user@host/db) or a SQLite "
        "file path. Default: $BUFFERWISE_DB, else bufferwise.db in the working folder.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    State.db_url = db
    State.debug = debug


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _name:
            raise
        continue
    _mod.register(app)

for _info in app.registered_commands:  # usage lines: PATHS..., not {paths}...
    if _info.cls in (None, TyperCommand):
        _info.cls = PlainUsageCommand


def main() -> None:
    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # here, not at exit: a closed pipe is caught below
    except BrokenPipeError:
        try:
            quiet_broken_pipe()
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
