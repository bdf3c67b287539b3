"""The kiosk as a patient meets it, driven without a browser."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared.models import Flag, FlagKind, FlagSeverity, FlagStatus
from tests.apps.conftest import KIOSK, _clear_process_caches


def _kiosk() -> AppTest:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    return " ".join(
        [e.value for e in at.title] + [e.value for e in at.markdown] + [e.value for e in at.caption]
    )


def test_welcome_offers_the_four_choices_in_english(app_db) -> None:
    at = _kiosk()
    assert at.title[0].value == "Check in for your appointment"
    labels = [b.label for b in at.button]
    for label in ("Scan my code", "Type my name and birth date", "I don't have an appointment",
                  "I need help"):
        assert label in labels


def test_choosing_spanish_switches_every_word(app_db) -> None:
    at = _kiosk()
    at.button(key="lang_es").click().run()
    assert not at.exception
    assert at.title[0].value == "Registre su llegada a la cita"
    labels = [b.label for b in at.button]
    assert "Necesito ayuda" in labels
    assert "I need help" not in labels
    assert "Check in" not in _texts(at)


def test_help_press_raises_one_urgent_flag_naming_the_kiosk(app_db) -> None:
    at = _kiosk()
    at.button(key="btn_need_help").click().run()
    assert not at.exception
    assert at.title[0].value == "Someone is coming to help you"
    at.run()  # a rerun (or a double tap) must not raise a second flag
    with Session(app_db) as session:
        found = session.scalars(select(Flag)).all()
    assert len(found) == 1
    assert found[0].kind == FlagKind.HELP_REQUEST
    assert found[0].severity == FlagSeverity.URGENT
    assert found[0].status == FlagStatus.OPEN
    assert found[0].kiosk_id == "kiosk-1"


def test_help_then_back_to_start_forgets_everything(app_db) -> None:
    at = _kiosk()
    at.button(key="lang_es").click().run()
    at.button(key="btn_need_help").click().run()
    at.button(key="help_back").click().run()
    assert not at.exception
    assert at.title[0].value == "Check in for your appointment"
    kiosk = at.session_state["kiosk"]
    assert {k: v for k, v in kiosk.items() if k != "last_activity"} == {
        "step": "welcome", "lang": "en"}


@pytest.mark.expected_app_error
def test_unreachable_database_shows_a_calm_page_not_a_traceback(
    app_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECKIN_DATABASE_URL", "postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    _clear_process_caches()
    at = _kiosk()
    assert at.title[0].value == "Check-in is not available right now"
    assert "pw" not in _texts(at)


@pytest.mark.expected_app_error
def test_bad_setting_shows_a_calm_page(app_db, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHECKIN_TIMEZONE", "Mars/Olympus_Mons")
    _clear_process_caches()
    at = _kiosk()
    assert at.title[0].value == "Check-in is not available right now"


@pytest.mark.parametrize(("typed", "expected"), [
    ("03/14/1986", "1986-03-14"), ("3/14/1986", "1986-03-14"), ("03141986", "1986-03-14"),
    ("1986-03-14", "1986-03-14"), ("3-14-1986", "1986-03-14"), (" 03 / 14 / 1986 ", "1986-03-14"),
    ("3/14/86", "1986-03-14"), ("03/14/30", "1930-03-14"),
    ("", None), ("14/03/1986", "invalid"), ("02/30/1990", "invalid"), ("1/1/1850", "invalid"),
    ("01/01/2999", "invalid"), ("March 14", "invalid"), ("12345", "invalid"),
])
def test_typed_birth_dates_are_read_month_first_or_refused(typed: str, expected) -> None:
    from kiosk.widgets import parse_birth_date

    value = parse_birth_date(typed)
    assert (value.isoformat() if hasattr(value, "isoformat") else value) == expected


@pytest.mark.expected_app_error
def test_an_unexpected_error_is_calm_on_screen_and_keeps_patient_data_out_of_the_log(
    app_db, caplog: pytest.LogCaptureFixture
) -> None:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    # A damaged session: the check-in "id" holds what a patient typed, in a form no database
    # takes (typed text alone is now simply not found, and sends the patient to the desk).
    at.session_state["kiosk"] = {"step": "done", "lang": "es", "appointment_id": 1,
                                 "check_in_id": ["Vanterpool", "03/14/1986"]}
    with caplog.at_level("ERROR"):
        at.run()
    assert not at.exception
    assert "Algo salió mal" in at.error[0].value
    assert "kiosk step done failed" in caplog.text
    assert "Vanterpool" not in caplog.text and "1986" not in caplog.text


@pytest.mark.parametrize(("typed", "meant"), [
    ("14/03/1986", ["1986-03-14"]),  # day first: one other reading
    ("14031986", ["1986-03-14"]),
    ("3/14/20", ["2020-03-14", "1920-03-14"]),  # a two-digit year in two centuries
    ("03/04/1986", []),  # month first, as the field asks: taken as typed
    ("31/02/1986", []),  # no reading at all: only the format hint
    ("99/99/1999", []),
])
def test_a_birth_date_that_reads_another_way_offers_the_dates_it_could_mean(
        typed: str, meant: list[str]) -> None:
    from kiosk.widgets import read_birth_date

    _, readings = read_birth_date(typed, date(2026, 6, 16))
    assert [d.isoformat() for d in readings] == meant


def test_a_day_first_birth_date_gets_the_hint_and_the_date_it_means_in_spanish(app_db) -> None:
    from shared import demo
    from shared.config import get_settings
    from shared.db import session_scope
    from shared.models import utcnow

    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {"step": "find_by_name", "lang": "es"}
    at.run()
    at.text_input(key="find_family").input(info.patient_family_name)
    born = info.birth_date
    assert born.day > 12, "the demo birth date must not read the same both ways"
    at.text_input(key="find_birth").input(f"{born.day:02d}/{born.month:02d}/{born.year}")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["kiosk"]["step"] == "find_by_name"
    assert "03/14/1986" in at.error[0].value  # the format, with an example, in Spanish
    assert at.error[0].value.startswith("Revise su fecha de nacimiento")
    [meant] = at.radio
    assert meant.label.startswith("Esa fecha se puede leer")
    assert meant.options == ["viernes, 14 de marzo de 1986"]

    meant.set_value("viernes, 14 de marzo de 1986")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["kiosk"]["step"] == "appointment"


def test_an_appointment_on_another_day_is_told_in_the_patients_language(app_db) -> None:
    from datetime import timedelta

    from shared.config import get_settings
    from shared.db import session_scope
    from shared.models import utcnow
    from tests.factories import make_appointment, make_patient

    tz = get_settings().tz
    with session_scope(app_db) as session:
        patient = make_patient(session, legal_family_name="Otrodia",
                               birth_date=date(1980, 5, 17))
        later = make_appointment(session, patient=patient, start=utcnow() + timedelta(days=3))
        start = later.start
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {"step": "find_by_name", "lang": "es"}
    at.run()
    at.text_input(key="find_family").input("Otrodia")
    at.text_input(key="find_birth").input("05/17/1980")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["kiosk"]["step"] == "other_day"
    from shared.i18n import format_date, format_time

    body = " ".join(m.value for m in at.markdown)
    assert format_date(start, "es", tz) in body
    assert format_time(start, "es", tz).replace("\u202f", " ") in body.replace("\u202f", " ")
