"""The patient's contact details: shown for "Is this still right?", and changes validated
and held as flags. The record itself changes only when a representative accepts."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from shared.models import ContactKind, Flag, FlagKind, FlagSeverity, Patient
from shared.services import flags

POSTAL_CODE = re.compile(r"\d{5}(-\d{4})?")
DEFAULT_REGION = "US"
MAX_FIELD = 200
# Narrower record columns: what the desk accepts must fit where it is written.
MAX_LENGTH = {"city": 100, "state": 50, "emergency_relationship": 50}
# Control characters no keyboard types (PostgreSQL refuses NUL), and lone surrogates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class ContactDetails:
    address_line: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    email: str = ""
    emergency_name: str = ""
    emergency_relationship: str = ""
    emergency_phone: str = ""


GROUPS: dict[FlagKind, tuple[str, ...]] = {
    FlagKind.ADDRESS_CHANGE: ("address_line", "address_line2", "city", "state", "postal_code"),
    FlagKind.PHONE_CHANGE: ("phone",),
    FlagKind.EMAIL_CHANGE: ("email",),
    FlagKind.EMERGENCY_CONTACT_CHANGE: (
        "emergency_name", "emergency_relationship", "emergency_phone",
    ),
}


def current_details(patient: Patient) -> ContactDetails:
    emergency = next((c for c in patient.contacts if c.kind == ContactKind.EMERGENCY), None)
    return ContactDetails(
        address_line=patient.address_line or "",
        address_line2=patient.address_line2 or "",
        city=patient.city or "",
        state=patient.state or "",
        postal_code=patient.postal_code or "",
        phone=patient.phone or "",
        email=patient.email or "",
        emergency_name=emergency.name if emergency else "",
        emergency_relationship=emergency.relationship_to_patient if emergency else "",
        emergency_phone=(emergency.phone or "") if emergency else "",
    )


def normalize_phone(raw: str) -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(raw: str) -> str:
    normalized = normalize_phone(raw)
    if normalized is None:
        return raw
    number = phonenumbers.parse(normalized, DEFAULT_REGION)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def clean_text(value: object) -> str:
    """Typed text on one line: control characters and runs of whitespace become one space."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def validate(details: ContactDetails) -> tuple[ContactDetails, dict[str, str]]:
    """Cleaned details and, per field, the catalog key of what is wrong."""
    values = {k: clean_text(v) for k, v in asdict(details).items()}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if len(value) > MAX_LENGTH.get(name, MAX_FIELD):
            errors[name] = "details.error_too_long"
    for name in ("address_line", "city", "state", "postal_code", "phone"):
        if not values[name] and name not in errors:
            errors[name] = "details.error_required"
    postal = values["postal_code"]
    if postal and "postal_code" not in errors and not POSTAL_CODE.fullmatch(postal):
        errors["postal_code"] = "details.error_postal_code"
    for name in ("phone", "emergency_phone"):
        if values[name] and name not in errors:
            normalized = normalize_phone(values[name])
            if normalized is None:
                errors[name] = "details.error_phone"
            else:
                values[name] = normalized
    if values["email"] and "email" not in errors:
        try:
            values["email"] = validate_email(values["email"], check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = "details.error_email"
    emergency = [values[f] for f in GROUPS[FlagKind.EMERGENCY_CONTACT_CHANGE]]
    if any(emergency) and not values["emergency_name"]:
        errors.setdefault("emergency_name", "details.error_required")
    return ContactDetails(**values), errors


def _comparable(details: ContactDetails) -> dict[str, str]:
    values = asdict(details)
    for name in ("phone", "emergency_phone"):
        values[name] = normalize_phone(values[name]) or values[name]
    values["email"] = values["email"].lower()
    return values


def report_changes(
    session: Session,
    patient: Patient,
    reported: ContactDetails,
    *,
    appointment_id: int | None,
    now: datetime,
    kiosk_id: str | None,
    actor_type: str = "kiosk",
) -> list[Flag]:
    """One flag per changed group (address, phone, email, emergency contact), holding the
    record's values and the new ones. The patient record is not touched."""
    old = _comparable(current_details(patient))
    new = _comparable(reported)
    raised = []
    for kind, names in GROUPS.items():
        if any(old[n] != new[n] for n in names):
            raised.append(
                flags.raise_flag(
                    session,
                    kind=kind,
                    severity=FlagSeverity.INFO,
                    now=now,
                    patient_id=patient.id,
                    appointment_id=appointment_id,
                    kiosk_id=kiosk_id,
                    old_value={n: old[n] for n in names},
                    new_value={n: new[n] for n in names},
                    actor_type=actor_type,
                )
            )
    return raised


FIELD_NAMES = tuple(f.name for f in fields(ContactDetails))
