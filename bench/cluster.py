"""`python -m bench.cluster`: four kiosk and four dashboard processes on one PostgreSQL.

Issue 13 (scale past one machine, docs/deploy.md): start 4 dashboard processes and 4 kiosk
processes against one PostgreSQL, drive them at once, and show no duplicate ticket, no lost
update and the combined throughput.

One fresh schema on the PostgreSQL server (CHECKIN_TEST_POSTGRES_URL, or the local test
server), the demo clinic plus a busy day (bench.screens), and for this bench BOOKED
appointments to check in and RACED patients waiting to be called. Then:

- Eight real `streamlit run` processes (kiosk/app.py x4, dashboard/app.py x4) on their own
  ports, with the settings a deployment gives every process alike (one database URL, one
  secret key, one clinic zone; the clock at 10:00 on the bench day), started side by side
  and health-checked (GET /_stcore/health). Each kiosk serves a first page from the
  database to a websocket session; each dashboard gets DESK_SCREENS signed-in sessions
  (Streamlit's websocket protocol, bench.screens.Screen) that refresh the arrivals board
  every 5 s for the whole run, their server time logged by the run timer.
- Worker processes, each with its own engine on the same database, as app processes have:
  KIOSKS kiosk workers check patients in through the services the kiosk calls
  (checkin.begin, then checkin.complete, each in run_transaction), each its own patients;
  DESKS desk workers race: all of them call the same waiting patients to a room, each with
  the version it read before the race (desk.call_to_room with expected_version), as four
  representatives pressing "Call" on the same row of the queue.

Rounds alternate (after a warm-up of each): the baseline is one kiosk worker alone; the
measured round is the cluster at once, KIOSKS kiosk workers and DESKS desk racers. Both run
while the desk screens refresh. A round's rate is its check-ins over the time from the
common start instant to the last kiosk worker's end.

Checks at the end, in the database: every ticket different within its day and none
missing, every appointment checked in exactly once (one completed check-in, one audit
event), and for every raced patient exactly one winner (the room is the winner's, the
version went up by one, one audit event): no lost update. After the drive every dashboard
shows the same day counts, read from the same database.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import websockets
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import harness
from bench.screens import (
    DAY,
    STEP_TIMEOUT_S,
    TZ,
    App,
    BenchError,
    ConnectionSampler,
    Screen,
    Window,
    app_environment,
    named,
    p90,
    postgres_schema,
    refreshes,
    schema_of,
    seed_busy_day,
    start_app,
    stop_apps,
    wait_healthy,
)
from shared.clinic_time import at_clinic_time
from shared.db import make_engine, run_transaction, session_scope
from shared.i18n import t
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    CheckIn,
    Location,
    Patient,
    Provider,
    StaffUser,
)
from shared.services import checkin, desk
from shared.services.board import day_counts
from shared.services.clinic_settings import ClinicSettings

KIOSK_APPS = DASHBOARD_APPS = 4
KIOSKS = DESKS = 4  # worker processes
EACH = 20  # check-ins per kiosk worker per round
RACED = 30  # patients all desk workers try to call, per measured round
ROUNDS = 3  # of each kind, alternating, after a warm-up of each
DESK_SCREENS = 3  # signed-in sessions on each dashboard, refreshing every 5 s
RULES = ClinicSettings()
START_DELAY_S = 0.5  # from handing out a round's work to its common start instant
ROUND_TIMEOUT_S = 120


# --- The data --------------------------------------------------------------------------------


def _booked_count() -> int:
    return EACH * (KIOSKS + 1) * (ROUNDS + 1)


def add_bench_patients(url: str) -> tuple[list[int], list[int]]:
    """Booked appointments for the kiosks and waiting patients for the desk race, spread over
    the bench day from 10:00; their ids (booked, waiting)."""
    booked_count, raced_count = _booked_count(), RACED * (ROUNDS + 1)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            providers = list(session.scalars(insert(Provider).returning(Provider.id), [
                {"display_name": f"Dr. Cluster {i}"} for i in range(8)]))
            location = session.scalar(insert(Location).returning(Location.id),
                                      [{"name": "Cluster wing", "department": "Clinic"}])
            total = booked_count + raced_count
            patients = list(session.scalars(insert(Patient).returning(Patient.id), [
                {"mrn": f"CL-{i:05d}", "legal_given_name": "Test",
                 "legal_family_name": f"Cluster{i}",
                 "birth_date": datetime(1950 + i % 60, 1 + i % 12, 1 + i % 28).date()}
                for i in range(total)]))
            opens = at_clinic_time(DAY, 10, 0, TZ)
            rows = []
            for n, patient_id in enumerate(patients):
                waiting = n >= booked_count
                start = opens + timedelta(minutes=5 * (n // len(providers) % 72))
                rows.append({
                    "external_id": f"CLUSTER-{n:05d}", "patient_id": patient_id,
                    "provider_id": providers[n % len(providers)], "location_id": location,
                    "start": start, "visit_type": "Follow-up",
                    "status": AppointmentStatus.CHECKED_IN if waiting else
                    AppointmentStatus.BOOKED,
                    "arrived_at": start - timedelta(minutes=10) if waiting else None,
                    "checked_in_at": start - timedelta(minutes=8) if waiting else None,
                })
            session.execute(insert(Appointment), rows)
            ids = list(session.scalars(select(Appointment.id)
                                       .where(Appointment.external_id.like("CLUSTER-%"))
                                       .order_by(Appointment.external_id)))
        harness.analyze(engine)
        return ids[:booked_count], ids[booked_count:]
    finally:
        engine.dispose()


# --- The worker processes --------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    worker: int
    began: float = 0.0
    ended: float = 0.0
    done: list[int] = field(default_factory=list)  # kiosk: checked in; desk: calls won
    lost: int = 0  # desk: told another representative acted first
    errors: list[str] = field(default_factory=list)


def _kiosk(engine: Engine, ids: list[int], starts: dict[int, datetime], out: Outcome) -> None:
    for appointment_id in ids:
        now = starts[appointment_id] - timedelta(minutes=5)
        try:
            check_in_id = run_transaction(engine, lambda s, a=appointment_id, n=now: checkin.begin(
                s, a, channel=Channel.KIOSK, now=n, tz=TZ, rules=RULES,
                kiosk_id=f"cluster-{out.worker}").id)
            run_transaction(engine, lambda s, c=check_in_id, n=now: checkin.complete(
                s, c, now=n + timedelta(minutes=3), tz=TZ, rules=RULES))
        except Exception as exc:  # counted and shown; fails the check
            out.errors.append(type(exc).__name__)
        else:
            out.done.append(appointment_id)


def _desk(engine: Engine, ids: list[int], versions: dict[int, int], staff_id: int,
          out: Outcome) -> None:
    for appointment_id in ids:
        try:
            with session_scope(engine) as session:
                desk.call_to_room(session, appointment_id, f"Room {out.worker}",
                                  staff_user_id=staff_id, now=at_clinic_time(DAY, 10, 30, TZ),
                                  expected_version=versions[appointment_id])
        except desk.ConcurrentAction:
            out.lost += 1
        except Exception as exc:
            out.errors.append(type(exc).__name__)
        else:
            out.done.append(appointment_id)


def worker(number: int, url: str, commands, results) -> None:
    """A process with its own engine on the database, doing each round's work it is given
    from the round's start instant (time.time()) on; stops on None."""
    engine = make_engine(url)
    with Session(engine) as session:
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "rep"))
    try:
        while (command := commands.get()) is not None:
            kind, ids, start_at = command
            out = Outcome(kind, number)
            # Read before the start, as a screen shows the queue before anyone presses.
            with Session(engine) as session:
                rows = session.execute(select(Appointment.id, Appointment.start,
                                              Appointment.version)
                                       .where(Appointment.id.in_(ids))).all()
            time.sleep(max(0.0, start_at - time.time()))
            out.began = time.time()
            if kind == "kiosk":
                _kiosk(engine, ids, {r.id: r.start for r in rows}, out)
            else:
                _desk(engine, ids, {r.id: r.version for r in rows}, staff_id, out)
            out.ended = time.time()
            results.put(out)
    finally:
        engine.dispose()


