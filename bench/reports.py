"""`python -m bench.reports`: a year of history and the manager's reports over all of it.

Seeds 365 days of 275 appointments (100,375, with their check-ins and flags) into a
temporary SQLite file with the same generator as `python -m shared.cli seed-history`, then
times the whole report for the year (every figure of the reports page: the median of a few
rounds), the same report for one provider, and one month. Prints the figures too, so a
change in what they say shows up next to a change in how fast they come.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared import migrate
from shared.db import make_engine
from shared.history import seed_history
from shared.services.reports import Report, build_report

TZ = ZoneInfo("America/Chicago")
LAST_DAY = date(2026, 6, 30)
DAYS = 365
PER_DAY = 275
SEED = 7
ROUNDS = 5


def _timed(fn: Callable[[], Report]) -> tuple[float, Report]:
    samples = []
    result = fn()
    for _ in range(ROUNDS):
        began = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), result


def _show(report: Report) -> None:
    kiosk = report.kiosk

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f}%"

    def num(value: float | None, unit: str) -> str:
        return "-" if value is None else f"{value:.1f} {unit}"

    print(f"  appointments {report.appointments:,} (cancelled {report.cancelled:,}, "
          f"no-shows {report.noshows:,}, seen {report.completed:,}); "
          f"no-show rate {pct(report.noshow_rate)}")
    print("  check-ins " + ", ".join(f"{c.channel} {c.started:,}" for c in report.check_ins))
    print(f"  kiosk: {kiosk.completed:,} of {kiosk.started:,} completed "
          f"({pct(kiosk.completion_rate)}), median {num(kiosk.median_seconds, 's')}, "
          f"p90 {num(kiosk.p90_seconds, 's')}; given up after: "
          + ", ".join(f"{s.step} {s.abandoned:,}" for s in kiosk.abandoned_by_step))
    print(f"  median wait for the room {num(report.median_wait_minutes, 'min')} "
          f"({report.waits_measured:,} visits)")
    print("  flags: " + ", ".join(
        f"{f.kind} {f.raised:,} ({num(f.median_resolve_minutes, 'min')})"
        for f in report.flags[:5]) + f", ... ({len(report.flags)} kinds)")
    print(f"  {len(report.providers)} providers, {len(report.locations)} locations")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'history.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        began, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session, session.begin():
            seeded = seed_history(session, tz=TZ, end_day=LAST_DAY, days=DAYS,
                                  per_day=PER_DAY, seed=SEED)
        seed_seconds, seed_cpu = time.perf_counter() - began, time.process_time() - cpu
        statements = {"count": 0}
        event.listen(engine, "before_cursor_execute",
                     lambda *args: statements.__setitem__("count", statements["count"] + 1))
        with Session(engine) as session:
            first = seeded.first_day
            statements["count"] = 0
            year_seconds, year = _timed(lambda: build_report(session, first, LAST_DAY, TZ))
            per_report = statements["count"] // (ROUNDS + 1)
            busiest = year.providers[0].id
            provider_seconds, _ = _timed(lambda: build_report(
                session, first, LAST_DAY, TZ, provider_id=busiest))
            month_seconds, _ = _timed(lambda: build_report(
                session, date(2026, 6, 1), LAST_DAY, TZ))
        engine.dispose()
    print(f"Reports over a year of history ({seeded.first_day} to {seeded.last_day}):")
    print(f"  seeding   {seeded.appointments:,} appointments, {seeded.check_ins:,} check-ins, "
          f"{seeded.flags:,} flags: {seed_seconds:.1f} s ({seed_cpu:.1f} s CPU)")
    print(f"  report, whole year        {year_seconds:6.3f} s  ({per_report} SQL statements)")
    print(f"  report, year, 1 provider  {provider_seconds:6.3f} s")
    print(f"  report, one month         {month_seconds:6.3f} s  (median of {ROUNDS} rounds)")
    _show(year)


if __name__ == "__main__":
    main()
