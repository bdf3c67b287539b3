"""What the kiosk says and keeps, driven without a browser: a pain score tapped again stays,
an urgent instruction is on the screen, Spanish names of the provider and the location, a
parent addressed as the parent, Back after a mistake on the insurance form, and the manager's
page where the Spanish names are given."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.imports import names
from shared.models import (
    Appointment,
    Channel,
    ContactKind,
    Location,
    PatientContact,
    Provider,
    StaffUser,
    utcnow,
)
from shared.services import checkin, clinic_settings, questions
from tests.apps.conftest import KIOSK, dashboard_as
from tests.factories import make_appointment, make_patient

PAIN = "pain_level"
CHEST = "chest_pain_or_breathing"


@pytest.fixture
def clinic(app_db):
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return info


def _begin(engine, appointment_id: int) -> int:
    with session_scope(engine) as session:
        check_in = checkin.begin(session, appointment_id, channel=Channel.KIOSK, now=utcnow(),
                                 tz=get_settings().tz, rules=clinic_settings.load(session),
                                 kiosk_id="kiosk-1")
        return check_in.id


def _kiosk_at(engine, appointment_id: int, step: str, lang: str = "en",
              **extra: Any) -> AppTest:
    """The kiosk on `step` of a check-in begun for `appointment_id`."""
    with Session(engine) as session:
        patient_id = session.get(Appointment, appointment_id).patient_id
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {
        "step": step, "lang": lang, "appointment_id": appointment_id,
        "check_in_id": _begin(engine, appointment_id), "patient_id": patient_id, **extra,
    }
    at.run()
    return at


def _question_index(engine, appointment_id: int, key: str) -> int:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        shown = questions.visible(questions.questions_for_visit(session, appointment), {})
    return [a.key for a in shown].index(key)


def _next(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == t("kiosk.next")).click().run()
    return at


def _child_visit(engine) -> int:
    """A nine-year-old's visit today, with a parent on file."""
    with session_scope(engine) as session:
        today = utcnow().date()
        child = make_patient(session, mrn="CHILD-1", legal_given_name="Alejandro",
                             legal_family_name="Ruiz",
                             birth_date=today.replace(year=today.year - 9))
        session.add(PatientContact(patient=child, kind=ContactKind.GUARDIAN,
                                   name="Lucía Ruiz", relationship_to_patient="parent",
                                   phone="+1 312 555 0100"))
        provider = session.scalars(select(Provider).order_by(Provider.id)).first()
        location = session.scalars(select(Location).order_by(Location.id)).first()
        appointment = make_appointment(session, patient=child, provider=provider,
                                       location=location, start=utcnow())
        session.flush()
        return appointment.id


def test_tapping_the_chosen_pain_score_again_keeps_it(app_db, clinic) -> None:
    index = _question_index(app_db, clinic.appointment_id, PAIN)
    at = _kiosk_at(app_db, clinic.appointment_id, "questions", q_index=index)
    (pills,) = at.pills
    pills.set_value(5)
    _next(at)
    assert at.session_state["kiosk"]["answers"][PAIN] == 5

    at.button(key="question_back").click().run()
    (pills,) = at.pills
    assert pills.value == 5
    # The patient taps 5 again: Streamlit's pills would now hold nothing.
    pills.set_value(None)
    _next(at)
    assert not at.error
    assert at.session_state["kiosk"]["answers"][PAIN] == 5
    assert at.session_state["kiosk"]["q_index"] == index + 1


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_urgent_instruction_is_on_the_screen_not_behind_a_question_mark(
    app_db, clinic, lang: str
) -> None:
    index = _question_index(app_db, clinic.appointment_id, CHEST)
    at = _kiosk_at(app_db, clinic.appointment_id, "questions", lang, q_index=index)
    instruction = {"en": "If yes, please also tell the front desk right away.",
                   "es": "Si la respuesta es sí, avise también en la recepción de inmediato."}
    assert instruction[lang] in [c.value for c in at.caption]
    (radio,) = at.radio
    assert not radio.help


