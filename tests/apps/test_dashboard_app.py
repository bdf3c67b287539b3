"""The front-desk dashboard, driven without a browser."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.style import WAIT_AMBER, WAIT_CALM, WAIT_RED
from shared.clinic_time import at_clinic_time, clinic_today
from shared.config import get_settings
from shared.models import AppointmentStatus, StaffRole, StaffUser, utcnow
from shared.services import staff
from tests.apps.conftest import DASHBOARD, _clear_process_caches
from tests.factories import make_appointment, make_patient

PASSWORD = "correct-horse-battery"


@pytest.fixture
def clinic(app_db):
    """A representative and two of today's appointments."""
    tz = get_settings().tz
    today = clinic_today(tz)
    with Session(app_db) as session, session.begin():
        staff.create_user(session, username="riley", display_name="Riley Rep", password=PASSWORD,
                          role=StaffRole.REPRESENTATIVE)
        make_appointment(session, start=at_clinic_time(today, 9, 0, tz),
                         patient=make_patient(session, legal_family_name="Quintero"))
        make_appointment(session, start=at_clinic_time(today, 10, 30, tz),
                         patient=make_patient(session, legal_family_name="Abernathy"))
        # Yesterday's visit is not on today's board.
        make_appointment(session, start=at_clinic_time(today - timedelta(days=1), 9, 0, tz),
                         patient=make_patient(session, legal_family_name="Yesterday"))
    return app_db


def _dashboard() -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    assert not at.exception
    return at


def _sign_in(at: AppTest, username: str = "riley", password: str = PASSWORD) -> AppTest:
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    assert not at.exception
    return at


def _page_text(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.markdown]
    parts += [e.value for e in at.caption] + [e.value for e in at.error]
    return " ".join(parts)


def test_no_patient_data_before_sign_in(clinic) -> None:
    at = _dashboard()
    assert at.title[0].value == "Sign in"
    assert not at.dataframe
    assert "Quintero" not in _page_text(at)


def test_representative_sees_todays_appointments_only(clinic) -> None:
    at = _sign_in(_dashboard())
    # The whole day, whatever hour the test runs at (the board's default is the hours
    # around now).
    at.checkbox(key="filter_whole_day").check().run()
    assert "Today's appointments" in [t.value for t in at.title]
    table = at.dataframe[0].value
    assert list(table["Patient"].str.split().str[-1]) == ["Quintero", "Abernathy"]
    assert "2 appointments today" in _page_text(at)


REFUSED = ("Wrong username or password. After 5 wrong tries in a row an account waits "
           "15 minutes, or until a manager unlocks it.")


def test_wrong_password_is_refused_with_a_clear_message(clinic) -> None:
    at = _sign_in(_dashboard(), password="wrong-password")
    assert [e.value for e in at.error] == [REFUSED]
    assert not at.dataframe


def test_empty_fields_are_refused(clinic) -> None:
    at = _sign_in(_dashboard(), username="", password="")
    assert [e.value for e in at.error] == ["Please fill in both fields."]


def test_five_wrong_passwords_lock_the_account(clinic) -> None:
    at = _dashboard()
    for _ in range(5):
        _sign_in(at, password="wrong-password")
    _sign_in(at)  # even the right password is refused now
    assert [e.value for e in at.error] == [REFUSED]
    assert not at.dataframe
    with Session(clinic) as session:
        riley = session.scalars(select(StaffUser).where(StaffUser.username == "riley")).one()
        assert riley.locked_until is not None


def test_a_locked_account_answers_like_a_name_that_does_not_exist(clinic) -> None:
    """Six tries on a real account and on a made-up name read the same, so a lockout does not
    confirm that an account exists."""
    answers = {}
    for username in ("riley", "nobody.here"):
        at = _dashboard()
        for _ in range(6):
            _sign_in(at, username=username, password="wrong-password")
            answers.setdefault(username, []).append([e.value for e in at.error])
    assert answers["riley"] == answers["nobody.here"] == [[REFUSED]] * 6


def test_sign_out_clears_the_session(clinic) -> None:
    at = _sign_in(_dashboard())
    at.button(key="sign_out").click().run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert "staff" not in at.session_state


def test_idle_session_is_signed_out(clinic) -> None:
    at = _sign_in(_dashboard())
    at.session_state["staff"]["last_seen"] = utcnow() - timedelta(minutes=16)
    at.run()
    assert at.title[0].value == "Sign in"
    assert "signed out" in " ".join(i.value for i in at.info)


def _live_board() -> None:
    """A part of a page that refreshes by itself, with a name on it."""
    from datetime import timedelta

    import streamlit as st

    from dashboard.auth import guard_live_view
    from shared.models import utcnow

    if "staff" not in st.session_state and "signed_out_reason" not in st.session_state:
        st.session_state["staff"] = {"user_id": 1, "role": "representative", "name": "Rep",
                                     "last_seen": utcnow() - timedelta(minutes=16)}
    guard_live_view()
    st.write("Elena Parker")


def test_a_board_left_alone_signs_out_at_the_idle_limit_without_a_touch(clinic) -> None:
    at = AppTest.from_function(_live_board, default_timeout=30)
    at.run()
    assert "staff" not in at.session_state
    assert at.session_state["signed_out_reason"] == "idle"
    assert "Elena Parker" not in " ".join(m.value for m in at.markdown)


@pytest.mark.expected_app_error
def test_unreachable_database_shows_a_clear_page(app_db, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHECKIN_DATABASE_URL", "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/x")
    _clear_process_caches()
    at = _dashboard()
    assert at.title[0].value == "The database cannot be reached"
    assert "secretpw" not in _page_text(at)


def test_single_sign_on_is_offered_only_when_configured(clinic) -> None:
    at = _dashboard()
    assert "sso_login" not in [b.key for b in at.button]
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8502/oauth2callback",
                          "cookie_secret": "x" * 32, "client_id": "desk",
                          "client_secret": "s", "server_metadata_url": "https://idp.invalid/"}
    at.run()
    assert not at.exception
    assert "sso_login" in [b.key for b in at.button]
    assert at.text_input(key="sign_in_username")  # passwords still work


def test_waits_are_coloured_by_the_clinics_lines(clinic) -> None:
    """Whole minutes in a label: grey under the amber line, amber from it, red from the red
    line (15 and 30 minutes by default); nothing for a patient not here yet."""
    tz = get_settings().tz
    today = clinic_today(tz)
    now = utcnow()
    with Session(clinic) as session, session.begin():
        for family, minutes in (("Calm", 5), ("Amber", 20), ("Red", 40)):
            make_appointment(session, start=at_clinic_time(today, 11, 0, tz),
                             status=AppointmentStatus.ARRIVED,
                             arrived_at=now - timedelta(minutes=minutes, seconds=10),
                             patient=make_patient(session, legal_family_name=family))
    at = _sign_in(_dashboard())
    at.checkbox(key="filter_whole_day").check().run()
    table = at.dataframe[0].value
    waits = dict(zip(table["Patient"].str.split().str[-1], table["Waiting (min)"], strict=True))
    assert {name: list(wait) for name, wait in waits.items()} == {
        "Quintero": [], "Abernathy": [], "Calm": ["5"], "Amber": ["20"], "Red": ["40"]}
    config = json.loads(at.dataframe[0].proto.columns)["Waiting (min)"]
    colours = {o["value"]: o["color"] for o in config["type_config"]["options"]}
    assert colours == {"5": WAIT_CALM, "20": WAIT_AMBER, "40": WAIT_RED}, config
