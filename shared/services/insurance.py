"""Insurance at check-in: "Do you still have this insurance?"

Yes, changed (new payer, member id and card photos) or none (self-pay). A change, an
expired or missing coverage becomes a flag; the coverage on file is not touched. Card photos
are checked before they are decoded and kept as small JPEGs without EXIF (shared.services.images).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.models import Coverage, Document, Flag, FlagKind, FlagSeverity, Patient
from shared.services import flags, images
from shared.services.details import clean_text

MAX_IMAGE_BYTES = images.MAX_IMAGE_BYTES
MEMBER_ID = re.compile(r"[A-Za-z0-9-]{3,40}")
STORED_CONTENT_TYPE = "image/jpeg"


class CoverageState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    MISSING = "missing"


class InsuranceInvalid(DomainError):
    key = "insurance.error_invalid"


@dataclass(frozen=True)
class CoverageView:
    state: CoverageState
    coverage_id: int | None
    payer: str
    member_id_masked: str
    effective_to: date | None


def primary_coverage(patient: Patient, day: date) -> CoverageView:
    """The patient's primary coverage and whether it is in force on `day`."""
    coverage: Coverage | None = patient.coverages[0] if patient.coverages else None
    if coverage is None:
        return CoverageView(CoverageState.MISSING, None, "", "", None)
    active = next((c for c in patient.coverages if c.is_active_on(day)), None)
    shown = active or coverage
    state = CoverageState.ACTIVE if active else CoverageState.EXPIRED
    return CoverageView(state, shown.id, shown.payer, shown.member_id_masked, shown.effective_to)


def card_photo(data: bytes) -> bytes:
    """The photo as it is kept: a JPEG of at most 1600 px, upright, without EXIF.

    InsuranceInvalid (the kiosk's photo message) when it is not a readable photo or is too
    large to decode safely; the size is read from the header before any pixel is decoded."""
    try:
        return images.photo_jpeg(data)
    except images.UnusableImage as exc:
        raise InsuranceInvalid("not a usable photo", key="insurance.error_photo") from exc


def document_thumbnail(session: Session, document_id: int,
                       long_side: int = images.THUMBNAIL_LONG_SIDE) -> bytes | None:
    """A small JPEG of a stored card photo for the desk (None when there is none to show)."""
    shown = document_thumbnails(session, [document_id], long_side)
    return shown[0][1] if shown else None


def document_thumbnails(session: Session, document_ids: list[int],
                        long_side: int = images.THUMBNAIL_LONG_SIDE
                        ) -> list[tuple[str, bytes | None]]:
    """(kind, small JPEG or None) of each stored card photo, for the desk. A document never
    changes once stored, so its photo is read from the database only the first time its
    thumbnail is made: a page of cards re-read by four screens reads kilobytes, not photos.
    The cache key names the database, the row and its upload, so another database (or a
    row id reused after a reset) never gets this one's picture."""
    if not document_ids:
        return []
    where = str(session.get_bind().url)
    rows = session.execute(
        select(Document.id, Document.kind, Document.uploaded_at,
               func.length(Document.content))
        .where(Document.id.in_(document_ids)).order_by(Document.id)
    ).all()

    def content(document_id: int) -> bytes | None:
        return session.scalar(select(Document.content).where(Document.id == document_id))

    return [(kind, images.stored_thumbnail(
        ("document", where, document_id, uploaded_at, size),
        functools.partial(content, document_id), long_side))
        for document_id, kind, uploaded_at, size in rows]


def confirm_same(
    session: Session, patient: Patient, *, appointment_id: int, day: date, now: datetime,
    kiosk_id: str | None,
) -> Flag | None:
    """The patient says the coverage on file is still theirs. Expired or missing coverage
    is flagged all the same: the dates decide, not the answer."""
    view = primary_coverage(patient, day)
    if view.state == CoverageState.ACTIVE:
        return None
    kind = (FlagKind.COVERAGE_EXPIRED if view.state == CoverageState.EXPIRED
            else FlagKind.COVERAGE_MISSING)
    return flags.raise_flag(
        session, kind=kind, severity=FlagSeverity.WARNING, now=now, patient_id=patient.id,
        appointment_id=appointment_id, kiosk_id=kiosk_id,
        old_value={"coverage_id": view.coverage_id,
                   "effective_to": view.effective_to.isoformat() if view.effective_to else None},
    )


def report_new_coverage(
    session: Session,
    patient: Patient,
    *,
    payer: str,
    member_id: str,
    group_id: str,
    card_front: bytes | None,
    card_back: bytes | None,
    appointment_id: int,
    now: datetime,
    kiosk_id: str | None,
) -> Flag:
    """New insurance: stored as documents plus a flag for the desk to verify and accept."""
    payer = clean_text(payer)
    member_id = member_id.strip().replace(" ", "")
    group_id = group_id.strip().replace(" ", "")
    if not payer or len(payer) > 120:
        raise InsuranceInvalid("payer", key="insurance.error_payer")
    if not MEMBER_ID.fullmatch(member_id):
        raise InsuranceInvalid("member id", key="insurance.error_member_id")
    if group_id and not MEMBER_ID.fullmatch(group_id):
        raise InsuranceInvalid("group id", key="insurance.error_group_id")
    # Both photos are checked before either is stored, so a refused back leaves no front.
    photos = {kind: None if data is None else card_photo(data)
              for kind, data in (("card_front", card_front), ("card_back", card_back))}
    documents: dict[str, int | None] = {}
    for kind, photo in photos.items():
        if photo is None:
            documents[f"{kind}_document_id"] = None
            continue
        doc = Document(patient_id=patient.id, appointment_id=appointment_id, kind=kind,
                       content_type=STORED_CONTENT_TYPE, content=photo, uploaded_at=now)
        session.add(doc)
        session.flush()
        documents[f"{kind}_document_id"] = doc.id
    current = patient.coverages[0] if patient.coverages else None
    old = None
    if current is not None:
        old = {"payer": current.payer, "member_id": current.member_id,
               "group_id": current.group_id or ""}
    return flags.raise_flag(
        session, kind=FlagKind.INSURANCE_CHANGE, severity=FlagSeverity.WARNING, now=now,
        patient_id=patient.id, appointment_id=appointment_id, kiosk_id=kiosk_id,
        old_value=old,
        new_value={"payer": payer, "member_id": member_id, "group_id": group_id, **documents},
    )


def report_self_pay(
    session: Session, patient: Patient, *, appointment_id: int, now: datetime,
    kiosk_id: str | None,
) -> Flag:
    current = patient.coverages[0] if patient.coverages else None
    return flags.raise_flag(
        session, kind=FlagKind.INSURANCE_CHANGE, severity=FlagSeverity.WARNING, now=now,
        patient_id=patient.id, appointment_id=appointment_id, kiosk_id=kiosk_id,
        old_value={"payer": current.payer, "member_id": current.member_id} if current else None,
        new_value={"self_pay": True},
    )
