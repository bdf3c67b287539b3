"""Checking in: finding the appointment, proving who you are, the arrival window, and
finishing. The kiosk and the desk both go through here, so the rules are the same."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from shared.clinic_time import day_bounds
from shared.db import insert_object, update_row
from shared.errors import DomainError
from shared.interface import outbox
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    CheckInToken,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    OutboxEvent,
    Patient,
    TicketCounter,
)
from shared.services import audit, flags, tokens
from shared.services.appointments import status_changes
from shared.services.board import line_position
from shared.services.clinic_settings import ClinicSettings

MAX_IDENTITY_ATTEMPTS = 3
S = AppointmentStatus
CHECKABLE = (S.BOOKED, S.ARRIVED, S.NOSHOW)
ALREADY_IN = (S.CHECKED_IN, S.IN_ROOM, S.FULFILLED)
STEPS = ("identity", "appointment", "demographics", "insurance", "questions", "consent")

# Open flags of these kinds mean the patient must stop at the desk before the visit, so the
# appointment stays "arrived" instead of "checked-in".
NEEDS_DESK = frozenset(
    {
        FlagKind.IDENTITY_FAILED,
        FlagKind.COVERAGE_EXPIRED,
        FlagKind.COVERAGE_MISSING,
        FlagKind.INSURANCE_CHANGE,
        FlagKind.CONSENT_MISSING,
        FlagKind.DOCUMENT_MISSING,
        FlagKind.URGENT_ANSWER,
        FlagKind.HELP_REQUEST,
        FlagKind.LATE_ARRIVAL,
        FlagKind.WRONG_DAY,
    }
)


# Check-ins made at the clinic (kiosk, desk, staff on the phone): a pre-check-in at home
# (Channel.HOME, shared.services.precheck) is never one, finished or not.
ON_SITE = CheckIn.channel != Channel.HOME


class AlreadyCheckedIn(DomainError):
    key = "kiosk.already_checked_in"


class CannotCheckIn(DomainError):
    key = "kiosk.see_desk"


class Timing(StrEnum):
    ON_TIME = "on_time"
    EARLY = "early"
    LATE = "late"
    WRONG_DAY = "wrong_day"


def arrival_timing(start: datetime, now: datetime, tz: ZoneInfo, rules: ClinicSettings) -> Timing:
    """Where `now` falls against the appointment's arrival window."""
    if start.astimezone(tz).date() != now.astimezone(tz).date():
        return Timing.WRONG_DAY
    if now < start - timedelta(minutes=rules.early_checkin_minutes):
        return Timing.EARLY
    if now > start + timedelta(minutes=rules.grace_minutes):
        return Timing.LATE
    return Timing.ON_TIME


def normalize_name(name: str) -> str:
    """Case, accents, spaces, hyphens and apostrophes do not matter: 'Núñez-O'Neil' matches
    'nunez oneil'."""
    # Unicode's compatibility caseless match: folded again after decomposing, as a
    # decomposition may hold capitals ('ᴬ' is 'A'). A dotless i is an i, as on a keyboard
    # without one (and "I" is its capital).
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    decomposed = unicodedata.normalize("NFKD", decomposed.casefold().replace("ı", "i"))
    return "".join(ch for ch in decomposed if ch.isalnum())


@dataclass(frozen=True)
class NameSearch:
    today: list[int]  # appointment ids today for that name and birth date
    other_day: Appointment | None  # the nearest appointment on another day, if none today


def find_by_name(
    session: Session, family_name: str, birth_date: date, *, now: datetime, tz: ZoneInfo
) -> NameSearch:
    """Today's appointments of patients with this family name and birth date."""
    wanted = normalize_name(family_name)
    if not wanted:
        return NameSearch(today=[], other_day=None)
    patients = session.scalars(select(Patient).where(Patient.birth_date == birth_date)).all()
    ids = [p.id for p in patients if normalize_name(p.legal_family_name) == wanted]
    if not ids:
        return NameSearch(today=[], other_day=None)
    start, end = day_bounds(now.astimezone(tz).date(), tz)
    today = session.scalars(
        select(Appointment.id)
        .where(Appointment.patient_id.in_(ids), Appointment.start >= start,
               Appointment.start < end, Appointment.status != S.CANCELLED)
        .order_by(Appointment.start)
    ).all()
    other = None
    if not today:
        window = (now - timedelta(days=7), now + timedelta(days=60))
        candidates = session.scalars(
            select(Appointment)
            .where(Appointment.patient_id.in_(ids), Appointment.status == S.BOOKED,
                   Appointment.start >= window[0], Appointment.start < window[1])
        ).all()
        if candidates:
            other = min(candidates, key=lambda a: abs(a.start - now))
    return NameSearch(today=list(today), other_day=other)


