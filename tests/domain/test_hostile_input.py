"""Hostile input, as properties: whatever a patient types at the kiosk or a schedule file
holds, the product answers with a value or with its own error (a DomainError, for an import
file ImportUnreadable), never with a crash, and what it refuses changes nothing.

Covered here: typed birth dates, family names (finding a visit, a walk-in), contact details
and new insurance (through to the desk accepting them into the record), answers to each kind
of kiosk question, and the three schedule import formats (arbitrary bytes, and the
documented samples mutated) through plan and apply. Uploaded images are covered in
test_uploaded_images.py.

Each bug these properties found keeps its smallest failing input as an @example.

A property that needs the database sets up once, then runs each example inside a SAVEPOINT
that is rolled back, so examples never pile up and each starts from the same rows.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from email_validator import validate_email
from hypothesis import assume, example, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.widgets import parse_birth_date
from shared import clock
from shared.errors import DomainError
from shared.i18n import CATALOGS
from shared.imports import (
    MAX_BYTES,
    REASON_KEYS,
    Action,
    ImportUnreadable,
    ScheduleRow,
    apply_import,
    detect_format,
    plan_import,
    read_file,
)
from shared.imports.model import MAX_LENGTH
from shared.models import (
    Answer,
    AuditEvent,
    Base,
    ContactKind,
    FlagKind,
    FlagStatus,
    PatientContact,
    QuestionType,
)
from shared.services.checkin import find_by_name, normalize_name
from shared.services.details import (
    MAX_FIELD,
    POSTAL_CODE,
    ContactDetails,
    current_details,
    normalize_phone,
    report_changes,
    validate,
)
from shared.services.flags import report_walk_in
from shared.services.insurance import InsuranceInvalid, report_new_coverage
from shared.services.questions import (
    MAX_TEXT,
    AnswerInvalid,
    Asked,
    save_answer,
    saved_answers,
    validate_answer,
)
from shared.services.review import accept_flag
from tests.domain.hypothesis_profile import properties
from tests.factories import make_appointment, make_patient, make_question, make_staff_user

CHICAGO = ZoneInfo("America/Chicago")
KIOSK = "kiosk-1"
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    "csv": (ROOT / "docs" / "import" / "sample-schedule.csv").read_bytes(),
    "fhir": (ROOT / "docs" / "import" / "sample-bundle.json").read_bytes(),
    "hl7": (ROOT / "docs" / "import" / "sample-siu.hl7").read_bytes(),
}
EN, ES = CATALOGS["en"], CATALOGS["es"]

# Characters that have broken text handling somewhere: NUL (PostgreSQL refuses it), other
# controls, line and paragraph separators, zero-width and bidi marks, a byte order mark,
# private use, combining marks on their own, and look-alike digits.
HOSTILE = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\t", "\r\n", "\u2028", "\u2029", "\u200b",
           "\u202e", "\ufeff", "\ue000", "\u0301", "\u0345", "\uff11", "\u0663", "\U0001f600",
           "'", '"', ";", "\\", "%", "_", "--", "${x}", "{0}", "<b>", "|", "^", "~", "&"]
hostile_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6).map("".join),
)


@contextmanager
def rolled_back(session: Session) -> Iterator[None]:
    """Run the block in a SAVEPOINT and undo it, whatever happens."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        session.expire_all()


def snapshot(session: Session, *, skip: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """Every row of every table (bar `skip`), in primary-key order."""
    session.flush()
    return {
        table.name: [tuple(row) for row in session.execute(
            select(table).order_by(*table.primary_key.columns))]
        for table in Base.metadata.sorted_tables if table.name not in skip
    }


def is_catalog_key(key: str) -> bool:
    return key in EN and key in ES


def test_the_refusals_checked_here_are_the_projects_own_errors() -> None:
    assert issubclass(AnswerInvalid, DomainError)
    assert issubclass(ImportUnreadable, DomainError)


# --- Birth dates --------------------------------------------------------------------------------

DATE_CHARS = "0123456789/-. \t\u00a0\u0663\uff11"
date_like = st.text(alphabet=DATE_CHARS, max_size=14)
any_today = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


def check_birth_date_result(text: str, today: date, result: object) -> None:
    if not text.strip():
        assert result is None
    else:
        assert result == "invalid" or (
            isinstance(result, date) and date(1900, 1, 1) <= result <= today), result


@properties(100)
@given(text=st.one_of(st.text(), date_like, hostile_text), today=any_today)
@example(text="02/30/1990", today=date(2026, 6, 16))
@example(text="00/00/0000", today=date(2026, 6, 16))
@example(text="12/31/1899", today=date(2026, 6, 16))
@example(text="06/17/2026", today=date(2026, 6, 16))
@example(text="\u0660\u0666/\u0661\u0666/\u0661\u0669\u0668\u0666", today=date(2026, 6, 16))
def test_any_typed_birth_date_is_a_past_date_nothing_or_invalid(text: str, today: date) -> None:
    check_birth_date_result(text, today, parse_birth_date(text, today))


@properties(50)
@given(text=st.one_of(st.text(max_size=20), date_like))
def test_a_typed_birth_date_is_checked_against_the_clinic_clock_when_no_day_is_given(
    text: str,
) -> None:
    check_birth_date_result(text, clock.now().date(), parse_birth_date(text))


BIRTH_FORMATS: dict[str, Callable[[date], str]] = {
    "MM/DD/YYYY": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}",
    "M/D/YYYY": lambda d: f"{d.month}/{d.day}/{d.year:04d}",
    "YYYY-MM-DD": lambda d: d.isoformat(),
    "MMDDYYYY": lambda d: f"{d.month:02d}{d.day:02d}{d.year:04d}",
    "M.D.YYYY": lambda d: f"{d.month}.{d.day}.{d.year:04d}",
    "M D YYYY": lambda d: f"{d.month} {d.day} {d.year:04d}",
}


