"""The scan screen in a real browser: a live viewfinder that reads the reminder's QR code by
itself, a USB scanner that types the code with no field tapped, and a camera that is refused
or missing.

The camera is Chromium's fake capture device playing a Y4M video; the code is decoded in the
page (kiosk/scanner), so the test also checks that no picture is sent to the server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import Engine

from shared.db import make_engine, session_scope
from shared.i18n import t
from shared.models import utcnow
from shared.services import reminders, tokens
from tests.browser.conftest import (
    APP_IDLE_JS,
    CHROMIUM_ARGS,
    CLINIC_TZ,
    DEFAULT_BROWSER,
    POLL_MS,
    RUN_TIMEOUT_MS,
    click_and_wait,
    goto_app,
    runs_finished,
    screenshot,
    track_runs,
    wait_for_app_run,
)
from tests.browser.visits import new_visit

pytestmark = pytest.mark.browser

VIDEO_W, VIDEO_H = 640, 480
QR_PX = 360
# The largest websocket message the page may send while the camera runs: widget values and
# the code's text, never a picture (a 640x480 frame is hundreds of kilobytes).
MAX_SENT_BYTES = 8 * 1024
VIEWFINDER = "iframe[src*='kiosk_scanner']"


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


# --- What the camera sees -------------------------------------------------------------------


def _reminder_link(engine: Engine, appointment_id: int, apps, tz) -> tuple[str, bytes]:
    """A reminder printed for the visit, as the desk prints it: its link and its QR code."""
    with session_scope(engine) as session:
        batch = reminders.reminder_for_appointment(
            session, appointment_id, secret_key=apps.secret_key, tz=tz,
            kiosk_url=apps.kiosk_url.rstrip("/"), now=utcnow(), actor_type="staff",
            actor_id=None)
    reminder = batch.reminders[0]
    return reminder.link, reminder.qr_png()


def _paper(qr_png: bytes | None) -> Image.Image:
    """A 640x480 frame of a sheet of paper held up to the camera, with the QR code (if any)
    ~360 px wide in the middle."""
    frame = Image.new("RGB", (VIDEO_W, VIDEO_H), (236, 236, 232))
    if qr_png is not None:
        code = Image.open(BytesIO(qr_png)).convert("RGB")
        code = code.resize((QR_PX, QR_PX), Image.Resampling.NEAREST)
        frame.paste(code, ((VIDEO_W - QR_PX) // 2, (VIDEO_H - QR_PX) // 2))
    return frame


def _y4m(path: Path, frame: Image.Image, frames: int = 10) -> Path:
    """A short 4:2:0 Y4M video showing `frame`, for --use-file-for-fake-video-capture."""
    width, height = frame.size
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (y.tobytes() + cb.resize(half, Image.Resampling.BILINEAR).tobytes()
              + cr.resize(half, Image.Resampling.BILINEAR).tobytes())
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


@pytest.fixture
def camera_page(browser) -> Iterator[Callable[..., object]]:
    """A page in a Chromium of its own whose camera plays a Y4M file; the camera is allowed
    unless `allow_camera=False` (then the page's request is refused)."""
    launched = []

    def _open(video: Path, *, allow_camera: bool = True):
        args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}"]
        if allow_camera:
            args.append("--use-fake-ui-for-media-stream")
        chromium = browser.browser_type.launch(
            executable_path=os.environ.get("CHECKIN_BROWSER", DEFAULT_BROWSER), args=args)
        launched.append(chromium)
        context = chromium.new_context(
            viewport={"width": 1024, "height": 768}, locale="en-US", timezone_id=CLINIC_TZ,
            reduced_motion="reduce", permissions=["camera"] if allow_camera else [])
        context.set_default_timeout(RUN_TIMEOUT_MS)
        page = context.new_page()
        track_runs(page)
        return page

    yield _open
    for chromium in launched:
        chromium.close()


# --- Driving the kiosk ----------------------------------------------------------------------


def _heading(page, name: str):
    return page.get_by_role("heading", name=name)


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _open_scan(page, url: str, language: str = "en") -> None:
    goto_app(page, url)
    if language == "es":
        click_and_wait(page, _button(page, "Español"))
    click_and_wait(page, _button(page, t("kiosk.start_scan", language)))
    expect(_heading(page, t("kiosk.scan_title", language))).to_be_visible()


def _viewfinder_says(page, key: str, language: str = "en") -> None:
    viewfinder = page.frame_locator(VIEWFINDER)
    expect(viewfinder.get_by_text(t(key, language), exact=True)).to_be_visible(
        timeout=RUN_TIMEOUT_MS)


def _no_field_has_focus(page) -> None:
    tag = page.evaluate("() => document.activeElement ? document.activeElement.tagName : ''")
    assert tag not in ("INPUT", "TEXTAREA", "SELECT"), tag


def _scanner_types(page, text: str) -> None:
    """A USB scanner is a keyboard: it types what its QR code holds, then Enter, wherever
    the focus is. Then wait for the run the code causes."""
    _no_field_has_focus(page)
    before = runs_finished(page)
    page.keyboard.type(text + "\n")
    wait_for_app_run(page, after=before)


