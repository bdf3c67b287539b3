"""`python -m bench.screens`: 50 front-desk screens on one dashboard process, on PostgreSQL.

Issue 13: 50 dashboard sessions on one process refreshing every 5 s, with a refresh's p90
under 300 ms, measured against a running app on PostgreSQL.

Makes a schema of its own on the PostgreSQL server (CHECKIN_TEST_POSTGRES_URL, or the local
test server), migrates it, seeds the demo clinic plus a busy day of 300 more appointments,
and starts the real dashboard with `streamlit run` with the clock at 10:00 that day. The
server runs under a small wrapper (written to a temporary folder; the product is untouched)
that times every script run on the server, wall clock and the script thread's CPU, into a
log: a fragment's run is an auto-refresh (the arrivals board and its alert strip are each a
fragment re-run every 5 s).

The screens are websocket clients speaking Streamlit's own protocol, as the browser page
does (BackMsg rerun requests with widget values and the hashes of messages already held;
ForwardMsg answers): each signs in as the demo representative through the sign-in form,
lands on the arrivals board and then re-runs the fragments the server asked to auto-rerun,
on its own 5 s timer. Chromium pages were the first choice, but on a 2-core machine 50 of
them took three minutes to sign in and a core of their own to redraw, starving the server
being measured; the server's work per refresh is the same either way.

Then, in alternating rounds: the baseline, one screen refreshing while the other sessions
stay open and idle, and the measured round, every screen refreshing, their timers spread
evenly over the 5 s period. A refresh is one session's fragment runs of one tick; its
server time is the sum of their wall times (the runs' own thread CPU is shown beside it).
Prints p50, p90 and max per refresh on each side, the round trip the clients saw, and the
server's CPU (cores busy, CPU per refresh).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import websockets
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench import harness
from bench.pages import _day_rows, _with_tickets
from shared import clock
from shared.clinic_time import at_clinic_time
from shared.db import make_engine
from shared.demo import DEMO_PASSWORDS, seed_demo
from shared.models import Appointment, Location, Patient, Provider, TicketCounter

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLINIC_TZ = "America/Chicago"
TZ = ZoneInfo(CLINIC_TZ)
DAY = date(2026, 6, 16)
NOW_HOUR = 10
BUSY = 300  # appointments added to the demo's day
SCREENS = int(os.environ.get("BENCH_SCREENS", "50"))
SIGN_IN_AT_ONCE = 4
REFRESH_S = 5.0
ROUND_S = 25.0  # a round's measured window: five refreshes of every screen
SETTLE_S = 5.0  # refreshing before the window opens (the timers spread out)
ROUNDS = 2  # of each kind, alternating
GOAL_P90_S = 0.300
HEALTH_TIMEOUT_S = 90
STEP_TIMEOUT_S = 90
ARRIVALS = "Today's appointments"

# Runs `streamlit run` in this process after wrapping ScriptRunner._run_script, so every
# script run (a whole page, or a fragment's auto-refresh) leaves one JSON line in the log:
# which session, whether fragments ran, when it began, its wall time and its thread's CPU.
RUN_TIMER = '''
import json, os, sys, threading, time
from streamlit.runtime.scriptrunner import script_runner
from streamlit.web import cli

_log = open(os.environ["BENCH_RUN_LOG"], "a", buffering=1)
_lock = threading.Lock()
_original = script_runner.ScriptRunner._run_script


def _timed(self, rerun_data):
    fragments = len(rerun_data.fragment_id_queue or ())
    began, began_cpu = time.time(), time.thread_time()
    try:
        return _original(self, rerun_data)
    finally:
        line = json.dumps({"session": self._session_id, "fragments": fragments,
                           "start": began, "wall": time.time() - began,
                           "cpu": time.thread_time() - began_cpu})
        with _lock:
            _log.write(line + "\\n")


script_runner.ScriptRunner._run_script = _timed
sys.argv = ["streamlit", *sys.argv[1:]]
sys.exit(cli.main())
'''


class BenchError(Exception):
    """The bench cannot run (no PostgreSQL, an app did not start, a page never showed)."""


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_base_url() -> str:
    return os.environ.get(harness.POSTGRES_ENV, "").strip() or DEFAULT_POSTGRES_URL


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """The URL of a fresh migrated schema on the PostgreSQL server, dropped afterwards; the
    schema's name is also the application names' prefix."""
    try:
        with harness.postgres_schema(postgres_base_url(), prefix) as url:
            yield url
    except OperationalError as exc:
        raise BenchError(f"no PostgreSQL at {harness.POSTGRES_ENV} or {DEFAULT_POSTGRES_URL} "
                         f"({type(exc.orig).__name__})") from exc


def named(url: str, application_name: str) -> str:
    """`url` with a PostgreSQL application_name, so pg_stat_activity tells who holds which
    connection (a deployment can do the same per process)."""
    return f"{url}{'&' if '?' in url else '?'}application_name={application_name}"


class ConnectionSampler:
    """Samples pg_stat_activity in a thread: the most connections seen at once per
    application_name that starts with `prefix`, and how often one of them was running a
    statement or waiting for a lock (and on which statements)."""

    def __init__(self, url: str, prefix: str, every_s: float = 0.5) -> None:
        self.engine = make_engine(url)
        self.prefix = prefix
        self.every_s = every_s
        self.most: dict[str, int] = {}
        self.busiest_total = 0
        self.active: dict[str, int] = {}  # samples of a statement running, per name
        self.waiting: dict[str, int] = {}  # of those, waiting for a lock
        self.waited_on: dict[tuple[str, str], int] = {}  # (name, statement) that waited
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT application_name, state, wait_event_type, left(query, 60) "
                "FROM pg_stat_activity WHERE application_name LIKE :prefix"),
                {"prefix": self.prefix + "-%"}).all()
        counts: dict[str, int] = {}
        for name, state, wait, query in rows:
            counts[name] = counts.get(name, 0) + 1
            if state == "active":
                self.active[name] = self.active.get(name, 0) + 1
                if wait == "Lock":
                    self.waiting[name] = self.waiting.get(name, 0) + 1
                    self.waited_on[name, query] = self.waited_on.get((name, query), 0) + 1
        for name, count in counts.items():
            self.most[name] = max(self.most.get(name, 0), count)
        self.busiest_total = max(self.busiest_total, len(rows))

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            with suppress(OperationalError):
                self._sample()

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def most_by(self, part: str) -> list[int]:
        """The most connections seen for each application whose name holds `part`."""
        return [count for name, count in sorted(self.most.items()) if part in name]

    def waits_on(self, part: str) -> list[tuple[int, str]]:
        """What applications named with `part` waited on, most often first: (times, the
        statement's first words)."""
        found: dict[str, int] = {}
        for (name, query), times in self.waited_on.items():
            if part in name:
                found[query] = found.get(query, 0) + times
        return sorted(((times, query) for query, times in found.items()), reverse=True)

    def lock_share(self, part: str) -> tuple[int, int]:
        """Of the samples where an application named with `part` ran a statement, how many
        found it waiting for a lock: (waiting, running)."""
        return (sum(n for name, n in self.waiting.items() if part in name),
                sum(n for name, n in self.active.items() if part in name))


def schema_of(url: str) -> str:
    """The bench schema in a URL made by postgres_schema."""
    return url.rsplit("search_path%3D", 1)[1].split("&")[0]


def clinic_now() -> datetime:
    return at_clinic_time(DAY, NOW_HOUR, 0, TZ)


def seed_busy_day(url: str, busy: int = BUSY) -> int:
    """The demo clinic at 10:00 on DAY, plus `busy` more appointments that day; the day's
    appointment count."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            seed_demo(session, tz=TZ, now=clinic_now())
        with Session(engine) as session, session.begin():
            providers = list(session.scalars(insert(Provider).returning(Provider.id), [
                {"display_name": f"Dr. Busy {i}"} for i in range(8)]))
            locations = list(session.scalars(insert(Location).returning(Location.id), [
                {"name": f"Busy wing {i}", "department": "Clinic"} for i in range(2)]))
            patients = list(session.scalars(insert(Patient).returning(Patient.id), [
                {"mrn": f"BUSY-{i:05d}", "legal_given_name": "Test",
                 "legal_family_name": f"Busy{i}",
                 "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28)}
                for i in range(busy)]))
            rows = _day_rows(DAY, busy, patients, providers, locations)
            # The demo gave tickets A001... already: the busy day's carry on after them, and
            # the day's counter goes on from the last, as the kiosk would have left it.
            issued = session.scalar(select(func.count()).select_from(Appointment)
                                    .where(Appointment.ticket.is_not(None))) or 0
            rows = _with_tickets(DAY, rows)
            for row in rows:
                if row.get("ticket"):
                    issued += 1
                    row["ticket"] = f"A{issued:03d}"
            session.execute(insert(Appointment), rows)
            session.execute(update(TicketCounter).where(TicketCounter.day == DAY)
                            .values(last_number=issued))
            total = session.scalar(select(func.count()).select_from(Appointment))
        harness.analyze(engine)
        return total or 0
    finally:
        engine.dispose()


# --- The apps --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                    timeout=2) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def app_environment(url: str, folder: Path, secret: str) -> dict[str, str]:
    """What a real deployment sets for each app process: one database, one secret key, one
    clinic zone, and (here) the clock at 10:00 on the bench day, the same for every process."""
    env = dict(os.environ)
    env.update(CHECKIN_DATABASE_URL=url, CHECKIN_INSTANCE_DIR=str(folder),
               CHECKIN_TIMEZONE=CLINIC_TZ, CHECKIN_SECRET_KEY=secret,
               **clock.environment_at(clinic_now()))
    env.pop("CHECKIN_KIOSK_ID", None)
    return env


@dataclass
class App:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def start_app(script: str, name: str, env: dict[str, str], folder: Path, *,
              run_log: Path | None = None) -> App:
    """`streamlit run <script>` on a free port (under the run timer when `run_log` is given);
    not yet known to be healthy (see wait_healthy)."""
    port = free_port()
    log_path = folder / f"{name}.log"
    command = [sys.executable]
    env = dict(env)
    if run_log is not None:
        wrapper = folder / "run_timer.py"
        wrapper.write_text(RUN_TIMER)
        command.append(str(wrapper))
        env["BENCH_RUN_LOG"] = str(run_log)
    else:
        command += ["-m", "streamlit"]
    command += ["run", script, "--server.headless", "true", "--server.port", str(port),
                "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    return App(name, port, process, log_path)


def wait_healthy(apps: list[App]) -> float:
    """Wait until every app answers GET /_stcore/health with ok; the seconds it took."""
    began = time.monotonic()
    waiting = list(apps)
    while waiting:
        for app in list(waiting):
            if app.process.poll() is not None:
                raise BenchError(f"{app.name} exited with code {app.process.returncode} before "
                                 f"answering on port {app.port}; log tail:\n{tail(app.log)}")
            if healthy(app.port):
                waiting.remove(app)
        if waiting and time.monotonic() - began > HEALTH_TIMEOUT_S:
            raise BenchError(f"{waiting[0].name} did not answer /_stcore/health on port "
                             f"{waiting[0].port} within {HEALTH_TIMEOUT_S} s; log tail:\n"
                             f"{tail(waiting[0].log)}")
        time.sleep(0.2)
    return time.monotonic() - began


def stop_apps(apps: list[App]) -> None:
    """Stop each app by its own process id: terminate all, then wait, then kill stragglers."""
    for app in apps:
        if app.process.poll() is None:
            app.process.terminate()
    for app in apps:
        try:
            app.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.process.kill()
            app.process.wait(timeout=10)


@contextmanager
def running(apps: list[App]) -> Iterator[list[App]]:
    try:
        wait_healthy(apps)
        yield apps
    finally:
        stop_apps(apps)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of the process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- The screens -----------------------------------------------------------------------------


class Screen:
    """One dashboard session over Streamlit's own websocket protocol, as the browser speaks
    it: the BackMsg a page sends to run the script (with its widget values, and the hashes of
    the messages it holds already), the ForwardMsgs the server answers with. Signs in as the
    demo representative, lands on the arrivals board, and learns the fragments the server
    asks to re-run every few seconds (AutoRerun); `refresh` re-runs them one after the other,
    as the page's timers do."""

    def __init__(self, websocket) -> None:
        self.ws = websocket
        self.page_hash = ""
        self.inputs: dict[str, str] = {}  # label -> widget id
        self.buttons: dict[str, str] = {}
        self.fragments: dict[str, float] = {}  # fragment id -> seconds between refreshes
        self.cached: set[str] = set()  # messages the server may send by reference
        self.titles: list[str] = []
        self.texts: list[str] = []  # Markdown and captions shown
        self.tables = 0  # dataframes received in the last run
        self.statuses: list[int] = []

    def _rerun(self, *, fragment: str = "", widgets: list[WidgetState] = ()) -> bytes:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = ""
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(widgets)
        state.cached_message_hashes.extend(sorted(self.cached))
        if fragment:
            state.fragment_id = fragment
            state.is_auto_rerun = True
        return message.SerializeToString()

    async def _until_finished(self) -> int:
        """Read the server's messages until a run ends (not one cut short for a rerun)."""
        self.tables = 0
        while True:
            message = ForwardMsg()
            message.ParseFromString(await asyncio.wait_for(self.ws.recv(), STEP_TIMEOUT_S))
            kind = message.WhichOneof("type")
            if message.hash and message.metadata.cacheable:
                self.cached.add(message.hash)
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                shown = element.WhichOneof("type")
                if shown == "text_input":
                    self.inputs[element.text_input.label] = element.text_input.id
                elif shown == "button":
                    self.buttons[element.button.label] = element.button.id
                elif shown == "heading":
                    self.titles.append(element.heading.body)
                elif shown == "markdown":
                    self.texts.append(element.markdown.body)
                elif shown == "arrow_data_frame":
                    self.tables += 1
            elif kind == "auto_rerun":
                self.fragments[message.auto_rerun.fragment_id] = message.auto_rerun.interval
            elif kind == "navigation":
                self.page_hash = message.navigation.page_script_hash
            elif kind == "new_session" and not self.page_hash:
                self.page_hash = message.new_session.page_script_hash
            elif kind == "script_finished":
                status = message.script_finished
                if status != ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN:
                    self.statuses.append(status)
                    return status

    async def open(self) -> int:
        """The first run of the page, as a browser opening the app asks for it; its status."""
        await self.ws.send(self._rerun())
        return await self._until_finished()

    async def sign_in(self) -> None:
        await self.open()
        if not {"Username", "Password"} <= self.inputs.keys() or "Sign in" not in self.buttons:
            raise BenchError(f"no sign-in form on the dashboard (saw {sorted(self.inputs)})")
        self.titles.clear()
        self.texts.clear()
        await self.ws.send(self._rerun(widgets=[
            WidgetState(id=self.inputs["Username"], string_value="rep"),
            WidgetState(id=self.inputs["Password"], string_value=DEMO_PASSWORDS["rep"]),
            WidgetState(id=self.buttons["Sign in"], trigger_value=True)]))
        await self._until_finished()
        if ARRIVALS not in self.titles or not self.fragments:
            raise BenchError(f"signed in, but not on the arrivals board (titles {self.titles})")

    async def refresh(self) -> float:
        """Re-run each live fragment, one after the other; the seconds until the last ended."""
        began = time.perf_counter()
        for fragment in self.fragments:
            await self.ws.send(self._rerun(fragment=fragment))
            status = await self._until_finished()
            if status != ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                raise BenchError(f"a refresh ended with status {status}")
        return time.perf_counter() - began


@dataclass
class Window:
    kind: str  # "baseline" or "measured"
    start: float
    end: float
    cpu: float  # the server's CPU seconds over the window
    elapsed: float  # the window's seconds
    screens: int
    client_cpu: float = 0.0  # this process's CPU seconds (the clients) over the window
    round_trips: list[float] = field(default_factory=list)  # seen from the clients


async def open_screens(base_url: str, count: int, stack: AsyncExitStack) -> list[Screen]:
    """`count` sessions, signed in SIGN_IN_AT_ONCE at a time."""
    url = base_url.replace("http://", "ws://") + "_stcore/stream"
    gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)

    async def one() -> Screen:
        async with gate:
            websocket = await stack.enter_async_context(
                websockets.connect(url, subprotocols=["streamlit"], max_size=None,
                                   open_timeout=STEP_TIMEOUT_S))
            screen = Screen(websocket)
            await screen.sign_in()
            return screen

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def refreshing(screens: list[Screen], seconds: float, trips: list[float]) -> None:
    """Every screen refreshes on its own timer for `seconds`; the timers are spread evenly
    over one period, as screens opened at different moments would be."""
    began = time.perf_counter()

    async def one(k: int, screen: Screen) -> None:
        period = min(screen.fragments.values())
        due = began + period * k / len(screens)
        while due - began < seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            trips.append(await screen.refresh())
            due += period

    await asyncio.gather(*(one(k, screen) for k, screen in enumerate(screens)))


