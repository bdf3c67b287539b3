"""The desk's actions on the queue: call to a room, in room, complete, no-show, cancel, move
(with a reason), and undo the last action once, within a few minutes.

Every action is audited. Two representatives acting on the same patient at once: the first
wins, the second is told who did what (a version check on the appointment)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shared.errors import DomainError
from shared.interface import outbox
from shared.models import Appointment, AppointmentStatus, AuditEvent, OutboxEvent, StaffUser
from shared.services import audit
from shared.services.appointments import check_transition
from shared.services.clinic_settings import ClinicSettings

S = AppointmentStatus
STAMPS = {
    S.ARRIVED: "arrived_at",
    S.CHECKED_IN: "checked_in_at",
    S.IN_ROOM: "in_room_at",
    S.FULFILLED: "completed_at",
    S.CANCELLED: "cancelled_at",
}


class DeskRefused(DomainError):
    key = "desk.refused"


class ConcurrentAction(DomainError):
    key = "desk.concurrent"


def _who_did_last(session: Session, appointment_id: int) -> tuple[str, str]:
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.record_type == "appointment", AuditEvent.record_id == appointment_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return "", ""
    name = ""
    if event.actor_type == "staff" and event.actor_id and event.actor_id.isdigit():
        user = session.get(StaffUser, int(event.actor_id))
        name = user.display_name if user else ""
    return name or event.actor_type, event.action


def _changed_meanwhile(session: Session, appointment_id: int) -> ConcurrentAction:
    """Who acted first, and what they did; when they called the patient, where to."""
    who, action = _who_did_last(session, appointment_id)
    if action == "desk.called":
        room = session.scalar(select(Appointment.room).where(Appointment.id == appointment_id))
        if room:
            return ConcurrentAction("already called", key="desk.already_called", who=who,
                                    room=room)
    return ConcurrentAction("changed meanwhile", who=who, action=action)


def _load(session: Session, appointment_id: int, expected_version: int | None) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise DeskRefused("no such appointment", key="desk.not_found")
    if expected_version is not None and (
            appointment.version != expected_version
            # The row as stored now, not as this session first read it: another desk may
            # have acted since.
            or session.scalar(select(Appointment.version)
                              .where(Appointment.id == appointment_id)) != expected_version):
        raise _changed_meanwhile(session, appointment_id)
    return appointment


def _save(session: Session, appointment: Appointment) -> None:
    # Read before flushing: a failed flush rolls back and expires every loaded object.
    appointment_id = appointment.id
    try:
        session.flush()
    except StaleDataError as exc:
        # This transaction is spoilt; ask a fresh session who won.
        with Session(session.get_bind()) as fresh:
            raise _changed_meanwhile(fresh, appointment_id) from exc


def _move(
    session: Session, appointment: Appointment, target: AppointmentStatus, *, action: str,
    staff_user_id: int, now: datetime, reason_code: str | None = None,
) -> Appointment:
    previous = appointment.status
    check_transition(previous, target)
    appointment.status = target
    stamp = STAMPS.get(target)
    if stamp is not None:
        setattr(appointment, stamp, now)
    if target == S.CHECKED_IN and appointment.arrived_at is None:
        appointment.arrived_at = now
    _save(session, appointment)
    detail: dict[str, object] = {"from_status": previous.value, "to_status": target.value}
    if reason_code:
        detail["reason_code"] = reason_code
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action=action,
                 record_type="appointment", record_id=appointment.id, detail=detail, at=now)
    return appointment


def call_to_room(
    session: Session, appointment_id: int, room: str, *, staff_user_id: int, now: datetime,
    expected_version: int | None = None,
) -> Appointment:
    """Call a waiting patient to a room: the lobby screen shows their ticket and the room."""
    appointment = _load(session, appointment_id, expected_version)
    if appointment.status not in (S.ARRIVED, S.CHECKED_IN):
        raise DeskRefused("not waiting", key="desk.not_waiting")
    room = " ".join(room.split())[:40]
    if not room:
        raise DeskRefused("room required", key="desk.room_required")
    if appointment.called_at is not None and appointment.room:
        # Someone called this patient already (perhaps a moment ago, from another screen that
        # had refreshed): never send them to a second room silently. Undo the call first.
        who, _action = _who_did_last(session, appointment_id)
        raise ConcurrentAction("already called", key="desk.already_called",
                               who=who, room=appointment.room)
    appointment.called_at = now
    appointment.room = room
    _save(session, appointment)
    outbox.record_event(session, OutboxEvent.ROOMED, appointment=appointment, now=now)
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="desk.called",
                 record_type="appointment", record_id=appointment.id, at=now)
    return appointment


def mark_in_room(session: Session, appointment_id: int, *, staff_user_id: int, now: datetime,
                 expected_version: int | None = None) -> Appointment:
    appointment = _load(session, appointment_id, expected_version)
    return _move(session, appointment, S.IN_ROOM, action="desk.in_room",
                 staff_user_id=staff_user_id, now=now)


def complete_visit(session: Session, appointment_id: int, *, staff_user_id: int,
                   now: datetime, expected_version: int | None = None) -> Appointment:
    appointment = _load(session, appointment_id, expected_version)
    return _move(session, appointment, S.FULFILLED, action="desk.completed",
                 staff_user_id=staff_user_id, now=now)


def mark_no_show(
    session: Session, appointment_id: int, *, staff_user_id: int, now: datetime,
    rules: ClinicSettings, expected_version: int | None = None,
) -> Appointment:
    """Only a booked patient past the grace period can be a no-show."""
    appointment = _load(session, appointment_id, expected_version)
    if appointment.status == S.BOOKED and now < appointment.start + timedelta(
        minutes=rules.grace_minutes
    ):
        raise DeskRefused("too soon", key="desk.noshow_too_soon",
                          minutes=rules.grace_minutes)
    moved = _move(session, appointment, S.NOSHOW, action="desk.noshow",
                  staff_user_id=staff_user_id, now=now)
    outbox.record_event(session, OutboxEvent.NOSHOW, appointment=moved, now=now)
    return moved


CANCEL_REASONS = ("patient_request", "provider_unavailable", "rescheduled", "duplicate", "other")


def cancel(
    session: Session, appointment_id: int, *, reason_code: str, staff_user_id: int,
    now: datetime, expected_version: int | None = None,
) -> Appointment:
    if reason_code not in CANCEL_REASONS:
        raise DeskRefused("reason", key="desk.reason_required")
    appointment = _load(session, appointment_id, expected_version)
    return _move(session, appointment, S.CANCELLED, action="desk.cancelled",
                 staff_user_id=staff_user_id, now=now, reason_code=reason_code)


def move_in_queue(
    session: Session, appointment_id: int, *, minutes_earlier: int, reason: str,
    staff_user_id: int, now: datetime, expected_version: int | None = None,
) -> Appointment:
    """Move a waiting patient earlier (positive) or later (negative) in the line, with a
    reason the queue shows."""
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise DeskRefused("reason", key="desk.reason_required")
    if not -240 <= minutes_earlier <= 240 or minutes_earlier == 0:
        raise DeskRefused("minutes", key="desk.move_minutes")
    appointment = _load(session, appointment_id, expected_version)
    if appointment.status not in (S.ARRIVED, S.CHECKED_IN):
        raise DeskRefused("not waiting", key="desk.not_waiting")
    appointment.queue_shift_minutes += minutes_earlier
    appointment.queue_note = reason[:200]
    _save(session, appointment)
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="desk.moved",
                 record_type="appointment", record_id=appointment.id,
                 detail={"count": minutes_earlier}, at=now)
    return appointment


UNDOABLE = ("desk.called", "desk.in_room", "desk.completed", "desk.noshow", "desk.cancelled")
# An action can be undone this long after it, by whoever did it or by a manager.
UNDO_WINDOW = timedelta(minutes=5)


def undo_last(session: Session, appointment_id: int, *, staff_user_id: int, now: datetime,
              expected_version: int | None = None, manager: bool = False) -> Appointment:
    """Undo the desk's last action on this appointment, once (an undo is not undone): a
    call to a room, in room, visit done, no-show or cancel. Within a few minutes of it, by
    the same person or a manager."""
    appointment = _load(session, appointment_id, expected_version)
    last = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.record_type == "appointment", AuditEvent.record_id == appointment_id,
               AuditEvent.action.like("desk.%") | AuditEvent.action.like("undo.%"))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if last is None or last.action not in UNDOABLE:
        raise DeskRefused("nothing to undo", key="desk.nothing_to_undo")
    if now - last.at > UNDO_WINDOW:
        raise DeskRefused("too late", key="desk.undo_too_late",
                          minutes=int(UNDO_WINDOW.total_seconds() // 60))
    if not manager and last.actor_id != str(staff_user_id):
        who, _action = _who_did_last(session, appointment_id)
        raise DeskRefused("not yours", key="desk.undo_not_yours", who=who)
    if last.action == "desk.called":
        return _undo_call(session, appointment, staff_user_id=staff_user_id, now=now)
    if not last.detail or appointment.status.value != last.detail["to_status"]:
        raise DeskRefused("nothing to undo", key="desk.nothing_to_undo")
    previous = AppointmentStatus(last.detail["from_status"])
    # Restoring the status before a legal step needs no transition check of its own.
    stamp = STAMPS.get(appointment.status)
    current = appointment.status
    appointment.status = previous
    if stamp is not None:
        setattr(appointment, stamp, None)
    _save(session, appointment)
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="undo.status",
                 record_type="appointment", record_id=appointment.id,
                 detail={"from_status": current.value, "to_status": previous.value}, at=now)
    return appointment


def _undo_call(session: Session, appointment: Appointment, *, staff_user_id: int,
               now: datetime) -> Appointment:
    """The patient was called by mistake (or to the wrong room): back to waiting, off the
    lobby screen, and the practice system hears they are waiting again."""
    if appointment.called_at is None or appointment.status not in (S.ARRIVED, S.CHECKED_IN):
        raise DeskRefused("nothing to undo", key="desk.nothing_to_undo")
    appointment.called_at = None
    appointment.room = None
    _save(session, appointment)
    outbox.record_event(session, OutboxEvent.CHECKED_IN if appointment.status == S.CHECKED_IN
                        else OutboxEvent.ARRIVED, appointment=appointment, now=now)
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="undo.called",
                 record_type="appointment", record_id=appointment.id,
                 detail={"to_status": appointment.status.value}, at=now)
    return appointment
