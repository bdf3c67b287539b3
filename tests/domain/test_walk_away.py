"""A patient who walks away from the kiosk mid check-in is not left in the queue: the
appointment goes back to where it was, no ticket was given, and the desk sees where they
stopped. Coming back and finishing clears the note."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import (
    AppointmentStatus,
    AuditEvent,
    Channel,
    Flag,
    FlagKind,
    FlagStatus,
    OutboxEvent,
    OutboxMessage,
)
from shared.services import checkin
from shared.services.board import appointments_for_day, open_flags_by_patient
from shared.services.clinic_settings import ClinicSettings
from tests.factories import DEFAULT_START, make_appointment, make_staff_user

CHICAGO = ZoneInfo("America/Chicago")
RULES = ClinicSettings()
START = DEFAULT_START  # 10:00 in Chicago
ARRIVE = START - timedelta(minutes=10)
LEFT = ARRIVE + timedelta(minutes=4)
S = AppointmentStatus


def start(session: Session, appointment_id: int, channel: Channel = Channel.KIOSK):
    return checkin.begin(session, appointment_id, channel=channel, now=ARRIVE, tz=CHICAGO,
                         rules=RULES, kiosk_id="lobby-2")


def left_kiosk_flags(session: Session, appointment_id: int) -> list[Flag]:
    return list(session.scalars(select(Flag).where(
        Flag.appointment_id == appointment_id, Flag.kind == FlagKind.LEFT_KIOSK)
        .order_by(Flag.id)))


def test_walking_away_puts_the_appointment_back_to_booked_with_no_ticket(
        session: Session) -> None:
    appointment = make_appointment(session, start=START)
    started = start(session, appointment.id)
    assert appointment.status == S.ARRIVED

    assert checkin.abandon(session, started.id, LEFT, step="consent") is True

    session.refresh(appointment)
    assert (appointment.status, appointment.arrived_at, appointment.ticket) == (
        S.BOOKED, None, None)
    assert started.abandoned_at == LEFT
    [flag] = left_kiosk_flags(session, appointment.id)
    assert (flag.status, flag.new_value, flag.kiosk_id) == (
        FlagStatus.OPEN, {"step": "consent"}, "lobby-2")
    events = session.scalars(select(OutboxMessage.event).where(
        OutboxMessage.appointment_id == appointment.id).order_by(OutboxMessage.id)).all()
    assert events == [OutboxEvent.ARRIVED, OutboxEvent.BOOKED]
    audit = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "checkin.abandoned")).one()
    assert audit.detail == {"step": "consent", "to_status": "booked"}


def test_the_board_says_where_the_patient_left_the_kiosk(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    stayed = make_appointment(session, start=START)
    checkin.abandon(session, start(session, appointment.id).id, LEFT, step="insurance")
    start(session, stayed.id)

    rows = {r.appointment_id: r for r in appointments_for_day(
        session, START.astimezone(CHICAGO).date(), CHICAGO)}

    assert (rows[appointment.id].status, rows[appointment.id].left_kiosk_at) == (
        S.BOOKED, "insurance")
    assert rows[appointment.id].open_flags == 1
    assert rows[stayed.id].left_kiosk_at is None
    kinds = [f.kind for g in open_flags_by_patient(session) for f in g.flags]
    assert kinds == [FlagKind.LEFT_KIOSK]


def test_a_no_show_who_walks_away_is_a_no_show_again(session: Session) -> None:
    appointment = make_appointment(session, start=START, status=S.NOSHOW)
    started = start(session, appointment.id)

    checkin.abandon(session, started.id, LEFT, step="details")

    session.refresh(appointment)
    assert appointment.status == S.NOSHOW


def test_an_arrival_the_desk_recorded_is_not_undone_by_a_walk_away(session: Session) -> None:
    appointment = make_appointment(session, start=START, status=S.ARRIVED)
    started = start(session, appointment.id)
    assert started.status_before is None

    checkin.abandon(session, started.id, LEFT, step="details")

    session.refresh(appointment)
    assert appointment.status == S.ARRIVED
    assert len(left_kiosk_flags(session, appointment.id)) == 1


def test_coming_back_and_finishing_closes_the_note_and_gives_the_ticket(
        session: Session) -> None:
    appointment = make_appointment(session, start=START)
    checkin.abandon(session, start(session, appointment.id).id, LEFT, step="consent")

    again = start(session, appointment.id)
    done = checkin.complete(session, again.id, now=LEFT + timedelta(minutes=3), tz=CHICAGO,
                            rules=RULES)

    assert (done.status, done.needs_desk, done.ticket) == (S.CHECKED_IN, False, "A001")
    [flag] = left_kiosk_flags(session, appointment.id)
    assert (flag.status, flag.resolution_note) == (FlagStatus.ACCEPTED, "came back and finished")


def test_walking_away_twice_leaves_one_open_note_with_the_latest_step(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    checkin.abandon(session, start(session, appointment.id).id, LEFT, step="details")
    checkin.abandon(session, start(session, appointment.id).id, LEFT + timedelta(minutes=2),
                    step="questions")

    first, second = left_kiosk_flags(session, appointment.id)
    assert (first.status, second.status) == (FlagStatus.ACCEPTED, FlagStatus.OPEN)
    assert second.new_value == {"step": "questions"}


def test_a_finished_or_already_abandoned_check_in_is_not_abandoned_again(
        session: Session) -> None:
    finished = make_appointment(session, start=START)
    done = start(session, finished.id)
    checkin.complete(session, done.id, now=ARRIVE, tz=CHICAGO, rules=RULES)
    walked = make_appointment(session, start=START)
    gone = start(session, walked.id)
    checkin.abandon(session, gone.id, LEFT)

    assert checkin.abandon(session, done.id, LEFT) is False
    assert checkin.abandon(session, gone.id, LEFT + timedelta(minutes=1)) is False
    assert checkin.abandon(session, 999_999, LEFT) is False
    session.refresh(finished)
    assert finished.status == S.CHECKED_IN
    assert left_kiosk_flags(session, finished.id) == []
    assert len(left_kiosk_flags(session, walked.id)) == 1


def test_the_desk_finishing_after_a_walk_away_closes_the_note(session: Session) -> None:
    maya = make_staff_user(session)
    appointment = make_appointment(session, start=START)
    checkin.abandon(session, start(session, appointment.id).id, LEFT, step="appointment")

    desk = checkin.begin(session, appointment.id, channel=Channel.DESK, now=LEFT, tz=CHICAGO,
                         rules=RULES, staff_user_id=maya.id)
    checkin.complete(session, desk.id, now=LEFT, tz=CHICAGO, rules=RULES)

    assert [f.status for f in left_kiosk_flags(session, appointment.id)] == [FlagStatus.ACCEPTED]
    session.refresh(appointment)
    assert (appointment.status, appointment.ticket) == (S.CHECKED_IN, "A001")
