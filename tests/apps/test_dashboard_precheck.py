"""The desk's side of pre-check-in at home (issue 16), driven without a browser: the board's
"Pre-check" column, the call list of visits not pre-checked by the day before (tomorrow's,
with phone numbers), and an urgent answer given at home told as "from home, for <date>".
The clock is set: Tuesday 16 June 2026, 10:00 in Chicago."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.clinic_time import at_clinic_time
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import Appointment, FlagKind, FlagSeverity, utcnow
from shared.services import clinic_settings, flags, precheck
from tests.apps.conftest import dashboard_as
from tests.factories import make_appointment, make_patient

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 6, 16, 10, 0, tzinfo=CHICAGO)
TODAY, TOMORROW = NOW.date(), NOW.date() + timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def book(session, when: datetime, family: str, given: str = "Rosalind",
         phone: str | None = "312-555-0147") -> int:
    patient = make_patient(session, legal_given_name=given, legal_family_name=family,
                           phone=phone)
    return make_appointment(session, start=when, patient=patient).id


def prechecked(session, appointment_id: int, started: datetime,
               done: datetime | None = None) -> None:
    opened = precheck.begin(session, appointment_id, now=started)
    if done is not None:
        precheck.complete(session, opened.id, now=done)


@pytest.fixture
def days(app_db, clock) -> dict[str, int]:
    """The demo day, three of this afternoon's visits in each pre-check-in state, and four of
    tomorrow's: not opened, started, done, and one whose name is Markdown."""
    with session_scope(app_db) as session:
        demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
        ids = {
            "Nopened": book(session, at_clinic_time(TODAY, 15, 0, CHICAGO), "Nopened"),
            "Halfway": book(session, at_clinic_time(TODAY, 15, 10, CHICAGO), "Halfway"),
            "Allset": book(session, at_clinic_time(TODAY, 15, 20, CHICAGO), "Allset"),
            "Callme": book(session, at_clinic_time(TOMORROW, 9, 0, CHICAGO), "Callme",
                           phone="312-555-0199"),
            "Startedonly": book(session, at_clinic_time(TOMORROW, 9, 30, CHICAGO),
                                "Startedonly", phone="312-555-0198"),
            "Readyalready": book(session, at_clinic_time(TOMORROW, 10, 0, CHICAGO),
                                 "Readyalready"),
            "Markdown": book(session, at_clinic_time(TOMORROW, 11, 0, CHICAGO),
                             "Markdown", given="**Bold** [x](http://e.test)", phone=None),
        }
        now = utcnow()
        prechecked(session, ids["Halfway"], now - timedelta(hours=1))
        prechecked(session, ids["Allset"], now - timedelta(hours=1), now - timedelta(minutes=50))
        prechecked(session, ids["Startedonly"], now)
        prechecked(session, ids["Readyalready"], now, now + timedelta(minutes=6))
    return ids


def _table_with(at: AppTest, column: str):
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(tables) == 1, [list(d.value.columns) for d in at.dataframe]
    return tables[0]


def _by_family(table) -> dict[str, object]:
    return {name.split()[-1]: row for name, (_, row) in zip(
        table["Patient"], table.iterrows(), strict=True)}


def test_the_board_shows_each_visits_pre_check_in_state(days) -> None:
    at = dashboard_as("rep")
    at.checkbox(key="filter_whole_day").check().run()

    table = _table_with(at, "Pre-check")
    rows = _by_family(table)
    assert [rows[name]["Pre-check"] for name in ("Nopened", "Halfway", "Allset")] == [
        "Not opened", "Started", "Done"]
    assert "Phone" not in table.columns  # the board stays compact: phones are for calls
    assert set(table["Pre-check"]) <= {"Not opened", "Started", "Done"}
    assert "Callme" not in " ".join(table["Patient"])  # tomorrow is not today's board


def test_the_call_list_is_tomorrows_booked_visits_not_pre_checked_with_phone_numbers(
        days) -> None:
    at = dashboard_as("rep")
    at.toggle(key="filter_precheck").set_value(True).run()

    assert at.radio(key="filter_precheck_day").value == "tomorrow"
    table = _table_with(at, "Phone")
    assert list(table["Patient"]) == [
        "Rosalind Callme", "Rosalind Startedonly", "**Bold** [x](http://e.test) Markdown"]
    assert list(table["Phone"]) == ["312-555-0199", "312-555-0198", ""]
    assert list(table["Pre-check"]) == ["Not opened", "Started", "Not opened"]
    assert list(table["Time"]) == ["9:00 AM", "9:30 AM", "11:00 AM"]
    assert ("Wednesday, June 17, 2026 · 3 booked appointments with the pre-check not done by "
            "the day before: patients to call") in [c.value for c in at.caption]

    # On the day itself: today's booked visits not pre-checked before today began (the
    # one finished this morning counts as not done by the day before).
    at.radio(key="filter_precheck_day").set_value("today").run()
    rows = _by_family(_table_with(at, "Phone"))
    assert {"Nopened", "Halfway", "Allset"} <= set(rows)
    assert not {"Callme", "Startedonly", "Markdown"} & set(rows)
    assert rows["Allset"]["Pre-check"] == "Done"

    # The filter off: the usual board again, no phones.
    at.toggle(key="filter_precheck").set_value(False).run()
    assert not at.radio
    assert all("Phone" not in d.value.columns for d in at.dataframe)
    assert _table_with(at, "Pre-check") is not None


def test_the_call_list_keeps_the_search(days) -> None:
    at = dashboard_as("rep")
    at.toggle(key="filter_precheck").set_value(True).run()
    at.text_input(key="filter_search").input("startedonly").run()
    assert list(_table_with(at, "Phone")["Patient"]) == ["Rosalind Startedonly"]


def test_an_urgent_answer_given_at_home_reads_from_home_for_the_visits_date(
        app_db, days) -> None:
    with session_scope(app_db) as session:
        visit = session.get(Appointment, days["Callme"])
        flags.raise_flag(session, kind=FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                         now=utcnow(), appointment_id=visit.id, patient_id=visit.patient_id,
                         kiosk_id=precheck.HOME_KIOSK_ID,
                         new_value={"question": "chest_pain_or_breathing", "answer": True})
    at = dashboard_as("rep")
    lines = [e.value for e in at.error if "Callme" in e.value]
    assert len(lines) == 1, [e.value for e in at.error]
    assert " · Rosalind Callme · from home, for Wednesday, June 17, 2026 · " in lines[0]
    assert " · home · " not in lines[0]


def test_the_chime_for_an_alert_from_home_says_so_and_names_nobody(app_db, days) -> None:
    with session_scope(app_db) as session:
        visit = session.get(Appointment, days["Callme"])
        flags.raise_flag(session, kind=FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                         now=utcnow(), appointment_id=visit.id, patient_id=visit.patient_id,
                         kiosk_id=precheck.HOME_KIOSK_ID,
                         new_value={"question": "chest_pain_or_breathing", "answer": True})
        clinic_settings.update(session, {"alert_sound": True}, staff_user_id=None)
    clinic_settings.forget_cached()
    at = dashboard_as("rep")
    chimes = [h.proto.body for h in at.get("html") if "AudioContext" in h.proto.body]
    assert len(chimes) == 1
    assert json.dumps(f"{t('flag.urgent_answer')} · from home, for Wednesday, June 17, "
                      "2026") in chimes[0]
    assert "Callme" not in chimes[0]

