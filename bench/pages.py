"""`python -m bench.pages`: whole dashboard pages (AppTest reruns) as the day grows.

Issue 13 asks two things of the desk's pages, each measured here as a ratio in one run:

- a whole arrivals page for 1,000 appointments today under 5x the page for 300: the board
  shows the hours around now and everyone here by default (its cost follows what is shown,
  not the size of the day), and the page is measured both that way and with "Whole day";
- the queue page's cost does not grow with late booked patients: the same day with 200
  booked patients past the grace period against the day where those 200 were seen.

One migrated database (SQLite, and PostgreSQL when CHECKIN_TEST_POSTGRES_URL is set) holds
the demo clinic (for its staff) and four bench days, each seen at 10:00 in the clinic's zone
through the product's own clock (CHECKIN_CLOCK_START): 300 and 1,000 appointments for the
arrivals page; 500 for the queue page, alike but for 200 morning appointments that are
either still booked (late) or fulfilled. The dashboard runs in this process under Streamlit's
AppTest, signed in as the demo representative, one AppTest per case, each pointed at its day
by the clock. A round is one whole rerun of the page (the app's sign-in gate and navigation
included). The smaller case is the baseline; rounds alternate (harness.compare).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from bench import harness
from shared import clock
from shared.clinic_time import at_clinic_time
from shared.config import get_settings
from shared.db import get_engine, make_engine
from shared.demo import DEMO_PASSWORDS, seed_demo
from shared.i18n import t
from shared.models import Appointment, AppointmentStatus, Location, Patient, Provider
from shared.services import clinic_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(PROJECT_ROOT / "dashboard" / "app.py")
CLINIC_TZ = "America/Chicago"
TZ = ZoneInfo(CLINIC_TZ)
NOW_HOUR = 10  # each bench day is seen at 10:00, a morning in full swing
OPEN_HOUR, CLOSE_HOUR = 8, 17
DEMO_DAY = date(2026, 6, 8)
ARRIVALS_DAYS = {300: date(2026, 6, 15), 1000: date(2026, 6, 16)}
QUEUE_DAYS = {0: date(2026, 6, 17), 200: date(2026, 6, 18)}  # late booked patients
QUEUE_BASE = 300  # the queue days: this day's shape plus 200 morning appointments
LATE = 200
ROUNDS = 11
ARRIVALS_GOAL = 5.0
QUEUE_GOAL = 1.5  # "does not grow": within noise of the day without late patients
ENV = ("CHECKIN_DATABASE_URL", "CHECKIN_INSTANCE_DIR", "CHECKIN_TIMEZONE", "CHECKIN_SECRET_KEY",
       clock.ENV_VAR, clock.SET_AT_VAR)


class BenchError(Exception):
    """A page did not run cleanly, so its time would mean nothing."""


# --- The days --------------------------------------------------------------------------------


def _local(day: date, minutes: int) -> datetime:
    return at_clinic_time(day, OPEN_HOUR + minutes // 60, minutes % 60, TZ)


def _day_rows(day: date, count: int, patients: list[int], providers: list[int],
              locations: list[int]) -> list[dict]:
    """`count` appointments spread evenly over clinic hours, each in the state it would be
    in at 10:00: over an hour ago seen (a few no-shows), the last hour waiting or in a room
    with a ticket, the rest booked."""
    now = at_clinic_time(day, NOW_HOUR, 0, TZ)
    span = (CLOSE_HOUR - OPEN_HOUR) * 60
    rows = []
    for i, patient_id in enumerate(patients[:count]):
        start = _local(day, i * span // count // 5 * 5)
        row = {"patient_id": patient_id, "provider_id": providers[i % len(providers)],
               "location_id": locations[i % len(locations)], "start": start,
               "visit_type": "Follow-up", "status": AppointmentStatus.BOOKED}
        if start < now - timedelta(hours=1):
            if i % 20 == 0:
                row["status"] = AppointmentStatus.NOSHOW
            else:
                row.update(status=AppointmentStatus.FULFILLED,
                           arrived_at=start - timedelta(minutes=10),
                           completed_at=start + timedelta(minutes=25))
        elif start <= now:
            row.update(status=(AppointmentStatus.CHECKED_IN, AppointmentStatus.ARRIVED,
                               AppointmentStatus.IN_ROOM)[i % 3],
                       arrived_at=start - timedelta(minutes=10))
        rows.append(row)
    return rows


def _late_rows(day: date, late: bool, patients: list[int], providers: list[int],
               locations: list[int]) -> list[dict]:
    """200 appointments between 08:00 and 09:30: booked and never came (late), or seen."""
    rows = []
    for i, patient_id in enumerate(patients):
        start = _local(day, i * 90 // len(patients) // 5 * 5)
        row = {"patient_id": patient_id, "provider_id": providers[i % len(providers)],
               "location_id": locations[i % len(locations)], "start": start,
               "visit_type": "Follow-up", "status": AppointmentStatus.BOOKED}
        if not late:
            row.update(status=AppointmentStatus.FULFILLED,
                       arrived_at=start - timedelta(minutes=10),
                       completed_at=start + timedelta(minutes=25))
        rows.append(row)
    return rows


def _with_tickets(day: date, rows: list[dict]) -> list[dict]:
    number = 0
    for row in sorted(rows, key=lambda r: r.get("arrived_at") or r["start"]):
        if row.get("arrived_at") is not None:
            number += 1
            row.update(ticket=f"A{number:03d}", ticket_day=day)
    return rows


def build(engine: Engine) -> None:
    """The demo clinic on a day of its own (its staff sign in), then the four bench days."""
    with Session(engine) as session, session.begin():
        seed_demo(session, tz=TZ, now=at_clinic_time(DEMO_DAY, NOW_HOUR, 0, TZ))
    with Session(engine) as session, session.begin():
        providers = list(session.scalars(insert(Provider).returning(Provider.id), [
            {"display_name": f"Dr. Page {i}"} for i in range(12)]))
        locations = list(session.scalars(insert(Location).returning(Location.id), [
            {"name": f"Page wing {i}", "department": "Clinic"} for i in range(3)]))

        def patients(tag: str, count: int) -> list[int]:
            return list(session.scalars(insert(Patient).returning(Patient.id), [
                {"mrn": f"PG-{tag}-{i:05d}", "legal_given_name": "Test",
                 "legal_family_name": f"Page{tag}{i}",
                 "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28)}
                for i in range(count)]))

        for size, day in ARRIVALS_DAYS.items():
            rows = _day_rows(day, size, patients(f"a{size}", size), providers, locations)
            session.execute(insert(Appointment), _with_tickets(day, rows))
        for late, day in QUEUE_DAYS.items():
            rows = _day_rows(day, QUEUE_BASE, patients(f"q{late}", QUEUE_BASE), providers,
                             locations)
            rows += _late_rows(day, bool(late), patients(f"l{late}", LATE), providers,
                               locations)
            session.execute(insert(Appointment), _with_tickets(day, rows))


# --- The app under AppTest -------------------------------------------------------------------


def _clear_process_caches() -> None:
    # Clearing st.cache_resource outside a script run warns "missing ScriptRunContext".
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    get_settings.cache_clear()
    get_engine.cache_clear()
    st.cache_resource.clear()
    clinic_settings.forget_cached()


@contextmanager
def app_environment(url: str) -> Iterator[None]:
    """The variables a real run of the dashboard reads, pointing at `url`; restored after."""
    saved = {name: os.environ.get(name) for name in ENV}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
        os.environ.update(CHECKIN_DATABASE_URL=url, CHECKIN_INSTANCE_DIR=folder,
                          CHECKIN_TIMEZONE=CLINIC_TZ,
                          CHECKIN_SECRET_KEY=secrets.token_urlsafe(48))
        _clear_process_caches()
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            _clear_process_caches()


@dataclass
class Case:
    """One AppTest of the dashboard, signed in, on a page, seeing `day` at 10:00."""

    name: str
    at: AppTest
    clock_env: dict[str, str]

    def run(self) -> None:
        os.environ.update(self.clock_env)
        self.at.run()
        _check(self.at, self.name)


_GENERIC = {t(key, lang) for key in ("dash.error_generic", "error.generic")
            for lang in ("en", "es")}


def _check(at: AppTest, name: str) -> None:
    if at.exception:
        raise BenchError(f"{name}: the script raised: {at.exception[0].value}")
    shown = [e.value for e in at.error if e.value in _GENERIC]
    if shown:
        raise BenchError(f"{name}: the page showed the generic error (see the log)")


def open_page(name: str, day: date, page: str, **checked: bool) -> Case:
    """The dashboard signed in as the demo representative on `page`, seeing `day`."""
    case = Case(name, AppTest.from_file(DASHBOARD, default_timeout=120),
                clock.environment_at(at_clinic_time(day, NOW_HOUR, 0, TZ)))
    at = case.at
    case.run()
    at.text_input(key="sign_in_username").input("rep")
    at.text_input(key="sign_in_password").input(DEMO_PASSWORDS["rep"])
    at.button[0].click()
    case.run()
    at.switch_page(f"screens/{page}.py")
    case.run()
    for key, value in checked.items():
        at.checkbox(key=key).set_value(value)
        case.run()
    if not at.title or at.title[0].value != t("dash.arrivals" if page == "arrivals"
                                              else "queue.title"):
        raise BenchError(f"{name}: the {page} page did not open (signed in?)")
    return case


def _rows_shown(case: Case) -> int:
    """Rows in the page's first table (the arrivals board)."""
    return len(case.at.dataframe[0].value) if case.at.dataframe else 0


