"""When the database blinks or the desk changes the visit meanwhile, the patient sees a calm
message in their language on the same step, never an error page; nothing saved is lost, and
the step works again once the database answers."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import Channel, CheckIn, utcnow
from shared.services import checkin, clinic_settings, insurance
from tests.apps.conftest import KIOSK, click, kiosk_step

BLINK = OperationalError("SELECT 1", {}, Exception("server closed the connection"))


@pytest.fixture
def on_insurance(app_db):
    """The demo patient's check-in under way, on the insurance step."""
    settings = get_settings()
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=settings.tz, now=utcnow())
    with session_scope(app_db) as session:
        check_in = checkin.begin(session, info.appointment_id, channel=Channel.KIOSK,
                                 now=utcnow(), tz=settings.tz,
                                 rules=clinic_settings.load(session), kiosk_id="kiosk-1")
        check_in_id = check_in.id

    def kiosk(lang: str = "en") -> AppTest:
        at = AppTest.from_file(KIOSK, default_timeout=30)
        at.session_state["kiosk"] = {"step": "insurance", "lang": lang,
                                     "appointment_id": info.appointment_id,
                                     "check_in_id": check_in_id}
        at.run()
        assert kiosk_step(at) == "insurance"
        return at

    return kiosk, check_in_id


def _warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize(("lang", "said"), [("en", "could not save that just now"),
                                            ("es", "No pudimos guardar eso")])
def test_a_database_blink_on_a_button_keeps_the_patient_on_the_step_with_a_calm_word(
    app_db, on_insurance, monkeypatch: pytest.MonkeyPatch, lang: str, said: str
) -> None:
    kiosk, check_in_id = on_insurance
    at = kiosk(lang)

    def blink(*args: object, **kwargs: object) -> None:
        raise BLINK

    with monkeypatch.context() as patched:
        patched.setattr(insurance, "confirm_same", blink)
        click(at, "insurance_same")
        assert kiosk_step(at) == "insurance"
        assert said in _warnings(at)
        assert at.button(key="insurance_same")  # the same choice is there to press again

    click(at, "insurance_same")  # the database is back
    assert kiosk_step(at) == "questions"
    with Session(app_db) as session:
        assert session.get(CheckIn, check_in_id).insurance_confirmed_at is not None


def test_a_write_refused_once_for_the_lock_is_run_again_and_the_patient_never_knows(
    app_db, on_insurance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite gave up waiting for another kiosk's write: the action runs once more."""
    kiosk, check_in_id = on_insurance
    at = kiosk()
    real = insurance.confirm_same
    calls = []

    def busy_once(*args: object, **kwargs: object):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE check_in", {},
                                   sqlite3.OperationalError("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(insurance, "confirm_same", busy_once)
    click(at, "insurance_same")
    assert len(calls) == 2
    assert kiosk_step(at) == "questions"
    assert not at.warning and not at.error
    with Session(app_db) as session:
        assert session.get(CheckIn, check_in_id).insurance_confirmed_at is not None


def test_the_desk_changing_the_visit_meanwhile_is_a_kind_word_not_an_error_page(
    app_db, on_insurance, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk, _ = on_insurance
    at = kiosk()

    def changed(*args: object, **kwargs: object) -> None:
        raise StaleDataError("appointment version changed")

    monkeypatch.setattr(checkin, "mark_step", changed)
    click(at, "insurance_none")
    assert kiosk_step(at) == "insurance"
    assert "front desk has just updated your visit" in _warnings(at)


def test_a_step_that_cannot_reach_the_database_waits_and_offers_start_over(
    app_db, on_insurance, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk, _ = on_insurance
    at = kiosk()

    def blink(*args: object, **kwargs: object) -> None:
        raise BLINK

    monkeypatch.setattr(checkin, "load_appointment", blink)
    # The step's first screen kept what it shows; a patient who comes back to it after a
    # restart of the screen (nothing kept) needs the database.
    at.session_state["kiosk"] = {k: v for k, v in at.session_state["kiosk"].items()
                                 if k != "visit"}
    at.run()
    assert "could not save that just now" in _warnings(at)
    assert at.button(key="error_start_over")
    assert kiosk_step(at) == "insurance"  # nothing forgotten: the step comes back by itself
