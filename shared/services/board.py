"""The read side for the desk's screens: plain rows from one or two queries."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, exists, func, or_, select
from sqlalchemy.orm import Session

from shared.clinic_time import day_bounds
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    KioskQuestion,
    KioskQuestionVersion,
    Location,
    Patient,
    PrecheckState,
    Provider,
    StaffUser,
)
from shared.models.patients import age_on
from shared.services.queue import Waiting, fast_new, queue_order


class AppointmentRow(NamedTuple):
    appointment_id: int
    patient_id: int
    start: datetime
    patient_name: str
    mrn: str
    age: int
    provider: str
    location: str
    visit_type: str
    status: AppointmentStatus
    arrived_at: datetime | None
    open_flags: int
    # The kiosk step where the patient walked away (an open "left the kiosk" flag), or None.
    left_kiosk_at: str | None = None
    birth_date: date | None = None
    # The patient's pre-check-in at home (issue 16); None when not read.
    precheck: PrecheckState | None = None
    phone: str | None = None  # to call a patient whose pre-check-in is not done


@dataclass(frozen=True)
class BoardFilter:
    """What the arrivals board asks for, applied in SQL. `around` limits the day to the
    appointments starting between its two instants plus everyone waiting or in a room, so
    the board's cost follows what is shown, not the size of the day."""

    providers: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    around: tuple[datetime, datetime] | None = None
    # Only booked appointments whose pre-check-in was not done before their day began: the
    # patients a representative calls the day before.
    not_prechecked: bool = False


ZERO = timedelta(0)
PRESENT = (AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_ROOM)


def appointments_for_day(session: Session, day: date, tz: ZoneInfo,
                         only: BoardFilter = BoardFilter()) -> list[AppointmentRow]:
    """The clinic day's appointments in time order, with open-flag counts and each one's
    pre-check-in state. Two queries."""
    start, end = day_bounds(day, tz)
    conditions = [Appointment.start >= start, Appointment.start < end]
    if only.providers:
        conditions.append(Provider.display_name.in_(only.providers))
    if only.locations:
        conditions.append(Location.name.in_(only.locations))
    if only.around is not None:
        conditions.append(or_(Appointment.start.between(*only.around),
                              Appointment.status.in_(PRESENT)))
    if only.not_prechecked:
        conditions += [Appointment.status == AppointmentStatus.BOOKED,
                       ~exists().where(*_home(), CheckIn.completed_at < start)]
    states = (PrecheckState.NOT_OPENED, PrecheckState.STARTED, PrecheckState.DONE)
    # Core rows on the session's connection, as the queue reads (no ORM loading step per
    # row), after a flush so that this session's own changes are seen.
    session.flush()
    connection = session.connection()
    rows = connection.execute(
        select(
            Appointment.id,
            Appointment.patient_id,
            Appointment.start,
            Appointment.visit_type,
            Appointment.status,
            Appointment.arrived_at,
            Patient.legal_given_name,
            Patient.preferred_name,
            Patient.legal_family_name,
            Patient.mrn,
            Patient.birth_date,
            Patient.phone,
            Provider.display_name,
            Location.name,
            _precheck_code(),
        )
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(Provider, Appointment.provider_id == Provider.id)
        .join(Location, Appointment.location_id == Location.id)
        .where(*conditions)
        .order_by(Appointment.start, Appointment.id)
    ).all()
    flag_counts: dict[int, int] = {}
    left_at: dict[int, str] = {}
    if rows:
        day_flags = (Flag.status == FlagStatus.OPEN, Appointment.start >= start,
                     Appointment.start < end)
        counted = connection.execute(
            select(Flag.appointment_id, func.count(),
                   func.count(case((Flag.kind == FlagKind.LEFT_KIOSK, 1))))
            .join(Appointment, Flag.appointment_id == Appointment.id)
            .where(*day_flags)
            .group_by(Flag.appointment_id)
        ).all()
        flag_counts = {appointment_id: n for appointment_id, n, _ in counted}
        if any(left for _, _, left in counted):
            # Rare (someone walked away from the kiosk): only then read where they stopped.
            left_at = {appointment_id: kiosk_step(value)
                       for appointment_id, value in connection.execute(
                           select(Flag.appointment_id, Flag.new_value)
                           .join(Appointment, Flag.appointment_id == Appointment.id)
                           .where(*day_flags, Flag.kind == FlagKind.LEFT_KIOSK)
                           .order_by(Flag.raised_at))}
    # Unpacked by position and built by position, in C (fast_new): on a day of 3,000 rows,
    # reading Row attributes by name and keyword arguments were most of this service's time.
    new_row = fast_new(AppointmentRow)
    return [
        new_row((
            appointment_id, patient_id, start_at, f"{preferred or given} {family}", mrn,
            age_on(birth_date, day), provider, location, visit_type, status, arrived_at,
            flag_counts.get(appointment_id, 0), left_at.get(appointment_id), birth_date,
            states[code or 0], phone))
        for (appointment_id, patient_id, start_at, visit_type, status, arrived_at, given,
             preferred, family, mrn, birth_date, phone, provider, location, code) in rows
    ]


