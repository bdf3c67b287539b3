"""`python -m bench.imports`: import a 10,000-appointment schedule CSV.

Writes a CSV of 10,000 appointments (4,000 patients, 40 providers, 8 locations) and imports
it into a temporary SQLite file: reading the file, planning and applying, each timed, with
the SQL statements counted. Then imports the same file again (every row unchanged).
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from shared import migrate
from shared.db import make_engine
from shared.imports import Action, apply_import, plan_import, read_file, totals
from shared.imports.csv_source import COLUMNS
from shared.models import Appointment, Patient

TZ = ZoneInfo("America/Chicago")
APPOINTMENTS = 10_000
PATIENTS = 4_000
PROVIDERS = 40
LOCATIONS = 8
FIRST_DAY = date(2026, 7, 6)
GIVEN = ("Alma", "Tomás", "Noor", "Grace", "Kwame", "Lena", "Priya", "Mateo", "Ines", "Omar")
FAMILY = ("Whitfield", "Ibarra Ruiz", "Haddad", "O'Neill", "Mensah", "Fischer", "Natarajan",
          "Delgado", "Okafor", "Lindqvist")


def schedule_csv(appointments: int = APPOINTMENTS, seed: int = 11) -> bytes:
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
            "appointment_id": f"BENCH-{i:06d}",
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "duration_minutes": rng.choice((15, 20, 30, 40)),
            "visit_type": rng.choice(("Follow-up", "New patient", "Sick visit")),
            "status": "booked",
            "provider_id": f"BP-{provider:03d}",
            "provider_name": f"Dr. Bench {provider}",
            "location": f"Bench Wing {provider % LOCATIONS}",
            "department": "Family Medicine",
            "mrn": f"BM{p:07d}",
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


@dataclass
class Timing:
    seconds: float  # wall clock
    cpu: float  # this process's CPU time: steadier on a busy machine
    statements: int


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self, statements: int = 0) -> Timing:
        return Timing(time.perf_counter() - self.wall, time.process_time() - self.cpu,
                      statements)


class Counter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args: object) -> None:
        self.count += 1


def run(engine: Engine, data: bytes, counter: Counter) -> tuple[Timing, Timing, Timing, dict]:
    clock = Clock()
    rows = read_file(data, "csv", tz=TZ, today=date(2026, 7, 1))
    parsed = clock.stop()
    counter.count = 0
    clock = Clock()
    with Session(engine) as session:
        plan = plan_import(session, rows)
    planned = clock.stop(counter.count)
    counter.count = 0
    clock = Clock()
    with Session(engine) as session, session.begin():
        result = apply_import(session, plan, actor_type="cli")
    applied = clock.stop(counter.count)
    return parsed, planned, applied, totals(result.outcomes)


def main() -> None:
    data = schedule_csv()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        counter = Counter(engine)
        first = run(engine, data, counter)
        again = run(engine, data, counter)
        with Session(engine) as session:
            stored = (session.scalar(select(func.count(Appointment.id))),
                      session.scalar(select(func.count(Patient.id))))
        engine.dispose()
    print(f"Schedule import: {APPOINTMENTS:,} appointments, {PATIENTS:,} patients "
          f"({len(data) / 1e6:.1f} MB CSV) into SQLite:")
    for label, (parsed, planned, applied, counts) in (("first import", first),
                                                      ("same file again", again)):
        wall = parsed.seconds + planned.seconds + applied.seconds
        cpu = parsed.cpu + planned.cpu + applied.cpu
        print(f"  {label}: " + ", ".join(f"{n} {a.value}" for a, n in counts.items() if n))
        for step, timing in (("read", parsed), ("plan", planned), ("apply", applied)):
            print(f"    {step:6s} {timing.seconds:6.2f} s ({timing.cpu:5.2f} s CPU)"
                  + (f"  {timing.statements} SQL statements" if step != "read" else ""))
        print(f"    total  {wall:6.2f} s ({cpu:5.2f} s CPU)  "
              f"{planned.statements + applied.statements} SQL statements")
    assert first[3][Action.CREATE] == APPOINTMENTS and again[3][Action.UNCHANGED] == APPOINTMENTS
    print(f"  stored: {stored[0]:,} appointments, {stored[1]:,} patients")


if __name__ == "__main__":
    main()
