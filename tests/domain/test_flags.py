"""Flags for the desk: raised once, however often the same thing is reported, and the
"I need help" button names the kiosk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import AuditEvent, Flag, FlagKind, FlagSeverity, FlagStatus
from shared.services.flags import raise_flag, request_help
from tests.factories import make_appointment

NOW = datetime(2026, 6, 15, 14, 55, tzinfo=UTC)
NEW_PHONE = {"phone": "+17735550199"}


def phone_change(session: Session, appointment, **overrides) -> Flag:
    fields = {"kind": FlagKind.PHONE_CHANGE, "severity": FlagSeverity.INFO, "now": NOW,
              "patient_id": appointment.patient_id, "appointment_id": appointment.id,
              "kiosk_id": "kiosk-1", "old_value": {"phone": "+13125550142"},
              "new_value": NEW_PHONE}
    fields.update(overrides)
    return raise_flag(session, **fields)


def all_flags(session: Session) -> list[Flag]:
    return list(session.scalars(select(Flag).order_by(Flag.id)))


def test_the_same_open_flag_raised_twice_is_kept_once(session: Session) -> None:
    appointment = make_appointment(session)

    first = phone_change(session, appointment)
    again = phone_change(session, appointment, now=NOW + timedelta(minutes=1))

    assert again.id == first.id
    assert again.raised_at == NOW
    assert len(all_flags(session)) == 1
    raised = session.scalars(select(AuditEvent).where(AuditEvent.action == "flag.raised")).all()
    assert [e.record_id for e in raised] == [first.id]


@pytest.mark.parametrize(
    "difference",
    [
        {"new_value": {"phone": "+17735550111"}},
        {"kiosk_id": "kiosk-2"},
        {"kiosk_id": None},
        {"kind": FlagKind.EMAIL_CHANGE},
        {"appointment_id": None},
    ],
    ids=["other-value", "other-kiosk", "no-kiosk", "other-kind", "patient-level"],
)
def test_a_flag_that_differs_in_any_way_is_a_new_flag(
    session: Session, difference: dict[str, object]
) -> None:
    appointment = make_appointment(session)

    first = phone_change(session, appointment)
    second = phone_change(session, appointment, **difference)

    assert second.id != first.id
    assert len(all_flags(session)) == 2


def test_the_same_change_for_another_patient_is_a_new_flag(session: Session) -> None:
    first = phone_change(session, make_appointment(session))
    second = phone_change(session, make_appointment(session))

    assert second.id != first.id


@pytest.mark.parametrize("decision", [FlagStatus.ACCEPTED, FlagStatus.REJECTED])
def test_once_the_desk_has_decided_the_same_report_opens_a_new_flag(
    session: Session, decision: FlagStatus
) -> None:
    appointment = make_appointment(session)
    first = phone_change(session, appointment)
    first.status = decision
    first.resolved_at = NOW + timedelta(minutes=5)
    session.flush()

    second = phone_change(session, appointment, now=NOW + timedelta(minutes=10))

    assert second.id != first.id
    assert second.status == FlagStatus.OPEN
    assert [f.status for f in all_flags(session)] == [decision, FlagStatus.OPEN]


def test_asking_for_help_raises_an_urgent_flag_naming_the_kiosk(session: Session) -> None:
    appointment = make_appointment(session)

    flag = request_help(session, kiosk_id="kiosk-lobby-2", now=NOW,
                        patient_id=appointment.patient_id, appointment_id=appointment.id)

    assert flag.kind == FlagKind.HELP_REQUEST
    assert flag.severity == FlagSeverity.URGENT
    assert flag.status == FlagStatus.OPEN
    assert flag.kiosk_id == "kiosk-lobby-2"
    assert flag.appointment_id == appointment.id
    assert flag.raised_at == NOW


def test_help_can_be_asked_before_anyone_is_identified(session: Session) -> None:
    flag = request_help(session, kiosk_id="kiosk-1", now=NOW)

    assert (flag.kind, flag.severity, flag.patient_id) == (FlagKind.HELP_REQUEST,
                                                          FlagSeverity.URGENT, None)


def test_pressing_help_again_does_not_pile_up_flags(session: Session) -> None:
    first = request_help(session, kiosk_id="kiosk-1", now=NOW)
    again = request_help(session, kiosk_id="kiosk-1", now=NOW + timedelta(seconds=5))
    other_kiosk = request_help(session, kiosk_id="kiosk-2", now=NOW)

    assert again.id == first.id
    assert other_kiosk.id != first.id
    assert len(all_flags(session)) == 2
