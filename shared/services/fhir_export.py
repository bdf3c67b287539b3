"""FHIR R4 export of a clinic day or of one appointment: a Bundle of type `collection`.

For each appointment: an Appointment; once the patient has arrived, an Encounter with the
arrival, check-in, in-room and finish times; the kiosk answers as a QuestionnaireResponse.
For each patient: the Patient and the Coverage in force as they are on record now (after
the desk accepted any change), the Consents they have signed (the signature image and a
hash of the exact text shown), and a Provenance for each change the desk accepted at these
visits. One Questionnaire holds the exact versions of the kiosk questions that were answered.

Status mapping. Appointment: ours are FHIR's, except our in-room step, exported as
`checked-in` with our own status in an extension (on every Appointment, so a reader finds it
in one place). Encounter: arrived -> `arrived`, checked-in -> `triaged` (check-in finished:
questions answered and the desk's checks done), in-room -> `in-progress`, fulfilled ->
`finished`; the earlier steps are in `statusHistory`, each with its period.

Every resource is built as FHIR JSON and the whole Bundle is validated with the R4B models
of fhir.resources (R4B and R4 share these resources' JSON). Ids are stable: a UUID derived
from the record's id, so exporting a day twice gives the same fullUrls.

The export holds patient information; nothing of it is logged (counts only).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.clinic_time import day_bounds
from shared.errors import DomainError
from shared.models import (
    Answer,
    Appointment,
    AppointmentStatus,
    CheckIn,
    ConsentForm,
    ConsentFormVersion,
    ConsentRenewal,
    ConsentSignature,
    ContactKind,
    Coverage,
    Flag,
    FlagKind,
    FlagStatus,
    KioskQuestionVersion,
    Language,
    Location,
    Patient,
    Provider,
    QuestionType,
    SignerRelationship,
)
from shared.services import audit
from shared.services.consent import shown_text
from shared.services.review import CHANGE_KINDS

log = logging.getLogger(__name__)

# The clinic's own naming systems. A clinic that shares exports should put its own base here.
BASE = "urn:checkin"
MRN_SYSTEM = f"{BASE}:mrn"
APPOINTMENT_SYSTEM = f"{BASE}:appointment"
PROVIDER_SYSTEM = f"{BASE}:provider"
LOCATION_SYSTEM = f"{BASE}:location"
STATUS_EXTENSION = f"{BASE}:fhir:StructureDefinition/appointment-clinic-status"
TEXT_HASH_EXTENSION = f"{BASE}:fhir:StructureDefinition/consent-text-sha256"
FORM_SYSTEM = f"{BASE}:consent-form"
CHOICE_SYSTEM = f"{BASE}:kiosk-question"

_IDS = uuid.UUID("8a0c5f2e-3d41-5b7a-9c6e-1f2a3b4c5d6e")

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"
V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V3_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
LOINC = "http://loinc.org"
BCP47 = "urn:ietf:bcp:47"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

S = AppointmentStatus
APPOINTMENT_STATUS = {
    S.BOOKED: "booked",
    S.ARRIVED: "arrived",
    S.CHECKED_IN: "checked-in",
    S.IN_ROOM: "checked-in",
    S.FULFILLED: "fulfilled",
    S.NOSHOW: "noshow",
    S.CANCELLED: "cancelled",
}
# The visit's steps in order, the Appointment time each one stamps, and its Encounter status.
ENCOUNTER_STEPS = (
    (S.ARRIVED, "arrived_at", "arrived"),
    (S.CHECKED_IN, "checked_in_at", "triaged"),
    (S.IN_ROOM, "in_room_at", "in-progress"),
    (S.FULFILLED, "completed_at", "finished"),
)
ENCOUNTER_STATUSES = frozenset(step[0] for step in ENCOUNTER_STEPS)

ITEM_TYPE = {
    QuestionType.YES_NO: "boolean",
    QuestionType.SINGLE_CHOICE: "choice",
    QuestionType.MULTIPLE_CHOICE: "choice",
    QuestionType.SHORT_TEXT: "string",
    QuestionType.NUMBER: "decimal",
    QuestionType.DATE: "date",
    QuestionType.PAIN_SCALE: "integer",
}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
YEAR = timedelta(days=365)


class ExportRefused(DomainError):
    key = "reminders.error_not_found"


# --- Helpers -----------------------------------------------------------------------------


def resource_id(kind: str, key: object) -> str:
    """A stable UUID for one of our records as a FHIR resource of type `kind`."""
    return str(uuid.uuid5(_IDS, f"{kind}/{key}"))


def ref(kind: str, key: object) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id(kind, key)}"}


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC, to the second: '2026-06-15T15:00:00Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


# --- Patient and coverage ----------------------------------------------------------------


def patient_resource(patient: Patient) -> dict[str, Any]:
    official: dict[str, Any] = {
        "use": "official", "family": patient.legal_family_name,
        "given": [n for n in (patient.legal_given_name, patient.middle_name) if n]}
    if patient.name_prefix:
        official["prefix"] = [patient.name_prefix]
    if patient.name_suffix:
        official["suffix"] = [patient.name_suffix]
    names = [official]
    if patient.preferred_name:
        names.append({"use": "usual", "family": patient.legal_family_name,
                      "given": [patient.preferred_name]})
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    address = _drop_empty({
        "use": "home",
        "line": [line for line in (patient.address_line, patient.address_line2) if line],
        "city": patient.city, "state": patient.state, "postalCode": patient.postal_code,
    })
    contacts = []
    for contact in patient.contacts:
        relationship = (
            _coding(V2_0131, "C", "Emergency Contact") if contact.kind == ContactKind.EMERGENCY
            else _coding(V3_ROLE, "GUARD", "guardian")
        )
        contacts.append(_drop_empty({
            "relationship": [{"coding": [relationship],
                              "text": contact.relationship_to_patient or None}],
            "name": {"text": contact.name},
            "telecom": [{"system": "phone", "value": contact.phone}] if contact.phone else [],
        }))
    language = patient.preferred_language.value
    return _drop_empty({
        "resourceType": "Patient",
        "id": resource_id("Patient", patient.id),
        "meta": {"lastUpdated": instant(patient.updated_at)} if patient.updated_at else None,
        "identifier": [{
            "use": "usual",
            "type": {"coding": [_coding(V2_0203, "MR", "Medical record number")]},
            "system": MRN_SYSTEM,
            "value": patient.mrn,
        }],
        "name": names,
        "telecom": telecom,
        "gender": patient.sex.value,
        "birthDate": patient.birth_date.isoformat(),
        "address": [address] if len(address) > 1 else [],
        "contact": contacts,
        "communication": [{
            "language": {"coding": [_coding(BCP47, language, LANGUAGE_NAMES.get(language))]},
            "preferred": True,
        }],
    })


def coverage_resource(coverage: Coverage) -> dict[str, Any]:
    classes = []
    if coverage.group_id:
        classes.append({"type": {"coding": [_coding(COVERAGE_CLASS, "group", "Group")]},
                        "value": coverage.group_id})
    if coverage.plan:
        classes.append({"type": {"coding": [_coding(COVERAGE_CLASS, "plan", "Plan")]},
                        "value": coverage.plan, "name": coverage.plan})
    relationship = coverage.subscriber_relationship.value
    subscriber: dict[str, Any] | None
    if relationship == "self":
        subscriber = ref("Patient", coverage.patient_id)
    else:
        subscriber = {"display": coverage.subscriber_name} if coverage.subscriber_name else None
    return _drop_empty({
        "resourceType": "Coverage",
        "id": resource_id("Coverage", coverage.id),
        "status": "active",
        "subscriber": subscriber,
        "subscriberId": coverage.member_id,
        "beneficiary": ref("Patient", coverage.patient_id),
        "relationship": {"coding": [_coding(SUBSCRIBER_RELATIONSHIP, relationship)]},
        "period": _drop_empty({
            "start": coverage.effective_from.isoformat() if coverage.effective_from else None,
            "end": coverage.effective_to.isoformat() if coverage.effective_to else None,
        }),
        "payor": [{"display": coverage.payer}],
        "class": classes,
        "order": coverage.rank,
    })


# --- Appointment and encounter -----------------------------------------------------------


def practitioner_resource(provider: Provider) -> dict[str, Any]:
    """The provider as a resource, so that the Bundle imports back with its name and code."""
    return _drop_empty({
        "resourceType": "Practitioner",
        "id": resource_id("Practitioner", provider.id),
        "identifier": [{"system": PROVIDER_SYSTEM, "value": provider.external_id}]
        if provider.external_id else [],
        "name": [{"text": provider.display_name}],
    })


def location_resource(location: Location) -> dict[str, Any]:
    return _drop_empty({
        "resourceType": "Location",
        "id": resource_id("Location", location.id),
        "identifier": [{"system": LOCATION_SYSTEM, "value": location.external_id}]
        if location.external_id else [],
        "name": location.name,
        "type": [{"text": location.department}],
    })


def appointment_resource(appointment: Appointment) -> dict[str, Any]:
    provider = appointment.provider
    practitioner = _drop_empty({
        **ref("Practitioner", provider.id),
        "display": provider.display_name,
        "identifier": {"system": PROVIDER_SYSTEM, "value": provider.external_id}
        if provider.external_id else None,
    })
    return _drop_empty({
        "resourceType": "Appointment",
        "id": resource_id("Appointment", appointment.id),
        "extension": [{"url": STATUS_EXTENSION, "valueCode": appointment.status.value}],
        "identifier": [{"system": APPOINTMENT_SYSTEM, "value": appointment.external_id}]
        if appointment.external_id else [],
        "status": APPOINTMENT_STATUS[appointment.status],
        "appointmentType": {"text": appointment.visit_type},
        "start": instant(appointment.start),
        "end": instant(appointment.end),
        "minutesDuration": appointment.duration_minutes,
        "created": instant(appointment.created_at) if appointment.created_at else None,
        "participant": [
            {"actor": ref("Patient", appointment.patient_id), "required": "required",
             "status": "accepted"},
            {"type": [{"coding": [_coding(V3_PARTICIPATION, "PPRF", "primary performer")]}],
             "actor": practitioner, "required": "required", "status": "accepted"},
            {"actor": {**ref("Location", appointment.location_id),
                       "display": appointment.location.label},
             "required": "required", "status": "accepted"},
        ],
    })


def _steps_taken(appointment: Appointment) -> list[tuple[str, datetime]]:
    """(Encounter status, when) for each step up to the current one that has a time."""
    order = [step[0] for step in ENCOUNTER_STEPS]
    reached = order.index(appointment.status)
    taken = []
    for status, stamp, fhir_status in ENCOUNTER_STEPS[: reached + 1]:
        at = getattr(appointment, stamp)
        if at is not None:
            taken.append((fhir_status, at))
        elif status == appointment.status:
            taken.append((fhir_status, appointment.arrived_at or appointment.start))
    return taken


def encounter_resource(appointment: Appointment) -> dict[str, Any] | None:
    """The visit once the patient is here; None before they arrive (or if they never came)."""
    if appointment.status not in ENCOUNTER_STATUSES:
        return None
    steps = _steps_taken(appointment)
    history = [
        {"status": status, "period": {"start": instant(at), "end": instant(steps[i + 1][1])}}
        for i, (status, at) in enumerate(steps[:-1])
    ]
    finished = appointment.status == S.FULFILLED
    start = appointment.arrived_at or steps[0][1]
    period = {"start": instant(start)}
    if finished and appointment.completed_at is not None:
        period["end"] = instant(appointment.completed_at)
    return _drop_empty({
        "resourceType": "Encounter",
        "id": resource_id("Encounter", appointment.id),
        "status": steps[-1][0],
        "statusHistory": history,
        "class": _coding(V3_ACT, "AMB", "ambulatory"),
        "type": [{"text": appointment.visit_type}],
        "subject": ref("Patient", appointment.patient_id),
        "participant": [{"individual": {"display": appointment.provider.display_name}}],
        "appointment": [ref("Appointment", appointment.id)],
        "period": period,
        "location": [{"location": {"display": appointment.location.label},
                      "status": "completed" if finished else "active"}],
    })


# --- Questions and answers ---------------------------------------------------------------


def link_id(version: KioskQuestionVersion) -> str:
    """A question version's linkId: its key and version, so an edit is a different item."""
    return f"{version.question.key}.v{version.version}"