def _asks_birth_date(page, language: str = "en") -> None:
    """The birth-date step is on the screen and the run that drew it is over."""
    expect(_heading(page, t("kiosk.verify_title", language))).to_be_visible(
        timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(APP_IDLE_JS, polling=POLL_MS)
    expect(page.get_by_role("textbox", name=t("kiosk.birth_date", language))).to_be_visible()


def _shot(page, name: str) -> None:
    page.mouse.move(0, 0)
    screenshot(page, name)


def _count_sent_bytes(page) -> list[int]:
    sizes: list[int] = []

    def on_websocket(websocket) -> None:
        websocket.on("framesent", lambda payload: sizes.append(len(payload)))

    page.on("websocket", on_websocket)
    return sizes


# --- Tests ----------------------------------------------------------------------------------


def test_reminder_shown_to_the_camera_opens_the_birth_date_step_with_no_tap(
    camera_page, apps, live_db, db, tmp_path
):
    visit = new_visit(db, live_db.tz)
    link, qr_png = _reminder_link(db, visit.appointment_id, apps, live_db.tz)
    page = camera_page(_y4m(tmp_path / "reminder.y4m", _paper(qr_png)))
    sent = _count_sent_bytes(page)
    uploads = []
    page.on("request", lambda request: uploads.append(request.url)
            if request.method in ("POST", "PUT") else None)

    _open_scan(page, apps.kiosk_url)
    # Nothing is pressed from here: the viewfinder reads the code and the next screen comes.
    _asks_birth_date(page)

    assert sent and max(sent) < MAX_SENT_BYTES, f"a message of {max(sent)} bytes was sent"
    assert uploads == [], uploads
    assert tokens.extract_token(link) not in page.content()


def test_spanish_viewfinder_tells_where_to_hold_the_code_and_a_scanner_needs_no_tap(
    camera_page, apps, live_db, db, tmp_path
):
    visit = new_visit(db, live_db.tz)
    link, _ = _reminder_link(db, visit.appointment_id, apps, live_db.tz)
    page = camera_page(_y4m(tmp_path / "paper.y4m", _paper(None)))
    _open_scan(page, apps.kiosk_url, "es")
    _viewfinder_says(page, "kiosk.scan_frame_hint", "es")
    expect(page.locator(VIEWFINDER)).to_have_attribute("title", t("kiosk.scan_camera", "es"))
    expect(page.get_by_text(t("kiosk.scan_lead", "es"))).to_be_visible()
    for english in ("Take Photo", t("kiosk.scan_frame_hint", "en"), t("kiosk.scan_lead", "en")):
        expect(page.get_by_text(english)).to_have_count(0)
        expect(page.frame_locator(VIEWFINDER).get_by_text(english)).to_have_count(0)
    _shot(page, "kiosk-scan-es.png")

    _scanner_types(page, link)
    _asks_birth_date(page, "es")


def test_usb_scanner_types_the_code_with_no_field_tapped(
    camera_page, apps, live_db, db, tmp_path
):
    visit = new_visit(db, live_db.tz)
    link, _ = _reminder_link(db, visit.appointment_id, apps, live_db.tz)
    page = camera_page(_y4m(tmp_path / "paper.y4m", _paper(None)))
    _open_scan(page, apps.kiosk_url)
    _viewfinder_says(page, "kiosk.scan_frame_hint")
    _shot(page, "kiosk-scan.png")
    page.set_viewport_size({"width": 768, "height": 1024})
    _viewfinder_says(page, "kiosk.scan_frame_hint")
    _shot(page, "kiosk-scan-portrait.png")

    _scanner_types(page, link)
    _asks_birth_date(page)
    assert tokens.extract_token(link) not in page.content()


def test_camera_refused_says_so_and_the_scanner_still_needs_no_tap(
    camera_page, apps, live_db, db, tmp_path
):
    visit = new_visit(db, live_db.tz)
    link, qr_png = _reminder_link(db, visit.appointment_id, apps, live_db.tz)
    page = camera_page(_y4m(tmp_path / "reminder.y4m", _paper(qr_png)), allow_camera=False)
    _open_scan(page, apps.kiosk_url)
    _viewfinder_says(page, "kiosk.scan_camera_denied")
    expect(page.get_by_label(t("kiosk.scan_typed", "en"), exact=True)).to_be_visible()
    _shot(page, "kiosk-scan-no-camera.png")

    _scanner_types(page, link)
    _asks_birth_date(page)


def test_no_camera_says_so_and_the_code_can_be_typed(browser, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    link, _ = _reminder_link(db, visit.appointment_id, apps, live_db.tz)
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US",
                                  timezone_id=CLINIC_TZ, permissions=["camera"])
    try:
        context.set_default_timeout(RUN_TIMEOUT_MS)
        page = context.new_page()
        track_runs(page)
        _open_scan(page, apps.kiosk_url)
        _viewfinder_says(page, "kiosk.scan_camera_missing")

        field = page.get_by_label(t("kiosk.scan_typed", "en"), exact=True)
        field.fill(tokens.extract_token(link))
        before = runs_finished(page)
        field.press("Enter")
        wait_for_app_run(page, after=before)
        _asks_birth_date(page)
    finally:
        context.close()


def test_a_usb_scanner_works_on_the_welcome_screen_before_any_tap(
    new_page, apps, live_db, db
):
    visit = new_visit(db, live_db.tz)
    link, _ = _reminder_link(db, visit.appointment_id, apps, live_db.tz)
    page = new_page(1024, 768)
    goto_app(page, apps.kiosk_url)
    expect(_heading(page, t("kiosk.title", "en"))).to_be_visible()
    # The key catcher draws nothing and asks for no camera.
    expect(page.get_by_title(t("kiosk.scan_camera", "en"))).to_have_count(0)
    page.wait_for_function(APP_IDLE_JS, polling=POLL_MS)

    _scanner_types(page, link)
    _asks_birth_date(page)
