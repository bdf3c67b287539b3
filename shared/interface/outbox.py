"""The outbox: events the practice system must hear of, written in the same transaction as
the change itself, so that an event is never told without having happened, nor lost.

    record_event(session, OutboxEvent.ARRIVED, appointment=appointment, now=now)

Writing one costs one INSERT (at the transaction's next flush). The sender (shared.interface
.sender) renders each row as HL7 at its first attempt and keeps that text, so every retry
is the same message under the same MSH-10: the receiver's idempotency key.

- arrived, checked in, roomed (called to a room), no-show: SIU^S14 with SCH-25 the
  filler status (Arrived, CheckedIn, Roomed, Noshow).
- demographics (name, birth date, address, phone, e-mail, emergency contact) and coverage
  accepted by staff: ADT^A08.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, selectinload

from shared.db import insert_row
from shared.errors import DomainError
from shared.interface import messages
from shared.models import (
    Appointment,
    ContactKind,
    FlagKind,
    OutboxEvent,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Sex,
)
from shared.services import audit

# SCH-25 filler status: HL7 table 0278 has Noshow; the others are local codes (L).
FILLER_STATUS = {
    OutboxEvent.ARRIVED: ("Arrived", "Arrived"),
    OutboxEvent.BOOKED: ("Booked", "Left before finishing check-in"),
    OutboxEvent.CHECKED_IN: ("CheckedIn", "Checked in"),
    OutboxEvent.ROOMED: ("Roomed", "Called to a room"),
    OutboxEvent.NOSHOW: ("Noshow", "No show"),
}
SEX_CODES = {Sex.FEMALE: "F", Sex.MALE: "M", Sex.OTHER: "O", Sex.UNKNOWN: "U"}
COVERAGE_KINDS = frozenset({FlagKind.INSURANCE_CHANGE})
DEMOGRAPHIC_KINDS = frozenset({
    FlagKind.DEMOGRAPHICS_CHANGE, FlagKind.ADDRESS_CHANGE, FlagKind.PHONE_CHANGE,
    FlagKind.EMAIL_CHANGE, FlagKind.EMERGENCY_CONTACT_CHANGE,
})
ERROR_CHARS = 1000


class ResendRefused(DomainError):
    key = "interface.resend_refused"


def new_control_id() -> str:
    """An MSH-10 no other message has: 20 characters, the most HL7 v2.5.1 allows."""
    return f"CHK{uuid4().hex[:17]}"


def record_event(session: Session, event: OutboxEvent, *, now: datetime,
                 appointment: Appointment | None = None, appointment_id: int | None = None,
                 patient_id: int | None = None) -> None:
    """Add an event about `appointment` (or `appointment_id` and its `patient_id`), or about
    a patient, to the outbox in the session's transaction: one INSERT, sent at once, so
    events keep the order they happened in."""
    if appointment is not None:
        appointment_id, patient_id = appointment.id, appointment.patient_id
    insert_row(session, OutboxMessage, {
        "control_id": new_control_id(), "event": event, "status": OutboxStatus.PENDING,
        "appointment_id": appointment_id, "patient_id": patient_id, "created_at": now,
        "attempts": 0})


def record_accepted_change(session: Session, kind: FlagKind, patient_id: int | None, *,
                           now: datetime) -> None:
    """Staff accepted a change to the patient's record: ADT^A08 for demographics or
    coverage; other flags tell the practice system nothing."""
    if patient_id is None:
        return
    if kind in COVERAGE_KINDS:
        record_event(session, OutboxEvent.COVERAGE, patient_id=patient_id, now=now)
    elif kind in DEMOGRAPHIC_KINDS:
        record_event(session, OutboxEvent.DEMOGRAPHICS, patient_id=patient_id, now=now)


# --- Rendering ------------------------------------------------------------------------------


def _patient_facts(patient: Patient) -> messages.PatientFacts:
    return messages.PatientFacts(
        mrn=patient.mrn, family_name=patient.legal_family_name,
        given_name=patient.legal_given_name, birth_date=patient.birth_date,
        sex=SEX_CODES.get(patient.sex, "U"),
        address=(patient.address_line, patient.address_line2, patient.city, patient.state,
                 patient.postal_code),
        phone=patient.phone, email=patient.email)


def render(session: Session, row: OutboxMessage, *, tz: ZoneInfo, facility: str = "",
           receiver: tuple[str, str] = ("", ""), today: date | None = None) -> str:
    """The row's HL7 message, from the record as it is now and the event's status."""
    if row.event in FILLER_STATUS:
        appointment = session.scalar(
            select(Appointment).where(Appointment.id == row.appointment_id).options(
                selectinload(Appointment.patient), selectinload(Appointment.provider),
                selectinload(Appointment.location)))
        assert appointment is not None
        facts = messages.AppointmentFacts(
            appointment_id=appointment.external_id or f"CHECKIN-{appointment.id}",
            start=appointment.start, duration_minutes=appointment.duration_minutes,
            visit_type=appointment.visit_type,
            provider_id=appointment.provider.external_id,
            provider_name=appointment.provider.display_name,
            location_code=appointment.location.external_id,
            location_name=appointment.location.name, room=appointment.room)
        return messages.siu_s14(
            control_id=row.control_id, at=row.created_at, tz=tz,
            status=FILLER_STATUS[row.event], patient=_patient_facts(appointment.patient),
            appointment=facts, facility=facility, receiver=receiver)
    patient = session.scalar(select(Patient).where(Patient.id == row.patient_id).options(
        selectinload(Patient.contacts), selectinload(Patient.coverages)))
    assert patient is not None
    coverages = None
    emergency = None
    if row.event == OutboxEvent.COVERAGE:
        day = today or row.created_at.astimezone(tz).date()
        coverages = tuple(
            messages.CoverageFacts(c.payer, c.member_id, c.group_id, c.plan, c.effective_from,
                                   c.effective_to)
            for c in patient.coverages if c.is_active_on(day))
    else:
        contact = next((c for c in patient.contacts if c.kind == ContactKind.EMERGENCY), None)
        if contact is not None:
            emergency = (contact.name, contact.relationship_to_patient, contact.phone)
    return messages.adt_a08(control_id=row.control_id, at=row.created_at, tz=tz,
                            patient=_patient_facts(patient), coverages=coverages,
                            emergency=emergency, facility=facility, receiver=receiver)


# --- What the sender needs ------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    id: int
    control_id: str
    message: str


def pending(engine: Engine, *, tz: ZoneInfo, limit: int = 50, facility: str = "",
            receiver: tuple[str, str] = ("", "")) -> list[Outgoing]:
    """The oldest rows not yet acknowledged, in order, each rendered (once, then kept)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            .order_by(OutboxMessage.id).limit(limit)).all()
        for row in rows:
            if row.message is None:
                row.message = render(session, row, tz=tz, facility=facility,
                                     receiver=receiver)
        return [Outgoing(r.id, r.control_id, r.message or "") for r in rows]


