"""The desk's side of pre-check-in at home (issue 16): each visit's state on the board, the
call list of visits whose pre-check-in was not done by the day before, and alerts raised at
home told by the visit's date. On SQLite and PostgreSQL; every instant is given."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time
from shared.models import AppointmentStatus, Channel, FlagKind, FlagSeverity
from shared.services import board, checkin, flags, precheck
from shared.services.clinic_settings import ClinicSettings
from shared.services.precheck import PrecheckState
from tests.domain.test_board import sql_statements
from tests.factories import make_appointment, make_location, make_patient, make_provider

CHICAGO = ZoneInfo("America/Chicago")
DAY = date(2026, 6, 17)  # a Wednesday: the visits' day
EVE = DAY - timedelta(days=1)
S = AppointmentStatus
P = PrecheckState


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return at_clinic_time(day, hour, minute, CHICAGO)


class Clinic:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.okafor = make_provider(session, display_name="Dr. Imani Okafor")
        self.ortega = make_provider(session, display_name="Dr. Luis Ortega")
        self.location = make_location(session, name="North Clinic")

    def book(self, start: datetime, name: str, *, status: AppointmentStatus = S.BOOKED,
             phone: str | None = "312-555-0147", provider=None):
        patient = make_patient(self.session, legal_given_name=name,
                               legal_family_name="Okonkwo", phone=phone)
        return make_appointment(self.session, start=start, status=status, patient=patient,
                                provider=provider or self.okafor, location=self.location)

    def precheck(self, appointment, started: datetime, done: datetime | None = None) -> None:
        """The patient opens the pre-check-in at `started`, and finishes it at `done`."""
        opened = precheck.begin(self.session, appointment.id, now=started)
        if done is not None:
            precheck.complete(self.session, opened.id, now=done)


@pytest.fixture
def clinic(session: Session) -> Clinic:
    return Clinic(session)


def test_each_visit_on_the_board_shows_its_pre_check_in_not_opened_started_or_done(
        session: Session, engine: Engine, clinic: Clinic) -> None:
    never = clinic.book(at(8), "Never")
    started = clinic.book(at(9), "Started")
    done = clinic.book(at(10), "Done")
    reopened = clinic.book(at(11), "Reopened")
    at_kiosk_only = clinic.book(at(12), "Kiosk")
    clinic.precheck(started, at(19, day=EVE))
    clinic.precheck(done, at(18, day=EVE), at(18, 7, day=EVE))
    clinic.precheck(reopened, at(17, day=EVE), at(17, 5, day=EVE))
    clinic.precheck(reopened, at(21, day=EVE))  # opened again to change something
    # A kiosk check-in on the day is no pre-check-in.
    checkin.begin(session, at_kiosk_only.id, channel=Channel.KIOSK, now=at(11, 50), tz=CHICAGO,
                  rules=ClinicSettings(), kiosk_id="lobby-1")
    session.commit()

    with Session(engine) as screen, sql_statements(engine) as sent:
        rows = board.appointments_for_day(screen, DAY, CHICAGO)

    assert [(r.patient_name.split()[0], r.precheck) for r in rows] == [
        ("Never", P.NOT_OPENED), ("Started", P.STARTED), ("Done", P.DONE),
        ("Reopened", P.DONE), ("Kiosk", P.NOT_OPENED)]
    # The board reads the very states the pre-check-in service gives, in its two statements.
    assert {r.appointment_id: r.precheck for r in rows} == precheck.states(
        session, [r.appointment_id for r in rows])
    assert len(sent) == 2, sent
    assert never.id == rows[0].appointment_id


def test_the_call_list_is_booked_visits_whose_pre_check_in_was_not_done_before_their_day(
        session: Session, clinic: Clinic) -> None:
    not_opened = clinic.book(at(8), "Ada", phone="312-555-0101")
    started = clinic.book(at(8, 30), "Bea", phone="312-555-0102")
    done_the_day_before = clinic.book(at(9), "Cy")
    done_on_the_day = clinic.book(at(14), "Dee", phone=None)
    done_at_midnight = clinic.book(at(15), "Eve")
    clinic.book(at(9, 30), "Cancelled", status=S.CANCELLED)
    clinic.book(at(7, 45), "Here", status=S.ARRIVED)
    clinic.book(at(9, day=DAY + timedelta(days=1)), "Thursday")
    clinic.book(at(23, 30, day=EVE), "Tuesday")
    clinic.precheck(started, at(20, day=EVE))
    clinic.precheck(done_the_day_before, at(20, day=EVE), at(20, 9, day=EVE))
    # Done early on the visit's own day: too late for the representative's calls.
    clinic.precheck(done_on_the_day, at(7), at(7, 10))
    # Finished in the visit day's first minute: no longer "the day before".
    clinic.precheck(done_at_midnight, at(23, 55, day=EVE), at(0, 0))

    calls = board.appointments_for_day(session, DAY, CHICAGO,
                                       board.BoardFilter(not_prechecked=True))

    assert [r.appointment_id for r in calls] == [
        not_opened.id, started.id, done_on_the_day.id, done_at_midnight.id]
    assert [(r.precheck, r.phone) for r in calls] == [
        (P.NOT_OPENED, "312-555-0101"), (P.STARTED, "312-555-0102"), (P.DONE, None),
        (P.DONE, "312-555-0147")]
    assert {r.status for r in calls} == {S.BOOKED}
    # Without the filter, the same day holds everyone, the cancelled and the arrived too.
    assert len(board.appointments_for_day(session, DAY, CHICAGO)) == 7


def test_the_call_list_keeps_the_boards_other_filters(session: Session, clinic: Clinic) -> None:
    mine = clinic.book(at(8), "Ada")
    clinic.book(at(8), "Bo", provider=clinic.ortega)
    only_okafor = board.BoardFilter(providers=("Dr. Imani Okafor",), not_prechecked=True)
    assert [r.appointment_id for r in board.appointments_for_day(
        session, DAY, CHICAGO, only_okafor)] == [mine.id]
    clinic.precheck(mine, at(12, day=EVE), at(12, 4, day=EVE))
    assert board.appointments_for_day(session, DAY, CHICAGO, only_okafor) == []


def test_an_urgent_answer_given_at_home_carries_the_visits_date_for_the_alert(
        session: Session, clinic: Clinic) -> None:
    visit = clinic.book(at(10), "Noah")
    flags.raise_flag(session, kind=FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                     now=at(20, day=EVE), patient_id=visit.patient_id,
                     appointment_id=visit.id, kiosk_id=precheck.HOME_KIOSK_ID,
                     new_value={"question": "chest_pain", "answer": True})
    flags.request_help(session, kiosk_id="lobby-2", now=at(9, 40))

    home, lobby = board.alerts(session, at(9, 45))

    assert (home.kiosk_id, home.appointment_id, home.appointment_start) == (
        precheck.HOME_KIOSK_ID, visit.id, at(10))
    assert (lobby.kiosk_id, lobby.appointment_id, lobby.appointment_start) == (
        "lobby-2", None, None)
