"""Database URLs and engines: which back-ends we accept, how they are tuned, how failures read.

Accepted URLs
    sqlite:///relative/path.db   sqlite:////absolute/path.db   sqlite:// (in memory)
    postgresql://user@host:5432/db  (also postgres://, postgresql+psycopg://; driver psycopg 3)

Connection problems become `StorageError` with the URL (password hidden) and what to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from bufferwise.errors import StorageError


def _driver_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = [DBAPIError, sqlite3.Error]
    try:
        import psycopg
    except ImportError:
        return tuple(errors)
    errors.append(psycopg.Error)
    return tuple(errors)


# What a database failure can raise: SQLAlchemy's wrapper, or a driver error from the raw
# connections that bulk loading and fast reads use.
DATABASE_ERRORS: tuple[type[Exception], ...] = _driver_errors()


def error_reason(exc: BaseException) -> str:
    """The driver's message on one line."""
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig if orig is not None else exc).split())


FALLBACK_HINT = "pass --db sqlite:///bufferwise.db (or set BUFFERWISE_DB) to use a local file"
SQLITE_CACHE_KIB = 65_536  # page cache per connection, KiB (PRAGMA cache_size = -N)
SQLITE_BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "bufferwise_write"


def normalize_url(url: str) -> URL:
    """Parse `url` and pick our driver; unknown schemes raise StorageError."""
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise StorageError(
            f"{url!r} is not a database URL; expected sqlite:///path/to/file.db or "
            f"postgresql://user@host:5432/database"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.get_driver_name() in ("psycopg2", "pg8000", "asyncpg", "psycopg_async"):
            return parsed
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise StorageError(
        f"unsupported database URL scheme {parsed.drivername!r} in "
        f"{parsed.render_as_string(hide_password=True)}; bufferwise stores data in SQLite "
        f"(sqlite:///path/to/file.db) or PostgreSQL (postgresql://user@host:5432/database)"
    )


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names (any sqlite+driver scheme); None for other back-ends,
    in-memory databases, SQLite URI filenames and URLs that do not parse (`normalize_url`
    reports those)."""
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


def display_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module: SQLAlchemy's "begin" event below emits
    # BEGIN itself, so DDL, temp tables and bulk executemany all sit inside one transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in (
            "PRAGMA journal_mode=WAL",  # readers never block the writer
            "PRAGMA synchronous=NORMAL",  # durable at checkpoints; safe with WAL
            "PRAGMA foreign_keys=ON",
            f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}",
        ):
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # Writers take the write lock up front (BEGIN IMMEDIATE, waiting up to the busy timeout);
    # a deferred transaction that read first cannot wait for it and fails at once instead.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def create_engine(url: str) -> tuple[Engine, URL]:
    """An engine for `url`, connected once to prove the database is reachable."""
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StorageError(
            f"cannot use {display_url(parsed)}: the database driver is not installed ({exc}); "
            f"install bufferwise[postgres] for PostgreSQL, or {FALLBACK_HINT}"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        engine.dispose()
        raise StorageError(connect_message(parsed, exc, url)) from None
    return engine, parsed


def connect_message(url: URL, exc: DBAPIError, given: str) -> str:
    """'cannot connect to <url as given, password hidden>: <reason>; <what to do>'."""
    reason = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc)
    shown = display_url(make_url(given.strip()))
    if url.get_backend_name() == "sqlite":
        return f"cannot open {shown}: {reason}; {sqlite_hint(reason)}"
    return f"cannot connect to {shown}: {reason}; check the server is running or {FALLBACK_HINT}"


#: what to do about a SQLite error, by a phrase of sqlite's message (first match wins)
SQLITE_HINTS: tuple[tuple[str, str], ...] = (
    ("not a database", "check the path given to --db: that file is not a SQLite database"),
    ("malformed", "the file is damaged; restore it from a backup or import again into a new file"),
    ("readonly", "check that the file and its folder are writable"),
    ("locked", "another program is writing to it; try again when it is done"),
    ("unable to open", "check that the folder exists and is writable"),
)


def sqlite_hint(reason: str) -> str:
    """What to do about the SQLite error `reason`."""
    low = reason.lower()
    for phrase, hint in SQLITE_HINTS:
        if phrase in low:
            return hint
    return "check the path given to --db, and that its folder exists and is writable"
