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

import hashlib
import hmac
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
    PrecheckState,
)
from shared.services import audit, checkin
from shared.services.clinic_settings import ClinicSettings

# What flags and consents raised or signed at home carry where a kiosk's name would be: the
# desk's alert then reads "from home, for <date>", never as someone in the lobby.
HOME_KIOSK_ID = "home"
# And what a check-in made on the phone in the lobby ("I'm here") carries.
PHONE_KIOSK_ID = "phone"


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


# --- "I'm here" on the phone, proved by the lobby's code -----------------------------------
#
# The waiting-room screen shows a QR code that changes every LOBBY_PERIOD: the window's number
# and an HMAC of it under the clinic's secret key. Nothing of any patient is in it. The
# patient's page reads it with the phone's camera; the server accepts the current window and
# the one before (a code read just as it changed), and nothing older: a photo of yesterday's
# screen, or of this morning's, checks no one in.

LOBBY_PERIOD_S = 180
LOBBY_PREFIX = "LOBBY1"


def _lobby_window(now: datetime) -> int:
    return int(now.timestamp()) // LOBBY_PERIOD_S


def _lobby_mac(secret_key: str, window: int) -> str:
    message = f"lobby:{window}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:24]


def lobby_code(secret_key: str, now: datetime) -> str:
    """The code the waiting-room screen shows now."""
    window = _lobby_window(now)
    return f"{LOBBY_PREFIX}.{window}.{_lobby_mac(secret_key, window)}"


def lobby_code_valid(code: str, secret_key: str, now: datetime) -> bool:
    """Whether `code` is the lobby's code now (or the one just before it)."""
    parts = (code or "").strip().split(".")
    if len(parts) != 3 or parts[0] != LOBBY_PREFIX or not parts[1].isdigit():
        return False
    window = int(parts[1])
    if window not in (_lobby_window(now), _lobby_window(now) - 1):
        return False
    return hmac.compare_digest(parts[2], _lobby_mac(secret_key, window))


class LobbyCodeRefused(DomainError):
    """No valid lobby code: the phone has not shown it is in the waiting room."""

    key = "precheck.use_kiosk"


class NotInArrivalWindow(DomainError):
    key = "precheck.not_in_window"


def im_here(
    session: Session, appointment_id: int, *, now: datetime, tz: ZoneInfo,
    rules: ClinicSettings, secret_key: str, code: str | None,
) -> checkin.Completion:
    """The phone's "I'm here": within the arrival window, with the lobby's current code
    (unless the clinic allows arriving without it), a patient whose pre-check-in is done is
    checked in and gets the ticket, as at the kiosk."""
    if not rules.arrive_without_lobby_code and not lobby_code_valid(code or "", secret_key, now):
        raise LobbyCodeRefused("lobby code missing or not current")
    appointment = checkin.load_appointment(session, appointment_id)
    if checkin.arrival_timing(appointment.start, now, tz, rules) != checkin.Timing.ON_TIME:
        # Early, late or another day: the kiosk or the desk decides, with the patient there.
        raise NotInArrivalWindow("outside the arrival window")
    return arrive(session, appointment_id, channel=Channel.MOBILE, now=now, tz=tz,
                  rules=rules, kiosk_id=PHONE_KIOSK_ID)


class PhoneStep(StrEnum):
    WAITING = "waiting"  # checked in (or arrived, with something for the desk): in line
    CALLED = "called"  # "It's your turn: Room 3"
    OVER = "over"  # seen, finished, cancelled, or the day is over: the page has nothing more


@dataclass(frozen=True)
class PhoneStatus:
    step: PhoneStep
    ticket: str | None = None
    position: int | None = None
    wait_minutes: int | None = None
    room: str | None = None
    needs_desk: bool = False


def phone_status(session: Session, appointment_id: int, *, now: datetime, tz: ZoneInfo,
                 rules: ClinicSettings) -> PhoneStatus:
    """What the patient's phone shows after "I'm here", read again every few seconds: the
    ticket, the place in line and the wait, or the room once the desk calls. Only for the
    appointment's own day."""
    appointment = session.get(Appointment, appointment_id)
    if (appointment is None or appointment.start.astimezone(tz).date()
            != now.astimezone(tz).date()):
        return PhoneStatus(PhoneStep.OVER)
    if appointment.called_at is not None and appointment.room:
        return PhoneStatus(PhoneStep.CALLED, ticket=appointment.ticket, room=appointment.room)
    if appointment.status not in (AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN):
        return PhoneStatus(PhoneStep.OVER)
    position = checkin.waiting_position(session, appointment.id, appointment.provider_id,
                                        now=now, tz=tz, rules=rules)
    wait = checkin.estimated_wait(position, appointment.start, now=now, rules=rules)
    return PhoneStatus(PhoneStep.WAITING, ticket=appointment.ticket, position=position,
                       wait_minutes=wait,
                       needs_desk=appointment.status == AppointmentStatus.ARRIVED)
