"""The manager's practice system page: the connection's health, refused messages with their
reasons as plain text, and a resend button for an event the practice system refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.interface import outbox
from shared.models import (
    Appointment,
    AuditEvent,
    InboundMessage,
    InboundStatus,
    OutboxEvent,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)
from shared.text import plain
from tests.apps.conftest import dashboard_as

HOSTILE = "![x](http://example.invalid/p.png) <b>bold</b>"


@pytest.fixture
def clinic(app_db):
    with session_scope(app_db) as session:
        demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return app_db


@pytest.fixture
def traffic(clinic):
    """A message applied, one refused (its reason quotes the message), an event waiting and
    an event the practice system refused."""
    now = utcnow()
    with session_scope(clinic) as session:
        appointment = session.scalars(select(Appointment).limit(1)).one()
        session.add_all([
            InboundMessage(control_id="IN-1", applied_control_id="IN-1",
                           status=InboundStatus.APPLIED, ack_code="AA",
                           received_at=now - timedelta(minutes=5)),
            InboundMessage(control_id="IN-2", status=InboundStatus.REFUSED, ack_code="AE",
                           reasons=[{"key": "import.reason_bad_date",
                                     "params": {"field": HOSTILE}}],
                           received_at=now - timedelta(minutes=1)),
        ])
        for _ in range(2):
            outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment,
                                now=now)
        session.flush()
        refused = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        refused.status = OutboxStatus.FAILED
        refused.ack_code = "AE"
        refused.error = HOSTILE
        refused.attempts = 1
        return refused.id, refused.control_id


def _as(username: str) -> AppTest:
    return dashboard_as(username, "interface")


def test_a_representative_is_refused(clinic) -> None:
    at = _as("rep")
    assert [e.value for e in at.error] == [
        "You do not have access to this page. Sign in with an account that does."]
    assert not at.metric


def test_a_quiet_connection_says_so(clinic) -> None:
    at = _as("manager")
    assert [m.value for m in at.metric] == ["never", "–", "0", "never"]
    assert [i.value for i in at.info] == [
        "No message from the practice system was refused.",
        "The practice system accepted every event sent."]


def test_the_manager_sees_the_health_and_refusals_as_plain_text(traffic) -> None:
    at = _as("manager")

    labels = {m.label: m.value for m in at.metric}
    assert labels["Last ACK out"] == "AE"
    assert labels["Waiting to be sent"] == "1"
    shown = "\n".join(m.value for m in at.markdown)
    assert "message IN-2 · AE" in shown and "IN-1" not in shown
    # The reason (quoting the message) and the practice system's words, escaped.
    assert plain(f"{HOSTILE} is not a date (use YYYY-MM-DD).") in shown
    assert shown.count(plain(HOSTILE)) == 2 and HOSTILE not in shown
    assert "Arrived · message" in shown


def test_the_manager_resends_a_refused_event(clinic, traffic) -> None:
    outbox_id, control_id = traffic
    at = _as("manager")

    at.button(key=f"interface_resend_{outbox_id}").click().run()

    assert not at.exception
    assert [s.value for s in at.success] == [
        f"Event {outbox_id} will be sent again, as a new message."]
    assert [i.value for i in at.info] == ["The practice system accepted every event sent."]
    assert {m.label: m.value for m in at.metric}["Waiting to be sent"] == "2"
    with Session(clinic) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert (row.status, row.error) == (OutboxStatus.PENDING, None)
        assert row.control_id != control_id
        assert session.scalar(select(AuditEvent.actor_type).where(
            AuditEvent.action == "hl7.resend")) == "staff"
