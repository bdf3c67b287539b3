"""Factories for tests: each makes one valid row with plain defaults and flushes it.

Pass any column as a keyword to override it. Rows are flushed (so they have ids), never
committed: the test decides when its transaction ends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from typing import TypeVar

from sqlalchemy.orm import Session

from shared.models import Appointment, AppointmentStatus, Location, Patient, Provider

T = TypeVar("T")

# 10:00 in the morning in Chicago (CDT) on an ordinary Monday.
DEFAULT_START = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)

_serial = count(1)


def _save(session: Session, row: T) -> T:
    session.add(row)
    session.flush()
    return row


def make_patient(session: Session, **overrides: object) -> Patient:
    n = next(_serial)
    fields: dict[str, object] = {
        "mrn": f"MRN{n:06d}",
        "legal_given_name": "Rosalind",
        "legal_family_name": "Okonkwo-Delgado",
        "birth_date": date(1984, 2, 29),
        "phone": "312-555-0147",
    }
    fields.update(overrides)
    return _save(session, Patient(**fields))


def make_provider(session: Session, **overrides: object) -> Provider:
    fields: dict[str, object] = {"display_name": "Dr. Imani Okafor", "specialty": "Family Medicine"}
    fields.update(overrides)
    return _save(session, Provider(**fields))


def make_location(session: Session, **overrides: object) -> Location:
    n = next(_serial)
    fields: dict[str, object] = {"name": f"North Clinic {n}", "department": "Family Medicine"}
    fields.update(overrides)
    return _save(session, Location(**fields))


def make_appointment(
    session: Session,
    *,
    start: datetime = DEFAULT_START,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    patient: Patient | None = None,
    provider: Provider | None = None,
    location: Location | None = None,
    **overrides: object,
) -> Appointment:
    """An appointment; the patient, provider and location are made too unless given.

    `status` is set directly, without the transition rules, to put a visit in any state.
    """
    fields: dict[str, object] = {
        "patient": patient or make_patient(session),
        "provider": provider or make_provider(session),
        "location": location or make_location(session),
        "start": start,
        "status": status,
        "visit_type": "follow-up",
    }
    fields.update(overrides)
    return _save(session, Appointment(**fields))
