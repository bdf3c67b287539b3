"""The audit trail keeps ids and codes only; anything that could carry a patient's data is
refused before it reaches the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import AuditEvent
from shared.services import audit

AT = datetime(2026, 6, 15, 15, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "detail",
    [
        {"patient_name": "Marisol Quintero"},
        {"birth_date": "1984-02-29"},
        {"appointment_id": 7, "answer_text": "chest pain since Tuesday"},
        {"mrn": "MRN000123"},
    ],
    ids=["name", "birth-date", "one-bad-key-among-good", "mrn"],
)
def test_a_detail_that_could_carry_patient_data_is_refused(
    session: Session, detail: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        audit.record(
            session, actor_type="staff", actor_id=3, action="appointment.status_changed",
            record_type="appointment", record_id=7, detail=detail,
        )
    assert not session.new
    assert session.scalars(select(AuditEvent)).all() == []


def test_the_refusal_names_the_key_but_not_the_value(session: Session) -> None:
    with pytest.raises(ValueError) as refused:
        audit.record(
            session, actor_type="kiosk", action="x", record_type="patient",
            detail={"legal_family_name": "Quintero"},
        )
    assert "legal_family_name" in str(refused.value)
    assert "Quintero" not in str(refused.value)


def test_an_event_is_stored_with_ids_and_codes(session: Session) -> None:
    audit.record(
        session,
        actor_type="staff",
        actor_id=42,
        action="appointment.status_changed",
        record_type="appointment",
        record_id=1001,
        detail={"appointment_id": 1001, "patient_id": 55, "from_status": "booked",
                "to_status": "arrived", "channel": "desk"},
        at=AT,
    )
    session.commit()

    with Session(session.get_bind()) as fresh:
        event = fresh.scalars(select(AuditEvent)).one()
    assert event.at == AT
    assert event.actor_type == "staff"
    assert event.actor_id == "42"
    assert event.action == "appointment.status_changed"
    assert event.record_type == "appointment"
    assert event.record_id == 1001
    assert event.detail == {
        "appointment_id": 1001, "patient_id": 55, "from_status": "booked",
        "to_status": "arrived", "channel": "desk",
    }


def test_an_event_without_detail_or_actor_is_stored_with_nulls(session: Session) -> None:
    before = datetime.now(UTC)
    audit.record(session, actor_type="system", action="nightly.cleanup",
                 record_type="appointment", detail={})
    session.commit()

    with Session(session.get_bind()) as fresh:
        saved = fresh.scalars(select(AuditEvent)).one()
    assert saved.actor_id is None
    assert saved.record_id is None
    assert saved.detail is None
    assert before <= saved.at <= datetime.now(UTC)


def test_every_allowed_detail_key_is_accepted(session: Session) -> None:
    detail = {key: 1 for key in audit.ALLOWED_DETAIL_KEYS}
    audit.record(session, actor_type="cli", action="test.all_keys", record_type="none",
                 detail=detail, at=AT)
    session.commit()
    assert session.scalars(select(AuditEvent.detail)).one() == detail
