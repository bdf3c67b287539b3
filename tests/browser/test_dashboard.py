"""The front desk in a real browser: the live arrivals board, flags, the queue, the lobby
screen, and what a signed-out visitor sees.

The database is shared by the whole browser session, so each test books its own patients
(tests/browser/visits.py: a visit in a few minutes, on the session's clock), looks only at
them, and changes them through the services, as the kiosk would.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.db import make_engine, session_scope
from shared.demo import DEMO_PASSWORDS
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Patient,
    utcnow,
)
from shared.services import checkin, clinic_settings, details, flags
from shared.services.slips import format_time
from tests.browser.conftest import (
    APP_IDLE_JS,
    click_and_wait,
    goto_app,
    runs_finished,
    screenshot,
    wait_for_app_run,
)
from tests.browser.visits import new_visit

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
LOBBY_WIDTH, LOBBY_HEIGHT = 1920, 1080
LIVE_TIMEOUT_MS = 20_000  # the boards refresh every 5 s; allow a few refreshes
POLL_MS = 250
COUNTS = re.compile(r"(\d+) appointments today · (\d+) waiting · (\d+) done")
WAITING_LABELS = ("Checked in", "Arrived")

# The arrivals grid is drawn on a canvas; Glide keeps an accessible table of the rows in
# view. This finds the row whose MRN cell is `mrn` and returns its cells by column title,
# with how many rows are drawn, or null while the grid is not there yet.
GRID_ROW_JS = """
([mrn]) => {
  const grid = document.querySelector("[data-testid='stDataFrame']");
  if (!grid) return null;
  const cols = {};
  for (const th of grid.querySelectorAll("th[role='columnheader']")) {
    cols[th.textContent.trim()] = Number(th.getAttribute("aria-colindex")) - 1;
  }
  if (cols["MRN"] === undefined) return null;
  const mrnCells = [...grid.querySelectorAll(`td[data-testid^='glide-cell-${cols["MRN"]}-']`)];
  const cell = mrnCells.find((td) => td.textContent.trim() === mrn);
  if (!cell) return {rows: mrnCells.length, row: null};
  const row = cell.getAttribute("data-testid").split("-").pop();
  const out = {};
  for (const [title, col] of Object.entries(cols)) {
    const td = grid.querySelector(`td[data-testid='glide-cell-${col}-${row}']`);
    out[title] = td ? td.textContent.trim() : null;
  }
  return {rows: mrnCells.length, row: out};
}
"""

# Idle, and nothing greyed out as stale (a fragment mid-refresh fades its elements).
SETTLED_JS = f"""
() => ({APP_IDLE_JS})() && !document.querySelector("[data-stale='true']")
"""


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


# --- Data ---------------------------------------------------------------------------------


def _check_in(engine: Engine, tz, appointment_id: int) -> None:
    """What the kiosk does for a patient who finishes checking in."""
    with session_scope(engine) as session:
        rules = clinic_settings.load(session)
        started = checkin.begin(session, appointment_id, channel=Channel.KIOSK, now=utcnow(),
                                tz=tz, rules=rules, kiosk_id="lobby-1")
        checkin.complete(session, started.id, now=utcnow(), tz=tz, rules=rules)


def _shown_name(patient: Patient) -> str:
    return f"{patient.preferred_name or patient.legal_given_name} {patient.legal_family_name}"


def _all_names(engine: Engine) -> tuple[list[str], list[str]]:
    """Every patient's shown name and family name."""
    with Session(engine) as session:
        patients = session.scalars(select(Patient)).all()
        return [_shown_name(p) for p in patients], [p.legal_family_name for p in patients]


def _names_in(text: str, engine: Engine) -> list[str]:
    full, family = _all_names(engine)
    found = [n for n in full if n in text]
    found += [n for n in family if re.search(rf"\b{re.escape(n)}\b", text)]
    return sorted(set(found))


# --- Driving the dashboard ----------------------------------------------------------------

# Messages the server sent each page; the boards refresh on their own, so a screenshot is
# kept only if none arrived while it was taken.
_frames: weakref.WeakKeyDictionary[object, list[int]] = weakref.WeakKeyDictionary()


