"""The manager's pages in a real browser: a new conditional kiosk question with an urgent
rule, written in the editor, tried in the preview (nothing saved), then asked by the kiosk,
which raises the urgent flag the moment the patient answers; the reports page; and a
representative refused a manager page.

The database is shared by the whole browser session: the test books its own patient for a
visit in a few minutes (tests/browser/visits.py), and takes its new question out of the
kiosk again when it is done, so the other tests see the clinic's questions whatever ran first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared import clock
from shared.db import make_engine, session_scope
from shared.demo import DEMO_PASSWORDS
from shared.i18n import t
from shared.models import (
    Answer,
    CheckIn,
    ConsentForm,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    KioskQuestion,
)
from shared.services import flags, question_admin
from tests.browser.conftest import click_and_wait, goto_app, screenshot
from tests.browser.test_kiosk_flow import calm_answers
from tests.browser.visits import new_visit

pytestmark = pytest.mark.browser

DASH_WIDTH, DASH_HEIGHT = 1366, 768
KIOSK_WIDTH, KIOSK_HEIGHT = 1024, 768

KEY = "fever_today"
TEXT_EN = "Do you have a fever today?"
TEXT_ES = "¿Tiene fiebre hoy?"
CHEST = "chest_pain_or_breathing"
CHEST_EN = "Do you have chest pain or trouble breathing right now?"
CHEST_ES = "¿Tiene dolor de pecho o dificultad para respirar en este momento?"
PROGRESS = re.compile(r"^Question (\d+) of (\d+)$")
NOT_ALLOWED = "You do not have access to this page. Sign in with an account that does."


@pytest.fixture
def db(live_db) -> Iterator[Engine]:
    engine = make_engine(live_db.url)
    yield engine
    engine.dispose()


@pytest.fixture
def new_question_taken_out_after(db) -> Iterator[None]:
    """The question the test writes is deactivated afterwards, as a manager would, so that
    the kiosk tests of this session ask the clinic's own questions whatever ran first."""
    yield
    with session_scope(db) as session:
        question = session.scalar(select(KioskQuestion).where(KioskQuestion.key == KEY))
        if question is not None and question.active:
            question_admin.deactivate(session, KEY, staff_user_id=None)


# --- Driving the pages ----------------------------------------------------------------------


def _shot(page, name: str) -> None:
    """A viewport screenshot with the pointer moved off the page (no hover colours)."""
    page.mouse.move(0, 0)
    screenshot(page, name)


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _sign_in(page, username: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS[username])
    click_and_wait(page, page.get_by_role("button", name="Sign in"))


def _open_signed_in(new_page, apps, path: str, username: str):
    """Open a dashboard page by its URL and sign in there (the page then runs)."""
    page = new_page(DASH_WIDTH, DASH_HEIGHT)
    goto_app(page, apps.dashboard_url + path)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _sign_in(page, username)
    return page