def phone_last4(phone: str | None) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    return digits[-4:]


def narrow_by_phone(session: Session, appointment_ids: list[int], last4: str) -> list[int]:
    """Of several matches, those whose patient's phone ends in `last4`."""
    last4 = "".join(ch for ch in last4 if ch.isdigit())
    if len(last4) != 4:
        return []
    rows = session.execute(
        select(Appointment.id, Patient.phone)
        .join(Patient, Appointment.patient_id == Patient.id)
        .where(Appointment.id.in_(appointment_ids))
    ).all()
    return [r.id for r in rows if phone_last4(r.phone) == last4]


@dataclass(frozen=True)
class IdentityCheck:
    appointment_id: int | None
    attempts_left: int
    locked: bool


def verify_token_birth_date(
    session: Session,
    token: CheckInToken | int,
    birth_date: date | None,
    *,
    now: datetime,
    kiosk_id: str | None,
) -> IdentityCheck:
    """A scanned code alone checks no one in: the patient confirms their birth date.

    Three wrong answers lock the code and raise an identity flag. Returns an outcome (never
    raises for a wrong answer) so the failure count is saved with the caller's transaction.
    A code locked, revoked or expired meanwhile stays refused.

    Counting a failure and checking the limit are one conditional UPDATE ... RETURNING, and
    a right answer is let in by another that holds only while fewer than three failures are
    counted: guesses sent at the same moment from many screens are counted one by one, and
    a right answer that arrives after the third wrong one is refused like any other.
    """
    token_id = token if isinstance(token, int) else token.id
    found = session.get(CheckInToken, token_id)
    if found is None:
        return IdentityCheck(None, 0, True)
    appointment = session.get(Appointment, found.appointment_id)
    assert appointment is not None
    live = (CheckInToken.id == token_id, CheckInToken.locked_at.is_(None),
            CheckInToken.revoked_at.is_(None), CheckInToken.expires_at > now,
            CheckInToken.failed_attempts < MAX_IDENTITY_ATTEMPTS)
    if birth_date is not None and appointment.patient.birth_date == birth_date:
        failures = session.execute(
            update(CheckInToken).where(*live)
            .values(used_at=func.coalesce(CheckInToken.used_at, now))
            .returning(CheckInToken.failed_attempts)
            .execution_options(synchronize_session="fetch")
        ).scalar()
        if failures is None:
            return IdentityCheck(None, 0, True)
        return IdentityCheck(appointment.id, MAX_IDENTITY_ATTEMPTS - failures, False)
    failures = session.execute(
        update(CheckInToken).where(*live)
        .values(failed_attempts=CheckInToken.failed_attempts + 1)
        .returning(CheckInToken.failed_attempts)
        .execution_options(synchronize_session="fetch")
    ).scalar()
    if failures is None:
        return IdentityCheck(None, 0, True)
    locked = failures >= MAX_IDENTITY_ATTEMPTS
    if locked:
        # Only the guess that counted the third failure gets here: one lock, one flag.
        session.execute(update(CheckInToken).where(CheckInToken.id == token_id)
                        .values(locked_at=now).execution_options(synchronize_session="fetch"))
        flags.raise_flag(
            session,
            kind=FlagKind.IDENTITY_FAILED,
            severity=FlagSeverity.WARNING,
            now=now,
            patient_id=appointment.patient_id,
            appointment_id=appointment.id,
            kiosk_id=kiosk_id,
        )
    return IdentityCheck(None, MAX_IDENTITY_ATTEMPTS - failures, locked)


def find_token(session: Session, code: str, *, secret_key: str, now: datetime) -> CheckInToken:
    """The live token for a scanned, typed or linked code (TokenInvalid says why not)."""
    return tokens.find_token(session, tokens.extract_token(code), secret_key=secret_key, now=now)


