"""App tests: each test gets its own migrated SQLite database, seen by the app through
the same environment variables a real run uses."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[2]
KIOSK = str(ROOT / "kiosk" / "app.py")
DASHBOARD = str(ROOT / "dashboard" / "app.py")
TIMEZONE = "America/Chicago"


def _clear_process_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()
    st.cache_resource.clear()


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
