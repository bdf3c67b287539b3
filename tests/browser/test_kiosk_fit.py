"""Kiosk screens that fit the tablet and the phone they are used on, in a real browser.

On a 1024x768 landscape tablet every step's primary action is in view as the step opens, with
nothing scrolled; the details form opens the phone keypad for phone numbers and the number
pad for the ZIP code; card photos are taken with the kiosk's own buttons; on a 390 px phone
the signature pad fits the screen, and each consent form opens at its top.

Each test books its own patient (tests/browser/visits.py) and looks only at that visit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.db import make_engine
from shared.i18n import t
from shared.models import ConsentSignature, Document
from tests.browser import test_kiosk_flow as flow
from tests.browser.conftest import (
    CLINIC_TZ,
    RUN_TIMEOUT_MS,
    click_and_wait,
    goto_app,
    runs_finished,
    screenshot,
    track_runs,
    wait_for_app_run,
)
from tests.browser.visits import Visit, new_visit
from tests.factories import image_bytes

pytestmark = pytest.mark.browser

TABLET = (1024, 768)
PHONE = (390, 844)

# How far the page is scrolled, whichever element scrolls it.
SCROLLED_JS = """
() => Math.max(window.scrollY,
  ...["[data-testid='stMain']", "[data-testid='stAppViewContainer']"].map(
    (s) => (document.querySelector(s) || {scrollTop: 0}).scrollTop))
"""
SCROLL_TO_BOTTOM_JS = """
() => { const main = document.querySelector("[data-testid='stMain']");
        main.scrollTop = main.scrollHeight; return main.scrollTop; }
"""
NEXT_FRAME_JS = "() => new Promise((done) => requestAnimationFrame(() => done(true)))"
PAD_DRAWN_JS = """
() => { const host = document.querySelector(
          ".st-key-signature_pad [data-testid='stBidiComponentIsolated']");
        const canvas = host && host.shadowRoot && host.shadowRoot.querySelector("canvas");
        return !!canvas && canvas.getBoundingClientRect().width > 0; }
"""

OnScreen = Callable[[str, object], None]


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


@pytest.fixture
def phone_page(browser) -> Iterator[Callable[[], object]]:
    """A page as a 390 px phone shows it: touch, a mobile viewport, three device pixels."""
    contexts = []

    def _open():
        context = browser.new_context(
            viewport={"width": PHONE[0], "height": PHONE[1]}, device_scale_factor=3,
            is_mobile=True, has_touch=True, locale="en-US", timezone_id=CLINIC_TZ,
            reduced_motion="reduce")
        context.set_default_timeout(RUN_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        track_runs(page)
        return page

    yield _open
    for context in contexts:
        context.close()


# --- Walking the kiosk ----------------------------------------------------------------------


def _key(page, key: str):
    """The button of the widget with this key."""
    return page.locator(f".st-key-{key} button").first


def _submit(page):
    """The primary button of the step's form."""
    return page.locator("[data-testid='stFormSubmitButton'] button").first


def progress_pattern(language: str) -> re.Pattern[str]:
    template = re.escape(t("questions.progress", language, n="N", total="T"))
    return re.compile("^" + template.replace("N", r"\d+").replace("T", r"\d+") + "$")


def walk(page, visit: Visit, language: str, on_screen: OnScreen, *,
         signer: str | None = None) -> None:
    """A patient's whole check-in by name on the kiosk already open at its welcome screen:
    each screen is handed to `on_screen(name, primary_action)` as it opens, before anything
    on it is touched. The details and insurance forms are opened and left with Back."""
    if language != "en":
        click_and_wait(page, flow._button(page, "Español"))
    on_screen("welcome", _key(page, "btn_start_name"))
    click_and_wait(page, _key(page, "btn_start_name"))
    on_screen("find", _submit(page))
    page.get_by_role("textbox", name=t("kiosk.family_name", language)).fill(visit.family)
    flow._enter_birth_date(page, visit.birth, language)
    click_and_wait(page, _submit(page))

    on_screen("appointment", _key(page, "appointment_ok"))
    click_and_wait(page, _key(page, "appointment_ok"))
    on_screen("details", _key(page, "details_ok"))
    click_and_wait(page, _key(page, "details_edit"))
    on_screen("details_form", _submit(page))
    click_and_wait(page, _key(page, "details_cancel"))
    click_and_wait(page, _key(page, "details_ok"))

    on_screen("insurance", _key(page, "insurance_same"))
    click_and_wait(page, _key(page, "insurance_changed"))
    on_screen("insurance_form", _submit(page))
    click_and_wait(page, _key(page, "insurance_cancel"))
    click_and_wait(page, _key(page, "insurance_same"))

    progress = page.get_by_text(progress_pattern(language))
    asked = 0
    while progress.count():
        asked += 1
        on_screen(f"question-{asked}", _submit(page))
        flow.calm_answers(page.locator("[data-testid='stForm']"))
        click_and_wait(page, _submit(page))
        assert asked < 20, "the questions never ended"
    assert asked >= 5

    signed = 0
    while page.locator(".st-key-consent_sign").count():
        signed += 1
        on_screen(f"consent-{signed}", _key(page, "consent_sign"))
        name = page.locator("[class*='st-key-consent_name_'] input").first
        name.fill(signer or f"{visit.given} {visit.family}")
        before = runs_finished(page)
        name.press("Enter")
        wait_for_app_run(page, after=before)
        page.wait_for_function(PAD_DRAWN_JS)
        flow._draw_signature(page)
        click_and_wait(page, _key(page, "consent_sign"))
        expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
        assert signed < 6, "the consent forms never ended"
    assert signed >= 2, "a patient who never signed has several forms"

    expect(page.get_by_role("heading", name=t("done.title", language))).to_be_visible()
    on_screen("done", page.locator("[data-testid='stBaseButton-primary']").first)


