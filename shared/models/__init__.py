"""SQLAlchemy models, one module per part of the domain; import them from here."""

from shared.models.base import Base, UTCDateTime, utcnow
from shared.models.desk import (
    AuditEvent,
    CheckInToken,
    ClinicSetting,
    Document,
    Flag,
    StaffUser,
)
from shared.models.enums import (
    AppointmentStatus,
    Channel,
    ConsentRenewal,
    ContactKind,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Language,
    QuestionType,
    Sex,
    SignerRelationship,
    StaffRole,
    SubscriberRelationship,
)
from shared.models.intake import (
    Answer,
    ConsentForm,
    ConsentFormVersion,
    ConsentSignature,
    KioskQuestion,
    KioskQuestionVersion,
)
from shared.models.patients import Coverage, Patient, PatientContact
from shared.models.schedule import Appointment, CheckIn, Location, Provider

__all__ = [
    "Answer",
    "Appointment",
    "AppointmentStatus",
    "AuditEvent",
    "Base",
    "Channel",
    "CheckIn",
    "CheckInToken",
    "ClinicSetting",
    "ConsentForm",
    "ConsentFormVersion",
    "ConsentRenewal",
    "ConsentSignature",
    "ContactKind",
    "Coverage",
    "Document",
    "Flag",
    "FlagKind",
    "FlagSeverity",
    "FlagStatus",
    "KioskQuestion",
    "KioskQuestionVersion",
    "Language",
    "Location",
    "Patient",
    "PatientContact",
    "Provider",
    "QuestionType",
    "Sex",
    "SignerRelationship",
    "StaffRole",
    "StaffUser",
    "SubscriberRelationship",
    "UTCDateTime",
    "utcnow",
]
