"""Opening a database: schema created from empty by the shipped migrations; clear errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bufferwise.errors import StorageError
from bufferwise.storage import open_repository
from bufferwise.storage.engine import create_engine
from bufferwise.storage.migrate import head_revision
from bufferwise.storage.tables import metadata


def test_migration_from_empty_creates_every_table_at_head(empty_db_url: str) -> None:
    with open_repository(empty_db_url) as repo:
        assert repo.schema_revision() == head_revision() == "0003_policy_decisions"
        names = set(sa.inspect(repo.engine).get_table_names())
        assert set(metadata.tables) <= names
        assert "alembic_version" in names
        assert repo.table_counts() == dict.fromkeys(repo.table_counts(), 0)
        # the migrations and tables.py (generated from model/schema.py) describe one schema
        with repo.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []


def test_open_without_upgrade_leaves_an_empty_database_alone(empty_db_url: str) -> None:
    with open_repository(empty_db_url, upgrade=False) as repo:
        assert repo.schema_revision() is None
        assert not set(metadata.tables) & set(sa.inspect(repo.engine).get_table_names())


def test_reopening_keeps_data_and_does_not_migrate_again(db_url: str) -> None:
    with open_repository(db_url) as repo:
        repo.start_run("profile")
    with open_repository(db_url) as repo:
        assert [r.kind for r in repo.list_runs()] == ["profile"]
        assert repo.schema_revision() == "0003_policy_decisions"


# ids whose byte order (Python's sorted(), SQLite's BINARY) differs from a locale's order
ODD_IDS = ["b-2", "B1", "a_1", "a-1", "A2", "Z", "a", "é9", "e9", "10", "9", " x"]


def test_upgrade_from_0001_keeps_the_rows_and_orders_ids_byte_by_byte(empty_db_url: str) -> None:
    from bufferwise.storage import migrate
    from bufferwise.storage.tables import CANONICAL

    engine, _ = create_engine(empty_db_url)
    try:
        migrate.upgrade(engine, "0001_initial")
        demand = CANONICAL["demand"]
        rows = [
            {"item_id": i, "date": dt.date(2026, 1, 1), "quantity": float(n), "returns": 0.0}
            for n, i in enumerate(ODD_IDS)
        ]
        with engine.begin() as conn:
            conn.execute(demand.insert(), rows)
    finally:
        engine.dispose()
    with open_repository(empty_db_url) as repo:
        assert repo.schema_revision() == "0003_policy_decisions"
        with repo.engine.connect() as conn:
            # no COLLATE in the query: the column's own collation orders it
            stored = conn.execute(sa.select(demand).order_by(demand.c.item_id)).all()
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    assert [r.item_id for r in stored] == sorted(ODD_IDS)
    assert sorted((r.item_id, r.quantity) for r in stored) == sorted(
        (i, float(n)) for n, i in enumerate(ODD_IDS)
    )


def test_upgrade_from_0002_reads_the_stored_policies_as_approvals(empty_db_url: str) -> None:
    from bufferwise.storage import migrate

    engine, _ = create_engine(empty_db_url)
    try:
        migrate.upgrade(engine, "0002_bytewise_text")
        # the policies table as 0001_initial created it (no decision columns yet)
        old = sa.Table(
            "policies",
            sa.MetaData(),
            *(sa.Column(n) for n in ("item_id", "version", "safety_stock", "reorder_point")),
            *(sa.Column(n) for n in ("order_up_to", "stance", "approved_at", "approved_by")),
            sa.Column("note"),
            sa.Column("run_id"),
        )
        rows = [
            {
                "item_id": item,
                "version": version,
                "safety_stock": 10.0 * version,
                "reorder_point": 25.0,
                "order_up_to": None,
                "stance": "lean",
                "approved_at": dt.datetime(2026, 1, version),
                "approved_by": "ana",
                "note": f"v{version}",
                "run_id": None,
            }
            for item, version in (("A", 1), ("A", 2), ("B", 1))
        ]
        with engine.begin() as conn:
            conn.execute(old.insert(), rows)
    finally:
        engine.dispose()
    with open_repository(empty_db_url) as repo:
        assert repo.schema_revision() == "0003_policy_decisions"
        history = repo.policy_history("A")
        assert history["decision"].tolist() == ["approved", "approved"]
        assert history["safety_stock"].tolist() == [10.0, 20.0]
        assert history["note"].tolist() == ["v1", "v2"]
        assert history[["rejected_safety_stock", "rejected_reorder_point"]].isna().all().all()
        assert history["rejected_stance"].isna().all()
        current = repo.current_policies()
        assert current["item_id"].tolist() == ["A", "B"]
        assert current["version"].tolist() == [2, 1]
        # a new rejection lands after the old approvals
        stored = repo.reject(
            [
                {
                    "item_id": "B",
                    "safety_stock": 10.0,
                    "reorder_point": 25.0,
                    "stance": "lean",
                    "rejected_safety_stock": 30.0,
                    "rejected_reorder_point": 45.0,
                    "rejected_stance": "buffer",
                }
            ],
            by="ben",
            note="keep",
        )
        assert stored["version"].tolist() == [2]
        with repo.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []


def test_downgrade_to_0002_drops_the_decision_columns(empty_db_url: str) -> None:
    from alembic import command

    from bufferwise.storage import migrate

    engine, _ = create_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        config = migrate.alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0002_bytewise_text")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("policies")}
    finally:
        engine.dispose()
    assert "decision" not in columns and "rejected_stance" not in columns
    assert {"item_id", "version", "safety_stock", "note", "run_id"} <= columns


@pytest.mark.postgres
def test_canonical_text_columns_are_bytewise_on_postgres(postgres_url: str) -> None:
    with open_repository(postgres_url) as repo, repo.engine.connect() as conn:
        collations = conn.exec_driver_sql(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'text'"
        ).all()
    from bufferwise.storage.tables import CANONICAL

    canonical = {(r.table_name, r.column_name): r.collation_name for r in collations}
    expected = {
        (name, c.name)
        for name, table in CANONICAL.items()
        for c in table.columns
        if isinstance(c.type, sa.Text)
    }
    assert {k for k in canonical if k[0] in CANONICAL} == expected
    assert {canonical[k] for k in expected} == {"C"}


def test_unknown_scheme_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match=r"unsupported database URL scheme 'mysql'.*sqlite:///"):
        open_repository("mysql://user@localhost/plant")


def test_text_that_is_not_a_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="is not a database URL"):
        open_repository("not a url")


def test_unreachable_server_says_what_to_do() -> None:
    # port 1 on localhost: nothing listens there, the connection is refused at once
    with pytest.raises(StorageError) as raised:
        open_repository("postgresql://planner:secret@127.0.0.1:1/plant")
    message = str(raised.value)
    assert message.startswith("cannot connect to postgresql://planner:***@127.0.0.1:1/plant")
    assert "check the server is running" in message
    assert "sqlite:///bufferwise.db" in message
    assert "secret" not in message


def test_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"cannot open .*check that the folder exists"):
        open_repository(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'bw.db'}")


def test_postgres_scheme_without_driver_uses_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with open_repository(plain) as repo:
        assert repo.engine.dialect.driver == "psycopg"


def test_processes_opening_a_new_database_together_take_turns(empty_db_url: str) -> None:
    script = (
        "import sys; from bufferwise.storage import open_repository; "
        "open_repository(sys.argv[1]).close()"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", script, empty_db_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in starts]
    assert [p.returncode for p in starts] == [0, 0, 0], errors
    with open_repository(empty_db_url) as repo:
        assert repo.schema_revision() == head_revision()
