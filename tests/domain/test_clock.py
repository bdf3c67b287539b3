"""The product's one clock: set by tests and by CHECKIN_CLOCK_START, and followed everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shared import clock, demo
from shared.clinic_time import clinic_today
from shared.config import ConfigError, load_settings
from shared.models import utcnow

CHICAGO = ZoneInfo("America/Chicago")


def test_the_tests_clock_is_set_and_runs_on(clinic_clock: datetime) -> None:
    assert clinic_clock <= clock.now() < clinic_clock + timedelta(minutes=5)
    assert clock.now() - utcnow() < timedelta(seconds=1)


def test_clock_start_sets_the_time_and_it_runs_from_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(clock.ENV_VAR, "2026-12-24T16:45:00-06:00")
    monkeypatch.setenv(clock.SET_AT_VAR, datetime.now(UTC).isoformat())
    first = clock.now()
    assert first.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M") == "2026-12-24 16:45"
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10)):
        assert clock.now() - first >= timedelta(minutes=10)
        assert clinic_today(CHICAGO) == datetime(2026, 12, 24).date()


def test_two_processes_started_apart_agree_when_given_when_the_clock_was_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = clock.environment_at(datetime(2026, 6, 16, 15, 0, tzinfo=UTC))
    monkeypatch.setenv(clock.ENV_VAR, env[clock.ENV_VAR])
    monkeypatch.setenv(clock.SET_AT_VAR, env[clock.SET_AT_VAR])
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=3)):
        later = clock.now()
    # Read three minutes after the harness set it: three minutes past the start, not the start.
    assert later - datetime(2026, 6, 16, 15, 0, tzinfo=UTC) >= timedelta(minutes=3)


@pytest.mark.parametrize(("value", "said"), [
    ("tomorrow at ten", "not an ISO date and time"),
    ("2026-06-16T10:00:00", "give the offset too"),
])
def test_a_clock_setting_that_is_not_an_instant_is_refused_in_one_line(
    tmp_path, value: str, said: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"CHECKIN_INSTANCE_DIR": str(tmp_path), "CHECKIN_CLOCK_START": value,
                       "CHECKIN_SECRET_KEY": "k" * 40})
    assert str(refused.value).startswith("CHECKIN_CLOCK_START: ")
    assert said in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("local", ["23:50", "23:55", "23:59"])
def test_late_at_night_the_demo_patient_is_still_due_today(local: str) -> None:
    hour, minute = (int(p) for p in local.split(":"))
    now = datetime(2026, 6, 16, hour, minute, tzinfo=CHICAGO).astimezone(UTC)
    start = demo._demo_start(now, CHICAGO)
    assert start.astimezone(CHICAGO).date() == now.astimezone(CHICAGO).date()
    # Inside the default arrival window: at most 15 minutes late.
    assert now - start <= timedelta(minutes=15)


def test_in_the_morning_the_demo_patient_is_due_a_quarter_of_an_hour_ahead() -> None:
    now = datetime(2026, 6, 16, 9, 2, tzinfo=CHICAGO).astimezone(UTC)
    assert demo._demo_start(now, CHICAGO).astimezone(CHICAGO).strftime("%H:%M") == "09:20"
