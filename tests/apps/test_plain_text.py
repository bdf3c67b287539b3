"""Patient text is data, never formatting (issue 11).

Hostile values typed at the kiosk (a walk-in, changed details, an answer) or brought in by a
schedule import must reach every dashboard element that reads Markdown as their own text: no
image the staff browser would fetch, no link, no HTML, no colour or LaTeX. The oracle is a
CommonMark parser (markdown-it): a body is safe when it parses to no image, link or HTML, and
its text is the value as typed. Streamlit's own syntaxes (`:red[...]`, `$...$`) are not
CommonMark, so the raw value must not appear in any body either (escaped, it never does).
CSV downloads are caught as they are stored and must hold no cell a spreadsheet would run.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import Appointment, Flag, FlagKind, KioskQuestionVersion, Patient, utcnow
from tests.apps.conftest import KIOSK, dashboard_as
from tests.factories import due_soon

IMAGE = "![x](http://evil.example/a.png)"
BOLD = "**bold**"
HTML = "<img src=x onerror=alert(1)>"
COLOUR = ":red[alert]"
LATEX = "$x^2$"
LINK = "[click](javascript:alert(1))"

ACTIVE = {"image", "link_open", "html_inline", "html_block"}
COMMONMARK = MarkdownIt("commonmark")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def demo_day(app_db):
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return info


# --- what a page shows ------------------------------------------------------------------------


def _markdown_bodies(at: AppTest) -> list[str]:
    """Every text on the page that Streamlit renders as Markdown."""
    bodies = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success",
                                   "title", "header", "subheader")
              for e in getattr(at, kind)]
    bodies += [e.label for e in at.expander]
    bodies += [option for control in at.segmented_control for option in control.options]
    return [b for b in bodies if isinstance(b, str)]


def _rendered_text(body: str) -> str:
    parts = []
    for token in COMMONMARK.parse(body):
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append("\n")
        parts.append("\n")
    return "".join(parts)


def _assert_shown_as_text(at: AppTest, *values: str) -> None:
    bodies = _markdown_bodies(at)
    for body in bodies:
        tokens = COMMONMARK.parse(body)
        kinds = {tok.type for tok in tokens} | {c.type for tok in tokens
                                                for c in tok.children or ()}
        assert not kinds & ACTIVE, f"{body!r} renders as {sorted(kinds & ACTIVE)}"
        for value in values:
            assert value not in body, f"{value!r} reaches Markdown unescaped in {body!r}"
    shown = "\n".join(_rendered_text(b) for b in bodies)
    for value in values:
        assert value in shown, f"{value!r} is not on the page as text"


# --- the kiosk --------------------------------------------------------------------------------


def _kiosk() -> AppTest:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.run()
    return at


def _click(at: AppTest, key: str) -> AppTest:
    return at.button(key=key).click().run()


def _submit(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def _step(at: AppTest) -> str:
    return at.session_state["kiosk"]["step"]


def test_a_walk_in_typed_at_the_kiosk_reaches_the_flags_page_as_text(app_db, demo_day) -> None:
    at = _kiosk()
    _click(at, "btn_no_appointment")
    at.text_input(key="walkin_given").input(IMAGE)
    at.text_input(key="walkin_family").input(f"{BOLD} {HTML}")
    at.text_input(key="walkin_birth").input("03/04/1970")
    at.text_input(key="walkin_reason").input(f"{COLOUR} {LATEX} {LINK}")
    _submit(at, "Let the front desk know")
    assert _step(at) == "walk_in_done"

    flags_page = dashboard_as("rep", "flags")
    _assert_shown_as_text(flags_page, IMAGE, f"{BOLD} {HTML}", f"{COLOUR} {LATEX} {LINK}")
    # The walk-in's name is the group's heading.
    assert any(IMAGE in _rendered_text(s.value) for s in flags_page.subheader)


def _answer_questions_with(at: AppTest, engine, text: str) -> None:
    with Session(engine) as session:
        choices = {c["en"]: c["value"] for v in session.scalars(select(KioskQuestionVersion))
                   for c in v.choices}
    for _ in range(12):
        if _step(at) != "questions":
            return
        for radio in at.radio:
            radio.set_value(False if radio.options == ["Yes", "No"]
                            else choices[radio.options[0]])
        for pills in at.pills:
            pills.set_value(2)
        for box in at.text_input:
            box.input(text)
        _submit(at, "Next")
    raise AssertionError("the questions never ended")


def test_details_and_answers_from_the_kiosk_reach_the_flags_and_patient_pages_as_text(
        app_db, demo_day) -> None:
    at = _kiosk()
    _click(at, "btn_start_name")
    at.text_input(key="find_family").input(demo_day.patient_family_name)
    at.text_input(key="find_birth").input(demo_day.birth_date.strftime("%m/%d/%Y"))
    _submit(at, "Find my appointment")
    _click(at, "appointment_ok")
    _click(at, "details_edit")
    at.text_input(key="details_address_line").input(IMAGE)
    at.text_input(key="details_city").input(COLOUR)
    at.text_input(key="details_emergency_name").input(f"{BOLD} {HTML}")
    at.text_input(key="details_emergency_relationship").input(LATEX)
    _submit(at, "Save and continue")
    assert _step(at) == "insurance", [e.value for e in at.error]
    _click(at, "insurance_same")
    _answer_questions_with(at, app_db, LINK)
    assert _step(at) == "done", [e.value for e in at.error]

    desk = dashboard_as("rep", "flags")
    _assert_shown_as_text(desk, IMAGE, COLOUR, f"{BOLD} {HTML}", LATEX)
    with Session(app_db) as session:
        changes = session.scalars(select(Flag.id).where(Flag.kind.in_(
            (FlagKind.ADDRESS_CHANGE, FlagKind.EMERGENCY_CONTACT_CHANGE)))).all()
    assert len(changes) == 2
    for flag_id in changes:
        desk.button(key=f"flag_{flag_id}_accept").click().run()

    desk.switch_page("screens/patient.py").run()
    desk.text_input(key="patient_search").input(demo.DEMO_PATIENT_MRN).run()
    _assert_shown_as_text(desk, IMAGE, COLOUR, f"{BOLD} {HTML}", LATEX, LINK)


def test_the_kiosk_shows_the_record_back_to_the_patient_as_text(app_db, demo_day) -> None:
    """What the kiosk reads back (name, provider, room, address, contact, payer) came from an
    import or an earlier visit: the patient sees those characters, nothing is fetched."""
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        patient = appointment.patient
        patient.preferred_name = LINK
        patient.address_line = IMAGE
        patient.city = COLOUR
        patient.email = None
        appointment.provider.display_name = f"{BOLD} {HTML}"
        appointment.location.name = LATEX
        for contact in patient.contacts:
            contact.name = f"{IMAGE} {LINK}"
        for coverage in patient.coverages:
            coverage.payer = f"+1 {HTML}"
        assert patient.contacts and patient.coverages, "the demo patient has both"
    at = _kiosk()
    _click(at, "btn_start_name")
    at.text_input(key="find_family").input(demo_day.patient_family_name)
    at.text_input(key="find_birth").input(demo_day.birth_date.strftime("%m/%d/%Y"))
    _submit(at, "Find my appointment")
    assert _step(at) == "appointment", [e.value for e in at.error]
    _assert_shown_as_text(at, LINK, f"{BOLD} {HTML}", LATEX)
    _click(at, "appointment_ok")
    assert _step(at) == "details"
    _assert_shown_as_text(at, IMAGE, COLOUR, f"{IMAGE} {LINK}")
    _click(at, "details_ok")
    assert _step(at) == "insurance"
    _assert_shown_as_text(at, f"+1 {HTML}")


# --- the importer -----------------------------------------------------------------------------

PROVIDER = '=HYPERLINK("http://evil.example/a.png") ![x](http://evil.example/a.png)'
LOCATION = f"@SUM(1+1) {BOLD}"
VISIT_TYPE = f"-2+3 {COLOUR}"
GIVEN = LINK
FAMILY = f"{HTML} {LATEX}"
PAYER = f"+1 {IMAGE}"
MRN = "EVIL-0001"


def _hostile_schedule() -> bytes:
    tz = get_settings().tz
    start = due_soon(utcnow(), tz, minutes=5).astimezone(tz)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["appointment_id", "start", "duration_minutes", "visit_type", "status",
                     "provider_id", "provider_name", "location", "department", "mrn",
                     "given_name", "family_name", "birth_date", "address_line", "city",
                     "payer", "member_id"])
    writer.writerow(["EVIL-1", start.strftime("%Y-%m-%d %H:%M"), "20", VISIT_TYPE, "booked",
                     "P-EVIL", PROVIDER, LOCATION, "Family Medicine", MRN, GIVEN, FAMILY,
                     "1980-01-02", IMAGE, COLOUR, PAYER, "EV12345"])
    return out.getvalue().encode("utf-8")


@pytest.fixture
def stored_files(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, str, str | None]]:
    """Every file a page hands to a download button: (data, mime type, file name)."""
    stored: list[tuple[bytes, str, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes):
            stored.append((path_or_data, mimetype, filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return stored


def test_an_imported_schedule_reaches_every_page_as_text_and_every_csv_as_data(
        app_db, demo_day, stored_files) -> None:
    at = dashboard_as("manager", "schedule_import")
    at.file_uploader(key="import_file").set_value(
        ("schedule.csv", _hostile_schedule(), "text/csv")).run()
    plan = at.dataframe[0].value
    assert list(plan["Action"]) == ["Create"], list(plan["Reason"])
    at.button(key="import_apply").click().run()
    assert at.success, [e.value for e in at.error]

    # The patient page: header, demographics, coverage, today's visit.
    at.switch_page("screens/patient.py").run()
    at.text_input(key="patient_search").input(MRN).run()
    _assert_shown_as_text(at, GIVEN, FAMILY, IMAGE, COLOUR, PAYER, PROVIDER, LOCATION,
                          VISIT_TYPE)
    with Session(app_db) as session:
        appointment_id = session.scalars(select(Appointment.id).join(Patient).where(
            Patient.mrn == MRN)).one()
    at.button(key=f"desk_checkin_{appointment_id}").click().run()

    # The queue: the provider filter (a segmented control reads Markdown) and the selection.
    at.switch_page("screens/queue.py").run()
    at.selectbox(key="queue_selected").set_value(appointment_id).run()
    _assert_shown_as_text(at, PROVIDER, f"{GIVEN} {FAMILY}")

    # The reports: the per-provider and per-location CSVs hold the names as text.
    stored_files.clear()
    at.switch_page("screens/reports.py").run()
    cells = [cell for data, mime, _ in stored_files if mime == "text/csv"
             for row in csv.reader(io.StringIO(data.decode("utf-8"))) for cell in row]
    assert "'" + PROVIDER in cells
    assert "'" + LOCATION in cells
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]


def test_a_staff_typed_room_reaches_the_queue_as_text(app_db, demo_day) -> None:
    tz = get_settings().tz
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        appointment.start = due_soon(utcnow(), tz) - timedelta(minutes=5)
    at = dashboard_as("rep", "patient")
    at.text_input(key="patient_search").input(demo.DEMO_PATIENT_MRN).run()
    at.button(key=f"desk_checkin_{demo_day.appointment_id}").click().run()
    at.switch_page("screens/queue.py").run()
    at.selectbox(key="queue_selected").set_value(demo_day.appointment_id).run()
    key = f"act_{demo_day.appointment_id}"
    at.text_input(key=f"{key}_room").input(IMAGE).run()
    at.button(key=f"{key}_call").click().run()
    at.selectbox(key="queue_selected").set_value(demo_day.appointment_id).run()
    at.button(key=f"{key}_in_room").click().run()
    _assert_shown_as_text(at, IMAGE)
