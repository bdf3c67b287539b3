"""Factories for tests: each makes one valid row with plain defaults and flushes it.

Pass any column as a keyword to override it. Rows are flushed (so they have ids), never
committed: the test decides when its transaction ends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from itertools import count
from typing import TypeVar
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy.orm import Session

from shared.clinic_time import end_of_day
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    ConsentForm,
    ConsentFormVersion,
    ConsentRenewal,
    Coverage,
    Document,
    Flag,
    FlagKind,
    FlagSeverity,
    KioskQuestion,
    KioskQuestionVersion,
    Location,
    Patient,
    Provider,
    QuestionType,
    StaffRole,
    StaffUser,
)
from shared.services.staff import create_user

T = TypeVar("T")

# 10:00 in the morning in Chicago (CDT) on an ordinary Monday.
DEFAULT_START = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)

_serial = count(1)


def _save(session: Session, row: T) -> T:
    session.add(row)
    session.flush()
    return row


def make_patient(session: Session, **overrides: object) -> Patient:
    n = next(_serial)
    fields: dict[str, object] = {
        "mrn": f"MRN{n:06d}",
        "legal_given_name": "Rosalind",
        "legal_family_name": "Okonkwo-Delgado",
        "birth_date": date(1984, 2, 29),
        "phone": "312-555-0147",
    }
    fields.update(overrides)
    return _save(session, Patient(**fields))


def make_provider(session: Session, **overrides: object) -> Provider:
    fields: dict[str, object] = {"display_name": "Dr. Imani Okafor", "specialty": "Family Medicine"}
    fields.update(overrides)
    return _save(session, Provider(**fields))


def make_location(session: Session, **overrides: object) -> Location:
    n = next(_serial)
    fields: dict[str, object] = {"name": f"North Clinic {n}", "department": "Family Medicine"}
    fields.update(overrides)
    return _save(session, Location(**fields))


def due_soon(now: datetime, tz: ZoneInfo, minutes: int = 10) -> datetime:
    """A start `minutes` from now, but never on the next clinic day: just before midnight it
    is the day's last minute, so a visit made "for now" is today's at any hour."""
    return min(now + timedelta(minutes=minutes), end_of_day(now, tz) - timedelta(minutes=1))


def make_appointment(
    session: Session,
    *,
    start: datetime = DEFAULT_START,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    patient: Patient | None = None,
    provider: Provider | None = None,
    location: Location | None = None,
    **overrides: object,
) -> Appointment:
    """An appointment; the patient, provider and location are made too unless given.

    `status` is set directly, without the transition rules, to put a visit in any state.
    """
    fields: dict[str, object] = {
        "patient": patient or make_patient(session),
        "provider": provider or make_provider(session),
        "location": location or make_location(session),
        "start": start,
        "status": status,
        "visit_type": "follow-up",
    }
    fields.update(overrides)
    return _save(session, Appointment(**fields))


# --- Insurance, kiosk questions, consent forms and images (appended) -------------------------


def make_coverage(session: Session, patient: Patient, **overrides: object) -> Coverage:
    """A primary coverage in force since 2025 with no end date."""
    fields: dict[str, object] = {
        "patient": patient,
        "rank": 1,
        "payer": "Prairie Health Plan",
        "plan": "PPO Silver",
        "member_id": "XQP4471029",
        "group_id": "GRP-88120",
        "effective_from": date(2025, 1, 1),
        "effective_to": None,
    }
    fields.update(overrides)
    return _save(session, Coverage(**fields))


def make_question(
    session: Session,
    key: str,
    type: QuestionType = QuestionType.YES_NO,
    *,
    position: int = 0,
    active: bool = True,
    **version_fields: object,
) -> KioskQuestion:
    """A kiosk question with its first version; `version_fields` set that version's columns."""
    question = _save(session, KioskQuestion(key=key, position=position, active=active))
    add_question_version(session, question, type=type, **version_fields)
    return question


