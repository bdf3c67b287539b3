"""The manager's schedule import page: upload, see the plan, import. A representative is
refused; a file that cannot be read is an error message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.models import Appointment, AuditEvent, Patient, utcnow
from tests.apps.conftest import dashboard_as

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import"


@pytest.fixture
def clinic(app_db):
    with session_scope(app_db) as session:
        demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return app_db


def _as(username: str) -> AppTest:
    return dashboard_as(username, "schedule_import")

def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="import_file").set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def _count(engine, model: type, **where: object) -> int:
    with Session(engine) as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return session.scalar(statement)


def test_a_representative_is_refused(clinic) -> None:
    at = _as("rep")
    assert [e.value for e in at.error] == [
        "You do not have access to this page. Sign in with an account that does."]
    assert not at.get("file_uploader")


def test_manager_uploads_the_sample_sees_the_plan_then_imports(clinic) -> None:
    before = _count(clinic, Appointment)
    at = _upload(_as("manager"), "sample-schedule.csv", (DOCS / "sample-schedule.csv").read_bytes())
    plan = at.dataframe[0].value
    assert list(plan.columns) == ["Row", "Appointment", "Action", "Reason"]
    assert list(plan["Action"]) == ["Create"] * 4 + ["Unchanged"]
    assert plan["Reason"][4] == "Cancelled, and not on file: nothing to do."
    assert any("4 to create" in m.value for m in at.markdown)
    assert _count(clinic, Appointment) == before  # nothing written before "Import"

    at.button(key="import_apply").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Imported: 4 created, 0 updated, 1 unchanged, 0 refused."]
    assert _count(clinic, Appointment) == before + 4
    assert _count(clinic, Patient, mrn="MRN-20002") == 1
    assert _count(clinic, AuditEvent, action="schedule.imported", actor_type="staff") == 1

    at.run()  # the same file again: every row unchanged, nothing to import
    assert list(at.dataframe[0].value["Action"]) == ["Unchanged"] * 5
    assert at.button(key="import_apply").disabled
    assert at.info


def test_refused_rows_show_why_and_the_rest_imports(clinic) -> None:
    data = (DOCS / "sample-schedule.csv").read_text(encoding="utf-8").replace(
        "1990-11-02", "02/30/1990").encode("utf-8")
    at = _upload(_as("manager"), "day.csv", data)
    plan = at.dataframe[0].value
    assert plan["Action"][1] == "Refused"
    assert plan["Reason"][1] == "birth_date is not a date (use YYYY-MM-DD)."
    at.button(key="import_apply").click().run()
    assert _count(clinic, Patient, mrn="MRN-20002") == 0
    assert _count(clinic, Patient, mrn="MRN-20001") == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("day.csv", b"appointment_id,start\nA-1,x\n", "Required columns missing"),
        ("day.csv", "mrn,given_name\nM-1,Tomás\n".encode("latin-1"), "not UTF-8 text"),
        ("day.json", b'{"resourceType": "Patient"}', "not a FHIR Bundle"),
        ("day.hl7", b"PID|1||M-1\r", "must start with an MSH segment"),
        ("junk.txt", bytes(range(256)) * 20_000, "not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_is_an_error_message(
    clinic, name: str, data: bytes, message: str
) -> None:
    at = _upload(_as("manager"), name, data)
    assert len(at.error) == 1
    assert message in at.error[0].value
    assert not at.dataframe
    assert not at.get("button") or not any(b.key == "import_apply" for b in at.button)


def test_the_format_can_be_chosen_for_any_file_name(clinic) -> None:
    at = _as("manager")
    at.selectbox(key="import_format").set_value("hl7")
    at = _upload(at, "export.txt", (DOCS / "sample-siu.hl7").read_bytes(), "text/plain")
    assert list(at.dataframe[0].value["Row"]) == [1, 2, 3, 4]
    at.button(key="import_apply").click().run()
    assert not at.exception
    assert _count(clinic, Appointment, external_id="SCH-1002") == 1
