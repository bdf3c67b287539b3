"""Checking in before the visit, on the patient's own phone (issue 16).

The reminder's link opens the same steps as the kiosk (the birth date first, with the same
lockout), from the moment the reminder is issued until the appointment starts. What the
patient reports there becomes flags exactly as at the kiosk, for the desk to review before
the visit; the appointment stays booked, because nobody has arrived. The work is kept in a
check-in of its own channel (Channel.HOME), so it can be left and resumed from its last
step, and it never counts as being in the lobby.

On the day, a patient whose pre-check-in is done is asked one question at the kiosk ("Has
anything changed since <day>?") and "No, I'm here" checks them in: `arrive`.

A pre-check-in is, for the desk, one of three states: not opened, started, done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    ConsentFormVersion,
    ConsentSignature,
)
from shared.services import audit, checkin
from shared.services.clinic_settings import ClinicSettings

# What flags and consents raised or signed at home carry where a kiosk's name would be: the
# desk's alert then reads "from home, for <date>", never as someone in the lobby.
HOME_KIOSK_ID = "home"


class PrecheckState(StrEnum):
    NOT_OPENED = "not_opened"
    STARTED = "started"
    DONE = "done"


class PrecheckClosed(DomainError):
    """The appointment is no longer one to prepare at home: it has started, been cancelled,
    or the patient is already here."""

    key = "precheck.closed"


def is_open(appointment: Appointment, now: datetime) -> bool:
    """Whether this appointment can be prepared at home now: booked, and not started yet."""
    return appointment.status == AppointmentStatus.BOOKED and now < appointment.start


def begin(session: Session, appointment_id: int, *, now: datetime) -> CheckIn:
    """Start, or resume where it was left, the patient's pre-check-in (identity already
    proven by the code and the birth date). The appointment's status does not change.

    A pre-check-in done before is opened again as a new one (the patient has something to
    change), so the state stays "done" and the desk sees the new answers as flags."""
    appointment = checkin.load_appointment(session, appointment_id)
    if not is_open(appointment, now):
        raise PrecheckClosed("appointment not open for pre-check-in")
    existing = session.scalar(
        select(CheckIn)
        .where(CheckIn.appointment_id == appointment.id, CheckIn.channel == Channel.HOME,
               CheckIn.completed_at.is_(None), CheckIn.abandoned_at.is_(None))
        .order_by(CheckIn.id.desc()).limit(1))
    if existing is not None:
        return existing
    check_in = CheckIn(appointment=appointment, channel=Channel.HOME, kiosk_id=HOME_KIOSK_ID,
                       started_at=now, identity_verified_at=now, last_step="identity")
    session.add(check_in)
    session.flush()
    audit.record(session, actor_type=Channel.HOME.value, actor_id=HOME_KIOSK_ID,
                 action="precheck.started", record_type="appointment",
                 record_id=appointment.id, detail={"channel": Channel.HOME.value}, at=now)
    return check_in


@dataclass(frozen=True)
class PrecheckDone:
    start: datetime  # the appointment's time, for "You're all set for <day>"
    # The consent forms signed in this pre-check-in, as (English title, Spanish title).
    signed: tuple[tuple[str, str], ...]


def complete(session: Session, check_in_id: int, *, now: datetime) -> PrecheckDone:
    """Finish a pre-check-in: kept as done, the appointment still booked."""
    check_in = session.get(CheckIn, check_in_id)
    if check_in is None or check_in.channel != Channel.HOME:
        raise PrecheckClosed("not a pre-check-in")
    appointment = checkin.load_appointment(session, check_in.appointment_id)
    if check_in.completed_at is None:
        check_in.completed_at = now
        check_in.last_step = "done"
        audit.record(session, actor_type=Channel.HOME.value, actor_id=HOME_KIOSK_ID,
                     action="precheck.completed", record_type="appointment",
                     record_id=appointment.id, at=now)
    signed = session.execute(
        select(ConsentFormVersion.title_en, ConsentFormVersion.title_es)
        .join(ConsentSignature, ConsentSignature.form_version_id == ConsentFormVersion.id)
        .where(ConsentSignature.appointment_id == appointment.id,
               ConsentSignature.kiosk_id == HOME_KIOSK_ID,
               ConsentSignature.signed_at >= check_in.started_at)
        .order_by(ConsentSignature.id)).all()
    session.flush()
    return PrecheckDone(appointment.start, tuple((en, es) for en, es in signed))


def states(session: Session, appointment_ids: Iterable[int]) -> dict[int, PrecheckState]:
    """Each appointment's pre-check-in state, in one query (not opened when absent)."""
    ids = list(appointment_ids)
    found = {appointment_id: PrecheckState.NOT_OPENED for appointment_id in ids}
    if not ids:
        return found
    rows = session.execute(
        select(CheckIn.appointment_id, func.count(CheckIn.completed_at))
        .where(CheckIn.appointment_id.in_(ids), CheckIn.channel == Channel.HOME)
        .group_by(CheckIn.appointment_id)).all()
    for appointment_id, done in rows:
        found[appointment_id] = PrecheckState.DONE if done else PrecheckState.STARTED
    return found


def done_at(session: Session, appointment_id: int) -> datetime | None:
    """When the patient last finished a pre-check-in for this appointment, or None."""
    return session.scalar(
        select(func.max(CheckIn.completed_at))
        .where(CheckIn.appointment_id == appointment_id, CheckIn.channel == Channel.HOME))


def arrive(
    session: Session, appointment_id: int, *, channel: Channel, now: datetime, tz: ZoneInfo,
    rules: ClinicSettings, kiosk_id: str | None = None,
) -> checkin.Completion:
    """"No, I'm here": a patient whose pre-check-in is done is checked in at once, through
    the same rules as any check-in (the arrival window, flags still open for the desk), and
    gets the ticket. Refused (PrecheckClosed) when there is no done pre-check-in."""
    if done_at(session, appointment_id) is None:
        raise PrecheckClosed("no pre-check-in done")
    started = checkin.begin(session, appointment_id, channel=channel, now=now, tz=tz,
                            rules=rules, kiosk_id=kiosk_id)
    checkin.mark_step(session, started.id, "appointment", now)
    return checkin.complete(session, started.id, now=now, tz=tz, rules=rules)