def _home() -> tuple[Any, ...]:
    """The pre-check-ins (check-ins at home) of the appointment in the enclosing query."""
    return (CheckIn.appointment_id == Appointment.id, CheckIn.channel == Channel.HOME)


def _precheck_code() -> Any:
    """The appointment's pre-check-in state as a number, read in the board's own statement (a
    correlated subquery on check_in's appointment index, instead of a third query): NULL when
    never opened, 1 when started, 2 when one was finished. The same rule as
    `precheck.states`: any finished pre-check-in makes it done, even if opened again since."""
    return (select(func.max(case((CheckIn.completed_at.is_not(None), 2), else_=1)))
            .where(*_home()).correlate(Appointment).scalar_subquery())


# The kiosk steps a flag can name (the desk's words for them): where a patient walked away
# or asked for help.
KIOSK_STEPS = ("identity", "appointment", "details", "insurance", "questions", "consent")
STEP_KINDS = (FlagKind.LEFT_KIOSK, FlagKind.HELP_REQUEST)


def kiosk_step(value: dict[str, Any] | None) -> str:
    """The step a "left the kiosk" or help flag names; "identity" for anything else."""
    step = (value or {}).get("step")
    return step if step in KIOSK_STEPS else "identity"


def _fold(text: str) -> str:
    """Case and accents do not matter: 'Sánchez' is 'sanchez'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_DATE_QUERY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})|(\d{4})-(\d{1,2})-(\d{1,2})")


def _query_date(query: str) -> date | None:
    """A birth date typed as 03/14/1986, 3-14-1986 or 1986-03-14, else None."""
    m = _DATE_QUERY.fullmatch(query.strip())
    if m is None:
        return None
    month, day, year = ((m[1], m[2], m[3]) if m[1] else (m[5], m[6], m[4]))
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def matches_search(row: AppointmentRow, query: str) -> bool:
    """The board's search box: a name in any order, accents and case ignored, parts of words
    allowed ("isa sanch" finds Isabella Sánchez); an MRN or part of one; or a birth date.
    Every word typed must be found."""
    query = query.strip()
    if not query:
        return True
    wanted = _query_date(query)
    if wanted is not None:
        return row.birth_date == wanted
    names = re.split(r"[\W_]+", _fold(row.patient_name))
    mrn = _fold(row.mrn)
    return all(any(word in name for name in names) or word in mrn
               for word in re.split(r"[\s,]+", _fold(query)) if word)


@dataclass(frozen=True)
class DayCounts:
    total: int
    waiting: int
    done: int


def day_counts(session: Session, day: date, tz: ZoneInfo) -> DayCounts:
    """How many appointments the day holds, are waiting and are done: one aggregate."""
    start, end = day_bounds(day, tz)
    waiting = (AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)
    row = session.execute(
        select(func.count(),
               func.count(case((Appointment.status.in_(waiting), 1))),
               func.count(case((Appointment.status == AppointmentStatus.FULFILLED, 1))))
        .where(Appointment.start >= start, Appointment.start < end)
    ).one()
    return DayCounts(total=row[0], waiting=row[1], done=row[2])


@dataclass(frozen=True)
class AlertRow:
    flag_id: int
    kind: FlagKind
    kiosk_id: str | None
    raised_at: datetime
    patient_name: str | None
    appointment_id: int | None
    # What happened, in the desk's words: the urgent question and its answer, or the kiosk
    # step where help was asked for or the patient walked away.
    question: str | None = None
    answer: object = None
    step: str | None = None
    taken_by: str | None = None  # who acknowledged it, while it stays on the strip
    taken_at: datetime | None = None
    # The visit's start: a flag raised at home (a pre-check-in) is told by its date, not as
    # someone in the lobby.
    appointment_start: datetime | None = None


# An acknowledged alert stays on the strip this long, saying who took it, then leaves.
TAKEN_SHOWN_FOR = timedelta(minutes=10)
# Besides urgent flags, a patient who walked away from the kiosk mid check-in: they may be
# sitting in the lobby thinking they are checked in.
ALERT_KINDS = (FlagKind.LEFT_KIOSK,)


def alerts(session: Session, now: datetime | None = None) -> list[AlertRow]:
    """What needs a person now: urgent flags (and walk-aways) nobody has acknowledged yet,
    oldest first; then those acknowledged in the last few minutes, with who took them."""
    taken = Flag.acknowledged_at.is_(None)
    if now is not None:
        taken = taken | (Flag.acknowledged_at >= now - TAKEN_SHOWN_FOR)
    rows = session.execute(
        select(Flag.id, Flag.kind, Flag.kiosk_id, Flag.raised_at, Flag.appointment_id,
               Flag.new_value, Flag.acknowledged_at, StaffUser.display_name,
               Patient.legal_given_name, Patient.preferred_name, Patient.legal_family_name,
               Appointment.start)
        .outerjoin(Patient, Flag.patient_id == Patient.id)
        .outerjoin(StaffUser, Flag.acknowledged_by_id == StaffUser.id)
        .outerjoin(Appointment, Flag.appointment_id == Appointment.id)
        .where(Flag.status == FlagStatus.OPEN, taken,
               (Flag.severity == FlagSeverity.URGENT) | Flag.kind.in_(ALERT_KINDS))
        .order_by(Flag.acknowledged_at.is_not(None), Flag.raised_at, Flag.id)
    ).all()
    keys = {(r.new_value or {}).get("question") for r in rows
            if r.kind == FlagKind.URGENT_ANSWER} - {None}
    questions = _question_texts(session, keys) if keys else {}
    shown = []
    for r in rows:
        value = r.new_value or {}
        kind = FlagKind(r.kind)
        shown.append(AlertRow(
            flag_id=r.id, kind=kind, kiosk_id=r.kiosk_id, raised_at=r.raised_at,
            appointment_id=r.appointment_id,
            patient_name=(f"{r.preferred_name or r.legal_given_name} {r.legal_family_name}"
                          if r.legal_family_name else None),
            question=questions.get(value.get("question")) if kind == FlagKind.URGENT_ANSWER
            else None,
            answer=value.get("answer") if kind == FlagKind.URGENT_ANSWER else None,
            step=kiosk_step(value) if kind in STEP_KINDS and value.get("step") else None,
            taken_by=r.display_name if r.acknowledged_at is not None else None,
            taken_at=r.acknowledged_at,
            appointment_start=r.start,
        ))
    return shown


def _question_texts(session: Session, keys: set[str]) -> dict[str, str]:
    """Each question's English wording, as last edited."""
    rows = session.execute(
        select(KioskQuestion.key, KioskQuestionVersion.text_en)
        .join(KioskQuestionVersion, KioskQuestionVersion.question_id == KioskQuestion.id)
        .where(KioskQuestion.key.in_(keys))
        .order_by(KioskQuestionVersion.version)).all()
    return dict(rows)  # the latest version last, so it wins


