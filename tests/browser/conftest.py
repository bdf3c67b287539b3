"""Browser fixtures: both apps running on a seeded SQLite file, driven by headless Chromium.

Chromium is Debian's (CHECKIN_BROWSER, default /usr/bin/chromium), launched through
Playwright's sync API. Without it these tests skip, saying why; with
CHECKIN_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead.

Waiting follows Streamlit's own e2e tests, made exact. A run is over when the server sends
its `script_finished` message on the app's websocket: we count those messages (decoded with
Streamlit's own protobuf classes), so after a click we wait for a run that finished *after*
the click. Then, as Streamlit's tests do, we wait for `stApp` to report
`data-test-script-state="notRunning"` and for no `stSkeleton` placeholders. The DOM attribute
alone is not enough: a fast rerun can go running -> notRunning inside one React render batch,
so the page never shows "running" and a wait keyed on it either returns before the rerun or
never returns.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.message import DecodeError
from playwright.sync_api import expect, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from shared import clock, migrate
from shared.db import make_engine, session_scope
from shared.models import utcnow
from tests.conftest import clock_start_for_tests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Screenshots land in docs/ only under `make screenshots` (CHECKIN_SCREENSHOTS=1), so that
# `make test` leaves the tree as it found it; otherwise they go to a temporary folder.
SCREENSHOT_DIR = PROJECT_ROOT / "docs" / "screenshots"
CLINIC_TZ = "America/Chicago"
DEFAULT_BROWSER = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HEALTH_TIMEOUT_S = 60
RUN_TIMEOUT_MS = 30_000
POLL_MS = 50

APP_IDLE_JS = """
() => {
  const app = document.querySelector("[data-testid='stApp']");
  return !!app
    && app.getAttribute("data-test-script-state") === "notRunning"
    && app.getAttribute("data-test-connection-state") === "CONNECTED";
}
"""


# --- Chromium -----------------------------------------------------------------------------


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("CHECKIN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium is required here but {reason}")
    pytest.skip(f"Chromium not available: {reason}")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, for the whole session."""
    executable = os.environ.get("CHECKIN_BROWSER", DEFAULT_BROWSER)
    if not (Path(executable).is_file() and os.access(executable, os.X_OK)):
        _browser_unavailable(f"{executable} is missing or not executable")
    manager = sync_playwright()
    playwright = manager.start()
    try:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:
        manager.__exit__(None, None, None)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _browser_unavailable(f"launching {executable} failed ({type(exc).__name__}: {first_line})")
    try:
        yield launched
    finally:
        launched.close()
        manager.__exit__(None, None, None)


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh context (no shared cookies or storage) with the run counter."""
    contexts = []

    def _open(width: int = 1024, height: int = 768):
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="en-US",
            timezone_id=CLINIC_TZ,
            reduced_motion="reduce",
        )
        context.set_default_timeout(RUN_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        _track_runs(page)
        return page

    yield _open
    for context in contexts:
        context.close()


# --- Streamlit waits ----------------------------------------------------------------------


@dataclass
class _RunCounter:
    finished: int = 0


_RUNS: weakref.WeakKeyDictionary[object, _RunCounter] = weakref.WeakKeyDictionary()
# A whole script run ended (a fragment's own rerun, or a run cut short for a rerun, do not).
_FULL_RUN_ENDS = {
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
    ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR,
}


def _track_runs(page) -> None:
    """Count the script runs the server reports finished on this page's app websocket."""
    counter = _RunCounter()
    _RUNS[page] = counter

    def on_frame(payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(payload)
        except DecodeError:
            return
        if (
            message.WhichOneof("type") == "script_finished"
            and message.script_finished in _FULL_RUN_ENDS
        ):
            counter.finished += 1

    def on_websocket(websocket) -> None:
        if websocket.url.split("?")[0].rstrip("/").endswith("/_stcore/stream"):
            websocket.on("framereceived", on_frame)

    page.on("websocket", on_websocket)


def track_runs(page) -> None:
    """Count finished runs on a page opened outside `new_page` (e.g. in another browser)."""
    _track_runs(page)


def runs_finished(page) -> int:
    return _RUNS[page].finished


def wait_for_app_run(page, *, after: int) -> None:
    """Wait until more than `after` runs have finished and the app shows it is idle."""
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while _RUNS[page].finished <= after:
        if time.monotonic() > deadline:
            pytest.fail(
                f"no Streamlit run finished within {RUN_TIMEOUT_MS / 1000:.0f} s "
                f"(runs finished: {_RUNS[page].finished}) on {page.url}"
            )
        page.wait_for_timeout(POLL_MS)  # a polling interval: lets Playwright deliver frames
    page.wait_for_function(APP_IDLE_JS, polling=POLL_MS)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0)


def goto_app(page, url: str) -> None:
    """Open an app and wait for its first run to finish."""
    page.goto(url)
    page.locator("[data-testid='stAppViewContainer']").wait_for(state="visible")
    wait_for_app_run(page, after=0)


def click_and_wait(page, target) -> None:
    """Click `target` (a Locator) and wait for the rerun the click causes to finish."""
    before = runs_finished(page)
    target.click()
    wait_for_app_run(page, after=before)


_scratch_screenshots: list[Path] = []


