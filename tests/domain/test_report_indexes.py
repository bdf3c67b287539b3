"""The reports read a month of check-ins and flags through an index, not the whole history
(issue 13): every report statement that filters check-ins by `started_at` or flags by
`raised_at` is planned with the index on that column, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from shared.history import seed_history
from shared.services import reports

TZ = ZoneInfo("America/Chicago")
END = date(2026, 6, 15)
RANGES = {"check_in.started_at": "ix_check_in_started_at", "flag.raised_at": "ix_flag_raised_at"}


def _report_statements(engine: Engine, session: Session) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        reports.build_report(session, date(2026, 5, 1), date(2026, 5, 31), TZ)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def _plan(session: Session, statement: str, parameters: object) -> str:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)
    # A test database is small: make the planner show which index it can use for the range
    # instead of reading a few pages whole.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(("column", "index"), sorted(RANGES.items()))
def test_a_one_month_report_reads_its_range_through_an_index(
    engine: Engine, session: Session, column: str, index: str
) -> None:
    seed_history(session, tz=TZ, end_day=END, days=120, per_day=8)
    session.commit()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    statements = [(s, p) for s, p in _report_statements(engine, session)
                  if f"{column} >=" in s]
    assert statements, f"no report statement filters on {column}"
    for statement, parameters in statements:
        plan = _plan(session, statement, parameters)
        assert index in plan, f"{column} is read without {index}:\n{plan}"
    session.rollback()
