"""Patients, their contacts (emergency contact, guardian) and their insurance coverage."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, str_enum, utcnow
from shared.models.enums import ContactKind, Language, Sex, SubscriberRelationship


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day`."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(40), unique=True)
    legal_given_name: Mapped[str] = mapped_column(String(100))
    legal_family_name: Mapped[str] = mapped_column(String(100), index=True)
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    # The rest of the legal name as the practice system sends it (HL7 XPN, FHIR HumanName):
    # kept for the desk and exports, never part of the kiosk's name match.
    middle_name: Mapped[str | None] = mapped_column(String(100))
    name_prefix: Mapped[str | None] = mapped_column(String(40))
    name_suffix: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, "sex"), default=Sex.UNKNOWN)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address_line: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(50))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    preferred_language: Mapped[Language] = mapped_column(
        str_enum(Language, "language"), default=Language.EN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[PatientContact]] = relationship(
        back_populates="patient", cascade="all, delete-orphan"
    )
    coverages: Mapped[list[Coverage]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Coverage.rank"
    )

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.legal_given_name
        return f"{given} {self.legal_family_name}"

    @property
    def legal_name(self) -> str:
        """The whole legal name as the practice system holds it: prefix, given, middle,
        family, suffix."""
        return " ".join(part for part in (self.name_prefix, self.legal_given_name,
                                          self.middle_name, self.legal_family_name,
                                          self.name_suffix) if part)

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


class PatientContact(Base):
    """A person to call in an emergency, or the guardian who signs for a minor."""

    __tablename__ = "patient_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind, "contact_kind"))
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_patient: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))

    patient: Mapped[Patient] = relationship(back_populates="contacts")


class Coverage(Base):
    """An insurance coverage; rank 1 is primary. Card photos are kept as uploaded."""

    __tablename__ = "coverage"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer, default=1)
    payer: Mapped[str] = mapped_column(String(120))
    plan: Mapped[str | None] = mapped_column(String(120))
    member_id: Mapped[str] = mapped_column(String(60))
    group_id: Mapped[str | None] = mapped_column(String(60))
    subscriber_name: Mapped[str | None] = mapped_column(String(200))
    subscriber_relationship: Mapped[SubscriberRelationship] = mapped_column(
        str_enum(SubscriberRelationship, "subscriber_relationship"),
        default=SubscriberRelationship.SELF,
    )
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    card_front: Mapped[bytes | None] = mapped_column(LargeBinary)
    card_back: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="coverages")

    def is_active_on(self, day: date) -> bool:
        started = self.effective_from is None or self.effective_from <= day
        not_ended = self.effective_to is None or day <= self.effective_to
        return started and not_ended

    @property
    def member_id_masked(self) -> str:
        tail = self.member_id[-4:]
        return "•" * max(len(self.member_id) - 4, 0) + tail
