"""SIU messages as real practice systems send them (HL7 v2.2 to v2.5): the import forgives
what a clinic would not refuse an appointment for, and one message can be applied on its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.imports import (
    Action,
    MessageStatus,
    apply_import,
    import_hl7_message,
    plan_import,
    read_file,
)
from shared.imports.hl7_source import MAX_REPEATS
from shared.imports.names import NameRefused, coded_names, set_name
from shared.models import (
    Appointment,
    AppointmentStatus,
    Flag,
    FlagKind,
    FlagStatus,
    Location,
    Patient,
    Provider,
)
from shared.services.review import accept_flag, reject_flag
from tests.domain.test_hostile_input import snapshot
from tests.factories import make_staff_user

TZ = ZoneInfo("America/Chicago")
TODAY = date(2026, 7, 1)


def seg(name: str, fields: dict[int, str]) -> str:
    return name + "|" + "|".join(fields.get(i, "") for i in range(1, max(fields) + 1))


def siu(
    event: str = "S12",
    *,
    version: str = "2.3",
    appointment: str = "88120",
    start: str = "202607060915",
    sch: dict[int, str] | None = None,
    pid: dict[int, str] | None = None,
    extra: tuple[str, ...] = (),
    aip: str | None = "1021^Okafor^Imani^^^Dr",
    ail: str | None = "NORTH^North Clinic",
    control: str = "MSG00001",
) -> str:
    """One SIU message as a practice system sends it (segments end in CR)."""
    sch_fields = {1: f"{appointment}^PMS", 2: f"{appointment}^PMS", 6: "^ROUTINE",
                  7: "FU^Follow-up", 8: "FU^Follow-up", 9: "20", 10: "MIN",
                  11: f"^^20^{start}", 25: "Booked"}
    sch_fields.update(sch or {})
    pid_fields = {1: "1", 3: "44501^^^PMS^MR", 5: "Whitfield^Alma", 7: "19610314", 8: "F",
                  11: "118 Cedar Ave^^Chicago^IL^60614",
                  13: "(312)555-0181^PRN^PH"}
    pid_fields.update(pid or {})
    lines = [
        f"MSH|^~\\&|PMS|MAINCLINIC|CHECKIN|MAINCLINIC|20260701083000||SIU^{event}|{control}"
        f"|P|{version}",
        seg("SCH", {k: v for k, v in sch_fields.items() if v is not None}),
        seg("PID", {k: v for k, v in pid_fields.items() if v is not None}),
        "RGS|1|A",
        *extra,
    ]
    if aip is not None:
        lines += ["RGS|2|A", seg("AIP", {1: "1", 3: aip, 4: "D"})]
    if ail is not None:
        lines += ["RGS|3|A", seg("AIL", {1: "1", 3: ail, 4: "Family Medicine"})]
    return "\r".join(lines) + "\r"


def rows(*messages: str, tz: ZoneInfo = TZ):
    return read_file("".join(messages).encode("utf-8"), "hl7", tz=tz, today=TODAY)


def run(session: Session, *messages: str):
    result = apply_import(session, plan_import(session, rows(*messages)))
    session.commit()
    return result.outcomes


def keys(outcome) -> list[str]:
    return [p.key for p in outcome.reasons]


def fields_warned(outcome) -> list[tuple[str, object]]:
    return [(p.key, p.params.get("field")) for p in outcome.reasons
            if p.key.startswith(("import.reason", "import.warning"))]


def the_appointment(session: Session, external_id: str = "88120") -> Appointment:
    session.expire_all()
    return session.scalars(select(Appointment).where(
        Appointment.external_id == external_id)).one()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- Optional fields that fail validation -----------------------------------------------------


@pytest.mark.parametrize("bad", ["555-0181", "(555)555-1212", "000-000-0000 x12"])
def test_a_phone_number_that_does_not_validate_never_refuses_the_appointment(
    session: Session, bad: str
) -> None:
    (outcome,) = run(session, siu(pid={13: f"{bad}^PRN^PH"}))
    assert outcome.action == Action.CREATE
    assert fields_warned(outcome) == [("import.reason_bad_phone", "PID-13")]
    patient = session.scalars(select(Patient)).one()
    assert patient.phone is None


def test_pid_13_falls_back_to_pid_14_and_the_warning_names_pid_13(session: Session) -> None:
    (row,) = rows(siu(pid={13: "555-0181^PRN^PH~^NET^Internet^alma@", 14: "(312)555-0199^WPN^PH"}))
    assert row.ok
    assert row.phone == "+13125550199"
    assert [(p.key, p.params["field"]) for p in row.warnings] == [
        ("import.reason_bad_phone", "PID-13"), ("import.reason_bad_email", "PID-13")]


def test_a_bad_optional_value_keeps_the_one_on_record(session: Session) -> None:
    run(session, siu())
    (outcome,) = run(session, siu("S14", pid={13: "555-0181^PRN^PH",
                                              11: "118 Cedar Ave^^Chicago^IL^ABCDE"}))
    assert outcome.action == Action.UNCHANGED
    assert fields_warned(outcome) == [("import.reason_bad_phone", "PID-13"),
                                      ("import.reason_bad_postal_code", "PID-11")]
    session.expire_all()
    patient = session.scalars(select(Patient)).one()
    assert (patient.phone, patient.postal_code) == ("+13125550181", "60614")


def test_bad_insurance_and_a_bad_duration_are_warnings_not_refusals(session: Session) -> None:
    in1 = seg("IN1", {1: "1", 3: "PHP01", 4: "Prairie Health Plan", 36: "!!"})
    (outcome,) = run(session, siu(sch={9: "twenty"}, extra=(in1,)))
    assert outcome.action == Action.CREATE
    assert fields_warned(outcome) == [("import.reason_bad_duration", "SCH-9"),
                                      ("import.reason_bad_member_id", "IN1-36")]
    assert the_appointment(session).duration_minutes == 20  # the default


# --- Cancellations and reschedules always apply -----------------------------------------------


def test_an_s15_cancels_a_known_appointment_whatever_else_is_wrong(session: Session) -> None:
    run(session, siu())
    broken = siu("S15", pid={3: "", 5: "", 7: "31/12/1961", 13: "nope^PRN^PH"}, aip=None,
                 ail=None, sch={11: "^^20^tomorrow"})
    (outcome,) = run(session, broken)
    assert outcome.action == Action.UPDATE
    assert keys(outcome)[0] == "import.note_cancelled"
    assert "import.warning_patient_not_updated" in keys(outcome)
    assert {"import.reason_missing_mrn", "import.reason_bad_date"} <= set(keys(outcome))
    assert the_appointment(session).status == AppointmentStatus.CANCELLED


def test_an_s15_cancels_even_when_the_mrn_names_another_patient(session: Session) -> None:
    run(session, siu())
    (outcome,) = run(session, siu("S15", pid={3: "99999^^^PMS^MR", 5: "Other^Person"}))
    assert outcome.action == Action.UPDATE
    assert "import.reason_patient_mismatch" in keys(outcome)
    assert the_appointment(session).status == AppointmentStatus.CANCELLED
    assert count(session, Patient) == 1  # the other MRN is not created


@pytest.mark.parametrize("event", ["S13", "S14"])
def test_a_reschedule_moves_a_known_appointment_whatever_else_is_wrong(
    session: Session, event: str
) -> None:
    run(session, siu())
    moved = siu(event, start="202607081330", pid={7: "", 5: "^", 8: "?"}, aip="", ail="")
    (outcome,) = run(session, moved)
    assert outcome.action == Action.UPDATE
    appointment = the_appointment(session)
    assert appointment.start == datetime(2026, 7, 8, 18, 30, tzinfo=UTC)
    assert appointment.status == AppointmentStatus.BOOKED
    session.expire_all()
    patient = session.scalars(select(Patient)).one()
    assert (patient.legal_family_name, patient.birth_date) == ("Whitfield", date(1961, 3, 14))


def test_a_broken_reschedule_of_an_unknown_appointment_is_still_refused(
    session: Session
) -> None:
    (outcome,) = run(session, siu("S13", pid={7: ""}))
    assert outcome.action == Action.REFUSE
    assert keys(outcome) == ["import.reason_missing_birth_date"]


# --- Locations and resources as codes ---------------------------------------------------------


def test_locations_and_resources_keep_their_code_apart_from_their_name(
    session: Session
) -> None:
    pv1 = seg("PV1", {1: "1", 2: "O", 3: "^^^Lakeside Clinic", 7: "15^tnguyen"})
    aig = seg("AIG", {1: "1", 3: "14^jlee", 4: "PROV"})
    run(session,
        siu(appointment="A1", aip="13^kmurphy2", ail="102^East Wing Room 2"),
        siu(appointment="A2", aip=None, ail=None, extra=(aig, pv1)),
        siu(appointment="A3", aip=None, ail=None, extra=(pv1,)))
    providers = {p.external_id: p.display_name for p in session.scalars(select(Provider))}
    assert providers == {"13": "kmurphy2", "14": "jlee", "15": "tnguyen"}
    locations = {(loc.external_id, loc.name) for loc in session.scalars(select(Location))}
    assert locations == {("102", "East Wing Room 2"), ("Lakeside Clinic", "Lakeside Clinic")}
    assert the_appointment(session, "A3").provider.external_id == "15"


def test_a_name_a_manager_sets_survives_the_next_import(session: Session) -> None:
    manager = make_staff_user(session)
    run(session, siu(aip="13^kmurphy2", ail="102"))
    named = {c.code: c for c in coded_names(session)}
    assert {(c.kind, c.name) for c in named.values()} == {("provider", "kmurphy2"),
                                                          ("location", "102")}
    set_name(session, "provider", named["13"].id, "Dr. Kate Murphy", staff_user_id=manager.id)
    set_name(session, "location", named["102"].id, "East Wing, room 2",
             staff_user_id=manager.id)
    session.commit()
    (outcome,) = run(session, siu("S14", start="202607061000", aip="13^Murphy^K",
                                  ail="102^Rm 102"))
    assert outcome.action == Action.UPDATE
    appointment = the_appointment(session)
    assert appointment.provider.display_name == "Dr. Kate Murphy"
    assert appointment.location.name == "East Wing, room 2"
    assert (count(session, Provider), count(session, Location)) == (1, 1)


def test_a_name_the_feed_sends_later_replaces_a_code_no_one_named(session: Session) -> None:
    run(session, siu(aip="13^kmurphy2", ail="102"))
    run(session, siu("S14", aip="13^Murphy^Kate^^^Dr", ail="102^East Wing Room 2"))
    appointment = the_appointment(session)
    assert appointment.provider.display_name == "Dr Kate Murphy"
    assert (appointment.location.external_id, appointment.location.name) == (
        "102", "East Wing Room 2")


def test_a_location_first_imported_by_name_learns_its_code(session: Session) -> None:
    run(session, siu(ail="North Clinic"))
    run(session, siu("S14", ail="NORTH^North Clinic"))
    (location,) = session.scalars(select(Location)).all()
    assert (location.external_id, location.name) == ("NORTH", "North Clinic")


def test_a_manager_cannot_give_two_locations_one_name(session: Session) -> None:
    manager = make_staff_user(session)
    run(session, siu(appointment="A1", ail="101"), siu(appointment="A2", ail="102"))
    named = {c.code: c for c in coded_names(session) if c.kind == "location"}
    set_name(session, "location", named["101"].id, "Room A", staff_user_id=manager.id)
    with pytest.raises(NameRefused) as refused:
        set_name(session, "location", named["102"].id, " room a ", staff_user_id=manager.id)
    assert refused.value.key == "names.error_taken"
    with pytest.raises(NameRefused):
        set_name(session, "provider", coded_names(session)[0].id, "  ",
                 staff_user_id=manager.id)


# --- Durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "minutes"),
    [
        # AIL-7/8 is the start offset; AIL-9/10 the duration and its units.
        (seg("AIL", {1: "1", 3: "NORTH^North Clinic", 6: "202607060915", 7: "5", 8: "MIN",
                     9: "45", 10: "MIN^minutes^ISO+"}), 45),
        (seg("AIG", {1: "1", 3: "1021^Okafor", 8: "202607060915", 9: "0", 10: "MIN",
                     11: "1", 12: "H^hours"}), 60),
        (seg("AIP", {1: "1", 3: "1021^Okafor^Imani", 6: "202607060915", 7: "10", 8: "MIN",
                     9: "30", 10: "min"}), 30),
        (seg("AIP", {1: "1", 3: "1021^Okafor^Imani", 9: "5400", 10: "S"}), 90),
    ],
)
def test_without_sch_9_the_duration_comes_from_the_resource_with_its_units(
    resource: str, minutes: int
) -> None:
    message = siu(sch={9: None, 10: None, 11: "^^^202607060915"}, aip=None, ail=None,
                  extra=(resource,))
    (row,) = rows(message)
    assert row.duration_minutes == minutes, row.warnings


# --- Names ------------------------------------------------------------------------------------


def test_xpn_middle_names_suffixes_and_prefixes_are_kept() -> None:
    (row,) = rows(siu(version="2.5", pid={5: "Whitfield^Alma^June^III^Mrs~Witt^Al^^^^^A"},
                      aip="1021^Okafor^Imani^Adaeze^Jr^Dr^MD"))
    assert (row.family_name, row.given_name, row.middle_name, row.name_suffix,
            row.name_prefix) == ("Whitfield", "Alma", "June", "III", "Mrs")
    assert row.provider_name == "Dr Imani Adaeze Okafor Jr, MD"


def test_name_parts_are_kept_on_the_record_and_a_changed_one_is_a_flag(
    session: Session
) -> None:
    manager = make_staff_user(session)
    run(session, siu(pid={5: "Whitfield^Alma^June^III^Mrs"}))
    patient = session.scalars(select(Patient)).one()
    assert (patient.middle_name, patient.name_prefix, patient.name_suffix) == (
        "June", "Mrs", "III")
    assert patient.legal_name == "Mrs Alma June Whitfield III"

    (silent,) = run(session, siu("S14", pid={5: "Whitfield^Alma"}))  # parts left out
    assert "import.note_demographics_flag" not in keys(silent)
    (changed,) = run(session, siu("S14", pid={5: "Whitfield^Alma^Jane^III^Mrs"}))
    assert "import.note_demographics_flag" in keys(changed)
    flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.DEMOGRAPHICS_CHANGE)).one()
    assert (flag.old_value, flag.new_value) == ({"middle_name": "June"},
                                                {"middle_name": "Jane"})
    session.refresh(patient)
    assert patient.middle_name == "June"  # nothing overwritten before the desk decides
    accept_flag(session, flag.id, staff_user_id=manager.id, now=datetime.now(UTC), day=TODAY)
    session.commit()
    session.refresh(patient)
    assert patient.legal_name == "Mrs Alma Jane Whitfield III"


def test_the_legal_name_repetition_is_chosen() -> None:
    (row,) = rows(siu(pid={5: "Witt^Al^^^^^A~Whitfield^Alma^^^^^L"}))
    assert (row.family_name, row.given_name) == ("Whitfield", "Alma")


# --- Time zone --------------------------------------------------------------------------------


def test_times_without_an_offset_are_in_the_clinics_zone() -> None:
    (chicago,) = rows(siu(start="202607060915"))
    (denver,) = rows(siu(start="202607060915"), tz=ZoneInfo("America/Denver"))
    (given,) = rows(siu(start="202607060915-0400"))
    assert chicago.start == datetime(2026, 7, 6, 14, 15, tzinfo=UTC)
    assert denver.start == datetime(2026, 7, 6, 15, 15, tzinfo=UTC)
    assert given.start == datetime(2026, 7, 6, 13, 15, tzinfo=UTC)


# --- Idempotent after review ------------------------------------------------------------------


def test_a_name_change_the_desk_rejected_is_not_flagged_again(session: Session) -> None:
    manager = make_staff_user(session)
    run(session, siu())
    renamed = siu("S14", pid={5: "Whitfield-Ames^Alma"})
    (first,) = run(session, renamed)
    assert "import.note_demographics_flag" in keys(first)
    flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.DEMOGRAPHICS_CHANGE)).one()
    reject_flag(session, flag.id, staff_user_id=manager.id, now=datetime.now(UTC),
                reason="typo in the practice system")
    session.commit()
    (again,) = run(session, renamed)
    assert again.action == Action.UNCHANGED
    assert keys(again) == ["import.note_flag_rejected"]
    statuses = session.scalars(select(Flag.status)).all()
    assert statuses == [FlagStatus.REJECTED]


# --- Bounded memory ---------------------------------------------------------------------------


def test_a_field_repeated_thousands_of_times_is_trimmed_with_a_warning() -> None:
    ids = "~".join(f"{n}^^^SSA^SS" for n in range(20_000))
    (row,) = rows(siu(pid={3: f"44501^^^PMS^MR~{ids}"}))
    assert row.ok
    assert row.mrn == "44501"
    assert [(p.key, p.params) for p in row.warnings] == [
        ("import.warning_repeats_trimmed",
         {"field": "PID-3", "count": 20_001, "max": MAX_REPEATS})]


def test_a_huge_field_is_cut_before_parsing_and_refused_by_its_limit() -> None:
    (row,) = rows(siu(pid={5: "W" * 3_000_000 + "^Alma"}))
    assert [(p.key, p.params.get("field")) for p in row.problems] == [
        ("import.reason_too_long", "PID-5")]


def test_a_message_of_too_many_segments_is_refused_and_the_next_one_is_read() -> None:
    notes = tuple(seg("NTE", {1: str(n), 3: "note"}) for n in range(5_000))
    big, good = rows(siu(appointment="BIG", extra=notes), siu(appointment="OK"))
    assert [p.key for p in big.problems] == ["import.reason_message_too_large"]
    assert good.ok and good.external_id == "OK"


def test_segments_the_import_does_not_read_are_skipped() -> None:
    notes = tuple(seg("NTE", {1: str(n), 3: "x" * 900}) for n in range(100))
    (row,) = rows(siu(extra=(*notes, "ZXY|1|custom")))
    assert row.ok and row.warnings == ()


# --- One message on its own -------------------------------------------------------------------


def test_one_message_is_applied_on_its_own_and_twice_changes_nothing(
    session: Session
) -> None:
    outcome = import_hl7_message(session, siu(control="MSG-7"), tz=TZ, today=TODAY)
    session.commit()
    assert (outcome.status, outcome.control_id) == (MessageStatus.APPLIED, "MSG-7")
    assert outcome.outcome is not None and outcome.outcome.action == Action.CREATE
    again = import_hl7_message(session, siu(control="MSG-7"), tz=TZ, today=TODAY)
    assert again.status == MessageStatus.APPLIED
    assert again.outcome is not None and again.outcome.action == Action.UNCHANGED
    assert count(session, Appointment) == 1


def test_a_refused_message_says_why_and_writes_nothing(session: Session) -> None:
    before = snapshot(session)
    outcome = import_hl7_message(session, siu(pid={7: ""}), tz=TZ, today=TODAY)
    assert outcome.status == MessageStatus.REFUSED
    assert outcome.describe() == "Birth date missing."
    assert snapshot(session) == before


@pytest.mark.parametrize("text", ["PID|1||44501\r", "MSH|^~\\&|PMS\rSCH|1\rbroken line\r",
                                  siu() + siu(appointment="2")])
def test_a_message_that_cannot_be_read_is_unparsable_and_writes_nothing(
    session: Session, text: str
) -> None:
    before = snapshot(session)
    outcome = import_hl7_message(session, text, tz=TZ, today=TODAY)
    assert outcome.status == MessageStatus.UNPARSABLE
    assert outcome.describe()
    assert snapshot(session) == before