def _screenshot_dir() -> Path:
    if os.environ.get("CHECKIN_SCREENSHOTS") == "1":
        return SCREENSHOT_DIR
    if not _scratch_screenshots:
        _scratch_screenshots.append(Path(tempfile.mkdtemp(prefix="checkin-screenshots-")))
    return _scratch_screenshots[0]


def screenshot(page, name: str) -> Path:
    """A viewport-only PNG: in docs/screenshots/ under `make screenshots`, else a temp dir."""
    folder = _screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


# --- The clock ----------------------------------------------------------------------------


@contextmanager
def _clock_set(env: dict[str, str]) -> Iterator[None]:
    """This process reads the apps' clock while inside; the variables are gone after."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def shared_clock() -> dict[str, str]:
    """One clock for this process and the apps it starts: set to the tests' start instant
    (a fixed clinic time) once, then running. time-machine cannot reach into the apps'
    processes, so here the product's own CHECKIN_CLOCK_START does it for all of them. The
    variables are set in this process only while a browser test runs, never for the others
    (pytest-randomly mixes them in)."""
    return clock.environment_at(clock_start_for_tests())


@pytest.fixture(autouse=True)
def clinic_clock(shared_clock: dict[str, str]) -> Iterator[datetime]:
    """Browser tests keep the session's running clock instead of travelling per test."""
    with _clock_set(shared_clock):
        yield clock.now()


# --- The database and the apps ------------------------------------------------------------


@dataclass(frozen=True)
class LiveDb:
    url: str
    instance_dir: Path
    demo: object  # shared.demo.DemoInfo
    tz: ZoneInfo


@dataclass(frozen=True)
class Apps:
    kiosk_url: str
    dashboard_url: str
    # The CHECKIN_SECRET_KEY both apps run with, so a test can issue codes they accept.
    secret_key: str = ""


@pytest.fixture(scope="session")
def live_db(tmp_path_factory: pytest.TempPathFactory, shared_clock: dict[str, str]) -> LiveDb:
    """A migrated SQLite file with the demo clinic day seeded for today."""
    from shared.demo import seed_demo

    instance = tmp_path_factory.mktemp("browser-instance")
    url = f"sqlite:///{instance / 'checkin.db'}"
    migrate.upgrade(url)
    tz = ZoneInfo(CLINIC_TZ)
    engine = make_engine(url)
    try:
        with _clock_set(shared_clock), session_scope(engine) as session:
            info = seed_demo(session, tz=tz, now=utcnow())
    finally:
        engine.dispose()
    return LiveDb(url=url, instance_dir=instance, demo=info, tz=tz)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/_stcore/health", timeout=2
        ) as response:
            return response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def apps(live_db: LiveDb, shared_clock: dict[str, str]) -> Iterator[Apps]:
    """The kiosk and the dashboard, each in its own `streamlit run` on a free port."""
    env = dict(os.environ) | shared_clock
    secret_key = secrets.token_urlsafe(48)
    env.update(
        CHECKIN_DATABASE_URL=live_db.url,
        CHECKIN_INSTANCE_DIR=str(live_db.instance_dir),
        CHECKIN_TIMEZONE=CLINIC_TZ,
        # Given here so the two apps never race to create instance/secret_key.
        CHECKIN_SECRET_KEY=secret_key,
    )
    env.pop("CHECKIN_KIOSK_ID", None)
    started: list[tuple[str, int, subprocess.Popen, Path]] = []
    try:
        for name, script in (("kiosk", "kiosk/app.py"), ("dashboard", "dashboard/app.py")):
            port = _free_port()
            log_path = live_db.instance_dir / f"{name}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [
                        sys.executable, "-m", "streamlit", "run", script,
                        "--server.headless", "true",
                        "--server.port", str(port),
                        "--browser.gatherUsageStats", "false",
                        "--server.fileWatcherType", "none",
                    ],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            started.append((name, port, process, log_path))
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        for name, port, process, log_path in started:
            while not _healthy(port):
                if process.poll() is not None:
                    pytest.fail(
                        f"the {name} exited with code {process.returncode} before answering "
                        f"on port {port}; log tail:\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the {name} did not answer /_stcore/health on port {port} within "
                        f"{HEALTH_TIMEOUT_S} s; log tail:\n{_tail(log_path)}"
                    )
                time.sleep(0.1)
        yield Apps(
            kiosk_url=f"http://127.0.0.1:{started[0][1]}/",
            dashboard_url=f"http://127.0.0.1:{started[1][1]}/",
            secret_key=secret_key,
        )
    finally:
        for _name, _port, process, _log in started:
            _stop(process)


# --- Phones (issue 16) --------------------------------------------------------------------

# A patient's own phone: 390x844 CSS pixels at 3x, a touch screen, a mobile browser.
PHONE_CONTEXT = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-US",
    "timezone_id": CLINIC_TZ,
    "reduced_motion": "reduce",
}


@pytest.fixture
def new_phone_page(browser) -> Iterator[Callable[[], object]]:
    """Open a page on a phone (PHONE_CONTEXT) in a fresh context, with the run counter."""
    contexts = []

    def _open():
        context = browser.new_context(**PHONE_CONTEXT)
        context.set_default_timeout(RUN_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        _track_runs(page)
        return page

    yield _open
    for context in contexts:
        context.close()
