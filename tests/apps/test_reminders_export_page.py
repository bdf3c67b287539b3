"""The manager's reminders and export page: a day's PDF and FHIR JSON to download; clear
errors; a representative refused on the server."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import AppointmentStatus, CheckInToken, utcnow
from shared.services.reminders import appointments_on
from tests.apps.conftest import dashboard_as

SCREEN = "screens/reminders_export.py"


@pytest.fixture
def clinic(app_db):
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return app_db, info.day


def _as(username: str) -> AppTest:
    return dashboard_as(username, "reminders_export")

def _downloads(at: AppTest) -> list:
    return at.get("download_button")


def test_a_representative_is_refused(clinic) -> None:
    at = _as("rep")
    assert [e.value for e in at.error] == [
        "You do not have access to this page. Sign in with an account that does."]
    assert [b.key for b in at.button] == ["sign_out"]
    assert not _downloads(at) and not at.date_input


def test_manager_downloads_the_days_reminders_and_export(clinic) -> None:
    engine, day = clinic
    at = _as("manager")
    assert at.title[0].value == "Reminders and export"
    at.date_input(key="rx_day").set_value(day).run()
    assert not _downloads(at)  # nothing is made (and no code replaced) until asked

    at.button(key="rx_make_pdf").click().run()
    assert not at.exception, at.exception
    with Session(engine) as session:
        visits = appointments_on(session, day, get_settings().tz)
        booked = [a for a in visits if a.status == AppointmentStatus.BOOKED]
        live = session.scalars(select(CheckInToken).where(CheckInToken.revoked_at.is_(None)))
        assert {t.appointment_id for t in live} == {a.id for a in booked}
    assert any(f"Appointments: {len(booked)}, one page each" in s.value for s in at.success)

    at.button(key="rx_make_fhir").click().run()
    assert not at.exception, at.exception
    downloads = _downloads(at)
    assert [d.proto.label for d in downloads] == [
        "Download reminders (PDF)", "Download FHIR export (JSON)"]
    assert any("Export ready" in s.value for s in at.success)
    assert not at.error


def test_one_appointment_can_be_picked(clinic) -> None:
    engine, day = clinic
    with Session(engine) as session:
        visit = next(a for a in appointments_on(session, day, get_settings().tz)
                     if a.status == AppointmentStatus.BOOKED)
    at = _as("manager")
    at.date_input(key="rx_day").set_value(day).run()
    at.selectbox(key="rx_appointment").set_value(visit.id).run()
    at.button(key="rx_make_pdf").click().run()
    assert any("Appointments: 1, one page each" in s.value for s in at.success)
    with Session(engine) as session:
        tokens = session.scalars(select(CheckInToken)).all()
    assert [t.appointment_id for t in tokens] == [visit.id]


def test_a_day_without_appointments_says_so(clinic) -> None:
    at = _as("manager")
    empty = date(2031, 1, 6)
    at.date_input(key="rx_day").set_value(empty).run()
    assert any("There are no appointments on 2031-01-06." in i.value for i in at.info)
    at.button(key="rx_make_pdf").click().run()
    assert [e.value for e in at.error] == ["There are no appointments on 2031-01-06."]
    at.button(key="rx_make_fhir").click().run()
    assert "There are no appointments on 2031-01-06." in [e.value for e in at.error]
    assert not _downloads(at)


def test_the_export_file_is_fhir_json(clinic) -> None:
    """The bytes offered for download are the service's R4 Bundle."""
    from fhir.resources.R4B.bundle import Bundle

    _, day = clinic
    at = _as("manager")
    at.date_input(key="rx_day").set_value(day).run()
    at.button(key="rx_make_fhir").click().run()
    text, count = at.session_state["rx_fhir"]
    bundle = Bundle.model_validate_json(text)
    assert len(bundle.entry) == count == sum(1 for _ in json.loads(text)["entry"])
