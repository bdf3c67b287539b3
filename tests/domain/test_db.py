"""The engine: SQLite set up for two apps sharing one file, PostgreSQL failures without
credentials, and times that come back as the same UTC instant on every database."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import shared.db
from shared.config import ConfigError
from shared.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    DatabaseUnavailable,
    check_connection,
    connection_dropped,
    insert_object,
    lock_refused,
    make_engine,
    run_transaction,
    update_row,
)
from shared.models import Appointment, AppointmentStatus, AuditEvent, Base, Channel, CheckIn
from tests.conftest import _empty_postgres
from tests.factories import make_appointment, make_location, make_provider

CHICAGO = ZoneInfo("America/Chicago")


# --- SQLite ---------------------------------------------------------------------------------


@pytest.fixture
def sqlite_file_engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)],
)
def test_the_sqlite_file_is_set_up_for_kiosk_and_dashboard_together(
    sqlite_file_engine, pragma: str, expected: object
) -> None:
    with sqlite_file_engine.connect() as conn:
        assert conn.exec_driver_sql(f"PRAGMA {pragma}").scalar() == expected


def test_every_new_sqlite_connection_gets_the_same_settings(sqlite_file_engine) -> None:
    with sqlite_file_engine.connect() as first, sqlite_file_engine.connect() as second:
        for conn in (first, second):
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS


# --- a writer refused for the lock runs once more -------------------------------------------


@pytest.fixture
def impatient_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path):
    """A migrated SQLite file whose writers wait only 50 ms for the lock, and a second
    connection that can hold the write lock (as another kiosk's long write would)."""
    monkeypatch.setattr(shared.db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "busy.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    yield engine, other
    other.close()
    engine.dispose()


def _add_audit(session: Session) -> int:
    session.add(AuditEvent(actor_type="test", action="test.wrote", record_type="test"))
    session.flush()
    return 1


def test_a_transaction_refused_for_the_lock_runs_once_more_and_succeeds(impatient_sqlite) -> None:
    engine, other = impatient_sqlite
    other.execute("BEGIN IMMEDIATE")
    refusals = []

    @event.listens_for(engine, "handle_error")
    def _release(context) -> None:
        # The other writer finishes the moment ours is refused.
        refusals.append(str(context.original_exception))
        other.execute("COMMIT")

    assert run_transaction(engine, _add_audit) == 1
    assert refusals == ["database is locked"]
    with Session(engine) as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["test.wrote"]


def test_a_second_refusal_is_raised_and_nothing_is_saved(impatient_sqlite) -> None:
    engine, other = impatient_sqlite
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError) as refused:
        run_transaction(engine, _add_audit)
    assert lock_refused(refused.value)
    other.execute("COMMIT")
    with Session(engine) as session:
        assert session.scalars(select(AuditEvent.action)).all() == []


def test_other_database_errors_are_not_run_again(impatient_sqlite) -> None:
    engine, _ = impatient_sqlite
    calls = []

    def broken(session: Session) -> None:
        calls.append(1)
        session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError) as error:
        run_transaction(engine, broken)
    assert not lock_refused(error.value)
    assert calls == [1]