async def measure(base_url: str, pid: int, count: int) -> tuple[list[Window], float, float]:
    """Open the screens, then alternate baseline and measured windows; the windows, the
    seconds the sign-ins took and the server's memory with every screen open."""
    windows = []
    async with AsyncExitStack() as stack:
        began = time.perf_counter()
        screens = await open_screens(base_url, count, stack)
        signing_in = time.perf_counter() - began
        memory = rss_mb(pid)
        for _ in range(ROUNDS):
            for kind, active in (("baseline", screens[:1]), ("measured", screens)):
                trips: list[float] = []
                # Refreshing from the start; measured once the timers have settled.
                settle = asyncio.create_task(refreshing(active, SETTLE_S + ROUND_S, trips))
                await asyncio.sleep(SETTLE_S)
                skip = len(trips)
                cpu_before, client_before, start = (cpu_seconds(pid), time.process_time(),
                                                    time.time())
                await settle
                # The window ends with the round's last refresh (the next round's timers start
                # right after); the refreshes in it were due within ROUND_S of its start.
                end = time.time()
                windows.append(Window(kind, start, end, cpu_seconds(pid) - cpu_before,
                                      end - start, len(active),
                                      time.process_time() - client_before, trips[skip:]))
    return windows, signing_in, memory


# --- The figures -----------------------------------------------------------------------------