def _count_frames(page) -> None:
    """Call before the page's first goto."""
    counter = [0]
    _frames[page] = counter

    def on_frame(payload: bytes | str) -> None:
        counter[0] += 1

    def on_websocket(websocket) -> None:
        if websocket.url.split("?")[0].rstrip("/").endswith("/_stcore/stream"):
            websocket.on("framereceived", on_frame)

    page.on("websocket", on_websocket)


def _still_screenshot(page, name: str) -> None:
    """A screenshot of the page at rest: retaken if a refresh ran while it was taken."""
    for _ in range(5):
        page.wait_for_function(SETTLED_JS, polling=POLL_MS)
        seen = _frames[page][0]
        screenshot(page, name)
        if _frames[page][0] == seen and page.evaluate(SETTLED_JS):
            return
    pytest.fail(f"{name}: the page never stayed still long enough for a screenshot")


def _new_page(new_page, width: int = WIDTH, height: int = HEIGHT):
    page = new_page(width, height)
    _count_frames(page)
    return page



def _sign_in(page, username: str = "rep") -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS[username])
    click_and_wait(page, page.get_by_role("button", name="Sign in"))


def _open_signed_in(new_page, apps, path: str = "", heading: str = "Today's appointments",
                    username: str = "rep"):
    """Open a dashboard page by its URL, sign in there, and land on that page."""
    page = _new_page(new_page)
    goto_app(page, apps.dashboard_url + path)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _sign_in(page, username)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    return page


def _counts(page) -> tuple[int, int, int]:
    caption = page.get_by_text(COUNTS)
    expect(caption).to_be_visible()
    match = COUNTS.search(caption.inner_text())
    assert match is not None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _only_row(page, mrn: str) -> dict:
    """`mrn`'s row once the grid shows it and no other. The search's run can be over before
    the grid has drawn its result, and a visit booked a few minutes ahead is in view in the
    whole day's list too, so finding the row alone is not enough."""
    try:
        handle = page.wait_for_function(
            f"""(arg) => {{
                  const r = ({GRID_ROW_JS})(arg);
                  return r && r.row && r.rows === 1 ? r : null;
                }}""",
            arg=[mrn], polling=POLL_MS,
        )
    except PlaywrightTimeoutError:
        pytest.fail(f"the grid never showed {mrn} alone: {page.evaluate(GRID_ROW_JS, [mrn])}")
    return handle.json_value()


# --- Tests --------------------------------------------------------------------------------


def test_arrivals_board_shows_a_kiosk_check_in_without_reloading(new_page, apps, live_db, db):
    tz = live_db.tz
    visit = new_visit(db, tz)
    page = _open_signed_in(new_page, apps)
    total, waiting, done = _counts(page)

    # A filter set before the refresh: only this patient, by record number.
    search = page.get_by_role("textbox", name="Search: name, MRN or birth date")
    search.fill(visit.mrn)
    before = runs_finished(page)
    search.press("Enter")
    wait_for_app_run(page, after=before)
    shown = _only_row(page, visit.mrn)
    assert shown["row"]["Status"] == "Booked"
    assert shown["row"]["Patient"].endswith(visit.shown_name)
    runs_before_check_in = runs_finished(page)

    _check_in(db, tz, visit.appointment_id)

    # The board's fragment refreshes on its own: the count and the row change in place.
    expect(page.get_by_text(COUNTS)).to_have_text(
        f"{total} appointments today · {waiting + 1} waiting · {done} done",
        timeout=LIVE_TIMEOUT_MS,
    )
    handle = page.wait_for_function(
        f"""(arg) => {{
              const r = ({GRID_ROW_JS})(arg);
              return r && r.row && {list(WAITING_LABELS)!r}.includes(r.row["Status"]) ? r : null;
            }}""",
        arg=[visit.mrn], polling=POLL_MS, timeout=LIVE_TIMEOUT_MS,
    )
    shown = handle.json_value()
    assert shown["rows"] == 1, f"the search filter was lost in the refresh: {shown}"
    assert shown["row"]["Patient"].endswith(visit.shown_name)
    assert shown["row"]["Arrived"], shown
    assert re.fullmatch(r"\d+", shown["row"]["Waiting (min)"]), shown  # whole minutes
    expect(search).to_have_value(visit.mrn)
    assert runs_finished(page) == runs_before_check_in, "the whole page reran, not the board"


