"""Pre-check-in (issue 16), driven without a browser: the reminder's link on the patient's
phone the day before, left and resumed, and the kiosk on the day taking one answer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from kiosk.state import _walk_away
from shared import demo
from shared.clinic_time import at_clinic_time, clinic_today
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    Flag,
    FlagKind,
    KioskQuestionVersion,
    StaffUser,
    utcnow,
)
from shared.services import (
    clinic_settings,
    desk,
    precheck,
    question_admin,
    questions,
    tokens,
)
from shared.services.precheck import PrecheckState
from tests.apps.conftest import KIOSK, click, kiosk_step


@pytest.fixture
def tomorrow(app_db) -> demo.DemoInfo:
    """The demo patient's visit, moved to 10:00 tomorrow: whatever the hour the test runs
    at, the visit is ahead, and a clock moved to around it stays on its day."""
    tz = get_settings().tz
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=tz, now=utcnow())
        appointment = session.get(Appointment, info.appointment_id)
        appointment.start = at_clinic_time(clinic_today(tz) + timedelta(days=1), 10, 0, tz)
    return info


def _start(engine, appointment_id: int) -> datetime:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.start


def _link(engine, appointment_id: int) -> str:
    settings = get_settings()
    with session_scope(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        return tokens.issue_token(session, appointment, secret_key=settings.secret_key,
                                  tz=settings.tz, now=utcnow()).token


def _open_link(code: str) -> AppTest:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.query_params["code"] = code
    at.run()
    assert not at.exception, at.exception
    assert kiosk_step(at) == "verify_birth_date"
    return at


def _press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _birth_date(at: AppTest, prefix: str, info: demo.DemoInfo) -> AppTest:
    at.text_input(key=f"{prefix}_birth").input(info.birth_date.strftime("%m/%d/%Y"))
    return _press(at, "Continue")


def _answer_all(at: AppTest, engine) -> None:
    with Session(engine) as session:
        versions = session.scalars(select(KioskQuestionVersion)).all()
        choices = {c["en"]: c["value"] for v in versions for c in v.choices}
    for _ in range(20):
        if kiosk_step(at) != "questions":
            return
        for radio in at.radio:
            radio.set_value(False if radio.options == ["Yes", "No"]
                            else choices[radio.options[0]])
        for pills in at.pills:
            pills.set_value(2)
        for text in at.text_input:
            text.input("Yearly checkup")
        _press(at, "Next")
    raise AssertionError("the questions never ended")


def _state(engine, appointment_id: int) -> PrecheckState:
    with Session(engine) as session:
        return precheck.states(session, [appointment_id])[appointment_id]


def _status(engine, appointment_id: int) -> AppointmentStatus:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


def _done_at_home(engine, appointment_id: int) -> None:
    with session_scope(engine) as session:
        home = precheck.begin(session, appointment_id, now=utcnow())
        precheck.complete(session, home.id, now=utcnow())


def _kiosk_by_name(info: demo.DemoInfo, *, spanish: bool = False) -> AppTest:
    """The lobby kiosk, found by name and birth date (in Spanish if asked)."""
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.run()
    if spanish:
        click(at, "lang_es")
    click(at, "btn_start_name")
    at.text_input(key="find_family").input(info.patient_family_name)
    at.text_input(key="find_birth").input(info.birth_date.strftime("%m/%d/%Y"))
    return _press(at, "Buscar mi cita" if spanish else "Find my appointment")


def test_the_link_the_day_before_does_the_whole_check_in_and_leaves_the_visit_booked(
        app_db, tomorrow) -> None:
    at = _open_link(_link(app_db, tomorrow.appointment_id))
    _birth_date(at, "verify", tomorrow)
    assert kiosk_step(at) == "appointment"
    # Which day, and that it can wait half-done.
    assert any("ahead of your visit on" in i.value for i in at.info)
    # Tomorrow's visit is said with its date, never "today".
    assert at.markdown[0].value.startswith("Your appointment is on **")
    assert _state(app_db, tomorrow.appointment_id) == PrecheckState.STARTED
    click(at, "appointment_ok")
    click(at, "details_ok")
    click(at, "insurance_same")
    _answer_all(at, app_db)
    if kiosk_step(at) == "consent":
        pytest.skip("the demo patient has forms to sign: covered by the browser test")
    assert kiosk_step(at) == "done"
    assert at.title[0].value.startswith("You're all set for ")
    assert any("No, I'm here" in m.value for m in at.markdown)
    assert _state(app_db, tomorrow.appointment_id) == PrecheckState.DONE
    assert _status(app_db, tomorrow.appointment_id) == AppointmentStatus.BOOKED
    # Once done, the session keeps only the appointment's id (for "I'm here" on the day),
    # nothing the patient typed or was shown.
    kept = set(at.session_state["kiosk"])
    assert kept <= {"step", "lang", "completion", "patient_forgotten", "remote",
                    "appointment_id", "last_activity"}, kept


def test_a_pre_check_in_left_halfway_resumes_at_the_next_step_from_the_same_link(
        app_db, tomorrow) -> None:
    code = _link(app_db, tomorrow.appointment_id)
    first = _open_link(code)
    _birth_date(first, "verify", tomorrow)
    click(first, "appointment_ok")
    click(first, "details_ok")
    assert kiosk_step(first) == "insurance"
    # The phone's page closed: a new session, the same link, the birth date again.
    again = _open_link(code)
    _birth_date(again, "verify", tomorrow)
    assert kiosk_step(again) == "insurance"
    with Session(app_db) as session:
        home = session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == tomorrow.appointment_id)).all()
    assert [c.channel for c in home] == [Channel.HOME]
    # Leaving it is not a walk-away: no "left the kiosk" alert for a patient at home.
    state = dict(again.session_state["kiosk"])
    assert _walk_away(state) is None
    assert _walk_away({**state, "remote": False}) == (state["check_in_id"], "insurance")
    with Session(app_db) as session:
        assert session.scalars(select(Flag).where(Flag.kind == FlagKind.LEFT_KIOSK)).all() == []


def test_the_next_day_the_kiosk_takes_one_answer_after_the_birth_date(app_db, tomorrow) -> None:
    _done_at_home(app_db, tomorrow.appointment_id)
    arrive = _start(app_db, tomorrow.appointment_id) - timedelta(minutes=10)
    with time_machine.travel(arrive, tick=False):
        at = _kiosk_by_name(tomorrow)
        assert kiosk_step(at) == "all_set"
        assert at.title[0].value == "You're all set"
        assert "Has anything changed since" in at.markdown[0].value
        click(at, "all_set_here")  # the one tap
        assert kiosk_step(at) == "done"
        ticket = at.session_state["kiosk"]["completion"]["ticket"]
    assert ticket and ticket.startswith("A")
    assert _status(app_db, tomorrow.appointment_id) == AppointmentStatus.CHECKED_IN


def test_at_the_kiosk_yes_let_me_check_goes_through_the_steps(app_db, tomorrow) -> None:
    _done_at_home(app_db, tomorrow.appointment_id)
    arrive = _start(app_db, tomorrow.appointment_id) - timedelta(minutes=10)
    with time_machine.travel(arrive, tick=False):
        at = _kiosk_by_name(tomorrow)
        click(at, "all_set_check")
        assert kiosk_step(at) == "appointment"
    assert _status(app_db, tomorrow.appointment_id) == AppointmentStatus.ARRIVED


def test_the_link_opened_again_after_it_is_done_says_so_and_can_change_something(
        app_db, tomorrow) -> None:
    _done_at_home(app_db, tomorrow.appointment_id)
    at = _open_link(_link(app_db, tomorrow.appointment_id))
    _birth_date(at, "verify", tomorrow)
    assert kiosk_step(at) == "precheck_done_before"
    assert at.title[0].value.startswith("You're all set for ")
    click(at, "precheck_again")
    assert kiosk_step(at) == "appointment"


def test_the_link_after_the_visit_has_started_sends_the_patient_to_the_kiosk(
        app_db, tomorrow) -> None:
    code = _link(app_db, tomorrow.appointment_id)
    late = _start(app_db, tomorrow.appointment_id) + timedelta(minutes=5)
    with time_machine.travel(late, tick=False):
        at = _open_link(code)
        _birth_date(at, "verify", tomorrow)
        assert kiosk_step(at) == "cannot_check_in"
        assert "kiosk or at the front desk" in at.markdown[0].value
    assert _status(app_db, tomorrow.appointment_id) == AppointmentStatus.BOOKED


def test_in_spanish_the_kiosk_asks_the_same_one_question(app_db, tomorrow) -> None:
    _done_at_home(app_db, tomorrow.appointment_id)
    arrive = _start(app_db, tomorrow.appointment_id) - timedelta(minutes=10)
    with time_machine.travel(arrive, tick=False):
        at = _kiosk_by_name(tomorrow, spanish=True)
        assert at.title[0].value == "Todo listo"
        assert at.button(key="all_set_here").label == "No, ya estoy aquí"


# --- On the day, on the phone ----------------------------------------------------------------


def _allow_arriving_without_the_lobby_code(engine) -> None:
    with session_scope(engine) as session:
        manager = session.scalars(select(StaffUser).where(StaffUser.role == "manager")).first()
        clinic_settings.update(session, {"arrive_without_lobby_code": True},
                               staff_user_id=manager.id)
    clinic_settings.forget_cached()


def test_on_the_day_the_phone_asks_for_the_waiting_room_code(app_db, tomorrow) -> None:
    code = _link(app_db, tomorrow.appointment_id)
    _done_at_home(app_db, tomorrow.appointment_id)
    with time_machine.travel(_start(app_db, tomorrow.appointment_id) - timedelta(minutes=10),
                             tick=False):
        at = _open_link(code)
        _birth_date(at, "verify", tomorrow)
        assert kiosk_step(at) == "precheck_done_before"
        assert at.subheader[0].value == "At the clinic?"
        assert [b.key for b in at.button if b.key == "phone_im_here"] == []
        click(at, "phone_scan_lobby")
        assert kiosk_step(at) == "lobby_scan"
        assert at.title[0].value == "Scan the waiting-room code"
        click(at, "lobby_back")
        assert kiosk_step(at) == "precheck_done_before"
    assert _status(app_db, tomorrow.appointment_id) == AppointmentStatus.BOOKED


def test_too_early_the_phone_says_when_it_can_check_in(app_db, tomorrow) -> None:
    code = _link(app_db, tomorrow.appointment_id)
    _done_at_home(app_db, tomorrow.appointment_id)
    with time_machine.travel(_start(app_db, tomorrow.appointment_id) - timedelta(hours=2),
                             tick=False):
        at = _open_link(code)
        _birth_date(at, "verify", tomorrow)
        assert any("You can check in from this phone from" in i.value for i in at.info)
        assert [b.key for b in at.button if b.key in ("phone_scan_lobby", "phone_im_here")] == []


def test_where_the_clinic_allows_it_im_here_is_one_tap_then_the_page_follows_the_line(
        app_db, tomorrow) -> None:
    _allow_arriving_without_the_lobby_code(app_db)
    code = _link(app_db, tomorrow.appointment_id)
    _done_at_home(app_db, tomorrow.appointment_id)
    start = _start(app_db, tomorrow.appointment_id)
    with time_machine.travel(start - timedelta(minutes=10), tick=False):
        at = _open_link(code)
        _birth_date(at, "verify", tomorrow)
        click(at, "phone_im_here")
        assert kiosk_step(at) == "phone_ticket"
        assert at.title[0].value == "You're checked in"
        assert any("in line" in m.value or "ahead" in m.value for m in at.markdown), [
            m.value for m in at.markdown]
        assert _status(app_db, tomorrow.appointment_id) == AppointmentStatus.CHECKED_IN
        # The desk calls the patient in another screen: the page says so on its next look.
        with session_scope(app_db) as session:
            staff = session.scalars(select(StaffUser)).first()
            desk.call_to_room(session, tomorrow.appointment_id, "Room 3",
                              staff_user_id=staff.id, now=utcnow())
        at.run()
        assert at.title[0].value == "It's your turn: Room 3"
        # Opening the link again later that day goes straight to this page.
        again = _open_link(code)
        _birth_date(again, "verify", tomorrow)
        assert kiosk_step(again) == "phone_ticket"
    with Session(app_db) as session:
        channels = session.scalars(select(CheckIn.channel).where(
            CheckIn.appointment_id == tomorrow.appointment_id).order_by(CheckIn.id)).all()
    assert channels == [Channel.HOME, Channel.MOBILE]


# --- Earlier answers ---------------------------------------------------------------------------


def _carry_over_first_question(engine, info: demo.DemoInfo, earlier_value) -> str:
    """Mark the first question the demo patient is asked as carried over, and give it an
    answer at an earlier visit of theirs; its key."""
    with session_scope(engine) as session:
        appointment = session.get(Appointment, info.appointment_id)
        first = questions.questions_for_visit(session, appointment)[0]
        question_admin.set_carry_over(session, first.key, True, staff_user_id=None)
        before = Appointment(patient_id=appointment.patient_id,
                             provider_id=appointment.provider_id,
                             location_id=appointment.location_id,
                             start=appointment.start - timedelta(days=60),
                             status=AppointmentStatus.FULFILLED, visit_type="Follow-up")
        session.add(before)
        session.flush()
        questions.save_answers(session, appointment_id=before.id,
                               patient_id=appointment.patient_id,
                               given=[questions.Given(first, earlier_value)], language="en",
                               now=before.start, kiosk_id="kiosk-1")
        return first.key


def _to_the_questions(app_db, info: demo.DemoInfo) -> AppTest:
    at = _open_link(_link(app_db, info.appointment_id))
    _birth_date(at, "verify", info)
    click(at, "appointment_ok")
    click(at, "details_ok")
    click(at, "insurance_same")
    assert kiosk_step(at) == "questions"
    return at


def test_a_carried_over_answer_is_shown_ready_and_one_tap_keeps_it(app_db, tomorrow) -> None:
    key = _carry_over_first_question(app_db, tomorrow, False)
    at = _to_the_questions(app_db, tomorrow)
    assert at.info[0].value.startswith("Last time you answered: No.")
    assert at.radio[0].value is False  # ready: nothing to choose again
    _press(at, "Next")
    _answer_all(at, app_db)  # the answers are stored together, with the last one
    with Session(app_db) as session:
        saved, _ = questions.answers_for_visit(
            session, session.get(Appointment, tomorrow.appointment_id))
        assert saved[key] is False
        assert session.scalars(select(Flag).where(Flag.kind == FlagKind.ANSWER_CHANGE)
                               ).all() == []


def test_a_changed_carried_over_answer_reaches_the_desk_as_a_change(app_db, tomorrow) -> None:
    key = _carry_over_first_question(app_db, tomorrow, False)
    at = _to_the_questions(app_db, tomorrow)
    at.radio[0].set_value(True)
    _press(at, "Next")
    _answer_all(at, app_db)
    with Session(app_db) as session:
        [flag] = session.scalars(select(Flag).where(Flag.kind == FlagKind.ANSWER_CHANGE)).all()
    assert (flag.old_value, flag.new_value) == ({"question": key, "answer": False},
                                                {"question": key, "answer": True})
    assert flag.kiosk_id == precheck.HOME_KIOSK_ID


def test_help_asked_at_home_tells_the_desk_it_is_from_home_and_promises_a_call(
        app_db, tomorrow) -> None:
    at = _open_link(_link(app_db, tomorrow.appointment_id))
    _birth_date(at, "verify", tomorrow)
    click(at, "btn_help_anywhere")
    assert kiosk_step(at) == "help"
    assert any("will call you" in m.value for m in at.markdown)
    assert not any("come to you" in m.value for m in at.markdown)  # nobody walks over
    with Session(app_db) as session:
        [flag] = session.scalars(select(Flag).where(Flag.kind == FlagKind.HELP_REQUEST)).all()
    assert (flag.kiosk_id, flag.appointment_id) == (precheck.HOME_KIOSK_ID,
                                                    tomorrow.appointment_id)


def test_the_link_opens_with_the_language_choice_for_a_spanish_speaker(app_db, tomorrow) -> None:
    at = _open_link(_link(app_db, tomorrow.appointment_id))
    click(at, "lang_es")
    assert kiosk_step(at) == "verify_birth_date"
    assert at.button(key="lang_es").label == "✓ Español"
    at.text_input(key="verify_birth").input(tomorrow.birth_date.strftime("%m/%d/%Y"))
    _press(at, "Continuar")
    assert kiosk_step(at) == "appointment"
    assert at.markdown[0].value.startswith("Su cita es el **")


def test_the_phones_place_in_line_says_try_again_when_the_database_blinks(
        app_db, tomorrow, monkeypatch) -> None:
    _allow_arriving_without_the_lobby_code(app_db)
    code = _link(app_db, tomorrow.appointment_id)
    _done_at_home(app_db, tomorrow.appointment_id)
    with time_machine.travel(_start(app_db, tomorrow.appointment_id) - timedelta(minutes=10),
                             tick=False):
        at = _open_link(code)
        _birth_date(at, "verify", tomorrow)
        click(at, "phone_im_here")
        assert at.title[0].value == "You're checked in"

        def blink(*_args, **_kwargs):
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

        monkeypatch.setattr(precheck, "phone_status", blink)
        at.run()
    assert not at.exception
    assert [i.value for i in at.info] == [t("kiosk.try_again")]
