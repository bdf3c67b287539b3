"""The live connection to the practice system: HL7 messages received, and the outbox of
events to send back.

Both hold ids, codes and times; an outbox row keeps the message it sent (the patient's
details as sent), so that a retry is the same bytes under the same MSH-10.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, str_enum, utcnow


class InboundStatus(StrEnum):
    APPLIED = "applied"  # answered AA
    DUPLICATE = "duplicate"  # an MSH-10 already applied: answered AA, not applied again
    REFUSED = "refused"  # answered AE, with the reasons
    UNPARSABLE = "unparsable"  # answered AR


class OutboxEvent(StrEnum):
    ARRIVED = "arrived"
    BOOKED = "booked"  # back to booked: the patient walked away from the kiosk
    CHECKED_IN = "checked_in"
    ROOMED = "roomed"
    NOSHOW = "noshow"
    DEMOGRAPHICS = "demographics"
    COVERAGE = "coverage"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # not yet acknowledged: the sender (re)sends it
    SENT = "sent"  # acknowledged AA (or CA): never sent again
    FAILED = "failed"  # the practice system answered AE or AR: a manager may resend it


class InboundMessage(Base):
    """One HL7 message the listener answered: its MSH-10, what became of it and why."""

    __tablename__ = "hl7_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    control_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The MSH-10 of an applied message, unique: the same message again is a duplicate, also
    # when two copies arrive at the same moment or after a restart.
    applied_control_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[InboundStatus] = mapped_column(str_enum(InboundStatus, "hl7_inbound_status"))
    ack_code: Mapped[str] = mapped_column(String(2))
    # The reasons of a refusal: catalog keys and their parameters (they may quote the message).
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMessage(Base):
    """An event to tell the practice system, written in the transaction where it happened.

    Made with one INSERT; the sender renders the message at its first attempt and keeps it,
    so every retry sends the same message under the same MSH-10."""

    __tablename__ = "hl7_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    control_id: Mapped[str] = mapped_column(String(32), unique=True)
    event: Mapped[OutboxEvent] = mapped_column(str_enum(OutboxEvent, "hl7_outbox_event"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "hl7_outbox_status"), default=OutboxStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_code: Mapped[str | None] = mapped_column(String(2))
    # What the practice system said when it refused the message (its own text).
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_hl7_outbox_status_id", "status", "id"),)
