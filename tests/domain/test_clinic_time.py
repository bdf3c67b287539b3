"""The clinic's day in its own zone: 23 hours in spring, 25 in autumn, and midnight is the
clinic's midnight, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.clinic_time import at_clinic_time, clinic_today, day_bounds, end_of_day

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (date(2026, 6, 15), datetime(2026, 6, 15, 5, tzinfo=UTC),
         datetime(2026, 6, 16, 5, tzinfo=UTC), 24),
        (date(2026, 1, 15), datetime(2026, 1, 15, 6, tzinfo=UTC),
         datetime(2026, 1, 16, 6, tzinfo=UTC), 24),
        (date(2026, 3, 8), datetime(2026, 3, 8, 6, tzinfo=UTC),
         datetime(2026, 3, 9, 5, tzinfo=UTC), 23),
        (date(2026, 11, 1), datetime(2026, 11, 1, 5, tzinfo=UTC),
         datetime(2026, 11, 2, 6, tzinfo=UTC), 25),
    ],
    ids=["summer", "winter", "spring-forward", "fall-back"],
)
def test_a_clinic_day_runs_from_local_midnight_to_local_midnight(
    day: date, start: datetime, end: datetime, hours: int
) -> None:
    got_start, got_end = day_bounds(day, CHICAGO)
    assert (got_start, got_end) == (start, end)
    assert got_end - got_start == timedelta(hours=hours)
    assert got_start.tzinfo == UTC and got_end.tzinfo == UTC


def test_consecutive_clinic_days_meet_without_gap_or_overlap() -> None:
    day = date(2026, 2, 20)
    for _ in range(300):
        assert day_bounds(day, CHICAGO)[1] == day_bounds(day + timedelta(days=1), CHICAGO)[0]
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2026, 6, 16, 0, 30, tzinfo=UTC), date(2026, 6, 15)),  # 19:30 in Chicago
        (datetime(2026, 6, 16, 4, 59, 59, tzinfo=UTC), date(2026, 6, 15)),  # 23:59:59
        (datetime(2026, 6, 16, 5, 0, tzinfo=UTC), date(2026, 6, 16)),  # clinic midnight
        (datetime(2026, 6, 15, 23, 59, tzinfo=UTC), date(2026, 6, 15)),
        (datetime(2026, 1, 16, 5, 59, tzinfo=UTC), date(2026, 1, 15)),  # CST: UTC-6
        (datetime(2026, 11, 2, 5, 30, tzinfo=UTC), date(2026, 11, 1)),  # 25th hour of 1 Nov
    ],
)
def test_the_clinics_today_near_midnight_utc(now: datetime, today: date) -> None:
    assert clinic_today(CHICAGO, now) == today


def test_the_clinics_today_accepts_a_time_in_any_zone() -> None:
    tokyo_morning = datetime(2026, 6, 16, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 00:00 UTC
    assert clinic_today(CHICAGO, tokyo_morning) == date(2026, 6, 15)


def test_the_clinics_today_defaults_to_now() -> None:
    before = datetime.now(UTC).astimezone(CHICAGO).date()
    today = clinic_today(CHICAGO)
    after = datetime.now(UTC).astimezone(CHICAGO).date()
    assert today in (before, after)


@pytest.mark.parametrize(
    ("instant", "end"),
    [
        (datetime(2026, 6, 15, 15, 0, tzinfo=UTC), datetime(2026, 6, 16, 5, tzinfo=UTC)),
        # 21:00 in Chicago on 15 June is already 16 June in UTC; still the 15th's day.
        (datetime(2026, 6, 16, 2, 0, tzinfo=UTC), datetime(2026, 6, 16, 5, tzinfo=UTC)),
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), datetime(2026, 11, 2, 6, tzinfo=UTC)),
    ],
)
def test_the_end_of_day_is_the_next_clinic_midnight(instant: datetime, end: datetime) -> None:
    assert end_of_day(instant, CHICAGO) == end


def test_a_clinic_wall_clock_time_is_turned_into_utc() -> None:
    assert at_clinic_time(date(2026, 6, 15), 9, 0, CHICAGO) == datetime(
        2026, 6, 15, 14, 0, tzinfo=UTC
    )
    assert at_clinic_time(date(2026, 12, 15), 9, 0, CHICAGO) == datetime(
        2026, 12, 15, 15, 0, tzinfo=UTC
    )
