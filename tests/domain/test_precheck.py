"""Pre-check-in at home (issue 16): the three states the desk sees, the appointment left
booked, a pre-check-in left and resumed, and the kiosk's "No, I'm here" on the day."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.models import (
    AppointmentStatus,
    AuditEvent,
    Channel,
    CheckIn,
    FlagKind,
    FlagSeverity,
    OutboxMessage,
)
from shared.services import checkin, flags, precheck, review
from shared.services.clinic_settings import ClinicSettings
from shared.services.precheck import PrecheckClosed, PrecheckState
from tests.factories import DEFAULT_START, make_appointment, make_staff_user

CHICAGO = ZoneInfo("America/Chicago")
RULES = ClinicSettings()
START = DEFAULT_START  # 10:00 in Chicago
THE_DAY_BEFORE = START - timedelta(days=1, hours=2)  # 8:00 the evening before... the day
ARRIVE = START - timedelta(minutes=10)
S = AppointmentStatus


def outbox_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_a_pre_check_in_goes_from_not_opened_to_started_to_done(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    other = make_appointment(session, start=START)
    assert precheck.states(session, [appointment.id, other.id]) == {
        appointment.id: PrecheckState.NOT_OPENED, other.id: PrecheckState.NOT_OPENED}

    started = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    assert precheck.states(session, [appointment.id])[appointment.id] == PrecheckState.STARTED
    assert precheck.done_at(session, appointment.id) is None

    done = precheck.complete(session, started.id, now=THE_DAY_BEFORE + timedelta(minutes=6))
    assert done.start == START
    assert precheck.states(session, [appointment.id, other.id]) == {
        appointment.id: PrecheckState.DONE, other.id: PrecheckState.NOT_OPENED}
    assert precheck.done_at(session, appointment.id) == THE_DAY_BEFORE + timedelta(minutes=6)
    assert precheck.states(session, []) == {}


def test_a_pre_check_in_leaves_the_appointment_booked_with_no_ticket_and_no_message(
        session: Session) -> None:
    appointment = make_appointment(session, start=START)
    before = outbox_count(session)
    started = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    precheck.complete(session, started.id, now=THE_DAY_BEFORE)
    session.refresh(appointment)
    assert (appointment.status, appointment.arrived_at, appointment.ticket) == (
        S.BOOKED, None, None)
    # Nobody arrived: the practice system hears nothing.
    assert outbox_count(session) == before
    assert (started.channel, started.kiosk_id) == (Channel.HOME, precheck.HOME_KIOSK_ID)
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.record_id == appointment.id).order_by(AuditEvent.id)).all()
    assert actions == ["precheck.started", "precheck.completed"]


def test_a_pre_check_in_left_halfway_is_resumed_where_it_was(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    first = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    checkin.mark_step(session, first.id, "insurance", THE_DAY_BEFORE)
    session.expire_all()

    again = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE + timedelta(hours=3))
    assert again.id == first.id
    assert again.last_step == "insurance"


def test_a_done_pre_check_in_opened_again_stays_done_for_the_desk(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    first = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    precheck.complete(session, first.id, now=THE_DAY_BEFORE)

    second = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE + timedelta(hours=1))
    assert second.id != first.id
    assert precheck.states(session, [appointment.id])[appointment.id] == PrecheckState.DONE


@pytest.mark.parametrize("case", ["started", "cancelled", "arrived", "checked_in"])
def test_a_pre_check_in_is_closed_once_the_visit_starts_is_cancelled_or_the_patient_is_here(
        session: Session, case: str) -> None:
    status = {"started": S.BOOKED, "cancelled": S.CANCELLED, "arrived": S.ARRIVED,
              "checked_in": S.CHECKED_IN}[case]
    appointment = make_appointment(session, start=START, status=status)
    now = START + timedelta(minutes=1) if case == "started" else THE_DAY_BEFORE
    with pytest.raises(PrecheckClosed) as refused:
        precheck.begin(session, appointment.id, now=now)
    assert refused.value.key == "precheck.closed"


def test_at_the_kiosk_a_done_pre_check_in_takes_one_answer_and_gives_the_ticket(
        session: Session) -> None:
    appointment = make_appointment(session, start=START)
    home = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    precheck.complete(session, home.id, now=THE_DAY_BEFORE)

    done = precheck.arrive(session, appointment.id, channel=Channel.KIOSK, now=ARRIVE,
                           tz=CHICAGO, rules=RULES, kiosk_id="lobby-1")

    session.refresh(appointment)
    assert (done.status, done.needs_desk) == (S.CHECKED_IN, False)
    assert done.ticket is not None and appointment.ticket == done.ticket
    assert appointment.arrived_at == ARRIVE
    kiosk = session.scalars(select(CheckIn).where(
        CheckIn.appointment_id == appointment.id, CheckIn.channel == Channel.KIOSK)).one()
    assert kiosk.completed_at == ARRIVE and kiosk.appointment_confirmed_at == ARRIVE


def test_something_reported_at_home_still_sends_the_patient_to_the_desk(
        session: Session) -> None:
    appointment = make_appointment(session, start=START)
    home = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    flags.raise_flag(session, kind=FlagKind.INSURANCE_CHANGE, severity=FlagSeverity.WARNING,
                     now=THE_DAY_BEFORE, patient_id=appointment.patient_id,
                     appointment_id=appointment.id, kiosk_id=precheck.HOME_KIOSK_ID)
    precheck.complete(session, home.id, now=THE_DAY_BEFORE)

    done = precheck.arrive(session, appointment.id, channel=Channel.KIOSK, now=ARRIVE,
                           tz=CHICAGO, rules=RULES, kiosk_id="lobby-1")
    assert (done.status, done.needs_desk) == (S.ARRIVED, True)


def test_no_im_here_without_a_done_pre_check_in(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)  # started, not done
    with pytest.raises(PrecheckClosed):
        precheck.arrive(session, appointment.id, channel=Channel.KIOSK, now=ARRIVE,
                        tz=CHICAGO, rules=RULES)
    session.refresh(appointment)
    assert appointment.status == S.BOOKED


def test_the_kiosk_never_resumes_or_counts_a_pre_check_in_as_its_own(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    home = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)  # left unfinished

    at_kiosk = checkin.begin(session, appointment.id, channel=Channel.KIOSK, now=ARRIVE,
                             tz=CHICAGO, rules=RULES, kiosk_id="lobby-1")
    assert at_kiosk.id != home.id and at_kiosk.channel == Channel.KIOSK
    # A finished pre-check-in does not make the kiosk say "already checked in" either.
    precheck.complete(session, home.id, now=THE_DAY_BEFORE)
    again = checkin.begin(session, appointment.id, channel=Channel.KIOSK, now=ARRIVE,
                          tz=CHICAGO, rules=RULES, kiosk_id="lobby-1")
    assert again.id == at_kiosk.id


def test_clearing_the_last_flag_does_not_check_in_a_patient_who_finished_only_at_home(
        session: Session) -> None:
    appointment = make_appointment(session, start=START)
    home = precheck.begin(session, appointment.id, now=THE_DAY_BEFORE)
    flag = flags.raise_flag(session, kind=FlagKind.URGENT_ANSWER,
                            severity=FlagSeverity.URGENT, now=THE_DAY_BEFORE,
                            patient_id=appointment.patient_id, appointment_id=appointment.id,
                            kiosk_id=precheck.HOME_KIOSK_ID)
    precheck.complete(session, home.id, now=THE_DAY_BEFORE)
    # The patient arrived at the kiosk and is still on its steps.
    checkin.begin(session, appointment.id, channel=Channel.KIOSK, now=ARRIVE, tz=CHICAGO,
                  rules=RULES, kiosk_id="lobby-1")
    staff = make_staff_user(session)
    review.accept_flag(session, flag.id, staff_user_id=staff.id, now=ARRIVE,
                       day=START.astimezone(CHICAGO).date())
    session.refresh(appointment)
    assert appointment.status == S.ARRIVED
