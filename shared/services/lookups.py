"""Limits on looking patients up at a kiosk by family name and birth date (and phone digits).

A kiosk in a public lobby must not let someone try birth dates until a name answers. Misses
are counted per kiosk in the database (starting over does not wipe them): the first few are
free (typos happen), then each further try waits a little longer, and at MAX_MISSES the
kiosk's lookup stops for LOCK_MINUTES, the desk gets a flag and the audit trail an entry.
A miss that long ago is forgotten. Every count is one UPDATE ... RETURNING, so tries sent at
the same moment are counted one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.models import FlagKind, FlagSeverity, KioskLookup
from shared.services import audit, flags

FREE_MISSES = 3
MAX_MISSES = 10
LOCK_MINUTES = 10
FORGET_AFTER = timedelta(minutes=30)
LONGEST_WAIT_SECONDS = 60


class LookupPaused(DomainError):
    """The kiosk's lookup is resting; the message says for how long, nothing about anyone."""

    key = "kiosk.lookup_wait"


@dataclass(frozen=True)
class Miss:
    misses: int
    locked: bool


def wait_after(misses: int) -> timedelta:
    """How long the next try must wait after `misses` misses in a row: 0, 0, 0, 2 s, 4 s..."""
    if misses < FREE_MISSES:
        return timedelta(0)
    return timedelta(seconds=min(2 ** (misses - FREE_MISSES + 1), LONGEST_WAIT_SECONDS))


def check_allowed(session: Session, kiosk_id: str, *, now: datetime) -> None:
    """Raise LookupPaused when this kiosk must wait before its next lookup."""
    row = session.get(KioskLookup, kiosk_id, populate_existing=True)
    if row is None:
        return
    if row.locked_until is not None and now < row.locked_until:
        raise LookupPaused("kiosk lookup locked", key="kiosk.lookup_locked",
                           minutes=_minutes_left(row.locked_until, now))
    if row.last_miss_at is None or now - row.last_miss_at >= FORGET_AFTER:
        return
    ready_at = row.last_miss_at + wait_after(row.misses)
    if now < ready_at:
        raise LookupPaused("kiosk lookup waiting",
                           seconds=max(1, int((ready_at - now).total_seconds() + 0.999)))


def record_miss(session: Session, kiosk_id: str, *, now: datetime, what: str) -> Miss:
    """Count a lookup that found no one (`what`: "name" or "phone"); lock at MAX_MISSES."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(KioskLookup).values(kiosk_id=kiosk_id, misses=0)
                    .on_conflict_do_nothing(index_elements=["kiosk_id"]))
    forgotten = or_(KioskLookup.last_miss_at.is_(None),
                    KioskLookup.last_miss_at <= now - FORGET_AFTER,
                    KioskLookup.locked_until <= now)
    misses = session.execute(
        update(KioskLookup).where(KioskLookup.kiosk_id == kiosk_id)
        .values(misses=case((forgotten, 1), else_=KioskLookup.misses + 1), last_miss_at=now,
                locked_until=case((forgotten, None), else_=KioskLookup.locked_until))
        .returning(KioskLookup.misses)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    audit.record(session, actor_type="kiosk", actor_id=kiosk_id, action="kiosk.lookup_missed",
                 record_type="kiosk", detail={"kind": what, "count": misses}, at=now)
    if misses != MAX_MISSES:
        return Miss(misses, locked=misses > MAX_MISSES)
    # Only the miss that reached the limit gets here: one lock, one flag, one entry.
    session.execute(update(KioskLookup).where(KioskLookup.kiosk_id == kiosk_id)
                    .values(locked_until=now + timedelta(minutes=LOCK_MINUTES))
                    .execution_options(synchronize_session=False))
    flags.raise_flag(session, kind=FlagKind.IDENTITY_FAILED, severity=FlagSeverity.WARNING,
                     now=now, kiosk_id=kiosk_id)
    audit.record(session, actor_type="kiosk", actor_id=kiosk_id, action="kiosk.lookup_locked",
                 record_type="kiosk", detail={"count": misses}, at=now)
    return Miss(misses, locked=True)


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() // 60) + 1)