def _choose(page, key: str, option: str) -> None:
    """Pick `option` in the selectbox with widget key `key` (typing filters the list)."""
    field = page.locator(f".st-key-{key}").get_by_role("combobox")
    field.click()
    field.press_sequentially(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(field).to_have_value(option)


def _enter_birth_date(page, birth: date) -> None:
    """Typed in the kiosk's one field, month first (inside a form: no rerun)."""
    page.get_by_role("textbox", name=t("kiosk.birth_date")).fill(birth.strftime("%m/%d/%Y"))


def _radio_option(scope, question: str, option: str):
    """The option labelled `option` of the radio group whose label is `question`."""
    group = scope.locator("[data-testid='stRadio']").filter(
        has=scope.page.get_by_text(question, exact=True))
    return group.locator("label[data-testid='stRadioOption']").filter(
        has_text=re.compile(rf"^{re.escape(option)}$"))


def _count(engine: Engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


# --- Tests ----------------------------------------------------------------------------------


def test_a_new_conditional_question_is_previewed_then_raises_an_urgent_flag_on_the_kiosk(
    new_page, apps, live_db, db, new_question_taken_out_after
):
    # 1. The editor: a yes/no follow-up shown after "no" to chest pain, urgent on "yes".
    page = _open_signed_in(new_page, apps, "questions", "manager")
    expect(page.get_by_role("heading", name="Kiosk questions")).to_be_visible()
    page.get_by_role("tab", name="Create or edit").click()
    expect(page.locator(".st-key-q_edit_which").get_by_role("combobox")).to_have_value(
        "New question")
    page.locator(".st-key-q_key___new__ input").fill(KEY)
    _choose(page, "q_type___new__", "Yes / no")
    page.locator(".st-key-q_ten___new__ textarea").fill(TEXT_EN)
    page.locator(".st-key-q_tes___new__ textarea").fill(TEXT_ES)
    _choose(page, "q_cond___new__", CHEST_EN)  # listed by its wording
    page.locator(".st-key-q_condv___new__ input").fill("no")
    _choose(page, "q_rop___new__", "equals")
    page.locator(".st-key-q_rv___new__ input").fill("yes")
    _choose(page, "q_rf___new__", FlagKind.URGENT_ANSWER.value)
    _choose(page, "q_rs___new__", FlagSeverity.URGENT.value)
    click_and_wait(page, _button(page, "Save and publish"))

    saved = page.get_by_text("Saved. Patients see it at their next check-in.")
    expect(saved).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    with Session(db) as session:
        question = session.scalars(select(KioskQuestion).where(KioskQuestion.key == KEY)).one()
        version = question.current
        assert question.active
        assert version.text_en == TEXT_EN and version.text_es == TEXT_ES
        assert version.condition == {"question": CHEST, "equals": False}
        assert version.flag_rules == [{"when": {"equals": True}, "flag": "urgent_answer",
                                       "severity": "urgent"}]
    # The condition, the rule and the two ways to save in view.
    page.locator(".st-key-q_rs___new__").scroll_into_view_if_needed()
    _shot(page, "manager-questions.png")

    # 2. The preview, in Spanish: the follow-up appears after "No", and nothing is stored.
    answers_before, flags_before = _count(db, Answer), _count(db, Flag)
    page.get_by_role("tab", name="Preview").click()
    language = page.locator(".st-key-q_preview_lang")
    click_and_wait(page, language.get_by_role("button", name="Español").or_(
        language.get_by_role("radio", name="Español")))
    preview = page.locator(".st-key-q_preview")
    chest_no = _radio_option(preview, CHEST_ES, "No")
    expect(chest_no).to_be_visible()
    expect(preview.get_by_text(TEXT_ES, exact=True)).to_have_count(0)  # not before "No"
    click_and_wait(page, chest_no)
    expect(chest_no.get_by_role("radio")).to_be_checked()
    expect(preview.get_by_text(TEXT_ES, exact=True)).to_be_visible()
    expect(_radio_option(preview, TEXT_ES, "Sí")).to_be_visible()
    expect(preview.get_by_text(TEXT_EN, exact=True)).to_have_count(0)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    preview.get_by_text(TEXT_ES, exact=True).scroll_into_view_if_needed()
    _shot(page, "manager-preview.png")
    assert (_count(db, Answer), _count(db, Flag)) == (answers_before, flags_before), (
        "the preview stored answers or raised flags")

    # 3. The kiosk: "No" to chest pain brings the new question; "Yes" raises the flag at once.
    visit = new_visit(db, live_db.tz, signed=False)
    kiosk = new_page(KIOSK_WIDTH, KIOSK_HEIGHT)
    goto_app(kiosk, apps.kiosk_url)
    click_and_wait(kiosk, _button(kiosk, t("kiosk.start_name")))
    kiosk.get_by_role("textbox", name=t("kiosk.family_name")).fill(visit.family)
    _enter_birth_date(kiosk, visit.birth)
    click_and_wait(kiosk, _button(kiosk, t("kiosk.find_button")))
    expect(kiosk.get_by_role("heading", name=f"Hello, {visit.given}")).to_be_visible()
    click_and_wait(kiosk, _button(kiosk, "Continue"))
    expect(kiosk.get_by_role("heading", name="Is this still right?")).to_be_visible()
    click_and_wait(kiosk, _button(kiosk, "Yes, this is right"))
    expect(kiosk.get_by_role("heading", name="Your insurance")).to_be_visible()
    click_and_wait(kiosk, _button(kiosk, "Yes, I still have it"))

    progress = kiosk.get_by_text(PROGRESS)
    form = kiosk.locator("[data-testid='stForm']")
    seen: list[str] = []
    while True:
        expect(progress).to_be_visible()
        number = int(PROGRESS.match(progress.inner_text()).group(1))
        assert number == len(seen) + 1, (
            f"stuck at question {len(seen) + 1}: "
            f"{kiosk.locator('[data-testid=stAlert]').all_inner_texts()}")
        fever = _radio_option(form, TEXT_EN, "Yes")
        if fever.count():
            break
        chest = _radio_option(form, CHEST_EN, "No")
        if chest.count():
            seen.append(CHEST)
            chest.click()
            expect(chest.get_by_role("radio")).to_be_checked()
        else:
            seen.append(form.locator("label").first.inner_text())
            calm_answers(form)
        click_and_wait(kiosk, _button(kiosk, "Next"))
        assert len(seen) < 20, f"the new question never came: {seen}"
    assert seen[0] == CHEST, seen

    fever.click()
    expect(fever.get_by_role("radio")).to_be_checked()
    click_and_wait(kiosk, _button(kiosk, "Next"))
    expect(kiosk.get_by_text(t("questions.urgent_notice"))).to_be_visible()
    with Session(db) as session:
        raised = session.scalars(select(Flag).where(
            Flag.appointment_id == visit.appointment_id,
            Flag.kind == FlagKind.URGENT_ANSWER)).all()
        check_in = session.scalars(
            select(CheckIn).where(CheckIn.appointment_id == visit.appointment_id)).one()
        assert [(f.status, f.severity, f.new_value) for f in raised] == [
            (FlagStatus.OPEN, FlagSeverity.URGENT, {"question": KEY, "answer": True})], raised
        assert check_in.completed_at is None, "the flag should come before the check-in ends"


def test_a_consent_form_edited_in_english_alone_says_its_spanish_is_out_of_date(
    new_page, apps, db
):
    with Session(db) as session:
        form = session.scalars(select(ConsentForm).where(
            ConsentForm.key == "general_consent")).one()
        form_id = form.id
    page = _open_signed_in(new_page, apps, "consent-forms", "manager")
    _choose(page, "consent_form_chosen", "general_consent")
    body = page.locator(f".st-key-cv_ben_{form_id} textarea")
    body.fill(body.input_value() + " We may also call you about your visit.")
    click_and_wait(page, _button(page, t("consent_admin.add_version")))
    expect(page.get_by_text(t("consent_admin.version_added"), exact=True)).to_be_visible()
    warning = t("consent_admin.spanish_outdated", parts=t("consent_admin.part_body"))
    expect(page.get_by_text(warning, exact=True).first).to_be_visible()
    marker = t("consent_admin.spanish_outdated_marker")
    versions = page.locator("[data-testid='stExpander'] summary")
    expect(versions.filter(has_text=marker)).to_have_count(1)  # the new draft's line
    expect(versions.first).to_contain_text(marker)  # the newest comes first
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def _flags_chart(page):
    """The chart titled "Flags raised, by kind" (its title is drawn inside the chart)."""
    return page.locator("[data-testid='stVegaLiteChart']").filter(
        has_text=t("reports.chart_by_flag"))


def test_reports_count_every_kind_of_flag_raised_help_requests_too(new_page, apps, live_db, db):
    # A morning at the desk: nine early-arrival notes (resolved), address and insurance
    # changes, an urgent answer, a walk-away, a walk-in, and one help press still open
    # (acknowledged, never resolved). Every kind raised is in the chart, the rarest too.
    now = clock.now()
    morning = [(FlagKind.EARLY_ARRIVAL, 9, True), (FlagKind.ADDRESS_CHANGE, 3, True),
               (FlagKind.INSURANCE_CHANGE, 2, False), (FlagKind.URGENT_ANSWER, 2, True),
               (FlagKind.LEFT_KIOSK, 2, False), (FlagKind.WALK_IN, 1, True),
               (FlagKind.PHONE_CHANGE, 1, True), (FlagKind.HELP_REQUEST, 1, False)]
    visits = [new_visit(db, live_db.tz, signed=False) for _ in range(3)]
    with session_scope(db) as session:
        for kind, times, resolved in morning:
            for visit in (visits * 9)[:times]:
                flag = flags.raise_flag(
                    session, kind=kind, severity=FlagSeverity.WARNING, now=now,
                    patient_id=visit.patient_id, appointment_id=visit.appointment_id,
                    kiosk_id="lobby-2", new_value={"step": "insurance"})
                if resolved:
                    flag.status, flag.resolved_at = FlagStatus.ACCEPTED, now
                else:
                    flag.acknowledged_at = now
    page = _open_signed_in(new_page, apps, "reports", "manager")
    chart = _flags_chart(page)
    expect(chart).to_have_count(1)
    # Each kind has its bar, not only its label: Vega-Lite names each bar for a screen
    # reader with its fields ("Raised: 1; Kind: Help requested; ...").
    expect(chart.get_by_text(t("flag.help_request"), exact=True)).to_be_visible()
    named = chart.locator("[aria-roledescription='bar']").evaluate_all(
        "bars => bars.map(bar => bar.getAttribute('aria-label'))")
    raised = t("reports.raised")
    drawn = {m.group(2): int(m.group(1)) for n in named
             if (m := re.search(rf"{raised}: (\d+);.*{t('reports.kind')}: ([^;]+)", n))}
    for kind, times, _ in morning:
        # Other tests of this session may have raised some too: at least this morning's.
        assert drawn.get(t(f"flag.{kind.value}"), 0) >= times, (kind, named)
    # Counts on a whole-number axis: no "0.5" tick between 0 and 1.
    ticks = chart.locator("g.role-axis-label text").all_text_contents()
    assert ticks and not [tick for tick in ticks if re.fullmatch(r"\d+\.\d+", tick)], ticks
    # Every chart has a title and a CSV download.
    charts = page.locator("[data-testid='stVegaLiteChart']")
    for title in (t("reports.chart_by_channel"), t("reports.chart_by_flag")):
        expect(charts.filter(has_text=title)).to_have_count(1)
    expect(page.get_by_role("button", name=t("reports.download"))).to_have_count(
        charts.count() + 2)  # one per chart, and the providers' and locations' tables


TRAVEL = "recent_travel"
TRAVEL_EN = "Have you travelled outside the country in the last 30 days?"
TRAVEL_NEW = "Have you been outside the United States in the last 30 days?"
ALLERGIES = "new_allergies"
ALLERGIES_EN = "Do you have any new allergies?"
ALLERGIES_DRAFT = "Do you have any new allergies or reactions to a medicine?"
ALLERGIES_DRAFT_ES = "¿Tiene alguna alergia nueva o reacción a un medicamento?"


@contextmanager
def _wording_put_back(db: Engine, key: str) -> Iterator[None]:
    """The question is published again as the clinic had it, so the kiosk tests of this
    session read the clinic's own wording whatever ran first."""
    with Session(db) as session:
        question = session.scalar(select(KioskQuestion).where(KioskQuestion.key == key))
        original = question_admin.QuestionDefinition.from_version(key, question.current)
    try:
        yield
    finally:
        with session_scope(db) as session:
            question_admin.save_question(session, original, spanish=False, staff_user_id=None)


def _open_editor(page, key: str) -> str:
    """The editor on `key`; returns the suffix of its widgets' keys (key and version)."""
    page.get_by_role("tab", name="Create or edit").click()
    _choose(page, "q_edit_which", key)
    field = page.locator(f"[class*='st-key-q_ten_{key}_v'] textarea")
    expect(field).to_have_count(1)
    classes = page.locator(f"[class*='st-key-q_ten_{key}_v']").get_attribute("class")
    return next(c for c in classes.split() if c.startswith("st-key-q_ten_")).removeprefix(
        "st-key-q_ten_")


def _walk_kiosk_to(new_page, apps, live_db, db: Engine, texts: tuple[str, ...]) -> str:
    """Check a new visit in on the kiosk, answering calmly, until a question worded as one
    of `texts` is asked; returns that wording."""
    visit = new_visit(db, live_db.tz, signed=False)
    kiosk = new_page(KIOSK_WIDTH, KIOSK_HEIGHT)
    goto_app(kiosk, apps.kiosk_url)
    click_and_wait(kiosk, _button(kiosk, t("kiosk.start_name")))
    kiosk.get_by_role("textbox", name=t("kiosk.family_name")).fill(visit.family)
    _enter_birth_date(kiosk, visit.birth)
    click_and_wait(kiosk, _button(kiosk, t("kiosk.find_button")))
    click_and_wait(kiosk, _button(kiosk, "Continue"))
    click_and_wait(kiosk, _button(kiosk, "Yes, this is right"))
    click_and_wait(kiosk, _button(kiosk, "Yes, I still have it"))
    form = kiosk.locator("[data-testid='stForm']")
    for _ in range(20):
        expect(kiosk.get_by_text(PROGRESS)).to_be_visible()
        for text in texts:
            if form.get_by_text(text, exact=True).count():
                return text
        calm_answers(form)
        click_and_wait(kiosk, _button(kiosk, "Next"))
    raise AssertionError(f"none of {texts} was asked")


def test_a_question_edit_is_in_the_preview_at_once_and_its_spanish_marked_out_of_date(
    new_page, apps, db
):
    with _wording_put_back(db, TRAVEL):
        page = _open_signed_in(new_page, apps, "questions", "manager")
        suffix = _open_editor(page, TRAVEL)
        page.locator(f".st-key-q_ten_{suffix} textarea").fill(TRAVEL_NEW)
        click_and_wait(page, _button(page, "Save and publish"))
        expect(page.get_by_text(t("questions_admin.saved"), exact=True)).to_be_visible()
        # Still on the editor, now opened on the saved version.
        expect(page.get_by_role("tab", name="Create or edit")).to_have_attribute(
            "aria-selected", "true")
        expect(page.locator(f".st-key-q_ten_{TRAVEL}_v2 textarea")).to_have_value(TRAVEL_NEW)
        warning = t("questions_admin.spanish_outdated", parts=t("questions_admin.part_text"))
        expect(page.get_by_text(warning, exact=True).first).to_be_visible()

        # The preview: the new wording at once, with no reload and no other click.
        page.get_by_role("tab", name="Preview").click()
        preview = page.locator(".st-key-q_preview")
        expect(preview.get_by_text(TRAVEL_NEW, exact=True)).to_be_visible()
        expect(preview.get_by_text(TRAVEL_EN, exact=True)).to_have_count(0)

        # The list marks the Spanish out of date.
        page.get_by_role("tab", name="Questions").click()
        row = page.locator(f".st-key-q_row_{TRAVEL}")
        expect(row.get_by_text(t("questions_admin.spanish_outdated_marker"))).to_be_visible()

        # Someone saves the Spanish: the mark goes.
        suffix = _open_editor(page, TRAVEL)
        page.locator(f".st-key-q_tes_{suffix} textarea").fill(
            "¿Ha estado fuera de los Estados Unidos en los últimos 30 días?")
        click_and_wait(page, _button(page, "Save and publish"))
        expect(page.get_by_text(warning, exact=True)).to_have_count(0)
        page.get_by_role("tab", name="Questions").click()
        expect(row.get_by_text(t("questions_admin.spanish_outdated_marker"))).to_have_count(0)
        expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_a_draft_is_asked_of_no_patient_until_it_is_published(new_page, apps, live_db, db):
    with _wording_put_back(db, ALLERGIES):
        page = _open_signed_in(new_page, apps, "questions", "manager")
        suffix = _open_editor(page, ALLERGIES)
        page.locator(f".st-key-q_ten_{suffix} textarea").fill(ALLERGIES_DRAFT)
        page.locator(f".st-key-q_tes_{suffix} textarea").fill(ALLERGIES_DRAFT_ES)
        click_and_wait(page, _button(page, t("questions_admin.save_draft")))
        expect(page.get_by_text(t("questions_admin.draft_saved"), exact=True)).to_be_visible()
        page.get_by_role("tab", name="Questions").click()
        row = page.locator(f".st-key-q_row_{ALLERGIES}")
        expect(row.get_by_text(t("questions_admin.draft_marker"))).to_be_visible()

        # The kiosk still asks the published wording.
        assert _walk_kiosk_to(new_page, apps, live_db, db, (ALLERGIES_EN, ALLERGIES_DRAFT)
                              ) == ALLERGIES_EN

        # Published from the list: the next patient is asked the new wording.
        click_and_wait(page, row.get_by_role("button", name=t("questions_admin.publish")))
        expect(page.get_by_text(t("questions_admin.saved"), exact=True)).to_be_visible()
        expect(row.get_by_text(t("questions_admin.draft_marker"))).to_have_count(0)
        assert _walk_kiosk_to(new_page, apps, live_db, db, (ALLERGIES_EN, ALLERGIES_DRAFT)
                              ) == ALLERGIES_DRAFT


def test_reports_open_with_their_metrics(new_page, apps):
    page = _open_signed_in(new_page, apps, "reports", "manager")
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    metrics = page.locator("[data-testid='stMetric']")
    # Eight, plus the three of pre-check-in at home (share, and kiosk time with and without).
    expect(metrics).to_have_count(11)
    for label in ("Appointments", "Check-ins", "No-show rate", "Kiosk completion",
                  "Visits pre-checked"):
        expect(metrics.filter(has_text=label).first).to_be_visible()
    for value in page.locator("[data-testid='stMetricValue']").all():
        assert value.inner_text().strip(), "a metric without a value"
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    _shot(page, "manager-reports.png")


def test_a_representative_is_refused_the_questions_page(new_page, apps):
    page = _open_signed_in(new_page, apps, "questions", "rep")
    expect(page.get_by_text(NOT_ALLOWED, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Kiosk questions")).to_have_count(0)
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_role("link", name="Kiosk questions")).to_have_count(0)