def record_answer(engine: Engine, outgoing: Outgoing, ack: messages.Acknowledgement,
                  *, now: datetime) -> None:
    """The practice system answered: accepted (sent, never sent again) or refused (failed,
    with its words, until a manager resends it)."""
    accepted = ack.accepted
    with Session(engine) as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outgoing.id,
                   OutboxMessage.status == OutboxStatus.PENDING,
                   OutboxMessage.control_id == outgoing.control_id)
            .values(status=OutboxStatus.SENT if accepted else OutboxStatus.FAILED,
                    sent_at=now if accepted else None, ack_code=ack.code[:2],
                    error=None if accepted else (ack.text or ack.code)[:ERROR_CHARS],
                    attempts=OutboxMessage.attempts + 1, last_attempt_at=now))


def record_no_answer(engine: Engine, outgoing: Outgoing, reason: str, *, now: datetime) -> None:
    """An attempt that got no ACK (the receiver down, the connection lost, no answer in
    time): the row stays pending and is sent again."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outgoing.id,
                   OutboxMessage.status == OutboxStatus.PENDING)
            .values(attempts=OutboxMessage.attempts + 1, last_attempt_at=now,
                    error=reason[:ERROR_CHARS]))


def resend(session: Session, outbox_id: int, *, staff_user_id: int, now: datetime) -> None:
    """A manager sends a refused message again: it is rendered afresh from the record (it
    may have been corrected) under a new MSH-10, as the next message to go."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None or row.status != OutboxStatus.FAILED:
        raise ResendRefused("not a failed message")
    row.status = OutboxStatus.PENDING
    row.control_id = new_control_id()
    row.message = None
    row.ack_code = None
    row.error = None
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="hl7.resend",
                 record_type="hl7_outbox", record_id=row.id,
                 detail={"appointment_id": row.appointment_id, "patient_id": row.patient_id},
                 at=now)
