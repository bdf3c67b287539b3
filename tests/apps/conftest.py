"""App tests: each test gets its own migrated SQLite database, seen by the app through
the same environment variables a real run uses.

Both apps catch every exception and show a calm generic message, so a page that crashes
after drawing its widgets leaves `at.exception` empty. `crash_watch` fails the test instead:
after every script run it looks for the generic message (in every language), and at the end
for an error the apps logged. A test that means to crash a page says so with
`@pytest.mark.expected_app_error`.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import get_engine, make_engine
from shared.i18n import t
from shared.models import Language
from shared.services import clinic_settings

ROOT = Path(__file__).resolve().parents[2]
KIOSK = str(ROOT / "kiosk" / "app.py")
DASHBOARD = str(ROOT / "dashboard" / "app.py")
TIMEZONE = "America/Chicago"


# The loggers the apps report a failed page or step on.
APP_LOGGERS = ("kiosk", "dashboard")
GENERIC_ERROR_KEYS = ("kiosk.error_generic", "dash.error_generic", "error.generic")


def generic_error_messages() -> set[str]:
    """The calm "something went wrong" texts, in every language, that mean a page crashed."""
    return {t(key, lang.value) for key in GENERIC_ERROR_KEYS for lang in Language}


def crashes_shown(at: AppTest) -> list[str]:
    """The generic error messages on the page `at` last ran."""
    generic = generic_error_messages()
    return [e.value for e in at.error if e.value in generic]


@pytest.fixture(autouse=True)
def crash_watch(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[None]:
    """Fail the test when a run shows the generic error or an app logs an error."""
    if request.node.get_closest_marker("expected_app_error"):
        yield
        return
    original = AppTest._run

    def watched_run(self: AppTest, *args: object, **kwargs: object) -> AppTest:
        result = original(self, *args, **kwargs)
        if result.exception:
            pytest.fail(f"the script raised: {result.exception[0].value}", pytrace=False)
        shown = crashes_shown(result)
        if shown:
            pytest.fail(f"the page crashed and showed the generic error: {shown[0]!r}; "
                        f"log:\n{caplog.text}", pytrace=False)
        return result

    monkeypatch.setattr(AppTest, "_run", watched_run)
    caplog.set_level(logging.ERROR)
    yield
    logged = [r for r in caplog.get_records("call")
              if r.levelno >= logging.ERROR and r.name.split(".")[0] in APP_LOGGERS]
    if logged:
        pytest.fail("an app logged an unexpected error:\n"
                    + "\n".join(r.getMessage() for r in logged), pytrace=False)


def _clear_process_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()
    st.cache_resource.clear()
    clinic_settings.forget_cached()


@pytest.fixture
def app_db(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """An empty migrated database the apps under test will open."""
    path = tmp_path / "checkin.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", TIMEZONE)
    monkeypatch.delenv("CHECKIN_SECRET_KEY", raising=False)
    _clear_process_caches()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    _clear_process_caches()


def dashboard_as(username: str, screen: str | None = None) -> AppTest:
    """The dashboard signed in as a demo user (rep or manager), on `screen` if given."""
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(demo.DEMO_PASSWORDS[username])
    at.button[0].click().run()
    assert not at.exception, at.exception
    if screen is not None:
        at.switch_page(f"screens/{screen}.py").run()
        assert not at.exception, at.exception
    return at


def kiosk_step(at: AppTest) -> str:
    """The kiosk step the patient is on."""
    return at.session_state["kiosk"]["step"]


def click(at: AppTest, key: str) -> AppTest:
    """Press the button with `key` and let the app run."""
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at
