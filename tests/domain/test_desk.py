"""The desk's actions on a waiting patient: call to a room, in room, visit complete, no-show,
cancel, move in the line, undo the last step once; and two representatives acting on the
same patient at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.errors import IllegalTransition
from shared.models import Appointment, AppointmentStatus, AuditEvent, StaffUser
from shared.services import desk
from shared.services.clinic_settings import ClinicSettings
from shared.services.desk import CANCEL_REASONS, ConcurrentAction, DeskRefused
from tests.factories import DEFAULT_START, make_appointment, make_staff_user
from tests.races import at_once

S = AppointmentStatus
RULES = ClinicSettings()  # 15 minutes' grace
START = DEFAULT_START  # 10:00 in Chicago
NOW = START + timedelta(minutes=3)
WAITING = [S.ARRIVED, S.CHECKED_IN]


def waiting_patient(session: Session, status: AppointmentStatus = S.CHECKED_IN,
                    **overrides: object) -> Appointment:
    fields: dict[str, object] = {"arrived_at": START - timedelta(minutes=10)}
    if status == S.CHECKED_IN:
        fields["checked_in_at"] = START - timedelta(minutes=8)
    fields.update(overrides)
    return make_appointment(session, status=status, **fields)


def desk_events(session: Session, appointment: Appointment) -> list[AuditEvent]:
    session.flush()
    return list(session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "appointment", AuditEvent.record_id == appointment.id)
        .order_by(AuditEvent.id)
    ))


@pytest.fixture
def maya(session: Session) -> StaffUser:
    return make_staff_user(session, "Maya Chen")


# --- Calling a patient to a room -----------------------------------------------------------------


@pytest.mark.parametrize("status", WAITING, ids=str)
def test_a_waiting_patient_is_called_to_a_room(
    session: Session, maya: StaffUser, status: AppointmentStatus
) -> None:
    appointment = waiting_patient(session, status)

    desk.call_to_room(session, appointment.id, "  Exam   room 4 ", staff_user_id=maya.id,
                      now=NOW)

    assert (appointment.called_at, appointment.room) == (NOW, "Exam room 4")
    assert appointment.status == status  # called, not yet in the room


def test_a_booked_patient_who_is_not_here_cannot_be_called(
    session: Session, maya: StaffUser
) -> None:
    appointment = make_appointment(session)

    with pytest.raises(DeskRefused) as refused:
        desk.call_to_room(session, appointment.id, "Exam room 4", staff_user_id=maya.id,
                          now=NOW)

    assert refused.value.key == "desk.not_waiting"
    assert appointment.called_at is None


def test_calling_a_patient_needs_a_room(session: Session, maya: StaffUser) -> None:
    appointment = waiting_patient(session)

    with pytest.raises(DeskRefused) as refused:
        desk.call_to_room(session, appointment.id, "   ", staff_user_id=maya.id, now=NOW)

    assert refused.value.key == "desk.room_required"
    assert (appointment.called_at, appointment.room) == (None, None)


def test_an_appointment_that_does_not_exist_is_refused(session: Session, maya: StaffUser) -> None:
    with pytest.raises(DeskRefused) as refused:
        desk.mark_in_room(session, 987654, staff_user_id=maya.id, now=NOW)
    assert refused.value.key == "desk.not_found"


# --- In the room, visit complete -----------------------------------------------------------------


def test_a_checked_in_patient_goes_into_the_room(session: Session, maya: StaffUser) -> None:
    appointment = waiting_patient(session)

    desk.mark_in_room(session, appointment.id, staff_user_id=maya.id, now=NOW)

    assert appointment.status == S.IN_ROOM
    assert appointment.in_room_at == NOW


def test_a_patient_in_the_room_has_their_visit_completed(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session, S.IN_ROOM, in_room_at=NOW)
    done = NOW + timedelta(minutes=20)

    desk.complete_visit(session, appointment.id, staff_user_id=maya.id, now=done)

    assert appointment.status == S.FULFILLED
    assert appointment.completed_at == done


def test_a_booked_patient_who_never_came_cannot_have_a_completed_visit(
    session: Session, maya: StaffUser
) -> None:
    appointment = make_appointment(session)

    with pytest.raises(IllegalTransition) as refused:
        desk.complete_visit(session, appointment.id, staff_user_id=maya.id, now=NOW)

    assert str(refused.value) == "An appointment that is booked cannot become fulfilled."
    assert refused.value.params == {"current": "booked", "target": "fulfilled"}
    assert appointment.status == S.BOOKED
    assert appointment.completed_at is None
    assert desk_events(session, appointment) == []


# --- No-show -------------------------------------------------------------------------------------


def test_a_booked_patient_is_not_a_no_show_before_the_grace_period_ends(
    session: Session, maya: StaffUser
) -> None:
    appointment = make_appointment(session, start=START)

    with pytest.raises(DeskRefused) as refused:
        desk.mark_no_show(session, appointment.id, staff_user_id=maya.id,
                          now=START + timedelta(minutes=14, seconds=59), rules=RULES)

    assert refused.value.key == "desk.noshow_too_soon"
    assert refused.value.params == {"minutes": 15}
    assert appointment.status == S.BOOKED


@pytest.mark.parametrize("after", [timedelta(minutes=15), timedelta(hours=2)], ids=str)
def test_a_booked_patient_becomes_a_no_show_once_the_grace_period_is_over(
    session: Session, maya: StaffUser, after: timedelta
) -> None:
    appointment = make_appointment(session, start=START)

    desk.mark_no_show(session, appointment.id, staff_user_id=maya.id, now=START + after,
                      rules=RULES)

    assert appointment.status == S.NOSHOW


def test_the_clinics_own_grace_period_decides_when_a_no_show_may_be_marked(
    session: Session, maya: StaffUser
) -> None:
    appointment = make_appointment(session, start=START)
    strict = ClinicSettings(grace_minutes=5)

    desk.mark_no_show(session, appointment.id, staff_user_id=maya.id,
                      now=START + timedelta(minutes=6), rules=strict)

    assert appointment.status == S.NOSHOW


# --- Cancel --------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["", "because", "Patient_Request"])
def test_cancelling_needs_one_of_the_clinics_reasons(
    session: Session, maya: StaffUser, code: str
) -> None:
    appointment = waiting_patient(session)

    with pytest.raises(DeskRefused) as refused:
        desk.cancel(session, appointment.id, reason_code=code, staff_user_id=maya.id, now=NOW)

    assert refused.value.key == "desk.reason_required"
    assert appointment.status == S.CHECKED_IN


@pytest.mark.parametrize("code", CANCEL_REASONS)
def test_a_cancellation_keeps_its_reason_code(
    session: Session, maya: StaffUser, code: str
) -> None:
    appointment = make_appointment(session)

    desk.cancel(session, appointment.id, reason_code=code, staff_user_id=maya.id, now=NOW)

    assert appointment.status == S.CANCELLED
    assert appointment.cancelled_at == NOW
    (event,) = desk_events(session, appointment)
    assert event.detail == {"from_status": "booked", "to_status": "cancelled",
                            "reason_code": code}


# --- Moving a patient in the line ----------------------------------------------------------------


def test_a_waiting_patient_is_moved_earlier_with_a_reason(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session, S.ARRIVED)

    desk.move_in_queue(session, appointment.id, minutes_earlier=20,
                       reason="  Needs   a wheelchair room ", staff_user_id=maya.id, now=NOW)
    desk.move_in_queue(session, appointment.id, minutes_earlier=-5, reason="Room not ready",
                       staff_user_id=maya.id, now=NOW)

    assert appointment.queue_shift_minutes == 15
    assert appointment.queue_note == "Room not ready"
    assert [e.detail for e in desk_events(session, appointment)] == [
        {"count": 20}, {"count": -5},
    ]


@pytest.mark.parametrize("reason", ["", "   ", "ok"])
def test_moving_a_patient_needs_a_reason(session: Session, maya: StaffUser, reason: str) -> None:
    appointment = waiting_patient(session)

    with pytest.raises(DeskRefused) as refused:
        desk.move_in_queue(session, appointment.id, minutes_earlier=10, reason=reason,
                           staff_user_id=maya.id, now=NOW)

    assert refused.value.key == "desk.reason_required"
    assert appointment.queue_shift_minutes == 0


@pytest.mark.parametrize("minutes", [0, 241, -241, 1000])
def test_a_move_is_by_one_to_240_minutes_either_way(
    session: Session, maya: StaffUser, minutes: int
) -> None:
    appointment = waiting_patient(session)

    with pytest.raises(DeskRefused) as refused:
        desk.move_in_queue(session, appointment.id, minutes_earlier=minutes,
                           reason="Interpreter arrives late", staff_user_id=maya.id, now=NOW)

    assert refused.value.key == "desk.move_minutes"
    assert appointment.queue_shift_minutes == 0


@pytest.mark.parametrize("minutes", [240, -240, 1, -1])
def test_the_limits_of_a_move_are_allowed(
    session: Session, maya: StaffUser, minutes: int
) -> None:
    appointment = waiting_patient(session)

    desk.move_in_queue(session, appointment.id, minutes_earlier=minutes,
                       reason="Interpreter arrives late", staff_user_id=maya.id, now=NOW)

    assert appointment.queue_shift_minutes == minutes


@pytest.mark.parametrize("status", [S.BOOKED, S.IN_ROOM, S.FULFILLED, S.CANCELLED, S.NOSHOW],
                         ids=str)
def test_only_a_waiting_patient_can_be_moved(
    session: Session, maya: StaffUser, status: AppointmentStatus
) -> None:
    appointment = make_appointment(session, status=status)

    with pytest.raises(DeskRefused) as refused:
        desk.move_in_queue(session, appointment.id, minutes_earlier=10,
                           reason="Interpreter arrives late", staff_user_id=maya.id, now=NOW)

    assert refused.value.key == "desk.not_waiting"


# --- Undo ----------------------------------------------------------------------------------------


def test_undo_takes_a_patient_back_out_of_the_room_once(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session)
    checked_in_at = appointment.checked_in_at
    desk.mark_in_room(session, appointment.id, staff_user_id=maya.id, now=NOW)

    desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW + timedelta(minutes=1))

    assert appointment.status == S.CHECKED_IN
    assert appointment.in_room_at is None
    assert appointment.checked_in_at == checked_in_at
    with pytest.raises(DeskRefused) as refused:
        desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)
    assert refused.value.key == "desk.nothing_to_undo"
    assert appointment.status == S.CHECKED_IN


def test_undo_after_a_cancellation_restores_the_status_before_it(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session, S.ARRIVED)
    desk.cancel(session, appointment.id, reason_code="duplicate", staff_user_id=maya.id,
                now=NOW)

    desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)

    assert appointment.status == S.ARRIVED
    assert appointment.cancelled_at is None
    assert appointment.arrived_at == START - timedelta(minutes=10)


def test_undo_after_a_completed_visit_puts_the_patient_back_in_the_room(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session)
    desk.mark_in_room(session, appointment.id, staff_user_id=maya.id, now=NOW)
    desk.complete_visit(session, appointment.id, staff_user_id=maya.id, now=NOW)

    desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)

    assert appointment.status == S.IN_ROOM
    assert appointment.in_room_at == NOW
    assert appointment.completed_at is None
    with pytest.raises(DeskRefused):  # only the last step: the room is not undone too
        desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)


def test_undo_after_a_no_show_makes_the_patient_booked_again(
    session: Session, maya: StaffUser
) -> None:
    appointment = make_appointment(session, start=START)
    desk.mark_no_show(session, appointment.id, staff_user_id=maya.id,
                      now=START + timedelta(minutes=30), rules=RULES)

    desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)

    assert appointment.status == S.BOOKED


def test_there_is_nothing_to_undo_before_the_desk_did_anything(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session)
    desk.move_in_queue(session, appointment.id, minutes_earlier=10, reason="Interpreter here",
                       staff_user_id=maya.id, now=NOW)

    for fresh in (waiting_patient(session), appointment):
        with pytest.raises(DeskRefused) as refused:
            desk.undo_last(session, fresh.id, staff_user_id=maya.id, now=NOW)
        assert refused.value.key == "desk.nothing_to_undo"


def test_undo_takes_back_a_call_to_a_room_once(session: Session, maya: StaffUser) -> None:
    appointment = waiting_patient(session)
    desk.call_to_room(session, appointment.id, "Exam room 2", staff_user_id=maya.id, now=NOW)

    desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW + timedelta(minutes=2))

    assert (appointment.status, appointment.called_at, appointment.room) == (
        S.CHECKED_IN, None, None)
    assert [e.action for e in desk_events(session, appointment)] == [
        "desk.called", "undo.called"]
    with pytest.raises(DeskRefused) as refused:
        desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)
    assert refused.value.key == "desk.nothing_to_undo"
    # Called again, to the right room this time.
    desk.call_to_room(session, appointment.id, "Exam room 5", staff_user_id=maya.id, now=NOW)
    assert appointment.room == "Exam room 5"


def test_an_undo_comes_within_minutes_and_from_the_same_person_or_a_manager(
    session: Session, maya: StaffUser
) -> None:
    sam = make_staff_user(session, "Sam Ortiz")
    appointment = make_appointment(session, start=START)
    late = START + timedelta(minutes=30)
    desk.mark_no_show(session, appointment.id, staff_user_id=maya.id, now=late, rules=RULES)

    with pytest.raises(DeskRefused) as not_yours:
        desk.undo_last(session, appointment.id, staff_user_id=sam.id, now=late)
    assert (not_yours.value.key, not_yours.value.params) == (
        "desk.undo_not_yours", {"who": "Maya Chen"})
    with pytest.raises(DeskRefused) as too_late:
        desk.undo_last(session, appointment.id, staff_user_id=maya.id,
                       now=late + desk.UNDO_WINDOW + timedelta(seconds=1))
    assert (too_late.value.key, too_late.value.params) == ("desk.undo_too_late", {"minutes": 5})
    assert appointment.status == S.NOSHOW

    desk.undo_last(session, appointment.id, staff_user_id=sam.id, now=late, manager=True)
    assert appointment.status == S.BOOKED


# --- Every action is audited ---------------------------------------------------------------------


ACTIONS: dict[str, tuple[AppointmentStatus, Callable[..., Appointment], dict[str, object]]] = {
    "desk.called": (S.CHECKED_IN, desk.call_to_room, {"room": "Exam room 4"}),
    "desk.in_room": (S.CHECKED_IN, desk.mark_in_room, {}),
    "desk.completed": (S.IN_ROOM, desk.complete_visit, {}),
    "desk.noshow": (S.BOOKED, desk.mark_no_show, {"rules": RULES}),
    "desk.cancelled": (S.BOOKED, desk.cancel, {"reason_code": "rescheduled"}),
    "desk.moved": (S.ARRIVED, desk.move_in_queue,
                   {"minutes_earlier": 10, "reason": "Interpreter arrives late"}),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_desk_action_is_audited_with_who_and_which_appointment(
    session: Session, maya: StaffUser, action: str
) -> None:
    status, act, kwargs = ACTIONS[action]
    appointment = make_appointment(session, status=status, start=START)
    later = START + timedelta(minutes=40)

    act(session, appointment.id, staff_user_id=maya.id, now=later, **kwargs)

    (event,) = desk_events(session, appointment)
    assert (event.action, event.actor_type, event.actor_id, event.at) == (
        action, "staff", str(maya.id), later,
    )
    assert set(event.detail or {}) <= {"from_status", "to_status", "reason_code", "count"}


def test_an_undo_is_audited_with_the_statuses_it_went_between(
    session: Session, maya: StaffUser
) -> None:
    appointment = waiting_patient(session)
    desk.mark_in_room(session, appointment.id, staff_user_id=maya.id, now=NOW)
    desk.undo_last(session, appointment.id, staff_user_id=maya.id, now=NOW)

    assert [(e.action, e.detail) for e in desk_events(session, appointment)] == [
        ("desk.in_room", {"from_status": "checked-in", "to_status": "in-room"}),
        ("undo.status", {"from_status": "in-room", "to_status": "checked-in"}),
    ]


# --- Two representatives at once -----------------------------------------------------------------


def two_representatives(session: Session) -> tuple[StaffUser, StaffUser, Appointment]:
    maya = make_staff_user(session, "Maya Chen")
    jonas = make_staff_user(session, "Jonas Park")
    appointment = waiting_patient(session)
    session.commit()
    return maya, jonas, appointment


def test_the_second_of_two_representatives_is_told_who_moved_the_patient_first(
    session: Session, engine: Engine
) -> None:
    """Both screens show version 1; both load the appointment; Maya's click lands first."""
    maya, jonas, appointment = two_representatives(session)

    with Session(engine) as desk_a, Session(engine) as desk_b:
        shown = [d.get(Appointment, appointment.id) for d in (desk_a, desk_b)]
        assert [a.version for a in shown if a is not None] == [1, 1]
        desk.mark_in_room(desk_a, appointment.id, staff_user_id=maya.id, now=NOW,
                          expected_version=1)
        desk_a.commit()

        with pytest.raises(ConcurrentAction) as refused:
            desk.cancel(desk_b, appointment.id, reason_code="patient_request",
                        staff_user_id=jonas.id, now=NOW, expected_version=1)
        desk_b.rollback()

    assert refused.value.key == "desk.concurrent"
    assert refused.value.params == {"who": "Maya Chen", "action": "desk.in_room"}
    with Session(engine) as fresh:
        final = fresh.get(Appointment, appointment.id)
        assert final is not None
        assert (final.status, final.version, final.cancelled_at) == (S.IN_ROOM, 2, None)
        assert [e.action for e in desk_events(fresh, appointment)] == ["desk.in_room"]