@dataclass
class Refreshes:
    seconds: list[float] = field(default_factory=list)  # server wall time per refresh
    cpu: list[float] = field(default_factory=list)  # script-thread CPU per refresh
    sessions: set[str] = field(default_factory=set)
    whole_runs: int = 0  # whole-page runs in the window (there should be none)


def refreshes(run_log: Path, window: Window) -> Refreshes:
    """The fragment runs that began inside the window, grouped per session into refreshes:
    a session's runs that begin within half a refresh period of its first one are one tick."""
    runs = [json.loads(line) for line in run_log.read_text().splitlines() if line.strip()]
    inside = sorted((r for r in runs if window.start <= r["start"] < window.end),
                    key=lambda r: r["start"])
    found = Refreshes()
    open_tick: dict[str, list[dict]] = {}
    ticks: list[list[dict]] = []
    for run in inside:
        if not run["fragments"]:
            found.whole_runs += 1
            continue
        tick = open_tick.get(run["session"])
        if tick is None or run["start"] - tick[0]["start"] > REFRESH_S / 2:
            tick = open_tick[run["session"]] = []
            ticks.append(tick)
        tick.append(run)
    for tick in ticks:
        found.seconds.append(sum(r["wall"] for r in tick))
        found.cpu.append(sum(r["cpu"] for r in tick))
        found.sessions.add(tick[0]["session"])
    return found


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 \
        else values[0]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _spread(values: list[float]) -> str:
    return (f"p50 {_ms(statistics.median(values))}, p90 {_ms(p90(values))}, "
            f"max {_ms(max(values))}")


