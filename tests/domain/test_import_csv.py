"""Schedule import from CSV: good files, malformed rows, and hostile files refused whole."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.imports import (
    Action,
    ImportUnreadable,
    RowOutcome,
    detect_format,
    plan_import,
    read_file,
)
from shared.imports.csv_source import COLUMNS, REQUIRED
from shared.models import Appointment, Patient, Sex

TZ = ZoneInfo("America/Chicago")
TODAY = date(2026, 7, 1)
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import" / "sample-schedule.csv"
HEADER = ("appointment_id,start,provider_id,provider_name,location,mrn,given_name,family_name,"
          "birth_date")
GOOD = "A-1,2026-07-06 09:00,P-1,Dr. Ada Byron,North,M-1,Ada,Lovelace,1985-12-10"


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *lines)) + "\n").encode("utf-8")


def rows(data: bytes):
    return read_file(data, "csv", tz=TZ, today=TODAY)


def plan(session: Session, data: bytes) -> list[RowOutcome]:
    return plan_import(session, rows(data))


def reasons(outcome: RowOutcome) -> list[str]:
    return [p.key for p in outcome.reasons]


def unreadable(data: bytes, fmt: str = "csv") -> ImportUnreadable:
    with pytest.raises(ImportUnreadable) as caught:
        read_file(data, fmt, tz=TZ, today=TODAY)
    return caught.value


# --- Good files -------------------------------------------------------------------------------


def test_the_sample_file_documents_every_column_and_plans_cleanly(session: Session) -> None:
    data = SAMPLE.read_bytes()
    assert sorted(data.decode("utf-8").splitlines()[0].split(",")) == sorted(COLUMNS)
    outcomes = plan(session, data)
    assert [(o.row, o.action) for o in outcomes] == [
        (2, Action.CREATE), (3, Action.CREATE), (4, Action.CREATE), (5, Action.CREATE),
        (6, Action.UNCHANGED)]
    assert reasons(outcomes[4]) == ["import.note_nothing_to_cancel"]
    first = outcomes[0].source
    assert first.start == datetime(2026, 7, 6, 14, 0, tzinfo=UTC)  # 09:00 CDT
    assert (first.phone, first.sex, first.payer) == ("+13125550181", Sex.FEMALE,
                                                     "Prairie Health Plan")
    assert outcomes[1].source.given_name == "Tomás"
    # Planning writes nothing.
    assert session.scalar(select(func.count(Patient.id))) == 0
    assert session.scalar(select(func.count(Appointment.id))) == 0


def test_times_without_an_offset_are_clinic_time_and_offsets_are_kept() -> None:
    got = rows(csv_bytes(GOOD, "A-2,2026-01-12T09:00:00-05:00,P-1,,North,M-2,Bo,Li,1990-01-01",
                         "A-3,2026-01-12 09:00,P-1,,North,M-3,Cy,Wu,01/31/1990",
                         "A-4,2026-01-12T15:00:00Z,P-1,,North,M-4,Di,Ng,1990-01-01"))
    assert [r.start for r in got] == [
        datetime(2026, 7, 6, 14, 0, tzinfo=UTC),  # summer: UTC-5
        datetime(2026, 1, 12, 14, 0, tzinfo=UTC),
        datetime(2026, 1, 12, 15, 0, tzinfo=UTC),  # winter: UTC-6
        datetime(2026, 1, 12, 15, 0, tzinfo=UTC),
    ]
    assert got[2].birth_date == date(1990, 1, 31)
    assert all(r.ok for r in got)


def test_a_byte_order_mark_semicolons_and_loose_header_names_are_read() -> None:
    header = "Appointment ID;START;Provider-Name;location;MRN;Given Name;family_name;birth_date"
    data = b"\xef\xbb\xbf" + csv_bytes(
        "A-1;2026-07-06 09:00;Dr. Ada Byron;North;M-1;Ada;Lovelace;1985-12-10", header=header)
    (row,) = rows(data)
    assert row.ok, row.problems
    assert (row.external_id, row.provider_name, row.mrn) == ("A-1", "Dr. Ada Byron", "M-1")


def test_blank_lines_are_skipped_and_rows_are_numbered_like_a_spreadsheet() -> None:
    got = rows(csv_bytes(GOOD, "", "A-2,2026-07-06 10:00,P-1,,North,M-2,Bo,Li,1990-01-01"))
    assert [r.row for r in got] == [2, 4]


def test_format_is_detected_by_extension_then_by_content() -> None:
    assert detect_format("day.CSV", b"{") == "csv"
    assert detect_format("day.json", b"") == "fhir"
    assert detect_format("day.hl7", b"") == "hl7"
    assert detect_format("export.txt", b"\xef\xbb\xbfMSH|^~\\&|") == "hl7"
    assert detect_format("export", b'  {"resourceType": "Bundle"}') == "fhir"
    assert detect_format("export.dat", b"appointment_id,start") == "csv"


# --- Malformed rows: refused one by one, with the reason ---------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace,10.12.1985",
         "import.reason_bad_date"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace,1985-02-30",
         "import.reason_bad_date"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace,2099-01-01",
         "import.reason_bad_birth_date"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace,", "import.reason_missing_birth_date"),
        ("A-1,2026-07-06 09:00,P-1,,North,,Ada,Lovelace,1985-12-10",
         "import.reason_missing_mrn"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,,Lovelace,1985-12-10",
         "import.reason_missing_name"),
        (",2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace,1985-12-10", "import.reason_missing_id"),
        ("A-1,,P-1,,North,M-1,Ada,Lovelace,1985-12-10", "import.reason_missing_start"),
        ("A-1,2026-07-06,P-1,,North,M-1,Ada,Lovelace,1985-12-10", "import.reason_bad_time"),
        ("A-1,tomorrow at nine,P-1,,North,M-1,Ada,Lovelace,1985-12-10",
         "import.reason_bad_time"),
        ("A-1,2026-03-08 02:30,P-1,,North,M-1,Ada,Lovelace,1985-12-10",
         "import.reason_nonexistent_time"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace", "import.reason_cell_count"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada,Lovelace,1985-12-10,extra",
         "import.reason_cell_count"),
        ("A-1,2026-07-06 09:00,,,North,M-1,Ada,Lovelace,1985-12-10",
         "import.reason_missing_provider"),
        ("A-1,2026-07-06 09:00,P-1,,,M-1,Ada,Lovelace,1985-12-10",
         "import.reason_missing_location"),
        ("A-1,2026-07-06 09:00,P-1,,North,M-1,Ada\x07,Lovelace,1985-12-10",
         "import.reason_bad_text"),
    ],
)
def test_a_malformed_row_is_refused_with_its_reason(
    session: Session, line: str, expected: str
) -> None:
    outcomes = plan(session, csv_bytes(line, GOOD.replace("A-1", "A-9")))
    assert outcomes[0].action == Action.REFUSE
    assert expected in reasons(outcomes[0]), reasons(outcomes[0])
    assert outcomes[0].describe()  # a sentence from the catalog, not a key
    assert "import." not in outcomes[0].describe()
    assert outcomes[1].action == Action.CREATE  # the other rows go on


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("duration_minutes", "twenty", "import.reason_bad_duration"),
        ("duration_minutes", "0", "import.reason_bad_duration"),
        ("duration_minutes", "100000", "import.reason_bad_duration"),
        ("sex", "yes", "import.reason_bad_sex"),
        ("phone", "not a phone", "import.reason_bad_phone"),
        ("email", "nobody@", "import.reason_bad_email"),
        ("postal_code", "ABC", "import.reason_bad_postal_code"),
        ("payer", "Prairie Health Plan", "import.reason_incomplete_insurance"),
        ("member_id", "X1", "import.reason_incomplete_insurance"),
    ],
)
def test_a_wrong_optional_value_is_left_out_with_a_warning_and_the_row_imports(
    session: Session, column: str, value: str, expected: str
) -> None:
    outcomes = plan(session, csv_bytes(f"{GOOD},{value}", header=f"{HEADER},{column}"))
    assert outcomes[0].action == Action.CREATE
    assert reasons(outcomes[0])[-1] == expected
    assert "import.reason" not in " ".join(reasons(outcomes[0])[:-1])
    row = outcomes[0].source
    assert row.ok and row.warnings == outcomes[0].reasons[-1:]
    assert getattr(row, column) is None
    assert (row.payer, row.member_id, row.group_id) == (None, None, None)


def test_a_status_that_is_neither_booked_nor_cancelled_is_refused(session: Session) -> None:
    # Whether the visit is on or off cannot be guessed: the row is refused.
    outcomes = plan(session, csv_bytes(f"{GOOD},tentative", header=f"{HEADER},status"))
    assert outcomes[0].action == Action.REFUSE
    assert reasons(outcomes[0]) == ["import.reason_bad_status"]


def test_every_problem_of_a_row_is_reported_at_once(session: Session) -> None:
    (outcome,) = plan(session, csv_bytes("A-1,soon,P-1,,North,,Ada,Lovelace,someday"))
    assert set(reasons(outcome)) == {"import.reason_bad_time", "import.reason_bad_date",
                                     "import.reason_missing_mrn"}


# --- Hostile input ------------------------------------------------------------------------------


def test_huge_fields_are_refused_per_row(session: Session) -> None:
    long_name = "A" * 201
    outcomes = plan(session, csv_bytes(
        f"A-1,2026-07-06 09:00,P-1,,North,M-1,{long_name},Lovelace,1985-12-10",
        f"A-2,2026-07-06 09:00,P-1,,North,M-{'9' * 5000},Bo,Li,1985-12-10",
        "A-3,2026-07-06 09:00,P-1,,North,M-3,Cy," + "W" * 101 + ",1985-12-10",
        GOOD.replace("A-1", "A-4"),
    ))
    assert [o.action for o in outcomes] == [Action.REFUSE] * 3 + [Action.CREATE]
    assert all(reasons(o) == ["import.reason_too_long"] for o in outcomes[:3])
    assert outcomes[0].reasons[0].params == {"field": "given_name", "max": 100}


def test_duplicate_ids_in_one_file_refuse_every_copy(session: Session) -> None:
    outcomes = plan(session, csv_bytes(GOOD, GOOD.replace("09:00", "10:00"),
                                       GOOD.replace("A-1", "A-2")))
    assert [o.action for o in outcomes] == [Action.REFUSE, Action.REFUSE, Action.CREATE]
    assert outcomes[0].reasons[0].params == {"rows": "2, 3"}


def test_one_mrn_with_two_birth_dates_in_a_file_keeps_the_first(session: Session) -> None:
    outcomes = plan(session, csv_bytes(
        GOOD, "A-2,2026-07-06 10:00,P-1,,North,M-1,Ada,Lovelace,1985-12-11",
        "A-3,2026-07-07 10:00,P-1,,North,M-1,ADA,LOVELACE,1985-12-10"))
    assert [o.action for o in outcomes] == [Action.CREATE, Action.REFUSE, Action.CREATE]
    assert reasons(outcomes[1]) == ["import.reason_patient_conflict"]


def test_a_missing_required_column_refuses_the_file() -> None:
    header = HEADER.replace(",birth_date", "")
    error = unreadable(csv_bytes(GOOD.rsplit(",", 1)[0], header=header))
    assert error.key == "import.error_missing_columns"
    assert error.params["columns"] == "birth_date"
    no_provider = HEADER.replace("provider_id,provider_name,", "")
    assert "provider_id / provider_name" in unreadable(
        csv_bytes("A-1,2026-07-06 09:00,North,M-1,Ada,Lovelace,1985-12-10",
                  header=no_provider)).params["columns"]
    assert set(REQUIRED) <= set(HEADER.split(","))


def test_unknown_and_repeated_columns_refuse_the_file() -> None:
    error = unreadable(csv_bytes(GOOD + ",x", header=HEADER + ",birthdate"))
    assert error.key == "import.error_unknown_columns"
    assert error.params["columns"] == "birthdate"
    assert "birthdate" in str(error)  # the English message, for the command line
    error = unreadable(csv_bytes(GOOD + ",M-1", header=HEADER + ",mrn"))
    assert error.key == "import.error_repeated_columns"


def test_latin1_and_utf16_files_are_refused_with_a_clear_message() -> None:
    latin1 = csv_bytes(GOOD).decode().replace("Ada,", "Tomás,").encode("latin-1")
    error = unreadable(latin1)
    assert error.key == "import.error_encoding"
    assert error.params == {"line": 2}
    assert "UTF-8" in str(error)
    assert unreadable(csv_bytes(GOOD).decode().encode("utf-16")).key == (
        "import.error_encoding_utf16")


def test_empty_binary_and_oversized_files_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert unreadable(b"").key == "import.error_empty"
    assert unreadable(b" \n\n ").key == "import.error_empty"
    assert unreadable(b"appointment_id\x00,start\n").key == "import.error_binary"
    monkeypatch.setattr("shared.imports.model.MAX_BYTES", 1000)
    assert unreadable(csv_bytes(*[GOOD] * 30)).key == "import.error_too_large"


@pytest.mark.parametrize("fmt", ["csv", "fhir", "hl7"])
def test_five_megabytes_of_junk_is_refused_in_every_format(fmt: str) -> None:
    random_bytes = random.Random(5).randbytes(5 * 1024 * 1024)
    assert unreadable(random_bytes, fmt).key == "import.error_encoding"
    text_junk = b"lorem ipsum " * 440_000
    assert unreadable(text_junk, fmt).key in (
        "import.error_not_csv", "import.error_not_json", "import.error_not_hl7")


def test_a_field_too_large_for_csv_refuses_the_file() -> None:
    data = csv_bytes(GOOD.replace("Ada", "x" * 200_000))
    assert unreadable(data).key == "import.error_not_csv"


def test_too_many_rows_refuse_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.imports.model.MAX_ROWS", 2)
    error = unreadable(csv_bytes(GOOD, GOOD, GOOD))
    assert error.key == "import.error_too_many_rows"


def test_an_unknown_format_is_refused() -> None:
    assert unreadable(csv_bytes(GOOD), "xlsx").key == "import.error_format"
