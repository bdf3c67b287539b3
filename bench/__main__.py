"""`python -m bench`: the desk's boards on a busy day.

Builds a clinic day of 300 appointments (half of them waiting) in a temporary SQLite file,
then times the arrivals board and the queue against a bare query over the same rows, and
counts the SQL statements each needs. Prints ratios, since absolute times vary by machine.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from bench import reports as reports_bench
from shared import migrate
from shared.clinic_time import at_clinic_time
from shared.db import make_engine
from shared.models import Appointment, AppointmentStatus, Location, Patient, Provider
from shared.services.board import appointments_for_day, queue_for_day

TZ = ZoneInfo("America/Chicago")
DAY = date(2026, 6, 15)
APPOINTMENTS = 300
ROUNDS = 20


def build(session: Session) -> None:
    rng = random.Random(7)
    providers = [Provider(display_name=f"Dr. Bench {i}") for i in range(8)]
    locations = [Location(name=f"Wing {i}", department="Clinic") for i in range(3)]
    session.add_all(providers + locations)
    session.flush()
    for i in range(APPOINTMENTS):
        patient = Patient(mrn=f"B{i:05d}", legal_given_name="Test", legal_family_name=f"P{i}",
                          birth_date=date(1950 + i % 60, 1 + i % 12, 1 + i % 28))
        start = at_clinic_time(DAY, 8 + (i % 9), (i * 7) % 60, TZ)
        waiting = i % 2 == 0
        session.add(Appointment(
            patient=patient, provider=rng.choice(providers), location=rng.choice(locations),
            start=start, visit_type="Follow-up",
            status=AppointmentStatus.CHECKED_IN if waiting else AppointmentStatus.BOOKED,
            arrived_at=start - timedelta(minutes=rng.randint(0, 40)) if waiting else None,
        ))
    session.flush()


def timed(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            build(session)
        statements = {"count": 0}
        event.listen(engine, "before_cursor_execute",
                     lambda *args: statements.__setitem__("count", statements["count"] + 1))
        with Session(engine) as session:
            def bare() -> object:
                return session.execute(select(Appointment.id, Appointment.start)).all()

            def board() -> object:
                return appointments_for_day(session, DAY, TZ)

            def queue() -> object:
                return queue_for_day(session, DAY, TZ, grace_minutes=15)

            session.execute(text("SELECT 1"))
            results = {}
            for name, fn in (("bare query", bare), ("arrivals board", board), ("queue", queue)):
                statements["count"] = 0
                fn()
                count = statements["count"]
                results[name] = (timed(fn), count)
        engine.dispose()
    base = results["bare query"][0]
    print(f"{APPOINTMENTS} appointments today, median of {ROUNDS} rounds "
          f"({datetime.now(UTC):%Y-%m-%d}):")
    for name, (seconds, count) in results.items():
        print(f"  {name:15s} {seconds * 1000:7.2f} ms  {seconds / base:5.1f}x bare  "
              f"{count} SQL statement(s)")
    print()
    reports_bench.main()
    print()
    from bench import imports as imports_bench

    imports_bench.main()
    print()
    from bench import photos as photos_bench

    photos_bench.main()


if __name__ == "__main__":
    main()
