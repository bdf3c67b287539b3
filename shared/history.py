"""A made-up past for the manager's reports: about a year of finished clinic days.

`seed_history` writes `per_day` appointments on each of `days` clinic days ending on
`end_day`, with the check-ins (mostly at the kiosk, some at the desk or by phone; about
15% of kiosk check-ins are given up at some step and finished at the desk), the desk's flags
and their resolutions. Nothing here is a real person: names come from short lists of common
names and record numbers start with HIST-.

Rows go in with batched INSERTs (`session.execute(insert(Model), rows)`, a few thousand rows
a statement batch), so a year of 100,000 appointments takes seconds, not minutes. The same
seed, end day and sizes always give the same rows: every choice goes through one
`random.Random(seed)`.
"""

from __future__ import annotations

import math
import random
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Language,
    Location,
    Patient,
    Provider,
    Sex,
    StaffRole,
    StaffUser,
)
from shared.services import audit

HISTORY_MRN_PREFIX = "HIST-"
HISTORY_APPOINTMENT_PREFIX = "HIST-A-"
HISTORY_PROVIDER_PREFIX = "HIST-P-"
CHUNK_ROWS = 4000  # appointments per INSERT batch (their check-ins and flags follow)

_OPEN_HOUR = 8
_DAY_MINUTES = 9 * 60
_VISITS_PER_PROVIDER_DAY = 25
_VISITS_PER_PATIENT_YEAR = 6

_CANCELLED = 0.05
_NOSHOW = 0.07  # of all appointments: a no-show rate near 7.4% of those not cancelled
_CHANNELS = ((Channel.KIOSK, 0.80), (Channel.DESK, 0.15), (Channel.PHONE, 0.05))
_KIOSK_COMPLETES = 0.85
# Where a patient who walks away from the kiosk stopped (the last step done).
_GIVE_UP_AFTER = (("identity", 30), ("appointment", 8), ("demographics", 20),
                  ("insurance", 24), ("questions", 12), ("consent", 6))
_KIOSK_STEPS = ("identity", "appointment", "demographics", "insurance", "questions", "consent")
_STEP_COLUMNS = ("identity_verified_at", "appointment_confirmed_at",
                 "demographics_confirmed_at", "insurance_confirmed_at",
                 "questions_completed_at", "consent_completed_at")
_KIOSK_TIMEOUT_SECONDS = 120

# Flag kinds with their weight, severity and the typical minutes until the desk resolves one.
_FLAGS: tuple[tuple[FlagKind, int, FlagSeverity, float], ...] = (
    (FlagKind.INSURANCE_CHANGE, 20, FlagSeverity.INFO, 14.0),
    (FlagKind.ADDRESS_CHANGE, 12, FlagSeverity.INFO, 9.0),
    (FlagKind.PHONE_CHANGE, 10, FlagSeverity.INFO, 6.0),
    (FlagKind.EMAIL_CHANGE, 6, FlagSeverity.INFO, 6.0),
    (FlagKind.DEMOGRAPHICS_CHANGE, 5, FlagSeverity.INFO, 10.0),
    (FlagKind.EMERGENCY_CONTACT_CHANGE, 4, FlagSeverity.INFO, 8.0),
    (FlagKind.COVERAGE_EXPIRED, 8, FlagSeverity.WARNING, 18.0),
    (FlagKind.COVERAGE_MISSING, 4, FlagSeverity.WARNING, 20.0),
    (FlagKind.CONSENT_MISSING, 6, FlagSeverity.WARNING, 7.0),
    (FlagKind.DOCUMENT_MISSING, 3, FlagSeverity.INFO, 12.0),
    (FlagKind.IDENTITY_FAILED, 4, FlagSeverity.WARNING, 5.0),
    (FlagKind.URGENT_ANSWER, 3, FlagSeverity.URGENT, 3.0),
    (FlagKind.EARLY_ARRIVAL, 6, FlagSeverity.INFO, 4.0),
    (FlagKind.LATE_ARRIVAL, 5, FlagSeverity.WARNING, 4.0),
    (FlagKind.WRONG_DAY, 1, FlagSeverity.INFO, 6.0),
)
_FLAG_SHARE = 0.22  # of visits raise a flag; a few raise two
_HELP_AFTER_GIVING_UP = 0.4