def test_accepting_a_phone_change_updates_the_record(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    with session_scope(db) as session:
        patient = session.get(Patient, visit.patient_id)
        assert patient is not None
        new_phone = next(p for p in ("+13125550177", "+13125550178")
                         if details.normalize_phone(patient.phone or "") != p)
        reported = replace(details.current_details(patient), phone=new_phone)
        (flag,) = details.report_changes(session, patient, reported,
                                         appointment_id=visit.appointment_id, now=utcnow(),
                                         kiosk_id="lobby-1")
        assert flag.kind == FlagKind.PHONE_CHANGE
        flag_id, patient_id = flag.id, patient.id
        old_phone = flag.old_value["phone"]
        name = _shown_name(patient)

    page = _open_signed_in(new_page, apps, "flags", heading="Flags to review")
    group = page.locator(f".st-key-flag_group_{patient_id}")
    expect(group.get_by_role("heading", name=name)).to_be_visible()
    expect(group.get_by_text("Phone changed")).to_be_visible()
    on_record = group.get_by_text("On record")
    reported_caption = group.get_by_text("Patient reports")
    # Shown the way the desk reads a number: (312) 555-0177.
    old = group.get_by_text(details.display_phone(old_phone), exact=True)
    new = group.get_by_text(details.display_phone(new_phone), exact=True)
    for locator in (on_record, reported_caption, old, new):
        expect(locator).to_be_visible()
    # Side by side: the record on the left, what the patient says on the right, level.
    old_box, new_box = old.bounding_box(), new.bounding_box()
    assert old_box and new_box
    assert old_box["x"] + old_box["width"] <= new_box["x"], (old_box, new_box)
    assert abs(old_box["y"] - new_box["y"]) < 8, (old_box, new_box)

    accept = page.locator(f".st-key-flag_{flag_id}_accept button")
    group.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    _still_screenshot(page, "dashboard-flags.png")

    click_and_wait(page, accept)
    expect(page.locator(f".st-key-flag_{flag_id}_accept")).to_have_count(0)
    with Session(db) as session:
        assert session.get(Patient, patient_id).phone == new_phone
        stored = session.get(Flag, flag_id)
        assert stored.status == FlagStatus.ACCEPTED
        assert stored.resolved_at is not None


def test_calling_a_patient_shows_their_ticket_in_the_waiting_room(
    new_page, apps, live_db, db
):
    tz = live_db.tz
    first, second = (new_visit(db, tz).appointment_id for _ in range(2))
    for appointment_id in (first, second):
        _check_in(db, tz, appointment_id)
    with Session(db) as session:
        appointment = session.get(Appointment, second)
        ticket = appointment.ticket
        name = _shown_name(appointment.patient)
    assert ticket and re.fullmatch(r"A\d{3}", ticket), ticket

    page = _open_signed_in(new_page, apps, "queue", heading="Queue")
    # The queue's own table, first on the page (another test may leave a late patient, and
    # with them the no-show list's table further down).
    table = page.locator("[data-testid='stDataFrame']").first
    expect(table).to_be_visible()
    # The grid's accessible copy is hidden from the accessibility tree: match it by CSS.
    expect(table.locator("th[role='columnheader']").filter(
        has_text=re.compile(r"^Why here$"))).to_have_count(1)

    box = page.locator(".st-key-queue_selected")
    expect(box.get_by_text("Select a patient in the list to act on them.")).to_be_visible()
    field = box.get_by_role("combobox")
    field.click()
    field.press_sequentially(ticket)
    page.get_by_role("option", name=f"{ticket} · {name}", exact=True).click()
    expect(page.get_by_text(f"Selected: {name} ({ticket})")).to_be_visible()

    room = page.locator(f".st-key-act_{second}_room input")
    room.fill("Room 3")
    room.press("Enter")
    expect(room).to_have_value("Room 3")
    call = page.locator(f".st-key-act_{second}_call button")
    call.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    _still_screenshot(page, "dashboard-queue.png")

    # The lobby screen, open before the call: no sign-in, and never a name.
    lobby = _new_page(new_page, LOBBY_WIDTH, LOBBY_HEIGHT)
    goto_app(lobby, apps.dashboard_url + "?display=waiting-room")
    expect(lobby.get_by_text("Now calling", exact=True)).to_be_visible()
    calling = lobby.locator("p.calling").filter(has_text=ticket)
    expect(calling).to_have_count(0)

    click_and_wait(page, call)
    called_at = time.monotonic()
    expect(page.get_by_text(f"{name} called to Room 3.", exact=True)).to_be_visible()
    expect(page.locator(".st-key-undo_last_action")).to_be_visible()
    with Session(db) as session:
        called = session.get(Appointment, second)
        assert called.room == "Room 3"
        assert called.called_at is not None
        assert session.get(Appointment, first).called_at is None

    # The lobby shows the call by itself, within its refresh (2 s; the board's is 5 s).
    expect(calling).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    shown_after = time.monotonic() - called_at
    # Reported, not asserted: speed is measured in benchmarks, never in timed tests.
    print(f"\nLOBBY: the call showed {shown_after:.1f} s after the desk's click returned")
    expect(calling).to_have_text(f"{ticket} → Room 3")  # typed "Room 3": no "Room Room 3"
    # Readable from across the room, the room as large as the ticket.
    size = calling.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    room_size = calling.locator("small").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 48 and room_size >= size, (size, room_size)
    expect(lobby.get_by_role("textbox")).to_have_count(0)
    text = lobby.locator("body").inner_text()
    assert not _names_in(text, db), f"names on the lobby screen: {_names_in(text, db)}"
    assert not _names_in(lobby.content(), db)
    lobby.mouse.move(0, 0)
    _still_screenshot(lobby, "waiting-room.png")


def test_help_request_alerts_the_desk_until_someone_is_on_it(new_page, apps, live_db, db):
    page = _open_signed_in(new_page, apps)
    runs_before = runs_finished(page)
    with session_scope(db) as session:
        flag_id = flags.request_help(session, kiosk_id="lobby-1", now=utcnow()).id

    strip = page.locator(".st-key-alert_strip")
    ack = page.locator(f".st-key-ack_{flag_id}")
    expect(ack).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert runs_finished(page) == runs_before, "the alert came by reloading the page"
    line = strip.locator("[data-testid='stHorizontalBlock']").filter(has=ack)
    expect(line).to_contain_text(re.compile(r"Needs help · patient not identified · lobby-1 · "))
    page.mouse.move(0, 0)
    _still_screenshot(page, "dashboard-alert.png")

    click_and_wait(page, ack.get_by_role("button", name="I'm on it"))
    expect(ack).to_have_count(0)
    # The line stays a few minutes, saying who took it.
    expect(strip.get_by_text(re.compile(r"Needs help · .*lobby-1 · .* · taken by Riley Rep at"))
           ).to_be_visible()
    with Session(db) as session:
        stored = session.get(Flag, flag_id)
        assert stored.acknowledged_at is not None
        assert stored.acknowledged_by_id is not None
        assert stored.status == FlagStatus.OPEN


def test_flags_page_signed_out_shows_only_the_sign_in_form(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)  # something to hide, whatever ran before
    with session_scope(db) as session:
        flags.request_help(session, kiosk_id="lobby-3", now=utcnow(),
                           patient_id=visit.patient_id)
    page = _new_page(new_page)
    goto_app(page, apps.dashboard_url + "flags")

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_role("heading", name="Flags to review")).to_have_count(0)
    expect(page.get_by_role("link", name="Queue")).to_have_count(0)
    text = page.locator("body").inner_text()
    assert not _names_in(text, db), f"names shown signed out: {_names_in(text, db)}"
    assert not _names_in(page.content(), db)
    assert visit.family not in page.content()
    assert "Help requested" not in text


