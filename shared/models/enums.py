"""The domain's fixed vocabularies."""

from __future__ import annotations

from enum import StrEnum


class AppointmentStatus(StrEnum):
    """FHIR R4 Appointment.status values, plus the clinic's own in-room step."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    CHECKED_IN = "checked-in"
    IN_ROOM = "in-room"
    FULFILLED = "fulfilled"
    NOSHOW = "noshow"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    KIOSK = "kiosk"
    DESK = "desk"
    PHONE = "phone"
    # The patient's own phone before the visit (pre-check-in): never "in the lobby".
    HOME = "home"
    # The patient's own phone in the lobby ("I'm here" after a pre-check-in).
    MOBILE = "mobile"


class Sex(StrEnum):
    """FHIR administrative gender."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Language(StrEnum):
    EN = "en"
    ES = "es"


class ContactKind(StrEnum):
    EMERGENCY = "emergency"
    GUARDIAN = "guardian"


class SubscriberRelationship(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class SignerRelationship(StrEnum):
    SELF = "self"
    PARENT = "parent"
    GUARDIAN = "guardian"
    LEGAL_REPRESENTATIVE = "legal-representative"


class QuestionType(StrEnum):
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SHORT_TEXT = "short_text"
    NUMBER = "number"
    DATE = "date"
    PAIN_SCALE = "pain_scale"


class ConsentRenewal(StrEnum):
    EVERY_VISIT = "every_visit"
    YEARLY = "yearly"
    ONCE = "once"


class FlagKind(StrEnum):
    ADDRESS_CHANGE = "address_change"
    PHONE_CHANGE = "phone_change"
    EMAIL_CHANGE = "email_change"
    EMERGENCY_CONTACT_CHANGE = "emergency_contact_change"
    DEMOGRAPHICS_CHANGE = "demographics_change"
    INSURANCE_CHANGE = "insurance_change"
    COVERAGE_EXPIRED = "coverage_expired"
    COVERAGE_MISSING = "coverage_missing"
    IDENTITY_FAILED = "identity_failed"
    CONSENT_MISSING = "consent_missing"
    DOCUMENT_MISSING = "document_missing"
    URGENT_ANSWER = "urgent_answer"
    HELP_REQUEST = "help_request"
    WRONG_DAY = "wrong_day"
    EARLY_ARRIVAL = "early_arrival"
    LATE_ARRIVAL = "late_arrival"
    WALK_IN = "walk_in"
    LEFT_KIOSK = "left_kiosk"  # walked away mid check-in: the appointment is booked again
    # A carried-over answer (allergies, medications...) that the patient changed.
    ANSWER_CHANGE = "answer_change"


class PrecheckState(StrEnum):
    """A visit's pre-check-in at home, as the desk sees it (shared.services.precheck)."""

    NOT_OPENED = "not_opened"
    STARTED = "started"
    DONE = "done"


class FlagSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    URGENT = "urgent"


class FlagStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class StaffRole(StrEnum):
    REPRESENTATIVE = "representative"
    MANAGER = "manager"
