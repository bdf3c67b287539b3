"""The unhappy paths of the kiosk: a patient who walks away, a patient who asks for help, and
the ticket that stays on the done screen. Driven without a browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from kiosk.state import HELP_WAIT_LIMIT, idle_time, resets_when_idle
from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import (
    Appointment,
    AppointmentStatus,
    CheckIn,
    Flag,
    FlagKind,
    FlagStatus,
    utcnow,
)
from shared.services import review
from tests.apps.conftest import KIOSK, click, kiosk_step
from tests.apps.test_kiosk_flow import _answer_all_questions, _find_by_name, _kiosk

S = AppointmentStatus


@pytest.fixture
def demo_day(app_db):
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return info


def _appointment(engine, appointment_id: int) -> Appointment:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Appointment, appointment_id)


def _left_kiosk(engine) -> list[Flag]:
    with Session(engine) as session:
        return list(session.scalars(select(Flag).where(Flag.kind == FlagKind.LEFT_KIOSK)))


def test_back_to_the_start_mid_check_in_puts_the_appointment_back(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    assert _appointment(app_db, demo_day.appointment_id).status == S.ARRIVED
    # A screen with "Back to the start" while the check-in is open (e.g. "please see the
    # desk" after a refusal).
    at.session_state["kiosk"]["step"] = "see_desk"
    at.run()

    click(at, "see_desk_back")

    assert kiosk_step(at) == "welcome"
    appointment = _appointment(app_db, demo_day.appointment_id)
    assert (appointment.status, appointment.ticket, appointment.arrived_at) == (
        S.BOOKED, None, None)
    [flag] = _left_kiosk(app_db)
    assert (flag.status, flag.new_value, flag.appointment_id) == (
        FlagStatus.OPEN, {"step": "identity"}, demo_day.appointment_id)
    assert "_walked_away" not in at.session_state


def test_a_walk_away_the_database_could_not_take_is_recorded_on_the_next_run(
        app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    check_in_id = at.session_state["kiosk"]["check_in_id"]
    # What the inactivity reset leaves for the next run: the check-in and the step.
    at.session_state["_walked_away"] = (check_in_id, "details")
    at.session_state["kiosk"] = {"step": "welcome", "lang": "en"}
    at.run()

    assert not at.exception
    assert [f.new_value for f in _left_kiosk(app_db)] == [{"step": "details"}]
    with Session(app_db) as session:
        assert session.get(CheckIn, check_in_id).abandoned_at is not None


def test_help_keeps_the_check_in_and_the_patient_can_go_back_to_it(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    click(at, "appointment_ok")
    assert kiosk_step(at) == "details"

    click(at, "btn_help_anywhere")
    assert kiosk_step(at) == "help"
    assert "Please stay here" in at.info[0].value
    with Session(app_db) as session:
        help_flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.HELP_REQUEST)).one()
        assert help_flag.appointment_id == demo_day.appointment_id
        assert help_flag.new_value == {"step": "details"}  # the desk sees where

    # The desk acknowledges: the screen says someone is coming.
    with session_scope(app_db) as session:
        review.acknowledge(session, help_flag.id, staff_user_id=None, now=utcnow())
    at.run()
    assert "Someone is on the way" in at.success[0].value
    assert at.session_state["kiosk"]["help_seen_at"] is not None

    click(at, "help_return")
    assert kiosk_step(at) == "details"
    assert at.session_state["kiosk"].get("check_in_id") is not None
    assert _appointment(app_db, demo_day.appointment_id).status == S.ARRIVED
    assert _left_kiosk(app_db) == []


def test_back_to_the_start_from_help_leaves_the_check_in_for_the_desk(app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    click(at, "btn_help_anywhere")
    click(at, "help_back")

    assert kiosk_step(at) == "welcome"
    assert _appointment(app_db, demo_day.appointment_id).status == S.ARRIVED
    assert _left_kiosk(app_db) == []


def test_the_done_screen_keeps_the_ticket_and_nothing_else_of_the_patient(
        app_db, demo_day) -> None:
    at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
    click(at, "appointment_ok")
    click(at, "details_ok")
    click(at, "insurance_same")
    _answer_all_questions(at, app_db)
    assert kiosk_step(at) == "done"

    ticket = _appointment(app_db, demo_day.appointment_id).ticket
    assert ticket is not None
    assert any(ticket in m.value for m in at.markdown)
    state = at.session_state["kiosk"]
    assert set(state) <= {"step", "lang", "completion", "patient_forgotten", "last_activity"}
    assert demo_day.patient_family_name not in repr(state)
    assert "find_family" not in at.session_state
    assert not resets_when_idle(state)

    at.run()  # a later run (the watch's): still the ticket
    assert any(ticket in m.value for m in at.markdown)
    click(at, "done_finish")
    assert kiosk_step(at) == "welcome"
    assert _left_kiosk(app_db) == []


NOW = utcnow()
TIMEOUT = timedelta(seconds=90)


def test_the_help_screen_waits_for_the_desk_before_it_can_time_out() -> None:
    waiting = {"step": "help", "last_activity": NOW - timedelta(minutes=10)}
    assert idle_time(waiting, TIMEOUT, NOW) == (timedelta(minutes=10), HELP_WAIT_LIMIT)

    seen = {**waiting, "help_seen_at": NOW - timedelta(seconds=30)}
    assert idle_time(seen, TIMEOUT, NOW) == (timedelta(seconds=30), TIMEOUT)

    details = {"step": "details", "last_activity": NOW - timedelta(minutes=10)}
    assert idle_time(details, TIMEOUT, NOW) == (timedelta(minutes=10), TIMEOUT)


@pytest.mark.parametrize(("state", "resets"), [
    ({"step": "welcome", "lang": "en"}, False),
    ({"step": "welcome", "lang": "es"}, True),
    ({"step": "done", "lang": "es"}, False),
    ({"step": "walk_in_done", "lang": "en"}, False),
    ({"step": "help", "lang": "en"}, True),
    ({"step": "consent", "lang": "en"}, True),
])
def test_which_screens_start_over_when_idle(state: dict, resets: bool) -> None:
    assert resets_when_idle(state) is resets


def test_a_damaged_walk_away_is_dropped_without_a_crash(app_db) -> None:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["_walked_away"] = (987654, "consent")
    at.run()
    assert not at.exception
    assert "_walked_away" not in at.session_state