def report_wrong_day(
    session: Session, appointment: Appointment, *, now: datetime, kiosk_id: str | None
) -> Flag:
    """The patient came on another day than their appointment: the desk may fit them in."""
    return flags.raise_flag(session, kind=FlagKind.WRONG_DAY, severity=FlagSeverity.INFO,
                            now=now, patient_id=appointment.patient_id,
                            appointment_id=appointment.id, kiosk_id=kiosk_id)


def identity_failed(session: Session, *, now: datetime, kiosk_id: str | None) -> Flag:
    """Someone could not prove who they are (e.g. phone digits wrong three times)."""
    return flags.raise_flag(session, kind=FlagKind.IDENTITY_FAILED, severity=FlagSeverity.WARNING,
                            now=now, kiosk_id=kiosk_id)


# Built once: building a statement costs more than running it.
_LOAD = (select(Appointment)
         .options(joinedload(Appointment.patient), joinedload(Appointment.provider),
                  joinedload(Appointment.location))
         .where(Appointment.id == bindparam("appointment_id")))


def load_appointment(session: Session, appointment_id: int) -> Appointment:
    """The appointment with its patient, provider and location, in one statement."""
    appointment = session.scalar(_LOAD, {"appointment_id": appointment_id})
    if appointment is None:
        raise CannotCheckIn("appointment not found")
    return appointment


# What starting a check-in reads, in one statement that locks the appointment's row until
# the commit (PostgreSQL; SQLite's writers take turns anyway): the appointment, the check-in
# at the clinic still open for it, if any, and whether one was finished.
_TO_BEGIN = (
    select(Appointment,
           select(CheckIn.id)
           .where(CheckIn.appointment_id == Appointment.id, CheckIn.completed_at.is_(None),
                  CheckIn.abandoned_at.is_(None), ON_SITE)
           .order_by(CheckIn.id.desc()).limit(1).scalar_subquery(),
           select(CheckIn.id)
           .where(CheckIn.appointment_id == Appointment.id, ON_SITE,
                  CheckIn.completed_at.is_not(None)).exists())
    .where(Appointment.id == bindparam("appointment_id"))
    .with_for_update(of=Appointment)
)


