"""Pre-check-in at home (issue 16): the three states the desk sees, the appointment left
booked, a pre-check-in left and resumed, and the kiosk's "No, I'm here" on the day."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shared.db import run_transaction, session_scope
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    CheckIn,
    FlagKind,
    FlagSeverity,
    OutboxMessage,
)
from shared.services import checkin, desk, flags, precheck, review
from shared.services.clinic_settings import ClinicSettings
from shared.services.precheck import PrecheckClosed, PrecheckState
from tests.factories import DEFAULT_START, make_appointment, make_staff_user
from tests.races import at_once

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


# --- The lobby code and "I'm here" on the phone ----------------------------------------------

SECRET = "test-secret-key-of-the-clinic"
NO_CODE_RULES = ClinicSettings(arrive_without_lobby_code=True)


def _done_at_home(session: Session, appointment_id: int) -> None:
    home = precheck.begin(session, appointment_id, now=THE_DAY_BEFORE)
    precheck.complete(session, home.id, now=THE_DAY_BEFORE)


def test_the_lobby_code_is_valid_now_and_just_after_it_changes_and_never_later() -> None:
    code = precheck.lobby_code(SECRET, ARRIVE)
    assert precheck.lobby_code_valid(code, SECRET, ARRIVE)
    period = timedelta(seconds=precheck.LOBBY_PERIOD_S)
    assert precheck.lobby_code_valid(code, SECRET, ARRIVE + period)  # read as it changed
    assert not precheck.lobby_code_valid(code, SECRET, ARRIVE + 2 * period)
    # Yesterday's screen, photographed: refused today.
    yesterday = precheck.lobby_code(SECRET, ARRIVE - timedelta(days=1))
    assert not precheck.lobby_code_valid(yesterday, SECRET, ARRIVE)
    # A code from the future (a clock skewed on purpose) is not accepted either.
    assert not precheck.lobby_code_valid(precheck.lobby_code(SECRET, ARRIVE + 2 * period),
                                         SECRET, ARRIVE)


@pytest.mark.parametrize("code", [
    "", "LOBBY1", "LOBBY1.x.y", "LOBBY2.1.abc", "https://evil.example/?code=1",
])
def test_anything_else_is_not_a_lobby_code(code: str) -> None:
    assert not precheck.lobby_code_valid(code, SECRET, ARRIVE)


def test_a_lobby_code_signed_with_another_key_is_refused() -> None:
    forged = precheck.lobby_code("another clinic's key", ARRIVE)
    assert not precheck.lobby_code_valid(forged, SECRET, ARRIVE)
    window = forged.split(".")[1]
    assert not precheck.lobby_code_valid(f"LOBBY1.{window}.{'0' * 24}", SECRET, ARRIVE)
    # The code names no patient: only its window and its signature.
    assert forged.count(".") == 2 and forged.startswith("LOBBY1.")


def test_im_here_with_the_lobby_code_checks_the_patient_in(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    _done_at_home(session, appointment.id)
    done = precheck.im_here(session, appointment.id, now=ARRIVE, tz=CHICAGO, rules=RULES,
                            secret_key=SECRET, code=precheck.lobby_code(SECRET, ARRIVE))
    assert done.status == S.CHECKED_IN and done.ticket
    mobile = session.scalars(select(CheckIn).where(
        CheckIn.appointment_id == appointment.id, CheckIn.channel == Channel.MOBILE)).one()
    assert mobile.kiosk_id == precheck.PHONE_KIOSK_ID


@pytest.mark.parametrize("code", [None, "", "LOBBY1.1.bad"])
def test_im_here_without_a_current_lobby_code_says_use_the_kiosk(
        session: Session, code: str | None) -> None:
    appointment = make_appointment(session, start=START)
    _done_at_home(session, appointment.id)
    with pytest.raises(precheck.LobbyCodeRefused) as refused:
        precheck.im_here(session, appointment.id, now=ARRIVE, tz=CHICAGO, rules=RULES,
                         secret_key=SECRET, code=code)
    assert refused.value.key == "precheck.use_kiosk"
    session.refresh(appointment)
    assert appointment.status == S.BOOKED


def test_yesterdays_lobby_code_is_refused(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    _done_at_home(session, appointment.id)
    with pytest.raises(precheck.LobbyCodeRefused):
        precheck.im_here(session, appointment.id, now=ARRIVE, tz=CHICAGO, rules=RULES,
                         secret_key=SECRET,
                         code=precheck.lobby_code(SECRET, ARRIVE - timedelta(days=1)))


def test_the_clinic_can_allow_im_here_without_the_code(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    _done_at_home(session, appointment.id)
    done = precheck.im_here(session, appointment.id, now=ARRIVE, tz=CHICAGO,
                            rules=NO_CODE_RULES, secret_key=SECRET, code=None)
    assert done.status == S.CHECKED_IN


@pytest.mark.parametrize("minutes", [-120, 45])  # long before the window; after the grace
def test_im_here_outside_the_arrival_window_is_refused(session: Session, minutes: int) -> None:
    appointment = make_appointment(session, start=START)
    _done_at_home(session, appointment.id)
    now = START + timedelta(minutes=minutes)
    with pytest.raises(precheck.NotInArrivalWindow):
        precheck.im_here(session, appointment.id, now=now, tz=CHICAGO, rules=RULES,
                         secret_key=SECRET, code=precheck.lobby_code(SECRET, now))
    session.refresh(appointment)
    assert appointment.status == S.BOOKED


def test_the_phone_shows_the_place_in_line_then_the_room(session: Session) -> None:
    appointment = make_appointment(session, start=START)
    _done_at_home(session, appointment.id)
    precheck.im_here(session, appointment.id, now=ARRIVE, tz=CHICAGO, rules=NO_CODE_RULES,
                     secret_key=SECRET, code=None)
    waiting = precheck.phone_status(session, appointment.id, now=ARRIVE, tz=CHICAGO,
                                    rules=RULES)
    assert waiting.step == precheck.PhoneStep.WAITING
    assert (waiting.position, waiting.wait_minutes) == (1, 10)
    assert waiting.ticket == appointment.ticket
    staff = make_staff_user(session)
    desk.call_to_room(session, appointment.id, "Room 3", staff_user_id=staff.id, now=START)
    called = precheck.phone_status(session, appointment.id, now=START, tz=CHICAGO, rules=RULES)
    assert (called.step, called.room) == (precheck.PhoneStep.CALLED, "Room 3")
    # The next day the page has nothing more to say.
    later = precheck.phone_status(session, appointment.id, now=START + timedelta(days=1),
                                  tz=CHICAGO, rules=RULES)
    assert later.step == precheck.PhoneStep.OVER


def test_im_here_on_the_phone_and_at_the_kiosk_at_the_same_instant_check_in_once(
        engine) -> None:
    # Four taps of "I'm here" on the phone and four of "No, I'm here" at kiosks, released
    # together: one check-in, one ticket; every other tap is told the patient is checked in
    # (or that the visit changed meanwhile, which the screens say calmly), nothing doubled.
    with session_scope(engine) as session:
        appointment_id = make_appointment(session, start=START).id
        _done_at_home(session, appointment_id)

    def tap(n: int) -> str | None:
        if n % 2:
            return run_transaction(engine, lambda s: precheck.im_here(
                s, appointment_id, now=ARRIVE, tz=CHICAGO, rules=NO_CODE_RULES,
                secret_key=SECRET, code=None).ticket)
        return run_transaction(engine, lambda s: precheck.arrive(
            s, appointment_id, channel=Channel.KIOSK, now=ARRIVE, tz=CHICAGO, rules=RULES,
            kiosk_id=f"lobby-{n}").ticket)

    outcome = at_once(8, tap)

    assert len(outcome.results) >= 1
    assert all(isinstance(e, (checkin.AlreadyCheckedIn, StaleDataError))
               for e in outcome.errors), outcome.errors
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        on_site = session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == appointment_id, checkin.ON_SITE,
            CheckIn.completed_at.is_not(None))).all()
    assert appointment.status == S.CHECKED_IN
    assert len(on_site) == 1
    assert set(outcome.results) == {appointment.ticket}
