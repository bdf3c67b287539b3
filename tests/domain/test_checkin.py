"""Checking in: finding today's appointment, proving who you are, the arrival window, and
finishing with a place in the provider's line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    CheckIn,
    CheckInToken,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
)
from shared.services import checkin, flags, tokens
from shared.services.checkin import (
    AlreadyCheckedIn,
    CannotCheckIn,
    Timing,
    arrival_timing,
    begin,
    complete,
    find_by_name,
    narrow_by_phone,
    normalize_name,
    verify_token_birth_date,
)
from shared.services.clinic_settings import ClinicSettings
from tests.factories import (
    DEFAULT_START,
    make_appointment,
    make_location,
    make_patient,
    make_provider,
    make_staff_user,
)
from tests.races import at_once

CHICAGO = ZoneInfo("America/Chicago")
RULES = ClinicSettings()  # 30 minutes early, 15 minutes grace
SECRET = "test-secret-key-that-is-long-enough-0123456789"
KIOSK = "kiosk-1"
START = DEFAULT_START  # 10:00 in Chicago, Monday 15 June 2026
S = AppointmentStatus


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def start_check_in(
    session: Session,
    appointment: Appointment,
    now: datetime,
    rules: ClinicSettings = RULES,
) -> CheckIn:
    return begin(session, appointment.id, channel=Channel.KIOSK, now=now, tz=CHICAGO,
                 rules=rules, kiosk_id=KIOSK)


def finish(session: Session, check_in: CheckIn, now: datetime) -> checkin.Completion:
    return complete(session, check_in.id, now=now, tz=CHICAGO, rules=RULES)


def open_flags(session: Session, kind: FlagKind | None = None) -> list[Flag]:
    query = select(Flag).where(Flag.status == FlagStatus.OPEN)
    if kind is not None:
        query = query.where(Flag.kind == kind)
    return list(session.scalars(query))


def count(session: Session, model: type, *criteria: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*criteria)) or 0


# --- the arrival window ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - minutes(30), Timing.ON_TIME),  # the first minute the window is open
        (START - minutes(30) - timedelta(seconds=1), Timing.EARLY),
        (START - minutes(90), Timing.EARLY),
        (START, Timing.ON_TIME),
        (START + minutes(15), Timing.ON_TIME),  # the last moment of the grace period
        (START + minutes(15) + timedelta(seconds=1), Timing.LATE),
        (START + timedelta(hours=4), Timing.LATE),
        (START + timedelta(days=1), Timing.WRONG_DAY),
        (START - timedelta(days=1), Timing.WRONG_DAY),
    ],
)
def test_arrival_timing_against_the_clinics_window(now: datetime, expected: Timing) -> None:
    assert arrival_timing(START, now, CHICAGO, RULES) == expected


def test_the_day_is_the_clinics_day_not_the_utc_day() -> None:
    # 20:00 in Chicago on the visit day is already the next day in UTC: late, not wrong day.
    evening = datetime(2026, 6, 16, 1, 0, tzinfo=UTC)
    assert arrival_timing(START, evening, CHICAGO, RULES) == Timing.LATE
    # 23:30 in Chicago the night before is the same UTC day as the visit: wrong day.
    night_before = datetime(2026, 6, 15, 4, 30, tzinfo=UTC)
    assert arrival_timing(START, night_before, CHICAGO, RULES) == Timing.WRONG_DAY


def test_a_wider_window_from_the_clinic_settings_is_used() -> None:
    rules = replace(RULES, early_checkin_minutes=60, grace_minutes=30)
    assert arrival_timing(START, START - minutes(45), CHICAGO, rules) == Timing.ON_TIME
    assert arrival_timing(START, START + minutes(25), CHICAGO, rules) == Timing.ON_TIME


# --- finding the appointment by name -------------------------------------------------------


def test_names_match_whatever_the_case_accents_hyphens_or_apostrophes() -> None:
    assert normalize_name("Núñez-O'Neil") == normalize_name("nunez oneil")
    assert normalize_name("  NUÑEZ  O’NEIL ") == normalize_name("Nunez-ONeil")
    assert normalize_name("Núñez") != normalize_name("Nunes")


def test_todays_appointment_is_found_by_family_name_and_birth_date(session: Session) -> None:
    patient = make_patient(session, legal_family_name="Núñez-O'Neil",
                           birth_date=date(1979, 11, 3))
    todays = make_appointment(session, patient=patient)
    make_appointment(session, patient=patient, start=START + minutes(60),
                     status=S.CANCELLED)
    make_appointment(session, patient=make_patient(session, legal_family_name="Nunez",
                                                   birth_date=date(1979, 11, 3)))

    found = find_by_name(session, "nunez oneil", date(1979, 11, 3), now=START - minutes(20),
                         tz=CHICAGO)

    assert found.today == [todays.id]
    assert found.other_day is None


def test_a_wrong_birth_date_or_empty_name_finds_nothing(session: Session) -> None:
    patient = make_patient(session, legal_family_name="Parker", birth_date=date(1986, 3, 14))
    make_appointment(session, patient=patient)
    now = START - minutes(20)

    assert find_by_name(session, "Parker", date(1986, 3, 15), now=now, tz=CHICAGO).today == []
    assert find_by_name(session, " -' ", date(1986, 3, 14), now=now, tz=CHICAGO).today == []


def test_a_cancelled_appointment_today_is_not_offered(session: Session) -> None:
    patient = make_patient(session, legal_family_name="Parker", birth_date=date(1986, 3, 14))
    make_appointment(session, patient=patient, status=S.CANCELLED)

    found = find_by_name(session, "PARKER", date(1986, 3, 14), now=START, tz=CHICAGO)

    assert found.today == []
    assert found.other_day is None


def test_a_patient_who_came_a_day_early_is_told_about_tomorrows_appointment(
    session: Session,
) -> None:
    patient = make_patient(session, legal_family_name="Parker", birth_date=date(1986, 3, 14))
    tomorrow = make_appointment(session, patient=patient, start=START + timedelta(days=1))

    found = find_by_name(session, "parker", date(1986, 3, 14), now=START - minutes(10),
                         tz=CHICAGO)

    assert found.today == []
    assert found.other_day is not None
    assert found.other_day.id == tomorrow.id


def test_twins_are_told_apart_by_the_last_four_digits_of_their_phone(session: Session) -> None:
    born = date(1991, 8, 22)
    first = make_patient(session, legal_given_name="Ava", legal_family_name="Reyes",
                         birth_date=born, phone="+1 312 555 0147")
    second = make_patient(session, legal_given_name="Mateo", legal_family_name="Reyes",
                          birth_date=born, phone="(773) 555-0188")
    first_visit = make_appointment(session, patient=first)
    second_visit = make_appointment(session, patient=second, start=START + minutes(20))

    found = find_by_name(session, "Reyes", born, now=START - minutes(15), tz=CHICAGO)

    assert sorted(found.today) == sorted([first_visit.id, second_visit.id])
    assert narrow_by_phone(session, found.today, "0188") == [second_visit.id]
    assert narrow_by_phone(session, found.today, "0147") == [first_visit.id]
    assert narrow_by_phone(session, found.today, "9999") == []
    assert narrow_by_phone(session, found.today, "18") == []


# --- proving who you are with a slip code ---------------------------------------------------


def issued_token(session: Session, appointment: Appointment) -> CheckInToken:
    issued = tokens.issue_token(session, appointment, secret_key=SECRET, tz=CHICAGO,
                                now=START - timedelta(days=2))
    row = session.get(CheckInToken, issued.token_id)
    assert row is not None
    return row


def test_the_right_birth_date_proves_the_code_holder_and_uses_the_code(
    session: Session,
) -> None:
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(1986, 3, 14)))
    token = issued_token(session, appointment)
    now = START - minutes(12)

    result = verify_token_birth_date(session, token, date(1986, 3, 14), now=now, kiosk_id=KIOSK)

    assert result.appointment_id == appointment.id
    assert result.locked is False
    assert token.used_at == now
    assert open_flags(session) == []


def test_three_wrong_birth_dates_lock_the_code_and_raise_one_identity_flag(
    session: Session, engine: Engine
) -> None:
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(1986, 3, 14)))
    token = issued_token(session, appointment)
    now = START - minutes(12)

    outcomes = [
        verify_token_birth_date(session, token, date(1986, 4, 14), now=now, kiosk_id=KIOSK),
        verify_token_birth_date(session, token, None, now=now, kiosk_id=KIOSK),
        verify_token_birth_date(session, token, date(1968, 3, 14), now=now, kiosk_id=KIOSK),
    ]
    session.commit()

    assert [o.appointment_id for o in outcomes] == [None, None, None]
    assert [o.attempts_left for o in outcomes] == [2, 1, 0]
    assert [o.locked for o in outcomes] == [False, False, True]
    with Session(engine) as fresh:
        stored = fresh.get(CheckInToken, token.id)
        assert stored is not None
        assert stored.failed_attempts == 3
        assert stored.locked_at == now
        assert stored.used_at is None
        identity = open_flags(fresh, FlagKind.IDENTITY_FAILED)
        assert len(identity) == 1
        assert identity[0].appointment_id == appointment.id
        assert identity[0].patient_id == appointment.patient_id
        assert identity[0].kiosk_id == KIOSK


def test_wrong_answers_are_counted_across_transactions(session: Session, engine: Engine) -> None:
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(1986, 3, 14)))
    token_id = issued_token(session, appointment).id
    session.commit()
    now = START - minutes(12)

    for attempt in range(3):
        with Session(engine) as kiosk:
            token = kiosk.get(CheckInToken, token_id)
            assert token is not None
            result = verify_token_birth_date(kiosk, token, date(2000, 1, 1), now=now,
                                             kiosk_id=KIOSK)
            kiosk.commit()
        assert result.locked is (attempt == 2)

    with Session(engine) as fresh:
        assert len(open_flags(fresh, FlagKind.IDENTITY_FAILED)) == 1


def test_a_locked_code_does_not_check_anyone_in_even_with_the_right_birth_date(
    session: Session,
) -> None:
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(1986, 3, 14)))
    token = issued_token(session, appointment)
    now = START - minutes(12)
    for _ in range(3):
        verify_token_birth_date(session, token, date(1999, 9, 9), now=now, kiosk_id=KIOSK)

    result = verify_token_birth_date(session, token, date(1986, 3, 14), now=now, kiosk_id=KIOSK)

    assert result.appointment_id is None
    assert result.locked is True
    assert token.used_at is None
    assert len(open_flags(session, FlagKind.IDENTITY_FAILED)) == 1


def test_a_code_replaced_between_the_scan_and_the_birth_date_checks_no_one_in(
    session: Session, engine: Engine
) -> None:
    # The kiosk keeps only the scanned code's id between its screens. While the patient
    # types their birth date, the desk prints a new slip for the visit, which revokes that
    # code: the right birth date must not get through with it.
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(1986, 3, 14)))
    first = tokens.issue_token(session, appointment, secret_key=SECRET, tz=CHICAGO,
                               now=START - timedelta(days=2))
    session.commit()
    scanned_at = START - minutes(14)
    with Session(engine) as kiosk:  # the scan screen
        token_id = checkin.find_token(kiosk, first.token, secret_key=SECRET, now=scanned_at).id
    with Session(engine) as desk, desk.begin():  # the desk reprints the slip
        visit = desk.get(Appointment, appointment.id)
        assert visit is not None
        tokens.issue_token(desk, visit, secret_key=SECRET, tz=CHICAGO, now=scanned_at)
    now = START - minutes(12)

    with Session(engine) as kiosk, kiosk.begin():  # the birth-date screen
        result = verify_token_birth_date(kiosk, token_id, date(1986, 3, 14), now=now,
                                         kiosk_id=KIOSK)

    assert result.appointment_id is None
    assert result.locked is True
    with Session(engine) as fresh:
        stored = fresh.get(CheckInToken, token_id)
        assert stored is not None
        assert stored.revoked_at == scanned_at
        assert stored.used_at is None
        assert count(fresh, CheckIn) == 0
        assert fresh.get(Appointment, appointment.id).status == S.BOOKED


def test_a_code_replaced_meanwhile_is_refused_when_the_kiosk_still_holds_its_row(
    session: Session,
) -> None:
    appointment = make_appointment(session, patient=make_patient(session,
                                                                 birth_date=date(1986, 3, 14)))
    token = issued_token(session, appointment)
    tokens.issue_token(session, appointment, secret_key=SECRET, tz=CHICAGO,
                       now=START - minutes(13))

    result = verify_token_birth_date(session, token, date(1986, 3, 14), now=START - minutes(12),
                                     kiosk_id=KIOSK)

    assert token.revoked_at == START - minutes(13)
    assert (result.appointment_id, result.locked) == (None, True)
    assert token.used_at is None


# --- beginning a check-in ------------------------------------------------------------------


def test_beginning_marks_the_patient_arrived_and_records_the_check_in(session: Session) -> None:
    appointment = make_appointment(session)
    now = START - minutes(10)

    check_in = start_check_in(session, appointment, now)

    assert appointment.status == S.ARRIVED
    assert appointment.arrived_at == now
    assert check_in.appointment_id == appointment.id
    assert check_in.channel == Channel.KIOSK
    assert check_in.kiosk_id == KIOSK
    assert check_in.identity_verified_at == now
    assert check_in.completed_at is None
    assert open_flags(session) == []
    started = session.scalars(select(AuditEvent).where(AuditEvent.action == "checkin.started"))
    assert [e.record_id for e in started] == [appointment.id]


def test_beginning_twice_resumes_the_same_check_in(session: Session) -> None:
    appointment = make_appointment(session)

    first = start_check_in(session, appointment, START - minutes(10))
    again = start_check_in(session, appointment, START - minutes(8))

    assert again.id == first.id
    assert count(session, CheckIn, CheckIn.appointment_id == appointment.id) == 1
    assert appointment.arrived_at == START - minutes(10)


def test_a_no_show_who_turns_up_after_all_can_check_in(session: Session) -> None:
    appointment = make_appointment(session, status=S.NOSHOW)

    start_check_in(session, appointment, START + minutes(5))

    assert appointment.status == S.ARRIVED


@pytest.mark.parametrize("status", [S.CHECKED_IN, S.IN_ROOM, S.FULFILLED])
def test_someone_already_checked_in_is_told_so_and_nothing_is_doubled(
    session: Session, status: AppointmentStatus
) -> None:
    appointment = make_appointment(session, status=status)

    with pytest.raises(AlreadyCheckedIn) as refused:
        start_check_in(session, appointment, START - minutes(5))

    assert refused.value.key == "kiosk.already_checked_in"
    assert appointment.status == status
    assert count(session, CheckIn) == 0


def test_a_cancelled_appointment_cannot_be_checked_in(session: Session) -> None:
    appointment = make_appointment(session, status=S.CANCELLED)

    with pytest.raises(CannotCheckIn) as refused:
        start_check_in(session, appointment, START - minutes(5))

    assert refused.value.key == "kiosk.appointment_cancelled"
    assert appointment.status == S.CANCELLED
    assert count(session, CheckIn) == 0


def test_coming_on_the_wrong_day_is_refused_and_the_desk_is_told(
    session: Session, engine: Engine
) -> None:
    appointment = make_appointment(session)

    with pytest.raises(CannotCheckIn) as refused:
        start_check_in(session, appointment, START - timedelta(days=1))
    session.commit()  # the kiosk commits the flag even though it refused

    assert refused.value.key == "kiosk.wrong_day"
    with Session(engine) as fresh:
        wrong_day = open_flags(fresh, FlagKind.WRONG_DAY)
        assert [(f.appointment_id, f.severity) for f in wrong_day] == [
            (appointment.id, FlagSeverity.INFO)
        ]
        stored = fresh.get(Appointment, appointment.id)
        assert stored is not None
        assert stored.status == S.BOOKED
        assert stored.arrived_at is None
        assert count(fresh, CheckIn) == 0


def test_a_late_arrival_begins_with_a_flag_when_the_clinic_allows_it(session: Session) -> None:
    appointment = make_appointment(session)

    check_in = start_check_in(session, appointment, START + minutes(16))

    assert check_in.id is not None
    assert appointment.status == S.ARRIVED
    late = open_flags(session, FlagKind.LATE_ARRIVAL)
    assert [(f.appointment_id, f.severity) for f in late] == [
        (appointment.id, FlagSeverity.WARNING)
    ]


def test_a_late_arrival_is_sent_to_the_desk_when_the_clinic_refuses_late_check_in(
    session: Session,
) -> None:
    appointment = make_appointment(session)
    strict = ClinicSettings(allow_late_checkin=False)

    with pytest.raises(CannotCheckIn) as refused:
        start_check_in(session, appointment, START + minutes(16), rules=strict)

    assert refused.value.key == "kiosk.too_late"
    assert appointment.status == S.BOOKED
    assert count(session, CheckIn) == 0
    assert [f.appointment_id for f in open_flags(session, FlagKind.LATE_ARRIVAL)] == [
        appointment.id
    ]


def test_within_the_grace_period_is_not_late(session: Session) -> None:
    appointment = make_appointment(session)

    start_check_in(session, appointment, START + minutes(15),
                   rules=ClinicSettings(allow_late_checkin=False))

    assert appointment.status == S.ARRIVED
    assert open_flags(session) == []


def test_an_early_arrival_begins_with_a_flag(session: Session) -> None:
    appointment = make_appointment(session)

    start_check_in(session, appointment, START - minutes(45))

    assert appointment.status == S.ARRIVED
    early = open_flags(session, FlagKind.EARLY_ARRIVAL)
    assert [(f.appointment_id, f.severity) for f in early] == [
        (appointment.id, FlagSeverity.INFO)
    ]


def test_an_early_arrival_is_refused_when_the_clinic_does_not_allow_it(session: Session) -> None:
    appointment = make_appointment(session)

    with pytest.raises(CannotCheckIn) as refused:
        start_check_in(session, appointment, START - minutes(45),
                       rules=ClinicSettings(allow_early_checkin=False))

    assert refused.value.key == "kiosk.too_early"
    assert appointment.status == S.BOOKED


# --- finishing -------------------------------------------------------------------------------


def test_finishing_with_nothing_for_the_desk_checks_the_patient_in(session: Session) -> None:
    appointment = make_appointment(session)
    check_in = start_check_in(session, appointment, START - minutes(10))
    now = START - minutes(5)

    done = finish(session, check_in, now)

    assert done.status == S.CHECKED_IN
    assert done.needs_desk is False
    assert done.position == 1
    assert done.estimated_wait_minutes == 5  # the appointment is in five minutes
    assert appointment.status == S.CHECKED_IN
    assert appointment.checked_in_at == now
    assert check_in.completed_at == now


def _with_expired_coverage_flag(session: Session) -> tuple[Appointment, CheckIn]:
    """A check-in under way for a patient whose coverage ran out (the desk must see them)."""
    appointment = make_appointment(session)
    check_in = start_check_in(session, appointment, START - minutes(10))
    flags.raise_flag(session, kind=FlagKind.COVERAGE_EXPIRED, severity=FlagSeverity.WARNING,
                     now=START - minutes(8), patient_id=appointment.patient_id,
                     appointment_id=appointment.id, kiosk_id=KIOSK)
    return appointment, check_in


def test_an_open_coverage_flag_keeps_the_patient_arrived_and_sends_them_to_the_desk(
    session: Session,
) -> None:
    appointment, check_in = _with_expired_coverage_flag(session)

    done = finish(session, check_in, START - minutes(5))

    assert done.status == S.ARRIVED
    assert done.needs_desk is True
    assert done.position == 1
    assert appointment.status == S.ARRIVED
    assert appointment.checked_in_at is None
    assert check_in.completed_at == START - minutes(5)


def test_a_check_in_that_ended_at_the_desk_is_not_opened_again_with_the_same_code(
    session: Session,
) -> None:
    appointment, check_in = _with_expired_coverage_flag(session)
    assert finish(session, check_in, START - minutes(5)).needs_desk is True

    with pytest.raises(AlreadyCheckedIn):
        start_check_in(session, appointment, START - minutes(3))

    assert count(session, CheckIn, CheckIn.appointment_id == appointment.id) == 1
    # The desk can still finish it with the patient.
    at_desk = begin(session, appointment.id, channel=Channel.DESK, now=START - minutes(2),
                    tz=CHICAGO, rules=RULES, staff_user_id=make_staff_user(session).id)
    assert at_desk.appointment_id == appointment.id


def test_a_patient_level_desk_flag_also_sends_the_patient_to_the_desk(session: Session) -> None:
    appointment = make_appointment(session)
    check_in = start_check_in(session, appointment, START - minutes(10))
    flags.raise_flag(session, kind=FlagKind.DOCUMENT_MISSING, severity=FlagSeverity.WARNING,
                     now=START - minutes(8), patient_id=appointment.patient_id)

    assert finish(session, check_in, START - minutes(5)).needs_desk is True


def test_another_patients_desk_flag_does_not_hold_this_one(session: Session) -> None:
    appointment = make_appointment(session)
    other = make_appointment(session)
    flags.raise_flag(session, kind=FlagKind.COVERAGE_MISSING, severity=FlagSeverity.WARNING,
                     now=START - minutes(30), patient_id=other.patient_id,
                     appointment_id=other.id)
    check_in = start_check_in(session, appointment, START - minutes(10))

    assert finish(session, check_in, START - minutes(5)).status == S.CHECKED_IN


def test_an_early_arrival_flag_does_not_hold_the_patient_at_the_desk(session: Session) -> None:
    appointment = make_appointment(session)
    check_in = start_check_in(session, appointment, START - minutes(50))

    done = finish(session, check_in, START - minutes(45))

    assert done.status == S.CHECKED_IN
    assert done.needs_desk is False


def test_a_late_arrival_flag_holds_the_patient_at_the_desk(session: Session) -> None:
    appointment = make_appointment(session)
    check_in = start_check_in(session, appointment, START + minutes(20))

    done = finish(session, check_in, START + minutes(22))

    assert done.status == S.ARRIVED
    assert done.needs_desk is True


def test_finishing_twice_changes_nothing_and_is_audited_once(
    session: Session, engine: Engine
) -> None:
    appointment = make_appointment(session)
    check_in = start_check_in(session, appointment, START - minutes(10))
    first = finish(session, check_in, START - minutes(5))
    session.commit()

    again = finish(session, check_in, START - minutes(2))
    session.commit()

    assert again.status == first.status == S.CHECKED_IN
    assert again.position == 1
    with Session(engine) as fresh:
        stored = fresh.get(Appointment, appointment.id)
        assert stored is not None
        assert stored.checked_in_at == START - minutes(5)
        stored_check_in = fresh.get(CheckIn, check_in.id)
        assert stored_check_in is not None
        assert stored_check_in.completed_at == START - minutes(5)
        assert count(fresh, AuditEvent, AuditEvent.action == "checkin.completed") == 1


def test_the_place_in_line_counts_only_patients_waiting_for_the_same_provider(
    session: Session,
) -> None:
    okafor = make_provider(session, display_name="Dr. Imani Okafor")
    ortega = make_provider(session, display_name="Dr. Rafael Ortega")
    clinic = make_location(session)
    arrived = START - minutes(40)

    def visit(provider, start: datetime, status: AppointmentStatus) -> Appointment:
        return make_appointment(session, provider=provider, location=clinic, start=start,
                                status=status,
                                arrived_at=None if status == S.BOOKED else arrived)

    # Dr. Okafor: two patients with earlier slots are already waiting.
    visit(okafor, START - minutes(20), S.CHECKED_IN)
    visit(okafor, START - minutes(10), S.ARRIVED)
    # Not waiting: still booked, already in the room, or yesterday's.
    visit(okafor, START - minutes(30), S.BOOKED)
    visit(okafor, START - minutes(40), S.IN_ROOM)
    visit(okafor, START - timedelta(days=1), S.CHECKED_IN)
    # Dr. Ortega's waiting room does not count.
    for slot in (30, 25, 15):
        visit(ortega, START - minutes(slot), S.CHECKED_IN)
    mine = make_appointment(session, provider=okafor, location=clinic)

    check_in = start_check_in(session, mine, START - minutes(5))
    done = finish(session, check_in, START - minutes(4))

    assert done.status == S.CHECKED_IN
    assert done.position == 3
    assert done.estimated_wait_minutes == 2 * RULES.minutes_per_patient


# --- Guesses sent at the same moment from many screens ----------------------------------------


def _guess_alone(engine: Engine, token_id: int, birth_date: date) -> checkin.IdentityCheck:
    with session_scope(engine) as kiosk:
        return verify_token_birth_date(kiosk, token_id, birth_date, now=START - minutes(12),
                                       kiosk_id=KIOSK)


def _code_for_patient_born(session: Session, born: date) -> int:
    appointment = make_appointment(session, patient=make_patient(session, birth_date=born))
    token_id = issued_token(session, appointment).id
    session.commit()
    return token_id


def test_twelve_wrong_guesses_at_once_count_three_failures_and_lock_once(
    session: Session, engine: Engine
) -> None:
    token_id = _code_for_patient_born(session, date(1986, 3, 14))
    wrong = [date(1990, 1, 1) + timedelta(days=n) for n in range(12)]

    outcome = at_once(12, lambda n: _guess_alone(engine, token_id, wrong[n]))

    assert outcome.errors == []
    assert sorted(r.attempts_left for r in outcome.results) == [0] * 10 + [1, 2]
    assert [r.appointment_id for r in outcome.results] == [None] * 12
    with Session(engine) as fresh:
        stored = fresh.get(CheckInToken, token_id)
        assert (stored.failed_attempts, stored.locked_at is not None) == (3, True)
        assert len(open_flags(fresh, FlagKind.IDENTITY_FAILED)) == 1


def test_the_right_birth_date_among_eleven_wrong_ones_gets_in_only_before_the_third_failure(
    session: Session, engine: Engine
) -> None:
    born = date(1986, 3, 14)
    guesses = [date(1990, 1, 1) + timedelta(days=n) for n in range(11)] + [born]
    for _ in range(5):  # the right answer lands at a different place in the line each time
        token_id = _code_for_patient_born(session, born)

        outcome = at_once(12, lambda n, token_id=token_id: _guess_alone(engine, token_id,
                                                                        guesses[n]))

        assert outcome.errors == []
        let_in = [r for r in outcome.results if r.appointment_id is not None]
        with Session(engine) as fresh:
            stored = fresh.get(CheckInToken, token_id)
            assert stored.failed_attempts == 3 and stored.locked_at is not None
            if let_in:
                # Let in while fewer than three failures were counted, and the code was used.
                assert let_in[0].attempts_left >= 1 and stored.used_at is not None
            else:
                assert stored.used_at is None
        assert len(let_in) <= 1


def test_after_three_failures_the_right_birth_date_sent_from_twelve_screens_is_refused(
    session: Session, engine: Engine
) -> None:
    born = date(1986, 3, 14)
    token_id = _code_for_patient_born(session, born)
    for n in range(3):
        _guess_alone(engine, token_id, date(1990, 1, 1 + n))

    outcome = at_once(12, lambda n: _guess_alone(engine, token_id, born))

    assert outcome.errors == []
    assert [(r.appointment_id, r.locked) for r in outcome.results] == [(None, True)] * 12
    with Session(engine) as fresh:
        assert fresh.get(CheckInToken, token_id).used_at is None
