"""Checking in before you arrive (issue 16), in a real browser on the patient's own phone
(390x844 at 3x, touch, a mobile browser): the whole pre-check-in from the reminder's link
the day before, the kiosk's one question on the day, "I'm here" by scanning the waiting-room
screen's code with the phone's camera, and the phone telling the patient when it is their
turn.

The apps' clock is the session's and cannot be moved: "tomorrow" is a visit booked for
tomorrow, and "the next day" is a visit today whose pre-check-in was done yesterday
(tests/browser/precheck_visits.py). The cameras are Chromium's fake capture device playing a
Y4M video, in a Chromium of its own per page.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import tests.browser.test_kiosk_flow as flow
from shared.clinic_time import clinic_today
from shared.db import make_engine, session_scope
from shared.i18n import format_date, format_time, t
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    ConsentSignature,
    Document,
    Flag,
    FlagKind,
    FlagStatus,
    utcnow,
)
from shared.services import clinic_settings, consent, precheck, tokens
from shared.services.precheck import PrecheckState
from tests.browser.conftest import (
    CHROMIUM_ARGS,
    DEFAULT_BROWSER,
    PHONE_CONTEXT,
    RUN_TIMEOUT_MS,
    goto_app,
    runs_finished,
    screenshot,
    track_runs,
    wait_for_app_run,
)
from tests.browser.precheck_visits import (
    reminder_code,
    visit_prechecked_yesterday,
    visit_tomorrow,
)
from tests.browser.test_dashboard import GRID_ROW_JS, POLL_MS, _open_signed_in, _search
from tests.browser.test_kiosk_more import Taps
from tests.browser.visits import Visit

pytestmark = pytest.mark.browser

TABLET = (1024, 768)
LOBBY_SCREEN = (1920, 1080)
# The phone's page looks at its place in line every 5 s: allow a few looks.
LIVE_TIMEOUT_MS = 20_000
# The promise at the kiosk for a patient who checked in ahead.
KIOSK_TAPS_AFTER_BIRTH_DATE = 3
VIDEO_W, VIDEO_H = 640, 480
QR_PX = 360
VIEWFINDER = "iframe[src*='kiosk_scanner']"
NEW_PAYER = "Lakeshore Mutual Health"
NEW_MEMBER_ID = "LMH40417722"
NEW_GROUP_ID = "G5521"
JPEG_MAGIC = b"\xff\xd8\xff"


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


@pytest.fixture
def phone_camera(browser) -> Iterator[Callable[[Path], object]]:
    """A phone page in a Chromium of its own whose camera plays a Y4M file, camera allowed."""
    launched = []

    def _open(video: Path):
        chromium = browser.browser_type.launch(
            executable_path=os.environ.get("CHECKIN_BROWSER", DEFAULT_BROWSER),
            args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
                  "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={video}"])
        launched.append(chromium)
        context = chromium.new_context(**PHONE_CONTEXT, permissions=["camera"])
        context.set_default_timeout(RUN_TIMEOUT_MS)
        page = context.new_page()
        track_runs(page)
        return page

    yield _open
    for chromium in launched:
        chromium.close()


# --- A finger on the phone ------------------------------------------------------------------


@dataclass
class Finger:
    """Every touch the test makes on the phone goes through here, as a tap (touch events,
    not a mouse): one entry per tap. Typing is keystrokes, not taps."""

    page: object
    log: list[str] = field(default_factory=list)

    def tap(self, target, what: str) -> None:
        self.log.append(what)
        target.tap()

    def tap_and_wait(self, target, what: str) -> None:
        before = runs_finished(self.page)
        self.tap(target, what)
        wait_for_app_run(self.page, after=before)


def _heading(page, name: str | re.Pattern[str]):
    return page.get_by_role("heading", name=name)


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _shot(page, name: str) -> None:
    """A screenshot of the phone's screen (docs/screenshots/ under make screenshots)."""
    page.wait_for_function(
        "() => !document.querySelector(\"[data-stale='true']\")", polling=POLL_MS)
    screenshot(page, name)


