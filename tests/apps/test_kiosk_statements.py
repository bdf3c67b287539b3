"""A complete kiosk check-in costs a few dozen SQL statements (issue 13).

Counted with an event listener on every engine, from the first screen to the ticket, so the
count cannot creep back unnoticed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import utcnow
from tests.apps.conftest import click, kiosk_step
from tests.apps.test_kiosk_flow import (
    _answer_current_question,
    _choice_values,
    _find_by_name,
    _kiosk,
    _submit,
)

MAX_STATEMENTS = 40
MAX_TRANSACTIONS = 10


@pytest.fixture
def demo_day(app_db):
    with session_scope(app_db) as session:
        return demo.seed_demo(session, tz=get_settings().tz, now=utcnow())


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.transactions = 0

    def statement(self, _conn, _cursor, statement, _parameters, _context, _many) -> None:
        self.statements.append(statement)

    def begin(self, _conn) -> None:
        self.transactions += 1
        self.statements.append("BEGIN")


def test_a_complete_kiosk_check_in_costs_a_few_dozen_statements(app_db, demo_day) -> None:
    choices = _choice_values(app_db)
    counter = Counter()
    event.listen(Engine, "before_cursor_execute", counter.statement)
    event.listen(Engine, "begin", counter.begin)
    try:
        at = _find_by_name(_kiosk(), demo_day.patient_family_name, demo_day.birth_date)
        click(at, "appointment_ok")
        click(at, "details_ok")
        click(at, "insurance_same")
        for _ in range(12):
            if kiosk_step(at) != "questions":
                break
            _answer_current_question(at, choices)
            _submit(at, "Next")
        assert kiosk_step(at) == "done"
    finally:
        event.remove(Engine, "before_cursor_execute", counter.statement)
        event.remove(Engine, "begin", counter.begin)
    sql = [s for s in counter.statements if s != "BEGIN"]
    report = "\n".join(" ".join(s.split()[:5]) for s in counter.statements)
    print(f"{len(sql)} statements, {counter.transactions} transactions\n{report}")
    assert len(sql) <= MAX_STATEMENTS, report
    assert counter.transactions <= MAX_TRANSACTIONS, report
