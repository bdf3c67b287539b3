"""The embedded SQLite file is shared by the kiosk and dashboard processes: ten processes
finishing check-ins at the same moment queue for the write lock instead of failing with
"database is locked"."""

from __future__ import annotations

import multiprocessing
import shutil
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time
from shared.db import make_engine, session_scope
from shared.models import Appointment, AppointmentStatus, Channel
from shared.services import checkin
from shared.services.clinic_settings import ClinicSettings
from tests.factories import make_appointment

TZ = ZoneInfo("America/Chicago")
DAY = date(2026, 6, 16)
PROCESSES = 10
EACH = 5
# Generous: on a busy machine ten processes take a while to start; the test itself is quick.
WAIT_S = 300


def _check_in_all(url: str, ids: list[int], barrier, failures) -> None:
    engine = make_engine(url)
    barrier.wait(WAIT_S)
    for appointment_id in ids:
        try:
            with session_scope(engine) as session:
                started = checkin.begin(session, appointment_id, channel=Channel.KIOSK,
                                        now=at_clinic_time(DAY, 8, 45, TZ), tz=TZ,
                                        rules=ClinicSettings(), kiosk_id="lobby-1")
                checkin.complete(session, started.id, now=at_clinic_time(DAY, 8, 50, TZ),
                                 tz=TZ, rules=ClinicSettings())
        except Exception as exc:  # counted and shown by the test
            failures.put(type(exc).__name__)
    engine.dispose()


def test_ten_processes_checking_in_at_once_all_succeed_with_distinct_tickets(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "shared.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with session_scope(engine) as session:
        ids = [make_appointment(session, start=at_clinic_time(DAY, 9, 0, TZ)
                                + timedelta(minutes=n)).id
               for n in range(PROCESSES * EACH)]
    engine.dispose()  # no connection of the parent's is carried into the workers
    # Forked, not spawned: a worker starts in milliseconds instead of importing everything.
    context = multiprocessing.get_context("fork")
    barrier, failures = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_check_in_all,
                               args=(url, ids[k::PROCESSES], barrier, failures))
               for k in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT_S)

    seen = []
    while not failures.empty():
        seen.append(failures.get())
    assert seen == []
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    with Session(engine) as session:
        tickets = session.scalars(select(Appointment.ticket)).all()
        checked_in = session.scalar(select(func.count()).select_from(Appointment)
                                    .where(Appointment.status == AppointmentStatus.CHECKED_IN))
    assert checked_in == PROCESSES * EACH
    assert len(set(tickets)) == PROCESSES * EACH
    engine.dispose()
