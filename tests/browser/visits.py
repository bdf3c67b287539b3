"""The patients and visits browser tests make for themselves.

The database and the two apps are shared by the whole browser session, and the tests run in
any order, so no test takes a seeded visit or one "left over" from another test: each books
its own patient, at a known time on the session's running clock (shared.clock, which the
apps read too), and looks only at the rows it made (by their ids or the patient's MRN).

Every patient gets a fresh MRN of one fixed length (so none is a prefix of another, and a
search for one finds only that one) and a birth date no other patient of this session has
(so the kiosk finds each by family name and birth date alone).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.clinic_time import clinic_today, end_of_day
from shared.db import session_scope
from shared.models import (
    Appointment,
    ContactKind,
    Location,
    PatientContact,
    Provider,
    SignerRelationship,
    utcnow,
)
from shared.services import clinic_settings, consent
from tests.factories import image_bytes, make_appointment, make_coverage, make_patient

# How long before its start a visit is booked. The kiosk takes a patient without a flag from
# `early_checkin_minutes` (30 by default) before the start to `grace_minutes` (15) after it,
# so a visit booked 10 minutes ahead stays on time for the next 25 minutes of the test.
LEAD = timedelta(minutes=10)

# One number per patient made in this session: the birth date comes from it.
_serial = count(1)


@dataclass(frozen=True)
class Visit:
    appointment_id: int
    patient_id: int
    mrn: str
    given: str  # the name the kiosk greets and the desk sees first
    family: str
    birth: date
    start: datetime  # UTC

    @property
    def shown_name(self) -> str:
        """The name the dashboard shows: the preferred (here the given) name, then family."""
        return f"{self.given} {self.family}"


def visit_start(now: datetime, tz: ZoneInfo, lead: timedelta = LEAD) -> datetime:
    """`lead` after `now`, but never past the end of now's clinic day (late in the evening
    the visit is the day's last minute, so the kiosk still sees it as today's)."""
    return min(now + lead, end_of_day(now, tz) - timedelta(minutes=1))


def new_mrn() -> str:
    """A record number no other patient has: fixed length, so never a prefix of another."""
    return f"BT-{uuid.uuid4().hex[:12].upper()}"


def new_visit(
    engine: Engine, tz: ZoneInfo, *, signed: bool = False, minor: bool = False,
    lead: timedelta = LEAD,
) -> Visit:
    """A made-up patient with full contact details and insurance in force, booked for a
    follow-up `lead` from now (today, inside the arrival window), committed at once.

    An adult (with an emergency contact), or with `minor` a child of nine with a guardian
    on file. With `signed` (adults only) every consent form the visit needs was signed a
    month ago; otherwise the patient never signed one."""
    assert not (signed and minor), "a child's forms are signed by a guardian at the kiosk"
    n = next(_serial)
    now = utcnow()
    today = clinic_today(tz, now)
    with session_scope(engine) as session:
        rules = clinic_settings.load(session)
        assert lead <= timedelta(minutes=rules.early_checkin_minutes), (
            "the visit would start outside the kiosk's arrival window")
        provider = session.scalars(select(Provider).order_by(Provider.id)).first()
        location = session.scalars(select(Location).order_by(Location.id)).first()
        assert provider is not None and location is not None, "the demo clinic is not seeded"
        if minor:
            # Nine years old, a day younger for each patient made before.
            birth = date(today.year - 9, 1, 1) - timedelta(days=n)
            patient = make_patient(
                session, mrn=new_mrn(), legal_given_name="Pip",
                legal_family_name="Thistlewood", birth_date=birth,
                phone="+1 312 555 0161", address_line="3 Willow Bend", city="Exampleton",
                state="IL", postal_code="60990",
            )
            session.add(PatientContact(patient=patient, kind=ContactKind.GUARDIAN,
                                       name="Marisol Avendaño",
                                       relationship_to_patient="guardian",
                                       phone="+1 312 555 0161"))
            session.add(PatientContact(patient=patient, kind=ContactKind.EMERGENCY,
                                       name="Rafael Avendaño", relationship_to_patient="uncle",
                                       phone="+1 312 555 0162"))
        else:
            birth = date(1950, 1, 1) + timedelta(days=n)
            patient = make_patient(
                session, mrn=new_mrn(), legal_given_name="Harriet",
                legal_family_name="Quill", birth_date=birth,
                phone="+1 312 555 0177", email="harriet.quill@example.org",
                address_line="12 Lantern Ln", city="Exampleton", state="IL",
                postal_code="60990",
            )
            session.add(PatientContact(patient=patient, kind=ContactKind.EMERGENCY,
                                       name="Tom Quill", relationship_to_patient="son",
                                       phone="+1 312 555 0178"))
        make_coverage(session, patient)
        appointment = make_appointment(session, patient=patient, provider=provider,
                                       location=location, visit_type="Follow-up",
                                       start=visit_start(now, tz, lead))
        if signed:
            _sign_everything(session, appointment, now=now, today=today)
        session.flush()
        return Visit(appointment.id, patient.id, patient.mrn,
                     patient.preferred_name or patient.legal_given_name,
                     patient.legal_family_name, patient.birth_date, appointment.start)


def _sign_everything(session: Session, appointment: Appointment, *, now: datetime,
                     today: date) -> None:
    """Every form the visit needs, signed by the patient a month ago."""
    patient = appointment.patient
    for form in consent.forms_to_sign(session, appointment, language="en", now=now, day=today):
        consent.sign(session, appointment, form.version_id,
                     signer_name=f"{patient.legal_given_name} {patient.legal_family_name}",
                     relationship=SignerRelationship.SELF, signature_png=image_bytes(),
                     stroke_count=1, language="en", now=now - timedelta(days=30), day=today,
                     kiosk_id=None)
    assert not consent.forms_to_sign(session, appointment, language="en", now=now, day=today)
