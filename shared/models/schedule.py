"""Providers, locations, appointments and the record of each check-in."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, str_enum, utcnow
from shared.models.enums import AppointmentStatus, Channel
from shared.models.patients import Patient


class Location(Base):
    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    department: Mapped[str] = mapped_column(String(120))
    # The practice system's code for it (AIL-3.1, PV1-3), matched before the name, so that a
    # name a manager sets does not make the next import create the location again.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A manager set the name: imports leave it as it is.
    name_set_by_staff: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    # The name Spanish-speaking patients read, when a manager gave one (else `name`).
    name_es: Mapped[str | None] = mapped_column(String(120))
    directions_en: Mapped[str] = mapped_column(Text, default="")
    directions_es: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def label(self) -> str:
        """Name and department, without saying the department twice."""
        if self.department.casefold() in self.name.casefold():
            return self.name
        return f"{self.name} · {self.department}"


class Provider(Base):
    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # A manager set the name (the practice system sent only a code): imports leave it.
    name_set_by_staff: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    specialty: Mapped[str | None] = mapped_column(String(120))
    # The name Spanish-speaking patients read ("Dra. ..."), when a manager gave one.
    display_name_es: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Appointment(Base):
    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=20)
    visit_type: Mapped[str] = mapped_column(String(60))
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.BOOKED
    )
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    in_room_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Called to a room: the waiting-room screen shows the ticket, never the name.
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    room: Mapped[str | None] = mapped_column(String(40))
    ticket: Mapped[str | None] = mapped_column(String(12))
    # The clinic day the ticket was issued for: a ticket is unique within its day.
    ticket_day: Mapped[date | None] = mapped_column(Date)
    # A representative moved the patient in the queue: minutes earlier (+) or later (-),
    # with the reason kept in queue_note.
    queue_shift_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    queue_note: Mapped[str | None] = mapped_column(String(200))
    # Optimistic concurrency: two representatives acting at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("ticket_day", "ticket"),)

    patient: Mapped[Patient] = relationship()
    provider: Mapped[Provider] = relationship()
    location: Mapped[Location] = relationship()
    check_ins: Mapped[list[CheckIn]] = relationship(back_populates="appointment")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_minutes)


class TicketCounter(Base):
    """The last waiting-room ticket number given out on a clinic day, counted up in one
    UPDATE ... RETURNING so that check-ins finishing at the same moment never share one."""

    __tablename__ = "ticket_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class CheckIn(Base):
    """One attempt to check in for an appointment, with the time each step was done."""

    __tablename__ = "check_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    kiosk_id: Mapped[str | None] = mapped_column(String(64))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    identity_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    demographics_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    insurance_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    questions_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[str | None] = mapped_column(String(40))
    # The appointment's status when this check-in made the patient "arrived" (booked or
    # no-show), so walking away puts it back; None when the check-in changed no status.
    status_before: Mapped[AppointmentStatus | None] = mapped_column(
        str_enum(AppointmentStatus, "appointment_status"))

    appointment: Mapped[Appointment] = relationship(back_populates="check_ins")