@dataclass(frozen=True)
class FlagRow:
    flag_id: int
    version: int
    kind: FlagKind
    severity: FlagSeverity
    raised_at: datetime
    kiosk_id: str | None
    appointment_id: int | None
    old_value: dict[str, Any] | None
    new_value: dict[str, Any] | None
    acknowledged: bool


@dataclass(frozen=True)
class PatientFlags:
    patient_id: int | None
    patient_name: str
    mrn: str
    flags: list[FlagRow]

    @property
    def urgent(self) -> bool:
        return any(f.severity == FlagSeverity.URGENT for f in self.flags)

    @property
    def oldest(self) -> datetime:
        return min(f.raised_at for f in self.flags)

    @property
    def needs_decision(self) -> bool:
        return any(f.kind not in NOTE_KINDS for f in self.flags)


# Flags that only tell the desk something ("arrived early"): on the board row, but not in
# the review list unless asked for, where they would bury the flags that need a decision.
NOTE_KINDS = frozenset({FlagKind.EARLY_ARRIVAL})


def open_notes(session: Session) -> int:
    """How many open flags are notes only (see NOTE_KINDS)."""
    return session.scalar(select(func.count()).select_from(Flag).where(
        Flag.status == FlagStatus.OPEN, Flag.kind.in_(NOTE_KINDS))) or 0


