"""The kiosk's consent step, with patients who have forms to sign, driven without a browser.

AppTest cannot move a finger over the signature pad (a streamlit-drawable-canvas component),
so `_draw` hands the kiosk what the pad sends back after a stroke: the canvas's JSON (one
object per stroke) and a PNG of it. Everything else is pressed and typed as a patient would.
"""

from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.clinic_time import clinic_today
from shared.config import get_settings
from shared.db import session_scope
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    ConsentForm,
    ConsentFormVersion,
    ConsentSignature,
    Flag,
    FlagKind,
    FlagStatus,
    Language,
    SignerRelationship,
    utcnow,
)
from shared.services import checkin, clinic_settings
from shared.services.consent import text_hash
from tests.apps.conftest import KIOSK, click, kiosk_step
from tests.apps.test_kiosk_flow import _answer_all_questions, _find_by_name
from tests.factories import image_bytes, make_appointment, make_consent_form, make_patient

REL = SignerRelationship
DUE = ["general_consent", "privacy_notice", "financial_policy"]  # in the order shown
SIGNATURE_PNG = image_bytes("PNG", (640, 200))


@pytest.fixture
def consent_day(app_db):
    """The demo day with no signature on file, so the demo patient has all three of the
    clinic's forms to sign (and every signature found was made in the test). An optional
    photo release exists too; the kiosk never asks for it."""
    settings = get_settings()
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=settings.tz, now=utcnow())
    with session_scope(app_db) as session:
        session.execute(delete(ConsentSignature))
        make_consent_form(session, "photo_release", required=False, title_en="Photo release")
    return info


def _version(engine, key: str) -> ConsentFormVersion:
    with Session(engine) as session:
        form = session.scalars(select(ConsentForm).where(ConsentForm.key == key)).one()
        (version,) = form.versions
        session.expunge(version)
        return version


def _begin(engine, appointment_id: int) -> int:
    settings = get_settings()
    with session_scope(engine) as session:
        check_in = checkin.begin(session, appointment_id, channel=Channel.KIOSK, now=utcnow(),
                                 tz=settings.tz, rules=clinic_settings.load(session),
                                 kiosk_id="kiosk-1")
        return check_in.id


def _on_consent(engine, appointment_id: int, lang: str = "en") -> AppTest:
    """The kiosk on the consent step of a check-in begun just now (the earlier steps done)."""
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {"step": "consent", "lang": lang,
                                 "appointment_id": appointment_id,
                                 "check_in_id": _begin(engine, appointment_id)}
    at.run()
    assert kiosk_step(at) == "consent"
    return at


def _canvas_key(at: AppTest) -> str:
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    (key,) = [node.key for node in walk(at.main)
              if type(node).__name__ == "UnknownElement"
              and str(getattr(node, "key", "")).startswith("signature_")]
    return key


def _draw(at: AppTest, strokes: int = 3) -> None:
    """What the signature pad on the screen sends back after `strokes` finger strokes; with
    0, a picture with no stroke in it, which must not count as a signature."""
    path = {"type": "path", "stroke": "#111827", "path": [["M", 40, 120], ["Q", 90, 60, 160, 110]]}
    png = "data:image/png;base64," + base64.b64encode(SIGNATURE_PNG).decode()
    at.session_state[_canvas_key(at)] = {
        "drawing": {"raw": {"version": "5.3.0", "objects": [path] * strokes}, "data": png}}


def _sign(at: AppTest, name: str, relationship: SignerRelationship | None = None) -> AppTest:
    _draw(at)
    if relationship is not None:
        at.radio[0].set_value(relationship)
    at.text_input[0].input(name)
    return click(at, "consent_sign")


def _texts(at: AppTest) -> list[str]:
    return [e.value for e in at.title] + [e.value for e in at.markdown] + [
        e.value for e in at.info]


def _signatures(engine) -> list[ConsentSignature]:
    with Session(engine) as session:
        return list(session.scalars(select(ConsentSignature).order_by(ConsentSignature.id)))


def _consent_flags(engine) -> list[Flag]:
    with Session(engine) as session:
        return list(session.scalars(select(Flag).where(Flag.kind == FlagKind.CONSENT_MISSING)
                                    .order_by(Flag.id)))