@properties(100)
@given(data=st.data(), fmt=st.sampled_from(sorted(BIRTH_FORMATS)),
       pad=st.sampled_from(["", " ", "  ", "\t"]))
def test_a_valid_birth_date_typed_in_any_accepted_form_reads_back_as_itself(
    data: st.DataObject, fmt: str, pad: str
) -> None:
    today = data.draw(any_today, label="today")
    born = data.draw(st.dates(min_value=date(1900, 1, 1), max_value=today), label="born")
    assert parse_birth_date(pad + BIRTH_FORMATS[fmt](born) + pad, today) == born


# --- Family names -------------------------------------------------------------------------------

name_chars = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nd"])
family_names = st.text(alphabet=st.one_of(name_chars, st.sampled_from(" -'’")),
                       min_size=1, max_size=40)


def strip_accents(text: str) -> str:
    """The marks dropped, bar the Greek iota subscript: case folding and capitals make it
    the letter iota ('ᾳ' is 'ΑΙ' in capitals), so it is a letter here too."""
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if ch == "\u0345" or not unicodedata.category(ch).startswith("M"))


CASES: dict[str, Callable[[str], str]] = {
    "as stored": lambda s: s, "upper": str.upper, "lower": str.lower, "title": str.title,
    "swapcase": str.swapcase, "casefold": str.casefold,
}
ACCENTS: dict[str, Callable[[str], str]] = {
    "as stored": lambda s: s, "without accents": strip_accents,
    "composed": lambda s: unicodedata.normalize("NFC", s),
    "decomposed": lambda s: unicodedata.normalize("NFD", s),
}


@st.composite
def typed_like(draw: st.DrawFn, stored: str) -> str:
    """`stored` as a patient might type it: another case, accents dropped or composed
    otherwise, spaces, hyphens and apostrophes added or left out."""
    typed = ACCENTS[draw(st.sampled_from(sorted(ACCENTS)), label="accents")](stored)
    typed = CASES[draw(st.sampled_from(sorted(CASES)), label="case")](typed)
    if draw(st.booleans(), label="drop separators"):
        typed = "".join(ch for ch in typed if ch not in " -'’")
    for _ in range(draw(st.integers(0, 3), label="separators added")):
        at = draw(st.integers(0, len(typed)))
        typed = typed[:at] + draw(st.sampled_from([" ", "  ", "-", "'", "’"])) + typed[at:]
    return typed


@properties(100)
@given(name=st.one_of(st.text(), hostile_text))
@example(name="ᴬ")
@example(name="Yıldız")
def test_any_name_normalizes_to_letters_and_digits_only(name: str) -> None:
    normalized = normalize_name(name)
    assert all(ch.isalnum() for ch in normalized)
    assert normalize_name(normalized) == normalized
    assert normalize_name(name.upper()) == normalize_name(name.lower()) == normalized


@properties(100)
@given(data=st.data(), stored=family_names)
@example(data=None, stored="Yılmaz")  # dotless i: "YILMAZ" and "Yilmaz" must find her
@example(data=None, stored="ᾳ")  # an iota subscript: 'ΑΙ' in capitals
@example(data=None, stored="ᴬᵇᶜ")  # decomposed to capitals: folded again
def test_a_name_matches_itself_typed_in_another_case_without_accents_or_spaces(
    data: st.DataObject | None, stored: str
) -> None:
    wanted = normalize_name(stored)
    assume(wanted)
    variants = ([data.draw(typed_like(stored), label="typed")] if data is not None
                else [f(a(stored)) for f in CASES.values() for a in ACCENTS.values()])
    for typed in variants:
        assert normalize_name(typed) == wanted, (stored, typed)