def test_an_appointment_for_a_patient_who_does_not_exist_is_refused(session: Session) -> None:
    session.add(
        Appointment(
            patient_id=987654,
            provider=make_provider(session),
            location=make_location(session),
            start=datetime(2026, 6, 15, 15, 0, tzinfo=UTC),
            visit_type="follow-up",
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


# --- reaching the database --------------------------------------------------------------------


def test_a_reachable_database_passes_the_connection_check(engine) -> None:
    check_connection(engine)


def test_an_unreachable_postgresql_server_is_reported_as_unavailable() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x")
    try:
        with pytest.raises(DatabaseUnavailable, match="postgresql"):
            check_connection(engine)
    finally:
        engine.dispose()


def test_the_unavailable_message_never_shows_the_password() -> None:
    engine = make_engine("postgresql+psycopg://checkin:secretpw@127.0.0.1:1/x")
    try:
        with pytest.raises(DatabaseUnavailable) as unavailable:
            check_connection(engine)
    finally:
        engine.dispose()
    message = str(unavailable.value)
    assert "secretpw" not in message
    assert "\n" not in message


# --- UTCDateTime ------------------------------------------------------------------------------


def test_an_appointment_time_comes_back_as_the_same_utc_instant(session: Session) -> None:
    # 09:30 on the morning the clocks spring forward, given in the clinic's own zone.
    start = datetime(2026, 3, 8, 9, 30, tzinfo=CHICAGO)
    appointment_id = make_appointment(session, start=start).id
    session.commit()

    with Session(session.get_bind()) as fresh:
        saved = fresh.get(Appointment, appointment_id)
        assert saved is not None
        assert saved.start.tzinfo == UTC
        assert saved.start == start
        assert saved.start == datetime(2026, 3, 8, 14, 30, tzinfo=UTC)
        assert saved.created_at.tzinfo == UTC


def test_an_audit_time_keeps_its_microseconds_and_comes_back_in_utc(session: Session) -> None:
    at = datetime(2026, 11, 1, 1, 30, 15, 123456, tzinfo=CHICAGO, fold=1)  # second 01:30, CST
    session.add(AuditEvent(at=at, actor_type="system", action="test.ran", record_type="none"))
    session.commit()

    with Session(session.get_bind()) as fresh:
        saved = fresh.scalar(select(AuditEvent.at))
    assert saved is not None
    assert saved.tzinfo == UTC
    # Compared in UTC: Python never calls a fold=1 time equal to one in another zone (PEP 495).
    assert saved == at.astimezone(UTC) == datetime(2026, 11, 1, 7, 30, 15, 123456, tzinfo=UTC)


def test_a_time_without_a_zone_is_refused_when_saved(session: Session) -> None:
    naive = datetime(2026, 6, 15, 10, 0)  # no zone: the point of the test
    session.add(AuditEvent(at=naive, actor_type="system", action="test.ran", record_type="none"))
    with pytest.raises(StatementError) as refused:
        session.flush()
    assert isinstance(refused.value.orig, ValueError)
    assert "naive" in str(refused.value.orig)
    session.rollback()


@pytest.mark.parametrize(("stored", "expected"), [
    ("2026-06-15 15:30:00.000000", datetime(2026, 6, 15, 15, 30, tzinfo=UTC)),  # as written
    ("2026-06-15 15:30:00", datetime(2026, 6, 15, 15, 30, tzinfo=UTC)),  # CURRENT_TIMESTAMP
    ("2026-06-15 10:30:00-05:00", datetime(2026, 6, 15, 15, 30, tzinfo=UTC)),  # own offset
])
def test_any_timestamp_text_in_sqlite_is_read_as_the_utc_instant_it_names(
    stored: str, expected: datetime
) -> None:
    # SQLite keeps text; the column's fast reader must not misread text it did not write.
    engine = shared.db.make_engine("sqlite://")
    try:
        Base.metadata.create_all(engine, tables=[AuditEvent.__table__])
        with Session(engine) as session:
            session.execute(text(
                "INSERT INTO audit_event (at, actor_type, action, record_type)"
                " VALUES (:at, 'system', 'test.ran', 'none')"), {"at": stored})
            read = session.scalar(select(AuditEvent.at))
        assert read == expected
        assert read is not None and read.tzinfo is UTC
    finally:
        engine.dispose()


def test_a_status_the_code_does_not_know_is_refused_when_read(session: Session) -> None:
    appointment_id = make_appointment(session).id
    session.commit()
    session.execute(text("UPDATE appointment SET status = 'teleported' WHERE id = :id"),
                    {"id": appointment_id})
    with pytest.raises(LookupError, match="teleported"):
        session.scalar(select(Appointment.status).where(Appointment.id == appointment_id))
    session.rollback()


# --- PostgreSQL: no ping per transaction, and a dropped connection -------------------------


@pytest.fixture
def postgres_engine(postgres_schema_url: str):
    """A PostgreSQL engine on the session's empty schema, emptied again afterwards."""
    engine = make_engine(postgres_schema_url)
    yield engine
    _empty_postgres(engine)
    engine.dispose()


def _drop_this_process_connections(engine) -> None:
    """What a server restart does to the pool: every connection it holds is cut."""
    with engine.connect() as conn:
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = make_engine(str(engine.url.set(query={})))
    try:
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    finally:
        admin.dispose()


def test_a_postgresql_transaction_sends_no_ping_first(postgres_engine) -> None:
    with Session(postgres_engine) as warm:
        warm.execute(select(AuditEvent.id)).all()
    sent: list[str] = []
    event.listen(postgres_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: sent.append(statement))
    run_transaction(postgres_engine, _add_audit)
    assert len(sent) == 1 and sent[0].startswith("INSERT INTO audit_event")


def test_a_connection_the_server_dropped_is_replaced_and_the_work_runs_once(
    postgres_engine
) -> None:
    _drop_this_process_connections(postgres_engine)
    calls = []

    def write(session: Session) -> int:
        calls.append(1)
        return _add_audit(session)

    assert run_transaction(postgres_engine, write) == 1
    assert len(calls) == 2  # the first met the dropped connection at its first statement
    with Session(postgres_engine) as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["test.wrote"]


def test_a_dropped_connection_outside_run_transaction_fails_once_then_works(
    postgres_engine
) -> None:
    """A screen's plain read meets the dropped connection once (the kiosk and the desk show a
    calm "try again" for it) and the next read gets a new connection."""
    _drop_this_process_connections(postgres_engine)
    with pytest.raises(DBAPIError) as dropped, Session(postgres_engine) as session:
        session.execute(select(AuditEvent.id)).all()
    assert connection_dropped(dropped.value)
    with Session(postgres_engine) as session:
        assert session.execute(select(AuditEvent.id)).all() == []


# --- PostgreSQL pool settings ----------------------------------------------------------------


def test_the_pool_is_sized_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHECKIN_DB_POOL_SIZE", "3")
    monkeypatch.setenv("CHECKIN_DB_MAX_OVERFLOW", "2")
    monkeypatch.setenv("CHECKIN_DB_PGBOUNCER", "1")
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 2)
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection.prepare_threshold is None
    finally:
        engine.dispose()


def test_the_pool_defaults_to_five_and_ten() -> None:
    assert shared.db.pool_settings({}) == (5, 10, False)


@pytest.mark.parametrize(("name", "value"), [
    ("CHECKIN_DB_POOL_SIZE", "0"), ("CHECKIN_DB_POOL_SIZE", "many"),
    ("CHECKIN_DB_MAX_OVERFLOW", "-1"), ("CHECKIN_DB_PGBOUNCER", "yes")])
def test_a_bad_pool_setting_is_one_line_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        shared.db.pool_settings({name: value})
    assert str(refused.value).startswith(f"{name}:")


# --- Writes without the unit of work ---------------------------------------------------------


def _statements(session: Session) -> list[str]:
    sent: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: sent.append(statement))
    return sent