# --- reaching the step ------------------------------------------------------------------------


def test_after_the_questions_a_patient_with_forms_due_signs_one_and_leaves_two_for_the_desk(
    app_db, consent_day
) -> None:
    info = consent_day
    at = _find_by_name(AppTest.from_file(KIOSK, default_timeout=30).run(),
                       info.patient_family_name, info.birth_date)
    click(at, "appointment_ok")
    click(at, "details_ok")
    click(at, "insurance_same")
    _answer_all_questions(at, app_db)

    assert kiosk_step(at) == "consent"
    assert at.title[0].value == "Consent to treatment"
    signer = f"{info.patient_given_name} {info.patient_family_name}"
    _sign(at, f"  {info.patient_given_name}   {info.patient_family_name} ")
    assert kiosk_step(at) == "consent"
    assert at.title[0].value == "Notice of privacy practices"
    click(at, "consent_skip")
    assert at.title[0].value == "Financial policy"
    click(at, "consent_skip")

    assert kiosk_step(at) == "done"
    assert at.title[0].value == "Almost done"
    assert any("Please stop at the front desk" in text for text in _texts(at))
    # The done screen says which form was signed this time (not the two left for the desk).
    assert [c.value for c in at.caption if c.value.startswith("Signed this time")] == [
        "Signed this time: Consent to treatment."]
    general = _version(app_db, "general_consent")
    (signature,) = _signatures(app_db)
    assert signature.form_version_id == general.id
    assert signature.appointment_id == info.appointment_id
    assert signature.signer_name == signer
    assert signature.signer_relationship == REL.SELF
    assert signature.language == Language.EN
    assert signature.text_sha256 == text_hash(general.title_en, general.body_en)
    assert signature.signature_png == SIGNATURE_PNG
    assert signature.kiosk_id == "kiosk-1"
    flagged = _consent_flags(app_db)
    assert [f.new_value for f in flagged] == [{"form": "privacy_notice", "version": 1},
                                             {"form": "financial_policy", "version": 1}]
    assert all(f.status == FlagStatus.OPEN and f.appointment_id == info.appointment_id
               for f in flagged)
    with Session(app_db) as session:
        # Open consent flags keep the patient "arrived": the desk sees them first.
        assert session.get(Appointment, info.appointment_id).status == AppointmentStatus.ARRIVED
        check_in = session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == info.appointment_id)).one()
        assert check_in.consent_completed_at is not None
        assert check_in.completed_at is not None


def test_the_form_is_shown_in_full_with_who_signs_the_name_and_the_choices(
    app_db, consent_day
) -> None:
    at = _on_consent(app_db, consent_day.appointment_id)
    general = _version(app_db, "general_consent")

    assert at.title[0].value == general.title_en
    assert general.body_en in [m.value for m in at.markdown]  # every paragraph, not a summary
    assert "**Sign here with your finger**" in [m.value for m in at.markdown]
    (who,) = at.radio
    assert who.label == "Who is signing?"
    assert who.options == ["I am the patient", "Parent", "Guardian", "Legal representative"]
    assert who.value == REL.SELF
    assert [t.label for t in at.text_input] == ["Your full name"]
    labels = {b.label for b in at.button}
    assert {"I agree and sign", "I have questions: I'll talk to the front desk",
            "Clear the signature", "I need help"} <= labels
    assert not any("Photo release" in text for text in _texts(at))


# --- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize("strokes", [None, 0], ids=["nothing-sent", "blank-pad"])
def test_pressing_sign_without_drawing_is_refused_and_stores_nothing(
    app_db, consent_day, strokes: int | None
) -> None:
    at = _on_consent(app_db, consent_day.appointment_id)
    if strokes is not None:
        _draw(at, strokes=strokes)
    at.text_input[0].input("Elena Parker")
    click(at, "consent_sign")

    assert [e.value for e in at.error] == ["Please sign in the box with your finger."]
    assert at.title[0].value == "Consent to treatment"
    assert at.text_input[0].value == "Elena Parker"  # nothing typed is lost
    assert _signatures(app_db) == []
    assert _consent_flags(app_db) == []