def test_a_family_name_however_typed_finds_todays_visit_and_nothing_else_crashes(
    session: Session,
) -> None:
    born = date(1979, 11, 3)
    now = clock.now()
    patient = make_patient(session, legal_family_name="Placeholder", birth_date=born)
    appointment = make_appointment(session, patient=patient, start=now)

    @properties(60)
    @given(data=st.data(), stored=family_names)
    def typed_back(data: st.DataObject, stored: str) -> None:
        assume(normalize_name(stored))
        typed = data.draw(typed_like(stored), label="typed")
        with rolled_back(session):
            patient.legal_family_name = stored
            session.flush()
            found = find_by_name(session, typed, born, now=now, tz=CHICAGO)
            assert found.today == [appointment.id], (stored, typed)

    @properties(60)
    @given(typed=st.one_of(st.text(), hostile_text), born_on=st.dates())
    def anything_typed(typed: str, born_on: date) -> None:
        before = snapshot(session)
        found = find_by_name(session, typed, born_on, now=now, tz=CHICAGO)
        matches = born_on == born and normalize_name(typed) == normalize_name("Placeholder")
        assert found.today == ([appointment.id] if matches else [])
        assert snapshot(session) == before

    typed_back()
    anything_typed()


def test_a_walk_in_names_and_reason_reach_the_desk_as_typed_on_one_line(
    session: Session,
) -> None:
    """Someone without an appointment types anything: the desk gets a flag whose values are
    on one line and fit its fields, on either database."""
    now = clock.now()

    @properties(60)
    @given(given_name=hostile_text, family_name=st.one_of(family_names, hostile_text),
           reason=st.one_of(st.text(max_size=300), hostile_text),
           phone=field_values("(312) 555-0142"), born=st.dates(max_value=date(2026, 1, 1)))
    def walked_in(given_name: str, family_name: str, reason: str, phone: str,
                  born: date) -> None:
        with rolled_back(session):
            flag = report_walk_in(session, given_name=given_name, family_name=family_name,
                                  birth_date=born, reason=reason, now=now, kiosk_id=KIOSK,
                                  phone=normalize_phone(phone) or "")
            session.expire_all()
            stored = session.get(type(flag), flag.id).new_value
            assert stored["birth_date"] == born.isoformat()
            for name, limit in (("given_name", 100), ("family_name", 100), ("reason", 200)):
                assert len(stored[name]) <= limit and len(stored[name].splitlines()) <= 1

    walked_in()


# --- Contact details ----------------------------------------------------------------------------

GOOD_DETAILS = ContactDetails(
    address_line="1200 Maple Grove Ave", address_line2="Apt 3B", city="Exampleton",
    state="IL", postal_code="60990", phone="(312) 555-0142", email="elena.parker@example.com",
    emergency_name="Marco Parker", emergency_relationship="spouse",
    emergency_phone="312-555-0199",
)
# Columns the desk writes an accepted change into, and how wide they are.
COLUMN_WIDTH = {"address_line": 200, "address_line2": 200, "city": 100, "state": 50,
                "postal_code": 20, "phone": 32, "email": 254, "emergency_name": 200,
                "emergency_relationship": 50, "emergency_phone": 32}


def field_values(good: str) -> st.SearchStrategy[str]:
    """What a patient might leave in one field: the right value, nothing, anything, the
    right value with hostile characters inside, or the right value made far too long."""
    with_junk = st.builds(lambda at, junk: good[:at] + junk + good[at:],
                          st.integers(0, len(good)), hostile_text)
    padded = st.builds(lambda n, ch: good + ch * n, st.integers(0, 210),
                       st.sampled_from(["x", " ", "é", "0"]))
    return st.one_of(st.just(good), st.just(""), hostile_text, with_junk, padded,
                     st.text(max_size=250))


contact_details = st.builds(
    ContactDetails, **{f.name: field_values(getattr(GOOD_DETAILS, f.name))
                       for f in fields(ContactDetails)})


def check_cleaned(cleaned: ContactDetails) -> None:
    """What the kiosk accepts is tidy and fits the record."""
    for name, value in asdict(cleaned).items():
        assert value == " ".join(value.split()), name
        assert len(value) <= min(MAX_FIELD, COLUMN_WIDTH[name]), name
    for name in ("address_line", "city", "state", "postal_code", "phone"):
        assert getattr(cleaned, name), name
    assert POSTAL_CODE.fullmatch(cleaned.postal_code)
    assert cleaned.phone.startswith("+") and normalize_phone(cleaned.phone) == cleaned.phone
    assert not cleaned.emergency_phone or normalize_phone(cleaned.emergency_phone) == (
        cleaned.emergency_phone)
    if cleaned.email:
        assert validate_email(cleaned.email, check_deliverability=False).normalized == (
            cleaned.email)