def assert_in_view(page, target, what: str) -> None:
    """`target` lies wholly inside the viewport of the step as it opened: nothing scrolled."""
    expect(target).to_be_visible()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert page.evaluate(SCROLLED_JS) == 0, f"{what}: the page opened scrolled"
    box = target.bounding_box()
    assert box is not None, what
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{what}: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (
        f"{what}: the primary action is at {box['y']:.0f}-{box['y'] + box['height']:.0f} px, "
        f"below a {height} px screen")


# --- Tests ----------------------------------------------------------------------------------


def test_every_step_shows_its_primary_action_on_a_landscape_tablet(
    new_page, apps, live_db, db
):
    visit = new_visit(db, live_db.tz)
    page = new_page(*TABLET)
    goto_app(page, apps.kiosk_url)
    seen: list[str] = []
    pain_kept: list[str] = []

    def on_screen(name: str, primary) -> None:
        seen.append(name)
        assert_in_view(page, primary, name)
        if name == "welcome":
            for key in ("btn_start_scan", "btn_no_appointment", "btn_need_help"):
                assert_in_view(page, _key(page, key), f"welcome {key}")
        if name.startswith("consent"):
            # Everything the patient fills in to sign is in view too.
            assert_in_view(page, page.locator("[class*='st-key-consent_name_'] input").first,
                           f"{name}: the name")
            page.wait_for_function(PAD_DRAWN_JS)
            assert_in_view(page, page.locator(".st-key-signature_pad"), f"{name}: the pad")
        pain = page.locator("[data-testid='stButtonGroup']").get_by_role(
            "radio", name="3", exact=True)
        if name.startswith("question") and pain.count():
            # A score tapped a second time stays chosen.
            pain.click()
            expect(pain).to_have_attribute("aria-checked", "true")
            pain.click()
            page.evaluate(NEXT_FRAME_JS)  # React has drawn whatever the tap changed
            assert pain.get_attribute("aria-checked") == "true"
            pain_kept.append(name)
        if name in ("details", "details_form", "insurance_form", "consent-1", "question-2"):
            page.mouse.move(0, 0)
            screenshot(page, f"kiosk-fit-{name}.png")
            # The same screen on an upright tablet, to look at (not asserted).
            page.set_viewport_size({"width": TABLET[1], "height": TABLET[0]})
            page.evaluate(NEXT_FRAME_JS)
            screenshot(page, f"kiosk-fit-{name}-portrait.png")
            page.set_viewport_size({"width": TABLET[0], "height": TABLET[1]})
            page.evaluate(NEXT_FRAME_JS)

    walk(page, visit, "en", on_screen)
    assert pain_kept, "no pain scale was asked"
    assert seen[:8] == ["welcome", "find", "appointment", "details", "details_form",
                        "insurance", "insurance_form", "question-1"]


