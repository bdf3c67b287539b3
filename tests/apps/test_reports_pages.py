"""Manager pages: reports and the audit log. A representative is refused on the server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo, history
from shared.clinic_time import clinic_today
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import utcnow
from shared.services import reports
from tests.apps.conftest import dashboard_as

REFUSED = "You do not have access to this page. Sign in with an account that does."


@pytest.fixture
def clinic(app_db):
    """Today's demo day and two weeks of history before it."""
    tz = get_settings().tz
    with session_scope(app_db) as session:
        demo.seed_demo(session, tz=tz, now=utcnow())
        history.seed_history(session, tz=tz, end_day=clinic_today(tz) - timedelta(days=1),
                             days=14, per_day=30, seed=5)
    return app_db


def _as(username: str, screen: str) -> AppTest:
    return dashboard_as(username, screen)

def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("screen", ["reports", "audit_log"])
def test_a_representative_is_refused(clinic, screen: str) -> None:
    at = _as("rep", screen)
    assert [e.value for e in at.error] == [REFUSED]
    assert not at.metric and not at.dataframe and not at.date_input


def test_manager_sees_the_last_thirty_days(clinic) -> None:
    at = _as("manager", "reports")
    assert not at.error
    tz = get_settings().tz
    today = clinic_today(tz)
    start, end = at.date_input(key="rep_range").value
    assert (start, end) == (today - timedelta(days=29), today)
    with Session(clinic) as session:
        expected = reports.build_report(session, start, end, tz)
    shown = _metrics(at)
    assert shown["Appointments"] == f"{expected.appointments:,}"
    assert shown["Check-ins"] == f"{expected.check_ins_total:,}"
    assert shown["Kiosk completion"] == f"{expected.kiosk.completion_rate * 100:.1f}%"
    assert shown["Kiosk time (median)"] == f"{expected.kiosk.median_seconds:,.0f} s"
    assert shown["No-show rate"] == f"{expected.noshow_rate * 100:.1f}%"
    assert expected.appointments > 14 * 30  # the history and today's demo day
    subheaders = [s.value for s in at.subheader]
    for title in ("Check-ins by channel", "Flags by kind", "By provider", "By location"):
        assert title in subheaders
    assert len(at.get("vega_lite_chart")) == 3
    assert len(at.download_button) == 5
    assert len(at.dataframe) == 3  # flags, providers, locations


def test_a_provider_filter_narrows_the_figures(clinic) -> None:
    at = _as("manager", "reports")
    everyone = int(_metrics(at)["Appointments"].replace(",", ""))
    with Session(clinic) as session:
        (first_id, _), *_ = reports.filter_choices(session)[0]
    at.selectbox(key="rep_provider").set_value(first_id).run()
    assert at.selectbox(key="rep_provider").value == first_id
    assert not at.exception and not at.error
    assert int(_metrics(at)["Appointments"].replace(",", "")) < everyone


def test_a_range_that_ends_before_it_starts_says_so(clinic) -> None:
    at = _as("manager", "reports")
    today = clinic_today(get_settings().tz)
    at.date_input(key="rep_range").set_value((today, today - timedelta(days=7))).run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("reports.bad_range")]
    assert "start date is after the end date" in at.error[0].value
    assert not at.metric
    # While only the first day of a range is picked, the page asks for the last one.
    at.date_input(key="rep_range").set_value((today,)).run()
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == [t("reports.pick_end")]


def test_manager_reads_and_filters_the_audit_log(clinic) -> None:
    at = _as("manager", "audit_log")
    assert not at.error
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    assert "history.seeded" in set(table["Action"])
    assert "staff.signed_in" in set(table["Action"])
    assert len(at.download_button) == 1
    at.selectbox(key="audit_action").set_value("staff.signed_in").run()
    table = at.dataframe[0].value
    assert set(table["Action"]) == {"staff.signed_in"}
    at.text_input(key="audit_record_id").input("twelve").run()
    assert [e.value for e in at.error] == [t("audit_log.record_id_invalid")]
