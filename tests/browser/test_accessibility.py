"""Accessibility in a real browser: every kiosk step in English and Spanish, and every
dashboard page, checked with axe-core (axe-playwright-python bundles it: no network) for
critical and serious violations, and on the kiosk what axe cannot see: each step's page
title in the patient's language, one h1, `<html lang>`, focus on the heading after a step
changes, the polite live region naming the step, and touch targets of at least 48x48 px.

Each walk collects every problem it meets and fails once at the end with the whole list
(rule ids and the elements they were found on), so one run shows all there is to fix.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import Engine, select

from kiosk import a11y
from shared.db import make_engine, session_scope
from shared.demo import DEMO_PASSWORDS
from shared.i18n import t
from shared.models import Appointment, Location, Provider, utcnow
from shared.services import clinic_settings, insurance, precheck, tokens
from tests.browser.conftest import (
    CLINIC_TZ,
    POLL_MS,
    RUN_TIMEOUT_MS,
    click_and_wait,
    goto_app,
    runs_finished,
    track_runs,
    wait_for_app_run,
)
from tests.browser.test_kiosk_flow import calm_answers
from tests.browser.visits import Visit, new_mrn, new_visit, visit_start
from tests.factories import image_bytes, make_appointment, make_coverage, make_patient

pytestmark = pytest.mark.browser

# Kiosk steps the walk does not reach: "cannot check in" needs a visit the kiosk refuses (a
# clinic rule turned off); its screen is built like "see the desk" (a title, a line, start
# over and help), which the walk checks.
NOT_WALKED = {"cannot_check_in"}

BLOCKING = ("critical", "serious")
MIN_TARGET_PX = 48
AXE = Axe()

# Interactive things a finger must hit, with the size of what it really hits: a radio or
# checkbox input that Streamlit hides is operated through its label.
SMALL_TARGETS_JS = """
(minPx) => {
  const selector = "button, input:not([type=hidden]), select, textarea, a[href], "
    + "[role=button], [role=radio], [role=checkbox], [role=combobox], [role=option], "
    + "[role=slider], [role=switch], [role=tab]";
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest("[aria-hidden=true]") || el.disabled) continue;
    const style = getComputedStyle(el);
    let box = el.getBoundingClientRect();
    // Not shown, visually hidden until a keyboard focuses it (the skip link), or not
    // reachable by a finger (pointer-events: none).
    if (style.visibility === "hidden" || style.pointerEvents === "none"
        || (box.width <= 2 && box.height <= 2)) continue;
    const label = el.closest("label");
    if (label) {
      const outer = label.getBoundingClientRect();
      if (outer.width * outer.height > box.width * box.height) box = outer;
    }
    if (box.width < minPx - 0.5 || box.height < minPx - 0.5) {
      const name = (el.getAttribute("aria-label") || el.innerText || el.value || "")
        .trim().slice(0, 40);
      const testid = el.closest("[data-testid]")?.getAttribute("data-testid") || "";
      small.push(`${el.tagName.toLowerCase()} "${name}" in ${testid}: `
        + `${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}
"""
FOCUS_ON_HEADING_JS = """
() => {
  const el = document.activeElement;
  return !!el && el.tagName === "H1" && el === document.querySelector("h1");
}
"""
# The ring around what has keyboard focus (a text field draws it around its whole box).
FOCUS_RING_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const ring = el.closest("[data-testid='stTextInputRootElement']") || el;
  const s = getComputedStyle(ring);
  return {what: `${el.tagName} ${(el.getAttribute("aria-label") || el.innerText || "")
                   .trim().slice(0, 30)}`,
          style: s.outlineStyle, width: parseFloat(s.outlineWidth),
          offset: parseFloat(s.outlineOffset)};
}
"""
# Captions as a patient sees them: the text's colour faded by every opacity above it, on the
# first background behind it (axe does not count a faded parent).
FAINT_CAPTIONS_JS = """
(minRatio) => {
  const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const faint = [];
  for (const el of document.querySelectorAll("[data-testid='stCaptionContainer']")) {
    if (!el.innerText.trim()) continue;
    let back = [255, 255, 255];
    for (let x = el; x; x = x.parentElement) {
      const c = rgba(getComputedStyle(x).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) { back = c.slice(0, 3); break; }
    }
    const text = el.querySelector("p") || el;
    const [r, g, b, a = 1] = rgba(getComputedStyle(text).color);
    let alpha = a;
    for (let x = text; x; x = x.parentElement) alpha *= parseFloat(getComputedStyle(x).opacity);
    const seen = [r, g, b].map((v, i) => v * alpha + back[i] * (1 - alpha));
    const [hi, lo] = [lum(seen), lum(back)].sort((p, q) => q - p);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < minRatio) {
      faint.push(`"${el.innerText.trim().slice(0, 40)}": ${ratio.toFixed(2)}:1`);
    }
  }
  return faint;
}
"""
LIVE_REGION_JS = """
(text) => {
  const live = document.querySelector("[role=status][aria-live=polite]");
  return !!live && live.textContent === text;
}
"""


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def shared_page(browser) -> Iterator[object]:
    """One tab for this module's walks (each walk opens its app afresh in it)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US",
                                  timezone_id=CLINIC_TZ, reduced_motion="reduce")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    track_runs(page)
    yield page
    context.close()


def axe_problems(page, where: str) -> list[str]:
    """Critical and serious axe violations on the page as it is, one line per rule."""
    found = AXE.run(page).response["violations"]
    return [
        f"{where}: axe {v['id']} ({v['impact']}): {v['help']} on "
        + "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:6])
        + f" (first: {v['nodes'][0]['html'][:300]})"
        for v in found if v["impact"] in BLOCKING
    ]


# --- The kiosk ------------------------------------------------------------------------------


def _key(page, key: str):
    """The button (or field) of the widget with Streamlit key `key`: the same in any language."""
    return page.locator(f".st-key-{key}").get_by_role("button")


def _field(page, key: str):
    return page.locator(f".st-key-{key} input")


def _form_submit(page):
    return page.locator("[data-testid='stForm'] [data-testid^='stBaseButton-'][kind*='FormSubmit']")


def _submit(page, field) -> None:
    """Enter in a form's field submits the form; wait for the run it causes."""
    before = runs_finished(page)
    field.press("Enter")
    wait_for_app_run(page, after=before)


class KioskWalk:
    """Drives the kiosk in one language and checks every step it reaches."""

    def __init__(self, page, url: str, language: str) -> None:
        self.page, self.url, self.language = page, url, language
        self.problems: list[str] = []
        self.seen: list[str] = []

    def tr(self, key: str, **params: object) -> str:
        return t(key, self.language, **params)

    def open(self) -> None:
        """The welcome screen; in another language, once the patient has chosen it (the
        focus stays on the language's button: the step did not change)."""
        goto_app(self.page, self.url)
        if self.language == "en":
            self.check("welcome")
        else:
            click_and_wait(self.page, _key(self.page, f"lang_{self.language}"))
            self.check("welcome", moved=False)

    def start_over(self, key: str) -> None:
        """Back to the welcome screen, which is in English again: choose the language."""
        click_and_wait(self.page, _key(self.page, key))
        expect(self.page.get_by_role("heading", name=t("kiosk.title", "en"))).to_be_visible()
        if self.language != "en":
            click_and_wait(self.page, _key(self.page, f"lang_{self.language}"))
        expect(self.page.get_by_role("heading", name=self.tr("kiosk.title"))).to_be_visible()

    def tap(self, key: str, step: str, *, audit: bool = True) -> None:
        click_and_wait(self.page, _key(self.page, key))
        if audit:
            self.check(step)

    def check_focus_ring(self, step: str) -> None:
        """Tab from the heading to the first control: a thick ring outside it shows where the
        focus is, not only a change of colour."""
        self.page.keyboard.press("Tab")
        ring = self.page.evaluate(FOCUS_RING_JS)
        if not ring or ring["style"] in ("none", "hidden") or ring["width"] < 3 \
                or ring["offset"] < 2:
            self.problems.append(f"[{self.language}] {step}: focus ring too faint: {ring}")

    def check(self, step: str, *, moved: bool = True, label: str = "") -> None:
        """What a patient using a screen reader, a keyboard or a finger meets on `step`."""
        page, where = self.page, f"[{self.language}] {label or step}"
        before = len(self.problems)
        self.seen.append(label or step)
        name = self.tr(f"kiosk.page.{step}")
        title = self.tr("kiosk.page_title", step=name)
        waits = [
            ("page title", "(title) => document.title === title", title,
             lambda: page.title()),
            ("<html lang>", "(lang) => document.documentElement.lang === lang", self.language,
             lambda: page.evaluate("document.documentElement.lang")),
            ("live region", LIVE_REGION_JS, name,
             lambda: page.evaluate("document.querySelector('[role=status]')?.textContent")),
        ]
        if moved:
            waits.append(("focus on the heading", FOCUS_ON_HEADING_JS, None,
                          lambda: page.evaluate("document.activeElement?.outerHTML?.slice(0, 80)")))
        for what, condition, arg, actual in waits:
            try:
                page.wait_for_function(condition, arg=arg, polling=POLL_MS, timeout=10_000)
            except PlaywrightTimeoutError:
                self.problems.append(f"{where}: {what} is {actual()!r}, expected {arg!r}")
        h1 = page.locator("h1").count()
        if h1 != 1:
            self.problems.append(f"{where}: {h1} h1 elements, expected exactly one")
        self.problems += [f"{where}: target smaller than {MIN_TARGET_PX} px: {s}"
                          for s in page.evaluate(SMALL_TARGETS_JS, MIN_TARGET_PX)]
        self.problems += [f"{where}: caption below 4.5:1 contrast: {c}"
                          for c in page.evaluate(FAINT_CAPTIONS_JS, 4.5)]
        self.problems += axe_problems(page, where)
        print("\n".join(self.problems[before:]) or f"{where}: fine")


def _checked_in_ahead(walk: KioskWalk, db: Engine, apps, tz, born: date) -> None:
    """The steps of a patient who checked in ahead at home: the kiosk's one question, then
    the reminder's link on their phone on the day (opened past the welcome, so the language
    is chosen on the birth date's screen): "At the clinic?", the lobby code's viewfinder
    (no camera here: it says so), and the place in line once checked in."""
    page = walk.page
    family = f"Ahead{uuid.uuid4().hex[:6]}"
    appointment_id = _book(db, tz, family=family, birth=born, start=visit_start(utcnow(), tz))
    with session_scope(db) as session:
        home = precheck.begin(session, appointment_id, now=utcnow() - timedelta(days=1))
        precheck.complete(session, home.id, now=utcnow() - timedelta(days=1))
    walk.tap("btn_start_name", "find_by_name", audit=False)
    _find(walk, family, born, "all_set")
    walk.start_over("all_set_back")

    link = tokens.checkin_link(apps.kiosk_url, _issue_code(db, appointment_id,
                                                           apps.secret_key, tz))

    def open_link_to(step: str, **check: object) -> None:
        goto_app(page, link)
        if walk.language != "en":
            click_and_wait(page, _key(page, f"lang_{walk.language}"))
        expect(page.get_by_role("heading", name=walk.tr("kiosk.verify_title"))).to_be_visible()
        _field(page, "verify_birth").fill(born.strftime("%m/%d/%Y"))
        click_and_wait(page, _form_submit(page))
        walk.check(step, **check)

    open_link_to("precheck_done_before")
    walk.tap("phone_scan_lobby", "lobby_scan")
    walk.tap("lobby_back", "precheck_done_before", audit=False)
    with session_scope(db) as session:
        precheck.im_here(session, appointment_id, now=utcnow(), tz=tz,
                         rules=clinic_settings.load(session), secret_key=apps.secret_key,
                         code=precheck.lobby_code(apps.secret_key, utcnow()))
    open_link_to("phone_ticket")


def _book(engine: Engine, tz, *, family: str, birth: date, start: datetime,
          phone: str = "+1 312 555 0190") -> int:
    """A patient of `family` and `birth` with a follow-up at `start`; the appointment id."""
    with session_scope(engine) as session:
        provider = session.scalars(select(Provider).order_by(Provider.id)).first()
        location = session.scalars(select(Location).order_by(Location.id)).first()
        patient = make_patient(session, mrn=new_mrn(), legal_given_name="Wren",
                               legal_family_name=family, birth_date=birth, phone=phone,
                               address_line="7 Orchard Row", city="Exampleton", state="IL",
                               postal_code="60990")
        make_coverage(session, patient)
        appointment = make_appointment(session, patient=patient, provider=provider,
                                       location=location, visit_type="Follow-up", start=start)
        session.flush()
        return appointment.id


def _issue_code(engine: Engine, appointment_id: int, secret_key: str, tz) -> str:
    with session_scope(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        return tokens.issue_token(session, appointment, secret_key=secret_key, tz=tz,
                                  now=utcnow()).token


def _find(walk: KioskWalk, family: str, birth: date, step: str) -> None:
    page = walk.page
    _field(page, "find_family").fill(family)
    _field(page, "find_birth").fill(birth.strftime("%m/%d/%Y"))
    click_and_wait(page, _form_submit(page))
    walk.check(step)


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_kiosk_step_is_accessible(shared_page, apps, live_db, db, language):
    tz = live_db.tz
    # Family names of their own make these patients the only ones the kiosk finds.
    born = date(1931, 5, 17)
    visit: Visit = new_visit(db, tz, signed=False)
    by_code = new_visit(db, tz)
    code = _issue_code(db, by_code.appointment_id, apps.secret_key, tz)
    tomorrow_family = f"Tomorrow{uuid.uuid4().hex[:6]}"
    _book(db, tz, family=tomorrow_family, birth=born,
          start=visit_start(utcnow(), tz) + timedelta(days=1))
    twins = f"Twin{uuid.uuid4().hex[:6]}"
    for phone in ("+1 312 555 0191", "+1 312 555 0192"):
        _book(db, tz, family=twins, birth=born, start=visit_start(utcnow(), tz), phone=phone)

    page = shared_page
    # A kiosk of its own: its lookups and help requests are this test's alone.
    walk = KioskWalk(page, f"{apps.kiosk_url}?kiosk=a11y-{language}", language)
    walk.open()
    walk.check_focus_ring("welcome")

    walk.tap("btn_need_help", "help")
    walk.start_over("help_back")

    walk.tap("btn_start_scan", "scan")
    _field(page, "scan_code").fill("NOT-A-REAL-CODE")
    _submit(page, _field(page, "scan_code"))
    walk.check("code_problem")
    walk.tap("problem_to_name", "find_by_name")
    walk.check_focus_ring("find_by_name")
    _find(walk, tomorrow_family, born, "other_day")
    walk.start_over("other_day_back")

    walk.tap("btn_start_name", "find_by_name", audit=False)
    _find(walk, twins, born, "ask_phone")
    walk.start_over("phone_back")

    walk.tap("btn_start_name", "find_by_name", audit=False)
    _find(walk, visit.family, visit.birth, "appointment")
    walk.tap("appointment_ok", "details")
    walk.tap("details_edit", "details", audit=False)
    walk.check("details", moved=False, label="details (editing)")
    click_and_wait(page, _key(page, "details_cancel"))
    walk.tap("details_ok", "insurance")
    walk.tap("insurance_changed", "insurance", audit=False)
    walk.check("insurance", moved=False, label="insurance (new card)")
    click_and_wait(page, _key(page, "insurance_cancel"))
    walk.tap("insurance_same", "questions")
    asked = 0
    questions_title, *after_questions = (
        walk.tr("kiosk.page_title", step=walk.tr(f"kiosk.page.{step}"))
        for step in ("questions", "consent", "done"))
    while page.wait_for_function(
            "(titles) => titles.includes(document.title) && document.title", polling=POLL_MS,
            arg=[questions_title, *after_questions]).json_value() == questions_title:
        asked += 1
        if asked > 1:
            walk.check("questions", moved=False, label=f"question {asked}")
        form = page.locator("[data-testid='stForm']")
        calm_answers(form)
        click_and_wait(page, form.get_by_role("button", name=walk.tr("kiosk.next")))
        assert asked < 40, "the questions never ended"
    assert asked >= 3, f"only {asked} questions were asked"
    walk.check("consent")
    while page.locator(".st-key-consent_skip").count():
        click_and_wait(page, _key(page, "consent_skip"))
    walk.check("done")
    walk.start_over("done_finish")

    walk.tap("btn_start_name", "find_by_name", audit=False)
    _find(walk, visit.family, visit.birth, "already_checked_in")
    walk.start_over("already_back")

    walk.tap("btn_start_scan", "scan", audit=False)
    _field(page, "scan_code").fill(tokens.checkin_link(apps.kiosk_url, code))
    _submit(page, _field(page, "scan_code"))
    walk.check("verify_birth_date")
    wrong = by_code.birth + timedelta(days=1)
    for attempt in range(3):
        _field(page, "verify_birth").fill(wrong.strftime("%m/%d/%Y"))
        click_and_wait(page, _form_submit(page))
        if attempt == 0:
            walk.check("verify_birth_date", moved=False, label="verify_birth_date (wrong)")
    walk.check("see_desk")
    walk.start_over("see_desk_back")

    walk.tap("btn_no_appointment", "walk_in")
    _field(page, "walkin_given").fill("Ada")
    _field(page, "walkin_family").fill(f"Walkin{uuid.uuid4().hex[:6]}")
    _field(page, "walkin_birth").fill(born.strftime("%m/%d/%Y"))
    click_and_wait(page, _form_submit(page))
    walk.check("walk_in_done")
    walk.start_over("walkin_finish")

    _checked_in_ahead(walk, db, apps, tz, born)

    walked = {label for label in walk.seen if " " not in label}
    assert walked | NOT_WALKED == a11y.TITLED_STEPS, (
        f"steps the walk misses: {sorted(a11y.TITLED_STEPS - walked - NOT_WALKED)}")
    assert not walk.problems, (
        f"{len(walk.problems)} accessibility problems on the kiosk in {language} "
        f"(steps checked: {', '.join(walk.seen)}):\n" + "\n".join(walk.problems))


# --- The dashboard --------------------------------------------------------------------------

DASHBOARD_PAGES = (
    ("", "dash.arrivals"),
    ("queue", "queue.title"),
    ("flags", "dash.flags"),
    ("patient", "patient.title"),
    ("questions", "questions_admin.title"),
    ("consent-forms", "consent_admin.title"),
    ("settings", "settings.title"),
    ("staff", "staff.title"),
    ("import", "import.title"),
    ("reports", "reports.title"),
    ("audit-log", "audit_log.title"),
    ("reminders-export", "reminders.title"),
    ("interface", "interface.title"),
)
IMAGES_WITHOUT_ALT_JS = """
() => Array.from(document.querySelectorAll("[data-testid='stMain'] img"))
  .filter((img) => !(img.getAttribute("alt") || "").trim())
  .map((img) => (img.getAttribute("src") || "").slice(0, 60))
"""


def _sign_in(page) -> None:
    page.get_by_role("textbox", name="Username").fill("manager")
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["manager"])
    click_and_wait(page, page.get_by_role("button", name="Sign in"))


RAW_VALUE = re.compile(r"\b(None|False|True|nan|NaN|NaT|null|undefined)\b")


def test_every_dashboard_page_is_accessible(shared_page, apps, live_db, db):
    # A new insurance card with photos: the flags page and the patient's record show them.
    visit = new_visit(db, live_db.tz)
    with session_scope(db) as session:
        appointment = session.get(Appointment, visit.appointment_id)
        insurance.report_new_coverage(
            session, appointment.patient, payer="Prairie Mutual", member_id="PM-20417",
            group_id="G-7", card_front=image_bytes("JPEG", (640, 400)),
            card_back=image_bytes("JPEG", (640, 400)), appointment_id=appointment.id,
            now=utcnow(), kiosk_id="a11y-desk")
        # ...and the card on file has its photos too: the patient's record shows them.
        for coverage in appointment.patient.coverages:
            coverage.card_front = coverage.card_back = image_bytes("JPEG", (640, 400))

    page = shared_page
    problems: list[str] = []
    goto_app(page, apps.dashboard_url + "?display=waiting-room")
    problems += axe_problems(page, "waiting-room display")
    goto_app(page, apps.dashboard_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    problems += axe_problems(page, "sign-in")
    _sign_in(page)
    for path, title_key in DASHBOARD_PAGES:
        if path:
            # In-app navigation, as a representative clicks it: the session stays signed in.
            # Pages past the bar's width sit behind its "N more" button.
            link = page.get_by_role("link", name=t(title_key), exact=True)
            if not link.count():
                page.get_by_role("button", name=re.compile(r"^\d+ more$")).click()
                link = page.get_by_role("menuitem", name=t(title_key), exact=True)
            click_and_wait(page, link)
        expect(page.get_by_role("heading", name=t(title_key)).first).to_be_visible()
        where = path or "arrivals"
        if path == "patient":
            search = page.locator(".st-key-patient_search input")
            search.fill(visit.mrn)
            _submit(page, search)
            expect(page.locator("[data-testid='stMain'] img").first).to_be_visible()
        if path == "flags":
            expect(page.locator("[data-testid='stMain'] img").first).to_be_visible()
        problems += [f"{where}: image without alt text: {src}"
                     for src in page.evaluate(IMAGES_WITHOUT_ALT_JS)]
        problems += axe_problems(page, where)
        # Raw values never reach the screen: "None", "False", "nan" (tables included).
        problems += [f"{where}: shows {raw!r}" for raw in sorted(set(RAW_VALUE.findall(
            page.locator("[data-testid='stMain']").inner_text())))]
    assert not problems, (f"{len(problems)} accessibility problems on the dashboard:\n"
                          + "\n".join(problems))
