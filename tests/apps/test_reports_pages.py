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
    for title in ("Check-ins by channel", "Pre-check-in at home", "Flags by kind",
                  "By provider", "By location"):
        assert title in subheaders
    assert len(at.get("vega_lite_chart")) == 4
    assert len(at.download_button) == 6
    assert len(at.dataframe) == 4  # pre-check-in, flags, providers, locations


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


def _specs(at: AppTest) -> list[dict]:
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def test_every_chart_has_a_title_whole_number_counts_and_a_csv(clinic) -> None:
    at = _as("manager", "reports")
    assert not at.exception
    specs = _specs(at)
    titles = [spec["title"]["text"] for spec in specs]
    assert titles == [t("reports.chart_by_channel"), t("reports.chart_by_step"),
                      t("reports.chart_precheck"), t("reports.chart_by_flag")]
    for spec in specs:
        counts = [e for e in spec["encoding"].values()
                  if isinstance(e, dict) and e.get("type") == "quantitative"]
        assert counts and all(e["axis"] == {"tickMinStep": 1, "format": "d"} for e in counts)
        # No encoded number may be null: Vega-Lite draws no bar for such a row.
        assert "color" not in spec["encoding"]
    labels = {b.label for b in at.download_button}
    assert labels == {t("reports.download")} and len(at.download_button) == len(specs) + 2


def test_help_requests_left_open_are_counted_and_drawn(clinic) -> None:
    from shared.models import FlagKind
    from shared.services import flags

    with session_scope(clinic) as session:
        flags.request_help(session, kiosk_id="lobby-2", now=utcnow(), step=None)
    at = _as("manager", "reports")
    assert not at.exception
    table = at.dataframe[1].value  # pre-check-in, flags, then providers and locations
    row = table[table["Kind"] == t(f"flag.{FlagKind.HELP_REQUEST.value}")]
    assert len(row) == 1 and int(row["Raised"].iloc[0]) >= 1
    assert "None" not in table.astype(str).to_string()
    # The chart's own data (Arrow) has the row, with a count on every encoded field.
    import pyarrow as pa

    chart = at.get("vega_lite_chart")[-1].proto
    (data,) = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.datasets]
    drawn = data[data["c0"] == t("flag.help_request")]
    assert len(drawn) == 1 and drawn["c1"].notna().all()


def test_the_share_of_visits_pre_checked_and_their_kiosk_time_are_shown_with_a_csv(
        clinic) -> None:
    from shared.models import AppointmentStatus, Channel
    from shared.services import precheck
    from tests.factories import make_appointment, make_check_in, make_patient

    tz = get_settings().tz
    today = clinic_today(tz)
    now = utcnow()
    with session_scope(clinic) as session:
        # Two of today's visits pre-checked at home last night: 50 s and 70 s at the kiosk.
        for n, seconds in enumerate((50, 70)):
            visit = make_appointment(session, start=now - timedelta(minutes=30 + n),
                                     status=AppointmentStatus.CHECKED_IN,
                                     patient=make_patient(session, legal_family_name="Ahead"))
            make_check_in(session, visit, channel=Channel.HOME,
                          kiosk_id=precheck.HOME_KIOSK_ID, started_at=now - timedelta(hours=14),
                          completed_at=now - timedelta(hours=14, minutes=-5), last_step="done")
            make_check_in(session, visit, started_at=now - timedelta(minutes=40),
                          completed_at=now - timedelta(minutes=40, seconds=-seconds),
                          last_step="done")
    at = _as("manager", "reports")
    with Session(clinic) as session:
        expected = reports.build_report(session, today - timedelta(days=29), today, tz).precheck
    # The demo day has pre-check-ins of its own (patients still to come, not at the kiosk
    # yet): these two are the only pre-checked patients with a kiosk time.
    assert expected.prechecked >= 2 and expected.kiosk_timed_prechecked == 2
    assert expected.kiosk_median_prechecked == 60
    others = ("—" if expected.kiosk_median_others is None
              else f"{expected.kiosk_median_others:,.0f} s")
    shown = _metrics(at)
    assert shown["Visits pre-checked"] == f"{expected.share * 100:.1f}%"
    assert shown["Kiosk time, pre-checked (median)"] == "60 s"
    assert shown["Kiosk time, others (median)"] == others
    table = next(d.value for d in at.dataframe if "Patients" in d.value.columns)
    assert list(table["Patients"]) == ["Pre-checked at home", "Not pre-checked"]
    assert list(table["Visits"]) == [expected.prechecked, expected.visits - expected.prechecked]
    assert list(table["Kiosk time, median (s)"]) == ["60 s", others]
    assert "rep_dl_precheck" in [b.key for b in at.download_button]