def test_a_screen_showing_an_old_version_is_refused_before_anything_is_written(
    session: Session, engine: Engine
) -> None:
    """Jonas's screen still shows version 1 after Maya called the patient."""
    maya, jonas, appointment = two_representatives(session)

    with Session(engine) as desk_a:
        desk.call_to_room(desk_a, appointment.id, "Exam room 3", staff_user_id=maya.id,
                          now=NOW, expected_version=1)
        desk_a.commit()
    with Session(engine) as desk_b, pytest.raises(ConcurrentAction) as refused:
        desk.call_to_room(desk_b, appointment.id, "Exam room 5", staff_user_id=jonas.id,
                          now=NOW, expected_version=1)

    # Told who called the patient, and where.
    assert (refused.value.key, refused.value.params) == (
        "desk.already_called", {"who": "Maya Chen", "room": "Exam room 3"})
    with Session(engine) as fresh:
        final = fresh.get(Appointment, appointment.id)
        assert final is not None
        assert final.room == "Exam room 3"
        assert [e.actor_id for e in desk_events(fresh, appointment)] == [str(maya.id)]


def test_the_same_representative_acting_on_the_current_version_is_not_refused(
    session: Session, engine: Engine
) -> None:
    maya, _, appointment = two_representatives(session)

    with Session(engine) as desk_a:
        desk.mark_in_room(desk_a, appointment.id, staff_user_id=maya.id, now=NOW,
                          expected_version=1)
        desk_a.commit()
    with Session(engine) as desk_a:
        desk.complete_visit(desk_a, appointment.id, staff_user_id=maya.id, now=NOW,
                            expected_version=2)
        desk_a.commit()

    with Session(engine) as fresh:
        final = fresh.get(Appointment, appointment.id)
        assert final is not None
        assert (final.status, final.version) == (S.FULFILLED, 3)