def add_question_version(
    session: Session, question: KioskQuestion, **overrides: object
) -> KioskQuestionVersion:
    """The next version of `question` (a copy of the newest one, with `overrides`)."""
    latest = question.versions[-1] if question.versions else None
    fields: dict[str, object] = {
        "type": latest.type if latest else QuestionType.YES_NO,
        "text_en": latest.text_en if latest else f"Question {question.key}?",
        "required": latest.required if latest else False,
        "choices": list(latest.choices) if latest else [],
        "visit_types": list(latest.visit_types) if latest else [],
        "provider_ids": list(latest.provider_ids) if latest else [],
        "location_ids": list(latest.location_ids) if latest else [],
        "condition": latest.condition if latest else None,
        "flag_rules": list(latest.flag_rules) if latest else [],
        "min_value": latest.min_value if latest else None,
        "max_value": latest.max_value if latest else None,
    }
    fields.update(overrides)
    version = KioskQuestionVersion(version=len(question.versions) + 1, **fields)
    question.versions.append(version)
    session.flush()
    return version


def make_consent_form(
    session: Session,
    key: str = "general_consent",
    *,
    renewal: ConsentRenewal = ConsentRenewal.YEARLY,
    required: bool = True,
    active: bool = True,
    visit_types: list[str] | None = None,
    **version_fields: object,
) -> ConsentForm:
    """A consent form with one published version, in force since 2020."""
    form = _save(session, ConsentForm(key=key, renewal=renewal, required=required, active=active,
                                      visit_types=visit_types or []))
    add_consent_version(session, form, **version_fields)
    return form


def add_consent_version(
    session: Session, form: ConsentForm, **overrides: object
) -> ConsentFormVersion:
    """The next published version of `form`; pass published_at=None for a draft."""
    n = len(form.versions) + 1
    fields: dict[str, object] = {
        "title_en": f"Consent to treatment (v{n})",
        "body_en": f"I agree to be examined and treated by this clinic. Version {n}.",
        "effective_from": date(2020, 1, 1),
        "published_at": datetime(2019, 12, 20, 15, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    version = ConsentFormVersion(version=n, **fields)
    form.versions.append(version)
    session.flush()
    return version


def image_bytes(format: str = "PNG", size: tuple[int, int] = (48, 30)) -> bytes:
    """A small real image (a card photo, a drawn signature) encoded as `format`."""
    buffer = BytesIO()
    Image.new("RGB", size, (240, 244, 250)).save(buffer, format=format)
    return buffer.getvalue()


# --- Staff, flags, check-ins and documents for the desk's tests (appended) -------------------

STAFF_PASSWORD = "front-desk-pass-2026"


def make_staff_user(
    session: Session, display_name: str = "Maya Chen", **overrides: object
) -> StaffUser:
    """A representative's account, made the way the clinic makes one (staff.create_user)."""
    n = next(_serial)
    fields: dict[str, object] = {
        "username": f"rep{n}",
        "display_name": display_name,
        "password": STAFF_PASSWORD,
        "role": StaffRole.REPRESENTATIVE,
    }
    fields.update(overrides)
    return create_user(session, **fields)  # type: ignore[arg-type]


def make_flag(
    session: Session,
    kind: FlagKind,
    *,
    severity: FlagSeverity = FlagSeverity.INFO,
    patient: Patient | None = None,
    appointment: Appointment | None = None,
    **overrides: object,
) -> Flag:
    """An open flag raised at DEFAULT_START; the patient defaults to the appointment's."""
    if patient is None and appointment is not None:
        patient = appointment.patient
    fields: dict[str, object] = {
        "kind": kind,
        "severity": severity,
        "patient_id": patient.id if patient is not None else None,
        "appointment_id": appointment.id if appointment is not None else None,
        "raised_at": DEFAULT_START,
    }
    fields.update(overrides)
    return _save(session, Flag(**fields))


def make_check_in(session: Session, appointment: Appointment, **overrides: object) -> CheckIn:
    """A kiosk check-in for `appointment`, started at DEFAULT_START and not yet finished;
    pass completed_at=... for one the patient finished."""
    fields: dict[str, object] = {
        "appointment_id": appointment.id,
        "channel": Channel.KIOSK,
        "kiosk_id": "kiosk-1",
        "started_at": DEFAULT_START,
        "identity_verified_at": DEFAULT_START,
        "last_step": "identity",
    }
    fields.update(overrides)
    return _save(session, CheckIn(**fields))


def make_document(
    session: Session, patient: Patient, kind: str = "card_front", **overrides: object
) -> Document:
    """An insurance card photo the patient handed in at the kiosk."""
    fields: dict[str, object] = {
        "patient_id": patient.id,
        "kind": kind,
        "content_type": "image/png",
        "content": image_bytes(),
        "uploaded_at": DEFAULT_START,
    }
    fields.update(overrides)
    return _save(session, Document(**fields))
