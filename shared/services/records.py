"""The read side for one patient's page: everything the desk needs, in a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from shared.clinic_time import day_bounds
from shared.models import (
    Answer,
    Appointment,
    AuditEvent,
    CheckIn,
    ConsentFormVersion,
    ConsentSignature,
    Flag,
    KioskQuestionVersion,
    Patient,
)
from shared.services.checkin import normalize_name


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    appointments_today: list[Appointment]
    answers: list[tuple[str, Any, datetime]]  # question text as shown, answer, when
    signatures: list[tuple[ConsentSignature, ConsentFormVersion]]
    check_ins: list[CheckIn]
    flags: list[Flag]
    audit: list[AuditEvent]


def search_patients(session: Session, text: str, *, limit: int = 20) -> list[Patient]:
    """Patients whose MRN starts with, or whose name contains, the text."""
    text = text.strip()
    if len(text) < 2:
        return []
    like = f"%{text.lower()}%"
    found = session.scalars(
        select(Patient)
        .where(or_(func.lower(Patient.mrn).like(f"{text.lower()}%"),
                   func.lower(Patient.legal_family_name).like(like),
                   func.lower(Patient.legal_given_name).like(like),
                   func.lower(Patient.preferred_name).like(like)))
        .order_by(Patient.legal_family_name, Patient.legal_given_name)
        .limit(limit)
    ).all()
    if found:
        return list(found)
    # Accents typed differently ("Nunez" for "Núñez"): compare normalized names.
    wanted = normalize_name(text)
    everyone = session.scalars(select(Patient).order_by(Patient.legal_family_name)).all()
    return [p for p in everyone if wanted in normalize_name(p.legal_family_name)][:limit]


def patient_record(session: Session, patient_id: int, *, day: date, tz: ZoneInfo
                   ) -> PatientRecord | None:
    patient = session.scalar(
        select(Patient)
        .options(selectinload(Patient.contacts), selectinload(Patient.coverages))
        .where(Patient.id == patient_id)
    )
    if patient is None:
        return None
    start, end = day_bounds(day, tz)
    today = list(session.scalars(
        select(Appointment)
        .options(selectinload(Appointment.provider), selectinload(Appointment.location))
        .where(Appointment.patient_id == patient_id, Appointment.start >= start,
               Appointment.start < end)
        .order_by(Appointment.start)
    ))
    today_ids = [a.id for a in today]
    answers = []
    if today_ids:
        rows = session.execute(
            select(Answer, KioskQuestionVersion)
            .join(KioskQuestionVersion, Answer.question_version_id == KioskQuestionVersion.id)
            .where(Answer.appointment_id.in_(today_ids))
            .order_by(Answer.answered_at)
        ).all()
        answers = [(v.text(a.language.value), a.value, a.answered_at) for a, v in rows]
    signatures = [
        (s, v) for s, v in session.execute(
            select(ConsentSignature, ConsentFormVersion)
            .join(ConsentFormVersion, ConsentSignature.form_version_id == ConsentFormVersion.id)
            .where(ConsentSignature.patient_id == patient_id)
            .order_by(ConsentSignature.signed_at.desc())
        ).all()
    ]
    check_ins = list(session.scalars(
        select(CheckIn).where(CheckIn.appointment_id.in_(today_ids)).order_by(CheckIn.id)
    )) if today_ids else []
    flags = list(session.scalars(
        select(Flag).where(Flag.patient_id == patient_id).order_by(Flag.raised_at.desc())
    ))
    record_filters = [(AuditEvent.record_type == "patient") & (AuditEvent.record_id == patient_id)]
    if today_ids:
        record_filters.append((AuditEvent.record_type == "appointment")
                              & AuditEvent.record_id.in_(today_ids))
    flag_ids = [f.id for f in flags]
    if flag_ids:
        record_filters.append((AuditEvent.record_type == "flag")
                              & AuditEvent.record_id.in_(flag_ids))
    audit = list(session.scalars(
        select(AuditEvent).where(or_(*record_filters)).order_by(AuditEvent.at.desc()).limit(200)
    ))
    return PatientRecord(patient, today, answers, signatures, check_ins, flags, audit)