_VISIT_TYPES = (("Follow-up", 20, 35), ("Sick visit", 15, 25), ("New patient", 40, 10),
                ("Annual physical", 40, 15), ("Well child", 30, 10), ("Dental cleaning", 40, 5))
_GIVEN = ("Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sofia", "Mateo", "Lucia",
          "Diego", "Grace", "Henry", "Camila", "Daniel", "Ruth", "Samuel", "Ana", "Luis",
          "Helen", "Owen", "Rosa", "Carlos", "Megan", "Rafael")
_FAMILY = ("Smith", "Garcia", "Johnson", "Martinez", "Brown", "Lopez", "Miller", "Perez",
           "Davis", "Rivera", "Wilson", "Torres", "Moore", "Flores", "Taylor", "Reyes",
           "Clark", "Ortiz", "Hall", "Castillo", "Young", "Mendoza", "King", "Romero")
_APPOINTMENT_KEYS = ("external_id", "patient_id", "provider_id", "location_id", "start",
                     "duration_minutes", "visit_type", "status", "created_at", "updated_at",
                     "cancelled_at", "arrived_at", "checked_in_at", "called_at", "room",
                     "in_room_at", "completed_at")
_CHECK_IN_KEYS = ("appointment_id", "channel", "kiosk_id", "staff_user_id", "started_at",
                  *_STEP_COLUMNS, "completed_at", "abandoned_at", "last_step")
_FLAG_KEYS = ("appointment_id", "patient_id", "kind", "severity", "status", "raised_at",
              "acknowledged_at", "acknowledged_by_id", "resolved_at", "resolved_by_id")
_NEW_LOCATIONS = (("History Clinic - Family Medicine", "Family Medicine"),
                  ("History Clinic - Pediatrics", "Pediatrics"),
                  ("History Clinic - Dental", "Dentistry"))


@dataclass(frozen=True)
class HistoryResult:
    first_day: date
    last_day: date
    appointments: int
    check_ins: int
    flags: int
    patients_created: int
    providers_created: int
    seconds: float


@dataclass
class _Totals:
    appointments: int = 0
    check_ins: int = 0
    flags: int = 0


@dataclass
class _Pending:
    """One chunk: appointments to insert, then their check-ins and flags (by row index)."""

    appointments: list[dict[str, Any]] = field(default_factory=list)
    check_ins: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    flags: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def has_history(session: Session) -> bool:
    return session.scalar(
        select(Appointment.id)
        .where(Appointment.external_id.like(f"{HISTORY_APPOINTMENT_PREFIX}%")).limit(1)
    ) is not None


def seed_history(
    session: Session,
    *,
    tz: ZoneInfo,
    end_day: date,
    days: int = 365,
    per_day: int = 275,
    seed: int = 7,
    chunk_rows: int = CHUNK_ROWS,
    years: int | None = None,
) -> HistoryResult:
    """Add `days` past clinic days ending on `end_day`, `per_day` appointments each; with
    `years`, every day of that many calendar years ending on `end_day` instead.

    Existing providers, locations and HIST- patients are reused; the missing ones are made.
    The caller owns the transaction: this inserts and never commits.
    """
    if years is not None:
        days = days_in_years(end_day, years)
    if days < 1 or per_day < 1:
        raise ValueError("days and per-day must be at least 1")
    if has_history(session):
        raise ValueError("history is already present in this database")
    began = clock.perf_counter()
    rng = random.Random(seed)
    first_day = end_day - timedelta(days=days - 1)
    locations = _locations(session)
    providers, providers_created = _providers(session, rng, per_day, locations)
    patients, patients_created = _patients(session, rng, days * per_day, first_day)
    staff_ids = list(session.scalars(
        select(StaffUser.id).where(StaffUser.role == StaffRole.REPRESENTATIVE)
        .order_by(StaffUser.id)))
    totals = _Totals()
    pending = _Pending()
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        opens = at_clinic_time(day, _OPEN_HOUR, 0, tz)  # DST never changes within hours
        for number in range(1, per_day + 1):
            _visit(rng, pending, day, number, opens, providers, patients, staff_ids)
        if len(pending.appointments) >= chunk_rows:
            _flush(session, pending, totals)
            pending = _Pending()
    _flush(session, pending, totals)
    audit.record(session, actor_type="cli", action="history.seeded", record_type="clinic",
                 detail={"count": totals.appointments})
    session.flush()
    return HistoryResult(
        first_day=first_day, last_day=end_day, appointments=totals.appointments,
        check_ins=totals.check_ins, flags=totals.flags, patients_created=patients_created,
        providers_created=providers_created, seconds=clock.perf_counter() - began,
    )