@properties(100)
@given(details=contact_details)
@example(details=replace(GOOD_DETAILS, city="C" * 150))
@example(details=replace(GOOD_DETAILS, state="S" * 60))
@example(details=replace(GOOD_DETAILS, emergency_relationship="R" * 60))
def test_any_contact_details_are_cleaned_or_refused_with_catalog_messages(
    details: ContactDetails,
) -> None:
    cleaned, errors = validate(details)
    assert set(errors) <= set(asdict(details))
    assert all(is_catalog_key(key) for key in errors.values()), errors
    if not errors:
        check_cleaned(cleaned)


def test_contact_details_the_kiosk_accepts_reach_the_record_when_the_desk_accepts(
    session: Session,
) -> None:
    """The whole path of typed details: the kiosk validates; a refusal writes nothing; what
    it accepts becomes flags without touching the record; the desk accepting each flag
    writes it into the record on either database, never refusing what the kiosk took."""
    now = clock.now()
    patient = make_patient(session, address_line="1 Old Rd", city="Oldtown", state="WI",
                           postal_code="53703", phone="+13125550147", email="old@example.com")
    patient.contacts.append(PatientContact(kind=ContactKind.EMERGENCY, name="Old Friend",
                                           relationship_to_patient="friend",
                                           phone="+13125550100"))
    appointment = make_appointment(session, patient=patient, start=now)
    staff = make_staff_user(session)
    session.flush()

    @properties(100)
    @given(details=contact_details)
    @example(details=replace(GOOD_DETAILS, address_line="12\x00 Main St"))
    @example(details=replace(GOOD_DETAILS, city="C" * 150))
    @example(details=replace(GOOD_DETAILS, state="S" * 60))
    @example(details=replace(GOOD_DETAILS, emergency_relationship="R" * 60))
    def typed(details: ContactDetails) -> None:
        with rolled_back(session):
            before = snapshot(session)
            cleaned, errors = validate(details)
            if errors:  # the kiosk shows the messages and writes nothing
                assert snapshot(session) == before
                return
            record = {t: before[t] for t in ("patient", "patient_contact")}
            raised = report_changes(session, patient, cleaned, appointment_id=appointment.id,
                                    now=now, kiosk_id=KIOSK)
            after = snapshot(session)
            assert {t: after[t] for t in record} == record  # only flags, never the record
            for flag in raised:
                accept_flag(session, flag.id, staff_user_id=staff.id, now=now, day=now.date())
                assert flag.status == FlagStatus.ACCEPTED
            session.expire_all()
            expected = replace(cleaned, emergency_relationship=cleaned.emergency_relationship
                               or ("other" if cleaned.emergency_name else ""))
            stored = current_details(session.get(type(patient), patient.id))
            assert replace(stored, email=stored.email.lower()) == replace(
                expected, email=expected.email.lower())

    typed()


def test_new_insurance_typed_at_the_kiosk_is_refused_or_reaches_the_record_when_accepted(
    session: Session,
) -> None:
    """Payer, member id and group id as typed: refused with the insurance message and
    nothing stored, or held as a flag that the desk accepting writes as the primary
    coverage, on either database."""
    now = clock.now()
    appointment = make_appointment(session, start=now)
    staff = make_staff_user(session)

    @properties(100)
    @given(payer=field_values("Prairie Health Plan"), member_id=field_values("PHP7712093"),
           group_id=field_values("GRP-88120"))
    @example(payer="Prairie\x00Health", member_id="PHP7712093", group_id="")
    def typed(payer: str, member_id: str, group_id: str) -> None:
        with rolled_back(session):
            before = snapshot(session)
            try:
                flag = report_new_coverage(
                    session, appointment.patient, payer=payer, member_id=member_id,
                    group_id=group_id, card_front=None, card_back=None,
                    appointment_id=appointment.id, now=now, kiosk_id=KIOSK)
            except InsuranceInvalid as refused:
                assert is_catalog_key(refused.key), refused.key
                assert snapshot(session) == before
                return
            accept_flag(session, flag.id, staff_user_id=staff.id, now=now, day=now.date())
            session.expire_all()
            primary = session.get(type(appointment.patient), appointment.patient_id).coverages[0]
            assert (primary.payer, primary.member_id, primary.group_id or "") == (
                flag.new_value["payer"], flag.new_value["member_id"],
                flag.new_value["group_id"])

    typed()


# --- Answers to the kiosk's questions -----------------------------------------------------------

Q = QuestionType
CHOICES = [{"value": "portal", "en": "Patient portal", "es": "Portal del paciente"},
           {"value": "print", "en": "Printed copy", "es": "Copia impresa"},
           {"value": "email", "en": "Email", "es": "Correo electrónico"}]
