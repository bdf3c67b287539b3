"""Schedule import from HL7 v2 SIU messages (S12 new, S14 modified, S15 cancelled)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.imports import Action, ImportUnreadable, apply_import, plan_import, read_file
from shared.models import Appointment, AppointmentStatus, Coverage, Patient, Sex
from tests.factories import make_appointment, make_location, make_patient, make_provider

TZ = ZoneInfo("America/Chicago")
TODAY = date(2026, 7, 1)
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import" / "sample-siu.hl7"


def segment(name: str, fields: dict[int, str]) -> str:
    return name + "|" + "|".join(fields.get(i, "") for i in range(1, max(fields) + 1))


def message(
    event: str = "S12",
    appointment: str = "H-1",
    start: str = "202607060900",
    mrn: str = "M-1",
    dob: str = "19851210",
    *,
    drop: tuple[str, ...] = (),
    kind: str = "SIU",
) -> list[str]:
    segments = {
        "MSH": f"MSH|^~\\&|PMS|CLINIC|CHECKIN|CLINIC|20260701080000||{kind}^{event}|C1|P|2.5",
        "SCH": segment("SCH", {1: "PL-1", 2: f"{appointment}^PMS", 8: "FU^Follow-up", 9: "30",
                               10: "min", 11: f"^^30^{start}"}),
        "PID": segment("PID", {3: f"X9^^^SSA^SS~{mrn}^^^CLINIC^MR", 5: "Lovelace^Ada",
                               7: dob, 8: "F", 11: "1 Main St^Apt 2^Chicago^IL^60601",
                               13: "^PRN^PH^^^312^5550147~^NET^Internet^ada@example.com"}),
        "AIP": segment("AIP", {3: "P-1^Byron^Ada^^^Dr."}),
        "AIL": segment("AIL", {3: "North Clinic^^^CLINIC", 4: "Family Medicine"}),
    }
    return [line for name, line in segments.items() if name not in drop]


def hl7_file(*messages: list[str], segment_end: str = "\r", between: str = "") -> bytes:
    return between.join(segment_end.join(m) + segment_end for m in messages).encode("utf-8")


def rows(data: bytes):
    return read_file(data, "hl7", tz=TZ, today=TODAY)


def test_the_sample_file_is_a_stream_of_events(session: Session) -> None:
    outcomes = plan_import(session, rows(SAMPLE.read_bytes()))
    assert [(o.row, o.external_id, o.action) for o in outcomes] == [
        (1, "SCH-1001", Action.CREATE),
        (2, "SCH-1002", Action.UNCHANGED),  # replaced by the S14 in message 3
        (3, "SCH-1002", Action.CREATE),
        (4, "SCH-1005", Action.UNCHANGED),  # an S15 for an appointment never imported
    ]
    assert outcomes[1].reasons[0].params == {"row": 3}
    first, moved = outcomes[0].source, outcomes[2].source
    assert first.start == datetime(2026, 7, 6, 14, 0, tzinfo=UTC)
    assert (first.payer, first.member_id, first.group_id) == ("Prairie Health Plan",
                                                              "PHP7712093", "GRP-88120")
    assert moved.start == datetime(2026, 7, 6, 14, 40, tzinfo=UTC)  # 09:40 clinic time
    assert moved.given_name == "Tomás"


def test_fields_are_read_from_their_segments() -> None:
    (row,) = rows(hl7_file(message()))
    assert row.ok, row.problems
    assert (row.external_id, row.mrn, row.given_name, row.family_name) == (
        "H-1", "M-1", "Ada", "Lovelace")  # PID-3: the MR repetition, not the first
    assert (row.birth_date, row.sex) == (date(1985, 12, 10), Sex.FEMALE)
    assert (row.phone, row.email) == ("+13125550147", "ada@example.com")
    assert (row.address_line, row.address_line2, row.city, row.state, row.postal_code) == (
        "1 Main St", "Apt 2", "Chicago", "IL", "60601")
    assert (row.provider_id, row.provider_name) == ("P-1", "Dr. Ada Byron")
    assert (row.location, row.department) == ("North Clinic", "Family Medicine")
    assert (row.duration_minutes, row.visit_type) == (30, "Follow-up")
    assert row.start == datetime(2026, 7, 6, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(("segment_end", "between"), [("\n", ""), ("\r\n", "\r\n\r\n"),
                                                      ("\r", "\n\n")])
def test_messages_split_on_msh_with_any_line_ending(segment_end: str, between: str) -> None:
    data = hl7_file(message(appointment="H-1"), message(appointment="H-2", mrn="M-2"),
                    segment_end=segment_end, between=between)
    assert [(r.row, r.external_id, r.ok) for r in rows(data)] == [(1, "H-1", True),
                                                                  (2, "H-2", True)]


def test_batch_wrappers_are_skipped() -> None:
    data = ("FHS|^~\\&|PMS\rBHS|^~\\&|PMS\r" + "\r".join(message()) + "\rBTS|1\rFTS|1\r")
    assert [r.external_id for r in rows(data.encode())] == ["H-1"]


def test_an_offset_in_the_timestamp_is_kept_and_hours_convert_to_minutes() -> None:
    lines = message(start="202601120900-0500")
    lines[1] = lines[1].replace("|30|min|", "|1|h|")
    (row,) = rows(hl7_file(lines))
    assert row.start == datetime(2026, 1, 12, 14, 0, tzinfo=UTC)
    assert row.duration_minutes == 60


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (message(drop=("PID",)), "import.reason_missing_segment"),
        (message(drop=("SCH",)), "import.reason_missing_segment"),
        (message(kind="ADT", event="A08"), "import.reason_unsupported_message"),
        (message(event="S26"), "import.reason_unsupported_message"),
        (message(dob="19851310"), "import.reason_bad_date"),
        (message(dob=""), "import.reason_missing_birth_date"),
        (message(mrn=""), "import.reason_missing_mrn"),
        (message(start="2026070"), "import.reason_bad_time"),
        ([*message(), "this is not a segment"], "import.reason_bad_message"),
        (["MSH|^~\\&|x", "SCH|1"], "import.reason_bad_message"),
    ],
)
def test_a_bad_message_is_refused_and_the_others_go_on(
    session: Session, lines: list[str], expected: str
) -> None:
    data = hl7_file(message(appointment="OK-1", mrn="M-9"), lines)
    good, bad = plan_import(session, rows(data))
    assert good.action == Action.CREATE
    assert bad.action == Action.REFUSE
    assert expected in [p.key for p in bad.reasons], bad.reasons
    if expected == "import.reason_missing_segment":
        assert len(bad.reasons) == 1  # no noise about every field of the missing segment


def test_huge_fields_are_refused() -> None:
    lines = message()
    lines[2] = lines[2].replace("Lovelace^Ada", "L" * 5000 + "^Ada")
    (row,) = rows(hl7_file(lines))
    assert [(p.key, p.params["field"]) for p in row.problems] == [
        ("import.reason_too_long", "PID-5")]


@pytest.mark.parametrize(
    "data",
    [
        b"PID|1||M-1\rSCH|1\r",
        b"appointment_id,start\nA-1,2026-07-06 09:00\n",
        b'{"resourceType": "Bundle"}',
        b"MSH",
    ],
)
def test_a_file_that_is_not_hl7_is_refused(data: bytes) -> None:
    with pytest.raises(ImportUnreadable) as caught:
        rows(data)
    assert caught.value.key == "import.error_not_hl7"


def test_s14_updates_and_s15_cancels_through_the_status_rules(session: Session) -> None:
    apply_import(session, plan_import(session, rows(hl7_file(message()))))
    session.commit()
    moved = hl7_file(message("S14", start="202607061030"))
    (outcome,) = apply_import(session, plan_import(session, rows(moved))).outcomes
    assert outcome.action == Action.UPDATE
    session.commit()
    appointment = session.scalars(select(Appointment).where(
        Appointment.external_id == "H-1")).one()
    assert appointment.start == datetime(2026, 7, 6, 15, 30, tzinfo=UTC)
    assert appointment.version == 2

    cancelled = hl7_file(message("S15"))
    (outcome,) = apply_import(session, plan_import(session, rows(cancelled))).outcomes
    assert (outcome.action, outcome.reason) == (Action.UPDATE, "import.note_cancelled")
    session.commit()
    session.refresh(appointment)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_at is not None
    again = plan_import(session, rows(cancelled))
    assert [o.action for o in again] == [Action.UNCHANGED]


def test_s15_for_a_visit_already_done_is_refused(session: Session) -> None:
    patient = make_patient(session, mrn="M-1", legal_given_name="Ada",
                           legal_family_name="Lovelace", birth_date=date(1985, 12, 10))
    make_appointment(session, patient=patient, provider=make_provider(session),
                     location=make_location(session), external_id="H-1",
                     status=AppointmentStatus.FULFILLED)
    session.commit()
    (outcome,) = plan_import(session, rows(hl7_file(message("S15"))))
    assert outcome.action == Action.REFUSE
    assert outcome.reasons[0].params == {"status": "fulfilled"}


def test_insurance_from_in1_is_optional(session: Session) -> None:
    with_in1 = [*message(), segment("IN1", {1: "1", 3: "PHP01", 4: "Prairie Health Plan",
                                             8: "GRP-1", 36: "PHP-123"})]
    apply_import(session, plan_import(session, rows(hl7_file(with_in1))))
    session.commit()
    patient = session.scalars(select(Patient).where(Patient.mrn == "M-1")).one()
    coverage = session.scalars(select(Coverage).where(Coverage.patient_id == patient.id)).one()
    assert (coverage.payer, coverage.member_id, coverage.group_id, coverage.rank) == (
        "Prairie Health Plan", "PHP-123", "GRP-1", 1)