def open_flags_by_patient(session: Session, *, notes: bool = True) -> list[PatientFlags]:
    """Open flags grouped by patient, what needs a decision first: patients with an urgent
    flag, then those with a flag to decide on, then those with notes only (left out unless
    `notes`), oldest first within each; in a group, urgent flags first and notes last. Flags
    with no patient (a walk-in, a help press before identification) form their own groups.
    One query."""
    conditions = [Flag.status == FlagStatus.OPEN]
    if not notes:
        conditions.append(Flag.kind.not_in(NOTE_KINDS))
    rows = session.execute(
        select(Flag, Patient.legal_given_name, Patient.preferred_name,
               Patient.legal_family_name, Patient.mrn)
        .outerjoin(Patient, Flag.patient_id == Patient.id)
        .where(*conditions)
        .order_by(Flag.raised_at, Flag.id)
    ).all()
    groups: dict[object, PatientFlags] = {}
    for flag, given, preferred, family, mrn in rows:
        group_key: object = flag.patient_id if flag.patient_id is not None else ("f", flag.id)
        if group_key not in groups:
            name = f"{preferred or given} {family}" if family else _unnamed(flag)
            groups[group_key] = PatientFlags(flag.patient_id, name, mrn or "", [])
        groups[group_key].flags.append(
            FlagRow(
                flag_id=flag.id, version=flag.version, kind=flag.kind, severity=flag.severity,
                raised_at=flag.raised_at, kiosk_id=flag.kiosk_id,
                appointment_id=flag.appointment_id, old_value=flag.old_value,
                new_value=flag.new_value, acknowledged=flag.acknowledged_at is not None,
            )
        )
    for group in groups.values():
        # Stable: otherwise in the order raised.
        group.flags.sort(key=lambda f: (f.severity != FlagSeverity.URGENT, f.kind in NOTE_KINDS))
    return sorted(groups.values(), key=lambda g: (not g.urgent, not g.needs_decision, g.oldest))


def _unnamed(flag: Flag) -> str:
    if flag.kind == FlagKind.WALK_IN and flag.new_value:
        return f"{flag.new_value.get('given_name', '')} {flag.new_value.get('family_name', '')}"
    return ""


class QueueRow(NamedTuple):
    position: int
    provider_position: int
    appointment_id: int
    version: int
    ticket: str
    patient_name: str
    provider_id: int
    provider: str
    start: datetime
    arrived_at: datetime | None
    status: AppointmentStatus
    reason_key: str
    note: str | None
    called_at: datetime | None
    room: str | None


# Open urgent flags: a patient with one goes to the head of the line.
URGENT_FLAG = (Flag.status == FlagStatus.OPEN, Flag.severity == FlagSeverity.URGENT,
               Flag.kind.in_((FlagKind.URGENT_ANSWER, FlagKind.HELP_REQUEST)))


def _waiting(rows: Iterable[tuple[int, int, datetime, datetime | None, int, bool]]
             ) -> list[Waiting]:
    """The queue's input from (appointment, provider, start, arrived at, the desk's move in
    minutes, urgent) rows. A move by the desk shifts the appointment and the arrival alike:
    the patient's place changes, but on time stays on time and late stays late."""
    new_waiting = fast_new(Waiting)
    waiting = []
    for appointment_id, provider_id, start_at, arrived_at, shift, urgent in rows:
        moved = timedelta(minutes=shift) if shift else ZERO
        waiting.append(new_waiting((appointment_id, provider_id, start_at - moved,
                                    (arrived_at or start_at) - moved, urgent)))
    return waiting