def _open_link(finger: Finger, kiosk_url: str, code: str, visit: Visit) -> None:
    """The reminder's link opened on the phone, the birth date typed and confirmed."""
    page = finger.page
    goto_app(page, tokens.checkin_link(kiosk_url, code))
    expect(_heading(page, t("kiosk.verify_title"))).to_be_visible()
    birth = page.get_by_role("textbox", name=t("kiosk.birth_date"))
    finger.tap(birth, "birth date field")
    birth.press_sequentially(visit.birth.strftime("%m/%d/%Y"))
    finger.tap_and_wait(_button(page, t("kiosk.continue")), "birth date: Continue")


def _sign_with_a_finger(page) -> None:
    """A squiggle drawn on the signature pad with touch events (a finger, not a mouse), then
    the rerun the pad sends."""
    pad = page.locator(".st-key-signature_pad")
    canvas = pad.locator("canvas.upper-canvas")
    if not canvas.count():
        canvas = pad.locator("canvas").last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50, box
    left, middle = box["x"] + 20, box["y"] + box["height"] / 2
    step = (box["width"] - 40) / 24
    amplitude = box["height"] / 4
    cdp = page.context.new_cdp_session(page)
    before = runs_finished(page)
    try:
        cdp.send("Input.dispatchTouchEvent",
                 {"type": "touchStart", "touchPoints": [{"x": left, "y": middle}]})
        for i in range(1, 25):
            point = {"x": left + i * step, "y": middle + (amplitude if i % 2 else -amplitude)}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()
    wait_for_app_run(page, after=before)


# --- What the cameras see -------------------------------------------------------------------


