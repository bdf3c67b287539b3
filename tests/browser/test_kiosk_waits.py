"""Screens that wait for a person, in a real browser (1024x768): "I need help" outlasts the
clinic's timeout until the desk has seen it, and the done screen keeps the ticket until the
next patient touches it.

Each test books its own patient (tests/browser/visits.py) and sets the shortest timeout a
clinic may choose, so "outlasts" is seen in well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.db import make_engine, session_scope
from shared.i18n import t
from shared.models import Appointment, AppointmentStatus, CheckIn, Flag, FlagKind, utcnow
from shared.services import clinic_settings, review
from tests.browser.conftest import click_and_wait, goto_app
from tests.browser.test_kiosk_flow import (
    _answer_questions,
    _button,
    _confirm_details_and_insurance,
    _find_by_name,
    _heading,
)
from tests.browser.visits import new_visit

pytestmark = pytest.mark.browser

SHORT_TIMEOUT_S = 30  # the shortest inactivity timeout a clinic may set
DEFAULT_TIMEOUT_S = 90
# Long enough past the timeout for the watch (every 5 s) to have acted had it been due.
OUTLAST_MS = (SHORT_TIMEOUT_S + 10) * 1000


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    with session_scope(engine) as session:
        clinic_settings.update(session, {"kiosk_timeout_seconds": SHORT_TIMEOUT_S},
                               staff_user_id=None)
    try:
        yield engine
    finally:
        with session_scope(engine) as session:
            clinic_settings.update(session, {"kiosk_timeout_seconds": DEFAULT_TIMEOUT_S},
                                   staff_user_id=None)
        engine.dispose()


def test_help_waits_for_the_desk_then_times_out_and_keeps_the_check_in(
        new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    page = new_page(1024, 768)
    goto_app(page, apps.kiosk_url)
    _find_by_name(page, visit.family, visit.birth)
    expect(_heading(page, f"Hello, {visit.given}")).to_be_visible()
    click_and_wait(page, _button(page, t("kiosk.need_help", "en")))
    expect(_heading(page, t("kiosk.help_title", "en"))).to_be_visible()
    waiting = page.get_by_text(t("kiosk.help_waiting", "en"))
    expect(waiting).to_be_visible()

    # The desk has not come: well past the clinic's timeout, the screen still waits.
    page.wait_for_timeout(OUTLAST_MS)
    expect(_heading(page, t("kiosk.help_title", "en"))).to_be_visible()
    expect(page.get_by_text(t("kiosk.still_there", "en"))).to_have_count(0)
    expect(waiting).to_be_visible()

    # A representative acknowledges on the dashboard: the screen says so by itself.
    with Session(db) as session:
        help_flag = session.scalars(select(Flag.id).where(
            Flag.kind == FlagKind.HELP_REQUEST,
            Flag.appointment_id == visit.appointment_id)).one()
    with session_scope(db) as session:
        review.acknowledge(session, help_flag, staff_user_id=None, now=utcnow())
    expect(page.get_by_text(t("kiosk.help_acknowledged", "en"))).to_be_visible(timeout=15_000)

    # Then the usual timeout, counted from the acknowledgement: "Are you still there?", the
    # start. The check-in stays for the representative to finish with the patient.
    expect(page.get_by_text(t("kiosk.still_there", "en"))).to_be_visible(
        timeout=(SHORT_TIMEOUT_S + 5) * 1000)
    expect(_heading(page, t("kiosk.title", "en"))).to_be_visible(
        timeout=(SHORT_TIMEOUT_S + 10) * 1000)
    with Session(db) as session:
        appointment = session.get(Appointment, visit.appointment_id)
        check_in = session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == visit.appointment_id)).one()
        left = session.scalars(select(Flag).where(
            Flag.appointment_id == visit.appointment_id, Flag.kind == FlagKind.LEFT_KIOSK)).all()
    assert appointment.status == AppointmentStatus.ARRIVED
    assert check_in.abandoned_at is None
    assert left == []


def test_the_ticket_stays_on_the_done_screen_until_the_next_patient_taps(
        new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz, signed=True)
    page = new_page(1024, 768)
    goto_app(page, apps.kiosk_url)
    _find_by_name(page, visit.family, visit.birth)
    expect(_heading(page, f"Hello, {visit.given}")).to_be_visible()
    _confirm_details_and_insurance(page)
    _answer_questions(page)
    expect(_heading(page, t("done.title", "en"))).to_be_visible()
    with Session(db) as session:
        ticket = session.get(Appointment, visit.appointment_id).ticket
    assert ticket is not None
    shown = page.locator(".kiosk-ticket")
    expect(shown).to_have_text(ticket)

    page.wait_for_timeout(OUTLAST_MS)
    expect(shown).to_have_text(ticket)
    expect(page.get_by_text(t("kiosk.still_there", "en"))).to_have_count(0)
    assert visit.family not in page.content()

    click_and_wait(page, _button(page, t("done.next_patient", "en")))
    expect(_heading(page, t("kiosk.title", "en"))).to_be_visible()
    expect(page.locator(".kiosk-ticket")).to_have_count(0)