def queue_for_day(
    session: Session, day: date, tz: ZoneInfo, *, grace_minutes: int,
    provider_id: int | None = None,
) -> list[QueueRow]:
    """Everyone waiting today (arrived or checked in), in the order they should be seen,
    with the reason for each place. Two queries.

    With `provider_id`, only that provider's line: the order within a line does not depend
    on the other lines, so `provider_position` is the same as in the whole queue (and
    `position` counts that line only)."""
    start, end = day_bounds(day, tz)
    only = () if provider_id is None else (Appointment.provider_id == provider_id,)
    # Plain columns, not Appointment objects: the queue is re-read every few seconds by
    # every open screen, and building ORM objects cost 5-8x the query itself. Run on the
    # session's connection (Core rows, no ORM loading step per row: a fifth less time on a
    # busy day), after a flush so that changes made in this session are seen, as
    # session.execute's autoflush would.
    session.flush()
    connection = session.connection()
    rows = connection.execute(
        select(Appointment.id, Appointment.version, Appointment.provider_id, Appointment.start,
               Appointment.arrived_at, Appointment.status, Appointment.ticket,
               Appointment.queue_shift_minutes, Appointment.queue_note, Appointment.called_at,
               Appointment.room, Patient.legal_given_name, Patient.preferred_name,
               Patient.legal_family_name, Provider.display_name)
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(Provider, Appointment.provider_id == Provider.id)
        .where(Appointment.start >= start, Appointment.start < end, *only,
               Appointment.status.in_((AppointmentStatus.ARRIVED,
                                       AppointmentStatus.CHECKED_IN)))
    ).all()
    new_row = fast_new(QueueRow)
    urgent = set()
    if rows:
        urgent = set(connection.scalars(
            select(Flag.appointment_id)
            .join(Appointment, Flag.appointment_id == Appointment.id)
            .where(Appointment.start >= start, Appointment.start < end, *only, *URGENT_FLAG)
        ))
    # Rows unpacked by position: reading Row attributes by name was most of the time on a
    # busy day.
    by_id = {r[0]: r for r in rows}
    places = queue_order(_waiting((r[0], r[2], r[3], r[4], r[7], r[0] in urgent)
                                  for r in by_id.values()),
                         grace=timedelta(minutes=grace_minutes))
    per_provider: dict[int, int] = {}
    result = []
    for place in places:
        (appointment_id, version, provider_id, start_at, arrived_at, status, ticket, shift,
         note, called_at, room, given, preferred, family, provider) = by_id[place.appointment_id]
        per_provider[provider_id] = per_provider.get(provider_id, 0) + 1
        result.append(new_row((
            place.position, per_provider[provider_id], appointment_id, version, ticket or "",
            f"{preferred or given} {family}", provider_id, provider, start_at, arrived_at,
            status, "queue.reason_moved" if shift else place.reason_key, note, called_at,
            room)))
    return result


# A provider's line of the day: the few columns the order needs (built once: building a
# statement costs more than running it).
_LINE = (
    select(Appointment.id, Appointment.provider_id, Appointment.start, Appointment.arrived_at,
           Appointment.queue_shift_minutes,
           select(Flag.id).where(Flag.appointment_id == Appointment.id, *URGENT_FLAG).exists())
    .where(Appointment.start >= bindparam("start"), Appointment.start < bindparam("end"),
           Appointment.provider_id == bindparam("provider_id"),
           Appointment.status.in_((AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)))
)


def line_position(session: Session, day: date, tz: ZoneInfo, appointment_id: int,
                  provider_id: int, *, grace_minutes: int) -> int | None:
    """The appointment's place in its provider's line of the day, as the queue orders it
    (queue_for_day's provider_position), or None when it is not waiting. One statement of
    the few columns the order needs: a check-in asks this as it finishes."""
    start, end = day_bounds(day, tz)
    session.flush()
    rows = session.connection().execute(
        _LINE, {"start": start, "end": end, "provider_id": provider_id}).all()
    places = queue_order(_waiting(rows), grace=timedelta(minutes=grace_minutes))
    return next((n for n, place in enumerate(places, 1)
                 if place.appointment_id == appointment_id), None)