def begin(
    session: Session,
    appointment_id: int,
    *,
    channel: Channel,
    now: datetime,
    tz: ZoneInfo,
    rules: ClinicSettings,
    kiosk_id: str | None = None,
    staff_user_id: int | None = None,
) -> CheckIn:
    """Start (or resume) checking in once identity is proven: the patient is now here.

    A patient already checked in is told so (AlreadyCheckedIn) and nothing is doubled. Early
    or late arrivals are let in when the clinic allows it, with a flag; a wrong day is not.
    A refusal (CannotCheckIn) leaves its flag in the session: catch it inside the
    transaction and commit, so the desk hears of it.

    The appointment's row is locked from the first read: two check-ins of the same visit
    started at once (two kiosks, the phone and a kiosk) take turns, and the second sees the
    first's outcome, instead of each writing rows that point at the visit and then waiting
    on the other's lock (a deadlock on PostgreSQL).
    """
    found = session.execute(_TO_BEGIN, {"appointment_id": appointment_id}).one_or_none()
    if found is None:
        raise CannotCheckIn("appointment not found")
    appointment, open_id, finished_on_site = found
    if appointment.status in ALREADY_IN:
        raise AlreadyCheckedIn("already checked in")
    if channel != Channel.DESK and appointment.status == S.ARRIVED and finished_on_site:
        # The patient finished at a kiosk already and was sent to the desk: the same code and
        # birth date do not open a second check-in. The desk finishes what is left.
        raise AlreadyCheckedIn("check-in already finished; the desk has the rest")
    if appointment.status == S.CANCELLED:
        raise CannotCheckIn("appointment cancelled", key="kiosk.appointment_cancelled")
    timing = arrival_timing(appointment.start, now, tz, rules)
    flag_args = {"now": now, "patient_id": appointment.patient_id,
                 "appointment_id": appointment.id, "kiosk_id": kiosk_id,
                 "actor_type": channel.value}
    if timing == Timing.WRONG_DAY:
        report_wrong_day(session, appointment, now=now, kiosk_id=kiosk_id)
        raise CannotCheckIn("wrong day", key="kiosk.wrong_day")
    if timing == Timing.EARLY:
        if not rules.allow_early_checkin:
            raise CannotCheckIn("too early", key="kiosk.too_early",
                                minutes=rules.early_checkin_minutes)
        flags.raise_flag(session, kind=FlagKind.EARLY_ARRIVAL, severity=FlagSeverity.INFO,
                         **flag_args)
    if timing == Timing.LATE:
        flags.raise_flag(session, kind=FlagKind.LATE_ARRIVAL, severity=FlagSeverity.WARNING,
                         **flag_args)
        if not rules.allow_late_checkin:
            raise CannotCheckIn("too late", key="kiosk.too_late")
    if open_id is not None:
        existing = session.get_one(CheckIn, open_id)
        existing.kiosk_id = kiosk_id or existing.kiosk_id
        return existing
    # No ticket yet: it is given when the patient finishes and sees it (complete), so a
    # patient who walks away leaves no number in the queue.
    # One statement per row written, without the ORM's unit of work (see complete).
    status_before = None
    if appointment.status in (S.BOOKED, S.NOSHOW):
        status_before = appointment.status
        update_row(session, Appointment, appointment.id,
                   status_changes(appointment.status, S.ARRIVED, now, appointment.arrived_at),
                   version=appointment.version)
        outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment, now=now)
    check_in = insert_object(session, CheckIn(
        appointment_id=appointment.id, channel=channel, kiosk_id=kiosk_id,
        staff_user_id=staff_user_id, started_at=now, identity_verified_at=now,
        last_step="identity", status_before=status_before))
    # The caller reads the appointment through the check-in without loading it again.
    set_committed_value(check_in, "appointment", appointment)
    if "check_ins" in appointment.__dict__:
        session.expire(appointment, ["check_ins"])
    audit.record(session, actor_type=channel.value, actor_id=staff_user_id or kiosk_id,
                 action="checkin.started", record_type="appointment", record_id=appointment.id,
                 detail={"channel": channel.value}, at=now)
    return check_in


@cache
def _ticket_upsert(dialect: str) -> Executable:
    """The counter's upsert for `dialect`, built once (building a statement costs more than
    running it)."""
    counter = TicketCounter.__table__
    issued = (select(func.count()).select_from(Appointment)
              .where(Appointment.start >= bindparam("start"), Appointment.start < bindparam("end"),
                     Appointment.ticket.is_not(None))
              .scalar_subquery())
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (insert(counter).values(day=bindparam("day"), last_number=issued + 1)
            .on_conflict_do_update(index_elements=["day"],
                                   set_={"last_number": counter.c.last_number + 1})
            .returning(counter.c.last_number))


def next_ticket(session: Session, *, now: datetime, tz: ZoneInfo) -> tuple[date, str]:
    """The next waiting-room ticket of the clinic day (A001, A002...) and that day: it stands
    for the patient on the lobby screen, so no name is ever shown there.

    The day's counter row is made or counted up in one statement (an INSERT ... ON CONFLICT
    DO UPDATE ... RETURNING), so check-ins finishing at the same moment on any number of
    kiosks never get the same number. A day's first row starts after any tickets already
    given out that day (before the counter existed)."""
    day = now.astimezone(tz).date()
    start, end = day_bounds(day, tz)
    connection = session.connection()
    number = connection.execute(_ticket_upsert(connection.dialect.name),
                                {"day": day, "start": start, "end": end}).scalar_one()
    return day, f"A{number:03d}"


def give_ticket(session: Session, appointment: Appointment, *, now: datetime,
                tz: ZoneInfo) -> str:
    """Give the appointment the day's next ticket, unless it holds one already."""
    if appointment.ticket is None:
        appointment.ticket_day, appointment.ticket = next_ticket(session, now=now, tz=tz)
    return appointment.ticket


STEP_COLUMNS = {
    "appointment": "appointment_confirmed_at",
    "demographics": "demographics_confirmed_at",
    "insurance": "insurance_confirmed_at",
    "questions": "questions_completed_at",
    "consent": "consent_completed_at",
}


