"""`python -m bench.reports`: the manager's reports on one year and on five years of history.

Seeds two databases with the same generator as `python -m shared.cli seed-history`: one year
and five years of clinic days ending on the same day, PER_DAY appointments a day (with their
check-ins and flags). 100 a day keeps five years (182,600 appointments) to about half a minute
of seeding per database on a 2-core machine. Then compares, in alternating rounds, a
one-month report on five years (measured) with the same report on one year (baseline): with
indexes on every range the reports filter on, the month costs about the same whatever lies
before it (goal: within 2x). The whole last year is compared the same way. Prints the
year's figures too, so a change in what they say shows up next to a change in how fast.
"""

from __future__ import annotations

import time
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench import harness
from shared.db import make_engine
from shared.history import HistoryResult, seed_history
from shared.services.reports import Report, build_report

TZ = ZoneInfo("America/Chicago")
LAST_DAY = date(2026, 6, 30)
MONTH = (date(2026, 6, 1), LAST_DAY)
YEAR = (date(2025, 7, 1), LAST_DAY)
PER_DAY = 100
SEED = 7
MONTH_ROUNDS = 7
YEAR_ROUNDS = 3
GOAL_RATIO = 2.0


def _show(report: Report) -> None:
    kiosk = report.kiosk

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f}%"

    def num(value: float | None, unit: str) -> str:
        return "-" if value is None else f"{value:.1f} {unit}"

    print(f"    appointments {report.appointments:,} (cancelled {report.cancelled:,}, "
          f"no-shows {report.noshows:,}, seen {report.completed:,}); "
          f"no-show rate {pct(report.noshow_rate)}")
    print("    check-ins " + ", ".join(f"{c.channel} {c.started:,}" for c in report.check_ins))
    print(f"    kiosk: {kiosk.completed:,} of {kiosk.started:,} completed "
          f"({pct(kiosk.completion_rate)}), median {num(kiosk.median_seconds, 's')}, "
          f"p90 {num(kiosk.p90_seconds, 's')}; given up after: "
          + ", ".join(f"{s.step} {s.abandoned:,}" for s in kiosk.abandoned_by_step))
    print(f"    median wait for the room {num(report.median_wait_minutes, 'min')} "
          f"({report.waits_measured:,} visits)")
    print("    flags: " + ", ".join(
        f"{f.kind} {f.raised:,} ({num(f.median_resolve_minutes, 'min')})"
        for f in report.flags[:5]) + f", ... ({len(report.flags)} kinds)")
    print(f"    {len(report.providers)} providers, {len(report.locations)} locations")


def _seed(engine: Engine, years: int) -> tuple[HistoryResult, float]:
    began = time.perf_counter()
    with Session(engine) as session, session.begin():
        seeded = seed_history(session, tz=TZ, end_day=LAST_DAY, years=years, per_day=PER_DAY,
                              seed=SEED)
    harness.analyze(engine)
    return seeded, time.perf_counter() - began


def _report(engine: Engine, first: date, last: date) -> Report:
    with Session(engine) as session:
        return build_report(session, first, last, TZ)


def run(backend: str) -> Report:
    with harness.database(backend) as one_url, harness.database(backend) as five_url:
        one, five = make_engine(one_url), make_engine(five_url)
        for engine, years in ((one, 1), (five, 5)):
            seeded, seconds = _seed(engine, years)
            print(f"  {backend}: seeded {years} year{'s' if years > 1 else ''} "
                  f"({seeded.first_day} to {seeded.last_day}), {seeded.appointments:,} "
                  f"appointments, {seeded.check_ins:,} check-ins, {seeded.flags:,} flags, "
                  f"{PER_DAY} a day: {seconds:.1f} s")
        counter = harness.StatementCounter(five)
        statements = counter.during(lambda: _report(five, *MONTH))
        counter.remove()
        for label, span, rounds in (("one month", MONTH, MONTH_ROUNDS),
                                    ("the last year", YEAR, YEAR_ROUNDS)):
            comparison = harness.compare(
                f"report, {label} ({span[0]} to {span[1]}), on 5 years, {backend}",
                lambda s=span: _report(five, *s), lambda s=span: _report(one, *s),
                baseline_name="the same report on 1 year", rounds=rounds)
            if label == "one month":
                comparison.note = f"[{statements} SQL statements]"
            print("  " + comparison.line())
            if label == "one month":
                print(harness.goal(comparison.ratio <= GOAL_RATIO, f"<= {GOAL_RATIO:g}x"))
        year = _report(one, *YEAR)
        one.dispose()
        five.dispose()
    return year


def main() -> None:
    harness.heading("Reports: a month on five years of history against the same month on one "
                    f"year (goal within {GOAL_RATIO:g}x)")
    year = None
    for backend in harness.backends():
        year = run(backend)
    assert year is not None
    print(f"  the last year's figures ({YEAR[0]} to {YEAR[1]}):")
    _show(year)


if __name__ == "__main__":
    main()
