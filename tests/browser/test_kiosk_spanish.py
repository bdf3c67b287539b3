"""Every kiosk screen in Spanish, in a real browser, with no English left: neither Streamlit's
own labels (the uploader's "Drag and drop", the camera's "Take Photo", ...) nor a word of the
English catalog, nor a provider or location name a manager has translated. And a parent
checking in a child is spoken to as the parent.

The live scan screen is left out of the walk (it is another part's). Each test books its own
patient (tests/browser/visits.py) and looks only at that visit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from shared.db import make_engine, session_scope
from shared.i18n import LANGUAGES, t
from shared.models import Appointment
from tests.browser import test_kiosk_flow as flow
from tests.browser.conftest import click_and_wait, goto_app, screenshot
from tests.browser.test_kiosk_fit import NEXT_FRAME_JS, TABLET, progress_pattern, walk
from tests.browser.visits import Visit, new_visit
from tests.factories import make_location, make_provider

pytestmark = pytest.mark.browser

# Words Streamlit and the components it draws write by themselves, in English.
STREAMLIT_LABELS = (
    "Drag and drop", "Browse files", "Upload", "200MB", "per file", "Take Photo",
    "Clear photo", "Switch camera", "Press Enter", "Choose an option", "No results",
    "Remove", "Add files", "file upload", "Undo", "Redo", "Update the app", "Running",
    "Made with Streamlit", "Stop", "Deploy", "Rerun", "Select all", "Close", "Show password",
    "Hide password", "Clear value", "Fullscreen", "Download", "Help", "Clear", "Submit",
)
ROOT = Path(__file__).resolve().parents[2]

# Every visible text node and every label a screen reader reads (aria-label, title,
# placeholder, alt) of visible elements, in the page and in components' shadow roots.
SHOWN_TEXT_JS = """
() => {
  const out = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) visit(el.shadowRoot);
      if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
      // An icon's ligature ("help") is drawn as a picture and hidden from screen readers.
      if (el.closest("[aria-hidden='true']")) continue;
      for (const name of ["aria-label", "title", "placeholder", "alt"]) {
        const value = el.getAttribute(name);
        if (value) out.push(value);
      }
      for (const node of el.childNodes) {
        if (node.nodeType === Node.TEXT_NODE && node.textContent.trim()) {
          out.push(node.textContent);
        }
      }
    }
  };
  visit(document.body);
  return out;
}
"""


def _messages(lang: str) -> dict[str, str]:
    """Every message of a catalog: the dict catalogs, or the gettext file once they move."""
    try:
        from shared.i18n import CATALOGS

        return dict(CATALOGS[lang])
    except (ImportError, KeyError):
        from babel.messages.pofile import read_po

        path = ROOT / "shared" / "i18n" / "locales" / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def _words(text: str) -> set[str]:
    text = re.sub(r"\{[^}]*\}", " ", text)  # placeholders are not words a patient reads
    return {w for w in re.findall(r"[^\W\d_]+", text.lower()) if len(w) >= 4}


def english_only_words() -> set[str]:
    """Words of the English catalog that no Spanish message uses: on a Spanish screen, each
    one is a message (or part of one) left in English."""
    spanish = set().union(*(_words(m) for m in _messages("es").values()))
    english = set().union(*(_words(m) for m in _messages("en").values()))
    return english - spanish


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


def _with_spanish_names(engine: Engine, visit: Visit) -> tuple[str, str]:
    """Moves the visit to a provider and a location that have Spanish names; returns the
    English ones."""
    suffix = uuid.uuid4().hex[:6]
    with session_scope(engine) as session:
        provider = make_provider(session, display_name=f"Dr. Imani Okafor {suffix}",
                                 display_name_es=f"Dra. Imani Okafor {suffix}")
        location = make_location(session, name=f"Family Medicine Wing {suffix}",
                                 department="Family Medicine",
                                 name_es=f"Medicina familiar, ala {suffix}")
        appointment = session.get(Appointment, visit.appointment_id)
        appointment.provider, appointment.location = provider, location
        session.flush()
        return provider.display_name, location.label


def english_on_screen(page, allowed: tuple[str, ...]) -> list[str]:
    """The English found on the page: Streamlit's labels and the English catalog's words,
    after what the patient's record holds (`allowed`) is taken out."""
    shown = "\n".join(page.evaluate(SHOWN_TEXT_JS))
    for value in sorted(allowed, key=len, reverse=True):
        shown = shown.replace(value, " ")
    found = [label for label in STREAMLIT_LABELS
             if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", shown)]
    found += sorted(_words(shown) & english_only_words())
    return found


def test_every_kiosk_screen_in_spanish_has_no_english(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz)
    provider_en, location_en = _with_spanish_names(db, visit)
    # The patient's own record and what they type may be in any language.
    allowed = (visit.given, visit.family, "12 Lantern Ln", "Exampleton", "Tom Quill",
               "harriet.quill@example.org", "Prairie Health Plan", *LANGUAGES.values())
    page = new_page(*TABLET)
    goto_app(page, apps.kiosk_url)
    english: dict[str, list[str]] = {}
    screens: list[str] = []

    def on_screen(name: str, primary) -> None:
        screens.append(name)
        expect(primary).to_be_visible()
        if name == "appointment":
            expect(page.get_by_text(re.compile("Dra. Imani Okafor"))).to_be_visible()
            expect(page.get_by_text(re.compile("Medicina familiar, ala"))).to_be_visible()
            assert provider_en not in page.content() and location_en not in page.content()
        if name == "insurance_form":
            expect(page.get_by_role("button", name=t("insurance.photo_front", "es"),
                                    exact=True)).to_be_visible()
            screenshot(page, "kiosk-es-insurance-form.png")
        if name.startswith("consent-"):
            # The pad has drawn itself and the kiosk has fitted it (its toolbar hidden).
            page.wait_for_function("""() => !!document.querySelector(
                ".st-key-signature_pad [data-testid='stBidiComponentIsolated']")
                ?.shadowRoot?.querySelector("style[data-kiosk-fit]")""")
        # The page's title, language and spoken step are this screen's, in Spanish (the
        # announcement comes a moment after the screen: kiosk/a11y.py).
        page.wait_for_function("() => window.__kioskA11y && window.__kioskA11y.said === 'es'"
                               " && document.documentElement.lang === 'es'")
        # The kiosk's script tidies what a run drew on the next frame or two.
        page.evaluate(NEXT_FRAME_JS)
        page.evaluate(NEXT_FRAME_JS)
        found = english_on_screen(page, allowed)
        if found:
            english[name] = found

    walk(page, visit, "es", on_screen)
    assert screens[:3] == ["welcome", "find", "appointment"] and screens[-1] == "done"
    assert {"details_form", "insurance_form", "question-1", "consent-1"} <= set(screens)
    assert not english, f"English on Spanish screens: {english}"


def test_the_english_word_list_catches_english(new_page, apps):
    """The check itself: the English welcome screen is full of words it flags."""
    page = new_page(*TABLET)
    goto_app(page, apps.kiosk_url)
    found = english_on_screen(page, tuple(LANGUAGES.values()))
    assert {"appointment", "welcome"} <= set(found), found


def test_a_parent_checking_in_a_child_is_spoken_to_as_the_parent(new_page, apps, live_db, db):
    visit = new_visit(db, live_db.tz, minor=True)
    page = new_page(*TABLET)
    goto_app(page, apps.kiosk_url)
    flow._find_by_name(page, visit.family, visit.birth)

    expect(flow._heading(page, f"Checking in {visit.given}")).to_be_visible()
    expect(page.get_by_text(f"{visit.given}'s appointment is today at")).to_be_visible()
    expect(flow._heading(page, f"Hello, {visit.given}")).to_have_count(0)
    expect(flow._button(page, f"This is not {visit.given}'s appointment")).to_be_visible()
    screenshot(page, "kiosk-parent-appointment.png")
    flow._confirm_details_and_insurance(page)
    progress = page.get_by_text(progress_pattern("en"))
    while progress.count():
        flow.calm_answers(page.locator("[data-testid='stForm']"))
        click_and_wait(page, page.locator("[data-testid='stFormSubmitButton'] button").first)

    relationship = page.locator("[class*='st-key-consent_rel_'] [data-testid='stRadio']").first
    expect(relationship.get_by_text(f"Your relationship to {visit.given}",
                                    exact=True)).to_be_visible()
    expect(page.get_by_text("I am the patient")).to_have_count(0)
    expect(page.get_by_text(t("consent.minor_note"))).to_be_visible()
