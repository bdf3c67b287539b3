"""What the manager's interface page shows: the connection's health at a glance, the
messages the listener refused, and the events the practice system refused.

A read side: a few plain queries, plain values back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.imports import Problem
from shared.models import (
    InboundMessage,
    InboundStatus,
    OutboxEvent,
    OutboxMessage,
    OutboxStatus,
)

REFUSED = (InboundStatus.REFUSED, InboundStatus.UNPARSABLE)


@dataclass(frozen=True)
class Health:
    last_in_at: datetime | None  # the last message the listener answered
    last_in_control_id: str | None
    last_ack_code: str | None  # the ACK it answered with
    backlog: int  # outbox rows not yet acknowledged
    oldest_waiting_at: datetime | None
    retrying: int  # of those, rows tried without an ACK
    last_problem: str | None  # why the last try got no ACK (e.g. cannot connect)
    last_delivered_at: datetime | None  # the last ACK received for an outbox row
    failed: int  # rows the practice system refused


@dataclass(frozen=True)
class RefusedMessage:
    received_at: datetime
    control_id: str | None
    status: InboundStatus
    ack_code: str
    reasons: str  # in the reader's language; it may quote the message


@dataclass(frozen=True)
class FailedEvent:
    id: int
    control_id: str
    event: OutboxEvent
    created_at: datetime
    attempts: int
    ack_code: str | None
    error: str  # the practice system's own words
    appointment_id: int | None
    patient_id: int | None


def health(session: Session) -> Health:
    last_in = session.execute(
        select(InboundMessage.received_at, InboundMessage.control_id, InboundMessage.ack_code)
        .order_by(InboundMessage.id.desc()).limit(1)).first()
    waiting = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at),
               func.count().filter(OutboxMessage.attempts > 0))
        .where(OutboxMessage.status == OutboxStatus.PENDING)).one()
    problem = session.scalar(
        select(OutboxMessage.error)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.error.is_not(None))
        .order_by(OutboxMessage.id).limit(1))
    delivered = session.scalar(select(func.max(OutboxMessage.sent_at)))
    failed = session.scalar(select(func.count()).where(
        OutboxMessage.status == OutboxStatus.FAILED)) or 0
    return Health(
        last_in_at=last_in.received_at if last_in else None,
        last_in_control_id=last_in.control_id if last_in else None,
        last_ack_code=last_in.ack_code if last_in else None,
        backlog=waiting[0], oldest_waiting_at=waiting[1], retrying=waiting[2],
        last_problem=problem, last_delivered_at=delivered, failed=failed)


def refused_messages(session: Session, *, lang: str = "en",
                     limit: int = 50) -> list[RefusedMessage]:
    """The latest messages the listener refused (AE) or could not read (AR)."""
    rows = session.scalars(
        select(InboundMessage).where(InboundMessage.status.in_(REFUSED))
        .order_by(InboundMessage.id.desc()).limit(limit))
    return [RefusedMessage(
        received_at=r.received_at, control_id=r.control_id, status=r.status,
        ack_code=r.ack_code,
        reasons=" ".join(Problem(p.get("key", ""), p.get("params") or {}).text(lang)
                         for p in r.reasons or []))
        for r in rows]


def failed_events(session: Session, *, limit: int = 50) -> list[FailedEvent]:
    """Outbox rows the practice system refused, oldest first: each may be resent."""
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id).limit(limit))
    return [FailedEvent(r.id, r.control_id, r.event, r.created_at, r.attempts, r.ack_code,
                        r.error or "", r.appointment_id, r.patient_id) for r in rows]