def _card_jpeg(side: str) -> bytes:
    """A photo of an insurance card, as a phone's camera would save it (a JPEG)."""
    image = Image.new("RGB", (1200, 760), (246, 248, 252))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 1160, 720), outline=(11, 92, 173), width=12)
    lines = ((NEW_PAYER, f"Member {NEW_MEMBER_ID}", f"Group {NEW_GROUP_ID}") if side == "front"
             else ("Claims: PO Box 100, Exampleton IL", "Members: 1-800-555-0100"))
    for n, line in enumerate(lines):
        draw.text((90, 110 + n * 90), line, fill=(17, 24, 39))
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _frame(code_png: bytes | None) -> Image.Image:
    """A 640x480 frame of the phone's camera: the code (if any) ~360 px wide in the middle."""
    frame = Image.new("RGB", (VIDEO_W, VIDEO_H), "white")
    if code_png is not None:
        code = Image.open(BytesIO(code_png)).convert("RGB")
        code = code.resize((QR_PX, QR_PX), Image.Resampling.NEAREST)
        frame.paste(code, ((VIDEO_W - QR_PX) // 2, (VIDEO_H - QR_PX) // 2))
    return frame


def _lobby_screen_code(lobby, dashboard_url: str) -> tuple[bytes, str]:
    """The QR code the waiting-room screen shows (the image as the screen received it), and
    what it holds, read with ZXing."""
    image = lobby.get_by_role("img", name=t("display.lobby_code_alt"))
    expect(image).to_be_visible()
    expect(lobby.get_by_text(t("display.lobby_code"))).to_be_visible()
    lobby.wait_for_function("img => img.complete && img.naturalWidth > 0",
                            arg=image.element_handle(), polling=POLL_MS)
    src = image.get_attribute("src") or ""
    assert src.startswith("data:image/png;base64,"), src[:40]
    png = base64.b64decode(src.split(",", 1)[1])
    read = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
    assert len(read) == 1, f"the screen's image holds {len(read)} codes"
    return png, read[0].text


# --- The visit's rows -----------------------------------------------------------------------


def _appointment(engine: Engine, appointment_id: int) -> Appointment:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        session.expunge(appointment)
        return appointment


def _precheck_state(engine: Engine, appointment_id: int) -> PrecheckState:
    with Session(engine) as session:
        return precheck.states(session, [appointment_id])[appointment_id]


def _lobby_code_off(engine: Engine) -> None:
    """This clinic asks for the waiting-room code (the default): the phone must scan it."""
    with Session(engine) as session:
        assert not clinic_settings.load(session).arrive_without_lobby_code


def _all_set_title(start, tz) -> str:
    return t("precheck.done_title", date=format_date(start, "en", tz))


# --- Tests ----------------------------------------------------------------------------------


def test_a_whole_pre_check_in_on_the_phone_the_day_before_leaves_the_visit_booked_and_the_desk_sees_it(  # noqa: E501
    new_phone_page, new_page, apps, live_db, db
):
    tz = live_db.tz
    visit = visit_tomorrow(db, tz)
    # Another patient for tomorrow who never opened the link: the desk's call list has them.
    untouched = visit_tomorrow(db, tz)
    code = reminder_code(db, visit.appointment_id, apps.secret_key, tz)
    phone = new_phone_page()
    finger = Finger(phone)

    _open_link(finger, apps.kiosk_url, code, visit)
    expect(_heading(phone, f"Hello, {visit.given}")).to_be_visible()
    # Which day, and that it can wait half-done.
    expect(phone.get_by_text(t("precheck.lead", date=format_date(visit.start, "en", tz),
                               time=format_time(visit.start, "en", tz)))).to_be_visible()
    assert _precheck_state(db, visit.appointment_id) == PrecheckState.STARTED
    _shot(phone, "phone-appointment.png")
    # The visit, the directions and Continue fit the phone's screen, with no scrolling.
    box = _button(phone, t("kiosk.continue")).bounding_box()
    assert box is not None and box["y"] + box["height"] <= phone.viewport_size["height"], box
    finger.tap_and_wait(_button(phone, t("kiosk.continue")), "appointment: Continue")
    expect(_heading(phone, t("details.title"))).to_be_visible()
    finger.tap_and_wait(_button(phone, t("details.yes_right")), "details: Yes")

    # A new insurance card: what is on it, and a photo of each side.
    expect(_heading(phone, t("insurance.title"))).to_be_visible()
    finger.tap_and_wait(_button(phone, t("insurance.changed")), "insurance: changed")
    for name, value in ((t("insurance.payer"), NEW_PAYER),
                        (t("insurance.member_id"), NEW_MEMBER_ID),
                        (t("insurance.group_id"), NEW_GROUP_ID)):
        box = phone.get_by_role("textbox", name=name, exact=True)
        finger.tap(box, f"insurance: {name}")
        box.press_sequentially(value)
    # The card-photo buttons open the uploader's file input with capture="environment": on a
    # phone that is the camera app, which Chromium's fake camera (a video for getUserMedia)
    # does not stand in for. So the test answers the file chooser the button opens with a
    # generated JPEG, as the camera app would hand it back.
    for key, side, take in (("ins_front", "front", "insurance.photo_front"),
                            ("ins_back", "back", "insurance.photo_back")):
        with phone.expect_file_chooser() as chooser:
            finger.tap(phone.get_by_role("button", name=t(take), exact=True), f"photo {side}")
        assert chooser.value.element.get_attribute("capture") == "environment"
        chooser.value.set_files(files=[{"name": f"card-{side}.jpg", "mimeType": "image/jpeg",
                                        "buffer": _card_jpeg(side)}])
        expect(phone.locator(f"[data-kiosk-photo-status='{key}']")).to_have_text(
            "✓ " + t("insurance.photo_added"))
        # Uploaded (the file is listed by the hidden uploader) before the form is sent.
        expect(phone.locator(f".st-key-{key} [data-testid='stFileChipName']")
               ).to_have_text(f"card-{side}.jpg")
    phone.get_by_role("button", name=t("insurance.photo_back"), exact=True
                      ).scroll_into_view_if_needed()
    _shot(phone, "phone-insurance.png")
    finger.tap_and_wait(_button(phone, t("insurance.save")), "insurance: Save")
    expect(phone.locator("[data-testid='stAlertContentError']")).to_have_count(0)

    asked = flow._answer_questions(phone)
    assert asked >= 5

    # Consents, signed with a finger on the phone's screen.
    with Session(db) as session:
        appointment = session.get(Appointment, visit.appointment_id)
        pending = consent.forms_to_sign(session, appointment, language="en", now=utcnow(),
                                        day=clinic_today(tz))
    assert len(pending) >= 2, "a patient who never signed should have several forms"
    signer = f"{visit.given} {visit.family}"
    for n, form in enumerate(pending):
        expect(_heading(phone, form.title)).to_be_visible()
        name = phone.locator(f".st-key-consent_name_{form.version_id}").get_by_role(
            "textbox", name=t("consent.typed_name"))
        finger.tap(name, "consent: name")
        name.fill(signer)
        before = runs_finished(phone)
        name.press("Enter")
        wait_for_app_run(phone, after=before)
        _sign_with_a_finger(phone)
        expect(phone.get_by_text(t("consent.error_empty"))).to_have_count(0)
        if n == 0:
            _shot(phone, "phone-consent.png")
        finger.tap_and_wait(_button(phone, t("consent.sign_button")), "consent: sign")
        expect(phone.locator("[data-testid='stAlertContentError']")).to_have_count(0)

    title = _all_set_title(visit.start, tz)
    expect(_heading(phone, title)).to_be_visible()
    # Which forms were signed this time, in one line (each form's title, as the clinic wrote).
    lead = t("done.signed_list", titles="").rstrip(". ")  # "Signed this time:"
    signed = phone.get_by_text(re.compile("^" + re.escape(lead)))
    expect(signed).to_be_visible()
    assert signed.inner_text().count(",") >= 1, signed.inner_text()  # three forms signed
    # Tomorrow is not the day: no "At the clinic?" yet.
    expect(phone.get_by_text(t("phone.here_title"))).to_have_count(0)
    _shot(phone, "phone-all-set.png")
    print(f"\nPHONE AT HOME: {len(finger.log)} taps besides the {asked} questions: "
          + " | ".join(finger.log))

    # The visit is still booked, the pre-check-in done, and what changed is the desk's.
    assert _appointment(db, visit.appointment_id).status == AppointmentStatus.BOOKED
    assert _precheck_state(db, visit.appointment_id) == PrecheckState.DONE
    with Session(db) as session:
        [flag] = session.scalars(select(Flag).where(
            Flag.appointment_id == visit.appointment_id,
            Flag.kind == FlagKind.INSURANCE_CHANGE)).all()
        assert flag.status == FlagStatus.OPEN
        assert flag.kiosk_id == precheck.HOME_KIOSK_ID
        new = flag.new_value
        assert (new["payer"], new["member_id"], new["group_id"]) == (
            NEW_PAYER, NEW_MEMBER_ID, NEW_GROUP_ID)
        for side in ("card_front", "card_back"):
            document = session.get(Document, new[f"{side}_document_id"])
            assert document is not None and document.kind == side
            assert document.content.startswith(JPEG_MAGIC)
        signatures = session.scalars(select(ConsentSignature).where(
            ConsentSignature.appointment_id == visit.appointment_id)).all()
        assert sorted(s.form_version_id for s in signatures) == sorted(
            f.version_id for f in pending)
        for signature in signatures:
            assert signature.kiosk_id == precheck.HOME_KIOSK_ID
            assert signature.signer_name == signer
            assert signature.signature_png.startswith(flow.PNG_MAGIC)
            ink = Image.open(BytesIO(signature.signature_png)).convert("L").getextrema()[0]
            assert ink < 100, "no ink in the stored signature"

    # The desk, the same day: tomorrow's call list has the patient who did nothing, not this
    # one (done), and the flags page has the new card with its photos.
    desk = _open_signed_in(new_page, apps)
    toggle = desk.locator(".st-key-filter_precheck")
    before = runs_finished(desk)
    toggle.get_by_text(t("dash.filter_precheck"), exact=True).click()
    wait_for_app_run(desk, after=before)
    expect(toggle.get_by_role("switch")).to_be_checked()
    expect(desk.get_by_role("radio", name=t("dash.precheck_tomorrow"))).to_be_checked()
    _search(desk, untouched.mrn)
    summary = t("dash.precheck_calls_summary", date=format_date(untouched.start, tz=tz),
                count=1)
    expect(desk.get_by_text(summary, exact=True)).to_be_visible()
    row = desk.wait_for_function(
        f"(arg) => {{ const r = ({GRID_ROW_JS})(arg); return r && r.row ? r : null; }}",
        arg=[untouched.mrn], polling=POLL_MS).json_value()["row"]
    assert row["Pre-check"] == t("dash.precheck_not_opened"), row
    _search(desk, visit.mrn)
    expect(desk.get_by_text(summary.replace(" · 1 ", " · 0 "), exact=True)).to_be_visible()

    flags_page = _open_signed_in(new_page, apps, "flags", heading=t("dash.flags"))
    group = flags_page.locator(f".st-key-flag_group_{visit.patient_id}")
    expect(group.get_by_text(t("flag.insurance_change"))).to_be_visible()
    expect(group.get_by_text(NEW_PAYER, exact=True)).to_be_visible()
    expect(group.get_by_text(NEW_MEMBER_ID, exact=True)).to_be_visible()
    for side in ("card_front", "card_back"):
        expect(group.get_by_role("img", name=t(f"insurance.{side}"))).to_be_visible()


def test_the_next_day_the_kiosk_checks_in_a_pre_checked_patient_in_at_most_three_taps(
    new_page, apps, live_db, db, record_property
):
    tz = live_db.tz
    visit, done = visit_prechecked_yesterday(db, tz)

    # The desk's board says the pre-check-in is done.
    desk = _open_signed_in(new_page, apps)
    _search(desk, visit.mrn)
    row = desk.wait_for_function(
        f"(arg) => {{ const r = ({GRID_ROW_JS})(arg); return r && r.row ? r : null; }}",
        arg=[visit.mrn], polling=POLL_MS).json_value()["row"]
    assert row["Pre-check"] == t("dash.precheck_done"), row
    assert row["Status"] == t("status.booked"), row

    kiosk = new_page(*TABLET)
    taps = Taps(kiosk)
    goto_app(kiosk, apps.kiosk_url)
    taps.tap_and_wait(_button(kiosk, t("kiosk.start_name")), "welcome: by name")
    family = kiosk.get_by_role("textbox", name=t("kiosk.family_name"))
    taps.tap(family, "family name field")
    family.press_sequentially(visit.family)
    birth = kiosk.get_by_role("textbox", name=t("kiosk.birth_date"))
    taps.tap(birth, "birth date field")
    birth.press_sequentially(visit.birth.strftime("%m/%d/%Y"))
    typed_birth_date = len(taps.log)

    taps.tap_and_wait(_button(kiosk, t("kiosk.find_button")), "Find my appointment")
    expect(_heading(kiosk, t("kiosk.all_set_title"))).to_be_visible()
    expect(kiosk.get_by_text(t("kiosk.all_set_body", day=format_date(done, "en", tz)))
           ).to_be_visible()
    taps.tap_and_wait(_button(kiosk, t("kiosk.all_set_no")), "No, I'm here")

    expect(_heading(kiosk, t("done.title"))).to_be_visible()
    checked_in = _appointment(db, visit.appointment_id)
    assert checked_in.status == AppointmentStatus.CHECKED_IN
    assert checked_in.ticket and re.fullmatch(r"A\d{3}", checked_in.ticket)
    expect(kiosk.locator("p.kiosk-ticket")).to_have_text(checked_in.ticket)

    after = taps.log[typed_birth_date:]
    print(f"\nTAP COUNT (kiosk, pre-checked yesterday): {len(after)} after the birth date "
          f"({len(taps.log)} from the welcome screen): " + " | ".join(taps.log))
    record_property("kiosk_taps_after_birth_date", len(after))
    record_property("kiosk_taps", taps.log)
    assert len(after) <= KIOSK_TAPS_AFTER_BIRTH_DATE, after


def test_im_here_by_scanning_the_waiting_room_screen_with_the_phone(
    phone_camera, new_page, apps, live_db, db, tmp_path, record_property
):
    tz = live_db.tz
    _lobby_code_off(db)
    visit, _ = visit_prechecked_yesterday(db, tz)
    code = reminder_code(db, visit.appointment_id, apps.secret_key, tz)

    # The waiting-room screen, and the code it shows: the lobby's code of now.
    lobby = new_page(*LOBBY_SCREEN)
    goto_app(lobby, apps.dashboard_url + "?display=waiting-room")
    png, payload = _lobby_screen_code(lobby, apps.dashboard_url)
    now = utcnow()
    shown_lately = {precheck.lobby_code(apps.secret_key, now - timedelta(seconds=s))
                    for s in (0, precheck.LOBBY_PERIOD_S)}
    assert payload in shown_lately, payload
    assert precheck.lobby_code_valid(payload, apps.secret_key, now)

    # The phone's camera sees that screen's code.
    phone = phone_camera(flow.write_y4m(tmp_path / "lobby.y4m", _frame(png)))
    finger = Finger(phone)
    _open_link(finger, apps.kiosk_url, code, visit)
    expect(_heading(phone, _all_set_title(visit.start, tz))).to_be_visible()
    expect(phone.get_by_role("heading", name=t("phone.here_title"))).to_be_visible()
    _shot(phone, "phone-at-the-clinic.png")
    assert _appointment(db, visit.appointment_id).status == AppointmentStatus.BOOKED

    finger.tap(_button(phone, t("phone.scan_lobby")), "Scan the waiting-room code")
    # No tap from here: the viewfinder reads the code and the ticket comes by itself.
    expect(_heading(phone, t("phone.checked_in_title"))).to_be_visible(timeout=RUN_TIMEOUT_MS)
    checked_in = _appointment(db, visit.appointment_id)
    assert checked_in.status == AppointmentStatus.CHECKED_IN
    expect(phone.locator("p.kiosk-ticket")).to_have_text(checked_in.ticket)
    expect(phone.get_by_text(re.compile(r"^You are number \d+ in line\.$"))).to_be_visible()
    expect(phone.get_by_text(t("phone.we_will_tell_you"))).to_be_visible()
    with Session(db) as session:
        arrival = session.scalars(select(CheckIn).where(
            CheckIn.appointment_id == visit.appointment_id,
            CheckIn.channel == Channel.MOBILE)).one()
        assert arrival.completed_at is not None
        assert arrival.kiosk_id == precheck.PHONE_KIOSK_ID
    _shot(phone, "phone-ticket.png")

    print(f"\nTAP COUNT (phone on the day, lobby code): {len(finger.log)} from the link, "
          f"{len(finger.log) - 1} after the birth date: " + " | ".join(finger.log))
    record_property("phone_taps", finger.log)
    assert finger.log[-1] == "Scan the waiting-room code"


def test_the_lobby_scan_screen_checks_no_one_in_without_the_code_and_goes_back(
    phone_camera, apps, live_db, db, tmp_path
):
    tz = live_db.tz
    _lobby_code_off(db)
    visit, _ = visit_prechecked_yesterday(db, tz)
    code = reminder_code(db, visit.appointment_id, apps.secret_key, tz)
    # The camera sees a blank wall: no code.
    phone = phone_camera(flow.write_y4m(tmp_path / "blank.y4m", _frame(None)))
    finger = Finger(phone)
    _open_link(finger, apps.kiosk_url, code, visit)
    finger.tap_and_wait(_button(phone, t("phone.scan_lobby")), "Scan the waiting-room code")

    expect(_heading(phone, t("phone.lobby_scan_title"))).to_be_visible()
    viewfinder = phone.frame_locator(VIEWFINDER)
    expect(viewfinder.get_by_text(t("phone.lobby_frame_hint"), exact=True)).to_be_visible()
    expect(phone.get_by_text(t("phone.no_camera"))).to_be_visible()
    _shot(phone, "phone-lobby-scan.png")
    assert _appointment(db, visit.appointment_id).status == AppointmentStatus.BOOKED

    finger.tap_and_wait(_button(phone, t("kiosk.back")), "Back")
    expect(_heading(phone, _all_set_title(visit.start, tz))).to_be_visible()
    assert _appointment(db, visit.appointment_id).status == AppointmentStatus.BOOKED


def test_the_phone_says_its_your_turn_when_the_desk_calls_from_another_browser(
    new_phone_page, new_page, apps, live_db, db
):
    tz = live_db.tz
    visit, _ = visit_prechecked_yesterday(db, tz)
    code = reminder_code(db, visit.appointment_id, apps.secret_key, tz)
    # Checked in from the phone with the lobby's code (the scan itself is the test above).
    with session_scope(db) as session:
        precheck.im_here(session, visit.appointment_id, now=utcnow(), tz=tz,
                         rules=clinic_settings.load(session), secret_key=apps.secret_key,
                         code=precheck.lobby_code(apps.secret_key, utcnow()))
    ticket = _appointment(db, visit.appointment_id).ticket
    assert ticket

    # The link opened again that day goes straight to the place in line.
    phone = new_phone_page()
    _open_link(Finger(phone), apps.kiosk_url, code, visit)
    expect(_heading(phone, t("phone.checked_in_title"))).to_be_visible()
    expect(phone.locator("p.kiosk-ticket")).to_have_text(ticket)

    # A representative calls the patient to Room 3 from the queue page, in another browser.
    desk = _open_signed_in(new_page, apps, "queue", heading=t("queue.title"))
    picker = desk.locator(".st-key-queue_selected").get_by_role("combobox")
    picker.click()
    picker.press_sequentially(ticket)
    desk.get_by_role("option", name=f"{ticket} · {visit.shown_name}", exact=True).click()
    expect(desk.get_by_text(f"Selected: {visit.shown_name} ({ticket})")).to_be_visible()
    room = desk.locator(f".st-key-act_{visit.appointment_id}_room input")
    room.fill("Room 3")
    room.press("Enter")
    expect(room).to_have_value("Room 3")
    phone_runs = runs_finished(phone)
    call = desk.locator(f".st-key-act_{visit.appointment_id}_call button")
    before = runs_finished(desk)
    call.click()
    wait_for_app_run(desk, after=before)
    expect(desk.get_by_text(f"{visit.shown_name} called to Room 3.", exact=True)).to_be_visible()

    # The phone's page sees the call on its own next look: no tap, no reload.
    expect(_heading(phone, t("phone.your_turn", room="Room 3"))).to_be_visible(
        timeout=LIVE_TIMEOUT_MS)
    expect(phone.locator("p.kiosk-ticket")).to_have_text(ticket)
    expect(phone.get_by_text(t("phone.your_turn_body"))).to_be_visible()
    assert runs_finished(phone) == phone_runs, "the phone's page reloaded instead of updating"
    _shot(phone, "phone-your-turn.png")


def test_the_appointment_step_at_home_does_not_call_tomorrows_visit_today(
    new_phone_page, apps, live_db, db
):
    tz = live_db.tz
    visit = visit_tomorrow(db, tz)
    code = reminder_code(db, visit.appointment_id, apps.secret_key, tz)
    phone = new_phone_page()
    _open_link(Finger(phone), apps.kiosk_url, code, visit)
    expect(_heading(phone, f"Hello, {visit.given}")).to_be_visible()
    main = phone.locator("[data-testid='stMain']")
    expect(main).to_contain_text(format_time(visit.start, "en", tz))
    assert not re.search(r"\btoday\b", main.inner_text(), re.IGNORECASE), main.inner_text()
