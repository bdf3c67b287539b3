"""Applying an import: re-import changes nothing, updates go by external id and MRN, a changed
name or birth date becomes a flag, cancellations follow the status rules, writes are batched."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from shared.i18n import CATALOGS
from shared.imports import (
    REASON_KEYS,
    Action,
    RowOutcome,
    apply_import,
    plan_import,
    read_file,
    totals,
)
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Coverage,
    Flag,
    FlagKind,
    FlagStatus,
    Location,
    Patient,
    Provider,
    Sex,
)
from tests.factories import (
    make_appointment,
    make_coverage,
    make_flag,
    make_location,
    make_patient,
    make_provider,
)

TZ = ZoneInfo("America/Chicago")
TODAY = date(2026, 7, 1)
NOW = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "import" / "sample-schedule.csv"
HEADER = ("appointment_id,start,provider_id,provider_name,location,mrn,given_name,family_name,"
          "birth_date,status,phone,payer,member_id")
ADA = "A-1,2026-07-06 09:00,P-1,Dr. Ada Byron,North,M-1,Ada,Lovelace,1985-12-10,booked,,,"


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *lines)) + "\n").encode("utf-8")


def run(session: Session, data: bytes, *, commit: bool = True) -> list[RowOutcome]:
    rows = read_file(data, "csv", tz=TZ, today=TODAY)
    result = apply_import(session, plan_import(session, rows), now=NOW)
    if commit:
        session.commit()
    return result.outcomes


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_sample_imports_and_importing_it_again_changes_nothing(session: Session) -> None:
    outcomes = run(session, SAMPLE.read_bytes())
    assert totals(outcomes) == {Action.CREATE: 4, Action.UPDATE: 0, Action.UNCHANGED: 1,
                                Action.REFUSE: 0}
    assert (count(session, Patient), count(session, Appointment)) == (3, 4)
    assert (count(session, Provider), count(session, Location)) == (2, 1)
    alma = session.scalars(select(Patient).where(Patient.mrn == "MRN-20001")).one()
    assert (alma.phone, alma.sex, alma.city) == ("+13125550181", Sex.FEMALE, "Chicago")
    assert [c.payer for c in alma.coverages] == ["Prairie Health Plan"]
    appointment = session.scalars(select(Appointment).where(
        Appointment.external_id == "SCH-1002")).one()
    assert (appointment.start, appointment.duration_minutes, appointment.visit_type) == (
        datetime(2026, 7, 6, 14, 20, tzinfo=UTC), 40, "New patient")
    assert appointment.provider.external_id == "P-100"
    assert appointment.location.department == "Family Medicine"

    again = run(session, SAMPLE.read_bytes())
    assert {o.action for o in again} == {Action.UNCHANGED}
    assert (count(session, Patient), count(session, Appointment)) == (3, 4)
    assert (count(session, Provider), count(session, Location), count(session, Coverage)) == (
        2, 1, 2)
    assert count(session, Flag) == 0


def test_one_audit_event_per_import_with_counts_only(session: Session) -> None:
    run(session, SAMPLE.read_bytes())
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "schedule.imported")).all()
    assert len(events) == 1
    assert events[0].detail == {"count": 5, "created": 4, "updated": 0}
    assert events[0].actor_type == "import"


def test_an_updated_file_updates_by_external_id_without_duplicates(session: Session) -> None:
    run(session, csv_bytes(ADA))
    moved = ADA.replace("09:00", "11:15").replace("North", "South").replace(
        "P-1,Dr. Ada Byron", "P-2,Dr. Grace Hopper")
    (outcome,) = run(session, csv_bytes(moved))
    assert outcome.action == Action.UPDATE
    assert [p.key for p in outcome.reasons] == ["import.note_new_provider",
                                                "import.note_new_location"]
    appointment = session.scalars(select(Appointment)).one()
    assert appointment.start == datetime(2026, 7, 6, 16, 15, tzinfo=UTC)
    assert (appointment.provider.display_name, appointment.location.name) == (
        "Dr. Grace Hopper", "South")
    assert appointment.version == 2  # another desk's stale copy now loses, as it should
    assert (count(session, Patient), count(session, Appointment)) == (1, 1)


def test_a_new_appointment_for_a_known_mrn_reuses_the_patient(session: Session) -> None:
    patient = make_patient(session, mrn="M-1", legal_given_name="Ada",
                           legal_family_name="Lovelace", birth_date=date(1985, 12, 10))
    session.commit()
    (outcome,) = run(session, csv_bytes(ADA.replace("Lovelace", "LOVELACE")))
    assert outcome.action == Action.CREATE
    # A name in capitals is the same name: no flag, and the patient is not new.
    assert [p.key for p in outcome.reasons] == ["import.note_new_provider",
                                                "import.note_new_location"]
    assert count(session, Patient) == 1
    assert session.scalars(select(Appointment)).one().patient_id == patient.id


def test_a_changed_birth_date_on_a_known_mrn_is_flagged_not_written(session: Session) -> None:
    patient = make_patient(session, mrn="M-1", legal_given_name="Ada",
                           legal_family_name="Lovelace", birth_date=date(1985, 12, 10))
    session.commit()
    changed = ADA.replace("1985-12-10", "1985-10-12").replace("Ada,Lovelace", "Ada,King")
    (outcome,) = run(session, csv_bytes(changed))
    assert outcome.action == Action.CREATE
    assert "import.note_demographics_flag" in [p.key for p in outcome.reasons]
    session.refresh(patient)
    assert (patient.birth_date, patient.legal_family_name) == (date(1985, 12, 10), "Lovelace")
    flag = session.scalars(select(Flag)).one()
    assert (flag.kind, flag.status, flag.patient_id) == (FlagKind.DEMOGRAPHICS_CHANGE,
                                                         FlagStatus.OPEN, patient.id)
    assert flag.old_value == {"legal_family_name": "Lovelace", "birth_date": "1985-12-10"}
    assert flag.new_value == {"legal_family_name": "King", "birth_date": "1985-10-12"}
    raised = session.scalars(select(AuditEvent).where(AuditEvent.action == "flag.raised")).one()
    assert raised.actor_type == "import"

    # The same file again: the flag is already open, so nothing changes and none is added.
    (again,) = run(session, csv_bytes(changed))
    assert again.action == Action.UNCHANGED
    assert [p.key for p in again.reasons] == ["import.note_flag_open"]
    assert count(session, Flag) == 1


def test_contact_details_and_new_insurance_update_the_patient(session: Session) -> None:
    patient = make_patient(session, mrn="M-1", legal_given_name="Ada",
                           legal_family_name="Lovelace", birth_date=date(1985, 12, 10),
                           phone="312-555-0147")
    old = make_coverage(session, patient, payer="Old Mutual", member_id="OM-1")
    session.commit()
    same_phone = ADA.replace("booked,,,", "booked,(312) 555-0147,,")
    (outcome,) = run(session, csv_bytes(same_phone))
    assert outcome.action == Action.CREATE  # the appointment; the patient is as on file
    new_phone = ADA.replace("A-1", "A-2").replace("booked,,,",
                                                  "booked,773-555-0199,Prairie,PHP-99")
    (outcome,) = run(session, csv_bytes(new_phone))
    assert outcome.action == Action.CREATE
    session.refresh(patient)
    assert patient.phone == "+17735550199"
    assert [(c.payer, c.rank) for c in patient.coverages] == [("Prairie", 1), ("Old Mutual", 2)]
    assert old.id in {c.id for c in patient.coverages}
    # An empty value in the file never clears what the record holds.
    run(session, csv_bytes(ADA.replace("A-1", "A-3")))
    session.refresh(patient)
    assert patient.phone == "+17735550199"


def test_a_cancelled_row_cancels_through_the_status_rules(session: Session) -> None:
    run(session, csv_bytes(ADA))
    (outcome,) = run(session, csv_bytes(ADA.replace("booked", "cancelled")))
    assert (outcome.action, outcome.reason) == (Action.UPDATE, "import.note_cancelled")
    appointment = session.scalars(select(Appointment)).one()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_at == NOW
    # Booked again in a later file: the desk's cancellation is not undone by an import.
    (outcome,) = run(session, csv_bytes(ADA))
    assert (outcome.action, outcome.reason) == (Action.UNCHANGED, "import.note_stays_cancelled")
    session.refresh(appointment)
    assert appointment.status == AppointmentStatus.CANCELLED


def test_a_visit_in_progress_cannot_be_cancelled_by_an_import(session: Session) -> None:
    patient = make_patient(session, mrn="M-1", legal_given_name="Ada",
                           legal_family_name="Lovelace", birth_date=date(1985, 12, 10))
    make_appointment(session, patient=patient, external_id="A-1",
                     status=AppointmentStatus.IN_ROOM)
    session.commit()
    (outcome,) = run(session, csv_bytes(ADA.replace("booked", "cancelled")))
    assert outcome.action == Action.REFUSE
    assert outcome.reasons[0].key == "import.reason_cannot_cancel"
    assert session.scalars(select(Appointment)).one().status == AppointmentStatus.IN_ROOM


def test_an_appointment_id_of_another_patient_is_refused(session: Session) -> None:
    other = make_patient(session, mrn="M-OTHER")
    make_appointment(session, patient=other, external_id="A-1")
    session.commit()
    (outcome,) = run(session, csv_bytes(ADA))
    assert (outcome.action, outcome.reason) == (Action.REFUSE,
                                                "import.reason_patient_mismatch")
    assert count(session, Patient) == 1


def test_known_providers_and_locations_are_matched_not_copied(session: Session) -> None:
    provider = make_provider(session, external_id="P-1", display_name="Dr. A. Byron")
    by_name = make_provider(session, display_name="Dr. Grace Hopper")
    location = make_location(session, name="North")
    session.commit()
    run(session, csv_bytes(
        ADA, "A-2,2026-07-06 10:00,,dr. grace hopper,NORTH,M-2,Bo,Li,1990-01-01,booked,,,"))
    first, second = session.scalars(select(Appointment).order_by(Appointment.id)).all()
    assert (first.provider_id, first.location_id) == (provider.id, location.id)
    assert (second.provider_id, second.location_id) == (by_name.id, location.id)
    assert (count(session, Provider), count(session, Location)) == (2, 1)


def test_refused_rows_write_nothing_and_a_plan_writes_nothing(session: Session) -> None:
    data = csv_bytes(ADA.replace("1985-12-10", "never"), ADA.replace("A-1", "A-2").replace(
        "North", ""))
    rows = read_file(data, "csv", tz=TZ, today=TODAY)
    outcomes = plan_import(session, rows)
    assert [o.action for o in outcomes] == [Action.REFUSE, Action.REFUSE]
    apply_import(session, outcomes, now=NOW)
    session.commit()
    assert (count(session, Patient), count(session, Appointment), count(session, Provider),
            count(session, Location)) == (0, 0, 0, 0)


def test_apply_plans_again_against_the_database_as_it_is_now(session: Session) -> None:
    plan = plan_import(session, read_file(csv_bytes(ADA), "csv", tz=TZ, today=TODAY))
    run(session, csv_bytes(ADA))  # someone imported the same file meanwhile
    result = apply_import(session, plan, now=NOW)
    assert [o.action for o in result.outcomes] == [Action.UNCHANGED]
    assert count(session, Appointment) == 1


def test_statements_are_batched_not_one_per_row(session: Session) -> None:
    lines = [f"B-{i},2026-07-06 09:00,P-{i % 7},,Wing {i % 3},M-{i},Pat,Number{i},1980-01-01,"
             f"booked,,,"
             for i in range(1200)]
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        outcomes = run(session, csv_bytes(*lines), commit=False)
        writes = len(statements)
        statements.clear()
        again = run(session, csv_bytes(*lines), commit=False)
        rereads = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert totals(outcomes)[Action.CREATE] == 1200
    assert totals(again)[Action.UNCHANGED] == 1200
    assert writes < 60, writes  # chunks of 500 to look up, multi-row inserts to write
    assert rereads < 60, rereads
    assert count(session, Appointment) == 1200


def test_every_reason_and_message_has_words_in_every_language() -> None:
    words = {lang: set(catalog) for lang, catalog in CATALOGS.items()}
    for lang, keys in words.items():
        assert keys >= REASON_KEYS, f"{lang}: {sorted(REASON_KEYS - keys)}"
    used = set()
    for path in (ROOT / "shared" / "imports").glob("*.py"):
        used |= set(re.findall(r"\"(import\.[a-z_]+)\"", path.read_text()))
    assert used, "the scan finds the keys"
    for lang, keys in words.items():
        assert used <= keys, f"{lang}: {sorted(used - keys)}"
    for action in Action:
        assert f"import.action_{action.value}" in CATALOGS["en"]


def test_a_flag_on_another_subject_does_not_hide_a_new_difference(session: Session) -> None:
    patient = make_patient(session, mrn="M-1", legal_given_name="Ada",
                           legal_family_name="Lovelace", birth_date=date(1985, 12, 10))
    make_flag(session, FlagKind.DEMOGRAPHICS_CHANGE, patient=patient,
              new_value={"legal_given_name": "Augusta"})
    session.commit()
    (outcome,) = run(session, csv_bytes(ADA.replace("1985-12-10", "1985-12-11")))
    assert "import.note_demographics_flag" in [p.key for p in outcome.reasons]
    assert count(session, Flag) == 2
