"""Database fixtures: every domain test runs on SQLite and on PostgreSQL.

PostgreSQL comes from CHECKIN_TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432, database test). Without a server those cases skip, saying why; with
CHECKIN_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead.

Time is an input: every test runs with the clock set (time-machine) to a fixed clinic time,
a Tuesday morning unless CHECKIN_TEST_CLOCK names another instant; `make test-clock` runs
the suite early in the morning, just before closing, just before midnight and on the
spring-forward Sunday. The clock runs on from there, as a real one does.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from shared import clock, migrate
from shared.db import make_engine
from shared.models import Base

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# A Tuesday at 10:00 in the test clinic's zone (America/Chicago, CDT).
DEFAULT_TEST_CLOCK = "2026-06-16T10:00:00-05:00"


def clock_start_for_tests() -> datetime:
    """The instant every test starts at: CHECKIN_TEST_CLOCK, or a Tuesday morning."""
    raw = os.environ.get("CHECKIN_TEST_CLOCK", "").strip() or DEFAULT_TEST_CLOCK
    return clock.parse_start(raw)


@pytest.fixture(autouse=True)
def clinic_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """The clock set for this test, running on from there; the test's start is yielded.
    A CHECKIN_CLOCK_START in the environment (a training setting) is ignored here."""
    monkeypatch.delenv(clock.ENV_VAR, raising=False)
    monkeypatch.delenv(clock.SET_AT_VAR, raising=False)
    start = clock_start_for_tests()
    with time_machine.travel(start, tick=True):
        yield start


def _postgres_base_url() -> str:
    return os.environ.get("CHECKIN_TEST_POSTGRES_URL", "").strip() or DEFAULT_POSTGRES_URL


def _unavailable(reason: str) -> None:
    if os.environ.get("CHECKIN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here but {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A fresh, migrated schema for this test session; dropped at the end."""
    base = _postgres_base_url()
    admin = make_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        _unavailable(f"cannot connect to {admin.url.render_as_string()} ({type(exc).__name__})")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "checkin.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_schema_url")
    yield url
    engine = make_engine(url)
    try:
        _empty_postgres(engine)
    finally:
        engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
