"""The clinic's kiosk questions (versioned), the answers, and consent forms and signatures.

A question or form is edited by adding a version, so an answer or a signature always points
at the exact wording the patient saw.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, str_enum, utcnow
from shared.models.enums import ConsentRenewal, Language, QuestionType, SignerRelationship


class KioskQuestion(Base):
    __tablename__ = "kiosk_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The answer carries over to the patient's next visit ("Still right?"): allergies,
    # medications, pharmacy. Set by a manager on the question, not per version.
    carry_over: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    versions: Mapped[list[KioskQuestionVersion]] = relationship(
        back_populates="question", order_by="KioskQuestionVersion.version"
    )

    @property
    def current(self) -> KioskQuestionVersion:
        """The latest version: the published one, or a draft being written on top of it."""
        return self.versions[-1]

    @property
    def published_version(self) -> KioskQuestionVersion | None:
        """The version patients are asked: the latest published one (None: only a draft)."""
        return next((v for v in reversed(self.versions) if not v.draft), None)

    @property
    def draft_version(self) -> KioskQuestionVersion | None:
        """An unpublished version on top of the published one, if a manager saved one."""
        latest = self.versions[-1] if self.versions else None
        return latest if latest is not None and latest.draft else None


class KioskQuestionVersion(Base):
    __tablename__ = "kiosk_question_version"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("kiosk_question.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    type: Mapped[QuestionType] = mapped_column(str_enum(QuestionType, "question_type"))
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str] = mapped_column(Text, default="")
    help_en: Mapped[str] = mapped_column(Text, default="")
    help_es: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"value": "...", "en": "...", "es": "..."}] for choice questions.
    choices: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    # Empty list: applies to every visit type / provider / location.
    visit_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    provider_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    location_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # {"question": "<key>", "equals": <value>} or null: shown only when it holds.
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [{"when": {"equals"|"in"|"at_least": value}, "flag": "<kind>", "severity": "..."}]
    flag_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # A draft is asked of no patient until a manager publishes it; a version made without
    # saying (the demo, an import) is published as it is written.
    draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    question: Mapped[KioskQuestion] = relationship(back_populates="versions")

    def text(self, language: str) -> str:
        return (self.text_es if language == Language.ES and self.text_es else self.text_en)


class Answer(Base):
    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("appointment_id", "question_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("kiosk_question_version.id"))
    value: Mapped[Any] = mapped_column(JSON)
    language: Mapped[Language] = mapped_column(str_enum(Language, "language"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question_version: Mapped[KioskQuestionVersion] = relationship()


class ConsentForm(Base):
    __tablename__ = "consent_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    renewal: Mapped[ConsentRenewal] = mapped_column(
        str_enum(ConsentRenewal, "consent_renewal"), default=ConsentRenewal.YEARLY
    )
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    visit_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    versions: Mapped[list[ConsentFormVersion]] = relationship(
        back_populates="form", order_by="ConsentFormVersion.version"
    )


class ConsentFormVersion(Base):
    __tablename__ = "consent_form_version"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("consent_form.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title_en: Mapped[str] = mapped_column(String(200))
    title_es: Mapped[str] = mapped_column(String(200), default="")
    body_en: Mapped[str] = mapped_column(Text)
    body_es: Mapped[str] = mapped_column(Text, default="")
    effective_from: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    form: Mapped[ConsentForm] = relationship(back_populates="versions")


class ConsentSignature(Base):
    __tablename__ = "consent_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("consent_form_version.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_relationship: Mapped[SignerRelationship] = mapped_column(
        str_enum(SignerRelationship, "signer_relationship")
    )
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    language: Mapped[Language] = mapped_column(str_enum(Language, "language"))
    # SHA-256 of the exact text shown to the signer.
    text_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kiosk_id: Mapped[str | None] = mapped_column(String(64))
    # A paper signature recorded by the desk has no image but a note.
    note: Mapped[str | None] = mapped_column(Text)

    form_version: Mapped[ConsentFormVersion] = relationship()
