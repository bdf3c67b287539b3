"""The order in which waiting patients should be seen: one pure function, with a reason
for every place."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum
from typing import NamedTuple


class Band(IntEnum):
    """Queue bands, first to last."""

    URGENT = 0
    ON_TIME = 1
    LATE = 2
    WALK_IN = 3


REASON_KEYS = {
    Band.URGENT: "queue.reason_urgent",
    Band.ON_TIME: "queue.reason_on_time",
    Band.LATE: "queue.reason_late",
    Band.WALK_IN: "queue.reason_walk_in",
}


class Waiting(NamedTuple):
    """A patient who is here and waiting (arrived or checked in)."""

    appointment_id: int
    provider_id: int
    start: datetime | None  # None for a walk-in
    arrived_at: datetime
    urgent: bool = False


class Place(NamedTuple):
    appointment_id: int
    provider_id: int
    position: int  # 1-based, overall
    band: Band
    reason_key: str


def band_of(w: Waiting, grace: timedelta) -> Band:
    if w.urgent:
        return Band.URGENT
    if w.start is None:
        return Band.WALK_IN
    if w.arrived_at > w.start + grace:
        return Band.LATE
    return Band.ON_TIME


def queue_order(waiting: list[Waiting], *, grace: timedelta) -> list[Place]:
    """Urgent first (by arrival); then on-time patients by appointment time; then those who
    came later than the grace period, by appointment time; then walk-ins by arrival."""

    def sort_key(item: tuple[Waiting, Band]) -> tuple[int, datetime, datetime, int]:
        w, band = item
        if band in (Band.URGENT, Band.WALK_IN):
            return (band, w.arrived_at, w.arrived_at, w.appointment_id)
        assert w.start is not None
        return (band, w.start, w.arrived_at, w.appointment_id)

    ordered = sorted(((w, band_of(w, grace)) for w in waiting), key=sort_key)
    return [
        Place(appointment_id=w.appointment_id, provider_id=w.provider_id, position=i,
              band=band, reason_key=REASON_KEYS[band])
        for i, (w, band) in enumerate(ordered, start=1)
    ]


def position_for_provider(places: list[Place], appointment_id: int) -> int | None:
    """The 1-based place of `appointment_id` in its provider's own line."""
    mine = next((p for p in places if p.appointment_id == appointment_id), None)
    if mine is None:
        return None
    same = [p for p in places if p.provider_id == mine.provider_id]
    return [p.appointment_id for p in same].index(appointment_id) + 1
