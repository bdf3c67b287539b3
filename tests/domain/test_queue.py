"""Who is seen next: urgent first, then on-time patients by their slot, then late arrivals,
then walk-ins. Pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.services.queue import (
    Band,
    Waiting,
    position_for_provider,
    queue_order,
)

GRACE = timedelta(minutes=15)
# 09:00 in Chicago on the clinic day.
NINE = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
DR_OKAFOR = 1
DR_ORTEGA = 2


def at(minutes: int) -> datetime:
    """`minutes` after nine o'clock (negative: before)."""
    return NINE + timedelta(minutes=minutes)


def patient(
    appointment_id: int,
    *,
    slot: int | None,
    arrived: int,
    provider_id: int = DR_OKAFOR,
    urgent: bool = False,
) -> Waiting:
    return Waiting(
        appointment_id=appointment_id,
        provider_id=provider_id,
        start=None if slot is None else at(slot),
        arrived_at=at(arrived),
        urgent=urgent,
    )


def seen_in_order(waiting: list[Waiting]) -> list[int]:
    return [place.appointment_id for place in queue_order(waiting, grace=GRACE)]


def test_urgent_patients_are_seen_first_in_order_of_arrival() -> None:
    waiting = [
        patient(1, slot=0, arrived=-20),
        patient(2, slot=60, arrived=10, urgent=True),
        patient(3, slot=30, arrived=25, urgent=True),  # earlier slot, but came later
        patient(4, slot=None, arrived=-30, urgent=True),  # an urgent walk-in
    ]
    assert seen_in_order(waiting) == [4, 2, 3, 1]


def test_on_time_patients_are_seen_by_appointment_time_not_by_arrival() -> None:
    waiting = [
        patient(1, slot=60, arrived=-10),  # came very early for a 10:00 slot
        patient(2, slot=30, arrived=35),  # 09:30 slot, walked in at 09:35: still on time
        patient(3, slot=0, arrived=0),
    ]
    assert seen_in_order(waiting) == [3, 2, 1]


def test_late_arrivals_wait_behind_every_on_time_patient() -> None:
    waiting = [
        patient(1, slot=0, arrived=16),  # one minute past the grace period
        patient(2, slot=120, arrived=100),
        patient(3, slot=90, arrived=80),
    ]
    assert seen_in_order(waiting) == [3, 2, 1]


def test_arriving_exactly_at_the_end_of_the_grace_period_is_still_on_time() -> None:
    waiting = [patient(1, slot=0, arrived=15), patient(2, slot=-5, arrived=11)]
    places = queue_order(waiting, grace=GRACE)
    assert [p.band for p in places] == [Band.ON_TIME, Band.LATE]
    assert [p.appointment_id for p in places] == [1, 2]


def test_late_arrivals_among_themselves_keep_their_appointment_order() -> None:
    waiting = [
        patient(1, slot=30, arrived=50),
        patient(2, slot=0, arrived=55),
        patient(3, slot=-30, arrived=58),
    ]
    assert seen_in_order(waiting) == [3, 2, 1]


def test_walk_ins_come_last_in_order_of_arrival() -> None:
    waiting = [
        patient(1, slot=None, arrived=5),
        patient(2, slot=0, arrived=40),  # late
        patient(3, slot=None, arrived=-10),
        patient(4, slot=240, arrived=200),  # on time, much later in the day
    ]
    assert seen_in_order(waiting) == [4, 2, 3, 1]


def test_two_patients_with_the_same_slot_go_in_order_of_arrival() -> None:
    waiting = [patient(1, slot=0, arrived=-2), patient(2, slot=0, arrived=-12)]
    assert seen_in_order(waiting) == [2, 1]


def test_every_place_carries_the_reason_for_its_band() -> None:
    waiting = [
        patient(1, slot=None, arrived=0),
        patient(2, slot=0, arrived=30),
        patient(3, slot=0, arrived=0),
        patient(4, slot=60, arrived=0, urgent=True),
    ]
    places = queue_order(waiting, grace=GRACE)
    assert [(p.appointment_id, p.position, p.band, p.reason_key) for p in places] == [
        (4, 1, Band.URGENT, "queue.reason_urgent"),
        (3, 2, Band.ON_TIME, "queue.reason_on_time"),
        (2, 3, Band.LATE, "queue.reason_late"),
        (1, 4, Band.WALK_IN, "queue.reason_walk_in"),
    ]


def test_the_position_in_a_providers_line_counts_only_that_providers_patients() -> None:
    waiting = [
        patient(1, slot=0, arrived=-10, provider_id=DR_ORTEGA),
        patient(2, slot=10, arrived=-5, provider_id=DR_ORTEGA),
        patient(3, slot=20, arrived=0, provider_id=DR_OKAFOR),
        patient(4, slot=30, arrived=0, provider_id=DR_ORTEGA),
        patient(5, slot=40, arrived=0, provider_id=DR_OKAFOR),
    ]
    places = queue_order(waiting, grace=GRACE)
    assert [p.position for p in places] == [1, 2, 3, 4, 5]
    assert position_for_provider(places, 3) == 1
    assert position_for_provider(places, 5) == 2
    assert position_for_provider(places, 4) == 3


def test_someone_not_waiting_has_no_place() -> None:
    places = queue_order([patient(1, slot=0, arrived=0)], grace=GRACE)
    assert position_for_provider(places, 99) is None


def test_an_empty_waiting_room_has_no_places() -> None:
    assert queue_order([], grace=GRACE) == []
    assert position_for_provider([], 1) is None


def test_a_lone_patient_is_first() -> None:
    places = queue_order([patient(7, slot=0, arrived=-5)], grace=GRACE)
    assert position_for_provider(places, 7) == 1