VISIBLE_ROWS_JS = """
() => {
  const grid = document.querySelector("[data-testid='stDataFrame']");
  if (!grid) return null;
  const box = grid.getBoundingClientRect();
  const ids = [...grid.querySelectorAll("td[data-testid^='glide-cell-']")].map(
    (td) => td.getAttribute("data-testid").split("-").pop());
  const rows = new Set(ids).size;
  if (!rows) return null;  // the grid has not drawn its rows yet
  const rowPx = 30, headerPx = 30;
  const room = Math.min(box.bottom, window.innerHeight) - box.top - headerPx;
  return {rows, visible: Math.min(rows, Math.floor(room / rowPx)), top: box.top};
}
"""


def test_the_board_shows_twelve_rows_under_three_alerts_at_1366x768(
        new_page, apps, live_db, db):
    tz = live_db.tz
    with session_scope(db) as session:
        # Whatever earlier tests left on the strip was dealt with: exactly three alerts now.
        for flag in session.scalars(select(Flag).where(Flag.status == FlagStatus.OPEN)):
            flag.status = FlagStatus.ACCEPTED
    visits = [new_visit(db, tz) for _ in range(14)]
    with session_scope(db) as session:
        rules = clinic_settings.load(session)
        now = utcnow()
        walked = checkin.begin(session, visits[0].appointment_id, channel=Channel.KIOSK,
                               now=now, tz=tz, rules=rules, kiosk_id="lobby-1")
        checkin.abandon(session, walked.id, now, step="consent", kiosk_id="lobby-1")
        flags.request_help(session, kiosk_id="lobby-2", now=now, step="insurance",
                           patient_id=visits[1].patient_id,
                           appointment_id=visits[1].appointment_id)
        flags.raise_flag(session, kind=FlagKind.URGENT_ANSWER, severity=FlagSeverity.URGENT,
                         now=now, patient_id=visits[2].patient_id,
                         appointment_id=visits[2].appointment_id, kiosk_id="lobby-3",
                         new_value={"question": "chest_pain_or_breathing", "answer": True})
    page = _open_signed_in(new_page, apps)
    strip = page.locator(".st-key-alert_strip")
    expect(strip.locator("[data-testid='stAlertContainer']")).to_have_count(3)
    expect(strip).to_contain_text("Left the kiosk at consent")
    expect(strip).to_contain_text("Needs help · step: insurance")
    expect(strip).to_contain_text(re.compile(
        r"Urgent answer: Do you have chest pain or trouble breathing right now\? – Yes"))
    page.wait_for_function(SETTLED_JS, polling=POLL_MS)
    shown = page.wait_for_function(VISIBLE_ROWS_JS, polling=POLL_MS).json_value()
    print(f"\nBOARD at 1366x768 under three alerts: {shown}")
    assert shown["rows"] >= 12, shown
    assert shown["visible"] >= 12, f"only {shown['visible']} rows in view: {shown}"
    text = page.locator("[data-testid='stMain']").inner_text()
    assert not re.search(r"\b(None|False|True|nan|NaT)\b", text), text


