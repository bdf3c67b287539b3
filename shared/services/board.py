"""The read side for the desk's screens: plain rows from one or two queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.clinic_time import day_bounds
from shared.models import (
    Appointment,
    AppointmentStatus,
    Flag,
    FlagStatus,
    Location,
    Patient,
    Provider,
)
from shared.models.patients import age_on


@dataclass(frozen=True)
class AppointmentRow:
    appointment_id: int
    patient_id: int
    start: datetime
    patient_name: str
    mrn: str
    age: int
    provider: str
    location: str
    visit_type: str
    status: AppointmentStatus
    arrived_at: datetime | None
    open_flags: int


def appointments_for_day(session: Session, day: date, tz: ZoneInfo) -> list[AppointmentRow]:
    """The clinic day's appointments in time order, with open-flag counts. Two queries."""
    start, end = day_bounds(day, tz)
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.patient_id,
            Appointment.start,
            Appointment.visit_type,
            Appointment.status,
            Appointment.arrived_at,
            Patient.legal_given_name,
            Patient.preferred_name,
            Patient.legal_family_name,
            Patient.mrn,
            Patient.birth_date,
            Provider.display_name,
            Location.name,
        )
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(Provider, Appointment.provider_id == Provider.id)
        .join(Location, Appointment.location_id == Location.id)
        .where(Appointment.start >= start, Appointment.start < end)
        .order_by(Appointment.start, Appointment.id)
    ).all()
    ids = [r.id for r in rows]
    flag_counts: dict[int, int] = {}
    if ids:
        flag_counts = dict(
            session.execute(
                select(Flag.appointment_id, func.count())
                .where(Flag.appointment_id.in_(ids), Flag.status == FlagStatus.OPEN)
                .group_by(Flag.appointment_id)
            ).all()
        )
    result = []
    for r in rows:
        given = r.preferred_name or r.legal_given_name
        result.append(
            AppointmentRow(
                appointment_id=r.id,
                patient_id=r.patient_id,
                start=r.start,
                patient_name=f"{given} {r.legal_family_name}",
                mrn=r.mrn,
                age=age_on(r.birth_date, day),
                provider=r.display_name,
                location=r.name,
                visit_type=r.visit_type,
                status=AppointmentStatus(r.status),
                arrived_at=r.arrived_at,
                open_flags=flag_counts.get(r.id, 0),
            )
        )
    return result
