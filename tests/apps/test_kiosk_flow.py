"""A patient's whole check-in on the kiosk, driven without a browser."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    Flag,
    FlagKind,
    FlagStatus,
    KioskLookup,
    KioskQuestionVersion,
    Patient,
    utcnow,
)
from shared.services import checkin, clinic_settings, tokens
from tests.apps.conftest import KIOSK, click, kiosk_step


@pytest.fixture
def demo_day(app_db):
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return info


def _kiosk() -> AppTest:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.run()
    assert not at.exception
    return at


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _enter_birth_date(at: AppTest, prefix: str, when) -> None:
    at.text_input(key=f"{prefix}_birth").input(when.strftime("%m/%d/%Y"))


def _find_by_name(at: AppTest, family: str, birth) -> AppTest:
    click(at, "btn_start_name")
    at.text_input(key="find_family").input(family)
    _enter_birth_date(at, "find", birth)
    return _submit(at, "Find my appointment")


def _choice_values(engine) -> dict[str, str]:
    """English label -> stored value, for every choice of every question."""
    with Session(engine) as session:
        versions = session.scalars(select(KioskQuestionVersion)).all()
        return {c["en"]: c["value"] for v in versions for c in v.choices}


def _answer_current_question(at: AppTest, choices: dict[str, str]) -> None:
    """A calm patient's answers: no to yes/no questions, low pain, the first choice."""
    for radio in at.radio:
        radio.set_value(False if radio.options == ["Yes", "No"] else choices[radio.options[0]])
    for pills in at.pills:
        pills.set_value(2)
    for text in at.text_input:
        text.input("Yearly checkup")


def _answer_all_questions(at: AppTest, engine) -> None:
    choices = _choice_values(engine)
    for _ in range(12):
        if kiosk_step(at) != "questions":
            return
        _answer_current_question(at, choices)
        _submit(at, "Next")
    raise AssertionError("the questions never ended")


def test_name_and_birth_date_check_in_ends_checked_in(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name.upper(), demo_day.birth_date)
    assert kiosk_step(at) == "appointment"
    assert at.title[0].value == f"Hello, {demo_day.patient_given_name}"
    click(at, "appointment_ok")
    assert kiosk_step(at) == "details"
    click(at, "details_ok")
    assert kiosk_step(at) == "insurance"
    click(at, "insurance_same")
    assert kiosk_step(at) == "questions"
    _answer_all_questions(at, app_db)
    assert kiosk_step(at) == "done", at.error
    assert at.title[0].value == "You're checked in"
    with Session(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        assert appointment.status == AppointmentStatus.CHECKED_IN
        check_in = session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == demo_day.appointment_id)).one()
        assert check_in.completed_at is not None
        assert check_in.demographics_confirmed_at is not None
        assert check_in.questions_completed_at is not None


def test_nothing_of_the_patient_is_left_after_finish(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    click(at, "btn_help_anywhere")
    click(at, "help_back")
    assert at.session_state["kiosk"] == {"step": "welcome", "lang": "en",
                                         "last_activity": at.session_state["kiosk"][
                                             "last_activity"]}
    assert "find_family" not in at.session_state


def test_wrong_birth_date_three_times_locks_the_code(app_db, demo_day) -> None:
    settings = get_settings()
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        issued = tokens.issue_token(session, appointment, secret_key=settings.secret_key,
                                    tz=settings.tz, now=utcnow())
    at = _kiosk()
    click(at, "btn_start_scan")
    at.text_input(key="scan_code").input(issued.token + "\n")
    _submit(at, "Continue")
    assert kiosk_step(at) == "verify_birth_date"
    wrong = demo_day.birth_date - timedelta(days=1)
    for attempt in range(3):
        _enter_birth_date(at, "verify", wrong)
        _submit(at, "Continue")
        if attempt < 2:
            assert "try 1 more" in at.error[0].value or "try 2 more" in at.error[0].value
    assert kiosk_step(at) == "see_desk"
    with Session(app_db) as session:
        flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.IDENTITY_FAILED)).one()
        assert flag.status == FlagStatus.OPEN
        assert session.get(Appointment, demo_day.appointment_id).status == AppointmentStatus.BOOKED


def test_a_code_replaced_while_the_birth_date_is_typed_checks_no_one_in(
    app_db, demo_day
) -> None:
    settings = get_settings()

    def print_slip() -> str:
        with session_scope(app_db) as session:
            appointment = session.get(Appointment, demo_day.appointment_id)
            return tokens.issue_token(session, appointment, secret_key=settings.secret_key,
                                      tz=settings.tz, now=utcnow()).token

    at = _kiosk()
    click(at, "btn_start_scan")
    at.text_input(key="scan_code").input(print_slip())
    _submit(at, "Continue")
    assert kiosk_step(at) == "verify_birth_date"
    print_slip()  # meanwhile the desk prints a new slip: the scanned code stops working
    _enter_birth_date(at, "verify", demo_day.birth_date)
    _submit(at, "Continue")
    assert kiosk_step(at) == "see_desk"
    with Session(app_db) as session:
        assert session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == demo_day.appointment_id)).all() == []
        assert session.get(Appointment, demo_day.appointment_id).status == AppointmentStatus.BOOKED


def test_link_on_a_phone_opens_the_birth_date_step_and_leaves_the_url(app_db, demo_day) -> None:
    settings = get_settings()
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        # Ahead, at any hour (late at night the demo visit is a few minutes ago): the link
        # on a phone is a pre-check-in, open until the visit starts.
        appointment.start = utcnow() + timedelta(hours=1)
        issued = tokens.issue_token(session, appointment, secret_key=settings.secret_key,
                                    tz=settings.tz, now=utcnow())
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.query_params["code"] = issued.token
    at.run()
    assert not at.exception
    assert kiosk_step(at) == "verify_birth_date"
    assert "code" not in at.query_params
    _enter_birth_date(at, "verify", demo_day.birth_date)
    _submit(at, "Continue")
    assert kiosk_step(at) == "appointment"