CHOICE_VALUES = [c["value"] for c in CHOICES]
URGENT = {"flag": FlagKind.URGENT_ANSWER.value, "severity": "urgent"}
QUESTIONS: dict[str, dict[str, Any]] = {
    "yes_no": {"type": Q.YES_NO, "flag_rules": [{"when": {"equals": True}, **URGENT}]},
    "single_choice": {"type": Q.SINGLE_CHOICE, "choices": CHOICES,
                      "flag_rules": [{"when": {"equals": "print"}, **URGENT}]},
    "multiple_choice": {"type": Q.MULTIPLE_CHOICE, "choices": CHOICES,
                        "flag_rules": [{"when": {"in": ["email"]}, **URGENT}]},
    "short_text": {"type": Q.SHORT_TEXT, "flag_rules": [{"when": {"equals": "help"}, **URGENT}]},
    "number": {"type": Q.NUMBER, "flag_rules": [{"when": {"at_least": 100}, **URGENT}]},
    "number_in_range": {"type": Q.NUMBER, "min_value": -5, "max_value": 120.5},
    "date": {"type": Q.DATE},
    "pain_scale": {"type": Q.PAIN_SCALE, "flag_rules": [{"when": {"at_least": 8}, **URGENT}]},
}

numeric_text = st.one_of(
    st.from_regex(r"\s*-?\d{0,6}([.,]\d{0,4})?([eE][+-]?\d{1,4})?\s*", fullmatch=True),
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1_000", "1e309", "0x10", "½", "٣",
                     "１０", "5,5", "--1", "1e-400", "-0"]),
)
raw_answers = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(), hostile_text, numeric_text,
    st.sampled_from(CHOICE_VALUES), st.sampled_from([c["en"] for c in CHOICES]),
    st.lists(st.one_of(st.sampled_from(CHOICE_VALUES), st.text(max_size=5), st.integers(),
                       st.booleans(), st.none()), max_size=4),
    st.tuples(st.sampled_from(CHOICE_VALUES)), st.dates(), st.datetimes(),
    st.dates().map(date.isoformat), st.text(alphabet="0123456789-W", max_size=12),
    st.integers(0, 10), st.decimals(), st.dictionaries(st.text(max_size=3), st.integers(),
                                                       max_size=2),
    st.text(min_size=490, max_size=520, alphabet="ab "),
)


def check_answer(kind: QuestionType, version: Any, value: Any) -> None:
    """An accepted answer is JSON and the right shape for its question."""
    json.dumps(value, allow_nan=False)
    if value is None:
        assert not version.required
        return
    match kind:
        case Q.YES_NO:
            assert isinstance(value, bool)
        case Q.SINGLE_CHOICE:
            assert value in CHOICE_VALUES
        case Q.MULTIPLE_CHOICE:
            assert isinstance(value, list) and value and set(value) <= set(CHOICE_VALUES)
        case Q.SHORT_TEXT:
            assert isinstance(value, str) and 0 < len(value) <= MAX_TEXT
        case Q.NUMBER | Q.PAIN_SCALE:
            assert isinstance(value, int | float) and not isinstance(value, bool)
            low = 0 if kind == Q.PAIN_SCALE else version.min_value
            high = 10 if kind == Q.PAIN_SCALE else version.max_value
            assert (low is None or value >= low) and (high is None or value <= high)
        case Q.DATE:
            assert date.fromisoformat(value).isoformat() == value


@pytest.mark.parametrize("required", [False, True], ids=["optional", "required"])
def test_any_answer_to_any_question_is_stored_or_refused_without_a_trace(
    session: Session, required: bool
) -> None:
    now = clock.now()
    appointment = make_appointment(session, start=now)
    asked = {}
    for key, spec in QUESTIONS.items():
        question = make_question(session, key, spec["type"], required=required,
                                 **{k: v for k, v in spec.items() if k != "type"})
        asked[key] = Asked(key, question.versions[-1])
    keys = sorted(asked)

    @properties(100)
    @given(key=st.sampled_from(keys), raw=raw_answers, language=st.sampled_from(["en", "es"]))
    @example(key="date", raw=datetime(2026, 6, 16, 9, 30), language="en")
    @example(key="short_text", raw="help\x00", language="en")
    @example(key="number", raw="1e308", language="en")
    def answered(key: str, raw: Any, language: str) -> None:
        version = asked[key].version
        with rolled_back(session):
            before = snapshot(session)
            try:
                value = validate_answer(version, raw)
            except AnswerInvalid as refused:
                assert is_catalog_key(refused.key), refused.key
                assert snapshot(session) == before  # the kiosk shows why and writes nothing
                return
            check_answer(version.type, version, value)
            save_answer(session, appointment, asked[key], value, language=language, now=now,
                        kiosk_id=KIOSK)
            session.expire_all()
            assert saved_answers(session, appointment.id) == {key: value}
            stored = session.scalars(select(Answer)).one()
            assert stored.value == value

    answered()


# --- Schedule imports ---------------------------------------------------------------------------

