"""The one engine factory and the session helper.

SQLite (the embedded default) runs with WAL, foreign keys and a busy timeout, so the
kiosk and the dashboard can share one file. PostgreSQL (production) goes through psycopg 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shared.config import get_settings

SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message names no credentials."""


def make_engine(url: str) -> Engine:
    """Create an engine for `url` with the settings each backend needs.

    Statement parameters are hidden from error messages, so a failing query never writes a
    patient's values into a log."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5},
                         hide_parameters=True)


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """One engine per process and URL (the apps wrap this in st.cache_resource)."""
    return make_engine(url or get_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a short, credential-free reason when unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = type(getattr(exc, "orig", exc) or exc).__name__
        raise DatabaseUnavailable(
            f"cannot reach the {engine.dialect.name} database ({reason})"
        ) from exc
