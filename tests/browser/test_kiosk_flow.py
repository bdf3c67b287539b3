"""A patient's check-in on the kiosk in a real browser: a QR code held up to the tablet's
camera, a code typed by a USB scanner, a consent form signed with a finger, and Spanish.

The camera is Chromium's fake capture device playing a Y4M video of a QR code, which the
kiosk's viewfinder decodes in the page as it would on the tablet.

The database is shared by the whole browser session: each test books its own patient for a
visit in a few minutes (tests/browser/visits.py) and looks only at that visit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.clinic_time import clinic_today
from shared.db import make_engine, session_scope
from shared.i18n import t
from shared.models import (
    Appointment,
    AppointmentStatus,
    CheckIn,
    ConsentSignature,
    SignerRelationship,
    utcnow,
)
from shared.services import consent, tokens
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
VIDEO_FRAMES = 10
QR_PX = 360
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


# --- A camera that sees a QR code -----------------------------------------------------------


def _qr_frame(text: str) -> Image.Image:
    """A white 640x480 frame with the QR code of `text` in the middle, ~360 px wide."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    code = code.resize((QR_PX, QR_PX), Image.Resampling.NEAREST)
    frame = Image.new("RGB", (VIDEO_W, VIDEO_H), "white")
    frame.paste(code, ((VIDEO_W - QR_PX) // 2, (VIDEO_H - QR_PX) // 2))
    return frame


def write_y4m(path: Path, frame: Image.Image, frames: int = VIDEO_FRAMES) -> Path:
    """A short 4:2:0 Y4M video showing `frame`, for --use-file-for-fake-video-capture."""
    width, height = frame.size
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (y.tobytes() + cb.resize(half, Image.Resampling.BILINEAR).tobytes()
              + cr.resize(half, Image.Resampling.BILINEAR).tobytes())
    assert len(planes) == width * height * 3 // 2
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)
    return path


@pytest.fixture
def camera_page(browser) -> Iterator[Callable[..., object]]:
    """A page in a Chromium of its own whose camera plays a Y4M file, camera allowed."""
    launched = []

    def _open(video: Path, width: int = 1024, height: int = 768):
        chromium = browser.browser_type.launch(
            executable_path=os.environ.get("CHECKIN_BROWSER", DEFAULT_BROWSER),
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        launched.append(chromium)
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            locale="en-US",
            timezone_id=CLINIC_TZ,
            reduced_motion="reduce",
            permissions=["camera"],
        )
        context.set_default_timeout(RUN_TIMEOUT_MS)
        page = context.new_page()
        track_runs(page)
        return page

    yield _open
    for chromium in launched:
        chromium.close()


# --- Driving the kiosk ----------------------------------------------------------------------


def _shot(page, name: str) -> None:
    """A viewport screenshot with the pointer moved off the page (no hover colours)."""
    page.mouse.move(0, 0)
    screenshot(page, name)


def _heading(page, name: str | re.Pattern[str]):
    return page.get_by_role("heading", name=name)


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (typing filters the list)."""
    box = page.locator("[data-testid='stSelectbox']").filter(
        has=page.get_by_text(label, exact=True)
    )
    field = box.get_by_role("combobox")
    field.click()
    field.press_sequentially(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(field).to_have_value(option)


def _enter_birth_date(page, birth: date, language: str = "en") -> None:
    """Typed in its one field, month first. Inside a form: nothing reruns yet."""
    page.get_by_role("textbox", name=t("kiosk.birth_date", language)).fill(
        birth.strftime("%m/%d/%Y"))


def _find_by_name(page, family: str, birth: date, *, shot: str | None = None,
                  language: str = "en") -> None:
    click_and_wait(page, _button(page, t("kiosk.start_name", language)))
    expect(_heading(page, t("kiosk.find_title", language))).to_be_visible()
    page.get_by_role("textbox", name=t("kiosk.family_name", language)).fill(family)
    _enter_birth_date(page, birth, language)
    if shot:
        _shot(page, shot)
    click_and_wait(page, _button(page, t("kiosk.find_button", language)))


def _confirm_details_and_insurance(page) -> None:
    click_and_wait(page, _button(page, "Continue"))
    expect(_heading(page, "Is this still right?")).to_be_visible()
    click_and_wait(page, _button(page, "Yes, this is right"))
    expect(_heading(page, "Your insurance")).to_be_visible()
    click_and_wait(page, _button(page, "Yes, I still have it"))


def calm_answers(form) -> None:
    """What a calm patient gives on one question screen: No, 2 for pain, a few words, the
    first choice."""
    for group in form.locator("[data-testid='stRadio']").all():
        options = group.locator("label[data-testid='stRadioOption']")
        no = options.filter(has_text=re.compile(r"^No$"))
        choice = no if no.count() else options.first
        choice.click()
        expect(choice.get_by_role("radio")).to_be_checked()
    pain = form.locator("[data-testid='stButtonGroup']").get_by_role("radio", name="2",
                                                                   exact=True)
    if pain.count():
        pain.click()
        expect(pain).to_have_attribute("aria-checked", "true")
    for field in form.locator("[data-testid='stTextInput'] input").all():
        field.fill("Yearly checkup")


def _answer_questions(page, *, shot: str | None = None) -> int:
    """A calm patient's answers: No to yes/no, 2 for pain, a few words, the first choice.
    Returns how many questions were asked."""
    progress = page.get_by_text(re.compile(r"^Question \d+ of \d+$"))
    asked = 0
    while progress.count():
        asked += 1
        where = progress.inner_text()
        assert where == f"Question {asked} of {where.rsplit(' ', 1)[-1]}", (
            f"stuck at {where!r}: {page.locator('[data-testid=stAlert]').all_inner_texts()}"
        )
        form = page.locator("[data-testid='stForm']")
        calm_answers(form)
        if shot and form.locator("[data-testid='stButtonGroup']").count():
            _shot(page, shot)  # the pain scale, answered
            shot = None
        click_and_wait(page, _button(page, "Next"))
    return asked


def _draw_signature(page) -> None:
    """A squiggle on the signature pad with the mouse, then wait for the rerun it sends."""
    pad = page.locator(".st-key-signature_pad")
    canvas = pad.locator("canvas.upper-canvas")
    if not canvas.count():
        canvas = pad.locator("canvas").last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 60
    left, top = box["x"] + 40, box["y"] + box["height"] / 2
    before = runs_finished(page)
    page.mouse.move(left, top)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(left + i * (box["width"] - 80) / 20,
                        top + (30 if i % 2 else -30), steps=2)
    page.mouse.up()
    wait_for_app_run(page, after=before)


# --- The visit's rows -----------------------------------------------------------------------


def _issue_code(engine: Engine, appointment_id: int, secret_key: str, tz) -> str:
    with session_scope(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        issued = tokens.issue_token(session, appointment, secret_key=secret_key, tz=tz,
                                    now=utcnow())
    return issued.token


def _status(engine: Engine, appointment_id: int) -> AppointmentStatus:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


# --- Tests ----------------------------------------------------------------------------------


def test_qr_code_through_the_camera_checks_the_patient_in(
    camera_page, apps, live_db, db, tmp_path
):
    visit = new_visit(db, live_db.tz, signed=True)
    code = _issue_code(db, visit.appointment_id, apps.secret_key, live_db.tz)
    link = tokens.checkin_link(apps.kiosk_url, code)
    video = write_y4m(tmp_path / "qr.y4m", _qr_frame(link))

    page = camera_page(video)
    goto_app(page, apps.kiosk_url)
    click_and_wait(page, _button(page, "Scan my code"))
    # No tap: the viewfinder reads the code and the birth-date step comes by itself.
    expect(_heading(page, "Please confirm it's you")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(APP_IDLE_JS, polling=POLL_MS)  # that run is over before typing
    _enter_birth_date(page, visit.birth)
    click_and_wait(page, _button(page, "Continue"))

    expect(_heading(page, f"Hello, {visit.given}")).to_be_visible()
    _shot(page, "kiosk-appointment.png")
    click_and_wait(page, _button(page, "Continue"))
    expect(_heading(page, "Is this still right?")).to_be_visible()
    _shot(page, "kiosk-details.png")
    click_and_wait(page, _button(page, "Yes, this is right"))
    expect(_heading(page, "Your insurance")).to_be_visible()
    click_and_wait(page, _button(page, "Yes, I still have it"))

    assert _answer_questions(page, shot="kiosk-question.png") >= 5
    # Every form is signed already: no consent step.
    expect(_heading(page, "You're checked in")).to_be_visible()
    _shot(page, "kiosk-done.png")

    assert _status(db, visit.appointment_id) == AppointmentStatus.CHECKED_IN
    with Session(db) as session:
        check_in = session.scalars(
            select(CheckIn).where(CheckIn.appointment_id == visit.appointment_id)
        ).one()
        assert check_in.completed_at is not None
        assert check_in.questions_completed_at is not None
        assert check_in.kiosk_id == "kiosk-1"


def test_code_typed_by_a_usb_scanner_asks_the_birth_date(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    code = _issue_code(db, visit.appointment_id, apps.secret_key, live_db.tz)
    page = new_page(1024, 768)
    goto_app(page, apps.kiosk_url)
    click_and_wait(page, _button(page, "Scan my code"))

    # A USB scanner is a keyboard: it types what its QR code holds (the link), then Enter.
    page.get_by_label("Code", exact=True).click()
    before = runs_finished(page)
    page.keyboard.type(tokens.checkin_link(apps.kiosk_url, code) + "\n")
    wait_for_app_run(page, after=before)

    expect(_heading(page, "Please confirm it's you")).to_be_visible()
    expect(page.get_by_role("textbox", name="Date of birth")).to_be_visible()
    assert code not in page.content()
    _enter_birth_date(page, visit.birth)
    click_and_wait(page, _button(page, "Continue"))
    expect(_heading(page, f"Hello, {visit.given}")).to_be_visible()


def test_consent_is_signed_with_a_finger(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz, signed=False)
    page = new_page(1024, 768)
    goto_app(page, apps.kiosk_url)
    _find_by_name(page, visit.family, visit.birth, shot="kiosk-find.png")
    expect(_heading(page, f"Hello, {visit.given}")).to_be_visible()
    _confirm_details_and_insurance(page)
    assert _answer_questions(page) >= 5

    with Session(db) as session:
        appointment = session.get(Appointment, visit.appointment_id)
        pending = consent.forms_to_sign(session, appointment, language="en", now=utcnow(),
                                        day=clinic_today(live_db.tz))
    assert len(pending) >= 2, "a patient who never signed should have several forms"
    empty = page.get_by_text("Please sign in the box with your finger.")
    signer = f"{visit.given} {visit.family}"
    for n, form in enumerate(pending):
        expect(_heading(page, form.title)).to_be_visible()
        sign = _button(page, "I agree and sign")
        if n == 0:
            # Nothing drawn yet: the kiosk asks for a signature and stores nothing.
            click_and_wait(page, sign)
            expect(empty).to_be_visible()
            with Session(db) as session:
                assert not session.scalars(select(ConsentSignature).where(
                    ConsentSignature.appointment_id == visit.appointment_id)).all()
        if n == 1:
            page.set_viewport_size({"width": 768, "height": 1024})
        # This form's own field (keyed by its version), not the last form's on its way out.
        name = page.locator(f".st-key-consent_name_{form.version_id}").get_by_role(
            "textbox", name="Your full name")
        name.fill(signer)
        before = runs_finished(page)
        name.press("Enter")
        wait_for_app_run(page, after=before)
        _draw_signature(page)
        expect(empty).to_have_count(0)
        if n == 0:
            _shot(page, "kiosk-consent.png")
        if n == 1:
            _shot(page, "kiosk-consent-portrait.png")
            page.set_viewport_size({"width": 1024, "height": 768})
        click_and_wait(page, sign)

    expect(_heading(page, "You're checked in")).to_be_visible()
    with Session(db) as session:
        signatures = session.scalars(
            select(ConsentSignature)
            .where(ConsentSignature.appointment_id == visit.appointment_id)
        ).all()
        check_in = session.scalars(
            select(CheckIn).where(CheckIn.appointment_id == visit.appointment_id)
        ).one()
        assert check_in.completed_at is not None
        assert check_in.consent_completed_at is not None
    assert sorted(s.form_version_id for s in signatures) == sorted(f.version_id for f in pending)
    for signature in signatures:
        assert signature.signer_name == signer
        assert signature.signer_relationship == SignerRelationship.SELF
        assert len(signature.text_sha256) == 64
        assert signature.signature_png.startswith(PNG_MAGIC)
        image = Image.open(BytesIO(signature.signature_png))
        image.load()
        assert image.size[0] >= 300 and image.size[1] >= 100
        assert image.convert("L").getextrema()[0] < 100, "no ink in the stored signature"
    assert _status(db, visit.appointment_id) == AppointmentStatus.CHECKED_IN


def test_spanish_find_by_name_and_not_found(new_page, apps, live_db):
    page = new_page(1024, 768)
    goto_app(page, apps.kiosk_url)
    click_and_wait(page, _button(page, "Español"))
    expect(_heading(page, "Registre su llegada a la cita")).to_be_visible()

    _find_by_name(page, "Inexistente", live_db.demo.birth_date, language="es")
    expect(_heading(page, "Busque su cita")).to_be_visible()
    expect(page.get_by_text("No encontramos una cita hoy con ese nombre y fecha de "
                            "nacimiento")).to_be_visible()
    expect(page.get_by_text("We could not find")).to_have_count(0)
