"""The desk's review of flags: accept (applying the proposed change to the record in the same
transaction), edit then accept, reject with a reason, acknowledge an alert.

Every decision keeps who, when and why. When the last flag that needed the desk is resolved
for a patient who finished the kiosk, their appointment becomes checked-in.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shared.errors import DomainError
from shared.interface import outbox
from shared.models import (
    Appointment,
    AppointmentStatus,
    CheckIn,
    ContactKind,
    Coverage,
    Document,
    Flag,
    FlagKind,
    FlagStatus,
    OutboxEvent,
    Patient,
    PatientContact,
)
from shared.services import audit
from shared.services.appointments import change_status
from shared.services.checkin import ON_SITE, open_desk_flags
from shared.services.details import GROUPS, ContactDetails, current_details, validate

CHANGE_KINDS = frozenset(
    {
        FlagKind.ADDRESS_CHANGE,
        FlagKind.PHONE_CHANGE,
        FlagKind.EMAIL_CHANGE,
        FlagKind.EMERGENCY_CONTACT_CHANGE,
        FlagKind.INSURANCE_CHANGE,
        FlagKind.DEMOGRAPHICS_CHANGE,
    }
)


class ReviewRefused(DomainError):
    key = "review.error"


class ConcurrentChange(DomainError):
    """Someone else resolved or changed this first."""

    key = "review.concurrent"


def _open_flag(session: Session, flag_id: int, expected_version: int | None) -> Flag:
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise ReviewRefused("no such flag", key="review.not_found")
    if flag.status != FlagStatus.OPEN or (
        expected_version is not None and flag.version != expected_version
    ):
        who = flag.resolved_by.display_name if flag.resolved_by else ""
        raise ConcurrentChange("already resolved", who=who, status=flag.status.value)
    return flag


def _apply_details(patient: Patient, kind: FlagKind, new: dict[str, Any]) -> None:
    merged = {**_details_dict(patient), **{k: v for k, v in new.items() if v is not None}}
    cleaned, errors = validate(ContactDetails(**merged))
    # Only this flag's own fields can refuse it: an address still missing on the record must
    # not block accepting a new phone number.
    errors = {name: key for name, key in errors.items() if name in GROUPS[kind]}
    if errors:
        field, key = next(iter(errors.items()))
        raise ReviewRefused(f"{field} invalid", key=key)
    if kind == FlagKind.ADDRESS_CHANGE:
        for name in ("address_line", "address_line2", "city", "state", "postal_code"):
            setattr(patient, name, getattr(cleaned, name) or None)
    elif kind == FlagKind.PHONE_CHANGE:
        patient.phone = cleaned.phone
    elif kind == FlagKind.EMAIL_CHANGE:
        patient.email = cleaned.email or None
    elif kind == FlagKind.EMERGENCY_CONTACT_CHANGE:
        contact = next((c for c in patient.contacts if c.kind == ContactKind.EMERGENCY), None)
        if not cleaned.emergency_name:
            if contact is not None:
                patient.contacts.remove(contact)
            return
        if contact is None:
            contact = PatientContact(kind=ContactKind.EMERGENCY, name="",
                                     relationship_to_patient="")
            patient.contacts.append(contact)
        contact.name = cleaned.emergency_name
        contact.relationship_to_patient = cleaned.emergency_relationship or "other"
        contact.phone = cleaned.emergency_phone or None


def _details_dict(patient: Patient) -> dict[str, str]:
    return asdict(current_details(patient))


def _apply_insurance(session: Session, patient: Patient, new: dict[str, Any], day: date) -> None:
    self_pay = bool(new.get("self_pay"))
    payer = str(new.get("payer") or "").strip()
    member_id = str(new.get("member_id") or "").strip()
    # Refuse before touching anything, so a refused change leaves the coverage as it was.
    if not self_pay and (not payer or not member_id):
        raise ReviewRefused("payer and member id", key="insurance.error_member_id")
    current = [c for c in patient.coverages if c.is_active_on(day)]
    for coverage in current:
        coverage.effective_to = day - timedelta(days=1)
    if self_pay:
        return
    images = {}
    for side in ("card_front", "card_back"):
        doc_id = new.get(f"{side}_document_id")
        doc = session.get(Document, doc_id) if doc_id else None
        images[side] = doc.content if doc is not None and doc.patient_id == patient.id else None
    for coverage in patient.coverages:
        coverage.rank += 1
    patient.coverages.append(
        Coverage(rank=1, payer=payer, member_id=member_id, group_id=new.get("group_id") or None,
                 effective_from=day, card_front=images["card_front"],
                 card_back=images["card_back"])
    )


def _apply_demographics(patient: Patient, new: dict[str, Any]) -> None:
    # Check every value first, so a refused change leaves the record as it was.
    changes: dict[str, Any] = {}
    for name in ("legal_given_name", "legal_family_name", "preferred_name", "middle_name",
                 "name_prefix", "name_suffix"):
        if name in new and new[name] is not None:
            value = " ".join(str(new[name]).split())
            if name in ("legal_given_name", "legal_family_name") and not value:
                raise ReviewRefused("name required", key="details.error_required")
            changes[name] = value or None
    if new.get("birth_date"):
        try:
            changes["birth_date"] = date.fromisoformat(str(new["birth_date"]))
        except ValueError as exc:
            raise ReviewRefused("birth date", key="kiosk.birth_date_invalid") from exc
    for name, value in changes.items():
        setattr(patient, name, value)


def _resolve(flag: Flag, status: FlagStatus, staff_user_id: int, note: str | None,
             now: datetime) -> None:
    flag.status = status
    flag.resolved_by_id = staff_user_id
    flag.resolved_at = now
    flag.resolution_note = note
    if flag.acknowledged_at is None:
        flag.acknowledged_at = now
        flag.acknowledged_by_id = staff_user_id


def _finish_check_in_if_clear(session: Session, flag: Flag, now: datetime) -> None:
    if flag.appointment_id is None:
        return
    appointment = session.get(Appointment, flag.appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.ARRIVED:
        return
    finished = session.scalar(
        select(CheckIn.id).where(CheckIn.appointment_id == appointment.id, ON_SITE,
                                 CheckIn.completed_at.is_not(None))
    )
    if finished and not open_desk_flags(session, appointment):
        change_status(appointment, AppointmentStatus.CHECKED_IN, now)
        outbox.record_event(session, OutboxEvent.CHECKED_IN, appointment=appointment, now=now)


def accept_flag(
    session: Session,
    flag_id: int,
    *,
    staff_user_id: int,
    now: datetime,
    day: date,
    edited_value: dict[str, Any] | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Flag:
    """Accept a flag. For a proposed change, the (possibly edited) new values are written to
    the patient's record in this same transaction."""
    flag = _open_flag(session, flag_id, expected_version)
    new = edited_value if edited_value is not None else (flag.new_value or {})
    if flag.kind in CHANGE_KINDS:
        patient = session.get(Patient, flag.patient_id) if flag.patient_id else None
        if patient is None:
            raise ReviewRefused("no patient", key="review.not_found")
        if flag.kind == FlagKind.INSURANCE_CHANGE:
            _apply_insurance(session, patient, new, day)
        elif flag.kind == FlagKind.DEMOGRAPHICS_CHANGE:
            _apply_demographics(patient, new)
        else:
            _apply_details(patient, flag.kind, new)
        if edited_value is not None:
            flag.new_value = edited_value
        outbox.record_accepted_change(session, flag.kind, flag.patient_id, now=now)
    _resolve(flag, FlagStatus.ACCEPTED, staff_user_id, note, now)
    _flush(session, flag_id)
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="flag.accepted",
                 record_type="flag", record_id=flag.id,
                 detail={"kind": flag.kind.value, "patient_id": flag.patient_id,
                         "updated": edited_value is not None}, at=now)
    _finish_check_in_if_clear(session, flag, now)
    return flag