def test_a_cleared_signature_is_not_signed(app_db, consent_day) -> None:
    at = _on_consent(app_db, consent_day.appointment_id)
    _draw(at)
    click(at, "consent_clear")
    at.text_input[0].input("Elena Parker")
    click(at, "consent_sign")

    assert [e.value for e in at.error] == ["Please sign in the box with your finger."]
    assert _signatures(app_db) == []


def test_a_signature_without_a_typed_name_is_refused(app_db, consent_day) -> None:
    at = _on_consent(app_db, consent_day.appointment_id)
    _draw(at)
    at.text_input[0].input(" E ")
    click(at, "consent_sign")

    assert [e.value for e in at.error] == ["Please type your full name."]
    assert _signatures(app_db) == []


# --- declining --------------------------------------------------------------------------------


def test_declining_every_form_asks_the_desk_about_each_and_signs_nothing(
    app_db, consent_day
) -> None:
    at = _on_consent(app_db, consent_day.appointment_id)
    shown = []
    for _ in DUE:
        shown.append(at.title[0].value)
        click(at, "consent_skip")

    assert shown == ["Consent to treatment", "Notice of privacy practices", "Financial policy"]
    assert kiosk_step(at) == "done"
    assert at.title[0].value == "Almost done"
    assert _signatures(app_db) == []
    flagged = _consent_flags(app_db)
    assert [f.new_value["form"] for f in flagged] == DUE  # the optional form is not flagged
    assert all(f.status == FlagStatus.OPEN for f in flagged)
    assert all(f.patient_id is not None and f.kiosk_id == "kiosk-1" for f in flagged)


# --- a minor, and Spanish ---------------------------------------------------------------------


@pytest.fixture
def child_visit(app_db, consent_day) -> int:
    """A nine-year-old's visit now, with the clinic's forms to sign."""
    today = clinic_today(get_settings().tz)
    with session_scope(app_db) as session:
        child = make_patient(session, legal_given_name="Mateo", legal_family_name="Reyes",
                             birth_date=date(today.year - 9, 1, 1))
        return make_appointment(session, patient=child,
                                start=utcnow()).id


def test_for_a_minor_a_parent_or_guardian_signs_and_self_is_not_offered(
    app_db, child_visit: int
) -> None:
    at = _on_consent(app_db, child_visit)

    (who,) = at.radio
    assert who.options == ["Parent", "Guardian", "Legal representative"]
    assert who.value == REL.PARENT
    assert ("The patient is under 18, so a parent, guardian or legal representative signs."
            in [i.value for i in at.info])
    _sign(at, "Ana Reyes", relationship=REL.GUARDIAN)
    assert not at.error
    assert at.title[0].value == "Notice of privacy practices"

    (signature,) = _signatures(app_db)
    assert signature.appointment_id == child_visit
    assert signature.signer_name == "Ana Reyes"
    assert signature.signer_relationship == REL.GUARDIAN


def test_a_spanish_reader_reads_and_signs_the_spanish_text(app_db, consent_day) -> None:
    at = _on_consent(app_db, consent_day.appointment_id, lang="es")
    general = _version(app_db, "general_consent")

    assert at.title[0].value == general.title_es == "Consentimiento para recibir atención"
    assert general.body_es in [m.value for m in at.markdown]
    assert general.body_en not in [m.value for m in at.markdown]
    assert at.radio[0].label == "¿Quién firma?"
    assert at.radio[0].options == ["Soy el paciente", "Padre o madre", "Tutor",
                                   "Representante legal"]
    assert at.text_input[0].label == "Su nombre completo"
    labels = {b.label for b in at.button}
    assert {"Acepto y firmo", "Tengo preguntas: hablaré con la recepción", "Borrar la firma",
            "Necesito ayuda"} <= labels
    assert not {"I agree and sign", "Clear the signature", "I need help"} & labels

    click(at, "consent_sign")  # nothing drawn: the refusal is in Spanish too
    assert [e.value for e in at.error] == ["Firme en el recuadro con el dedo, por favor."]
    _sign(at, "Elena Parker")
    assert at.title[0].value == "Aviso de prácticas de privacidad"

    (signature,) = _signatures(app_db)
    assert signature.language == Language.ES
    assert signature.text_sha256 == text_hash(general.title_es, general.body_es)