def test_changed_phone_becomes_a_flag_and_the_record_is_unchanged(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    click(at, "appointment_ok")
    click(at, "details_edit")
    at.text_input(key="details_phone").input("(312) 555-0199")
    _submit(at, "Save and continue")
    assert kiosk_step(at) == "insurance"
    with Session(app_db) as session:
        flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.PHONE_CHANGE)).one()
        assert flag.new_value == {"phone": "+13125550199"}
        patient = session.scalars(select(Patient).where(Patient.mrn == "DEMO-0001")).one()
        assert patient.phone != "+13125550199"


def test_bad_phone_gets_a_clear_message_and_keeps_what_was_typed(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    click(at, "appointment_ok")
    click(at, "details_edit")
    at.text_input(key="details_city").input("Springfield Heights")
    at.text_input(key="details_phone").input("12")
    _submit(at, "Save and continue")
    assert kiosk_step(at) == "details"
    assert any("does not look like a phone number" in e.value for e in at.error)
    assert at.text_input(key="details_city").value == "Springfield Heights"


def test_already_checked_in_patient_is_told_so(app_db, demo_day) -> None:
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        appointment.status = AppointmentStatus.CHECKED_IN
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    assert kiosk_step(at) == "already_checked_in"
    assert at.title[0].value == "You're already checked in"


def test_unknown_name_says_so_in_spanish(app_db, demo_day) -> None:
    at = _kiosk()
    click(at, "lang_es")
    click(at, "btn_start_name")
    at.text_input(key="find_family").input("Inexistente")
    _enter_birth_date(at, "find", demo_day.birth_date)
    _submit(at, "Buscar mi cita")
    assert "No encontramos una cita hoy" in at.error[0].value


def test_wrong_birth_dates_slow_the_kiosk_down_and_starting_over_does_not_reset_it(
    app_db, demo_day
) -> None:
    # The clock stands still: every try comes before the wait after the third miss is over.
    with time_machine.travel(utcnow(), tick=False):
        at = _kiosk()
        click(at, "btn_start_name")
        shown = []
        for n in range(4):
            at.text_input(key="find_family").input(demo_day.patient_family_name)
            _enter_birth_date(at, "find", date(1970, 1, 1) + timedelta(days=n))
            _submit(at, "Find my appointment")
            shown.append(at.error[0].value)
        assert shown[:3] == [shown[0]] * 3 and "could not find" in shown[0]
        assert shown[3].startswith("Please wait")
        # Starting over, even the right birth date waits: the count is the kiosk's.
        click(at, "find_back")
        _find_by_name(at, demo_day.patient_family_name, demo_day.birth_date)
        assert kiosk_step(at) == "find_by_name"
        assert at.error[0].value.startswith("Please wait")
    with Session(app_db) as session:
        assert session.get(KioskLookup, "kiosk-1").misses == 3


@pytest.mark.parametrize("step", [
    "scan", "code_problem", "verify_birth_date", "find_by_name", "ask_phone", "other_day",
    "see_desk", "already_checked_in", "cannot_check_in", "appointment", "details",
    "insurance", "questions", "consent", "done", "walk_in", "walk_in_done",
])
@pytest.mark.parametrize(("lang", "help_label"), [("en", "I need help"), ("es", "Necesito ayuda")])
def test_every_screen_offers_help_and_shows_no_traceback(
    app_db, demo_day, step: str, lang: str, help_label: str
) -> None:
    settings = get_settings()
    with session_scope(app_db) as session:
        check_in = checkin.begin(session, demo_day.appointment_id, channel=Channel.KIOSK,
                                 now=utcnow(), tz=settings.tz,
                                 rules=clinic_settings.load(session), kiosk_id="kiosk-1")
        check_in_id = check_in.id
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {
        "step": step, "lang": lang, "appointment_id": demo_day.appointment_id,
        "check_in_id": check_in_id, "candidates": [demo_day.appointment_id], "attempts": 0,
        "token_id": 0, "other_date": "Monday 1 December 2026", "other_time": "9:00 AM",
        "problem": "error.token_expired",
    }
    at.run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.button]
    assert help_label in labels
    if lang == "es":  # every word switches: no English button on a Spanish screen
        assert not {"Continue", "Back to the start", "Next", "I need help"} & set(labels)


def test_walk_in_reaches_the_desk_with_name_birth_date_phone_and_reason(app_db, demo_day) -> None:
    at = _kiosk()
    click(at, "btn_no_appointment")
    at.text_input(key="walkin_given").input("Rosa")
    at.text_input(key="walkin_family").input("Quintanilla")
    _enter_birth_date(at, "walkin", demo_day.birth_date.replace(year=1970))
    at.text_input(key="walkin_phone").input("12")
    _submit(at, "Let the front desk know")
    assert any("phone number" in e.value for e in at.error)  # bad input, nothing lost
    assert at.text_input(key="walkin_given").value == "Rosa"
    at.text_input(key="walkin_phone").input("(312) 555-0166")
    at.text_input(key="walkin_reason").input("Sore throat")
    _submit(at, "Let the front desk know")
    assert kiosk_step(at) == "walk_in_done"
    with Session(app_db) as session:
        flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.WALK_IN)).one()
    assert flag.new_value["phone"] == "+13125550166"
    assert flag.new_value["reason"] == "Sore throat"
    assert flag.status == FlagStatus.OPEN
