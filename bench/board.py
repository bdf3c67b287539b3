"""`python -m bench.board`: the desk's arrivals board and queue on a busy day.

Builds two clinic days, one of 300 and one of 3,000 appointments (half of them waiting, one
in ten with an open flag), then compares each service, for the whole day (and at 3,000 for
one location of four, filtered in SQL), with its baseline: the very same SQL
statements the service sends (caught with a before_cursor_execute listener, with their
parameters) run on a raw DBAPI cursor and fetched. So the ratio is what the service adds over
the database: building rows, the queue's order, names and ages. Both sides check a
connection out of the engine's pool each round, as a page does. Goal (issue 13): within 3x
at 3,000 appointments.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from bench import harness
from shared.clinic_time import at_clinic_time
from shared.db import make_engine
from shared.models import (
    Appointment,
    AppointmentStatus,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Location,
    Patient,
    Provider,
)
from shared.services.board import BoardFilter, appointments_for_day, queue_for_day

TZ = ZoneInfo("America/Chicago")
DAYS = {300: date(2026, 6, 15), 3000: date(2026, 6, 16)}
ROUNDS = 15
GOAL_RATIO = 3.0


def build(engine: Engine) -> None:
    """Both days: providers and locations shared, a patient per appointment."""
    rng = random.Random(7)
    with Session(engine) as session, session.begin():
        providers = list(session.scalars(insert(Provider).returning(Provider.id), [
            {"display_name": f"Dr. Bench {i}"} for i in range(40)]))
        locations = list(session.scalars(insert(Location).returning(Location.id), [
            {"name": f"Wing {i}", "department": "Clinic"} for i in range(4)]))
        for size, day in DAYS.items():
            patients = list(session.scalars(insert(Patient).returning(Patient.id), [
                {"mrn": f"B{day:%m%d}-{i:05d}", "legal_given_name": "Test",
                 "legal_family_name": f"P{i}",
                 "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28)}
                for i in range(size)]))
            rows = []
            for i, patient_id in enumerate(patients):
                start = at_clinic_time(day, 8 + (i % 9), (i * 7) % 60, TZ)
                waiting = i % 2 == 0
                rows.append({
                    "patient_id": patient_id, "provider_id": rng.choice(providers),
                    "location_id": rng.choice(locations), "start": start,
                    "visit_type": "Follow-up",
                    "status": AppointmentStatus.CHECKED_IN if waiting else AppointmentStatus.BOOKED,
                    "arrived_at": start - timedelta(minutes=rng.randint(0, 40)) if waiting
                    else None,
                    "ticket": f"A{i + 1:03d}" if waiting else None,
                })
            session.execute(insert(Appointment), rows)
            ids = session.execute(
                select(Appointment.id, Appointment.patient_id)
                .where(Appointment.patient_id.in_(patients))).all()
            session.execute(insert(Flag), [
                {"appointment_id": a, "patient_id": p,
                 "kind": FlagKind.URGENT_ANSWER if n % 3 == 0 else FlagKind.ADDRESS_CHANGE,
                 "severity": FlagSeverity.URGENT if n % 3 == 0 else FlagSeverity.INFO,
                 "status": FlagStatus.OPEN}
                for n, (a, p) in enumerate(ids) if n % 10 == 0])


def raw_replay(engine: Engine, statements: list[harness.Statement]) -> None:
    """The same statements with the same parameters on a raw DBAPI cursor, every row fetched."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement.sql, statement.parameters)
            cursor.fetchall()
        cursor.close()
    finally:
        connection.close()


def run(backend: str) -> list[harness.Comparison]:
    results = []
    with harness.database(backend) as url:
        engine = make_engine(url)
        build(engine)
        harness.analyze(engine)
        for size, day in DAYS.items():
            services = [("arrivals board", _arrivals(engine, day)),
                        ("queue", _queue(engine, day))]
            if size == max(DAYS):
                services.insert(1, ("arrivals board, one location of 4",
                                    _arrivals(engine, day, BoardFilter(locations=("Wing 0",)))))
            for name, service in services:
                with harness.captured(engine) as statements:
                    shown = len(service())
                comparison = harness.compare(
                    f"{name}, {size:,} appointments today, {backend}",
                    service, lambda s=statements: raw_replay(engine, s),
                    baseline_name="same SQL on a raw cursor", rounds=ROUNDS)
                comparison.note = f"[{len(statements)} SQL statements, {shown:,} rows shown]"
                results.append(comparison)
        engine.dispose()
    return results


# Each call opens and closes its own session, as a page run does.
def _arrivals(engine: Engine, day: date, only: BoardFilter | None = None
              ) -> Callable[[], list]:
    def call() -> list:
        with Session(engine) as session:
            return appointments_for_day(session, day, TZ, only or BoardFilter())
    return call


def _queue(engine: Engine, day: date) -> Callable[[], list]:
    def call() -> list:
        with Session(engine) as session:
            return queue_for_day(session, day, TZ, grace_minutes=15)
    return call


def main() -> None:
    harness.heading("Boards: the desk's services against the same SQL on a raw cursor "
                    f"(goal within {GOAL_RATIO:g}x at 3,000 appointments)")
    for backend in harness.backends():
        for comparison in run(backend):
            print("  " + comparison.line())
            if "3,000" in comparison.name and "location" not in comparison.name:
                print(harness.goal(comparison.ratio <= GOAL_RATIO, f"<= {GOAL_RATIO:g}x"))


if __name__ == "__main__":
    main()
