"""Waiting-room tickets: the lobby screen shows A001, A002... instead of names, numbered
afresh each clinic day, and a patient keeps the ticket they were given. A ticket is given
when the patient finishes and sees it, never to someone who walked away."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time
from shared.db import session_scope
from shared.models import Appointment, AppointmentStatus, Channel, CheckIn
from shared.services import checkin
from shared.services.checkin import CannotCheckIn, abandon, begin, next_ticket
from shared.services.clinic_settings import ClinicSettings
from tests.factories import make_appointment, make_staff_user
from tests.races import at_once

CHICAGO = ZoneInfo("America/Chicago")
RULES = ClinicSettings()
DAY = date(2026, 6, 15)
NEXT_DAY = DAY + timedelta(days=1)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return at_clinic_time(day, hour, minute, CHICAGO)


def start_at_kiosk(session: Session, appointment: Appointment, now: datetime) -> CheckIn:
    return begin(session, appointment.id, channel=Channel.KIOSK, now=now, tz=CHICAGO,
                 rules=RULES, kiosk_id="kiosk-1")


def check_in_at_kiosk(session: Session, appointment: Appointment, now: datetime) -> CheckIn:
    """Start and finish: the done screen shows the ticket."""
    check_in = start_at_kiosk(session, appointment, now)
    checkin.complete(session, check_in.id, now=now, tz=CHICAGO, rules=RULES)
    return check_in


def test_the_first_ticket_of_the_day_is_a001(session: Session) -> None:
    make_appointment(session, start=at(9))
    assert next_ticket(session, now=at(7), tz=CHICAGO)[1] == "A001"


def test_tickets_are_numbered_in_the_order_patients_check_in(session: Session) -> None:
    nine, ten, eleven = (make_appointment(session, start=at(h)) for h in (9, 10, 11))

    check_in_at_kiosk(session, ten, at(9, 40))
    check_in_at_kiosk(session, nine, at(9, 45))
    check_in_at_kiosk(session, eleven, at(10, 50))

    assert (ten.ticket, nine.ticket, eleven.ticket) == ("A001", "A002", "A003")
    assert next_ticket(session, now=at(11), tz=CHICAGO)[1] == "A004"


def test_a_patient_checked_in_at_the_desk_gets_the_next_ticket_too(session: Session) -> None:
    maya = make_staff_user(session)
    first = make_appointment(session, start=at(9))
    second = make_appointment(session, start=at(9, 20))
    check_in_at_kiosk(session, first, at(8, 50))

    desk = begin(session, second.id, channel=Channel.DESK, now=at(9, 5), tz=CHICAGO,
                 rules=RULES, staff_user_id=maya.id)
    checkin.complete(session, desk.id, now=at(9, 5), tz=CHICAGO, rules=RULES)

    assert second.ticket == "A002"


def test_tickets_start_again_at_a001_on_the_next_clinic_day(session: Session) -> None:
    today = make_appointment(session, start=at(9))
    late_tonight = make_appointment(session, start=at(23, 30))  # 04:30 UTC tomorrow
    tomorrow = make_appointment(session, start=at(0, 20, NEXT_DAY))
    check_in_at_kiosk(session, today, at(8, 55))

    check_in_at_kiosk(session, late_tonight, at(23, 20))
    check_in_at_kiosk(session, tomorrow, at(0, 10, NEXT_DAY))

    assert (today.ticket, late_tonight.ticket, tomorrow.ticket) == ("A001", "A002", "A001")
    assert next_ticket(session, now=at(8, 0, NEXT_DAY), tz=CHICAGO)[1] == "A002"


def test_a_patient_still_checking_in_holds_no_ticket_until_they_finish(
        session: Session) -> None:
    nine = make_appointment(session, start=at(9))
    started = start_at_kiosk(session, nine, at(8, 50))
    assert nine.ticket is None

    resumed = start_at_kiosk(session, nine, at(8, 52))
    done = checkin.complete(session, resumed.id, now=at(8, 53), tz=CHICAGO, rules=RULES)

    assert resumed.id == started.id
    assert (nine.ticket, done.ticket) == ("A001", "A001")
    assert next_ticket(session, now=at(8, 54), tz=CHICAGO)[1] == "A002"


def test_finishing_twice_keeps_the_first_ticket(session: Session) -> None:
    nine = make_appointment(session, start=at(9))
    started = check_in_at_kiosk(session, nine, at(8, 50))

    again = checkin.complete(session, started.id, now=at(8, 51), tz=CHICAGO, rules=RULES)

    assert (nine.ticket, again.ticket) == ("A001", "A001")


def test_walking_away_leaves_no_ticket_and_the_next_patient_gets_a001(session: Session) -> None:
    nine = make_appointment(session, start=at(9))
    ten = make_appointment(session, start=at(10))
    walked_away = start_at_kiosk(session, nine, at(8, 50))
    abandon(session, walked_away.id, at(8, 53), step="consent")
    check_in_at_kiosk(session, ten, at(9, 40))

    again = check_in_at_kiosk(session, nine, at(9, 41))

    assert again.id != walked_away.id
    assert (ten.ticket, nine.ticket) == ("A001", "A002")


def test_a_refused_check_in_gets_no_ticket(session: Session) -> None:
    cancelled = make_appointment(session, start=at(9), status=AppointmentStatus.CANCELLED)
    other_day = make_appointment(session, start=at(9, day=NEXT_DAY))

    for appointment in (cancelled, other_day):
        with pytest.raises(CannotCheckIn):
            check_in_at_kiosk(session, appointment, at(8, 50))

    assert (cancelled.ticket, other_day.ticket) == (None, None)
    assert checkin.next_ticket(session, now=at(8, 51), tz=CHICAGO)[1] == "A001"


def test_twenty_check_ins_finishing_at_once_get_twenty_different_tickets(engine: Engine) -> None:
    with session_scope(engine) as session:
        ids = [make_appointment(session, start=at(9, minute)).id for minute in range(20)]

    outcome = at_once(len(ids), lambda n: _check_in_alone(engine, ids[n], at(8, 45)))

    assert outcome.errors == []
    with Session(engine) as session:
        tickets = session.scalars(select(Appointment.ticket).where(Appointment.id.in_(ids))).all()
    assert sorted(tickets) == [f"A{n:03d}" for n in range(1, 21)]


def test_a_ticket_cannot_be_given_twice_on_one_day(session: Session) -> None:
    first, second = make_appointment(session, start=at(9)), make_appointment(session, start=at(10))
    first.ticket_day, first.ticket = DAY, "A007"
    session.flush()
    second.ticket_day, second.ticket = DAY, "A007"
    with pytest.raises(IntegrityError):
        session.flush()


def test_the_counter_starts_after_tickets_given_before_it_existed(session: Session) -> None:
    earlier = make_appointment(session, start=at(9), ticket="A001")
    later = make_appointment(session, start=at(10))
    check_in_at_kiosk(session, later, at(9, 50))
    assert (earlier.ticket, later.ticket) == ("A001", "A002")


def _check_in_alone(engine: Engine, appointment_id: int, now: datetime) -> None:
    """As the kiosk does: the start in one transaction, the done screen in another."""
    with session_scope(engine) as session:
        check_in_id = begin(session, appointment_id, channel=Channel.KIOSK, now=now, tz=CHICAGO,
                            rules=RULES, kiosk_id="kiosk-1").id
    with session_scope(engine) as session:
        checkin.complete(session, check_in_id, now=now, tz=CHICAGO, rules=RULES)