def days_in_years(end_day: date, years: int) -> int:
    """The days of `years` calendar years ending on `end_day` (leap days included): one
    year to 30 June 2026 starts on 1 July 2025."""
    if years < 1:
        raise ValueError("years must be at least 1")
    try:
        before = end_day.replace(year=end_day.year - years)
    except ValueError:  # 29 February, years back in a year without one
        before = end_day.replace(year=end_day.year - years, day=28)
    return (end_day - before).days


# --- Who and where -------------------------------------------------------------------------


def _locations(session: Session) -> list[int]:
    ids = list(session.scalars(
        select(Location.id).where(Location.active.is_(True)).order_by(Location.id)))
    if ids:
        return ids
    rows = [{"name": name, "department": department} for name, department in _NEW_LOCATIONS]
    return list(session.scalars(
        insert(Location).returning(Location.id, sort_by_parameter_order=True), rows))


def _providers(
    session: Session, rng: random.Random, per_day: int, locations: list[int]
) -> tuple[list[tuple[int, int]], int]:
    """(provider id, location id) for enough providers to see `per_day` patients a day.
    An existing provider works where most of their appointments are (else round robin)."""
    existing = list(session.scalars(
        select(Provider.id).where(Provider.active.is_(True)).order_by(Provider.id)))
    usual: dict[int, int] = {}
    for provider_id, location_id, _ in session.execute(
        select(Appointment.provider_id, Appointment.location_id, func.count())
        .group_by(Appointment.provider_id, Appointment.location_id)
        .order_by(Appointment.provider_id, func.count(), Appointment.location_id)
    ):
        usual[provider_id] = location_id  # the last one per provider is the most used
    needed = max(1, math.ceil(per_day / _VISITS_PER_PROVIDER_DAY)) - len(existing)
    created: list[int] = []
    if needed > 0:
        taken = session.scalar(select(func.count()).select_from(Provider).where(
            Provider.external_id.like(f"{HISTORY_PROVIDER_PREFIX}%"))) or 0
        rows = [{
            "external_id": f"{HISTORY_PROVIDER_PREFIX}{taken + i + 1:02d}",
            "display_name": f"Dr. {rng.choice(_GIVEN)} {rng.choice(_FAMILY)}",
            "specialty": "Family Medicine",
        } for i in range(needed)]
        created = list(session.scalars(
            insert(Provider).returning(Provider.id, sort_by_parameter_order=True), rows))
    ids = existing + created
    pairs = [(p, usual.get(p, locations[i % len(locations)])) for i, p in enumerate(ids)]
    return pairs, len(created)


