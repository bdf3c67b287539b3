"""seed-history --years: every day of whole calendar years, for reports over a long past."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from shared import cli, history
from shared.config import get_settings
from shared.db import get_engine

TZ = ZoneInfo("America/Chicago")


def test_years_count_every_calendar_day_leap_days_included() -> None:
    assert history.days_in_years(date(2026, 6, 30), 1) == 365
    assert history.days_in_years(date(2026, 6, 30), 5) == 365 * 5 + 1  # 29 February 2024
    assert history.days_in_years(date(2028, 2, 29), 1) == 366
    with pytest.raises(ValueError):
        history.days_in_years(date(2026, 6, 30), 0)


def test_two_years_of_history_start_the_day_after_the_same_date_two_years_before(
    session: Session,
) -> None:
    result = history.seed_history(session, tz=TZ, end_day=date(2026, 6, 30), years=2,
                                  per_day=1, seed=3)
    assert (result.first_day, result.last_day) == (date(2024, 7, 1), date(2026, 6, 30))
    assert result.appointments == 730


def test_seed_history_command_takes_years_or_days_not_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    sqlite_template: Path,
) -> None:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("CHECKIN_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        with pytest.raises(SystemExit):
            cli.main(["seed-history", "--years", "1", "--days", "3"])
        assert cli.main(["seed-history", "--years", "0"]) == cli.EXIT_USAGE
        capsys.readouterr()
        argv = ["seed-history", "--years", "1", "--per-day", "1", "--end-day", "2026-06-30"]
        assert cli.main(argv) == 0
        out = capsys.readouterr().out
        assert out.startswith("Seeded 365 appointments") and "2025-07-01 to 2026-06-30" in out
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