def _translated(text_en: str, text_es: str) -> dict[str, Any]:
    item: dict[str, Any] = {"text": text_en}
    if text_es and text_es != text_en:
        item["_text"] = {"extension": [{"url": TRANSLATION, "extension": [
            {"url": "lang", "valueCode": "es"}, {"url": "content", "valueString": text_es},
        ]}]}
    return item


def _bound(url: str, value: float | None, integer: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    if integer:
        return {"url": url, "valueInteger": int(value)}
    return {"url": url, "valueDecimal": value}


def questionnaire_item(version: KioskQuestionVersion) -> dict[str, Any]:
    kind = version.type
    item: dict[str, Any] = {"linkId": link_id(version),
                            **_translated(version.text_en, version.text_es),
                            "type": ITEM_TYPE[kind], "required": bool(version.required)}
    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        item["answerOption"] = [
            {"valueCoding": _coding(f"{CHOICE_SYSTEM}:{version.question.key}", c["value"],
                                    c.get("en") or c["value"])}
            for c in version.choices
        ]
        item["repeats"] = kind == QuestionType.MULTIPLE_CHOICE
    if kind in (QuestionType.NUMBER, QuestionType.PAIN_SCALE):
        integer = kind == QuestionType.PAIN_SCALE
        low, high = (0, 10) if integer else (version.min_value, version.max_value)
        bounds = [_bound(MIN_VALUE, low, integer), _bound(MAX_VALUE, high, integer)]
        if any(bounds):
            item["extension"] = [b for b in bounds if b]
    return item


def questionnaire_resource(versions: Sequence[KioskQuestionVersion], now: datetime
                           ) -> dict[str, Any]:
    key = ",".join(str(v.id) for v in sorted(versions, key=lambda v: v.id))
    rid = resource_id("Questionnaire", key)
    ordered = sorted(versions, key=lambda v: (v.question.position, v.question.id, v.version))
    return {
        "resourceType": "Questionnaire",
        "id": rid,
        "url": f"urn:uuid:{rid}",
        "name": "KioskCheckInQuestions",
        "title": "Kiosk check-in questions",
        "status": "active",
        "subjectType": ["Patient"],
        "date": instant(now),
        "item": [questionnaire_item(v) for v in ordered],
    }


def _answer_values(version: KioskQuestionVersion, value: Any, language: str
                   ) -> list[dict[str, Any]]:
    if value is None or value == "" or value == []:
        return []
    kind = version.type
    if kind == QuestionType.YES_NO:
        return [{"valueBoolean": bool(value)}]
    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        labels = {c["value"]: c.get(language) or c.get("en") or c["value"]
                  for c in version.choices}
        values = value if isinstance(value, list) else [value]
        return [{"valueCoding": _coding(f"{CHOICE_SYSTEM}:{version.question.key}", str(v),
                                        labels.get(v))} for v in values]
    if kind == QuestionType.PAIN_SCALE:
        return [{"valueInteger": int(value)}]
    if kind == QuestionType.NUMBER:
        return [{"valueDecimal": value}]
    if kind == QuestionType.DATE:
        return [{"valueDate": str(value)}]
    return [{"valueString": str(value)}]


def response_resource(appointment: Appointment, answers: Sequence[Answer],
                      questionnaire_url: str, check_in: CheckIn | None,
                      has_encounter: bool) -> dict[str, Any]:
    ordered = sorted(answers, key=lambda a: (a.question_version.question.position,
                                             a.question_version.question.id))
    items = []
    for answer in ordered:
        version = answer.question_version
        language = Language(answer.language).value
        item: dict[str, Any] = {"linkId": link_id(version), "text": version.text(language)}
        values = _answer_values(version, answer.value, language)
        if values:
            item["answer"] = values
        items.append(item)
    completed = check_in is not None and (
        check_in.questions_completed_at is not None or check_in.completed_at is not None)
    latest = max(ordered, key=lambda a: a.answered_at)
    return _drop_empty({
        "resourceType": "QuestionnaireResponse",
        "id": resource_id("QuestionnaireResponse", appointment.id),
        "language": Language(latest.language).value,
        "questionnaire": questionnaire_url,
        "status": "completed" if completed else "in-progress",
        "subject": ref("Patient", appointment.patient_id),
        "encounter": ref("Encounter", appointment.id) if has_encounter else None,
        "authored": instant(latest.answered_at),
        "author": ref("Patient", appointment.patient_id),
        "source": ref("Patient", appointment.patient_id),
        "item": items,
    })


# --- Consent and provenance --------------------------------------------------------------


def consent_resource(signature: ConsentSignature, form: ConsentForm, at: datetime
                     ) -> dict[str, Any]:
    """A signed form as it stood at `at` (a yearly form signed over a year before: inactive)."""
    version = signature.form_version
    language = Language(signature.language).value
    title, _ = shown_text(version, language)
    privacy = "privacy" in form.key
    yearly = form.renewal == ConsentRenewal.YEARLY
    attachment: dict[str, Any] = {
        "extension": [{"url": TEXT_HASH_EXTENSION, "valueString": signature.text_sha256}],
        "language": language,
        "title": title,
        "creation": instant(signature.signed_at),
    }
    if signature.signature_png:
        png_sha1 = hashlib.sha1(signature.signature_png, usedforsecurity=False).digest()
        attachment.update({
            "contentType": "image/png",
            "data": base64.b64encode(signature.signature_png).decode("ascii"),
            "size": len(signature.signature_png),
            # FHIR's Attachment.hash is the SHA-1 of the data itself, in base64.
            "hash": base64.b64encode(png_sha1).decode("ascii"),
        })
    if signature.signer_relationship == SignerRelationship.SELF:
        performer = ref("Patient", signature.patient_id)
    else:
        performer = {"type": "RelatedPerson", "display": signature.signer_name}
    return _drop_empty({
        "resourceType": "Consent",
        "id": resource_id("Consent", signature.id),
        "status": "inactive" if yearly and at - signature.signed_at >= YEAR else "active",
        "scope": {"coding": [_coding(CONSENT_SCOPE, "patient-privacy", "Privacy Consent")
                             if privacy else _coding(CONSENT_SCOPE, "treatment", "Treatment")]},
        "category": [{
            "coding": [_coding(LOINC, "57016-8", "Privacy policy acknowledgment Document")
                       if privacy else _coding(LOINC, "59284-0", "Patient Consent")],
            "text": version.title_en,
        }],
        "patient": ref("Patient", signature.patient_id),
        "dateTime": instant(signature.signed_at),
        "performer": [performer],
        "policy": [{"uri": f"{FORM_SYSTEM}:{form.key}:v{version.version}"}],
        "sourceAttachment": attachment,
        "provision": {"period": {"start": instant(signature.signed_at),
                                 "end": instant(signature.signed_at + YEAR)}} if yearly else None,
    })


def provenance_resource(flag: Flag, targets: list[dict[str, str]]) -> dict[str, Any]:
    """A change the patient proposed at the kiosk and the desk accepted into the record."""
    assert flag.resolved_at is not None
    verifier = flag.resolved_by.display_name if flag.resolved_by else "front desk"
    return _drop_empty({
        "resourceType": "Provenance",
        "id": resource_id("Provenance", flag.id),
        "target": targets,
        "occurredDateTime": instant(flag.raised_at) if flag.raised_at else None,
        "recorded": instant(flag.resolved_at),
        "activity": {"coding": [_coding(V3_DATA_OPERATION, "UPDATE", "revise")],
                     "text": flag.kind.value},
        "agent": [
            {"type": {"coding": [_coding(PROVENANCE_AGENT, "informant", "Informant")]},
             "who": ref("Patient", flag.patient_id)},
            {"type": {"coding": [_coding(PROVENANCE_AGENT, "verifier", "Verifier")]},
             "who": {"display": verifier}},
        ],
    })


# --- The bundle --------------------------------------------------------------------------


def _load_appointments(session: Session, *conditions: Any) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment)
        .options(
            selectinload(Appointment.patient).selectinload(Patient.contacts),
            selectinload(Appointment.patient).selectinload(Patient.coverages),
            selectinload(Appointment.provider),
            selectinload(Appointment.location),
        )
        .where(*conditions)
        .order_by(Appointment.start, Appointment.id)
    ))