def mark_step(session: Session, check_in_id: int, step: str, now: datetime) -> None:
    """Record the time a step was done (the first time only), in one UPDATE."""
    column = getattr(CheckIn, STEP_COLUMNS[step])
    session.execute(
        update(CheckIn).where(CheckIn.id == check_in_id)
        .values({column: func.coalesce(column, now), CheckIn.last_step: step})
        .execution_options(synchronize_session="fetch"))


def abandon(session: Session, check_in_id: int, now: datetime, *, step: str | None = None,
            kiosk_id: str | None = None) -> bool:
    """The patient walked away mid check-in (inactivity or "Start over"): keep where they
    stopped, for the reports, put the appointment back where it was before they arrived
    (booked, or no-show) and tell the desk "left the kiosk at <step>". No ticket was given
    (tickets come with the done screen). True when this call did it."""
    check_in = session.get(CheckIn, check_in_id)
    if check_in is None or check_in.completed_at is not None or check_in.abandoned_at is not None:
        return False
    check_in.abandoned_at = now
    appointment = load_appointment(session, check_in.appointment_id)
    step = step or check_in.last_step or "identity"
    if check_in.status_before is not None and appointment.status == S.ARRIVED:
        # Straight back, as if the patient had not come: the arrival window, the queue and
        # the no-show list see the appointment as before.
        appointment.status = check_in.status_before
        appointment.arrived_at = None
        outbox.record_event(session, OutboxEvent.BOOKED, appointment=appointment, now=now)
    # One open "left the kiosk" flag per appointment: the latest step is what counts.
    _close_left_kiosk(session, appointment.id, now, "left again")
    flags.raise_flag(session, kind=FlagKind.LEFT_KIOSK, severity=FlagSeverity.WARNING, now=now,
                     patient_id=appointment.patient_id, appointment_id=appointment.id,
                     kiosk_id=kiosk_id or check_in.kiosk_id, new_value={"step": step},
                     actor_type=check_in.channel.value)
    audit.record(session, actor_type=check_in.channel.value, actor_id=kiosk_id or check_in.kiosk_id,
                 action="checkin.abandoned", record_type="appointment", record_id=appointment.id,
                 detail={"step": step, "to_status": appointment.status.value}, at=now)
    return True


def _close_left_kiosk(session: Session, appointment_id: int, now: datetime, note: str) -> None:
    """The appointment's open "left the kiosk" notes are over: the patient came back and
    finished, or left again (one UPDATE; their objects in this session are read again)."""
    session.flush()  # a note raised earlier in this transaction is closed too
    table = Flag.__table__
    closed = session.connection().execute(
        update(table)
        .where(table.c.appointment_id == appointment_id, table.c.kind == FlagKind.LEFT_KIOSK,
               table.c.status == FlagStatus.OPEN)
        .values(status=FlagStatus.ACCEPTED, resolved_at=now, resolution_note=note,
                version=table.c.version + 1)
        .returning(table.c.id)).scalars().all()
    for flag_id in closed:
        loaded = session.identity_map.get(identity_key(Flag, flag_id))
        if loaded is not None:
            session.expire(loaded)


def _open_flags(kinds: frozenset[FlagKind], appointment_id: object, patient_id: object
                ) -> tuple[ColumnElement[bool], ...]:
    """Open flags of `kinds` about the appointment, or about its patient with no
    appointment named."""
    return (Flag.status == FlagStatus.OPEN, Flag.kind.in_(kinds),
            (Flag.appointment_id == appointment_id)
            | ((Flag.patient_id == patient_id) & Flag.appointment_id.is_(None)))


def open_desk_flags(session: Session, appointment: Appointment) -> list[Flag]:
    """The appointment's open flags that keep the patient at the desk, and any "left the
    kiosk" note."""
    return list(session.scalars(select(Flag).where(
        *_open_flags(NEEDS_DESK | {FlagKind.LEFT_KIOSK}, appointment.id,
                     appointment.patient_id))))


@dataclass(frozen=True)
class Completion:
    status: AppointmentStatus
    needs_desk: bool
    position: int | None  # place in the provider's line
    estimated_wait_minutes: int | None
    ticket: str | None = None  # the number the waiting-room screen will call


