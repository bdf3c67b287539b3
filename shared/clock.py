"""The one clock the apps read.

Every "now" in the product comes from `now()`: services take it as an argument, the apps
and the CLI call this. Normally it is the machine's clock. `CHECKIN_CLOCK_START` (an ISO
instant with its offset, e.g. `2026-06-15T10:00:00-05:00`) starts the clock at that
instant instead and lets it run from there: a training session or a browser test can play
the same clinic morning at any hour of the real day. `CHECKIN_CLOCK_SET_AT` (optional, a
real instant) says when the clock read that instant, so that several processes started at
different moments (the two apps and a test harness) show the same time; without it, the
clock reads the start instant when this process first asks for the time.

Tests of this process freeze the clock with time-machine, which this module follows
because it reads `datetime.now`.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

ENV_VAR = "CHECKIN_CLOCK_START"
SET_AT_VAR = "CHECKIN_CLOCK_SET_AT"


class ClockError(ValueError):
    """CHECKIN_CLOCK_START holds something that is not an instant; the message is one line."""


def parse_start(raw: str, name: str = ENV_VAR) -> datetime:
    """The instant in CHECKIN_CLOCK_START (or `name`), aware and in UTC."""
    try:
        start = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ClockError(
            f"{name}: not an ISO date and time (e.g. 2026-06-15T10:00:00-05:00)") from exc
    if start.tzinfo is None:
        raise ClockError(f"{name}: give the offset too (e.g. 2026-06-15T10:00:00-05:00)")
    return start.astimezone(UTC)


_lock = threading.Lock()
_offsets: dict[tuple[str, str], timedelta] = {}


def _offset(start: str, set_at: str) -> timedelta:
    """How far the clock is set from the machine's; fixed the first time it is read."""
    with _lock:
        if (start, set_at) not in _offsets:
            real = parse_start(set_at, SET_AT_VAR) if set_at else datetime.now(UTC)
            _offsets[start, set_at] = parse_start(start) - real
        return _offsets[start, set_at]


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    real = datetime.now(UTC)
    start = os.environ.get(ENV_VAR, "").strip()
    if not start:
        return real
    return real + _offset(start, os.environ.get(SET_AT_VAR, "").strip())


def environment_at(start: datetime) -> dict[str, str]:
    """The variables that set a process's clock to `start` now: for a harness starting the
    apps so that they and it agree on the time."""
    return {ENV_VAR: start.isoformat(), SET_AT_VAR: datetime.now(UTC).isoformat()}
