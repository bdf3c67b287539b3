"""The kiosk and the dashboard in a real browser, against a seeded database.

The database is shared by the whole browser session: a test that needs a visit books its own
(tests/browser/visits.py), and "today" is the session's clock (shared.clock), which the apps
read too, never the machine's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.clinic_time import clinic_today, day_bounds
from shared.db import make_engine
from shared.demo import DEMO_PASSWORDS
from shared.models import (
    Appointment,
    AppointmentStatus,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
)
from tests.browser.conftest import click_and_wait, goto_app, screenshot
from tests.browser.visits import new_visit

pytestmark = pytest.mark.browser

WELCOME_CHOICES = (
    "Scan my code",
    "Type my name and birth date",
    "I don't have an appointment",
    "I need help",
)
# Streamlit's chrome that must not show on a lobby tablet.
CHROME_SELECTORS = (
    "header[data-testid='stHeader']",
    "[data-testid='stToolbar']",
    "[data-testid='stMainMenu']",
    "#MainMenu",
    "[data-testid='stAppDeployButton']",
    "[data-testid='stStatusWidget']",
    "[data-testid='stDecoration']",
    "[data-testid='stSidebarCollapsedControl']",
)
MIN_TOUCH_PX = 48
COUNT_CAPTION = re.compile(r"(\d+) appointments today")
# Reads one cell of the arrivals grid, by column title and row number. Glide draws the grid
# on a canvas and keeps an accessible table inside it with only the rows in view, so this
# scrolls the row into view until it is drawn.
GRID_CELL_JS = """
([title, row, rows]) => {
  const grid = document.querySelector("[data-testid='stDataFrame']");
  const scroller = grid && grid.querySelector(".dvn-scroller");
  if (!scroller) return null;
  const header = [...grid.querySelectorAll("th[role='columnheader']")]
    .find((th) => th.textContent.trim() === title);
  if (!header) return null;
  const col = Number(header.getAttribute("aria-colindex")) - 1;
  const cell = grid.querySelector(`td[data-testid='glide-cell-${col}-${row}']`);
  if (cell) return cell.textContent;
  const top = (row / rows) * scroller.scrollHeight - scroller.clientHeight / 2;
  scroller.scrollTop = Math.max(0, top);
  return null;
}
"""


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


def _today_bounds(tz) -> tuple[datetime, datetime]:
    """Today's clinic day on the session's clock, as UTC instants."""
    return day_bounds(clinic_today(tz), tz)


def _sign_in(page, username: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    click_and_wait(page, page.get_by_role("button", name="Sign in"))


def _signed_in_dashboard(new_page, apps, width: int = 1366, height: int = 768):
    page = new_page(width, height)
    goto_app(page, apps.dashboard_url)
    _sign_in(page, "rep", DEMO_PASSWORDS["rep"])
    expect(page.get_by_role("heading", name="Today's appointments")).to_be_visible()
    return page


# --- Kiosk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "shot"),
    [(1024, 768, "kiosk-welcome.png"), (768, 1024, "kiosk-welcome-portrait.png")],
    ids=["landscape", "portrait"],
)
def test_kiosk_welcome(new_page, apps, width, height, shot):
    page = new_page(width, height)
    goto_app(page, apps.kiosk_url)

    expect(page.get_by_role("heading", name="Check in for your appointment")).to_be_visible()
    for label in WELCOME_CHOICES:
        expect(page.get_by_role("button", name=label, exact=True)).to_be_visible()

    for selector in CHROME_SELECTORS:
        for element in page.locator(selector).all():
            assert not element.is_visible(), f"Streamlit chrome is showing: {selector}"
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    expect(page.get_by_text("Deploy", exact=True)).to_have_count(0)

    visible = [b for b in page.locator("button").all() if b.is_visible()]
    assert len(visible) >= len(WELCOME_CHOICES) + 2  # the choices and the two languages
    for button in visible:
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= MIN_TOUCH_PX, (
            f"button {button.inner_text()!r} is {box['height']:.0f} px tall at {width}x{height}"
        )

    screenshot(page, shot)

    click_and_wait(page, page.get_by_role("button", name="Español", exact=True))
    expect(page.get_by_role("heading", name="Registre su llegada a la cita")).to_be_visible()
    expect(page.get_by_role("heading", name="Check in for your appointment")).to_have_count(0)


def test_kiosk_help_raises_flag_for_this_kiosk(new_page, apps, db):
    kiosk = f"lobby-tablet-{uuid.uuid4().hex[:8]}"  # no other test's flags are this kiosk's
    page = new_page(1024, 768)
    goto_app(page, f"{apps.kiosk_url}?kiosk={kiosk}")

    click_and_wait(page, page.get_by_role("button", name="I need help", exact=True))

    expect(page.get_by_role("heading", name="Someone is coming to help you")).to_be_visible()
    with Session(db) as session:
        flags = session.scalars(
            select(Flag).where(Flag.kind == FlagKind.HELP_REQUEST, Flag.kiosk_id == kiosk)
        ).all()
    assert len(flags) == 1
    assert flags[0].status == FlagStatus.OPEN
    assert flags[0].severity == FlagSeverity.URGENT
    assert flags[0].patient_id is None

    click_and_wait(page, page.get_by_role("button", name="Back to the start"))
    expect(page.get_by_role("heading", name="Check in for your appointment")).to_be_visible()


# --- Dashboard --------------------------------------------------------------------------


def test_dashboard_sign_in_then_arrivals(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    hidden = (visit.family, live_db.demo.patient_family_name)
    page = new_page(1366, 768)
    goto_app(page, apps.dashboard_url)

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    for name in hidden:
        assert name not in page.content()

    _sign_in(page, "rep", "not-the-password")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    expect(page.get_by_role("heading", name="Today's appointments")).to_have_count(0)
    for name in hidden:
        assert name not in page.content()

    _sign_in(page, "rep", DEMO_PASSWORDS["rep"])
    expect(page.get_by_role("heading", name="Today's appointments")).to_be_visible()
    expect(page.get_by_text(COUNT_CAPTION)).to_be_visible()
    grid = page.locator("[data-testid='stDataFrame']")
    expect(grid).to_be_visible()

    # Where this test's visit sits in today's time order, and the name the desk sees.
    start, end = _today_bounds(live_db.tz)
    with Session(db) as session:
        # Finished, no-show and cancelled visits are hidden unless asked for.
        ids = session.scalars(
            select(Appointment.id)
            .where(Appointment.start >= start, Appointment.start < end,
                   Appointment.status.not_in((AppointmentStatus.FULFILLED,
                                              AppointmentStatus.NOSHOW,
                                              AppointmentStatus.CANCELLED)))
            .order_by(Appointment.start, Appointment.id)
        ).all()
    assert visit.appointment_id in ids, "the visit booked a few minutes ahead is not today's"
    row = ids.index(visit.appointment_id)
    handle = page.wait_for_function(GRID_CELL_JS, arg=["Patient", row, len(ids)], polling=100)
    assert handle.json_value() == visit.shown_name

    grid.evaluate("el => el.querySelector('.dvn-scroller').scrollTop = 0")
    page.mouse.move(0, 0)
    screenshot(page, "dashboard-arrivals.png")


def test_dashboard_count_matches_database(new_page, apps, live_db, db):
    page = _signed_in_dashboard(new_page, apps)
    caption = page.get_by_text(COUNT_CAPTION)
    expect(caption).to_be_visible()
    match = COUNT_CAPTION.search(caption.inner_text())
    assert match is not None
    start, end = _today_bounds(live_db.tz)
    with Session(db) as session:
        seeded_today = session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.start >= start, Appointment.start < end)
        )
    assert seeded_today, "no appointments were seeded for today"
    assert int(match.group(1)) == seeded_today
