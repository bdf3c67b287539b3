"""The clinic's day: times are stored in UTC and shown in the clinic's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared import clock


def clinic_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The clinic day's start and end (exclusive) as UTC instants, correct across DST."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def end_of_day(instant: datetime, tz: ZoneInfo) -> datetime:
    """The end of the clinic day on which `instant` falls, in UTC."""
    return day_bounds(instant.astimezone(tz).date(), tz)[1]


def at_clinic_time(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)
