"""Manager reports over a small dataset whose every figure is worked out by hand below, on
SQLite and on PostgreSQL; the history generator; the audit log query; the CLI command.

The clinic is in Chicago (CDT, UTC-5, in June). T is 10:00 local on Monday 15 June 2026.

Appointments (provider / location / status), range 14-16 June:
  a1  A / L1  fulfilled  checked in T-10m, in room T+5m            wait 15 min
  a2  A / L1  fulfilled  arrived T (never checked in), room T+25m  wait 25 min
  a3  B / L2  fulfilled  checked in T, in room T+35m               wait 35 min
  a4  B / L2  no-show
  a5  A / L2  cancelled
  a7  A / L2  fulfilled  16 June 23:30 local (17 June 04:30 UTC): inside the range
  a8  B / L1  no-show    13 June 23:30 local (14 June 04:30 UTC): outside
  a6  A / L1  no-show    20 June: outside
=> 6 appointments, 1 cancelled, 1 no-show, 4 seen; no-show rate 1 / (6 - 1) = 20%;
   median wait of 15, 25, 35 = 25 min.

Check-ins (by started_at):
  kiosk a1 60 s done; kiosk a2 120 s done; kiosk a3 180 s done;
  kiosk a2 given up after "insurance"; desk a2 done; phone a7 done (at 04:30 UTC on 17 June);
  kiosk a6 given up after "identity" (20 June: outside)
=> kiosk 4 started, 3 completed: 75%; given up: insurance 1;
   median of 60, 120, 180 = 120 s; 90th percentile (percentile_cont): position 0.9 x 2 = 1.8,
   so 120 + 0.8 x (180 - 120) = 168 s. Desk 1/1, phone 1/1.

Flags (by raised_at):
  insurance_change a1 resolved after 10 min, a2 after 20, a3 after 40, a3 still open;
  help_request (no appointment) resolved after 3 min; address_change a6 (20 June: outside)
=> insurance_change raised 4, resolved 3, median 20 min; help_request 1, 1, 3 min.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import cli, history
from shared.config import get_settings
from shared.db import get_engine, make_engine
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    CheckIn,
    FlagKind,
    FlagStatus,
)
from shared.services import audit, reports
from tests.factories import (
    DEFAULT_START,
    make_appointment,
    make_check_in,
    make_flag,
    make_location,
    make_patient,
    make_provider,
)

TZ = ZoneInfo("America/Chicago")
T = DEFAULT_START  # 10:00 in Chicago on 15 June 2026
S = AppointmentStatus
FIRST, LAST = date(2026, 6, 14), date(2026, 6, 16)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


@pytest.fixture
def clinic(session: Session) -> dict[str, int]:
    patient = make_patient(session)
    a = make_provider(session, display_name="Dr. A")
    b = make_provider(session, display_name="Dr. B")
    l1, l2 = make_location(session, name="L1"), make_location(session, name="L2")

    def appt(provider, location, status, start=T, **times):
        return make_appointment(session, patient=patient, provider=provider, location=location,
                                status=status, start=start, **times)

    a1 = appt(a, l1, S.FULFILLED, checked_in_at=T - minutes(10), in_room_at=T + minutes(5))
    a2 = appt(a, l1, S.FULFILLED, arrived_at=T, in_room_at=T + minutes(25))
    a3 = appt(b, l2, S.FULFILLED, checked_in_at=T, in_room_at=T + minutes(35))
    appt(b, l2, S.NOSHOW)
    appt(a, l2, S.CANCELLED)
    a6 = appt(a, l1, S.NOSHOW, start=T + timedelta(days=5))
    a7 = appt(a, l2, S.FULFILLED, start=datetime(2026, 6, 17, 4, 30, tzinfo=UTC))
    appt(b, l1, S.NOSHOW, start=datetime(2026, 6, 14, 4, 30, tzinfo=UTC))

    make_check_in(session, a1, started_at=T - minutes(12),
                  completed_at=T - minutes(12) + seconds(60), last_step="done")
    make_check_in(session, a2, started_at=T, completed_at=T + seconds(120), last_step="done")
    make_check_in(session, a3, started_at=T, completed_at=T + seconds(180), last_step="done")
    make_check_in(session, a2, started_at=T - minutes(20), abandoned_at=T - minutes(15),
                  last_step="insurance")
    make_check_in(session, a2, channel=Channel.DESK, kiosk_id=None, started_at=T + minutes(1),
                  completed_at=T + minutes(3), last_step="done")
    make_check_in(session, a7, channel=Channel.PHONE, kiosk_id=None, started_at=a7.start,
                  completed_at=a7.start + minutes(2), last_step="done")
    make_check_in(session, a6, started_at=a6.start, abandoned_at=a6.start + minutes(2))

    for appointment, after in ((a1, 10), (a2, 20), (a3, 40)):
        make_flag(session, FlagKind.INSURANCE_CHANGE, appointment=appointment,
                  status=FlagStatus.ACCEPTED, resolved_at=T + minutes(after))
    make_flag(session, FlagKind.INSURANCE_CHANGE, appointment=a3)
    make_flag(session, FlagKind.HELP_REQUEST, patient=patient, status=FlagStatus.ACCEPTED,
              resolved_at=T + minutes(3))
    make_flag(session, FlagKind.ADDRESS_CHANGE, appointment=a6, raised_at=a6.start,
              status=FlagStatus.REJECTED, resolved_at=a6.start + minutes(1))
    session.commit()
    return {"a": a.id, "b": b.id, "l1": l1.id, "l2": l2.id}


def test_the_whole_clinic_over_three_days(session: Session, clinic: dict[str, int]) -> None:
    report = reports.build_report(session, FIRST, LAST, TZ)

    assert (report.appointments, report.cancelled, report.noshows, report.completed) == (
        6, 1, 1, 4)
    assert report.noshow_rate == pytest.approx(0.20)
    assert report.median_wait_minutes == pytest.approx(25)
    assert report.waits_measured == 3

    # Every channel is listed, in the enum's order, those with no check-in at zero.
    assert [(c.channel, c.started, c.completed) for c in report.check_ins] == [
        (c.value, *{"kiosk": (4, 3), "desk": (1, 1), "phone": (1, 1)}.get(c.value, (0, 0)))
        for c in Channel]
    assert report.check_ins_total == 6
    kiosk = report.kiosk
    assert (kiosk.started, kiosk.completed, kiosk.abandoned) == (4, 3, 1)
    assert kiosk.completion_rate == pytest.approx(0.75)
    assert [(s.step, s.abandoned) for s in kiosk.abandoned_by_step] == [("insurance", 1)]
    assert kiosk.median_seconds == pytest.approx(120)
    assert kiosk.p90_seconds == pytest.approx(168)

    assert [(f.kind, f.raised, f.resolved) for f in report.flags] == [
        ("insurance_change", 4, 3), ("help_request", 1, 1)]
    assert report.flags[0].median_resolve_minutes == pytest.approx(20)
    assert report.flags[1].median_resolve_minutes == pytest.approx(3)


def test_per_provider_and_per_location(session: Session, clinic: dict[str, int]) -> None:
    report = reports.build_report(session, FIRST, LAST, TZ)
    providers = {g.name: (g.appointments, g.cancelled, g.noshows, g.completed)
                 for g in report.providers}
    # A: a1 a2 a5 a7 (a5 cancelled); B: a3 a4 (a4 no-show)
    assert providers == {"Dr. A": (4, 1, 0, 3), "Dr. B": (2, 0, 1, 1)}
    assert [g.name for g in report.providers] == ["Dr. A", "Dr. B"]  # busiest first
    locations = {g.name: (g.appointments, g.cancelled, g.noshows, g.completed)
                 for g in report.locations}
    # L1: a1 a2; L2: a3 a4 a5 a7
    assert locations == {"L1": (2, 0, 0, 2), "L2": (4, 1, 1, 2)}
    b = next(g for g in report.providers if g.name == "Dr. B")
    assert b.noshow_rate == pytest.approx(0.5)


def test_a_provider_filter_reaches_check_ins_and_flags(
    session: Session, clinic: dict[str, int]
) -> None:
    report = reports.build_report(session, FIRST, LAST, TZ, provider_id=clinic["b"])
    assert (report.appointments, report.noshows) == (2, 1)
    assert report.noshow_rate == pytest.approx(0.5)
    assert [(c.channel, c.started) for c in report.check_ins] == [
        (c.value, 1 if c == Channel.KIOSK else 0) for c in Channel]
    assert report.kiosk.median_seconds == pytest.approx(180)
    assert report.kiosk.p90_seconds == pytest.approx(180)
    assert report.median_wait_minutes == pytest.approx(35)
    # a3's two insurance flags; the help request belongs to no appointment, so it is out.
    assert [(f.kind, f.raised, f.resolved) for f in report.flags] == [
        ("insurance_change", 2, 1)]
    assert report.flags[0].median_resolve_minutes == pytest.approx(40)

    both = reports.build_report(session, FIRST, LAST, TZ, provider_id=clinic["a"],
                                location_id=clinic["l1"])
    assert (both.appointments, both.completed) == (2, 2)
    assert both.median_wait_minutes == pytest.approx(20)  # 15 and 25


def test_an_even_count_takes_the_mean_of_the_middle_two(
    session: Session, clinic: dict[str, int]
) -> None:
    report = reports.build_report(session, date(2026, 6, 15), date(2026, 6, 15), TZ,
                                  provider_id=clinic["a"])
    # Dr. A on 15 June: kiosk a1 (60 s) and a2 (120 s) done -> median 90, p90 60 + 0.9 x 60.
    assert report.kiosk.median_seconds == pytest.approx(90)
    assert report.kiosk.p90_seconds == pytest.approx(114)
    # Flags of a1 (10 min) and a2 (20 min) -> 15.
    assert report.flags[0].median_resolve_minutes == pytest.approx(15)


def test_an_empty_range_has_no_rates_and_no_medians(
    session: Session, clinic: dict[str, int]
) -> None:
    report = reports.build_report(session, date(2026, 7, 1), date(2026, 7, 31), TZ)
    assert report.appointments == 0
    assert report.noshow_rate is None
    assert report.kiosk.completion_rate is None
    assert report.kiosk.median_seconds is None and report.kiosk.p90_seconds is None
    assert report.median_wait_minutes is None
    assert report.flags == [] and report.providers == [] and report.locations == []
    assert [c.started for c in report.check_ins] == [0] * len(Channel)


def test_a_range_that_ends_before_it_starts_is_refused(session: Session) -> None:
    with pytest.raises(reports.InvalidRange) as error:
        reports.build_report(session, date(2026, 6, 16), date(2026, 6, 14), TZ)
    assert error.value.key == "reports.bad_range"


def test_interpolation_matches_percentile_cont() -> None:
    values = {0: 60.0, 1: 120.0, 2: 180.0}
    assert reports.interpolate(values, 3, 0.5) == 120
    assert reports.interpolate(values, 3, 0.9) == pytest.approx(168)
    assert reports.interpolate({0: 7.0}, 1, 0.9) == 7
    assert reports.interpolate({}, 0, 0.5) is None


def test_picked_range() -> None:
    day = date(2026, 6, 15)
    assert reports.picked_range(day) == (day, day)
    assert reports.picked_range((day, day + timedelta(days=1))) == (day, day + timedelta(days=1))
    assert reports.picked_range((day,)) is None
    assert reports.picked_range(()) is None


# --- The audit log ---------------------------------------------------------------------------


def test_audit_log_filters_newest_first_and_limits(session: Session) -> None:
    for i in range(5):
        audit.record(session, actor_type="staff", actor_id=7, action="desk.called",
                     record_type="appointment", record_id=100 + i, at=T + minutes(i))
    audit.record(session, actor_type="desk", actor_id=7, action="checkin.started",
                 record_type="appointment", record_id=100, at=T + minutes(10))
    audit.record(session, actor_type="kiosk", actor_id="kiosk-1", action="checkin.started",
                 record_type="appointment", record_id=101, at=T + minutes(11))
    audit.record(session, actor_type="staff", actor_id=8, action="settings.updated",
                 record_type="clinic_setting", at=T + timedelta(days=3))
    session.commit()

    everything = reports.audit_events(session, FIRST, LAST, TZ)
    assert everything.total == 7  # the settings change on 18 June is out of range
    assert [r.record_id for r in everything.rows[:2]] == [101, 100]  # newest first

    staff = reports.audit_events(session, FIRST, LAST, TZ, staff_user_id=7)
    assert staff.total == 6  # the desk check-in counts as hers
    assert all(r.actor_id == "7" for r in staff.rows)

    one = reports.audit_events(session, FIRST, LAST, TZ, action="checkin.started",
                               record_type="appointment", record_id=100)
    assert [(r.actor_type, r.record_id) for r in one.rows] == [("desk", 100)]

    limited = reports.audit_events(session, FIRST, LAST, TZ, limit=3)
    assert (len(limited.rows), limited.total) == (3, 7)

    actions, types, _ = reports.audit_choices(session)
    assert actions == ["checkin.started", "desk.called", "settings.updated"]
    assert types == ["appointment", "clinic_setting"]


# --- History -------------------------------------------------------------------------------


def test_seed_history_writes_days_times_per_day_and_reports_read_it(session: Session) -> None:
    result = history.seed_history(session, tz=TZ, end_day=date(2026, 6, 3), days=3,
                                  per_day=40, seed=3)
    session.commit()
    assert result.appointments == 120
    assert (result.first_day, result.last_day) == (date(2026, 6, 1), date(2026, 6, 3))
    assert session.scalar(select(func.count()).select_from(Appointment)) == 120
    assert session.scalar(select(func.count()).select_from(CheckIn)) == result.check_ins
    assert session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "history.seeded")) == 1

    report = reports.build_report(session, result.first_day, result.last_day, TZ)
    assert report.appointments == 120
    assert report.completed + report.noshows + report.cancelled == 120
    assert report.kiosk.started > report.kiosk.completed > 0
    assert report.kiosk.abandoned == report.kiosk.started - report.kiosk.completed
    assert report.kiosk.median_seconds is not None and report.median_wait_minutes is not None
    # Every visit that was seen was checked in once successfully (kiosk, desk or phone).
    assert sum(c.completed for c in report.check_ins) == report.completed
    # Nothing falls outside the days asked for.
    outside = reports.build_report(session, date(2026, 6, 4), date(2026, 6, 30), TZ)
    assert outside.appointments == 0

    with pytest.raises(ValueError, match="already present"):
        history.seed_history(session, tz=TZ, end_day=date(2026, 6, 3), days=1, per_day=1)


def test_seed_history_is_deterministic(tmp_path: Path, sqlite_template: Path) -> None:
    figures = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.db"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        with Session(engine) as session:
            history.seed_history(session, tz=TZ, end_day=date(2026, 6, 3), days=2,
                                 per_day=30, seed=11)
            session.commit()
            figures.append(reports.build_report(session, date(2026, 6, 2), date(2026, 6, 3),
                                                TZ))
        engine.dispose()
    assert figures[0] == figures[1]


def test_seed_history_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    sqlite_template: Path,
) -> None:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("CHECKIN_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        argv = ["seed-history", "--days", "2", "--per-day", "10", "--end-day", "2026-06-03"]
        assert cli.main(argv) == 0
        out = capsys.readouterr().out
        assert out.startswith("Seeded 20 appointments") and "2026-06-02 to 2026-06-03" in out
        assert cli.main(argv) == cli.EXIT_USAGE
        assert "already present" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()


def test_a_check_in_still_under_way_does_not_lower_the_completion_rate() -> None:
    from shared.services.reports import KioskSummary

    summary = KioskSummary(started=3, completed=1, abandoned=1, abandoned_by_step=[],
                           median_seconds=None, p90_seconds=None)
    assert summary.completion_rate == pytest.approx(0.5)


def test_every_kind_of_flag_raised_is_counted_resolved_or_not(session: Session) -> None:
    # One of each kind the product knows (a walk-away, a help press still open included),
    # and a second help press acknowledged but never resolved: every kind is a row.
    patient = make_patient(session)
    appointment = make_appointment(session, patient=patient)
    for i, kind in enumerate(FlagKind):
        resolved = {"status": FlagStatus.ACCEPTED, "resolved_at": T + minutes(i + 1)} \
            if i % 2 else {}
        make_flag(session, kind, appointment=appointment, **resolved)
    make_flag(session, FlagKind.HELP_REQUEST, patient=None, kiosk_id="lobby-2",
              acknowledged_at=T + minutes(1))
    session.commit()
    report = reports.build_report(session, FIRST, LAST, TZ)
    counted = {f.kind: (f.raised, f.resolved) for f in report.flags}
    assert set(counted) == {kind.value for kind in FlagKind}
    assert counted[FlagKind.HELP_REQUEST.value][0] == 2
    assert counted[FlagKind.LEFT_KIOSK.value][0] == 1
    for f in report.flags:
        assert (f.median_resolve_minutes is None) == (f.resolved == 0)
