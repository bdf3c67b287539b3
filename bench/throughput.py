"""`python -m bench.throughput`: complete check-ins per second with 16 kiosks at once.

Sixteen threads, each with its own sessions from the product's engine, are released together
on a barrier; each finishes EACH check-ins the way the kiosk does: `checkin.begin` in one
transaction (identity proven: arrived), `checkin.complete` in another (checked in, place in
the queue, and the ticket, taken last), each through `run_transaction` (the product's one
retry when SQLite refuses the write lock). The baseline, in alternating rounds: sixteen
threads inserting one row a transaction into a one-column table, on the same engine. A
round's rate is its operations over the time from the barrier's release to the last
thread's end.

The day holds 300 other appointments, 40 of them waiting; between rounds (untimed) the desk
calls the round's patients into rooms, so each round meets a waiting room of about the same
size instead of one that grows with the benchmark. At the end: no errors, every appointment
checked in, and every ticket different. Goals (issue 13): at least 100 a second on
PostgreSQL and 50 on SQLite.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from bench import harness
from shared.clinic_time import at_clinic_time
from shared.db import make_engine, run_transaction
from shared.models import Appointment, AppointmentStatus, Channel, Location, Patient, Provider
from shared.services import checkin
from shared.services.clinic_settings import ClinicSettings

TZ = ZoneInfo("America/Chicago")
DAY = date(2026, 6, 16)
WORKERS = 16
# Check-ins (and inserts) per worker per round: enough for a round to measure the steady
# rate of sixteen busy kiosks. With 8 each, a round lasted about a second and its rate was
# mostly the start and the last few workers finishing alone (86/s where longer rounds of the
# same code gave 102/s on PostgreSQL).
EACH = 32
BARE_EACH = 160
ROUNDS = 3
OTHERS, OTHERS_WAITING = 300, 40
GOALS = {"sqlite": 50, "postgresql": 100}
RULES = ClinicSettings()


def _start(n: int) -> datetime:
    """Appointment n's time: spread over the morning, 12 providers' worth at each slot."""
    return at_clinic_time(DAY, 9, 0, TZ) + timedelta(minutes=5 * (n // 12 % 60))


def build(engine: Engine, count: int) -> list[int]:
    """`count` booked appointments for the benchmark and the day's others; their ids."""
    with Session(engine) as session, session.begin():
        providers = list(session.scalars(insert(Provider).returning(Provider.id), [
            {"display_name": f"Dr. Rush {i}"} for i in range(12)]))
        location = session.scalar(insert(Location).returning(Location.id),
                                  [{"name": "Rush wing", "department": "Clinic"}])
        total = count + OTHERS
        patients = list(session.scalars(insert(Patient).returning(Patient.id), [
            {"mrn": f"R{i:06d}", "legal_given_name": "Test", "legal_family_name": f"R{i}",
             "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28)}
            for i in range(total)]))
        rows = []
        for n, patient_id in enumerate(patients):
            other = n >= count
            waiting = other and n - count < OTHERS_WAITING
            start = _start(n)
            rows.append({
                "external_id": f"RUSH-{n:06d}", "patient_id": patient_id,
                "provider_id": providers[n % len(providers)], "location_id": location,
                "start": start, "visit_type": "Follow-up",
                "status": AppointmentStatus.CHECKED_IN if waiting else (
                    AppointmentStatus.FULFILLED if other else AppointmentStatus.BOOKED),
                "arrived_at": start - timedelta(minutes=10) if waiting else None,
            })
        session.execute(insert(Appointment), rows)
        return list(session.scalars(
            select(Appointment.id).where(Appointment.external_id < f"RUSH-{count:06d}")
            .order_by(Appointment.id)))


def check_in(engine: Engine, appointment_id: int, start: datetime) -> None:
    """One kiosk check-in: identity proven (begin), then finished (complete)."""
    now = start - timedelta(minutes=5)
    check_in_id = run_transaction(engine, lambda s: checkin.begin(
        s, appointment_id, channel=Channel.KIOSK, now=now, tz=TZ, rules=RULES,
        kiosk_id="rush").id)
    run_transaction(engine, lambda s: checkin.complete(
        s, check_in_id, now=now + timedelta(minutes=3), tz=TZ, rules=RULES))


def at_once(work: list[Callable[[], None]], errors: list[str]) -> float:
    """Run each worker's list of calls in its own thread, all released together; the
    seconds from the release to the last thread's end."""
    released: list[float] = []
    barrier = threading.Barrier(len(work), action=lambda: released.append(time.perf_counter()))

    def run(calls: Callable[[], None]) -> None:
        barrier.wait(60)
        try:
            calls()
        except Exception as exc:  # counted, shown and failing the goal
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - released[0]


def run(backend: str) -> None:
    per_round = WORKERS * EACH
    with harness.database(backend) as url:
        engine = make_engine(url)
        ids = iter(build(engine, per_round * (ROUNDS + 1)))
        with Session(engine) as session:
            starts = dict(session.execute(select(Appointment.id, Appointment.start)).all())
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_bare (n INTEGER)"))
        harness.analyze(engine)
        errors: list[str] = []
        done: list[int] = []
        serial = iter(range(10**9))

        def one_worker_checkins(chunk: list[int]) -> Callable[[], None]:
            def calls() -> None:
                for appointment_id in chunk:
                    check_in(engine, appointment_id, starts[appointment_id])
                    done.append(appointment_id)
            return calls

        def checkins() -> tuple[int, float]:
            chunk = [next(ids) for _ in range(per_round)]
            seconds = at_once([one_worker_checkins(chunk[k::WORKERS]) for k in range(WORKERS)],
                              errors)
            with engine.begin() as conn:  # the desk calls them in: the waiting room empties
                conn.execute(update(Appointment).where(Appointment.id.in_(chunk))
                             .values(status=AppointmentStatus.IN_ROOM))
            return per_round, seconds

        def one_worker_inserts(numbers: list[int]) -> Callable[[], None]:
            def calls() -> None:
                for n in numbers:
                    with engine.begin() as conn:
                        conn.execute(text("INSERT INTO bench_bare (n) VALUES (:n)"), {"n": n})
            return calls

        def bare() -> tuple[int, float]:
            numbers = [next(serial) for _ in range(WORKERS * BARE_EACH)]
            return len(numbers), at_once(
                [one_worker_inserts(numbers[k::WORKERS]) for k in range(WORKERS)], errors)

        counter = harness.StatementCounter(engine)
        checkins()  # warm-up of each side, counting a check-in's statements
        counter.remove()
        statements = counter.count / per_round
        bare()
        comparison = harness.compare_rates(
            f"check-ins per second, {WORKERS} workers, {backend}", checkins, bare,
            baseline_name=f"bare one-row INSERTs, {WORKERS} workers", rounds=ROUNDS)
        with Session(engine) as session:
            tickets = session.scalars(select(Appointment.ticket)
                                      .where(Appointment.id.in_(done))).all()
            checked_in = session.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.id.in_(done), Appointment.checked_in_at.is_not(None)))
        engine.dispose()
    unique = len(set(tickets)) == len(tickets) == len(done) and None not in tickets
    comparison.note = (f"[{statements:.0f} SQL statements a check-in; "
                       f"{len(done)} check-ins, {checked_in} checked in, errors "
                       f"{len(errors)}{' ' + str(sorted(set(errors))) if errors else ''}, "
                       f"tickets {'all different' if unique else 'NOT UNIQUE'}]")
    print("  " + comparison.line())
    goal = GOALS[backend]
    met = statistics.median(comparison.measured) >= goal and not errors and unique
    print(harness.goal(met, f">= {goal}/s with zero errors and unique tickets"))


def main() -> None:
    harness.heading(f"Check-ins with {WORKERS} workers at once (threads, a session each) "
                    "against bare inserts on the same engine")
    for backend in harness.backends():
        run(backend)


if __name__ == "__main__":
    main()
