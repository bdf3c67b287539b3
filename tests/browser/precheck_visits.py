"""Visits for the pre-check-in browser tests (issue 16): one booked for tomorrow, to prepare
at home, and one today whose pre-check-in was done yesterday.

The apps' clock runs on from one fixed instant for the whole session and cannot be moved, so
"the next day" is played the other way round: the visit is today and its pre-check-in is
dated yesterday, through the domain's own functions (precheck.begin and precheck.complete
with now=yesterday), as the phone would have left it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from shared.db import session_scope
from shared.models import Appointment, utcnow
from shared.services import precheck, tokens
from tests.browser.visits import Visit, new_visit

DAY = timedelta(days=1)


def visit_tomorrow(engine: Engine, tz: ZoneInfo, *, signed: bool = False) -> Visit:
    """A made-up patient (as tests/browser/visits.py makes them) booked for tomorrow, at
    about this time, with no pre-check-in yet."""
    visit = new_visit(engine, tz, signed=signed)
    with session_scope(engine) as session:
        appointment = session.get(Appointment, visit.appointment_id)
        appointment.start += DAY
        start = appointment.start
    return replace(visit, start=start)


def visit_prechecked_yesterday(engine: Engine, tz: ZoneInfo) -> tuple[Visit, datetime]:
    """A visit in a few minutes (inside the arrival window) whose patient finished the
    pre-check-in at home yesterday, every consent already signed; with when it was done."""
    visit = new_visit(engine, tz, signed=True)
    yesterday = utcnow() - DAY
    with session_scope(engine) as session:
        home = precheck.begin(session, visit.appointment_id, now=yesterday)
        precheck.complete(session, home.id, now=yesterday + timedelta(minutes=6))
        done = precheck.done_at(session, visit.appointment_id)
    assert done is not None
    return visit, done


def reminder_code(engine: Engine, appointment_id: int, secret_key: str, tz: ZoneInfo) -> str:
    """The code the reminder carries (its link is tokens.checkin_link(kiosk_url, code))."""
    with session_scope(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return tokens.issue_token(session, appointment, secret_key=secret_key, tz=tz,
                                  now=utcnow()).token
