"""Consent at check-in: which forms a visit needs signed, by each form's renewal rule, and
what makes a signature valid."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.models import (
    Appointment,
    ConsentForm,
    ConsentRenewal,
    ConsentSignature,
    Flag,
    FlagKind,
    FlagStatus,
    Patient,
    SignerRelationship,
)
from shared.services.consent import (
    FormToSign,
    SignatureRefused,
    flag_unsigned,
    forms_to_sign,
    sign,
    text_hash,
)
from tests.factories import (
    DEFAULT_START,
    add_consent_version,
    image_bytes,
    make_appointment,
    make_consent_form,
    make_patient,
)

DAY = date(2026, 6, 15)
NOW = DEFAULT_START - timedelta(minutes=6)
KIOSK = "kiosk-1"
SIGNATURE = image_bytes("PNG", (600, 180))
REL = SignerRelationship


def pending(session: Session, appointment: Appointment, language: str = "en") -> list[FormToSign]:
    return forms_to_sign(session, appointment, language=language, now=NOW, day=DAY)


def pending_keys(session: Session, appointment: Appointment) -> list[str]:
    return [f.form_key for f in pending(session, appointment)]


def sign_form(
    session: Session,
    appointment: Appointment,
    form: ConsentForm | FormToSign,
    *,
    now: datetime = NOW,
    signer_name: str = "Elena Parker",
    relationship: SignerRelationship = REL.SELF,
    signature_png: bytes | None = SIGNATURE,
    stroke_count: int = 4,
    language: str = "en",
) -> ConsentSignature:
    version_id = form.version_id if isinstance(form, FormToSign) else form.versions[-1].id
    return sign(session, appointment, version_id, signer_name=signer_name,
                relationship=relationship, signature_png=signature_png,
                stroke_count=stroke_count, language=language, now=now,
                day=now.astimezone(UTC).date(), kiosk_id=KIOSK)


def earlier_visit(session: Session, patient: Patient, days_ago: int) -> Appointment:
    return make_appointment(session, patient=patient,
                            start=DEFAULT_START - timedelta(days=days_ago))


# --- which forms this visit needs ------------------------------------------------------------


def test_required_active_forms_in_force_today_are_to_be_signed(session: Session) -> None:
    make_consent_form(session, "general_consent")
    make_consent_form(session, "privacy_notice", renewal=ConsentRenewal.ONCE)
    make_consent_form(session, "old_policy", active=False)
    make_consent_form(session, "draft_policy", published_at=None)
    make_consent_form(session, "next_month_policy", effective_from=date(2026, 7, 1))
    make_consent_form(session, "photo_release", required=False)
    make_consent_form(session, "starts_today", effective_from=DAY)
    appointment = make_appointment(session)

    assert pending_keys(session, appointment) == ["general_consent", "privacy_notice",
                                                  "starts_today"]


def test_the_form_shown_is_its_current_version(session: Session) -> None:
    form = make_consent_form(session, "general_consent")
    appointment = make_appointment(session)

    (to_sign,) = pending(session, appointment)

    assert to_sign.version_id == form.versions[0].id
    assert to_sign.version == 1
    assert to_sign.title == "Consent to treatment (v1)"
    assert to_sign.body == form.versions[0].body_en


def test_a_once_only_form_signed_years_ago_stays_signed(session: Session) -> None:
    form = make_consent_form(session, "privacy_notice", renewal=ConsentRenewal.ONCE)
    appointment = make_appointment(session)
    visit_long_ago = earlier_visit(session, appointment.patient, days_ago=3 * 365)
    sign_form(session, visit_long_ago, form, now=NOW - timedelta(days=3 * 365))

    assert pending_keys(session, appointment) == []


@pytest.mark.parametrize(("days_ago", "due"), [(1, False), (364, False), (365, True),
                                               (400, True)])
def test_a_yearly_form_is_due_again_after_365_days(
    session: Session, days_ago: int, due: bool
) -> None:
    form = make_consent_form(session, "general_consent", renewal=ConsentRenewal.YEARLY)
    appointment = make_appointment(session)
    before = earlier_visit(session, appointment.patient, days_ago=days_ago)
    sign_form(session, before, form, now=NOW - timedelta(days=days_ago))

    assert pending_keys(session, appointment) == (["general_consent"] if due else [])


def test_an_every_visit_form_is_signed_again_at_each_visit(session: Session) -> None:
    form = make_consent_form(session, "procedure_consent", renewal=ConsentRenewal.EVERY_VISIT)
    appointment = make_appointment(session)
    yesterday = earlier_visit(session, appointment.patient, days_ago=1)
    sign_form(session, yesterday, form, now=NOW - timedelta(days=1))

    assert pending_keys(session, appointment) == ["procedure_consent"]

    sign_form(session, appointment, form)

    assert pending_keys(session, appointment) == []


def test_a_newer_published_version_must_be_signed_again(session: Session) -> None:
    form = make_consent_form(session, "privacy_notice", renewal=ConsentRenewal.ONCE)
    appointment = make_appointment(session)
    sign_form(session, earlier_visit(session, appointment.patient, days_ago=30), form,
              now=NOW - timedelta(days=30))
    assert pending_keys(session, appointment) == []

    newer = add_consent_version(session, form, effective_from=date(2026, 6, 1),
                                published_at=datetime(2026, 5, 25, 15, 0, tzinfo=UTC))

    (to_sign,) = pending(session, appointment)
    assert to_sign.version_id == newer.id
    assert to_sign.version == 2


def test_a_draft_or_future_version_does_not_ask_for_a_new_signature(session: Session) -> None:
    form = make_consent_form(session, "privacy_notice", renewal=ConsentRenewal.ONCE)
    appointment = make_appointment(session)
    sign_form(session, earlier_visit(session, appointment.patient, days_ago=30), form,
              now=NOW - timedelta(days=30))

    add_consent_version(session, form, published_at=None)
    add_consent_version(session, form, effective_from=date(2026, 7, 1))

    assert pending_keys(session, appointment) == []


def test_another_patients_signature_does_not_count(session: Session) -> None:
    form = make_consent_form(session, "privacy_notice", renewal=ConsentRenewal.ONCE)
    appointment = make_appointment(session)
    sign_form(session, make_appointment(session), form)

    assert pending_keys(session, appointment) == ["privacy_notice"]


def test_a_form_for_one_visit_type_is_asked_only_at_that_visit(session: Session) -> None:
    make_consent_form(session, "dental_xray", visit_types=["Dental cleaning"])
    follow_up = make_appointment(session, visit_type="Follow-up")
    cleaning = make_appointment(session, visit_type="Dental cleaning")

    assert pending_keys(session, follow_up) == []
    assert pending_keys(session, cleaning) == ["dental_xray"]


def test_a_spanish_reader_gets_the_spanish_text_when_the_clinic_wrote_one(
    session: Session,
) -> None:
    make_consent_form(session, "general_consent", title_es="Consentimiento para recibir atención",
                      body_es="Acepto que el personal de esta clínica me atienda.")
    make_consent_form(session, "financial_policy", title_en="Financial policy",
                      body_en="I will give the clinic my current insurance.")
    appointment = make_appointment(session)

    general, financial = pending(session, appointment, language="es")

    assert general.title == "Consentimiento para recibir atención"
    assert general.body == "Acepto que el personal de esta clínica me atienda."
    assert (financial.title, financial.body) == ("Financial policy",
                                                 "I will give the clinic my current insurance.")


# --- signing ---------------------------------------------------------------------------------


def refused(session: Session, appointment: Appointment, form: ConsentForm, **kwargs) -> str:
    with pytest.raises(SignatureRefused) as error:
        sign_form(session, appointment, form, **kwargs)
    return error.value.key


@pytest.mark.parametrize(("strokes", "png"), [(0, SIGNATURE), (3, None), (3, b""), (0, None)])
def test_an_empty_signature_is_refused(session: Session, strokes: int, png: bytes | None) -> None:
    form = make_consent_form(session)
    appointment = make_appointment(session)

    assert refused(session, appointment, form, stroke_count=strokes,
                   signature_png=png) == "consent.error_empty"
    assert session.scalars(select(ConsentSignature)).all() == []


@pytest.mark.parametrize("name", ["", "E", "   E  ", "x" * 201])
def test_the_signer_must_type_their_name(session: Session, name: str) -> None:
    form = make_consent_form(session)
    appointment = make_appointment(session)

    assert refused(session, appointment, form, signer_name=name) == "consent.error_name"


def test_a_minor_cannot_sign_for_themselves(session: Session) -> None:
    form = make_consent_form(session)
    child = make_patient(session, legal_given_name="Mateo", birth_date=date(2012, 9, 1))
    appointment = make_appointment(session, patient=child)

    assert refused(session, appointment, form, signer_name="Mateo Reyes") == "consent.error_minor"


@pytest.mark.parametrize("relationship", [REL.PARENT, REL.GUARDIAN, REL.LEGAL_REPRESENTATIVE])
def test_a_parent_or_guardian_signs_for_a_minor(
    session: Session, engine: Engine, relationship: SignerRelationship
) -> None:
    form = make_consent_form(session)
    child = make_patient(session, legal_given_name="Mateo", birth_date=date(2012, 9, 1))
    appointment = make_appointment(session, patient=child)

    signature = sign_form(session, appointment, form, signer_name="  Ana   Reyes ",
                          relationship=relationship)
    session.commit()

    with Session(engine) as fresh:
        stored = fresh.get(ConsentSignature, signature.id)
        assert stored is not None
        assert stored.patient_id == child.id
        assert stored.appointment_id == appointment.id
        assert stored.signer_name == "Ana Reyes"
        assert stored.signer_relationship == relationship
        assert stored.signature_png == SIGNATURE
        assert stored.kiosk_id == KIOSK
    assert pending_keys(session, appointment) == []


def test_someone_turning_18_today_signs_for_themselves(session: Session) -> None:
    form = make_consent_form(session)
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(2008, 6, 15)))

    signature = sign_form(session, appointment, form)

    assert signature.signer_relationship == REL.SELF


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_signature_keeps_a_hash_of_the_exact_text_shown(
    session: Session, language: str
) -> None:
    make_consent_form(session, title_en="Consent to treatment", body_en="I agree.",
                      title_es="Consentimiento", body_es="Estoy de acuerdo.")
    appointment = make_appointment(session)
    (shown,) = pending(session, appointment, language=language)

    signature = sign_form(session, appointment, shown, language=language)

    assert signature.text_sha256 == text_hash(shown.title, shown.body)
    assert signature.language == language
    english, spanish = text_hash("Consent to treatment", "I agree."), text_hash(
        "Consentimiento", "Estoy de acuerdo.")
    assert signature.text_sha256 == (spanish if language == "es" else english)
    assert english != spanish


def test_declining_to_sign_at_the_kiosk_asks_the_desk_to_follow_up(session: Session) -> None:
    make_consent_form(session, "financial_policy")
    appointment = make_appointment(session)
    (form,) = pending(session, appointment)

    flag_unsigned(session, appointment, form, now=NOW, kiosk_id=KIOSK)
    flag_unsigned(session, appointment, form, now=NOW, kiosk_id=KIOSK)

    (flag,) = session.scalars(select(Flag)).all()
    assert flag.kind == FlagKind.CONSENT_MISSING
    assert flag.status == FlagStatus.OPEN
    assert flag.appointment_id == appointment.id
    assert flag.patient_id == appointment.patient_id
    assert flag.new_value == {"form": "financial_policy", "version": 1}