def reject_flag(
    session: Session, flag_id: int, *, staff_user_id: int, now: datetime, reason: str,
    expected_version: int | None = None,
) -> Flag:
    """Reject a flag: the record stays as it is. A reason is required."""
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise ReviewRefused("reason required", key="review.reason_required")
    flag = _open_flag(session, flag_id, expected_version)
    _resolve(flag, FlagStatus.REJECTED, staff_user_id, reason[:500], now)
    _flush(session, flag_id)
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="flag.rejected",
                 record_type="flag", record_id=flag.id,
                 detail={"kind": flag.kind.value, "patient_id": flag.patient_id}, at=now)
    _finish_check_in_if_clear(session, flag, now)
    return flag


def acknowledge(session: Session, flag_id: int, *, staff_user_id: int, now: datetime) -> Flag:
    """Someone is on it: an alert (help, urgent answer) leaves the alert strip, and who and
    when is kept. The flag itself stays open until resolved."""
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise ReviewRefused("no such flag", key="review.not_found")
    if flag.acknowledged_at is None:
        flag.acknowledged_at = now
        flag.acknowledged_by_id = staff_user_id
        _flush(session, flag_id)
        audit.record(session, actor_type="staff", actor_id=staff_user_id,
                     action="flag.acknowledged", record_type="flag", record_id=flag.id,
                     detail={"kind": flag.kind.value}, at=now)
    return flag


def _flush(session: Session, flag_id: int) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        # This transaction is spoilt; ask a fresh session who got there first.
        with Session(session.get_bind()) as fresh:
            winner = fresh.get(Flag, flag_id)
            who = winner.resolved_by.display_name if winner and winner.resolved_by else ""
            status = winner.status.value if winner else ""
        raise ConcurrentChange("changed meanwhile", who=who, status=status) from exc