def _patients(
    session: Session, rng: random.Random, visits: int, first_day: date
) -> tuple[list[int], int]:
    """A pool of HIST- patients, each seen about six times a year; reused when present."""
    wanted = max(50, visits // _VISITS_PER_PATIENT_YEAR)
    ids = list(session.scalars(
        select(Patient.id).where(Patient.mrn.like(f"{HISTORY_MRN_PREFIX}%"))
        .order_by(Patient.id).limit(wanted)))
    missing = wanted - len(ids)
    if missing <= 0:
        return ids, 0
    created_at = datetime.combine(first_day - timedelta(days=30), time(15), tzinfo=UTC)
    start = len(ids)
    rows = []
    for n in range(start, start + missing):
        rows.append({
            "mrn": f"{HISTORY_MRN_PREFIX}{n + 1:06d}",
            "legal_given_name": rng.choice(_GIVEN),
            "legal_family_name": rng.choice(_FAMILY),
            "birth_date": first_day - timedelta(days=rng.randint(200, 33000)),
            "sex": rng.choice((Sex.FEMALE, Sex.MALE)),
            "preferred_language": Language.ES if rng.random() < 0.25 else Language.EN,
            "created_at": created_at,
            "updated_at": created_at,
        })
    for begin in range(0, len(rows), CHUNK_ROWS):
        session.execute(insert(Patient), rows[begin:begin + CHUNK_ROWS])
    ids = list(session.scalars(
        select(Patient.id).where(Patient.mrn.like(f"{HISTORY_MRN_PREFIX}%"))
        .order_by(Patient.id).limit(wanted)))
    return ids, missing


# --- One visit -----------------------------------------------------------------------------


def _visit(
    rng: random.Random,
    pending: _Pending,
    day: date,
    number: int,
    opens: datetime,
    providers: list[tuple[int, int]],
    patients: list[int],
    staff_ids: list[int],
) -> None:
    provider_id, location_id = providers[rng.randrange(len(providers))]
    visit_type, minutes, _ = rng.choices(_VISIT_TYPES, [w for *_, w in _VISIT_TYPES])[0]
    start = opens + timedelta(minutes=rng.randrange(0, _DAY_MINUTES - minutes + 1, 5))
    row: dict[str, Any] = {
        "external_id": f"{HISTORY_APPOINTMENT_PREFIX}{day:%Y%m%d}-{number:04d}",
        "patient_id": patients[rng.randrange(len(patients))],
        "provider_id": provider_id,
        "location_id": location_id,
        "start": start,
        "duration_minutes": minutes,
        "visit_type": visit_type,
        "created_at": start - timedelta(days=rng.randint(1, 60)),
    }
    index = len(pending.appointments)
    pending.appointments.append(row)
    draw = rng.random()
    if draw < _CANCELLED:
        row["status"] = AppointmentStatus.CANCELLED
        row["cancelled_at"] = start - timedelta(minutes=rng.randint(180, 72 * 60))
        row["updated_at"] = row["cancelled_at"]
        return
    if draw < _CANCELLED + _NOSHOW:
        row["status"] = AppointmentStatus.NOSHOW
        row["updated_at"] = start + timedelta(minutes=30)
        return
    staff_id = staff_ids[rng.randrange(len(staff_ids))] if staff_ids else None
    arrived = start - timedelta(seconds=rng.randint(-5 * 60, 25 * 60))
    channel = rng.choices([c for c, _ in _CHANNELS], [w for _, w in _CHANNELS])[0]
    if channel == Channel.KIOSK:
        checked_in = _kiosk(rng, pending, index, arrived, staff_id)
    else:
        began = arrived + timedelta(seconds=rng.randint(0, 240))
        checked_in = began + timedelta(seconds=rng.randint(60, 300))
        pending.check_ins.append((index, {
            "channel": channel, "staff_user_id": staff_id, "started_at": began,
            "identity_verified_at": began, "completed_at": checked_in, "last_step": "done",
        }))
    in_room = max(checked_in, start) + timedelta(seconds=int(rng.expovariate(1 / 480)))
    completed = in_room + timedelta(minutes=max(8, minutes + rng.randint(-8, 12)))
    row.update({
        "status": AppointmentStatus.FULFILLED,
        "arrived_at": arrived,
        "checked_in_at": checked_in,
        "called_at": max(checked_in, in_room - timedelta(seconds=rng.randint(30, 150))),
        "room": f"{rng.randint(1, 12)}",
        "in_room_at": in_room,
        "completed_at": completed,
        "updated_at": completed,
    })
    if rng.random() < _FLAG_SHARE:
        for _ in range(2 if rng.random() < 0.1 else 1):
            raised = arrived + timedelta(seconds=rng.randint(20, 300))
            kind, _, severity, typical = rng.choices(_FLAGS, [w for _, w, *_ in _FLAGS])[0]
            _flag(rng, pending, index, row["patient_id"], kind, severity, typical, raised,
                  staff_id)


def _kiosk(
    rng: random.Random, pending: _Pending, index: int, arrived: datetime, staff_id: int | None
) -> datetime:
    """A kiosk check-in, finished or given up (then finished at the desk); returns when the
    patient was checked in."""
    began = arrived + timedelta(seconds=rng.randint(5, 90))
    completes = rng.random() < _KIOSK_COMPLETES
    if completes:
        last = len(_KIOSK_STEPS) - 1
    else:
        steps = [s for s, _ in _GIVE_UP_AFTER]
        last = steps.index(rng.choices(steps, [w for _, w in _GIVE_UP_AFTER])[0])
    total = min(900.0, max(35.0, rng.lognormvariate(math.log(140), 0.45)))
    row: dict[str, Any] = {"channel": Channel.KIOSK, "kiosk_id": f"kiosk-{rng.randint(1, 3)}",
                           "started_at": began}
    for step in range(last + 1):
        # The steps take their share of the whole, identity first, at once.
        row[_STEP_COLUMNS[step]] = began + timedelta(
            seconds=total * (step / len(_KIOSK_STEPS)))
    if completes:
        done = began + timedelta(seconds=total)
        row.update({"completed_at": done, "last_step": "done"})
        pending.check_ins.append((index, row))
        return done
    stopped = row[_STEP_COLUMNS[last]] + timedelta(seconds=_KIOSK_TIMEOUT_SECONDS)
    row.update({"abandoned_at": stopped, "last_step": _KIOSK_STEPS[last]})
    pending.check_ins.append((index, row))
    patient_id = pending.appointments[index]["patient_id"]
    if rng.random() < _HELP_AFTER_GIVING_UP:
        _flag(rng, pending, index, patient_id, FlagKind.HELP_REQUEST, FlagSeverity.URGENT, 2.0,
              stopped - timedelta(seconds=rng.randint(5, 60)), staff_id)
    desk = stopped + timedelta(seconds=rng.randint(30, 300))
    done = desk + timedelta(seconds=rng.randint(60, 240))
    pending.check_ins.append((index, {
        "channel": Channel.DESK, "staff_user_id": staff_id, "started_at": desk,
        "identity_verified_at": desk, "completed_at": done, "last_step": "done",
    }))
    return done


def _flag(
    rng: random.Random,
    pending: _Pending,
    index: int,
    patient_id: int,
    kind: FlagKind,
    severity: FlagSeverity,
    typical_minutes: float,
    raised: datetime,
    staff_id: int | None,
) -> None:
    minutes = min(240.0, max(0.5, rng.lognormvariate(math.log(typical_minutes), 0.6)))
    resolved = raised + timedelta(seconds=round(minutes * 60))
    pending.flags.append((index, {
        "patient_id": patient_id,
        "kind": kind,
        "severity": severity,
        "status": FlagStatus.ACCEPTED if rng.random() < 0.85 else FlagStatus.REJECTED,
        "raised_at": raised,
        "acknowledged_at": (raised + (resolved - raised) / 3
                            if severity == FlagSeverity.URGENT else None),
        "acknowledged_by_id": staff_id if severity == FlagSeverity.URGENT else None,
        "resolved_at": resolved,
        "resolved_by_id": staff_id,
    }))


def _insert(model: type[Any]) -> Any:
    """An ORM bulk INSERT that keeps NULLs as values, so every row has one shape and the
    rows go in one executemany (else the ORM splits them at each change of NULL columns)."""
    return insert(model).execution_options(render_nulls=True)


def _same_keys(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every row with every key (None where unset): one INSERT shape, one batch."""
    return [{k: row.get(k) for k in keys} for row in rows]


def _flush(session: Session, pending: _Pending, totals: _Totals) -> None:
    if not pending.appointments:
        return
    # Plain batched INSERTs, then the new ids by external id in one query: RETURNING in
    # parameter order would make SQLite insert row by row.
    session.execute(_insert(Appointment), _same_keys(pending.appointments, _APPOINTMENT_KEYS))
    external = [row["external_id"] for row in pending.appointments]
    by_external = dict(session.execute(
        select(Appointment.external_id, Appointment.id).where(
            Appointment.external_id >= min(external), Appointment.external_id <= max(external),
            Appointment.external_id.like(f"{HISTORY_APPOINTMENT_PREFIX}%"))).all())
    ids = [by_external[e] for e in external]
    for rows, model, keys in ((pending.check_ins, CheckIn, _CHECK_IN_KEYS),
                              (pending.flags, Flag, _FLAG_KEYS)):
        batch = []
        for index, row in rows:
            row["appointment_id"] = ids[index]
            batch.append(row)
        if batch:
            session.execute(_insert(model), _same_keys(batch, keys))
    totals.appointments += len(ids)
    totals.check_ins += len(pending.check_ins)
    totals.flags += len(pending.flags)
