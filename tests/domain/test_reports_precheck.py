"""Reports on pre-check-in at home (issue 16), every figure worked out by hand, on SQLite and
PostgreSQL. The clinic is in Chicago; T is 10:00 local on Monday 15 June 2026.

Appointments on 15 June (provider, pre-check-in at home on the 14th, kiosk on the day):
  p1  B  done         kiosk 40 s done
  p2  A  done         kiosk 20 s done
  p3  A  done         kiosk 30 s done
  p4  B  started only kiosk 100 s done
  p5  A  none         kiosk 140 s done
  p6  A  none         checked in at the desk (no kiosk time)
  p7  A  done         cancelled: not a visit
  p8  A  done         kiosk given up (no kiosk time)
  p9  A  done         on 20 June: outside the range, kiosk 500 s
=> visits p1-p6, p8 = 7; pre-checked p1 p2 p3 p8 = 4, 4/7.
   kiosk time, pre-checked: 20, 30, 40 -> median 30 s (3 timed); others: 100, 140 -> 120 s.
   Dr. B only: visits p1 p4, pre-checked p1: 1/2; kiosk 40 s against 100 s.
   Home check-ins started in the range (14-16 June): p1-p4, p7, p8 = 6, finished 5.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from shared.models import AppointmentStatus, Channel
from shared.services import precheck, reports
from tests.factories import DEFAULT_START, make_appointment, make_check_in, make_provider

TZ = ZoneInfo("America/Chicago")
T = DEFAULT_START
EVE = T - timedelta(hours=15)  # 19:00 on Sunday 14 June
FIRST, LAST = date(2026, 6, 14), date(2026, 6, 16)
S = AppointmentStatus


@pytest.fixture
def clinic(session: Session) -> dict[str, int]:
    a = make_provider(session, display_name="Dr. A")
    b = make_provider(session, display_name="Dr. B")
    plan = [  # provider, home pre-check-in, kiosk seconds (None: none; "gave up"), status
        (b, "done", 40, S.FULFILLED), (a, "done", 20, S.FULFILLED),
        (a, "done", 30, S.FULFILLED), (b, "started", 100, S.FULFILLED),
        (a, None, 140, S.FULFILLED), (a, None, None, S.FULFILLED),
        (a, "done", None, S.CANCELLED), (a, "done", "gave up", S.NOSHOW),
    ]
    for n, (provider, home, kiosk, status) in enumerate(plan):
        visit = make_appointment(session, start=T, provider=provider, status=status)
        if home is not None:
            make_check_in(session, visit, channel=Channel.HOME,
                          kiosk_id=precheck.HOME_KIOSK_ID, started_at=EVE + timedelta(minutes=n),
                          completed_at=EVE + timedelta(minutes=n + 6) if home == "done"
                          else None, last_step="done" if home == "done" else "insurance")
        if kiosk == "gave up":
            make_check_in(session, visit, started_at=T - timedelta(minutes=9),
                          abandoned_at=T - timedelta(minutes=7), last_step="identity")
        elif kiosk is not None:
            make_check_in(session, visit, started_at=T - timedelta(minutes=5),
                          completed_at=T - timedelta(minutes=5) + timedelta(seconds=kiosk),
                          last_step="done")
        elif n == 5:
            make_check_in(session, visit, channel=Channel.DESK, kiosk_id=None,
                          started_at=T - timedelta(minutes=3),
                          completed_at=T - timedelta(minutes=2), last_step="done")
    later = make_appointment(session, start=T + timedelta(days=5), provider=a,
                             status=S.FULFILLED)
    make_check_in(session, later, channel=Channel.HOME, kiosk_id=precheck.HOME_KIOSK_ID,
                  started_at=later.start - timedelta(days=1),
                  completed_at=later.start - timedelta(days=1, minutes=-5), last_step="done")
    make_check_in(session, later, started_at=later.start,
                  completed_at=later.start + timedelta(seconds=500), last_step="done")
    session.commit()
    return {"a": a.id, "b": b.id}


def test_the_share_of_visits_pre_checked_and_their_kiosk_time_against_the_others(
        session: Session, clinic: dict[str, int]) -> None:
    report = reports.build_report(session, FIRST, LAST, TZ)
    pre = report.precheck

    assert (pre.visits, pre.prechecked) == (7, 4)
    assert pre.share == pytest.approx(4 / 7)
    assert (pre.kiosk_median_prechecked, pre.kiosk_timed_prechecked) == (
        pytest.approx(30), 3)
    assert (pre.kiosk_median_others, pre.kiosk_timed_others) == (pytest.approx(120), 2)
    # Check-ins at home are a channel of their own; the kiosk's figures are the kiosk's only.
    counted = {c.channel: (c.started, c.completed) for c in report.check_ins}
    assert (counted["home"], counted["kiosk"], counted["desk"]) == ((6, 5), (6, 5), (1, 1))
    assert [c.channel for c in report.check_ins] == [c.value for c in Channel]
    assert report.kiosk.median_seconds == pytest.approx(40)  # 20, 30, 40, 100, 140
    # "Check-ins" counts those at the clinic: kiosk 6 + desk 1, not the 6 at home, so a
    # patient who pre-checked and then checked in at the kiosk is counted once.
    assert report.check_ins_total == 7


def test_a_provider_filter_narrows_the_pre_check_in_figures(
        session: Session, clinic: dict[str, int]) -> None:
    pre = reports.build_report(session, FIRST, LAST, TZ, provider_id=clinic["b"]).precheck
    assert (pre.visits, pre.prechecked, pre.share) == (2, 1, pytest.approx(0.5))
    assert (pre.kiosk_median_prechecked, pre.kiosk_median_others) == (
        pytest.approx(40), pytest.approx(100))


def test_a_range_without_visits_has_no_share_and_no_medians(
        session: Session, clinic: dict[str, int]) -> None:
    pre = reports.build_report(session, date(2026, 7, 1), date(2026, 7, 31), TZ).precheck
    assert (pre.visits, pre.prechecked, pre.share) == (0, 0, None)
    assert (pre.kiosk_median_prechecked, pre.kiosk_median_others) == (None, None)
    assert (pre.kiosk_timed_prechecked, pre.kiosk_timed_others) == (0, 0)


@pytest.mark.parametrize("prefix", ["reports.channel_", "patient.channel_"])
def test_every_channel_has_words_on_the_desks_pages_in_every_language(prefix: str) -> None:
    from shared.i18n import CATALOGS

    for lang, catalog in CATALOGS.items():
        assert [c.value for c in Channel if prefix + c.value not in catalog] == [], lang