def test_at_most_one_undo_wins_when_two_representatives_undo_at_once(
    session: Session, engine: Engine
) -> None:
    maya, jonas, appointment = two_representatives(session)
    desk.mark_in_room(session, appointment.id, staff_user_id=maya.id, now=NOW)
    session.commit()

    with Session(engine) as desk_a, Session(engine) as desk_b:
        shown = [d.get(Appointment, appointment.id) for d in (desk_a, desk_b)]
        assert [a.version for a in shown if a is not None] == [2, 2]
        desk.undo_last(desk_a, appointment.id, staff_user_id=maya.id, now=NOW,
                       expected_version=2)
        desk_a.commit()
        with pytest.raises(ConcurrentAction) as refused:
            desk.undo_last(desk_b, appointment.id, staff_user_id=jonas.id, now=NOW,
                           expected_version=2)
        desk_b.rollback()

    assert refused.value.params == {"who": "Maya Chen", "action": "undo.status"}
    with Session(engine) as fresh:
        final = fresh.get(Appointment, appointment.id)
        assert final is not None
        assert final.status == S.CHECKED_IN
        assert [e.action for e in desk_events(fresh, appointment)] == [
            "desk.in_room", "undo.status",
        ]


def test_timestamps_are_kept_as_the_instants_given(session: Session, maya: StaffUser) -> None:
    appointment = waiting_patient(session)
    local = datetime.fromisoformat("2026-06-15T10:04:00-05:00")

    desk.mark_in_room(session, appointment.id, staff_user_id=maya.id, now=local)
    session.commit()
    session.expire_all()

    assert session.get(Appointment, appointment.id).in_room_at == START + timedelta(minutes=4)


