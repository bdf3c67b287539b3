"""Managers keep the consent forms: which visits need them and how often, draft versions with
an effective date, and publishing. A published version is signed from its effective date on;
a patient's earlier signature stays tied to the version they signed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import CATALOGS
from shared.models import (
    Appointment,
    AuditEvent,
    ConsentForm,
    ConsentFormVersion,
    ConsentRenewal,
    ConsentSignature,
    Patient,
    SignerRelationship,
    StaffRole,
    StaffUser,
    utcnow,
)
from shared.services.consent import forms_to_sign, shown_text, sign, text_hash
from shared.services.consent_admin import (
    ConsentFormInvalid,
    FormDraft,
    add_version,
    forms,
    publish,
    save_form,
    set_active,
    spanish_outdated,
    spanish_outdated_by_version,
)
from tests.factories import DEFAULT_START, image_bytes, make_appointment, make_patient

DAY = date(2026, 6, 15)
NOW = DEFAULT_START - timedelta(minutes=6)
SIGNATURE = image_bytes("PNG", (600, 180))

PRIVACY_V1 = FormDraft(
    title_en="Notice of privacy practices",
    title_es="Aviso de prácticas de privacidad",
    body_en="The clinic keeps a record of my health and my care.",
    body_es="La clínica guarda un registro de mi salud y de la atención que recibo.",
    effective_from=date(2025, 1, 1),
)
PRIVACY_V2 = FormDraft(
    title_en="Notice of privacy practices",
    title_es="Aviso de prácticas de privacidad",
    body_en="The clinic keeps a record of my health and my care, and now shares it with my "
            "pharmacy when I ask.",
    body_es="La clínica guarda un registro de mi salud y de la atención que recibo, y ahora "
            "lo comparte con mi farmacia cuando lo pido.",
    effective_from=DAY,
)


@pytest.fixture
def manager(session: Session) -> StaffUser:
    # The staff row is made directly: argon2 hashing is not what these tests are about.
    user = StaffUser(username="grace.manager", display_name="Grace Whitfield",
                     password_hash="not-a-real-hash", role=StaffRole.MANAGER)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def patient(session: Session) -> Patient:
    return make_patient(session, legal_given_name="Lucía", legal_family_name="Ramírez Ortega")


@pytest.fixture
def visit(session: Session, patient: Patient) -> Appointment:
    return make_appointment(session, patient=patient)


def new_form(session: Session, manager: StaffUser, key: str = "privacy_notice",
             **rules: Any) -> ConsentForm:
    fields: dict[str, Any] = {"renewal": ConsentRenewal.ONCE, "required": True,
                              "visit_types": []}
    fields.update(rules)
    return save_form(session, key=key, staff_user_id=manager.id, **fields)


def draft(session: Session, manager: StaffUser, form: ConsentForm,
          text: FormDraft = PRIVACY_V1, *, spanish: bool = True) -> ConsentFormVersion:
    return add_version(session, form.id, text, spanish=spanish, staff_user_id=manager.id)


def published(session: Session, manager: StaffUser, form: ConsentForm,
              text: FormDraft = PRIVACY_V1) -> ConsentFormVersion:
    return publish(session, draft(session, manager, form, text).id, staff_user_id=manager.id)


def asked(session: Session, appointment: Appointment, *, day: date = DAY,
          now: datetime = NOW, language: str = "en") -> list[tuple[str, int]]:
    """The forms and versions the kiosk asks this patient to sign."""
    return [(f.form_key, f.version) for f in forms_to_sign(
        session, appointment, language=language, now=now, day=day)]


def sign_at_kiosk(session: Session, appointment: Appointment, version_id: int, *,
                  now: datetime = NOW, day: date = DAY) -> ConsentSignature:
    return sign(session, appointment, version_id, signer_name="Lucía Ramírez Ortega",
                relationship=SignerRelationship.SELF, signature_png=SIGNATURE, stroke_count=4,
                language="en", now=now, day=day, kiosk_id="kiosk-1")


def counts(session: Session) -> list[int | None]:
    """Forms, versions and audit events, read back in a fresh session."""
    with Session(session.get_bind()) as fresh:
        return [fresh.scalar(select(func.count()).select_from(model))
                for model in (ConsentForm, ConsentFormVersion, AuditEvent)]


def refused(exc: pytest.ExceptionInfo[ConsentFormInvalid], key: str) -> None:
    assert exc.value.key == key
    assert all(key in catalog for catalog in CATALOGS.values())


# --- Form rules ---------------------------------------------------------------------------------


def test_a_new_form_is_saved_with_its_rules(session: Session, manager: StaffUser) -> None:
    form = save_form(session, key="financial_policy", renewal=ConsentRenewal.YEARLY,
                     required=True, visit_types=["New patient", "Annual physical"],
                     staff_user_id=manager.id)
    session.commit()

    with Session(session.get_bind()) as fresh:
        stored = fresh.scalars(select(ConsentForm)).one()
        assert (stored.key, stored.renewal, stored.required, stored.visit_types, stored.active) \
            == ("financial_policy", ConsentRenewal.YEARLY, True,
                ["New patient", "Annual physical"], True)
        assert stored.versions == []
        event = fresh.scalars(select(AuditEvent).where(AuditEvent.action == "consent.saved")).one()
        assert (event.record_id, event.actor_id) == (form.id, str(manager.id))


def test_saving_a_form_again_changes_its_rules_in_place(
    session: Session, manager: StaffUser
) -> None:
    form = new_form(session, manager, "financial_policy", renewal=ConsentRenewal.YEARLY,
                    visit_types=["New patient"])
    session.commit()

    again = save_form(session, key=" financial_policy ", renewal=ConsentRenewal.EVERY_VISIT,
                      required=False, visit_types=[], staff_user_id=manager.id)
    session.commit()

    assert again.id == form.id
    assert [f.key for f in forms(session)] == ["financial_policy"]
    with Session(session.get_bind()) as fresh:
        stored = fresh.get(ConsentForm, form.id)
        assert stored is not None
        assert (stored.renewal, stored.required, stored.visit_types) == (
            ConsentRenewal.EVERY_VISIT, False, [])


@pytest.mark.parametrize(
    "key", ["Privacy Notice", "privacy-notice", "1st_consent", "p", "", "   ", "x" * 61,
            "consent'; DROP TABLE consent_form; --"],
)
def test_a_form_with_a_bad_key_is_refused(session: Session, manager: StaffUser,
                                          key: str) -> None:
    before = counts(session)

    with pytest.raises(ConsentFormInvalid) as exc:
        new_form(session, manager, key)
    refused(exc, "consent_admin.bad_key")
    session.commit()

    assert counts(session) == before


# --- Draft versions -----------------------------------------------------------------------------


def test_a_new_version_is_a_draft_with_the_next_number(
    session: Session, manager: StaffUser
) -> None:
    form = new_form(session, manager)
    v1 = draft(session, manager, form)
    v2 = draft(session, manager, form, PRIVACY_V2)
    session.commit()

    assert (v1.version, v2.version) == (1, 2)
    assert v1.published_at is None and v2.published_at is None
    with Session(session.get_bind()) as fresh:
        stored = fresh.get(ConsentFormVersion, v2.id)
        assert stored is not None
        assert (stored.title_es, stored.body_en, stored.effective_from, stored.created_by_id) \
            == (PRIVACY_V2.title_es, PRIVACY_V2.body_en, DAY, manager.id)
        assert stored.published_at is None


def test_version_texts_are_kept_without_stray_spaces(
    session: Session, manager: StaffUser
) -> None:
    form = new_form(session, manager)
    version = draft(session, manager, form, FormDraft(
        title_en="  Consent to treatment ", body_en="\nI agree to be treated.\n",
        title_es=" Consentimiento ", body_es=" Acepto recibir atención. ",
        effective_from=DAY))

    assert (version.title_en, version.body_en, version.title_es, version.body_es) == (
        "Consent to treatment", "I agree to be treated.", "Consentimiento",
        "Acepto recibir atención.")


REFUSED_DRAFTS = [
    ("no English title", FormDraft(title_en=" ", body_en="I agree.", title_es="Aviso",
                                   body_es="Acepto.", effective_from=DAY), True,
     "consent_admin.no_text"),
    ("no English text", FormDraft(title_en="Notice", body_en="", title_es="Aviso",
                                  body_es="Acepto.", effective_from=DAY), False,
     "consent_admin.no_text"),
    ("no Spanish title though Spanish is offered",
     FormDraft(title_en="Notice", body_en="I agree.", title_es="", body_es="Acepto.",
               effective_from=DAY), True, "consent_admin.no_spanish"),
    ("no Spanish text though Spanish is offered",
     FormDraft(title_en="Notice", body_en="I agree.", title_es="Aviso", body_es="  ",
               effective_from=DAY), True, "consent_admin.no_spanish"),
    ("no effective date", FormDraft(title_en="Notice", body_en="I agree.", title_es="Aviso",
                                    body_es="Acepto.", effective_from=None), True,
     "consent_admin.no_date"),
    ("a title longer than the form's title field",
     FormDraft(title_en="Notice of privacy practices " * 10, body_en="I agree.",
               effective_from=DAY), False, "consent_admin.invalid"),
    ("a Spanish title longer than the form's title field",
     FormDraft(title_en="Notice", body_en="I agree.", title_es="Aviso de privacidad " * 12,
               body_es="Acepto.", effective_from=DAY), True, "consent_admin.invalid"),
]


@pytest.mark.parametrize(("text", "spanish", "key"), [case[1:] for case in REFUSED_DRAFTS],
                         ids=[case[0] for case in REFUSED_DRAFTS])
def test_an_incomplete_version_is_refused_and_nothing_is_written(
    session: Session, manager: StaffUser, text: FormDraft, spanish: bool, key: str
) -> None:
    form = new_form(session, manager)
    session.commit()
    before = counts(session)

    with pytest.raises(ConsentFormInvalid) as exc:
        draft(session, manager, form, text, spanish=spanish)
    refused(exc, key)
    session.commit()

    assert counts(session) == before


def test_spanish_may_be_missing_while_the_clinic_offers_only_english(
    session: Session, manager: StaffUser
) -> None:
    form = new_form(session, manager)
    version = draft(session, manager, form, FormDraft(
        title_en="Notice of privacy practices", body_en="I was offered a copy of the notice.",
        effective_from=DAY), spanish=False)

    assert version.title_es == "" and version.body_es == ""


def test_a_version_for_a_form_that_does_not_exist_is_refused(
    session: Session, manager: StaffUser
) -> None:
    with pytest.raises(ConsentFormInvalid) as exc:
        add_version(session, 9999, PRIVACY_V1, spanish=True, staff_user_id=manager.id)
    refused(exc, "consent_admin.not_found")


# --- Publishing ---------------------------------------------------------------------------------


def test_publishing_a_draft_stamps_it_once(session: Session, manager: StaffUser) -> None:
    form = new_form(session, manager)
    version = draft(session, manager, form)
    before = utcnow()

    publish(session, version.id, staff_user_id=manager.id)
    session.commit()

    with Session(session.get_bind()) as fresh:
        stored = fresh.get(ConsentFormVersion, version.id)
        assert stored is not None and stored.published_at is not None
        assert before - timedelta(seconds=1) <= stored.published_at <= utcnow()
        stamped = stored.published_at
        event = fresh.scalars(select(AuditEvent)
                              .where(AuditEvent.action == "consent.published")).one()
        assert event.detail == {"form_version_id": version.id}

    with pytest.raises(ConsentFormInvalid) as exc:
        publish(session, version.id, staff_user_id=manager.id)
    refused(exc, "consent_admin.already_published")
    session.commit()
    with Session(session.get_bind()) as fresh:
        stored = fresh.get(ConsentFormVersion, version.id)
        assert stored is not None and stored.published_at == stamped


def test_publishing_a_version_that_does_not_exist_is_refused(
    session: Session, manager: StaffUser
) -> None:
    with pytest.raises(ConsentFormInvalid) as exc:
        publish(session, 9999, staff_user_id=manager.id)
    refused(exc, "consent_admin.not_found")


# --- What the kiosk asks a patient to sign ------------------------------------------------------


def test_a_draft_is_signed_by_nobody(session: Session, manager: StaffUser,
                                     visit: Appointment) -> None:
    form = new_form(session, manager)
    draft(session, manager, form, replace(PRIVACY_V1, effective_from=DAY - timedelta(days=30)))
    session.commit()

    assert asked(session, visit) == []
    assert asked(session, visit, day=DAY + timedelta(days=365)) == []


def test_a_version_published_for_a_later_day_is_signed_from_that_day(
    session: Session, manager: StaffUser, visit: Appointment
) -> None:
    form = new_form(session, manager)
    starts = DAY + timedelta(days=14)
    published(session, manager, form, replace(PRIVACY_V1, effective_from=starts))
    session.commit()

    assert asked(session, visit) == []
    assert asked(session, visit, day=starts - timedelta(days=1)) == []
    assert asked(session, visit, day=starts) == [("privacy_notice", 1)]


def test_a_patient_who_signed_version_1_is_asked_to_sign_version_2_once_it_is_in_effect(
    session: Session, manager: StaffUser, patient: Patient, visit: Appointment
) -> None:
    form = new_form(session, manager)
    v1 = published(session, manager, form)
    last_year = make_appointment(session, patient=patient,
                                 start=DEFAULT_START - timedelta(days=300))
    signed_v1 = sign_at_kiosk(session, last_year, v1.id, now=last_year.start,
                              day=DAY - timedelta(days=300))
    session.commit()
    assert asked(session, visit) == []  # signed once: nothing more to sign

    v2 = draft(session, manager, form, PRIVACY_V2)
    session.commit()
    assert asked(session, visit) == []  # a draft asks nobody

    publish(session, v2.id, staff_user_id=manager.id)
    session.commit()
    assert asked(session, visit, day=DAY - timedelta(days=1)) == []  # not in effect yet
    [to_sign] = forms_to_sign(session, visit, language="es", now=NOW, day=DAY)
    assert (to_sign.form_key, to_sign.version, to_sign.version_id) == ("privacy_notice", 2, v2.id)
    assert (to_sign.title, to_sign.body) == (PRIVACY_V2.title_es, PRIVACY_V2.body_es)

    sign_at_kiosk(session, visit, v2.id)
    session.commit()
    assert asked(session, visit) == []
    with Session(session.get_bind()) as fresh:
        kept = fresh.get(ConsentSignature, signed_v1.id)
        assert kept is not None
        assert kept.form_version_id == v1.id
        assert kept.form_version.version == 1
        assert kept.text_sha256 == text_hash(*shown_text(kept.form_version, "en"))
        assert kept.form_version.body_en == PRIVACY_V1.body_en
        assert [s.form_version_id for s in fresh.scalars(
            select(ConsentSignature).order_by(ConsentSignature.id))] == [v1.id, v2.id]


def test_a_deactivated_form_is_no_longer_asked_for(
    session: Session, manager: StaffUser, visit: Appointment
) -> None:
    form = new_form(session, manager)
    published(session, manager, form)
    session.commit()
    assert asked(session, visit) == [("privacy_notice", 1)]

    set_active(session, form.id, False, staff_user_id=manager.id)
    session.commit()
    assert asked(session, visit) == []
    with Session(session.get_bind()) as fresh:
        stored = fresh.get(ConsentForm, form.id)
        assert stored is not None and stored.active is False and len(stored.versions) == 1

    set_active(session, form.id, True, staff_user_id=manager.id)
    session.commit()
    assert asked(session, visit) == [("privacy_notice", 1)]
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(["consent.deactivated", "consent.activated"]))
        .order_by(AuditEvent.id)).all()
    assert actions == ["consent.deactivated", "consent.activated"]


def test_deactivating_a_form_that_does_not_exist_is_refused(
    session: Session, manager: StaffUser
) -> None:
    with pytest.raises(ConsentFormInvalid) as exc:
        set_active(session, 9999, False, staff_user_id=manager.id)
    refused(exc, "consent_admin.not_found")


def test_an_optional_form_is_not_asked_for(
    session: Session, manager: StaffUser, visit: Appointment
) -> None:
    optional = new_form(session, manager, "photo_release", required=False)
    published(session, manager, optional)
    required = new_form(session, manager, "privacy_notice")
    published(session, manager, required)
    session.commit()

    assert asked(session, visit) == [("privacy_notice", 1)]

    # Made optional later, the form is no longer asked for.
    new_form(session, manager, "privacy_notice", required=False)
    session.commit()
    assert asked(session, visit) == []


def test_a_form_for_some_visit_types_is_asked_only_at_those_visits(
    session: Session, manager: StaffUser, patient: Patient
) -> None:
    form = new_form(session, manager, "xray_consent", renewal=ConsentRenewal.EVERY_VISIT,
                    visit_types=["X-ray"])
    published(session, manager, form)
    session.commit()

    xray = make_appointment(session, patient=patient, visit_type="X-ray")
    follow_up = make_appointment(session, patient=patient, visit_type="follow-up")
    assert asked(session, xray) == [("xray_consent", 1)]
    assert asked(session, follow_up) == []


def test_renewal_rules_follow_the_managers_setting(
    session: Session, manager: StaffUser, patient: Patient, visit: Appointment
) -> None:
    form = new_form(session, manager, "general_consent", renewal=ConsentRenewal.YEARLY)
    version = published(session, manager, form)
    long_ago = make_appointment(session, patient=patient,
                                start=DEFAULT_START - timedelta(days=400))
    sign_at_kiosk(session, long_ago, version.id, now=long_ago.start,
                  day=DAY - timedelta(days=400))
    session.commit()
    assert asked(session, visit) == [("general_consent", 1)]  # over a year ago

    new_form(session, manager, "general_consent", renewal=ConsentRenewal.ONCE)
    session.commit()
    assert asked(session, visit) == []  # once is enough now

    new_form(session, manager, "general_consent", renewal=ConsentRenewal.EVERY_VISIT)
    session.commit()
    assert asked(session, visit) == [("general_consent", 1)]


def test_the_signed_text_hash_is_of_the_version_shown(
    session: Session, manager: StaffUser, visit: Appointment
) -> None:
    form = new_form(session, manager)
    version = published(session, manager, form)
    signature = sign_at_kiosk(session, visit, version.id)

    assert signature.text_sha256 == text_hash(PRIVACY_V1.title_en, PRIVACY_V1.body_en)
    assert signature.signed_at == NOW.astimezone(UTC)


# --- Spanish written for an older English --------------------------------------------------------


def test_english_edited_without_the_spanish_marks_the_version_out_of_date(
        session: Session, manager: StaffUser) -> None:
    form = new_form(session, manager)
    v1 = published(session, manager, form)
    english_only = replace(PRIVACY_V2, body_es=PRIVACY_V1.body_es)
    v2 = draft(session, manager, form, english_only)
    session.commit()
    form = forms(session)[0]
    assert spanish_outdated(form.versions) == ["body"]
    assert spanish_outdated_by_version(form) == {v1.id: [], v2.id: ["body"]}
    # A new title in English only: the body's Spanish is still the old one too.
    v3 = draft(session, manager, form, replace(english_only, title_en="Privacy notice"))
    session.commit()
    assert spanish_outdated_by_version(forms(session)[0])[v3.id] == ["title", "body"]
    # Someone saves the Spanish: the newest version is current again; the older keep theirs.
    v4 = draft(session, manager, form, replace(PRIVACY_V2, title_en="Privacy notice",
                                               title_es="Aviso de privacidad"))
    session.commit()
    by_version = spanish_outdated_by_version(forms(session)[0])
    assert by_version[v4.id] == [] and by_version[v2.id] == ["body"]


def test_both_languages_edited_together_are_current(
        session: Session, manager: StaffUser) -> None:
    form = new_form(session, manager)
    published(session, manager, form)
    draft(session, manager, form, PRIVACY_V2)
    session.commit()
    assert spanish_outdated(forms(session)[0].versions) == []