def test_update_row_keeps_the_loaded_object_current_and_its_version_counting(
    session: Session,
) -> None:
    appointment = make_appointment(session)
    session.commit()
    version = appointment.version

    update_row(session, Appointment, appointment.id, {"status": AppointmentStatus.ARRIVED,
                                                      "ticket": "A007"}, version=version)
    sent = _statements(session)
    assert (appointment.status, appointment.ticket, appointment.version) == (
        AppointmentStatus.ARRIVED, "A007", version + 1)
    assert sent == []  # read from the object, not loaded again
    appointment.room = "Room 3"  # the ORM's own next change checks the new version
    session.commit()

    with Session(session.get_bind()) as fresh:
        saved = fresh.get_one(Appointment, appointment.id)
        assert (saved.status, saved.ticket, saved.room, saved.version) == (
            AppointmentStatus.ARRIVED, "A007", "Room 3", version + 2)


def test_update_row_refuses_a_row_changed_meanwhile_and_changes_nothing(
    session: Session,
) -> None:
    appointment = make_appointment(session)
    session.commit()
    with Session(session.get_bind()) as desk, desk.begin():
        desk.get_one(Appointment, appointment.id).room = "Room 1"  # version + 1

    with pytest.raises(StaleDataError):
        update_row(session, Appointment, appointment.id, {"ticket": "A001"},
                   version=appointment.version)
    session.rollback()
    with Session(session.get_bind()) as fresh:
        assert fresh.get_one(Appointment, appointment.id).ticket is None


def test_insert_object_keeps_the_new_row_in_the_session_without_reading_it_back(
    session: Session,
) -> None:
    appointment = make_appointment(session)
    session.commit()
    at = datetime(2026, 6, 16, 15, 0, tzinfo=UTC)

    sent = _statements(session)
    check_in = insert_object(session, CheckIn(appointment_id=appointment.id,
                                              channel=Channel.KIOSK, started_at=at,
                                              last_step="identity"))
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("INSERT")
    assert check_in in session and check_in.id is not None
    assert (check_in.kiosk_id, check_in.completed_at, check_in.last_step) == (
        None, None, "identity")
    assert session.get(CheckIn, check_in.id) is check_in
    assert len(sent) == 1  # no SELECT for any of that
    check_in.last_step = "appointment"  # an ordinary ORM change afterwards
    session.commit()

    with Session(session.get_bind()) as fresh:
        saved = fresh.get_one(CheckIn, check_in.id)
        assert (saved.appointment_id, saved.started_at, saved.last_step) == (
            appointment.id, at, "appointment")
