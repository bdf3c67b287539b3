"""The manager's pages in a real browser: a new conditional kiosk question with an urgent
rule, written in the editor, tried in the preview (nothing saved), then asked by the kiosk,
which raises the urgent flag the moment the patient answers; the reports page; and a
representative refused a manager page.

The database is shared by the whole browser session: the patient is picked by what the
database says (booked, untouched, nothing open for the desk), not by another module's list.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.clinic_time import clinic_today
from shared.db import make_engine, session_scope
from shared.demo import DEMO_PASSWORDS
from shared.i18n import t
from shared.models import (
    Answer,
    Appointment,
    AppointmentStatus,
    CheckIn,
    ConsentSignature,
    ContactKind,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    KioskQuestion,
    Location,
    PatientContact,
    Provider,
    utcnow,
)
from shared.services import checkin, consent, insurance
from shared.services.checkin import normalize_name
from shared.services.insurance import CoverageState
from tests.browser.conftest import click_and_wait, goto_app, screenshot
from tests.browser.test_kiosk_flow import calm_answers
from tests.factories import make_appointment, make_coverage, make_patient

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


# --- Picking a patient ----------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    appointment_id: int
    given: str  # the name the kiosk greets
    family: str
    birth: date


def _today_bounds(tz) -> tuple[datetime, datetime]:
    today = datetime.now(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    return start, datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)


def _pick_visit(engine: Engine, tz) -> Visit:
    """A visit today the kiosk takes to the questions and then to consent: booked, not late,
    never started (no check-in, no answers), an adult with insurance in force who never
    signed a form, found by family name and birth date alone, nothing open for the desk.
    Late in the day, when no seeded visit fits, a patient is added with a visit soon."""
    today = clinic_today(tz)
    start, end = _today_bounds(tz)
    now = utcnow()
    with session_scope(engine) as session:
        todays = session.scalars(
            select(Appointment).where(Appointment.start >= start, Appointment.start < end,
                                      Appointment.status != AppointmentStatus.CANCELLED)
        ).all()
        started = set(session.scalars(select(CheckIn.appointment_id)).all())
        started |= set(session.scalars(select(Answer.appointment_id)).all())
        ever_signed = set(session.scalars(select(ConsentSignature.patient_id)).all())
        visits = Counter(a.patient_id for a in todays)
        same_name = Counter((normalize_name(a.patient.legal_family_name), a.patient.birth_date)
                            for a in todays)

        def fits(appointment: Appointment) -> bool:
            patient = appointment.patient
            return not (
                appointment.id in started
                or appointment.status != AppointmentStatus.BOOKED
                or appointment.start < now - timedelta(minutes=5)
                or patient.age_on(today) < consent.ADULT_AGE
                or patient.id in ever_signed
                or visits[patient.id] != 1
                or same_name[(normalize_name(patient.legal_family_name), patient.birth_date)] != 1
                or insurance.primary_coverage(patient, today).state != CoverageState.ACTIVE
                or checkin.open_desk_flags(session, appointment)
            )

        # The latest visits first: the kiosk tests take the next upcoming ones.
        ordered = sorted(todays, key=lambda a: (a.start, a.id), reverse=True)
        chosen = next((a for a in ordered if fits(a)), None)
        if chosen is None:
            chosen = _add_visit(session, now=now, end=end)
        patient = chosen.patient
        return Visit(chosen.id, patient.preferred_name or patient.legal_given_name,
                     patient.legal_family_name, patient.birth_date)


def _add_visit(session: Session, *, now: datetime, end: datetime) -> Appointment:
    """A made-up adult with full contact details and insurance, booked in ten minutes (or
    just before midnight, to stay today), who has never signed a form."""
    provider = session.scalars(select(Provider).order_by(Provider.id)).first()
    location = session.scalars(select(Location).order_by(Location.id)).first()
    patient = make_patient(
        session, mrn="MGR-0001", legal_given_name="Rosalind",
        legal_family_name="Fairweatherm", birth_date=date(1958, 9, 17),
        phone="+1 312 555 0181", email="rosalind.fairweather@example.org",
        address_line="7 Kestrel Ct", city="Exampleton", state="IL", postal_code="60990",
    )
    session.add(PatientContact(patient=patient, kind=ContactKind.EMERGENCY, name="Ada Fair",
                               relationship_to_patient="daughter", phone="+1 312 555 0182"))
    make_coverage(session, patient)
    appointment = make_appointment(session, patient=patient, provider=provider,
                                   location=location, visit_type="Follow-up",
                                   start=min(now + timedelta(minutes=10),
                                             end - timedelta(minutes=1)))
    session.flush()
    return appointment


# --- Tests ----------------------------------------------------------------------------------


def test_a_new_conditional_question_is_previewed_then_raises_an_urgent_flag_on_the_kiosk(
    new_page, apps, live_db, db
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
    click_and_wait(page, _button(page, "Save (a new version)"))

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
    saved.scroll_into_view_if_needed()  # the condition, the rule and "Saved." in view
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
    visit = _pick_visit(db, live_db.tz)
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


def test_reports_open_with_their_metrics(new_page, apps):
    page = _open_signed_in(new_page, apps, "reports", "manager")
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    metrics = page.locator("[data-testid='stMetric']")
    expect(metrics).to_have_count(8)
    for label in ("Appointments", "Check-ins", "No-show rate", "Kiosk completion"):
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