def test_details_fields_open_the_right_keyboard(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    page = new_page(*TABLET)
    goto_app(page, apps.kiosk_url)
    flow._find_by_name(page, visit.family, visit.birth)
    click_and_wait(page, _key(page, "appointment_ok"))
    click_and_wait(page, _key(page, "details_edit"))

    for key in ("details_phone", "details_emergency_phone"):
        field = page.locator(f".st-key-{key} input")
        expect(field).to_have_attribute("type", "tel")
        expect(field).to_have_attribute("inputmode", "tel")
    zip_code = page.locator(".st-key-details_postal_code input")
    expect(zip_code).to_have_attribute("inputmode", "numeric")
    expect(zip_code).to_have_attribute("autocomplete", "postal-code")
    # Filled in with what is on file: only what changed is typed.
    expect(page.locator(".st-key-details_address_line input")).to_have_value("12 Lantern Ln")
    expect(zip_code).to_have_value("60990")
    # A phone keypad types the number; saving it works as before.
    phone = page.locator(".st-key-details_phone input")
    phone.fill("312 555 0177")
    click_and_wait(page, _submit(page))
    expect(page.get_by_role("heading", name=t("insurance.title"))).to_be_visible()


def test_card_photos_are_taken_with_the_kiosks_own_buttons(
    new_page, apps, live_db, db, tmp_path: Path
):
    visit = new_visit(db, live_db.tz)
    front, back = tmp_path / "front.png", tmp_path / "back.png"
    front.write_bytes(image_bytes())
    back.write_bytes(image_bytes())
    page = new_page(*TABLET)
    goto_app(page, apps.kiosk_url)
    flow._find_by_name(page, visit.family, visit.birth)
    click_and_wait(page, _key(page, "appointment_ok"))
    click_and_wait(page, _key(page, "details_ok"))
    click_and_wait(page, _key(page, "insurance_changed"))

    take_front = page.get_by_role("button", name=t("insurance.photo_front"), exact=True)
    choose = page.get_by_role("button", name=t("insurance.photo_choose"), exact=True)
    assert_in_view(page, take_front, "take a photo")
    expect(choose).to_have_count(2)
    # Streamlit's own English words are nowhere to be seen.
    for english in ("Drag and drop", "Browse files", "Upload", "200MB"):
        expect(page.get_by_text(english).filter(visible=True)).to_have_count(0)

    # "Take a photo" opens the camera (capture); "Choose a saved photo" the photo picker.
    with page.expect_file_chooser() as chooser:
        take_front.click()
    assert chooser.value.element.get_attribute("capture") == "environment"
    chooser.value.set_files(str(front))
    added = page.locator("[data-kiosk-photo-status='ins_front']")
    expect(added).to_have_text("✓ " + t("insurance.photo_added"))
    with page.expect_file_chooser() as chooser:
        choose.last.click()
    assert chooser.value.element.get_attribute("capture") is None
    chooser.value.set_files(str(back))
    expect(page.locator("[data-kiosk-photo-status='ins_back']")).to_have_text(
        "✓ " + t("insurance.photo_added"))

    # A mistake is said under the form, and Back is still there.
    click_and_wait(page, _submit(page))
    expect(page.get_by_text(t("insurance.error_payer"))).to_be_visible()
    expect(_key(page, "insurance_cancel")).to_be_visible()
    expect(added).to_have_text("✓ " + t("insurance.photo_added"))

    page.get_by_role("textbox", name=t("insurance.payer")).fill("Lakeshore Mutual")
    page.get_by_role("textbox", name=t("insurance.member_id")).fill("LKM20931177")
    click_and_wait(page, _submit(page))
    expect(page.get_by_text(progress_pattern("en"))).to_be_visible()
    with Session(db) as session:
        photos = session.scalars(select(Document).where(
            Document.patient_id == visit.patient_id)).all()
    assert len(photos) == 2


def test_on_a_phone_the_signature_pad_fits_and_each_form_opens_at_its_top(
    phone_page, apps, live_db, db
):
    visit = new_visit(db, live_db.tz)
    page = phone_page()
    goto_app(page, apps.kiosk_url)
    forms_opened_at_top: list[bool] = []

    def on_screen(name: str, primary) -> None:
        if not name.startswith("consent"):
            return
        expect(page.get_by_role("heading", level=1).first).to_be_in_viewport()
        forms_opened_at_top.append(page.evaluate(SCROLLED_JS) == 0)
        page.wait_for_function(PAD_DRAWN_JS)
        pad = page.locator(".st-key-signature_pad")
        box = pad.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]
        width = page.evaluate("""() => document.querySelector(
            ".st-key-signature_pad [data-testid='stBidiComponentIsolated']")
            .shadowRoot.querySelector("canvas.upper-canvas").getBoundingClientRect().width""")
        assert 300 <= width <= PHONE[0], width
        if name == "consent-1":
            screenshot(page, "kiosk-fit-consent-phone.png")
            # The patient scrolls down to sign: the next form must not open down there.
            primary.scroll_into_view_if_needed()
            assert page.evaluate(SCROLLED_JS) > 0

    walk(page, visit, "en", on_screen)
    assert len(forms_opened_at_top) >= 2 and all(forms_opened_at_top), forms_opened_at_top
    with Session(db) as session:
        signatures = session.scalars(select(ConsentSignature).where(
            ConsentSignature.appointment_id == visit.appointment_id)).all()
    assert len(signatures) == len(forms_opened_at_top)
    for signature in signatures:
        assert signature.signature_png.startswith(flow.PNG_MAGIC)