def _role(number: int) -> str:
    return "kiosk" if number < KIOSKS else "desk"


class Workers:
    """KIOSKS + DESKS worker processes (spawned: nothing inherited but the arguments)."""

    def __init__(self, url: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.commands = [context.Queue() for _ in range(count)]
        prefix = schema_of(url)
        # Named for their part: the first KIOSKS check patients in, the others race at the desk.
        self.processes = [context.Process(
            target=worker, args=(n, named(url, f"{prefix}-{_role(n)}worker-{n}"),
                                 self.commands[n], self.results), daemon=True)
            for n in range(count)]
        for process in self.processes:
            process.start()

    def run(self, work: dict[int, tuple[str, list[int]]]) -> tuple[float, list[Outcome]]:
        """Give each worker its part, all starting at one instant; that instant and the
        outcomes."""
        start_at = time.time() + START_DELAY_S
        for number, (kind, ids) in work.items():
            self.commands[number].put((kind, ids, start_at))
        outcomes = []
        for _ in work:
            try:
                outcomes.append(self.results.get(timeout=ROUND_TIMEOUT_S))
            except queue.Empty as exc:
                dead = [p.pid for p in self.processes if not p.is_alive()]
                raise BenchError(f"a worker gave no answer within {ROUND_TIMEOUT_S} s "
                                 f"(exited: {dead})") from exc
        return start_at, outcomes

    def stop(self) -> None:
        for commands in self.commands:
            commands.put(None)
        for process in self.processes:
            process.join(timeout=15)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


# --- The desk screens, refreshing in the background ------------------------------------------


class DeskScreens:
    """DESK_SCREENS signed-in sessions on each dashboard, refreshing every 5 s in a thread of
    their own until stopped."""

    def __init__(self, dashboards: list[App]) -> None:
        self.dashboards = dashboards
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.refreshes = 0
        self.signing_in = 0.0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                began = time.perf_counter()
                screens = []
                for app in self.dashboards:
                    for _ in range(DESK_SCREENS):
                        screens.append(await _connect(app, stack))
                await asyncio.gather(*(screen.sign_in() for screen in screens))
                self.signing_in = time.perf_counter() - began
                self.ready.set()
                await asyncio.gather(*(self._refreshing(k, s, len(screens))
                                       for k, s in enumerate(screens)))
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.ready.set()

    async def _refreshing(self, k: int, screen: Screen, count: int) -> None:
        period = min(screen.fragments.values())
        await asyncio.sleep(period * k / count)
        while not self.stopping.is_set():
            due = time.perf_counter() + period
            await screen.refresh()
            self.refreshes += 1
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    def __enter__(self) -> DeskScreens:
        self._thread.start()
        self.ready.wait(timeout=STEP_TIMEOUT_S * 2)
        if self.error is not None:
            raise BenchError(f"the desk screens failed: {self.error!r}")
        if not self.ready.is_set():
            raise BenchError("the desk screens did not sign in in time")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._thread.join(timeout=STEP_TIMEOUT_S)


async def _connect(app: App, stack: AsyncExitStack) -> Screen:
    url = app.url.replace("http://", "ws://") + "_stcore/stream"
    websocket = await stack.enter_async_context(websockets.connect(
        url, subprotocols=["streamlit"], max_size=None, open_timeout=STEP_TIMEOUT_S))
    return Screen(websocket)


async def _kiosk_pages(kiosks: list[App]) -> list[str]:
    """Each kiosk's first page for a new tablet: its heading (the run must succeed)."""
    async with AsyncExitStack() as stack:
        screens = [await _connect(app, stack) for app in kiosks]
        statuses = await asyncio.gather(*(screen.open() for screen in screens))
    if any(s != ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY for s in statuses):
        raise BenchError(f"a kiosk's first page did not finish: {statuses}")
    return [screen.titles[0] if screen.titles else "(no heading)" for screen in screens]


async def _day_counts(dashboards: list[App]) -> list[str]:
    """What each dashboard's arrivals board says of the day ("N appointments today · ...")."""
    async with AsyncExitStack() as stack:
        screens = [await _connect(app, stack) for app in dashboards]
        await asyncio.gather(*(screen.sign_in() for screen in screens))
    found = []
    for screen in screens:
        counts = [t for t in screen.texts if "appointments today" in t]
        found.append(re.sub(r"\s*·\s*showing.*", "", counts[0]) if counts else "(none)")
    return found


# --- The checks ------------------------------------------------------------------------------


def check_kiosks(engine: Engine, done: list[int]) -> list[str]:
    problems = []
    with Session(engine) as session:
        duplicates = session.execute(
            select(Appointment.ticket_day, Appointment.ticket, func.count())
            .where(Appointment.ticket.is_not(None))
            .group_by(Appointment.ticket_day, Appointment.ticket)
            .having(func.count() > 1)).all()
        if duplicates:
            problems.append(f"{len(duplicates)} tickets given twice, e.g. {duplicates[0]}")
        rows = session.execute(select(Appointment.id, Appointment.status, Appointment.ticket)
                               .where(Appointment.id.in_(done))).all()
        if any(r.ticket is None for r in rows):
            problems.append("a checked-in patient has no ticket")
        if any(r.status != AppointmentStatus.CHECKED_IN for r in rows):
            problems.append("a patient is not checked in: "
                            + str(sorted({r.status.value for r in rows})))
        completed = dict(session.execute(
            select(CheckIn.appointment_id, func.count())
            .where(CheckIn.appointment_id.in_(done), CheckIn.completed_at.is_not(None))
            .group_by(CheckIn.appointment_id)).all())
        audited = dict(session.execute(
            select(AuditEvent.record_id, func.count())
            .where(AuditEvent.action == "checkin.completed", AuditEvent.record_id.in_(done))
            .group_by(AuditEvent.record_id)).all())
    if len(done) != len(set(done)):
        problems.append("a patient was checked in by two workers")
    if any(completed.get(a) != 1 for a in done):
        problems.append("a patient has no completed check-in, or two")
    if any(audited.get(a) != 1 for a in done):
        problems.append("a check-in's completion is audited other than once")
    return problems


def check_race(engine: Engine, raced: list[int], before: dict[int, int],
               winners: dict[int, list[int]]) -> list[str]:
    """Exactly one winner per patient, and the database says the same: the winner's room,
    the version up by one, one audit event."""
    problems = []
    with Session(engine) as session:
        rows = {r.id: r for r in session.execute(
            select(Appointment.id, Appointment.room, Appointment.version)
            .where(Appointment.id.in_(raced))).all()}
        audited = dict(session.execute(
            select(AuditEvent.record_id, func.count())
            .where(AuditEvent.action == "desk.called", AuditEvent.record_id.in_(raced))
            .group_by(AuditEvent.record_id)).all())
    for appointment_id in raced:
        won = winners.get(appointment_id, [])
        row = rows[appointment_id]
        if len(won) != 1:
            problems.append(f"patient {appointment_id}: {len(won)} winners")
        elif row.room != f"Room {won[0]}":
            problems.append(f"patient {appointment_id}: room {row.room!r}, winner {won[0]}")
        if row.version != before[appointment_id] + 1:
            problems.append(f"patient {appointment_id}: version {before[appointment_id]} -> "
                            f"{row.version}")
        if audited.get(appointment_id) != 1:
            problems.append(f"patient {appointment_id}: {audited.get(appointment_id, 0)} "
                            "audit events for the call")
    return problems[:5] + ([f"... {len(problems) - 5} more"] if len(problems) > 5 else [])


# --- The run ---------------------------------------------------------------------------------


@dataclass
class Tally:
    checked_in: list[int] = field(default_factory=list)
    raced: list[int] = field(default_factory=list)
    winners: dict[int, list[int]] = field(default_factory=dict)
    lost: int = 0
    errors: list[str] = field(default_factory=list)
    desk_seconds: list[float] = field(default_factory=list)

    def add(self, outcomes: list[Outcome]) -> None:
        for out in outcomes:
            self.errors += out.errors
            if out.kind == "kiosk":
                self.checked_in += out.done
            else:
                self.lost += out.lost
                for appointment_id in out.done:
                    self.winners.setdefault(appointment_id, []).append(out.worker)


def drive(url: str, folder: Path) -> None:
    appointments = seed_busy_day(url)
    booked, waiting = add_bench_patients(url)
    before_race = {}
    engine = make_engine(url)
    with Session(engine) as session:
        before_race = dict(session.execute(select(Appointment.id, Appointment.version)
                                           .where(Appointment.id.in_(waiting))).all())
        max_connections = session.scalar(text("SHOW max_connections"))
    # One secret key and one database for every process; each names itself to PostgreSQL.
    secret, prefix = secrets.token_urlsafe(48), schema_of(url)

    def env(name: str) -> dict[str, str]:
        return app_environment(named(url, f"{prefix}-{name}"), folder, secret)

    apps = [start_app("kiosk/app.py", f"kiosk-{n}", env(f"kiosk-{n}"), folder)
            for n in range(KIOSK_APPS)]
    dashboard_logs = [folder / f"dashboard-{n}.runs.jsonl" for n in range(DASHBOARD_APPS)]
    for log in dashboard_logs:
        log.touch()
    apps += [start_app("dashboard/app.py", f"dashboard-{n}", env(f"dashboard-{n}"), folder,
                       run_log=log) for n, log in enumerate(dashboard_logs)]
    workers = None
    sampler = ConnectionSampler(url, prefix, every_s=0.1).__enter__()
    try:
        started = wait_healthy(apps)
        kiosks, dashboards = apps[:KIOSK_APPS], apps[KIOSK_APPS:]
        print(f"  {len(kiosks)} kiosk and {len(dashboards)} dashboard processes "
              f"(streamlit run, ports {', '.join(str(a.port) for a in apps)}) answered "
              f"/_stcore/health, all of them {started:.1f} s after being started together")
        headings = asyncio.run(_kiosk_pages(kiosks))
        print(f"  each kiosk served its first page from the database: {sorted(set(headings))}")
        workers = Workers(url, KIOSKS + DESKS)
        booked_left, waiting_left = iter(booked), iter(waiting)
        tally = Tally()
        window_start = time.time()

        def one_kiosk() -> tuple[int, float]:
            start_at, outcomes = workers.run({0: ("kiosk", [next(booked_left)
                                                            for _ in range(EACH)])})
            tally.add(outcomes)
            return sum(len(o.done) for o in outcomes), outcomes[0].ended - start_at

        def cluster() -> tuple[int, float]:
            work: dict[int, tuple[str, list[int]]] = {
                n: ("kiosk", [next(booked_left) for _ in range(EACH)]) for n in range(KIOSKS)}
            raced = [next(waiting_left) for _ in range(RACED)]
            tally.raced += raced
            work.update({KIOSKS + n: ("desk", raced) for n in range(DESKS)})
            start_at, outcomes = workers.run(work)
            tally.add(outcomes)
            kiosk_outcomes = [o for o in outcomes if o.kind == "kiosk"]
            tally.desk_seconds.append(max(o.ended for o in outcomes if o.kind == "desk")
                                      - start_at)
            return (sum(len(o.done) for o in kiosk_outcomes),
                    max(o.ended for o in kiosk_outcomes) - start_at)

        with DeskScreens(dashboards):
            one_kiosk()  # warm-ups, untimed
            cluster()
            comparison = harness.compare_rates(
                f"check-ins per second, {KIOSKS} kiosk + {DESKS} desk worker processes at "
                f"once, postgresql", cluster, one_kiosk,
                baseline_name="1 kiosk worker process alone", rounds=ROUNDS)
        window_end = time.time()
        headline = asyncio.run(_day_counts(dashboards))
        problems = check_kiosks(engine, tally.checked_in) + check_race(
            engine, tally.raced, before_race, tally.winners)
        with Session(engine) as session:
            counts = day_counts(session, DAY, TZ)
        expected = t("dash.count_summary", total=counts.total, waiting=counts.waiting,
                     done=counts.done)
        for app in apps:
            if app.process.poll() is not None:
                problems.append(f"{app.name} stopped during the drive")
    finally:
        if workers is not None:
            workers.stop()
        stop_apps(apps)
        sampler.__exit__()
        engine.dispose()

    comparison.note = (f"[{len(tally.checked_in)} check-ins in all, errors {len(tally.errors)}"
                       f"{' ' + str(sorted(set(tally.errors))) if tally.errors else ''}]")
    print(f"  the day: {appointments} appointments, plus {len(booked)} booked for the kiosks "
          f"and {len(waiting)} waiting for the desk race")
    print("  " + comparison.line())
    calls = len(tally.raced)
    print(f"    desk race: {calls} patients, each called by all {DESKS} desk workers with the "
          f"version they read: {sum(len(w) for w in tally.winners.values())} calls won, "
          f"{tally.lost} told another representative acted first; a race of {RACED} took "
          f"{statistics.median(tally.desk_seconds):.2f} s (median)")
    refresh_seconds = []
    for log in dashboard_logs:
        refresh_seconds += refreshes(log, Window("measured", window_start, window_end, 0.0,
                                                 0.0, 0)).seconds
    if refresh_seconds:
        print(f"    desk screens meanwhile: {DESK_SCREENS} on each dashboard, signed in, "
              f"{len(refresh_seconds)} refreshes, server time p50 "
              f"{statistics.median(refresh_seconds) * 1000:.0f} ms, p90 "
              f"{p90(refresh_seconds) * 1000:.0f} ms")
    print(f"    every dashboard's board after the drive: {sorted(set(headline))}; the "
          f"database: {expected!r}")
    if set(headline) != {expected}:
        problems.append(f"the dashboards disagree with the database: {headline}")
    print(f"    PostgreSQL connections held at once, at most (sampled every 0.1 s): each kiosk "
          f"{sampler.most_by('kiosk-')}, each dashboard {sampler.most_by('dashboard-')}, "
          f"each kiosk worker {sampler.most_by('kioskworker-')}, each desk worker "
          f"{sampler.most_by('deskworker-')}; all together {sampler.busiest_total} "
          f"of max_connections {max_connections}")
    for kind, who in (("kioskworker-", "kiosk workers"), ("deskworker-", "desk workers"),
                      ("dashboard-", "dashboards")):
        waiting, running = sampler.lock_share(kind)
        if running:
            top = "; ".join(f"{times} x {query!r}" for times, query in
                            sampler.waits_on(kind)[:2])
            print(f"    {who}' statements caught waiting for a row lock: {waiting} of "
                  f"{running} samples" + (f" ({top})" if top else ""))
    for problem in problems:
        print(f"    PROBLEM: {problem}")
    print(harness.goal(not problems and not tally.errors,
                       "no duplicate ticket, every patient checked in once, exactly one "
                       "winner per desk race (no lost update), the dashboards agree"))


def main() -> None:
    harness.heading(f"Cluster: {KIOSK_APPS} kiosk and {DASHBOARD_APPS} dashboard processes on "
                    f"one PostgreSQL, driven at once ({harness.machine()})")
    began = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as name, \
                postgres_schema("bench_cluster") as url:
            drive(url, Path(name))
    except BenchError as exc:
        print(f"bench.cluster: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    print(f"  ({time.perf_counter() - began:.0f} s in all)")


if __name__ == "__main__":
    main()
