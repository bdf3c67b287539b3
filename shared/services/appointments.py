"""Appointment status: the one place that knows which step may follow which."""

from __future__ import annotations

from datetime import datetime

from shared.errors import IllegalTransition
from shared.models import Appointment, AppointmentStatus

S = AppointmentStatus

# Forward steps of a visit, plus the backward steps the desk needs to undo a mistake
# (a no-show who turns up after all, a patient called to a room too soon).
ALLOWED_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    S.BOOKED: frozenset({S.ARRIVED, S.CHECKED_IN, S.NOSHOW, S.CANCELLED}),
    S.ARRIVED: frozenset({S.CHECKED_IN, S.IN_ROOM, S.BOOKED, S.CANCELLED}),
    S.CHECKED_IN: frozenset({S.IN_ROOM, S.FULFILLED, S.ARRIVED, S.CANCELLED}),
    S.IN_ROOM: frozenset({S.FULFILLED, S.CHECKED_IN}),
    S.FULFILLED: frozenset({S.IN_ROOM}),
    S.NOSHOW: frozenset({S.BOOKED, S.ARRIVED}),
    S.CANCELLED: frozenset({S.BOOKED}),
}

# The timestamp each status sets when it is entered.
_STAMP = {
    S.ARRIVED: "arrived_at",
    S.CHECKED_IN: "checked_in_at",
    S.IN_ROOM: "in_room_at",
    S.FULFILLED: "completed_at",
    S.CANCELLED: "cancelled_at",
}


def check_transition(current: AppointmentStatus, target: AppointmentStatus) -> None:
    """Raise IllegalTransition unless an appointment may go from `current` to `target`."""
    current, target = AppointmentStatus(current), AppointmentStatus(target)
    if current == target:
        raise IllegalTransition(
            f"The appointment is already {current.value}.",
            key="error.already_in_status",
            status=current.value,
        )
    if target not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(
            f"An appointment that is {current.value} cannot become {target.value}.",
            current=current.value,
            target=target.value,
        )


def is_allowed(current: AppointmentStatus, target: AppointmentStatus) -> bool:
    return current != target and target in ALLOWED_TRANSITIONS[AppointmentStatus(current)]


def status_changes(current: AppointmentStatus, target: AppointmentStatus, now: datetime,
                   arrived_at: datetime | None) -> dict[str, object]:
    """The columns a move from `current` to `target` sets: the status and the time it was
    entered (a check-in with no arrival time is an arrival too). IllegalTransition when the
    move is not allowed."""
    check_transition(current, target)
    changes: dict[str, object] = {"status": target}
    stamp = _STAMP.get(target)
    if stamp is not None:
        changes[stamp] = now
    if target == S.CHECKED_IN and arrived_at is None:
        changes["arrived_at"] = now
    return changes


def change_status(appointment: Appointment, target: AppointmentStatus, now: datetime) -> None:
    """Move `appointment` to `target`, stamping the time; illegal steps raise IllegalTransition."""
    for name, value in status_changes(appointment.status, target, now,
                                      appointment.arrived_at).items():
        setattr(appointment, name, value)