def report(run_log: Path, windows: list[Window], count: int, appointments: int,
           signing_in: float, memory: float) -> None:
    sides = {"baseline": Refreshes(), "measured": Refreshes()}
    trips: dict[str, list[float]] = {"baseline": [], "measured": []}
    cpu = dict.fromkeys(sides, 0.0)
    client = dict.fromkeys(sides, 0.0)
    span = dict.fromkeys(sides, 0.0)
    elapsed = dict.fromkeys(sides, 0.0)
    for window in windows:
        found = refreshes(run_log, window)
        side = sides[window.kind]
        side.seconds += found.seconds
        side.cpu += found.cpu
        side.sessions |= found.sessions
        side.whole_runs += found.whole_runs
        trips[window.kind] += window.round_trips
        cpu[window.kind] += window.cpu
        client[window.kind] += window.client_cpu
        span[window.kind] += ROUND_S
        elapsed[window.kind] += window.elapsed
    if not sides["baseline"].seconds or not sides["measured"].seconds:
        raise BenchError(f"no refreshes were logged (baseline {len(sides['baseline'].seconds)},"
                         f" measured {len(sides['measured'].seconds)}); see {run_log}")
    measured, base = sides["measured"], sides["baseline"]
    name = f"arrivals board refresh, {count} screens on one process, postgresql"
    ratio = statistics.median(measured.seconds) / statistics.median(base.seconds)
    min_ratio = min(measured.seconds) / min(base.seconds)
    print(f"  {count} signed-in sessions (websocket clients speaking Streamlit's protocol; "
          f"signed in in {signing_in:.0f} s), the day holding {appointments} appointments; "
          f"server RSS {memory:.0f} MB with every session open")
    print(f"  {name}: {_ms(statistics.median(measured.seconds))} "
          f"(min {_ms(min(measured.seconds))}), 1 screen {_ms(statistics.median(base.seconds))} "
          f"(min {_ms(min(base.seconds))}), ratio {ratio:.2f}x (of the minimums "
          f"{min_ratio:.2f}x; {len(measured.seconds)} and {len(base.seconds)} refreshes in "
          f"{ROUNDS} alternating rounds each)")
    for name, side in (("measured", measured), ("baseline", base)):
        rate = len(side.seconds) / span[name]
        print(f"    {name}: {len(side.seconds)} refreshes from {len(side.sessions)} sessions "
              f"in {span[name]:.0f} s ({rate:.1f}/s); server time per refresh "
              f"{_spread(side.seconds)}; script-thread CPU p50 "
              f"{_ms(statistics.median(side.cpu))}; round trip at the client "
              f"{_spread(trips[name])}; server CPU {cpu[name] / elapsed[name]:.2f} cores busy, "
              f"{_ms(cpu[name] / max(len(side.seconds), 1))} per refresh; the clients "
              f"{client[name] / elapsed[name]:.2f} cores"
              + (f"; {side.whole_runs} whole-page runs" if side.whole_runs else ""))
    print(f"    p90 ratio {p90(measured.seconds) / p90(base.seconds):.2f}x")
    print(harness.goal(p90(measured.seconds) < GOAL_P90_S and count >= 50,
                       f"{count} sessions (of 50) refreshing every {REFRESH_S:g} s, server "
                       f"time p90 < {_ms(GOAL_P90_S)}"))