# Values at the edges of what a reader parses: times at the ends of the calendar and of the
# offset range, the hour the clocks skip, numbers too large, text that is not text.
EDGE_VALUES = [
    "0001-01-01T00:00:00+14:00", "0001-01-01 00:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-12:00", "9999-12-31 23:59", "9999-12-31T23:59:59.999999Z",
    "00010101000000+0100", "000101010000", "99991231235959-1200", "99991231235959",
    "20260706090000+9959", "20260706090000-9999", "2026-03-08 02:30", "2026-03-08T02:30:00",
    "20260308023000", "2026-11-01 01:30", "02/29/2026 09:00", "13/45/2026 25:61",
    "12/31/9999 11:59 PM", "01/01/0001 12:00 AM", "2026-07-06T09:00:00.123456789+05:00",
    "2026-07-06T24:00:00", "0000-00-00", "00000000", "1880-01-01", "1879-12-31", "18800101",
    "99999999", "2026-06-16", "2099-12-31", "1e400", "-1", "0", "99999", "4294967296",
    "NaN", "", " ", "\x00", "\u2028", "\ufeff", "١٢٣٤", "Ⅻ", "a" * 1001, "b" * 65, "c" * 121,
    "\"", "\"\"", "=cmd|' /C calc'!A0", "true", "null", "[]", "{}",
]
cell_values = st.one_of(st.sampled_from(EDGE_VALUES), hostile_text, st.text(max_size=30))


@st.composite
def moments(draw: st.DrawFn, *, fhir: bool = False) -> str:
    """A date or time anywhere in the calendar, with any offset, written the way one of the
    formats writes it (ISO, HL7 TS, US); for FHIR always ISO, as its types require."""
    at = draw(st.one_of(  # the calendar's first and last days, the clinic's years, any day
        st.datetimes(max_value=datetime(1, 1, 2)),
        st.datetimes(min_value=datetime(9999, 12, 30)),
        st.datetimes(min_value=datetime(1999, 12, 31), max_value=datetime(2101, 1, 1)),
        st.datetimes()))
    styles = ["iso", "iso-date"] if fhir else ["iso", "iso-space", "iso-date", "hl7",
                                                "hl7-date", "us"]
    style = draw(st.sampled_from(styles))
    limit = 14 * 60 if fhir else (23 * 60 + 59 if style.startswith("iso") else 99 * 60 + 59)
    offset = draw(st.one_of(st.none(), st.integers(-limit, limit)))
    if fhir and style == "iso":
        offset = offset or 0
    y, mo, d, h, mi, sec = at.year, at.month, at.day, at.hour, at.minute, at.second
    sign = "+" if offset is None or offset >= 0 else "-"
    hh, mm = divmod(abs(offset or 0), 60)
    match style:
        case "iso" | "iso-space":
            zone = "" if offset is None else f"{sign}{hh:02d}:{mm:02d}"
            sep = "T" if style == "iso" else " "
            return f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{sec:02d}{zone}"
        case "hl7":
            zone = "" if offset is None else f"{sign}{hh:02d}{mm:02d}"
            return f"{y:04d}{mo:02d}{d:02d}{h:02d}{mi:02d}{sec:02d}{zone}"
        case "hl7-date":
            return f"{y:04d}{mo:02d}{d:02d}"
        case "us":
            return f"{mo:02d}/{d:02d}/{y:04d} {h:02d}:{mi:02d}"
    return f"{y:04d}-{mo:02d}-{d:02d}"


