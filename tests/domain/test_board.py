"""What the desk's screens read: the day's appointments, the alert strip, open flags by
patient, and the waiting queue in the order patients should be seen. Each reads in a fixed,
small number of SQL statements however busy the day."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Patient,
    Provider,
)
from shared.services import board, checkin, desk, flags, review
from shared.services.clinic_settings import ClinicSettings
from tests.factories import (
    make_appointment,
    make_flag,
    make_location,
    make_patient,
    make_provider,
    make_question,
    make_staff_user,
)

CHICAGO = ZoneInfo("America/Chicago")
DAY = date(2026, 6, 15)
GRACE = 15
S = AppointmentStatus
RULES = ClinicSettings()


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A time on the clinic's clock."""
    return at_clinic_time(day, hour, minute, CHICAGO)


@contextmanager
def sql_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


class Clinic:
    """Two providers at one location, and a helper to book a patient with either."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.okafor = make_provider(session, display_name="Dr. Imani Okafor")
        self.ortega = make_provider(session, display_name="Dr. Luis Ortega")
        self.location = make_location(session, name="North Clinic")

    def book(self, start: datetime, *, given: str = "Rosalind", family: str = "Okonkwo-Delgado",
             preferred_name: str | None = None, provider: Provider | None = None,
             status: AppointmentStatus = S.BOOKED, arrived_at: datetime | None = None,
             **overrides: object) -> Appointment:
        patient = make_patient(self.session, legal_given_name=given, legal_family_name=family,
                               preferred_name=preferred_name)
        return make_appointment(self.session, start=start, status=status, patient=patient,
                                provider=provider or self.okafor, location=self.location,
                                arrived_at=arrived_at, **overrides)

    def waiting(self, start: datetime, arrived_at: datetime, *, given: str,
                provider: Provider | None = None,
                status: AppointmentStatus = S.CHECKED_IN) -> Appointment:
        return self.book(start, given=given, family="Waiting", provider=provider,
                         status=status, arrived_at=arrived_at)


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return Clinic(session)


# --- The day's appointments ---------------------------------------------------------------------


def test_the_days_appointments_are_listed_in_time_order_with_open_flag_counts(
    session: Session, clinic: Clinic
) -> None:
    afternoon = clinic.book(at(14), given="Amara", family="Nwosu")
    morning = clinic.book(at(8, 30), given="Rosalind", preferred_name="Roz",
                          status=S.ARRIVED, arrived_at=at(8, 20), visit_type="annual")
    late_evening = clinic.book(at(23, 30), given="Bao", family="Tran")  # 04:30 UTC next day
    clinic.book(at(0, 15, DAY + timedelta(days=1)), given="Next", family="Day")
    clinic.book(at(23, 45, DAY - timedelta(days=1)), given="Day", family="Before")
    make_flag(session, FlagKind.COVERAGE_MISSING, appointment=morning)
    make_flag(session, FlagKind.ADDRESS_CHANGE, appointment=morning)
    make_flag(session, FlagKind.PHONE_CHANGE, appointment=morning, status=FlagStatus.ACCEPTED)
    make_flag(session, FlagKind.LATE_ARRIVAL, appointment=afternoon)
    make_flag(session, FlagKind.DOCUMENT_MISSING, patient=late_evening.patient)  # no visit

    rows = board.appointments_for_day(session, DAY, CHICAGO)

    assert [r.appointment_id for r in rows] == [morning.id, afternoon.id, late_evening.id]
    assert [r.open_flags for r in rows] == [2, 1, 0]
    first = rows[0]
    assert (first.patient_name, first.mrn, first.age) == (
        "Roz Okonkwo-Delgado", morning.patient.mrn, 42,
    )
    assert (first.provider, first.location, first.visit_type) == (
        "Dr. Imani Okafor", "North Clinic", "annual",
    )
    assert (first.status, first.start, first.arrived_at) == (S.ARRIVED, at(8, 30), at(8, 20))
    assert first.patient_id == morning.patient_id


def test_the_board_filters_by_provider_location_and_hours_in_sql(
    session: Session, clinic: Clinic
) -> None:
    south = make_location(session, name="South Clinic")
    early_waiting = clinic.waiting(at(7), at(6, 50), given="Early")
    in_room = clinic.book(at(7, 30), given="Roomed", status=S.IN_ROOM, arrived_at=at(7, 20))
    soon = clinic.book(at(10, 30), given="Soon")
    later = clinic.book(at(16), given="Later")
    elsewhere = make_appointment(session, start=at(10, 15), location=south,
                                 provider=clinic.ortega,
                                 patient=make_patient(session, legal_given_name="Elsewhere"))
    clinic.book(at(7, 45), given="Gone", status=S.FULFILLED)

    around = board.BoardFilter(around=(at(8), at(14)))
    with sql_statements(session.get_bind()) as sent:
        rows = board.appointments_for_day(session, DAY, CHICAGO, around)
    assert [r.appointment_id for r in rows] == [early_waiting.id, in_room.id, elsewhere.id,
                                                soon.id]
    assert len(sent) == 2
    only_south = board.BoardFilter(locations=("South Clinic",))
    assert [r.appointment_id for r in board.appointments_for_day(
        session, DAY, CHICAGO, only_south)] == [elsewhere.id]
    only_okafor = board.BoardFilter(providers=("Dr. Imani Okafor",), around=(at(15), at(17)))
    assert [r.appointment_id for r in board.appointments_for_day(
        session, DAY, CHICAGO, only_okafor)] == [early_waiting.id, in_room.id, later.id]
    counts = board.day_counts(session, DAY, CHICAGO)
    assert (counts.total, counts.waiting, counts.done) == (6, 1, 1)


def test_a_day_without_appointments_is_an_empty_list(session: Session, clinic: Clinic) -> None:
    clinic.book(at(9, day=DAY + timedelta(days=1)))
    assert board.appointments_for_day(session, DAY, CHICAGO) == []


def book_many(session: Session, count: int, *, status: AppointmentStatus) -> list[Appointment]:
    """A very busy day: `count` patients booked every two minutes from 7:00."""
    provider = make_provider(session, display_name="Dr. Imani Okafor")
    other = make_provider(session, display_name="Dr. Luis Ortega")
    location = make_location(session, name="Busy Clinic")
    patients = [
        Patient(mrn=f"BUSY{n:05d}", legal_given_name=f"Given{n}", legal_family_name=f"Family{n}",
                birth_date=date(1950 + n % 60, 1 + n % 12, 1 + n % 28))
        for n in range(count)
    ]
    session.add_all(patients)
    session.flush()
    appointments = []
    for n, patient in enumerate(patients):
        start = at(7) + timedelta(minutes=2 * n)
        waiting = status in (S.ARRIVED, S.CHECKED_IN)
        appointments.append(Appointment(
            patient_id=patient.id, provider_id=(provider if n % 3 else other).id,
            location_id=location.id, start=start, status=status, visit_type="follow-up",
            arrived_at=start - timedelta(minutes=n % 25) if waiting else None,
            ticket=f"A{n + 1:03d}" if waiting else None,
            queue_shift_minutes=5 if n % 50 == 0 else 0,
        ))
    session.add_all(appointments)
    session.flush()
    session.add_all([
        Flag(kind=FlagKind.URGENT_ANSWER if n % 2 else FlagKind.ADDRESS_CHANGE,
             severity=FlagSeverity.URGENT if n % 2 else FlagSeverity.INFO,
             patient_id=a.patient_id, appointment_id=a.id, raised_at=a.start)
        for n, a in enumerate(appointments) if n % 7 == 0
    ])
    session.commit()
    return appointments


def test_the_days_list_of_300_appointments_takes_at_most_two_statements(
    session: Session, engine: Engine
) -> None:
    book_many(session, 300, status=S.BOOKED)

    with Session(engine) as screen, sql_statements(engine) as sent:
        rows = board.appointments_for_day(screen, DAY, CHICAGO)

    assert len(rows) == 300
    assert sum(r.open_flags for r in rows) == 43
    assert len(sent) <= 2, sent


# --- The alert strip ----------------------------------------------------------------------------


def test_alerts_are_open_urgent_flags_nobody_acknowledged_oldest_first(
    session: Session, clinic: Clinic
) -> None:
    maya = make_staff_user(session)
    visit = clinic.book(at(10), given="Rosalind", preferred_name="Roz", status=S.ARRIVED,
                        arrived_at=at(9, 45))
    chest_pain = make_flag(session, FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                           appointment=visit, kiosk_id="kiosk-2", raised_at=at(9, 50))
    help_press = flags.request_help(session, kiosk_id="kiosk-1", now=at(9, 40))
    on_it = flags.request_help(session, kiosk_id="kiosk-3", now=at(9, 30))
    review.acknowledge(session, on_it.id, staff_user_id=maya.id, now=at(9, 31))
    handled = flags.request_help(session, kiosk_id="kiosk-4", now=at(9, 20))
    review.accept_flag(session, handled.id, staff_user_id=maya.id, now=at(9, 22), day=DAY)
    make_flag(session, FlagKind.COVERAGE_EXPIRED, severity=FlagSeverity.WARNING,
              appointment=visit, raised_at=at(9, 10))

    shown = board.alerts(session)

    assert [a.flag_id for a in shown] == [help_press.id, chest_pain.id]
    first, second = shown
    assert (first.kind, first.kiosk_id, first.patient_name, first.appointment_id) == (
        FlagKind.HELP_REQUEST, "kiosk-1", None, None,
    )
    assert (second.kind, second.patient_name, second.appointment_id, second.raised_at) == (
        FlagKind.URGENT_ANSWER, "Roz Okonkwo-Delgado", visit.id, at(9, 50),
    )


def test_an_acknowledged_alert_leaves_the_strip_but_stays_open(
    session: Session, clinic: Clinic
) -> None:
    maya = make_staff_user(session)
    help_press = flags.request_help(session, kiosk_id="kiosk-1", now=at(9, 40))
    assert [a.flag_id for a in board.alerts(session)] == [help_press.id]

    review.acknowledge(session, help_press.id, staff_user_id=maya.id, now=at(9, 41))

    assert board.alerts(session) == []
    (group,) = board.open_flags_by_patient(session)
    assert [(f.flag_id, f.acknowledged) for f in group.flags] == [(help_press.id, True)]


def test_alerts_say_what_happened_and_who_took_them_for_a_few_minutes(
    session: Session, clinic: Clinic
) -> None:
    maya = make_staff_user(session, "Maya Chen")
    visit = clinic.book(at(10), given="Noah", status=S.ARRIVED, arrived_at=at(9, 45))
    make_question(session, "chest_pain", text_en="Chest pain right now?")
    chest = make_flag(session, FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                      appointment=visit, kiosk_id="lobby-3", raised_at=at(9, 50),
                      new_value={"question": "chest_pain", "answer": True})
    helped = flags.request_help(session, kiosk_id="lobby-2", now=at(9, 40), step="insurance")
    walked = clinic.book(at(10, 30), given="Ada")
    started = checkin.begin(session, walked.id, channel=Channel.KIOSK, now=at(10),
                            tz=CHICAGO, rules=RULES, kiosk_id="lobby-1")
    checkin.abandon(session, started.id, at(10, 5), step="consent")
    review.acknowledge(session, helped.id, staff_user_id=maya.id, now=at(10, 6))

    shown = board.alerts(session, at(10, 10))

    # Still to take first (oldest first), then what was taken, saying by whom.
    assert [(a.kind, a.taken_by) for a in shown] == [
        (FlagKind.URGENT_ANSWER, None), (FlagKind.LEFT_KIOSK, None),
        (FlagKind.HELP_REQUEST, "Maya Chen")]
    urgent, left, taken = shown
    assert (urgent.question, urgent.answer, urgent.kiosk_id) == (
        "Chest pain right now?", True, "lobby-3")
    assert (left.step, left.kiosk_id, left.appointment_id) == ("consent", "lobby-1", walked.id)
    assert (taken.step, taken.taken_at) == ("insurance", at(10, 6))
    assert chest.id == urgent.flag_id
    # Ten minutes after it was taken, it leaves the strip (the flag stays open).
    assert [a.kind for a in board.alerts(session, at(10, 17))] == [
        FlagKind.URGENT_ANSWER, FlagKind.LEFT_KIOSK]


# --- Open flags by patient ----------------------------------------------------------------------


def test_open_flags_are_grouped_by_patient_urgent_first_then_oldest(
    session: Session, clinic: Clinic
) -> None:
    maya = make_staff_user(session)
    rosalind = clinic.book(at(10), given="Rosalind")
    amara = clinic.book(at(10, 20), given="Amara", family="Nwosu")
    address = make_flag(session, FlagKind.ADDRESS_CHANGE, appointment=rosalind,
                        raised_at=at(9, 0), new_value={"city": "Evanston"})
    coverage = make_flag(session, FlagKind.COVERAGE_EXPIRED, severity=FlagSeverity.WARNING,
                         appointment=rosalind, raised_at=at(9, 30))
    urgent = make_flag(session, FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                       appointment=amara, raised_at=at(9, 45))
    walk_in = flags.report_walk_in(session, given_name=" Teodora ", family_name="Baptiste",
                                   birth_date=date(1990, 5, 17), reason="Sprained wrist",
                                   now=at(9, 20), kiosk_id="kiosk-1")
    help_press = flags.request_help(session, kiosk_id="kiosk-2", now=at(9, 50))
    decided = make_flag(session, FlagKind.PHONE_CHANGE, appointment=amara, raised_at=at(8))
    review.reject_flag(session, decided.id, staff_user_id=maya.id, now=at(9), reason="Same")

    groups = board.open_flags_by_patient(session)

    assert [[f.flag_id for f in g.flags] for g in groups] == [
        [urgent.id], [help_press.id], [address.id, coverage.id], [walk_in.id],
    ]
    assert [(g.patient_id, g.patient_name, g.urgent) for g in groups] == [
        (amara.patient_id, "Amara Nwosu", True),
        (None, "", True),
        (rosalind.patient_id, "Rosalind Okonkwo-Delgado", False),
        (None, "Teodora Baptiste", False),
    ]
    assert groups[2].mrn == rosalind.patient.mrn
    assert groups[2].oldest == at(9, 0)
    assert groups[3].mrn == ""
    row = groups[2].flags[0]
    assert (row.kind, row.severity, row.version, row.new_value, row.acknowledged) == (
        FlagKind.ADDRESS_CHANGE, FlagSeverity.INFO, 1, {"city": "Evanston"}, False,
    )


def test_two_flags_without_a_patient_are_not_lumped_together(
    session: Session, clinic: Clinic
) -> None:
    first = flags.request_help(session, kiosk_id="kiosk-1", now=at(9, 40))
    second = checkin.identity_failed(session, now=at(9, 41), kiosk_id="kiosk-2")

    groups = board.open_flags_by_patient(session)

    assert [[f.flag_id for f in g.flags] for g in groups] == [[first.id], [second.id]]


# --- The waiting queue --------------------------------------------------------------------------


def queue(session: Session) -> list[board.QueueRow]:
    return board.queue_for_day(session, DAY, CHICAGO, grace_minutes=GRACE)


def test_the_queue_is_urgent_first_then_on_time_by_appointment_then_late(
    session: Session, clinic: Clinic
) -> None:
    on_time = clinic.waiting(at(10), at(9, 50), given="Ontime")
    late = clinic.waiting(at(9, 30), at(9, 52), given="Late")  # 22 minutes after 9:30
    other_provider = clinic.waiting(at(10, 15), at(9, 55), given="Ortega",
                                    provider=clinic.ortega, status=S.ARRIVED)
    urgent = clinic.waiting(at(10, 30), at(10), given="Urgent")
    make_flag(session, FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT, appointment=urgent)
    make_flag(session, FlagKind.HELP_REQUEST, severity=FlagSeverity.URGENT, appointment=on_time,
              status=FlagStatus.ACCEPTED)  # already handled: no longer urgent
    make_flag(session, FlagKind.COVERAGE_EXPIRED, severity=FlagSeverity.WARNING,
              appointment=late)
    clinic.book(at(10, 45), given="Booked")  # not here yet
    clinic.book(at(9), given="Inroom", status=S.IN_ROOM, arrived_at=at(8, 50))
    clinic.book(at(9, 15), given="Done", status=S.FULFILLED, arrived_at=at(9))
    clinic.waiting(at(10, day=DAY - timedelta(days=1)), at(9, 50, DAY - timedelta(days=1)),
                   given="Yesterday")
    clinic.waiting(at(10, day=DAY + timedelta(days=1)), at(9), given="Tomorrow")

    rows = queue(session)

    assert [r.appointment_id for r in rows] == [urgent.id, on_time.id, other_provider.id,
                                                late.id]
    assert [r.position for r in rows] == [1, 2, 3, 4]
    assert [r.reason_key for r in rows] == [
        "queue.reason_urgent", "queue.reason_on_time", "queue.reason_on_time",
        "queue.reason_late",
    ]
    assert [(r.provider, r.provider_position) for r in rows] == [
        ("Dr. Imani Okafor", 1), ("Dr. Imani Okafor", 2), ("Dr. Luis Ortega", 1),
        ("Dr. Imani Okafor", 3),
    ]
    assert [r.patient_name for r in rows] == [
        "Urgent Waiting", "Ontime Waiting", "Ortega Waiting", "Late Waiting",
    ]
    assert rows[2].status == S.ARRIVED


def test_a_place_in_line_read_alone_is_the_queues_place_in_the_providers_line(
    session: Session, clinic: Clinic
) -> None:
    """What the kiosk and the phone say (board.line_position, one statement) is what the
    desk's queue shows, with urgent flags, late arrivals, a desk's move and other lines."""
    maya = make_staff_user(session)
    on_time = clinic.waiting(at(10), at(9, 50), given="Ontime")
    late = clinic.waiting(at(9, 30), at(9, 52), given="Late")
    urgent = clinic.waiting(at(10, 30), at(10), given="Urgent")
    make_flag(session, FlagKind.HELP_REQUEST, severity=FlagSeverity.URGENT, appointment=urgent)
    moved = clinic.waiting(at(10, 40), at(9, 58), given="Moved", status=S.ARRIVED)
    desk.move_in_queue(session, moved.id, minutes_earlier=30, reason="Interpreter booked",
                       staff_user_id=maya.id, now=at(10, 1))
    other_line = clinic.waiting(at(10, 15), at(9, 55), given="Ortega", provider=clinic.ortega)
    booked = clinic.book(at(10, 45), given="Booked")

    shown = {r.appointment_id: r.provider_position for r in queue(session)}
    for appointment in (on_time, late, urgent, moved, other_line, booked):
        assert board.line_position(session, DAY, CHICAGO, appointment.id,
                                   appointment.provider_id,
                                   grace_minutes=GRACE) == shown.get(appointment.id)
    assert shown[urgent.id] == 1 and shown[other_line.id] == 1
    assert booked.id not in shown


def test_a_patient_moved_earlier_by_the_desk_is_seen_sooner_with_the_desks_reason(
    session: Session, clinic: Clinic
) -> None:
    maya = make_staff_user(session)
    ten = clinic.waiting(at(10), at(9, 50), given="Ten")
    quarter_past = clinic.waiting(at(10, 15), at(9, 55), given="Quarter")
    twenty_to = clinic.waiting(at(10, 40), at(9, 58), given="Twenty")

    desk.move_in_queue(session, twenty_to.id, minutes_earlier=30, reason="Interpreter booked",
                       staff_user_id=maya.id, now=at(10, 1))
    rows = queue(session)

    assert [r.appointment_id for r in rows] == [ten.id, twenty_to.id, quarter_past.id]
    moved = rows[1]
    assert (moved.reason_key, moved.note) == ("queue.reason_moved", "Interpreter booked")
    assert moved.start == at(10, 40)  # the appointment time shown is still the real one
    assert moved.version == 2
    assert rows[0].reason_key == "queue.reason_on_time"


def test_moving_an_on_time_patient_a_long_way_earlier_does_not_send_them_to_the_back(
    session: Session, clinic: Clinic
) -> None:
    """Moved an hour earlier, the patient who came on time must not count as late."""
    maya = make_staff_user(session)
    ten = clinic.waiting(at(10), at(9, 50), given="Ten")
    quarter_past = clinic.waiting(at(10, 15), at(9, 55), given="Quarter")
    twenty_to = clinic.waiting(at(10, 40), at(9, 58), given="Twenty")

    desk.move_in_queue(session, twenty_to.id, minutes_earlier=60, reason="Fasting patient",
                       staff_user_id=maya.id, now=at(10, 1))
    rows = queue(session)

    assert [r.appointment_id for r in rows] == [twenty_to.id, ten.id, quarter_past.id]
    assert rows[0].reason_key == "queue.reason_moved"


def test_a_patient_moved_later_waits_behind_the_others(session: Session, clinic: Clinic) -> None:
    maya = make_staff_user(session)
    ten = clinic.waiting(at(10), at(9, 50), given="Ten")
    quarter_past = clinic.waiting(at(10, 15), at(9, 55), given="Quarter")

    desk.move_in_queue(session, ten.id, minutes_earlier=-30, reason="Stepped out to park",
                       staff_user_id=maya.id, now=at(10, 1))

    assert [r.appointment_id for r in queue(session)] == [quarter_past.id, ten.id]



def test_a_late_patient_moved_later_stays_among_the_late(session: Session, clinic: Clinic) -> None:
    maya = make_staff_user(session)
    ten = clinic.waiting(at(10), at(9, 50), given="Ten")
    late = clinic.waiting(at(9, 30), at(9, 52), given="Late")
    later_still = clinic.waiting(at(9, 40), at(10), given="Later")

    desk.move_in_queue(session, late.id, minutes_earlier=-120, reason="Waiting for a ride",
                       staff_user_id=maya.id, now=at(10, 1))

    assert [r.appointment_id for r in queue(session)] == [ten.id, later_still.id, late.id]

def test_the_queue_shows_the_ticket_and_the_room_a_patient_was_called_to(
    session: Session, clinic: Clinic
) -> None:
    maya = make_staff_user(session)
    visit = clinic.waiting(at(10), at(9, 50), given="Called")
    visit.ticket = "A007"
    desk.call_to_room(session, visit.id, "Exam room 4", staff_user_id=maya.id, now=at(10, 2))

    (row,) = queue(session)

    assert (row.ticket, row.room, row.called_at) == ("A007", "Exam room 4", at(10, 2))


def test_the_queue_of_300_waiting_patients_takes_at_most_three_statements(
    session: Session, engine: Engine
) -> None:
    book_many(session, 300, status=S.CHECKED_IN)

    with Session(engine) as screen, sql_statements(engine) as sent:
        rows = board.queue_for_day(screen, DAY, CHICAGO, grace_minutes=GRACE)

    assert len(rows) == 300
    assert len(sent) <= 3, sent
    urgent = [r for r in rows if r.reason_key == "queue.reason_urgent"]
    assert len(urgent) == 21
    assert rows[: len(urgent)] == urgent
    assert sorted(r.provider_position for r in rows if r.provider == "Dr. Luis Ortega") == list(
        range(1, 101)
    )


def test_an_empty_waiting_room_has_an_empty_queue(session: Session, clinic: Clinic) -> None:
    clinic.book(at(10))
    assert queue(session) == []


@pytest.mark.parametrize(("query", "found"), [
    ("Isabella Sanchez", True), ("sanchez isabella", True), ("SÁNCHEZ", True),
    ("isa sanch", True), ("Sanchez, Isabella", True), ("M-0042", True), ("0042", True),
    ("03/14/1986", True), ("3/14/1986", True), ("1986-03-14", True),
    ("Isabella Smith", False), ("03/15/1986", False), ("02/30/1986", False), ("", True),
])
def test_the_board_search_finds_a_name_in_any_order_an_mrn_or_a_birth_date(
        query: str, found: bool) -> None:
    row = board.AppointmentRow(
        1, 1, at(9), "Isabella Sánchez-Ortiz", "M-0042", 40, "Dr. Okafor", "Main",
        "Follow-up", S.BOOKED, None, 0, None, date(1986, 3, 14))
    assert board.matches_search(row, query) is found


def test_the_review_list_puts_decisions_first_and_notes_only_when_asked(
    session: Session, clinic: Clinic
) -> None:
    early_only = clinic.book(at(11), given="Ada")
    make_flag(session, FlagKind.EARLY_ARRIVAL, appointment=early_only, raised_at=at(9))
    change = clinic.book(at(10), given="Ben")
    note = make_flag(session, FlagKind.EARLY_ARRIVAL, appointment=change, raised_at=at(9, 5))
    address = make_flag(session, FlagKind.ADDRESS_CHANGE, appointment=change,
                        raised_at=at(9, 10))
    urgent = clinic.book(at(10, 30), given="Cy")
    make_flag(session, FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
              appointment=urgent, raised_at=at(9, 20))

    decisions = board.open_flags_by_patient(session, notes=False)
    everything = board.open_flags_by_patient(session)

    assert [g.patient_name.split()[0] for g in decisions] == ["Cy", "Ben"]
    assert [f.flag_id for f in decisions[1].flags] == [address.id]
    assert [g.patient_name.split()[0] for g in everything] == ["Cy", "Ben", "Ada"]
    assert [f.flag_id for f in everything[1].flags] == [address.id, note.id]  # note last
    assert board.open_notes(session) == 2
