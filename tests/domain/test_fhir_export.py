"""FHIR R4 export: a day of the demo clinic after check-ins, validated with the R4B models;
the exact wording each patient answered, the consent's text hash, the record as accepted."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import demo
from shared.models import (
    Appointment,
    AppointmentStatus,
    ConsentForm,
    ConsentFormVersion,
    ConsentSignature,
    FlagKind,
    FlagSeverity,
    KioskQuestion,
    Language,
    QuestionType,
    SignerRelationship,
    StaffUser,
)
from shared.services import consent, fhir_export, flags, questions, review
from shared.services.appointments import change_status
from shared.services.fhir_export import ExportRefused
from shared.services.reminders import appointments_on
from tests.factories import (
    DEFAULT_START,
    add_question_version,
    image_bytes,
    make_appointment,
    make_check_in,
)

TZ = ZoneInfo("America/Chicago")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=TZ).astimezone(UTC)
DAY = date(2026, 6, 15)
S = AppointmentStatus
ANSWERS: dict[QuestionType, Any] = {
    QuestionType.YES_NO: False,
    QuestionType.PAIN_SCALE: 3,
    QuestionType.SHORT_TEXT: "Sore throat",
    QuestionType.SINGLE_CHOICE: "portal",
    QuestionType.MULTIPLE_CHOICE: ["sensitivity"],
}


def _resources(text: str, kind: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    return [e["resource"] for e in data.get("entry", []) if e["resource"]["resourceType"] == kind]


def _by_id(text: str) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in json.loads(text).get("entry", [])}


def _check_in(session: Session, visit: Appointment, language: str, *, to: AppointmentStatus
              ) -> None:
    """Walk `visit` through the kiosk: arrive, answer every unconditional question, finish."""
    arrived = visit.start - timedelta(minutes=15)
    checked_in = arrived + timedelta(minutes=6)
    change_status(visit, S.ARRIVED, arrived)
    for asked in questions.questions_for_visit(session, visit):
        if asked.version.condition is None:
            questions.save_answer(session, visit, asked, ANSWERS[asked.version.type],
                                  language=language, now=arrived + timedelta(minutes=2),
                                  kiosk_id="kiosk-1")
    make_check_in(session, visit, started_at=arrived, identity_verified_at=arrived,
                  questions_completed_at=arrived + timedelta(minutes=3),
                  completed_at=checked_in, last_step="done")
    change_status(visit, S.CHECKED_IN, checked_in)
    if to == S.IN_ROOM:
        change_status(visit, S.IN_ROOM, checked_in + timedelta(minutes=10))
    session.flush()


@pytest.fixture
def clinic_day(session: Session) -> dict[str, Any]:
    """The demo day at noon, plus two kiosk check-ins (one in Spanish), a signature, and two
    accepted changes (an address, an insurance)."""
    demo.seed_demo(session, tz=TZ, now=NOW)
    manager = session.scalars(select(StaffUser).where(StaffUser.username == "manager")).one()
    visits = appointments_on(session, DAY, TZ)
    booked = [a for a in visits if a.status == S.BOOKED and a.patient.age_on(DAY) >= 18]
    spanish = next(a for a in booked if a.patient.preferred_language == Language.ES)
    english = next(a for a in booked if a.patient.preferred_language == Language.EN
                   and a.patient_id != spanish.patient_id
                   and any(c.is_active_on(DAY) for c in a.patient.coverages))
    _check_in(session, spanish, "es", to=S.CHECKED_IN)
    _check_in(session, english, "en", to=S.IN_ROOM)

    general = session.scalars(select(ConsentForm).where(
        ConsentForm.key == "general_consent")).one()
    version = general.versions[-1]
    signature = consent.sign(
        session, spanish, version.id, signer_name="Firma De Prueba",
        relationship=SignerRelationship.SELF, signature_png=image_bytes(), stroke_count=4,
        language="es", now=spanish.checked_in_at - timedelta(minutes=1), day=DAY,
        kiosk_id="kiosk-1")

    address = flags.raise_flag(
        session, kind=FlagKind.ADDRESS_CHANGE, severity=FlagSeverity.INFO, now=NOW,
        patient_id=spanish.patient_id, appointment_id=spanish.id, kiosk_id="kiosk-1",
        new_value={"address_line": "48 Kestrel Ct", "address_line2": "", "city": "Exampleton",
                   "state": "IL", "postal_code": "60991"})
    review.accept_flag(session, address.id, staff_user_id=manager.id, now=NOW, day=DAY)
    insurance = flags.raise_flag(
        session, kind=FlagKind.INSURANCE_CHANGE, severity=FlagSeverity.INFO, now=NOW,
        patient_id=english.patient_id, appointment_id=english.id, kiosk_id="kiosk-1",
        new_value={"payer": "Lakeshore Mutual", "member_id": "LM-20260615", "group_id": "G-77"})
    review.accept_flag(session, insurance.id, staff_user_id=manager.id, now=NOW, day=DAY)
    session.commit()
    session.expire_all()
    return {"spanish": spanish.id, "english": english.id, "signature": signature.id,
            "version": version.id}


def test_a_checked_in_day_exports_as_a_valid_r4_bundle(
    session: Session, clinic_day: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = fhir_export.export_day(session, DAY, tz=TZ, now=NOW, actor_type="staff", actor_id=1)

    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    Bundle.model_validate(json.loads(text))  # the plain JSON parses as R4B too

    visits = appointments_on(session, DAY, TZ)
    patients = {a.patient_id: a.patient for a in visits}
    here = {S.ARRIVED, S.CHECKED_IN, S.IN_ROOM, S.FULFILLED}
    coverages = sum(1 for p in patients.values() for c in p.coverages if c.is_active_on(DAY))
    signed_pairs = {
        (s.patient_id, v.form_id)
        for s, v in session.execute(
            select(ConsentSignature, ConsentFormVersion)
            .join(ConsentFormVersion, ConsentSignature.form_version_id == ConsentFormVersion.id)
            .where(ConsentSignature.patient_id.in_(patients))
        )
        if s.signed_at <= max(a.end for a in visits if a.patient_id == s.patient_id)
    }
    assert fhir_export.resource_counts(text) == {
        "Patient": len(patients),
        "Practitioner": len({a.provider_id for a in visits}),
        "Location": len({a.location_id for a in visits}),
        "Coverage": coverages,
        "Appointment": len(visits),
        "Encounter": sum(1 for a in visits if a.status in here),
        "Questionnaire": 1,
        "QuestionnaireResponse": 2,
        "Consent": len(signed_pairs),
        "Provenance": 2,
    }
    # Every reference points at a resource in the bundle.
    urls = set(_by_id(text))
    refs = {m for m in json.dumps(json.loads(text)).split('"') if m.startswith("urn:uuid:")}
    assert refs <= urls | {q["url"] for q in _resources(text, "Questionnaire")}

    # Nothing about a patient went to the log.
    for patient in patients.values():
        assert patient.legal_family_name not in caplog.text
        assert patient.mrn not in caplog.text


def test_answers_keep_the_wording_the_patient_saw_after_the_question_is_edited(
    session: Session, clinic_day: dict[str, Any]
) -> None:
    pain = session.scalars(select(KioskQuestion).where(KioskQuestion.key == "pain_level")).one()
    seen = pain.versions[0]
    add_question_version(session, pain, text_en="Rate your pain from 0 to 10.",
                         text_es="Califique su dolor del 0 al 10.")
    session.commit()

    text = fhir_export.export_day(session, DAY, tz=TZ, now=NOW)

    by_url = _by_id(text)
    spanish = next(r for r in _resources(text, "QuestionnaireResponse") if r["language"] == "es")
    english = next(r for r in _resources(text, "QuestionnaireResponse") if r["language"] == "en")
    for response, wording in ((spanish, seen.text_es), (english, seen.text_en)):
        item = next(i for i in response["item"] if i["linkId"] == "pain_level.v1")
        assert item["text"] == wording
        assert item["answer"] == [{"valueInteger": 3}]
        assert by_url[response["subject"]["reference"]]["resourceType"] == "Patient"
    assert spanish["status"] == "completed"
    choice = next(i for i in spanish["item"] if i["linkId"] == "visit_summary_delivery.v1")
    assert choice["answer"][0]["valueCoding"]["code"] == "portal"
    assert choice["answer"][0]["valueCoding"]["display"] == "Portal del paciente"

    questionnaire = _resources(text, "Questionnaire")[0]
    assert spanish["questionnaire"] == questionnaire["url"] == english["questionnaire"]
    items = {i["linkId"]: i for i in questionnaire["item"]}
    assert "pain_level.v2" not in items
    assert items["pain_level.v1"]["text"] == seen.text_en
    translation = items["pain_level.v1"]["_text"]["extension"][0]["extension"]
    assert {"url": "content", "valueString": seen.text_es} in translation
    answered = {i["linkId"] for r in (spanish, english) for i in r["item"]}
    assert set(items) == answered


def test_consent_carries_the_signature_image_and_the_hash_of_the_text(
    session: Session, clinic_day: dict[str, Any]
) -> None:
    text = fhir_export.export_appointment(session, clinic_day["spanish"], tz=TZ, now=NOW)
    signature = session.get(ConsentSignature, clinic_day["signature"])
    version = session.get(ConsentFormVersion, clinic_day["version"])
    title, body = consent.shown_text(version, "es")

    mine = [c for c in _resources(text, "Consent")
            if c["id"] == fhir_export.resource_id("Consent", signature.id)]
    assert len(mine) == 1
    resource = mine[0]
    assert resource["status"] == "active"
    assert resource["scope"]["coding"][0]["code"] == "treatment"
    assert resource["category"][0]["coding"][0]["system"] == "http://loinc.org"
    assert resource["dateTime"] == fhir_export.instant(signature.signed_at)
    attachment = resource["sourceAttachment"]
    assert base64.b64decode(attachment["data"]) == signature.signature_png
    assert attachment["contentType"] == "image/png"
    assert attachment["title"] == title
    assert attachment["extension"] == [{"url": fhir_export.TEXT_HASH_EXTENSION,
                                        "valueString": consent.text_hash(title, body)}]
    patient = _resources(text, "Patient")[0]
    assert resource["performer"] == [{"reference": f"urn:uuid:{patient['id']}"}]


def test_the_record_is_exported_as_accepted_with_provenance(
    session: Session, clinic_day: dict[str, Any]
) -> None:
    text = fhir_export.export_appointment(session, clinic_day["spanish"], tz=TZ, now=NOW)
    counts = fhir_export.resource_counts(text)
    assert counts["Patient"] == counts["Appointment"] == counts["Encounter"] == 1
    patient = _resources(text, "Patient")[0]
    assert patient["address"][0]["line"] == ["48 Kestrel Ct"]
    assert patient["address"][0]["postalCode"] == "60991"
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "es"
    provenance = _resources(text, "Provenance")
    assert len(provenance) == 1
    assert provenance[0]["target"] == [{"reference": f"urn:uuid:{patient['id']}"}]
    assert provenance[0]["activity"]["text"] == "address_change"
    assert provenance[0]["agent"][1]["who"] == {"display": "Morgan Manager"}

    text = fhir_export.export_appointment(session, clinic_day["english"], tz=TZ, now=NOW)
    coverage = _resources(text, "Coverage")
    assert [c["payor"][0]["display"] for c in coverage] == ["Lakeshore Mutual"]
    assert coverage[0]["subscriberId"] == "LM-20260615"
    assert coverage[0]["period"] == {"start": DAY.isoformat()}
    target = _resources(text, "Provenance")[0]["target"]
    assert {"reference": f"urn:uuid:{coverage[0]['id']}"} in target


def test_encounter_times_and_the_in_room_step(
    session: Session, clinic_day: dict[str, Any]
) -> None:
    spanish = session.get(Appointment, clinic_day["spanish"])
    english = session.get(Appointment, clinic_day["english"])
    text = fhir_export.export_day(session, DAY, tz=TZ, now=NOW)
    by_id = {r["id"]: r for r in json.loads(text)["entry"] for r in [r["resource"]]}

    appointment = by_id[fhir_export.resource_id("Appointment", english.id)]
    assert appointment["status"] == "checked-in"
    assert appointment["extension"] == [{"url": fhir_export.STATUS_EXTENSION,
                                         "valueCode": "in-room"}]
    encounter = by_id[fhir_export.resource_id("Encounter", english.id)]
    assert encounter["status"] == "in-progress"
    assert [h["status"] for h in encounter["statusHistory"]] == ["arrived", "triaged"]
    assert encounter["statusHistory"][0]["period"] == {
        "start": fhir_export.instant(english.arrived_at),
        "end": fhir_export.instant(english.checked_in_at)}

    encounter = by_id[fhir_export.resource_id("Encounter", spanish.id)]
    assert encounter["status"] == "triaged"
    assert encounter["period"] == {"start": fhir_export.instant(spanish.arrived_at)}
    assert encounter["statusHistory"][0]["period"]["end"] == fhir_export.instant(
        spanish.checked_in_at)
    assert by_id[fhir_export.resource_id("Appointment", spanish.id)]["status"] == "checked-in"


@pytest.mark.parametrize(("status", "fhir_status", "encounter"), [
    (S.BOOKED, "booked", None),
    (S.ARRIVED, "arrived", "arrived"),
    (S.CHECKED_IN, "checked-in", "triaged"),
    (S.IN_ROOM, "checked-in", "in-progress"),
    (S.FULFILLED, "fulfilled", "finished"),
    (S.NOSHOW, "noshow", None),
    (S.CANCELLED, "cancelled", None),
])
def test_every_status_maps(session: Session, status: AppointmentStatus, fhir_status: str,
                           encounter: str | None) -> None:
    stamps = {"arrived_at": DEFAULT_START - timedelta(minutes=10)} if encounter else {}
    appointment = make_appointment(session, status=status, **stamps)
    text = fhir_export.export_appointment(session, appointment.id, tz=TZ, now=NOW)
    Bundle.model_validate_json(text)
    assert _resources(text, "Appointment")[0]["status"] == fhir_status
    assert [e["status"] for e in _resources(text, "Encounter")] == (
        [encounter] if encounter else [])


def test_a_day_without_appointments_is_an_empty_valid_bundle(session: Session) -> None:
    text = fhir_export.export_day(session, date(2026, 7, 4), tz=TZ, now=NOW)
    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    assert not bundle.entry
    assert fhir_export.resource_counts(text) == {}


def test_an_unknown_appointment_is_refused_with_a_key(session: Session) -> None:
    with pytest.raises(ExportRefused) as refused:
        fhir_export.export_appointment(session, 987654, tz=TZ, now=NOW)
    assert refused.value.key == "reminders.error_not_found"
    assert refused.value.params == {"id": 987654}


def test_the_command_line_writes_the_export_for_its_owner_only(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared import cli
    from shared.config import get_settings
    from shared.db import get_engine, make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    monkeypatch.delenv("CHECKIN_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        engine = make_engine(url)
        with Session(engine) as session:
            appointment_id = make_appointment(session).id
            session.commit()
        engine.dispose()
        capsys.readouterr()

        assert cli.main(["export-fhir", "--day", "2026-06-15"]) == 0
        out = tmp_path / "exports" / "fhir-2026-06-15.json"
        assert out.stat().st_mode & 0o777 == 0o600
        assert fhir_export.resource_counts(out.read_text()) == {
            "Patient": 1, "Practitioner": 1, "Location": 1, "Appointment": 1}
        assert "Appointment 1, Location 1, Patient 1, Practitioner 1" in (
            capsys.readouterr().out)

        target = tmp_path / "one.json"
        assert cli.main(["export-fhir", "--appointment", str(appointment_id),
                         "--out", str(target)]) == 0
        Bundle.model_validate_json(target.read_text())

        assert cli.main(["export-fhir", "--appointment", "4242"]) == 1
        assert capsys.readouterr().err == "Error: no appointment with id 4242\n"
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
