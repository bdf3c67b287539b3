"""`python -m bench.imports`: import a 10,000-appointment schedule CSV.

A CSV of 10,000 appointments (4,000 patients, 40 providers, 8 locations) is imported
(read, planned, applied and committed) against its baseline: bare Core INSERTs of the same
patients, coverages and appointments, prepared beforehand, in one transaction. Each round
uses new record numbers and appointment ids (the database grows by a file a round on both
sides alike). Then the same file again (every row unchanged) against reading those rows back
in one query. On SQLite and, when CHECKIN_TEST_POSTGRES_URL is set, PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from bench import harness
from shared.db import make_engine
from shared.imports import Action, apply_import, plan_import, read_file, totals
from shared.imports.csv_source import COLUMNS
from shared.models import Appointment, AppointmentStatus, Coverage, Location, Patient, Provider

TZ = ZoneInfo("America/Chicago")
APPOINTMENTS = 10_000
PATIENTS = 4_000
PROVIDERS = 40
LOCATIONS = 8
FIRST_DAY = date(2026, 7, 6)
TODAY = date(2026, 7, 1)
ROUNDS = 3
GIVEN = ("Alma", "Tomás", "Noor", "Grace", "Kwame", "Lena", "Priya", "Mateo", "Ines", "Omar")
FAMILY = ("Whitfield", "Ibarra Ruiz", "Haddad", "O'Neill", "Mensah", "Fischer", "Natarajan",
          "Delgado", "Okafor", "Lindqvist")


def schedule_csv(appointments: int = APPOINTMENTS, seed: int = 11, tag: str = "") -> bytes:
    """The schedule; `tag` makes its record numbers and appointment ids its own."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i in range(appointments):
        p = i % PATIENTS
        provider = rng.randrange(PROVIDERS)
        day = FIRST_DAY + timedelta(days=(i // 400))
        start = datetime(day.year, day.month, day.day, 8 + (i % 9), 20 * (i % 3))
        insured = p % 5 != 0
        writer.writerow({
            "appointment_id": f"BENCH{tag}-{i:06d}",
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "duration_minutes": rng.choice((15, 20, 30, 40)),
            "visit_type": rng.choice(("Follow-up", "New patient", "Sick visit")),
            "status": "booked",
            "provider_id": f"BP-{provider:03d}",
            "provider_name": f"Dr. Bench {provider}",
            "location": f"Bench Wing {provider % LOCATIONS}",
            "department": "Family Medicine",
            "mrn": f"BM{tag}{p:07d}",
            "given_name": GIVEN[p % len(GIVEN)],
            "family_name": FAMILY[(p // len(GIVEN)) % len(FAMILY)],
            "birth_date": date(1940 + p % 80, 1 + p % 12, 1 + p % 28).isoformat(),
            "sex": ("female", "male")[p % 2],
            "phone": f"312-555-{p % 10000:04d}",
            "email": f"patient{p}@example.com",
            "address_line": f"{100 + p} Cedar Ave",
            "address_line2": "",
            "city": "Chicago",
            "state": "IL",
            "postal_code": "60614",
            "payer": "Prairie Health Plan" if insured else "",
            "member_id": f"PHP{p:07d}" if insured else "",
            "group_id": "GRP-88120" if insured else "",
        })
    return out.getvalue().encode("utf-8")


def import_file(engine: Engine, data: bytes) -> dict[Action, int]:
    """What `import-schedule` does: read, plan, apply, commit."""
    rows = read_file(data, "csv", tz=TZ, today=TODAY)
    with Session(engine) as session:
        plan = plan_import(session, rows)
    with Session(engine) as session, session.begin():
        result = apply_import(session, plan, actor_type="cli")
    return totals(result.outcomes)


def bare_rows(engine: Engine, data: bytes) -> Callable[[], None]:
    """The file's patients, coverages and appointments as plain rows, ready beforehand; the
    returned call inserts them with bare Core INSERTs (executemany) in one transaction."""
    records = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    with Session(engine) as session:
        providers = dict(session.execute(select(Provider.external_id, Provider.id)).all())
        locations = dict(session.execute(select(Location.name, Location.id)).all())
    patients: dict[str, dict[str, Any]] = {}
    coverages: dict[str, dict[str, Any]] = {}
    appointments = []
    for r in records:
        patients.setdefault(r["mrn"], {
            "mrn": r["mrn"], "legal_given_name": r["given_name"],
            "legal_family_name": r["family_name"],
            "birth_date": date.fromisoformat(r["birth_date"]), "sex": r["sex"],
            "phone": r["phone"], "email": r["email"], "address_line": r["address_line"],
            "city": r["city"], "state": r["state"], "postal_code": r["postal_code"]})
        if r["payer"]:
            coverages.setdefault(r["mrn"], {"payer": r["payer"], "member_id": r["member_id"],
                                            "group_id": r["group_id"]})
        start = datetime.strptime(r["start"], "%Y-%m-%d %H:%M").replace(tzinfo=TZ)
        appointments.append({
            "external_id": r["appointment_id"], "mrn": r["mrn"],
            "provider_id": providers[r["provider_id"]], "location_id": locations[r["location"]],
            "start": start, "duration_minutes": int(r["duration_minutes"]),
            "visit_type": r["visit_type"], "status": AppointmentStatus.BOOKED})

    def insert_all() -> None:
        with engine.begin() as conn:
            conn.execute(insert(Patient), list(patients.values()))
            ids = dict(conn.execute(select(Patient.mrn, Patient.id)
                                    .where(Patient.mrn.in_(list(patients)))).all())
            conn.execute(insert(Coverage), [{**c, "patient_id": ids[mrn]}
                                            for mrn, c in coverages.items()])
            conn.execute(insert(Appointment), [
                {k: v for k, v in a.items() if k != "mrn"} | {"patient_id": ids[a["mrn"]]}
                for a in appointments])
    return insert_all


def read_back(engine: Engine, data: bytes) -> Callable[[], None]:
    """The file's appointments with their patients and coverages, read in one query."""
    ids = [r["appointment_id"] for r in csv.DictReader(io.StringIO(data.decode("utf-8")))]

    def read() -> None:
        with engine.connect() as conn:
            conn.execute(
                select(Appointment, Patient, Coverage)
                .join(Patient, Appointment.patient_id == Patient.id)
                .outerjoin(Coverage, Coverage.patient_id == Patient.id)
                .where(Appointment.external_id.in_(ids))).all()
    return read


def run(backend: str) -> None:
    tags = (f"R{n}" for n in count())
    with harness.database(backend) as url:
        engine = make_engine(url)
        counter = harness.StatementCounter(engine)
        outcome = import_file(engine, schedule_csv(tag=next(tags)))  # providers, locations
        assert outcome[Action.CREATE] == APPOINTMENTS
        harness.analyze(engine)
        bare_rows(engine, schedule_csv(tag=next(tags)))()  # the baseline's warm-up
        first = harness.Comparison(f"schedule import, {APPOINTMENTS:,} new appointments, "
                                   f"{backend}", "bare INSERTs of the same rows")
        for _ in range(ROUNDS):
            # Both sides' files and rows are made before their timing starts.
            bare = bare_rows(engine, schedule_csv(tag=next(tags)))
            data = schedule_csv(tag=next(tags))
            first.baseline.append(_seconds(bare))
            counter.count = 0
            first.measured.append(_seconds(lambda d=data: _created(engine, d)))
        first.note = f"[{counter.count} SQL statements]"
        print("  " + first.line())

        counter.count = 0
        again = harness.compare(
            f"the same file again, {APPOINTMENTS:,} unchanged, {backend}",
            lambda: _unchanged(engine, data), read_back(engine, data),
            baseline_name="its rows read back in one query", rounds=ROUNDS)
        again.note = f"[{counter.count // (ROUNDS + 1)} SQL statements]"
        print("  " + again.line())
        counter.remove()
        engine.dispose()


def _created(engine: Engine, data: bytes) -> None:
    outcome = import_file(engine, data)
    assert outcome[Action.CREATE] == APPOINTMENTS, outcome


def _unchanged(engine: Engine, data: bytes) -> None:
    outcome = import_file(engine, data)
    assert outcome[Action.UNCHANGED] == APPOINTMENTS, outcome


def _seconds(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main() -> None:
    data = schedule_csv()
    harness.heading(f"Schedule import: {APPOINTMENTS:,} appointments, {PATIENTS:,} patients "
                    f"({len(data) / 1e6:.1f} MB CSV)")
    for backend in harness.backends():
        run(backend)


if __name__ == "__main__":
    main()