@st.composite
def bytes_mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """The file cut short, with bytes overwritten, inserted or removed."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["overwrite", "insert", "delete"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if action == "overwrite" and out:
            out[at] = draw(st.integers(0, 255))
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif out:
            del out[at:at + draw(st.integers(1, 40))]
    if draw(st.booleans()):
        out = out[:draw(st.integers(0, len(out)))]
    return bytes(out)


@st.composite
def csv_mutated(draw: st.DrawFn) -> bytes:
    """The sample CSV with cells replaced, a column dropped, rows repeated, another
    delimiter or line ending."""
    records = list(csv.reader(io.StringIO(SAMPLES["csv"].decode("utf-8"))))
    width = len(records[0])
    for _ in range(draw(st.integers(1, 6))):
        row = draw(st.integers(1, len(records) - 1))
        name = draw(st.sampled_from(["start", "birth_date", ""]))
        if name in records[0][:len(records[row])]:  # a time or a date, anywhere in the calendar
            records[row][records[0].index(name)] = draw(moments())
            continue
        row = draw(st.integers(0, len(records) - 1))
        column = draw(st.integers(0, width - 1))
        records[row][column] = draw(cell_values) if row else draw(
            st.one_of(st.sampled_from(records[0]), cell_values))
    if draw(st.booleans()):
        dropped = draw(st.integers(0, width - 1))
        records = [r[:dropped] + r[dropped + 1:] for r in records]
    if draw(st.booleans()):
        records.append(list(draw(st.sampled_from(records[1:]))))
    if draw(st.booleans()):
        records[draw(st.integers(0, len(records) - 1))].append(draw(cell_values))
    out = io.StringIO()
    csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t"])),
               lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"]))).writerows(records)
    data = out.getvalue().encode("utf-8")
    return draw(bytes_mutated(data)) if draw(st.booleans()) else data


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.sampled_from(EDGE_VALUES), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["resourceType", "id", "reference",
                                                             "value", "start", "text", "x"]),
                                            inner, max_size=3)),
    max_leaves=8,
)


def json_slots(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) in a JSON document."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        yield node, key
        if isinstance(value, dict | list):
            yield from json_slots(value)


@st.composite
def fhir_mutated(draw: st.DrawFn) -> bytes:
    """The sample Bundle with values replaced (by edge values, other JSON, or another
    resource's value), keys removed or entries repeated."""
    bundle = json.loads(SAMPLES["fhir"])
    for _ in range(draw(st.integers(1, 5))):
        slots = list(json_slots(bundle))
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "replace", "swap", "delete", "repeat",
                                       "moment"]))
        if action == "moment":  # a time or a date, anywhere in the calendar
            entries = bundle.get("entry") if isinstance(bundle, dict) else None
            entry = draw(st.sampled_from(entries)) if isinstance(entries, list) and entries else {}
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict):
                name = draw(st.sampled_from(["start", "end", "birthDate"]))
                resource[name] = draw(moments(fhir=True))
        elif action == "replace":
            container[key] = draw(json_values)
        elif action == "swap":
            other, other_key = draw(st.sampled_from(slots))
            container[key] = copy.deepcopy(other[other_key])
        elif action == "delete":
            if isinstance(container, dict):
                del container[key]
            else:
                container.pop(key)
        elif isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
    data = json.dumps(bundle, ensure_ascii=draw(st.booleans())).encode("utf-8")
    return draw(bytes_mutated(data)) if draw(st.booleans()) else data


hl7_field_values = st.one_of(
    cell_values,
    st.lists(st.one_of(st.sampled_from(EDGE_VALUES), st.text(max_size=8),
                       st.sampled_from(["^", "~", "\\", "&", "|", "MR", "NET", "S15"])),
             max_size=5).map("".join),
)


@st.composite
def hl7_mutated(draw: st.DrawFn) -> bytes:
    """The sample SIU messages with fields replaced, segments dropped or repeated, the
    encoding characters changed, another segment ending."""
    segments = [line.split("|") for line in SAMPLES["hl7"].decode("utf-8").splitlines()
                if line.strip()]
    for _ in range(draw(st.integers(1, 6))):
        segment = segments[draw(st.integers(0, len(segments) - 1))]
        action = draw(st.sampled_from(["field", "field", "field", "encoding", "drop",
                                       "repeat", "moment", "moment"]))
        if action == "moment":  # a time or a date, anywhere in the calendar
            timed = [s for s in segments if s[0] in ("SCH", "PID")]
            target = draw(st.sampled_from(timed)) if timed else segment
            at = 11 if target[0] == "SCH" else 7
            target.extend([""] * (at + 1 - len(target)))
            when = draw(moments())
            target[at] = f"^^20^{when}" if target[0] == "SCH" else when
        elif action == "field":
            at = draw(st.integers(0, len(segment)))
            segment[at:at + 1] = [draw(hl7_field_values)]
        elif action == "encoding" and segment[0] == "MSH" and len(segment) > 1:
            segment[1] = draw(st.one_of(st.text(alphabet="^~\\&|#$", max_size=5),
                                        st.text(max_size=4)))
        elif action == "drop" and len(segments) > 1:
            segments.remove(segment)
        else:
            segments.append(list(segment))
    ending = draw(st.sampled_from(["\r", "\n", "\r\n"]))
    data = ending.join("|".join(s) for s in segments).encode("utf-8")
    return draw(bytes_mutated(data)) if draw(st.booleans()) else data


MUTATED = {"csv": csv_mutated(), "fhir": fhir_mutated(), "hl7": hl7_mutated()}
FORMAT_STARTS = [b"", b"MSH|^~\\&|", b'{"resourceType": "Bundle", "entry": [',
                 b"appointment_id,start,mrn,given_name,family_name,birth_date,location,"
                 b"provider_id\n", b"\xef\xbb\xbf", b"\xff\xfe", b"FHS|^~\\&\rMSH|"]


