"""The one engine factory and the session helper.

SQLite (the embedded default) runs with WAL, foreign keys and a busy timeout, so the
kiosk and the dashboard can share one file, which is created readable by its owner only
(SQLite gives the -wal and -shm files the same mode). PostgreSQL (production) goes through
psycopg 3.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import (
    Engine,
    Insert,
    Update,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    make_url,
    text,
    update,
)
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from shared.config import ConfigError, get_settings

# Writers queue for the file's write lock this long before a "database is locked" (10
# processes finishing check-ins at once wait well under a second each on this machine).
SQLITE_BUSY_TIMEOUT_MS = 15000
SQLITE_FILE_MODE = 0o600
# PostgreSQL connections older than this are replaced when next checked out, well before a
# server's or a proxy's idle timeout would cut them.
POOL_RECYCLE_S = 1800

log = logging.getLogger("shared.db")
T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message names no credentials."""


def _create_private_sqlite_file(url: str) -> None:
    """Create the SQLite file, empty and 0600, before SQLite would create it with the
    process's umask (0644: readable by every user on the machine). An existing file is
    left as it is; SQLite reports any problem with the path when it connects."""
    try:
        database = make_url(url).database
    except ArgumentError:
        return
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE)
    except OSError:
        return  # it exists (kept as it is), or the folder is missing (SQLite will say so)
    os.close(fd)


def make_engine(url: str) -> Engine:
    """Create an engine for `url` with the settings each backend needs.

    Statement parameters are hidden from error messages, so a failing query never writes a
    patient's values into a log."""
    if url.startswith("sqlite"):
        _create_private_sqlite_file(url)
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
    # No "SELECT 1" before every transaction (it was one round trip per screen refresh):
    # connections are replaced after POOL_RECYCLE_S, and one that the server dropped fails
    # its first statement, which invalidates the pool and is run again (run_transaction) or
    # shown as a calm "try again" (the kiosk, the desk's live views).
    pool_size, max_overflow, pgbouncer = pool_settings(os.environ)
    connect_args: dict[str, object] = {"connect_timeout": 5}
    if pgbouncer:
        # PgBouncer in transaction mode hands each transaction to any server connection:
        # statements psycopg would prepare on one would be missing on the next.
        connect_args["prepare_threshold"] = None
    return create_engine(url, pool_pre_ping=False, pool_recycle=POOL_RECYCLE_S,
                         pool_size=pool_size, max_overflow=max_overflow,
                         connect_args=connect_args, hide_parameters=True)