def test_a_screen_that_refreshed_after_the_call_cannot_send_the_patient_to_another_room(
    session: Session, engine: Engine
) -> None:
    """Jonas's board refreshed after Maya's call (it shows version 2), and he calls to room 6."""
    maya, jonas, appointment = two_representatives(session)
    with Session(engine) as desk_a:
        desk.call_to_room(desk_a, appointment.id, "Room 5", staff_user_id=maya.id, now=NOW,
                          expected_version=1)
        desk_a.commit()

    with Session(engine) as desk_b, pytest.raises(ConcurrentAction) as refused:
        desk.call_to_room(desk_b, appointment.id, "Room 6", staff_user_id=jonas.id, now=NOW,
                          expected_version=2)

    assert refused.value.key == "desk.already_called"
    assert refused.value.params == {"who": "Maya Chen", "room": "Room 5"}
    with Session(engine) as fresh:
        assert fresh.get(Appointment, appointment.id).room == "Room 5"


def test_twelve_screens_calling_one_patient_to_different_rooms_at_once_have_one_winner(
    session: Session, engine: Engine
) -> None:
    staff = [make_staff_user(session, f"Rep {n}", username=f"caller{n}")
             for n in range(12)]
    appointment = waiting_patient(session)
    session.commit()
    staff_ids, appointment_id = [s.id for s in staff], appointment.id

    def call(n: int) -> str:
        with session_scope(engine) as screen:
            desk.call_to_room(screen, appointment_id, f"Room {n}", staff_user_id=staff_ids[n],
                              now=NOW, expected_version=1)
        return f"Room {n}"

    outcome = at_once(12, call)

    assert len(outcome.results) == 1
    assert len(outcome.errors) == 11
    assert all(isinstance(e, ConcurrentAction) for e in outcome.errors)
    # Each of the others is told who called the patient, and where.
    winner = int(outcome.results[0].split()[-1])
    assert {(e.key, e.params["who"], e.params["room"]) for e in outcome.errors} == {
        ("desk.already_called", f"Rep {winner}", outcome.results[0])}
    with Session(engine) as fresh:
        final = fresh.get(Appointment, appointment_id)
        assert (final.room, final.version) == (outcome.results[0], 2)
        assert [e.action for e in desk_events(fresh, final)] == ["desk.called"]
