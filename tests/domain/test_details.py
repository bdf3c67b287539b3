"""Contact details at check-in: what the patient types is checked, and a change becomes a
flag for the desk; the record itself is never overwritten from the kiosk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.models import ContactKind, Flag, FlagKind, FlagStatus, Patient, PatientContact
from shared.services.details import ContactDetails, current_details, report_changes, validate
from tests.factories import make_appointment, make_patient

NOW = datetime(2026, 6, 15, 14, 50, tzinfo=UTC)
KIOSK = "kiosk-1"

GOOD = ContactDetails(
    address_line="1200 Maple Grove Ave",
    address_line2="Apt 3B",
    city="Exampleton",
    state="IL",
    postal_code="60990",
    phone="(312) 555-0142",
    email="elena.parker@example.com",
)


def errors_of(details: ContactDetails) -> dict[str, str]:
    return validate(details)[1]


# --- validating what the patient typed ------------------------------------------------------


def test_good_details_pass_and_the_phone_is_stored_in_international_form() -> None:
    cleaned, errors = validate(GOOD)

    assert errors == {}
    assert cleaned.phone == "+13125550142"
    assert cleaned.address_line == "1200 Maple Grove Ave"


def test_extra_spaces_are_squeezed_out() -> None:
    cleaned, errors = validate(replace(GOOD, address_line="  1200   Maple Grove  Ave ",
                                       city=" Exampleton "))

    assert errors == {}
    assert cleaned.address_line == "1200 Maple Grove Ave"
    assert cleaned.city == "Exampleton"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("phone", "123", "details.error_phone"),
        ("phone", "call me", "details.error_phone"),
        ("emergency_phone", "555", "details.error_phone"),
        ("email", "a@", "details.error_email"),
        ("email", "elena.example.com", "details.error_email"),
        ("postal_code", "ABCDE", "details.error_postal_code"),
        ("postal_code", "6099", "details.error_postal_code"),
        ("address_line", "x" * 201, "details.error_too_long"),
    ],
)
def test_a_wrong_value_is_refused_with_its_own_message(field: str, value: str, key: str) -> None:
    details = replace(GOOD, **{field: value})
    if field == "emergency_phone":
        details = replace(details, emergency_name="Marco Parker")

    assert errors_of(details) == {field: key}


@pytest.mark.parametrize("field", ["address_line", "city", "state", "postal_code", "phone"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_required_field_left_empty_is_refused(field: str, blank: str) -> None:
    assert errors_of(replace(GOOD, **{field: blank})) == {field: "details.error_required"}


def test_second_address_line_email_and_emergency_contact_are_optional() -> None:
    details = replace(GOOD, address_line2="", email="")

    assert errors_of(details) == {}


def test_a_zip_plus_four_is_accepted() -> None:
    assert errors_of(replace(GOOD, postal_code="60990-1234")) == {}


def test_an_emergency_phone_without_a_name_asks_for_the_name() -> None:
    details = replace(GOOD, emergency_phone="773 555 0111")

    assert errors_of(details) == {"emergency_name": "details.error_required"}


# --- reporting changes -----------------------------------------------------------------------


def patient_on_file(session: Session) -> Patient:
    return make_patient(
        session,
        address_line="1200 Maple Grove Ave",
        address_line2="Apt 3B",
        city="Exampleton",
        state="IL",
        postal_code="60990",
        phone="+13125550142",
        email="elena.parker@example.com",
    )


def report(session: Session, patient: Patient, details: ContactDetails) -> list[Flag]:
    appointment = make_appointment(session, patient=patient)
    return report_changes(session, patient, details, appointment_id=appointment.id, now=NOW,
                          kiosk_id=KIOSK)


def all_flags(session: Session) -> list[Flag]:
    return list(session.scalars(select(Flag).order_by(Flag.id)))


def test_unchanged_details_raise_no_flag(session: Session) -> None:
    patient = patient_on_file(session)

    assert report(session, patient, current_details(patient)) == []
    assert all_flags(session) == []


def test_a_changed_address_becomes_a_flag_not_an_overwrite(
    session: Session, engine: Engine
) -> None:
    patient = patient_on_file(session)
    moved = replace(current_details(patient), address_line="77 Juniper Ln", address_line2="",
                    postal_code="60991")

    raised = report(session, patient, moved)
    session.commit()

    assert [f.kind for f in raised] == [FlagKind.ADDRESS_CHANGE]
    with Session(engine) as fresh:
        (flag,) = fresh.scalars(select(Flag)).all()
        assert flag.kind == FlagKind.ADDRESS_CHANGE
        assert flag.status == FlagStatus.OPEN
        assert flag.patient_id == patient.id
        assert flag.old_value == {
            "address_line": "1200 Maple Grove Ave", "address_line2": "Apt 3B",
            "city": "Exampleton", "state": "IL", "postal_code": "60990",
        }
        assert flag.new_value == {
            "address_line": "77 Juniper Ln", "address_line2": "",
            "city": "Exampleton", "state": "IL", "postal_code": "60991",
        }
        stored = fresh.get(Patient, patient.id)
        assert stored is not None
        assert stored.address_line == "1200 Maple Grove Ave"
        assert stored.address_line2 == "Apt 3B"
        assert stored.postal_code == "60990"


def test_the_same_phone_typed_another_way_is_not_a_change(session: Session) -> None:
    patient = patient_on_file(session)

    for typed in ("(312) 555-0142", "312.555.0142", "+1 312 555 0142", "3125550142"):
        assert report(session, patient, replace(current_details(patient), phone=typed)) == []
    assert all_flags(session) == []


def test_an_email_differing_only_in_capitals_is_not_a_change(session: Session) -> None:
    patient = patient_on_file(session)
    typed = replace(current_details(patient), email="Elena.Parker@Example.com")

    assert report(session, patient, typed) == []


def test_a_new_phone_and_a_new_email_raise_two_flags(session: Session) -> None:
    patient = patient_on_file(session)
    typed = replace(current_details(patient), phone="(773) 555-0199",
                    email="elena.p@example.org")

    raised = report(session, patient, typed)

    assert sorted(f.kind for f in raised) == sorted([FlagKind.PHONE_CHANGE,
                                                     FlagKind.EMAIL_CHANGE])
    phone = next(f for f in raised if f.kind == FlagKind.PHONE_CHANGE)
    assert phone.old_value == {"phone": "+13125550142"}
    assert phone.new_value == {"phone": "+17735550199"}
    assert len(all_flags(session)) == 2


def test_reporting_the_same_change_twice_keeps_one_flag(session: Session) -> None:
    patient = patient_on_file(session)
    appointment = make_appointment(session, patient=patient)
    moved = replace(current_details(patient), city="Sample Springs", postal_code="60995")

    first = report_changes(session, patient, moved, appointment_id=appointment.id, now=NOW,
                           kiosk_id=KIOSK)
    second = report_changes(session, patient, moved, appointment_id=appointment.id, now=NOW,
                            kiosk_id=KIOSK)

    assert [f.id for f in first] == [f.id for f in second]
    assert len(all_flags(session)) == 1


def test_a_new_emergency_contact_is_a_flag_and_the_contacts_stay_as_they_were(
    session: Session,
) -> None:
    patient = patient_on_file(session)
    session.add(PatientContact(patient=patient, kind=ContactKind.EMERGENCY, name="Marco Parker",
                               relationship_to_patient="spouse", phone="+17735550111"))
    session.flush()
    typed = replace(current_details(patient), emergency_name="Lucia Parker",
                    emergency_relationship="sister", emergency_phone="(773) 555-0122")

    raised = report(session, patient, typed)

    assert [f.kind for f in raised] == [FlagKind.EMERGENCY_CONTACT_CHANGE]
    assert raised[0].old_value == {"emergency_name": "Marco Parker",
                                   "emergency_relationship": "spouse",
                                   "emergency_phone": "+17735550111"}
    assert [c.name for c in patient.contacts] == ["Marco Parker"]
