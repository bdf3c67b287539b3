"""Which step of a visit may follow which, the times each step stamps, and two desks at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shared.errors import IllegalTransition
from shared.models import Appointment, AppointmentStatus
from shared.services.appointments import change_status, check_transition, is_allowed
from tests.factories import make_appointment

S = AppointmentStatus

# Written out here on purpose, independent of ALLOWED_TRANSITIONS in the implementation:
# forward steps of a visit plus the backward steps the desk uses to undo a mistake.
EXPECTED_NEXT: dict[str, set[str]] = {
    "booked": {"arrived", "checked-in", "noshow", "cancelled"},
    "arrived": {"checked-in", "in-room", "booked", "cancelled"},
    "checked-in": {"in-room", "fulfilled", "arrived", "cancelled"},
    "in-room": {"fulfilled", "checked-in"},
    "fulfilled": {"in-room"},
    "noshow": {"booked", "arrived"},
    "cancelled": {"booked"},
}

ALL_PAIRS = list(product(AppointmentStatus, repeat=2))

NOW = datetime(2026, 6, 15, 15, 5, tzinfo=UTC)


def test_the_expected_table_names_every_status() -> None:
    assert set(EXPECTED_NEXT) == {s.value for s in AppointmentStatus}
    assert len(ALL_PAIRS) == 49


@pytest.mark.parametrize(
    ("current", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS]
)
def test_each_status_change_is_allowed_or_refused_as_the_clinic_expects(
    current: AppointmentStatus, target: AppointmentStatus
) -> None:
    legal = target.value in EXPECTED_NEXT[current.value]
    assert is_allowed(current, target) is legal
    if legal:
        check_transition(current, target)
        return
    with pytest.raises(IllegalTransition) as refused:
        check_transition(current, target)
    message = str(refused.value)
    assert current.value in message
    assert target.value in message
    if current == target:
        assert refused.value.key == "error.already_in_status"
    else:
        assert refused.value.key == "error.illegal_transition"


def test_completing_a_patient_who_never_arrived_is_refused() -> None:
    with pytest.raises(IllegalTransition, match=r"booked.*fulfilled"):
        check_transition(S.BOOKED, S.FULFILLED)


def test_a_cancelled_visit_cannot_be_checked_in_without_rebooking() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(S.CANCELLED, S.CHECKED_IN)
    check_transition(S.CANCELLED, S.BOOKED)


def test_status_values_given_as_plain_strings_are_checked_the_same_way() -> None:
    check_transition("booked", "checked-in")
    with pytest.raises(IllegalTransition):
        check_transition("fulfilled", "booked")


# --- change_status on a saved appointment --------------------------------------------------


def _reload(session: Session, appointment_id: int) -> Appointment:
    with Session(session.get_bind()) as fresh:
        row = fresh.get(Appointment, appointment_id)
        assert row is not None
        fresh.expunge(row)
        return row


@pytest.mark.parametrize(
    ("start_status", "target", "stamp"),
    [
        (S.BOOKED, S.ARRIVED, "arrived_at"),
        (S.ARRIVED, S.CHECKED_IN, "checked_in_at"),
        (S.CHECKED_IN, S.IN_ROOM, "in_room_at"),
        (S.IN_ROOM, S.FULFILLED, "completed_at"),
        (S.BOOKED, S.CANCELLED, "cancelled_at"),
    ],
    ids=["arrived", "checked-in", "in-room", "fulfilled", "cancelled"],
)
def test_each_step_of_a_visit_stamps_its_time(
    session: Session, start_status: AppointmentStatus, target: AppointmentStatus, stamp: str
) -> None:
    appointment = make_appointment(session, status=start_status)
    session.commit()

    change_status(appointment, target, NOW)
    session.commit()

    saved = _reload(session, appointment.id)
    assert saved.status == target
    assert getattr(saved, stamp) == NOW


def test_checking_in_a_patient_nobody_marked_arrived_also_stamps_the_arrival(
    session: Session,
) -> None:
    appointment = make_appointment(session, status=S.BOOKED)
    session.commit()

    change_status(appointment, S.CHECKED_IN, NOW)
    session.commit()

    saved = _reload(session, appointment.id)
    assert saved.checked_in_at == NOW
    assert saved.arrived_at == NOW


def test_checking_in_a_patient_who_arrived_earlier_keeps_the_arrival_time(
    session: Session,
) -> None:
    arrived = NOW - timedelta(minutes=12)
    appointment = make_appointment(session, status=S.BOOKED)
    change_status(appointment, S.ARRIVED, arrived)
    session.commit()

    change_status(appointment, S.CHECKED_IN, NOW)
    session.commit()

    saved = _reload(session, appointment.id)
    assert saved.arrived_at == arrived
    assert saved.checked_in_at == NOW


def test_marking_a_no_show_stamps_no_visit_time(session: Session) -> None:
    appointment = make_appointment(session, status=S.BOOKED)
    change_status(appointment, S.NOSHOW, NOW)
    session.commit()

    saved = _reload(session, appointment.id)
    assert saved.status == S.NOSHOW
    stamps = ("arrived_at", "checked_in_at", "in_room_at", "completed_at", "cancelled_at")
    assert all(getattr(saved, name) is None for name in stamps)


def test_a_refused_step_leaves_the_appointment_as_it_was(session: Session) -> None:
    appointment = make_appointment(session, status=S.BOOKED)
    session.commit()

    with pytest.raises(IllegalTransition):
        change_status(appointment, S.FULFILLED, NOW)

    assert appointment.status == S.BOOKED
    assert appointment.completed_at is None
    assert appointment not in session.dirty


# --- optimistic concurrency -----------------------------------------------------------------


def test_each_saved_change_bumps_the_appointment_version(session: Session) -> None:
    appointment = make_appointment(session)
    session.commit()
    assert appointment.version == 1

    change_status(appointment, S.ARRIVED, NOW)
    session.commit()
    assert appointment.version == 2

    change_status(appointment, S.CHECKED_IN, NOW + timedelta(minutes=3))
    session.commit()
    assert _reload(session, appointment.id).version == 3


def test_two_representatives_changing_one_appointment_at_once_cannot_both_win(
    engine, session: Session
) -> None:
    appointment_id = make_appointment(session).id
    session.commit()

    with Session(engine) as desk_a, Session(engine) as desk_b:
        seen_by_a = desk_a.get(Appointment, appointment_id)
        seen_by_b = desk_b.get(Appointment, appointment_id)
        assert seen_by_a is not None and seen_by_b is not None
        assert seen_by_a.version == seen_by_b.version == 1

        change_status(seen_by_a, S.ARRIVED, NOW)
        desk_a.commit()

        change_status(seen_by_b, S.CANCELLED, NOW + timedelta(seconds=5))
        with pytest.raises(StaleDataError):
            desk_b.commit()
        desk_b.rollback()

    saved = _reload(session, appointment_id)
    assert saved.status == S.ARRIVED
    assert saved.cancelled_at is None
    assert saved.version == 2