def _latest_signatures(session: Session, until: dict[int, datetime]
                       ) -> list[tuple[ConsentSignature, ConsentForm]]:
    """Each patient's latest signature of each form, signed by their `until` time."""
    if not until:
        return []
    rows = session.execute(
        select(ConsentSignature, ConsentForm)
        .join(ConsentFormVersion, ConsentSignature.form_version_id == ConsentFormVersion.id)
        .join(ConsentForm, ConsentFormVersion.form_id == ConsentForm.id)
        .options(selectinload(ConsentSignature.form_version))
        .where(ConsentSignature.patient_id.in_(until),
               ConsentSignature.signed_at <= max(until.values()))
        .order_by(ConsentSignature.patient_id, ConsentForm.id, ConsentSignature.signed_at,
                  ConsentSignature.id)
    ).all()
    latest: dict[tuple[int, int], tuple[ConsentSignature, ConsentForm]] = {}
    for signature, form in rows:
        if signature.signed_at <= until[signature.patient_id]:
            latest[(signature.patient_id, form.id)] = (signature, form)
    return list(latest.values())


def build_bundle(session: Session, appointments: Sequence[Appointment], *, tz: ZoneInfo,
                 now: datetime) -> Bundle:
    """The validated Bundle for these appointments (an empty one for none)."""
    ids = [a.id for a in appointments]
    patients: dict[int, Patient] = {}
    for appointment in appointments:
        patients.setdefault(appointment.patient_id, appointment.patient)

    answers: dict[int, list[Answer]] = {}
    check_ins: dict[int, CheckIn] = {}
    flags: list[Flag] = []
    if ids:
        for answer in session.scalars(
            select(Answer)
            .options(selectinload(Answer.question_version)
                     .selectinload(KioskQuestionVersion.question))
            .where(Answer.appointment_id.in_(ids))
        ):
            answers.setdefault(answer.appointment_id, []).append(answer)
        for check_in in session.scalars(
            select(CheckIn).where(CheckIn.appointment_id.in_(ids))
            .order_by(CheckIn.started_at, CheckIn.id)
        ):
            check_ins[check_in.appointment_id] = check_in  # the latest attempt wins
        flags = list(session.scalars(
            select(Flag).options(selectinload(Flag.resolved_by))
            .where(Flag.appointment_id.in_(ids), Flag.status == FlagStatus.ACCEPTED,
                   Flag.kind.in_(CHANGE_KINDS))
            .order_by(Flag.resolved_at, Flag.id)
        ))

    entries: list[dict[str, Any]] = []
    coverage_of: dict[int, list[Coverage]] = {}
    for patient in patients.values():
        entries.append(_entry(patient_resource(patient)))
    providers = {a.provider_id: a.provider for a in appointments}
    locations = {a.location_id: a.location for a in appointments}
    entries.extend(_entry(practitioner_resource(p)) for p in providers.values())
    entries.extend(_entry(location_resource(loc)) for loc in locations.values())
    for appointment in appointments:
        day = appointment.start.astimezone(tz).date()
        for coverage in appointment.patient.coverages:
            listed = coverage_of.setdefault(appointment.patient_id, [])
            if coverage.is_active_on(day) and coverage not in listed:
                listed.append(coverage)
                entries.append(_entry(coverage_resource(coverage)))

    versions = {a.question_version.id: a.question_version for group in answers.values()
                for a in group}
    questionnaire_url = ""
    if versions:
        questionnaire = questionnaire_resource(list(versions.values()), now)
        questionnaire_url = questionnaire["url"]
        entries.append(_entry(questionnaire))

    for appointment in appointments:
        entries.append(_entry(appointment_resource(appointment)))
        encounter = encounter_resource(appointment)
        if encounter is not None:
            entries.append(_entry(encounter))
        if appointment.id in answers:
            entries.append(_entry(response_resource(
                appointment, answers[appointment.id], questionnaire_url,
                check_ins.get(appointment.id), encounter is not None)))

    last_visit: dict[int, Appointment] = {}
    for appointment in appointments:
        last_visit[appointment.patient_id] = appointment
    until = {patient_id: visit.end for patient_id, visit in last_visit.items()}
    for signature, form in _latest_signatures(session, until):
        visit = last_visit[signature.patient_id]
        entries.append(_entry(consent_resource(signature, form, visit.start)))

    for flag in flags:
        targets = [ref("Patient", flag.patient_id)]
        if flag.kind == FlagKind.INSURANCE_CHANGE:
            targets += [ref("Coverage", c.id) for c in coverage_of.get(flag.patient_id, [])
                        if c.rank == 1]
        entries.append(_entry(provenance_resource(flag, targets)))

    bundle = Bundle.model_validate({
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": instant(now),
        "entry": entries,
    } if entries else {
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
        "timestamp": instant(now),
    })
    log.info("FHIR export built: %d appointments, %d resources", len(appointments),
             len(entries))
    return bundle