# What finishing a check-in reads, in one statement: the check-in, its appointment, and
# whether an open flag keeps the patient at the desk or a "left the kiosk" note is open.
_TO_COMPLETE = (
    select(CheckIn.completed_at, CheckIn.channel, CheckIn.kiosk_id, CheckIn.staff_user_id,
           Appointment.id, Appointment.patient_id, Appointment.provider_id, Appointment.start,
           Appointment.status, Appointment.arrived_at, Appointment.ticket, Appointment.version,
           select(Flag.id).where(*_open_flags(NEEDS_DESK, Appointment.id,
                                              Appointment.patient_id)).exists(),
           select(Flag.id).where(Flag.appointment_id == Appointment.id,
                                 Flag.kind == FlagKind.LEFT_KIOSK,
                                 Flag.status == FlagStatus.OPEN).exists())
    .join(Appointment, CheckIn.appointment_id == Appointment.id)
    .where(CheckIn.id == bindparam("check_in_id"))
)


def complete(
    session: Session, check_in_id: int, *, now: datetime, tz: ZoneInfo, rules: ClinicSettings
) -> Completion:
    """Finish a check-in. With nothing left for the desk the appointment becomes
    checked-in; with an open desk flag it stays arrived and the patient is asked to stop
    at the desk (without saying why on screen). Finishing again changes nothing but gives
    the same answer.

    One read, then one statement per row written, without the ORM's unit of work (it was
    over half of a check-in's time); objects of these rows already loaded in the session
    are read again when next used."""
    session.flush()  # the caller's own changes first: what follows reads the tables
    found = session.connection().execute(_TO_COMPLETE,
                                         {"check_in_id": check_in_id}).one_or_none()
    if found is None:
        raise CannotCheckIn("check-in not found")
    (completed_at, channel, kiosk_id, staff_user_id, appointment_id, patient_id, provider_id,
     start, status, arrived_at, ticket, version, needs_desk, left_kiosk) = found
    if left_kiosk:
        _close_left_kiosk(session, appointment_id, now, "came back and finished")
    # The place in line does not depend on arrived or checked in (both wait in line).
    position = waiting_position(session, appointment_id, provider_id, now=now, tz=tz,
                                rules=rules)
    changes: dict[str, object] = {}
    if completed_at is None:
        update_row(session, CheckIn, check_in_id, {"completed_at": now, "last_step": "done"})
        if not needs_desk and status == S.ARRIVED:
            changes = status_changes(status, S.CHECKED_IN, now, arrived_at)
            status = S.CHECKED_IN
            outbox.record_event(session, OutboxEvent.CHECKED_IN, now=now,
                                appointment_id=appointment_id, patient_id=patient_id)
        audit.record(session, actor_type=channel.value, actor_id=staff_user_id or kiosk_id,
                     action="checkin.completed", record_type="appointment",
                     record_id=appointment_id, detail={"to_status": status.value}, at=now)
    # The ticket last: the day's counter row stays locked from here to the commit, so
    # check-ins finishing at once wait on each other for one statement, not a whole step.
    if ticket is None:
        changes["ticket_day"], ticket = next_ticket(session, now=now, tz=tz)
        changes["ticket"] = ticket
    if changes:
        update_row(session, Appointment, appointment_id, changes, version=version)
    return Completion(status, needs_desk, position, estimated_wait(position, start, now=now,
                                                                   rules=rules), ticket)


def waiting_position(
    session: Session, appointment_id: int, provider_id: int, *, now: datetime, tz: ZoneInfo,
    rules: ClinicSettings,
) -> int | None:
    """The appointment's place in its provider's line: the desk's own queue order, so the
    kiosk and the desk never disagree."""
    return line_position(session, now.astimezone(tz).date(), tz, appointment_id, provider_id,
                         grace_minutes=rules.grace_minutes)


def estimated_wait(position: int | None, start: datetime, *, now: datetime,
                   rules: ClinicSettings) -> int | None:
    """Minutes until the patient is likely seen: the patients ahead in the provider's line,
    and never before the appointment's time (`start`)."""
    if position is None:
        return None
    return max((position - 1) * rules.minutes_per_patient,
               int((start - now).total_seconds() // 60), 0)
