"""Shared fixtures: where the real public data sets are, database URLs for both back-ends.

`db_url`: a test using it runs on SQLite (a temp file) and on PostgreSQL (a fresh schema).
PostgreSQL: the server at POSTGRES_URL. Each test session (each xdist worker) migrates its own
schema `bw_test_<random>`, selected through search_path, empties its tables before every test
and drops the schema at the end; `empty_db_url` gives a brand-new, unmigrated schema (or SQLite
file) for migration tests. When the server cannot be reached the PostgreSQL cases are skipped
with the reason, unless BUFFERWISE_REQUIRE_POSTGRES=1 (CI), where they fail.
`shared_data`, `shared_file` and `reference_cases`: a missing data set or reference_cases.json
skips the test with the reason, unless BUFFERWISE_REQUIRE_DATA=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bufferwise.storage import open_repository
from bufferwise.storage.tables import metadata

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REFERENCE_CASES = REPO_ROOT.parent / "shared" / "reference_cases.json"


REQUIRE_DATA = os.environ.get("BUFFERWISE_REQUIRE_DATA", "") == "1"


def missing_data(reason: str) -> NoReturn:
    """Skip the test with the reason, or fail it under BUFFERWISE_REQUIRE_DATA=1 (CI)."""
    if REQUIRE_DATA:
        pytest.fail(reason + " (BUFFERWISE_REQUIRE_DATA=1)")
    pytest.skip(reason + "; CI (BUFFERWISE_REQUIRE_DATA=1) fails here instead")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real public data sets; never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        missing_data(f"real data sets not found at {SHARED_DATA} (they sit beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_file(shared_data: Path) -> Callable[[str], Path]:
    """`shared_file("carparts_expsmooth/carparts_long.csv")`: that file of ../shared/data.

    A missing file skips the test with the reason, or fails it under BUFFERWISE_REQUIRE_DATA=1.
    """

    def get(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            missing_data(f"data file not found: {path}")
        return path

    return get


@pytest.fixture(scope="session")
def reference_cases() -> dict[str, dict]:
    """../shared/reference_cases.json, by case name."""
    import json

    if not REFERENCE_CASES.is_file():
        missing_data(f"reference cases not found at {REFERENCE_CASES}")
    data = json.loads(REFERENCE_CASES.read_text())
    return {c["name"]: c for c in data["cases"]}


POSTGRES_URL = os.environ.get(
    "BUFFERWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("BUFFERWISE_REQUIRE_POSTGRES", "") == "1"


def _admin_url() -> URL:
    url = make_url(POSTGRES_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    """An engine on the test server; skip (or fail in CI) when it cannot be reached."""
    url = _admin_url()
    shown = url.render_as_string(hide_password=True)
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any failure to reach the server means the same thing here
        reason = f"PostgreSQL not reachable at {shown}: {' '.join(str(exc).split())[:300]}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (BUFFERWISE_REQUIRE_POSTGRES=1)")
        pytest.skip(reason + "; set BUFFERWISE_TEST_POSTGRES_URL or start the server")
    yield engine
    engine.dispose()


@contextmanager
def _schema(admin: sa.Engine) -> Iterator[str]:
    """A URL whose search_path is a brand-new schema, dropped afterwards."""
    schema = f"bw_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _admin_url().update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A brand-new, empty schema for one test."""
    with _schema(postgres_admin) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_session_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A schema migrated once per test session."""
    with _schema(postgres_admin) as url:
        open_repository(url).close()
        yield url


def _empty_tables(admin: sa.Engine, url: str) -> None:
    # DELETE, not TRUNCATE: far quicker on a dozen small tables
    schema = make_url(url).query["options"].split("=", 1)[1]
    with admin.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.exec_driver_sql(f'DELETE FROM "{schema}"."{table.name}"')


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest schema with every table empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bufferwise.db'}"
    url = str(request.getfixturevalue("postgres_session_url"))
    _empty_tables(request.getfixturevalue("postgres_admin"), url)
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with nothing in it at all (no tables, no schema revision)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("postgres_url"))
