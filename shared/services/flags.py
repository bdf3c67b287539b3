"""Flags: everything a person at the desk must look at.

A flag is raised once: raising the same open flag again (a double tap, a repeated scan)
returns the one already there instead of making a duplicate.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Flag, FlagKind, FlagSeverity, FlagStatus
from shared.services import audit


def raise_flag(
    session: Session,
    *,
    kind: FlagKind,
    severity: FlagSeverity,
    now: datetime,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    kiosk_id: str | None = None,
    old_value: dict[str, Any] | None = None,
    new_value: dict[str, Any] | None = None,
    actor_type: str = "kiosk",
) -> Flag:
    """Open a flag for the desk, or return the identical open one if it exists."""
    existing = session.scalars(
        select(Flag).where(
            Flag.kind == kind,
            Flag.status == FlagStatus.OPEN,
            Flag.patient_id.is_(None) if patient_id is None else Flag.patient_id == patient_id,
            Flag.appointment_id.is_(None)
            if appointment_id is None
            else Flag.appointment_id == appointment_id,
            Flag.kiosk_id.is_(None) if kiosk_id is None else Flag.kiosk_id == kiosk_id,
        )
    ).all()
    for flag in existing:
        if flag.new_value == new_value:
            return flag
    flag = Flag(
        kind=kind,
        severity=severity,
        status=FlagStatus.OPEN,
        patient_id=patient_id,
        appointment_id=appointment_id,
        kiosk_id=kiosk_id,
        old_value=old_value,
        new_value=new_value,
        raised_at=now,
    )
    session.add(flag)
    session.flush()
    audit.record(
        session,
        actor_type=actor_type,
        actor_id=kiosk_id,
        action="flag.raised",
        record_type="flag",
        record_id=flag.id,
        detail={"kind": kind.value, "appointment_id": appointment_id, "patient_id": patient_id},
        at=now,
    )
    return flag


def request_help(
    session: Session,
    *,
    kiosk_id: str,
    now: datetime,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    step: str | None = None,
) -> Flag:
    """A patient pressed "I need help": an urgent flag naming the kiosk, and the step of the
    check-in they were on, if any (the desk's word for it: "insurance")."""
    return raise_flag(
        session,
        kind=FlagKind.HELP_REQUEST,
        severity=FlagSeverity.URGENT,
        now=now,
        patient_id=patient_id,
        appointment_id=appointment_id,
        kiosk_id=kiosk_id,
        new_value={"step": step} if step else None,
    )


def report_walk_in(
    session: Session,
    *,
    given_name: str,
    family_name: str,
    birth_date: date,
    reason: str,
    now: datetime,
    kiosk_id: str | None,
    phone: str = "",
) -> Flag:
    """Someone without an appointment is here: the desk sees who, and why if they said."""
    return raise_flag(
        session,
        kind=FlagKind.WALK_IN,
        severity=FlagSeverity.INFO,
        now=now,
        kiosk_id=kiosk_id,
        new_value={
            "given_name": " ".join(given_name.split())[:100],
            "family_name": " ".join(family_name.split())[:100],
            "birth_date": birth_date.isoformat(),
            "phone": phone[:32],
            "reason": " ".join(reason.split())[:200],
        },
    )
