"""Alembic environment of bufferwise's migrations.

Normally run by `bufferwise.storage.migrate.upgrade`, which hands over a connection in
`config.attributes["connection"]`. To write a new revision after changing `tables.py` (or
`model/schema.py`), point a Config at a scratch database at head and autogenerate:

    from alembic import command
    from bufferwise.storage.migrate import alembic_config
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite:////tmp/scratch.db")
    command.upgrade(config, "head")
    command.revision(config, "what changed", autogenerate=True, rev_id="0002_what_changed")
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bufferwise.storage.tables import metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    from bufferwise.storage.engine import create_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database URL: alembic -x url=sqlite:///bufferwise.db ...")
    engine, _ = create_engine(url)
    try:
        with engine.begin() as conn:
            run_migrations(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("bufferwise migrations run online only (they need a connection)")
main()