def _options(case: Case, key: str) -> int:
    """How many choices the picker with `key` offers (0 when the page has none)."""
    found = [s for s in case.at.selectbox if s.key == key]
    return len(found[0].options) if found else 0


def _summary(case: Case) -> str:
    return next((c.value for c in case.at.caption if "·" in c.value and "today" in c.value),
                "")


def run(backend: str) -> list[tuple[harness.Comparison, float]]:
    results = []
    with harness.database(backend) as url:
        engine = make_engine(url)
        build(engine)
        harness.analyze(engine)
        engine.dispose()
        with app_environment(url), harness.script_compiled_once():
            for whole_day in (False, True):
                view = "whole day" if whole_day else "default view (hours around now)"
                small, big = (open_page(f"arrivals {size} {view}", day, "arrivals",
                                        filter_whole_day=whole_day)
                              for size, day in ARRIVALS_DAYS.items())
                comparison = harness.compare(
                    f"arrivals page rerun (AppTest), 1,000 appointments today, {view}, "
                    f"{backend}", big.run, small.run,
                    baseline_name="the same page with 300", rounds=ROUNDS)
                comparison.note = (f"[rows shown {_rows_shown(big)} vs {_rows_shown(small)}; "
                                   f"{_summary(big)!r}]")
                results.append((comparison, ARRIVALS_GOAL))
            without, with_late = (open_page(f"queue, {late} late", day, "queue")
                                  for late, day in QUEUE_DAYS.items())
            comparison = harness.compare(
                f"queue page rerun (AppTest), {LATE} late booked patients, {backend}",
                with_late.run, without.run, baseline_name="the same day with none late",
                rounds=ROUNDS)
            comparison.note = (f"[late patients listed {_options(with_late, 'noshow_selected')}"
                               f" vs {_options(without, 'noshow_selected')}, buttons on the "
                               f"page {len(with_late.at.button)} vs {len(without.at.button)}]")
            results.append((comparison, QUEUE_GOAL))
    return results


def main() -> None:
    harness.heading(
        f"Pages: whole dashboard reruns under AppTest as the day grows ({harness.machine()}; "
        f"goals: arrivals at 1,000 under {ARRIVALS_GOAL:g}x the page at 300, the queue "
        f"with {LATE} late booked within {QUEUE_GOAL:g}x)")
    for backend in harness.backends():
        for comparison, goal in run(backend):
            print("  " + comparison.line())
            print(harness.goal(comparison.ratio < goal, f"< {goal:g}x"))


if __name__ == "__main__":
    main()