def test_the_appointment_names_the_provider_and_place_in_spanish_when_given(
    app_db, clinic
) -> None:
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, clinic.appointment_id)
        provider, location = appointment.provider, appointment.location
        manager = session.scalars(select(StaffUser.id).order_by(StaffUser.id)).first()
        english = (provider.display_name, location.label)
        names.set_spanish_name(session, "provider", provider.id, " Dra.  Ana Pruebas ",
                               staff_user_id=manager)
        names.set_spanish_name(session, "location", location.id, "Clínica principal",
                               staff_user_id=manager)

    spanish = _kiosk_at(app_db, clinic.appointment_id, "appointment", "es")
    # Shown as plain text: Markdown's characters come escaped.
    shown = " ".join(m.value for m in spanish.markdown).replace("\\", "")
    assert "Dra. Ana Pruebas" in shown and "Clínica principal" in shown
    assert english[0] not in shown and english[1] not in shown

    at = _kiosk_at(app_db, clinic.appointment_id, "appointment", "en")
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert english[0] in shown and "Dra." not in shown


def test_an_empty_spanish_name_shows_the_usual_one(app_db, clinic) -> None:
    with session_scope(app_db) as session:
        provider = session.get(Appointment, clinic.appointment_id).provider
        assert names.set_spanish_name(session, "provider", provider.id, "Dra. Una",
                                      staff_user_id=None)
        assert not names.set_spanish_name(session, "provider", provider.id, "Dra. Una",
                                          staff_user_id=None)
        assert names.set_spanish_name(session, "provider", provider.id, "  ",
                                      staff_user_id=None)
        assert provider.display_name_es is None
        with pytest.raises(names.NameRefused):
            names.set_spanish_name(session, "provider", provider.id, "x" * 121,
                                   staff_user_id=None)


def test_a_manager_gives_spanish_names_on_the_settings_page(app_db, clinic) -> None:
    at = dashboard_as("manager", "settings")
    with Session(app_db) as session:
        location = session.scalars(select(Location).order_by(Location.id)).first()
        provider = session.scalars(select(Provider).order_by(Provider.id)).first()
    at.text_input(key=f"name_es_location_{location.id}").input("Medicina familiar")
    at.text_input(key=f"name_es_provider_{provider.id}").input("Dra. Alana Whitfield")
    at.button(key="names_es_save").click().run()
    assert t("names.spanish_saved") in [s.value for s in at.success]
    with Session(app_db) as session:
        assert session.get(Location, location.id).name_es == "Medicina familiar"
        assert session.get(Location, location.id).name == location.name
        assert session.get(Provider, provider.id).display_name_es == "Dra. Alana Whitfield"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_parent_checking_in_a_child_is_addressed_as_the_parent(app_db, clinic,
                                                                  lang: str) -> None:
    appointment_id = _child_visit(app_db)
    at = _kiosk_at(app_db, appointment_id, "appointment", lang)
    assert at.title[0].value == t("kiosk.checking_in", lang, name="Alejandro")
    assert any(m.value.startswith(t("kiosk.child_appointment_at", lang, name="Alejandro",
                                    time="", provider="")[:12]) for m in at.markdown)

    at = _kiosk_at(app_db, appointment_id, "consent", lang)
    (relationship,) = at.radio
    assert relationship.label == t("consent.relationship_to", lang, name="Alejandro")
    assert t("consent.rel_self", lang) not in relationship.options


def test_an_adult_is_greeted_by_name(app_db, clinic) -> None:
    at = _kiosk_at(app_db, clinic.appointment_id, "appointment")
    assert at.title[0].value == t("kiosk.hello", name=clinic.patient_given_name)


def test_back_stays_after_a_mistake_on_the_insurance_form(app_db, clinic) -> None:
    at = _kiosk_at(app_db, clinic.appointment_id, "insurance", insurance_mode="new")
    next(b for b in at.button if b.label == t("insurance.save")).click().run()
    assert [e.value for e in at.error] == [t("insurance.error_payer")]
    assert at.button(key="insurance_cancel").label == t("kiosk.back")