def pool_settings(env: Mapping[str, str]) -> tuple[int, int, bool]:
    """(pool size, overflow, behind PgBouncer) for PostgreSQL, from CHECKIN_DB_POOL_SIZE
    (default 5), CHECKIN_DB_MAX_OVERFLOW (default 10) and CHECKIN_DB_PGBOUNCER=1: each
    process may hold pool size + overflow connections, and all processes together must fit
    the server's max_connections (docs/deploy.md)."""

    def count(name: str, default: int, least: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < least:
            raise ConfigError(f"{name}: a whole number of at least {least} (got {raw!r})")
        return int(raw)

    pgbouncer = env.get("CHECKIN_DB_PGBOUNCER", "").strip()
    if pgbouncer not in ("", "0", "1"):
        raise ConfigError(f"CHECKIN_DB_PGBOUNCER: 1 or 0 (got {pgbouncer!r})")
    return (count("CHECKIN_DB_POOL_SIZE", 5, 1), count("CHECKIN_DB_MAX_OVERFLOW", 10, 0),
            pgbouncer == "1")


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


def lock_refused(exc: BaseException) -> bool:
    """SQLite gave up waiting for the write lock ("database is locked" or "busy") after its
    busy timeout: the transaction was rolled back whole and can simply run again."""
    orig = getattr(exc, "orig", None)
    return (isinstance(exc, OperationalError) and isinstance(orig, sqlite3.OperationalError)
            and any(word in str(orig).lower() for word in ("locked", "busy")))


def connection_dropped(exc: BaseException) -> bool:
    """The database connection was lost (a server restart, a network cut): the pool has
    dropped it, and the next transaction gets a new one."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def run_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """`work(session)` in one transaction, run once more when it is certain that nothing of
    it was kept: SQLite refused the write lock after its busy timeout (the transaction was
    rolled back whole), or a pooled connection the server had dropped failed the first
    statement. So a rush of writers or a restarted server costs a moment, never an error.
    Anything else (and a second failure) is raised as it is."""
    if engine not in _COUNTED:
        event.listen(engine, "after_cursor_execute", _count_sent)
        _COUNTED.add(engine)
    info: dict = {}
    before = 0
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            info = session.connection().info
            before = info.get(_SENT, 0)
            return work(session)
    except DBAPIError as exc:
        if not (lock_refused(exc)
                or (connection_dropped(exc) and info.get(_SENT, 0) == before)):
            raise
        log.warning("transaction refused (%s); running it once more",
                    "database busy" if lock_refused(exc) else "connection dropped")
    with session_scope(engine) as session:
        return work(session)


# Statements each pooled connection has finished (in its info): run_transaction runs work
# again only if none was. One listener per engine, counting into the connection's own dict,
# instead of a listener added and removed around every transaction (a tenth of a millisecond
# each time).
_SENT = "statements_sent"
_COUNTED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _count_sent(conn, *_args: object) -> None:
    conn.info[_SENT] = conn.info.get(_SENT, 0) + 1


# --- Writes without the unit of work ---------------------------------------------------------
# A check-in's hot path writes its few rows with one Core statement each: the ORM's flush
# bookkeeping was a third of a check-in's time, and no object is needed afterwards.


@lru_cache(maxsize=64)
def _insert(entity: type, with_id: bool) -> Insert:
    """INSERT of one row, returning its id or nothing (on PostgreSQL, reading back an id
    nobody needs is a RETURNING clause and a result to parse)."""
    table = entity.__table__
    return insert(table).returning(table.c.id) if with_id else insert(table).inline()


@lru_cache(maxsize=64)
def _update(entity: type, versioned: bool) -> Update:
    """UPDATE of one row by id (and version); the columns set are the parameters given."""
    table = entity.__table__
    query = update(table).where(table.c.id == bindparam("row_id_"))
    return query.where(table.c.version == bindparam("row_version_")) if versioned else query


def insert_row(session: Session, entity: type, values: Mapping[str, object]) -> None:
    """INSERT one row of `entity`'s table at once, in the session's transaction (column
    defaults apply as usual)."""
    session.connection().execute(_insert(entity, False), dict(values))


def insert_object(session: Session, obj: T) -> T:
    """INSERT a new object's row at once, in the session's transaction, and keep the object
    in the session as if it had been loaded: no flush, and no SELECT when its attributes
    are read. Columns left unset are NULL, or their default (read again when next used).
    Relationships are not saved: give the foreign keys, and set related objects afterwards
    with set_committed_value."""
    mapper = inspect(obj).mapper
    values = {}
    for column in mapper.local_table.c:
        if column.key in obj.__dict__:
            values[column.key] = obj.__dict__[column.key]
        elif (column.default is None and column.server_default is None
              and not column.primary_key):
            setattr(obj, column.key, None)
            values[column.key] = None
    obj.id = session.connection().execute(_insert(type(obj), True), values).scalar_one()
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def update_row(session: Session, entity: type, row_id: int, values: Mapping[str, object], *,
               version: int | None = None) -> None:
    """UPDATE one row of `entity` by id at once, in the session's transaction. With
    `version` (the row's version as read), the version column is checked and counted up as
    the ORM does: StaleDataError when another transaction changed the row first. The row's
    object in this session, if loaded, takes the new values (what the database set by
    itself, such as updated_at, is read again when next used)."""
    params = dict(values)
    if version is not None:
        params["version"] = version + 1
        params["row_version_"] = version
    params["row_id_"] = row_id
    if session.connection().execute(_update(entity, version is not None), params).rowcount != 1:
        raise StaleDataError(f"{entity.__tablename__} {row_id} was changed or removed meanwhile")
    loaded = session.identity_map.get(identity_key(entity, row_id))
    if loaded is not None:
        for name, value in params.items():
            if not name.endswith("_"):
                set_committed_value(loaded, name, value)
        session.expire(loaded, [c.key for c in entity.__table__.c
                                if c.onupdate is not None and c.key not in params])


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