def _search(page, text: str) -> None:
    search = page.get_by_role("textbox", name="Search: name, MRN or birth date")
    search.fill(text)
    before = runs_finished(page)
    search.press("Enter")
    wait_for_app_run(page, after=before)


def _pick(page, box_key: str, option: str) -> None:
    """Choose `option` in the selectbox keyed `box_key`, typing part of it as a person does."""
    field = page.locator(f".st-key-{box_key}").get_by_role("combobox")
    field.click()
    field.press_sequentially(option.split(" · ")[-1][:12])
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_function(SETTLED_JS, polling=POLL_MS)


def test_the_board_finds_a_patient_by_name_in_any_order_or_by_birth_date(
        new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    # A name of its own in the shared database, with an accent the search will ignore.
    suffix = "".join(chr(ord("a") + int(d)) for d in str(visit.appointment_id))
    family = f"Sánchez{suffix}"
    with session_scope(db) as session:
        patient = session.get(Patient, visit.patient_id)
        patient.legal_given_name, patient.legal_family_name = "Isabella", family
    visit = replace(visit, given="Isabella", family=family)
    page = _open_signed_in(new_page, apps)
    _search(page, f"SANCHEZ{suffix.upper()} isab")
    expect(page.get_by_text(COUNTS)).to_be_visible()
    handle = page.wait_for_function(
        f"(arg) => {{ const r = ({GRID_ROW_JS})(arg); return r && r.row ? r : null; }}",
        arg=[visit.mrn], polling=POLL_MS, timeout=LIVE_TIMEOUT_MS)
    assert handle.json_value()["row"]["Patient"].endswith(visit.shown_name)
    _search(page, visit.birth.strftime("%m/%d/%Y"))
    assert _only_row(page, visit.mrn)["row"]["Patient"].endswith(visit.shown_name)


def test_queue_actions_can_be_undone_and_no_show_asks_first_naming_the_patient(
        new_page, apps, live_db, db):
    tz = live_db.tz
    waiting = new_visit(db, tz)
    _check_in(db, tz, waiting.appointment_id)
    late = new_visit(db, tz, lead=-timedelta(minutes=40))
    with Session(db) as session:
        ticket = session.get(Appointment, waiting.appointment_id).ticket
    rep = _open_signed_in(new_page, apps, "queue", heading="Queue")
    manager = _open_signed_in(new_page, apps, "queue", heading="Queue", username="manager")
    option = f"{ticket} · {waiting.shown_name}"
    for page, room in ((rep, "Room 5"), (manager, "Room 6")):
        _pick(page, "queue_selected", option)
        field = page.locator(f".st-key-act_{waiting.appointment_id}_room input")
        field.fill(room)
        field.press("Enter")
        expect(field).to_have_value(room)

    # Two representatives call the same patient to different rooms: the second is told.
    click_and_wait(rep, rep.locator(f".st-key-act_{waiting.appointment_id}_call button"))
    expect(rep.get_by_text(f"{waiting.shown_name} called to Room 5.", exact=True)).to_be_visible()
    click_and_wait(manager, manager.locator(f".st-key-act_{waiting.appointment_id}_call button"))
    expect(manager.get_by_text(re.compile(
        r"^Riley Rep has already called this patient to Room 5\."))).to_be_visible()
    with Session(db) as session:
        assert session.get(Appointment, waiting.appointment_id).room == "Room 5"

    # Called by mistake: the message's Undo takes the call back.
    click_and_wait(rep, rep.locator(".st-key-undo_last_action button"))
    expect(rep.get_by_text(f"Undone: {waiting.shown_name} is back as before.", exact=True)
           ).to_be_visible()
    with Session(db) as session:
        called = session.get(Appointment, waiting.appointment_id)
        assert (called.room, called.called_at) == (None, None)

    # A no-show asks first, naming the patient, and can be undone.
    with Session(db) as session:
        start = session.get(Appointment, late.appointment_id).start
    _pick(rep, "noshow_selected", f"{format_time(start, tz)} · {late.shown_name}")
    click_and_wait(rep, rep.locator(f".st-key-noshow_{late.appointment_id} button"))
    expect(rep.get_by_text(f"Mark {late.shown_name} ({format_time(start, tz)}) as a no-show?",
                           exact=True)).to_be_visible()
    click_and_wait(rep, rep.locator(f".st-key-noshow_{late.appointment_id}_yes button"))
    expect(rep.get_by_text(f"{late.shown_name} marked as a no-show.", exact=True)).to_be_visible()
    with Session(db) as session:
        assert session.get(Appointment, late.appointment_id).status == AppointmentStatus.NOSHOW
    click_and_wait(rep, rep.locator(".st-key-undo_last_action button"))
    with Session(db) as session:
        assert session.get(Appointment, late.appointment_id).status == AppointmentStatus.BOOKED