def _export(session: Session, appointments: list[Appointment], *, tz: ZoneInfo, now: datetime,
            actor_type: str, actor_id: str | int | None) -> str:
    bundle = build_bundle(session, appointments, tz=tz, now=now)
    audit.record(session, actor_type=actor_type, actor_id=actor_id, action="fhir.exported",
                 record_type="appointment",
                 record_id=appointments[0].id if len(appointments) == 1 else None,
                 detail={"count": len(appointments)}, at=now)
    return bundle.model_dump_json(indent=2)


def export_day(session: Session, day: date, *, tz: ZoneInfo, now: datetime,
               actor_type: str = "system", actor_id: str | int | None = None) -> str:
    """Every appointment of the clinic day as FHIR R4 JSON (an empty Bundle for none)."""
    start, end = day_bounds(day, tz)
    appointments = _load_appointments(session, Appointment.start >= start,
                                      Appointment.start < end)
    return _export(session, appointments, tz=tz, now=now, actor_type=actor_type,
                   actor_id=actor_id)


def export_appointment(session: Session, appointment_id: int, *, tz: ZoneInfo, now: datetime,
                       actor_type: str = "system", actor_id: str | int | None = None) -> str:
    """One appointment as FHIR R4 JSON; ExportRefused when there is no such appointment."""
    appointments = _load_appointments(session, Appointment.id == appointment_id)
    if not appointments:
        raise ExportRefused(f"no appointment with id {appointment_id}",
                            key="reminders.error_not_found", id=appointment_id)
    return _export(session, appointments, tz=tz, now=now, actor_type=actor_type,
                   actor_id=actor_id)


def resource_counts(bundle_json: str) -> dict[str, int]:
    """How many resources of each type an exported Bundle holds."""
    bundle = Bundle.model_validate_json(bundle_json)
    counts: dict[str, int] = {}
    for entry in bundle.entry or []:
        kind = entry.resource.get_resource_type()
        counts[kind] = counts.get(kind, 0) + 1
    return counts

