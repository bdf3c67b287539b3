"""Browser fixtures: both apps running on a seeded SQLite file, driven by headless Chromium.

Chromium is Debian's (CHECKIN_BROWSER, default /usr/bin/chromium), launched through
Playwright's sync API. Without it these tests skip, saying why; with
CHECKIN_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead.

Waiting follows Streamlit's own e2e tests: the `stApp` element carries
`data-test-script-state` ("initial", "running", "notRunning", ...). An init script counts
the runs that finished, so after a click we wait for a run that ended *after* the click,
not for the idle state the page was already in.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect, sync_playwright

from shared import migrate
from shared.db import make_engine, session_scope
from shared.models import utcnow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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

# Counts finished script runs: every change of the attribute away from "running".
# Each mutation record is seen, even when several arrive in one batch.
RUN_COUNTER_JS = """
(() => {
  window.__stRunsFinished = 0;
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.oldValue === "running") window.__stRunsFinished += 1;
    }
  }).observe(document, {
    subtree: true,
    attributes: true,
    attributeOldValue: true,
    attributeFilter: ["data-test-script-state"],
  });
})();
"""

APP_IDLE_JS = """
(after) => {
  const app = document.querySelector("[data-testid='stApp']");
  return !!app
    && (window.__stRunsFinished || 0) > after
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
        context.add_init_script(RUN_COUNTER_JS)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


# --- Streamlit waits ----------------------------------------------------------------------


def _runs_finished(page) -> int:
    return int(page.evaluate("window.__stRunsFinished || 0"))


def wait_for_app_run(page, *, after: int) -> None:
    """Wait until a script run that finished after `after` runs leaves the app idle."""
    page.wait_for_function(APP_IDLE_JS, arg=after, polling=POLL_MS, timeout=RUN_TIMEOUT_MS)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0)


def goto_app(page, url: str) -> None:
    """Open an app and wait for its first run to finish."""
    page.goto(url)
    page.locator("[data-testid='stAppViewContainer']").wait_for(state="visible")
    wait_for_app_run(page, after=0)


def click_and_wait(page, target) -> None:
    """Click `target` (a Locator) and wait for the rerun the click causes to finish."""
    before = _runs_finished(page)
    target.click()
    wait_for_app_run(page, after=before)


def screenshot(page, name: str) -> Path:
    """A viewport-only PNG in docs/screenshots/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    return path


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


@pytest.fixture(scope="session")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> LiveDb:
    """A migrated SQLite file with the demo clinic day seeded for today."""
    from shared.demo import seed_demo

    instance = tmp_path_factory.mktemp("browser-instance")
    url = f"sqlite:///{instance / 'checkin.db'}"
    migrate.upgrade(url)
    tz = ZoneInfo(CLINIC_TZ)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
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
def apps(live_db: LiveDb) -> Iterator[Apps]:
    """The kiosk and the dashboard, each in its own `streamlit run` on a free port."""
    env = dict(os.environ)
    env.update(
        CHECKIN_DATABASE_URL=live_db.url,
        CHECKIN_INSTANCE_DIR=str(live_db.instance_dir),
        CHECKIN_TIMEZONE=CLINIC_TZ,
        # Given here so the two apps never race to create instance/secret_key.
        CHECKIN_SECRET_KEY=secrets.token_urlsafe(48),
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
        )
    finally:
        for _name, _port, process, _log in started:
            _stop(process)

