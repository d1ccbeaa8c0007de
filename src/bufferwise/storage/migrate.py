"""Create or upgrade the schema with the Alembic revisions shipped in the package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from bufferwise.storage.engine import write_transaction

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_LOCK_KEY = 0x62756666  # pg_advisory_xact_lock key of bufferwise migrations ("buff")


def alembic_config() -> Config:
    """An Alembic Config built in code: no alembic.ini needed in the working folder."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _lock(conn: sa.Connection) -> None:
    """Serialise migrations of one database across processes, for this transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
    # SQLite: the write transaction began with BEGIN IMMEDIATE, which holds the write lock


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` in one transaction (a no-op when already there).

    Processes that open a new database at the same moment take turns: the first creates the
    schema, the others find it done.
    """
    config = alembic_config()
    target = head_revision() if revision == "head" else revision
    if current_revision(engine) == target:
        return
    with write_transaction(engine) as conn:
        _lock(conn)
        if MigrationContext.configure(conn).get_current_revision() == target:
            return
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
