"""Schedule import from a FHIR R4 Bundle (JSON), checked with the fhir.resources models."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.imports import Action, ImportUnreadable, apply_import, plan_import, read_file
from shared.models import Coverage, Patient, Provider, Sex

TZ = ZoneInfo("America/Chicago")
TODAY = date(2026, 7, 1)
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import" / "sample-bundle.json"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def encode(bundle: object) -> bytes:
    return json.dumps(bundle).encode("utf-8")


def rows(bundle: object):
    return read_file(encode(bundle), "fhir", tz=TZ, today=TODAY)


def resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid)


def unreadable(data: bytes) -> ImportUnreadable:
    with pytest.raises(ImportUnreadable) as caught:
        read_file(data, "fhir", tz=TZ, today=TODAY)
    return caught.value


def test_the_sample_bundle_reads_appointments_with_their_patients(session: Session) -> None:
    first, second = rows(sample())
    assert (first.row, second.row) == (5, 7)  # numbered by Bundle entry
    assert first.ok and second.ok, (first.problems, second.problems)
    assert first.external_id == "SCH-1001"
    assert first.start == datetime(2026, 7, 6, 14, 0, tzinfo=UTC)
    assert (first.duration_minutes, first.visit_type) == (20, "Follow-up")
    assert (first.mrn, first.given_name, first.family_name) == ("MRN-20001", "Alma", "Whitfield")
    assert (first.birth_date, first.sex) == (date(1961, 3, 14), Sex.FEMALE)
    assert (first.phone, first.email) == ("+13125550181", "alma.whitfield@example.com")
    assert (first.address_line, first.city, first.postal_code) == ("118 Cedar Ave", "Chicago",
                                                                   "60614")
    assert (first.payer, first.member_id, first.group_id) == ("Prairie Health Plan",
                                                              "PHP7712093", "GRP-88120")
    assert (first.provider_id, first.provider_name) == ("P-100", "Dr. Lena Fischer")
    assert (first.location, first.department) == ("Main Street Clinic", "Family Medicine")
    # A urn:uuid reference resolves through the entry's fullUrl; serviceType names the visit.
    assert (second.mrn, second.given_name, second.visit_type) == ("MRN-20002", "Tomás",
                                                                  "New patient")

    result = apply_import(session, plan_import(session, [first, second]))
    assert result.count(Action.CREATE) == 2
    session.commit()
    patient = session.scalars(select(Patient).where(Patient.mrn == "MRN-20001")).one()
    assert [c.member_id for c in session.scalars(
        select(Coverage).where(Coverage.patient_id == patient.id))] == ["PHP7712093"]
    assert session.scalar(select(func.count(Provider.id))) == 1
    again = plan_import(session, rows(sample()))
    assert [o.action for o in again] == [Action.UNCHANGED, Action.UNCHANGED]


def test_nulls_inside_names_and_address_lines_are_skipped() -> None:
    """FHIR lets a name's or an address's list hold nulls (a hostile file found it): the
    parts that are there are read, and the record is not refused."""
    bundle = sample()
    resource(bundle, "prac-100")["name"] = [{"given": [None, "Lena"], "prefix": ["Dr.", None],
                                             "family": "Fischer"}]
    patient = resource(bundle, "pat-20001")
    patient["name"] = [{"family": "Whitfield", "given": [None, "Alma", None, "Jo"],
                        "prefix": [None], "suffix": [None, "Jr."]}]
    patient["address"][0]["line"] = [None, "118 Cedar Ave", None, "Apt 2"]
    first, second = rows(bundle)
    assert first.ok and second.ok, (first.problems, second.problems)
    assert (first.given_name, first.middle_name, first.family_name) == ("Alma", "Jo",
                                                                        "Whitfield")
    assert (first.name_prefix, first.name_suffix) == (None, "Jr.")
    assert (first.address_line, first.address_line2) == ("118 Cedar Ave", "Apt 2")
    assert (first.provider_id, first.provider_name) == ("P-100", "Dr. Lena Fischer")


def test_the_mrn_is_the_identifier_typed_mr() -> None:
    bundle = sample()
    patient = resource(bundle, "pat-20001")
    patient["identifier"].insert(0, {"system": "http://hl7.org/fhir/sid/us-ssn",
                                     "value": "999-00-1234"})
    assert rows(bundle)[0].mrn == "MRN-20001"


def test_a_cancelled_appointment_and_an_unknown_status(session: Session) -> None:
    bundle = sample()
    resource(bundle, "appt-1001")["status"] = "cancelled"
    resource(bundle, "appt-1002")["status"] = "proposed"
    first, second = rows(bundle)
    assert first.cancelled and first.ok
    assert [p.key for p in second.problems] == ["import.reason_bad_status"]


def test_a_resource_failing_validation_refuses_only_its_appointment(session: Session) -> None:
    bundle = sample()
    resource(bundle, "pat-20001")["birthDate"] = "1961-13-45"
    first, second = plan_import(session, rows(bundle))
    assert first.action == Action.REFUSE
    assert [p.key for p in first.reasons] == ["import.reason_invalid_resource"]
    assert first.reasons[0].params == {"resource": "Patient/pat-20001", "field": "birthDate"}
    assert second.action == Action.CREATE


def test_an_appointment_failing_validation_is_refused(session: Session) -> None:
    bundle = sample()
    resource(bundle, "appt-1002")["start"] = "next tuesday"
    resource(bundle, "appt-1001")["unknownField"] = 1
    first, second = plan_import(session, rows(bundle))
    assert first.action == second.action == Action.REFUSE
    assert second.reasons[0].params == {"resource": "Appointment/appt-1002", "field": "start"}
    assert first.reasons[0].params["field"] == "unknownField"


def test_a_missing_or_partial_birth_date_is_refused(session: Session) -> None:
    bundle = sample()
    del resource(bundle, "pat-20001")["birthDate"]
    resource(bundle, "pat-20002")["birthDate"] = "1990"  # valid FHIR, not a birth date to match
    first, second = plan_import(session, rows(bundle))
    assert [p.key for p in first.reasons] == ["import.reason_missing_birth_date"]
    assert [p.key for p in second.reasons] == ["import.reason_bad_date"]


def test_a_patient_not_in_the_bundle_is_refused(session: Session) -> None:
    bundle = sample()
    appointment = resource(bundle, "appt-1001")
    appointment["participant"][0]["actor"]["reference"] = "Patient/elsewhere"
    (first, _) = plan_import(session, rows(bundle))
    assert first.action == Action.REFUSE
    assert "import.reason_unresolved_reference" in [p.key for p in first.reasons]


def test_an_appointment_without_practitioner_or_location_is_refused_when_new(
    session: Session,
) -> None:
    bundle = sample()
    resource(bundle, "appt-1001")["participant"] = resource(bundle, "appt-1001")[
        "participant"][:1]
    (first, _) = plan_import(session, rows(bundle))
    assert [p.key for p in first.reasons] == ["import.reason_missing_provider"]


def test_huge_names_and_duplicate_ids_are_refused(session: Session) -> None:
    bundle = sample()
    resource(bundle, "pat-20001")["name"][0]["family"] = "W" * 300
    resource(bundle, "appt-1002")["identifier"][0]["value"] = "SCH-1001"
    first, second = plan_import(session, rows(bundle))
    assert [p.key for p in first.reasons] == ["import.reason_too_long"]
    assert [p.key for p in second.reasons] == ["import.reason_duplicate_id"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"not json at all", "import.error_not_json"),
        (b'{"resourceType": "Bundle"', "import.error_not_json"),
        (b"[1, 2, 3]", "import.error_not_bundle"),
        (b'{"resourceType": "Patient", "id": "x"}', "import.error_not_bundle"),
        (b'{"resourceType": "Bundle", "entry": []}', "import.error_bad_bundle"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": {}}',
         "import.error_bad_bundle"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": [1]}',
         "import.error_bad_bundle"),
        (b"[" * 100_000 + b"]" * 100_000, "import.error_not_json"),
    ],
)
def test_json_that_is_not_a_usable_bundle_refuses_the_file(data: bytes, key: str) -> None:
    assert unreadable(data).key == key


def test_resources_the_import_does_not_use_are_ignored() -> None:
    bundle = sample()
    bundle["entry"].append({"resource": {"resourceType": "Slot", "id": "s1"}})
    bundle["entry"].append({"fullUrl": "urn:x"})
    assert [r.external_id for r in rows(bundle)] == ["SCH-1001", "SCH-1002"]


def test_an_empty_bundle_has_no_rows() -> None:
    assert rows({"resourceType": "Bundle", "type": "collection"}) == []


def test_a_latin1_bundle_is_refused() -> None:
    data = json.dumps(sample(), ensure_ascii=False).encode("latin-1")
    assert unreadable(data).key == "import.error_encoding"


def test_the_projects_own_export_imports_back_with_its_providers_and_locations(
    session: Session,
) -> None:
    from shared import demo
    from shared.models import Appointment
    from shared.services import fhir_export
    from tests.factories import make_appointment, make_location, make_patient, make_provider

    provider = make_provider(session, external_id="13", display_name="Dr. Kate Murphy")
    location = make_location(session, name="East Wing Room 2", department="Pediatrics",
                             external_id="102")
    start = datetime(2026, 7, 6, 14, 15, tzinfo=UTC)
    patient = make_patient(session, legal_given_name="Alma", middle_name="June",
                           legal_family_name="Whitfield", name_prefix="Mrs",
                           name_suffix="III")
    make_appointment(session, provider=provider, location=location, start=start,
                     external_id="SCH-77", duration_minutes=30, visit_type="Follow-up",
                     patient=patient)
    session.commit()
    text = fhir_export.export_day(session, date(2026, 7, 6), tz=TZ,
                                  now=datetime(2026, 7, 1, tzinfo=UTC))
    assert fhir_export.resource_counts(text)["Practitioner"] == 1
    assert fhir_export.resource_counts(text)["Location"] == 1
    demo.clear_all(session)
    session.commit()

    outcomes = apply_import(session, plan_import(session, read_file(
        text.encode("utf-8"), "fhir", tz=TZ, today=TODAY))).outcomes
    session.commit()
    assert [o.action for o in outcomes] == [Action.CREATE], outcomes[0].describe()
    back = session.scalars(select(Appointment)).one()
    assert (back.external_id, back.start, back.duration_minutes, back.visit_type) == (
        "SCH-77", start, 30, "Follow-up")
    assert (back.provider.external_id, back.provider.display_name) == ("13", "Dr. Kate Murphy")
    assert (back.location.external_id, back.location.name, back.location.department) == (
        "102", "East Wing Room 2", "Pediatrics")
    assert back.patient.legal_name == "Mrs Alma June Whitfield III"
