"""A kiosk's name-and-birth-date lookups are limited in the database: free at first, then
slower, then paused with a flag for the desk. Starting over wipes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.models import AuditEvent, Flag, FlagKind, KioskLookup
from shared.services import lookups
from shared.services.lookups import (
    FORGET_AFTER,
    FREE_MISSES,
    LOCK_MINUTES,
    MAX_MISSES,
    LookupPaused,
    check_allowed,
    record_miss,
)
from tests.factories import DEFAULT_START
from tests.races import at_once

NOW = DEFAULT_START
KIOSK = "lobby-1"


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def miss(session: Session, now=NOW, kiosk: str = KIOSK) -> lookups.Miss:
    return record_miss(session, kiosk, now=now, what="name")


def test_the_first_misses_are_free_typos(session: Session) -> None:
    for _ in range(FREE_MISSES - 1):
        miss(session)
    check_allowed(session, KIOSK, now=NOW)  # no wait yet


def test_after_the_free_misses_each_try_waits_longer(session: Session) -> None:
    waits = []
    now = NOW
    for _ in range(FREE_MISSES + 3):
        miss(session, now)
        try:
            check_allowed(session, KIOSK, now=now)
            waits.append(0)
        except LookupPaused as paused:
            waits.append(paused.params["seconds"])
            now += seconds(paused.params["seconds"])
            check_allowed(session, KIOSK, now=now)  # waiting that long is enough
    assert waits == [0, 0, 2, 4, 8, 16]


def test_the_limit_pauses_the_kiosk_flags_the_desk_and_is_audited_once(
    session: Session,
) -> None:
    outcomes = [miss(session, NOW + seconds(n)) for n in range(MAX_MISSES)]

    assert [o.locked for o in outcomes] == [False] * (MAX_MISSES - 1) + [True]
    with pytest.raises(LookupPaused) as paused:
        check_allowed(session, KIOSK, now=NOW + timedelta(minutes=5))
    assert paused.value.key == "kiosk.lookup_locked"
    assert paused.value.params == {"minutes": LOCK_MINUTES - 4}
    flag = session.scalars(select(Flag)).one()
    assert (flag.kind, flag.kiosk_id, flag.patient_id) == (FlagKind.IDENTITY_FAILED, KIOSK, None)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == KIOSK)).all()
    assert sorted(actions) == (["flag.raised", "kiosk.lookup_locked"]
                               + ["kiosk.lookup_missed"] * MAX_MISSES)


def test_the_pause_ends_and_the_count_starts_again(session: Session) -> None:
    for n in range(MAX_MISSES):
        miss(session, NOW + seconds(n))
    later = NOW + timedelta(minutes=LOCK_MINUTES, seconds=MAX_MISSES)

    check_allowed(session, KIOSK, now=later)
    assert miss(session, later).misses == 1


def test_misses_long_ago_are_forgotten(session: Session) -> None:
    for n in range(FREE_MISSES + 2):
        miss(session, NOW + seconds(n))
    much_later = NOW + FORGET_AFTER + seconds(10)

    check_allowed(session, KIOSK, now=much_later)
    assert miss(session, much_later).misses == 1


def test_one_kiosk_paused_leaves_the_others_alone(session: Session) -> None:
    for n in range(MAX_MISSES):
        miss(session, NOW + seconds(n))
    check_allowed(session, "lobby-2", now=NOW + seconds(MAX_MISSES))


def test_forty_misses_sent_at_once_are_all_counted_and_lock_once(engine: Engine) -> None:
    def one_miss(_: int) -> lookups.Miss:
        with session_scope(engine) as session:
            return miss(session)

    outcome = at_once(20, one_miss)
    more = at_once(20, one_miss)

    assert outcome.errors == more.errors == []
    with Session(engine) as fresh:
        assert fresh.get(KioskLookup, KIOSK).misses == 40
        assert fresh.scalar(select(func.count()).select_from(Flag)) == 1
        assert fresh.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "kiosk.lookup_locked")) == 1
