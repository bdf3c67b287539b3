"""Consent at check-in: which forms this visit needs signed, and signing one.

A signature is tied to the exact version signed and to a hash of the exact text shown, so
a later edit of the form never changes what a patient agreed to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.errors import DomainError
from shared.models import (
    Appointment,
    ConsentForm,
    ConsentFormVersion,
    ConsentRenewal,
    ConsentSignature,
    FlagKind,
    FlagSeverity,
    Language,
    Patient,
    SignerRelationship,
)
from shared.services import flags, images

ADULT_AGE = 18
YEAR = timedelta(days=365)
# The pad is 640x200 CSS pixels; a high-density screen sends up to 3x that. The PNG is kept
# as drawn, but one larger than this (or not a PNG) is not a drawing from the pad.
SIGNATURE_MAX_SIDE = 4000
SIGNATURE_MAX_PIXELS = 4_000_000


class SignatureRefused(DomainError):
    key = "consent.error_signature"


@dataclass(frozen=True)
class FormToSign:
    form_key: str
    version_id: int
    version: int
    title: str
    body: str


def shown_text(version: ConsentFormVersion, language: str) -> tuple[str, str]:
    """The title and body a signer reads, in their language when the clinic wrote one."""
    if language == Language.ES and version.body_es:
        return version.title_es or version.title_en, version.body_es
    return version.title_en, version.body_en


def text_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def current_version(form: ConsentForm, day: date) -> ConsentFormVersion | None:
    live = [v for v in form.versions if v.published_at is not None and v.effective_from <= day]
    return max(live, key=lambda v: v.version) if live else None


def _satisfied(form: ConsentForm, signatures: list[ConsentSignature], appointment: Appointment,
               now: datetime) -> bool:
    if form.renewal == ConsentRenewal.EVERY_VISIT:
        return any(s.appointment_id == appointment.id for s in signatures)
    if form.renewal == ConsentRenewal.YEARLY:
        return any(now - s.signed_at < YEAR for s in signatures)
    return bool(signatures)


def forms_to_sign(
    session: Session, appointment: Appointment, *, language: str, now: datetime, day: date
) -> list[FormToSign]:
    """Required forms for this visit that the patient has not signed in their current
    version (or not recently enough, by the form's renewal rule)."""
    forms = session.scalars(
        select(ConsentForm).options(selectinload(ConsentForm.versions))
        .where(ConsentForm.active.is_(True), ConsentForm.required.is_(True))
        .order_by(ConsentForm.id)
    ).all()
    signatures = session.scalars(
        select(ConsentSignature).where(ConsentSignature.patient_id == appointment.patient_id)
    ).all()
    by_version: dict[int, list[ConsentSignature]] = {}
    for s in signatures:
        by_version.setdefault(s.form_version_id, []).append(s)
    needed = []
    for form in forms:
        if form.visit_types and appointment.visit_type not in form.visit_types:
            continue
        version = current_version(form, day)
        if version is None:
            continue
        if _satisfied(form, by_version.get(version.id, []), appointment, now):
            continue
        title, body = shown_text(version, language)
        needed.append(FormToSign(form.key, version.id, version.version, title, body))
    return needed


def is_minor(patient: Patient, day: date) -> bool:
    return patient.age_on(day) < ADULT_AGE


def sign(
    session: Session,
    appointment: Appointment,
    form_version_id: int,
    *,
    signer_name: str,
    relationship: SignerRelationship,
    signature_png: bytes | None,
    stroke_count: int,
    language: str,
    now: datetime,
    day: date,
    kiosk_id: str | None,
) -> ConsentSignature:
    """Store a signature. Refused: an empty drawing, a missing typed name, or a minor
    signing for themselves (a parent, guardian or legal representative signs)."""
    name = " ".join(signer_name.split())
    if stroke_count <= 0 or not signature_png:
        raise SignatureRefused("empty signature", key="consent.error_empty")
    if len(name) < 2 or len(name) > 200:
        raise SignatureRefused("typed name", key="consent.error_name")
    try:
        images.check_png(signature_png, max_pixels=SIGNATURE_MAX_PIXELS,
                         max_side=SIGNATURE_MAX_SIDE)
    except images.UnusableImage as exc:
        raise SignatureRefused("not a drawing from the pad") from exc
    relationship = SignerRelationship(relationship)
    if relationship == SignerRelationship.SELF and is_minor(appointment.patient, day):
        raise SignatureRefused("minor", key="consent.error_minor")
    version = session.get(ConsentFormVersion, form_version_id)
    if version is None:
        raise SignatureRefused("unknown form")
    title, body = shown_text(version, language)
    signature = ConsentSignature(
        form_version_id=version.id,
        patient_id=appointment.patient_id,
        appointment_id=appointment.id,
        signer_name=name,
        signer_relationship=relationship,
        signature_png=signature_png,
        language=Language(language),
        text_sha256=text_hash(title, body),
        signed_at=now,
        kiosk_id=kiosk_id,
    )
    session.add(signature)
    session.flush()
    return signature


def flag_unsigned(
    session: Session, appointment: Appointment, form: FormToSign, *, now: datetime,
    kiosk_id: str | None,
) -> None:
    """The patient chose not to sign at the kiosk: the desk follows up."""
    flags.raise_flag(
        session, kind=FlagKind.CONSENT_MISSING, severity=FlagSeverity.WARNING, now=now,
        patient_id=appointment.patient_id, appointment_id=appointment.id, kiosk_id=kiosk_id,
        new_value={"form": form.form_key, "version": form.version},
    )