def main() -> None:
    harness.heading(f"Screens: {SCREENS} dashboard sessions on one process refreshing every "
                    f"{REFRESH_S:g} s, against 1 ({harness.machine()})")
    began = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-screens-") as name, \
                postgres_schema("bench_screens") as url:
            folder = Path(name)
            appointments = seed_busy_day(url)
            run_log = folder / "runs.jsonl"
            run_log.touch()
            prefix = schema_of(url)
            env = app_environment(named(url, f"{prefix}-dashboard"), folder,
                                  secrets.token_urlsafe(48))
            app = start_app("dashboard/app.py", "dashboard", env, folder, run_log=run_log)
            with running([app]), ConnectionSampler(url, prefix) as sampler:
                windows, signing_in, memory = asyncio.run(
                    measure(app.url, app.process.pid, SCREENS))
                if app.process.poll() is not None:
                    raise BenchError(f"the dashboard stopped:\n{tail(app.log)}")
            report(run_log, windows, SCREENS, appointments, signing_in, memory)
            print(f"    PostgreSQL connections the dashboard held at once, at most: "
                  f"{max(sampler.most_by('dashboard'), default=0)} (sampled every 0.5 s; "
                  f"its pool allows 5 + 10 overflow)")
    except BenchError as exc:
        print(f"bench.screens: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    print(f"  ({time.perf_counter() - began:.0f} s in all)")


if __name__ == "__main__":
    main()
