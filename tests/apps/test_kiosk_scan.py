"""The scan step without a browser: what the viewfinder's value may carry to the server, and
the step's typed path. (AppTest cannot draw the viewfinder; tests/browser/test_kiosk_scan.py
shows it a QR code and a scanner's keys.)"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from kiosk.scanner import MAX_CODE_LENGTH, Scan, read_scan
from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import Appointment, utcnow
from shared.services import tokens
from tests.apps.conftest import KIOSK, click, kiosk_step

LINK = "https://kiosk.example/?code=abc123"


# --- What the viewfinder sends ----------------------------------------------------------------


def test_a_code_read_by_the_camera_is_taken_once() -> None:
    value = {"code": f"  {LINK}\n", "nonce": "n1", "source": "camera"}
    assert read_scan(value, handled_nonce=None) == Scan(code=LINK, source="camera", nonce="n1")
    # The component keeps its last value across reruns: the same nonce is not a new scan.
    assert read_scan(value, handled_nonce="n1") is None


def test_the_same_code_shown_twice_is_seen_twice() -> None:
    first = read_scan({"code": LINK, "nonce": "n1", "source": "camera"}, handled_nonce=None)
    again = read_scan({"code": LINK, "nonce": "n2", "source": "camera"}, handled_nonce="n1")
    assert first is not None and again is not None and again.code == first.code


def test_keys_from_a_usb_scanner_are_a_scan_too() -> None:
    scan = read_scan({"code": LINK, "nonce": "k1", "source": "keys"}, handled_nonce=None)
    assert scan is not None and scan.source == "keys"


@pytest.mark.parametrize("value", [
    None,
    "abc123",                                                   # not the component's shape
    {"code": LINK},                                             # no nonce
    {"code": LINK, "nonce": ""},
    {"code": "   ", "nonce": "n1"},                             # nothing read
    {"code": 42, "nonce": "n1"},
    {"code": LINK, "nonce": 7},
    {"code": "x" * (MAX_CODE_LENGTH + 1), "nonce": "n1"},       # far longer than any link
    {"code": {"image": "data:image/png;base64,..."}, "nonce": "n1"},  # never a picture
])
def test_a_value_that_is_not_a_scanned_code_is_ignored(value: object) -> None:
    assert read_scan(value, handled_nonce=None) is None


def test_an_unknown_source_counts_as_the_camera() -> None:
    scan = read_scan({"code": LINK, "nonce": "n1", "source": "<script>"}, handled_nonce=None)
    assert scan is not None and scan.source == "camera"


# --- The step ---------------------------------------------------------------------------------


@pytest.fixture
def demo_day(app_db):
    with session_scope(app_db) as session:
        return demo.seed_demo(session, tz=get_settings().tz, now=utcnow())


def _scan_step(lang: str) -> AppTest:
    at = AppTest.from_file(KIOSK, default_timeout=30)
    at.session_state["kiosk"] = {"step": "scan", "lang": lang}
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_scan_step_asks_for_no_photo_and_speaks_the_patients_language(
    app_db, lang: str
) -> None:
    at = _scan_step(lang)
    assert kiosk_step(at) == "scan"
    assert at.title[0].value == t("kiosk.scan_title", lang)
    assert t("kiosk.scan_lead", lang) in [m.value for m in at.markdown]
    assert at.text_input(key="scan_code").label == t("kiosk.scan_typed", lang)
    # The camera is the live viewfinder now: no photo is taken or uploaded to the server.
    assert not at.get("camera_input")
    assert "Take Photo" not in str(at.main)


def test_a_typed_code_still_opens_the_birth_date_step(app_db, demo_day) -> None:
    settings = get_settings()
    with session_scope(app_db) as session:
        appointment = session.get(Appointment, demo_day.appointment_id)
        issued = tokens.issue_token(session, appointment, secret_key=settings.secret_key,
                                    tz=settings.tz, now=utcnow())
    at = _scan_step("en")
    at.text_input(key="scan_code").input(tokens.checkin_link("http://kiosk", issued.token))
    next(b for b in at.button if b.label == "Continue").click().run()
    assert not at.exception
    assert kiosk_step(at) == "verify_birth_date"


def test_finding_by_name_is_one_tap_from_the_scan_step(app_db) -> None:
    at = _scan_step("en")
    click(at, "scan_to_name")
    assert kiosk_step(at) == "find_by_name"