def read_or_refuse(data: bytes, fmt: str) -> list[ScheduleRow] | None:
    """The rows, or None when the file is refused as a whole with a catalog message."""
    try:
        rows = read_file(data, fmt, tz=CHICAGO)
    except ImportUnreadable as refused:
        assert is_catalog_key(refused.key), refused.key
        return None
    today = clock.now().astimezone(CHICAGO).date()
    for row in rows:
        for problem in row.problems:
            assert problem.key in REASON_KEYS, problem.key
            problem.text("en")
            problem.text("es")
        if not row.ok:
            continue
        for name, limit in MAX_LENGTH.items():
            value = getattr(row, "external_id" if name == "appointment_id" else name)
            assert value is None or (isinstance(value, str) and 0 < len(value) <= limit
                                     and value == " ".join(value.split())), (name, value)
            assert value is None or "\x00" not in value
        assert row.start is not None and row.start.tzinfo is not None
        assert 2000 <= row.start.year <= 2100
        assert row.birth_date is not None and date(1880, 1, 1) <= row.birth_date <= today
        assert row.duration_minutes is None or 1 <= row.duration_minutes <= 12 * 60
    return rows


@properties(100)
@given(fmt=st.sampled_from(["csv", "fhir", "hl7"]), start=st.sampled_from(FORMAT_STARTS),
       tail=st.one_of(st.binary(max_size=600), st.text(max_size=300).map(str.encode)))
@example(fmt="csv", start=b"", tail=SAMPLES["csv"].replace(b"2026-07-06 09:00",
                                                            b"9999-12-31 23:59"))
@example(fmt="csv", start=b"", tail=SAMPLES["csv"].replace(b"2026-07-06 09:00",
                                                            b"0001-01-01T00:00:00+01:00"))
@example(fmt="hl7", start=b"", tail=SAMPLES["hl7"].replace(b"20260706090000-0500",
                                                            b"00010101000000+0100"))
@example(fmt="hl7", start=b"", tail=SAMPLES["hl7"].replace(b"20260706090000-0500",
                                                            b"99991231230000"))
@example(fmt="fhir", start=b"", tail=SAMPLES["fhir"].replace(b'"2026-07-06T09:00:00-05:00"',
                                                              b'"0001-01-01T00:00:00+01:00"'))
@example(fmt="fhir", start=b"", tail=b"[" * 100_000)
@example(fmt="csv", start=b"", tail=b'a,"' + b"x" * 200_000 + b'"\n')
def test_any_bytes_are_read_as_rows_or_refused_as_a_whole(
    fmt: str, start: bytes, tail: bytes
) -> None:
    read_or_refuse(start + tail, fmt)
    detect_format("upload.txt", start + tail)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ImportUnreadable) as refused:
        read_file(b"x" * (MAX_BYTES + 1), "csv", tz=CHICAGO)
    assert refused.value.key == "import.error_too_large"


@pytest.mark.parametrize("fmt", ["csv", "fhir", "hl7"])
def test_the_documented_samples_mutated_are_read_as_rows_or_refused(fmt: str) -> None:
    rows = read_or_refuse(SAMPLES[fmt], fmt)
    assert rows and all(row.ok for row in rows)

    @properties(100)
    @given(data=MUTATED[fmt])
    def mutated(data: bytes) -> None:
        read_or_refuse(data, fmt)

    mutated()


DOMAIN_TABLES_SKIP = (AuditEvent.__tablename__,)


@pytest.mark.parametrize("fmt", ["csv", "fhir", "hl7"])
def test_a_mutated_schedule_file_is_planned_and_applied_or_refused_without_changes(
    session: Session, fmt: str
) -> None:
    """On an empty database or one that already holds the sample schedule: planning never
    writes; a row the file got wrong is refused; applying never fails on either database;
    and a plan that creates and updates nothing leaves every record as it was (the import
    itself is audited)."""
    now = clock.now()
    sample_rows = read_file(SAMPLES["csv"], "csv", tz=CHICAGO)

    @properties(80)
    @given(data=st.one_of(MUTATED[fmt], MUTATED[fmt], st.binary(max_size=200)),
           holding_the_sample=st.booleans())
    def imported(data: bytes, holding_the_sample: bool) -> None:
        with rolled_back(session):
            if holding_the_sample:
                apply_import(session, plan_import(session, sample_rows), now=now)
            before = snapshot(session)
            rows = read_or_refuse(data, fmt)
            if rows is None:
                assert snapshot(session) == before
                return
            plan = plan_import(session, rows)
            assert snapshot(session) == before  # planning reads only
            assert [o.row for o in plan] == [r.row for r in rows]
            for outcome, row in zip(plan, rows, strict=True):
                if not row.ok:
                    # Refused, unless it is an event for an appointment on file, which
                    # applies whatever else is wrong and leaves the patient as they were.
                    assert outcome.action == Action.REFUSE or (
                        "import.warning_patient_not_updated"
                        in [p.key for p in outcome.reasons]), outcome.action
                assert all(p.key in REASON_KEYS for p in outcome.reasons)
            result = apply_import(session, plan, now=now + timedelta(minutes=1))
            writes = [o for o in result.outcomes if o.action in (Action.CREATE, Action.UPDATE)]
            if not writes:
                assert snapshot(session, skip=DOMAIN_TABLES_SKIP) == {
                    t: v for t, v in before.items() if t not in DOMAIN_TABLES_SKIP}

    imported()
