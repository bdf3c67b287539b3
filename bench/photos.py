"""`python -m bench.photos`: the dashboard's memory when four desks open the card photos at once.

Issue 11: one view of a 12000x12000 PNG took the dashboard from 187 MB to 754 MB. Card
photos are now kept as JPEGs of at most 1600 px and the desk sees thumbnails; this measures
what the clinic would notice, the memory of the dashboard's server process.

Seeds the demo day into a temporary SQLite file and adds a page of open insurance-change
flags with card photos: most stored the way the kiosk stores them today (a 4032x3024 phone
photo passed through the product's own `card_photo`), some stored before the fix as the raw
upload (the phone's JPEG, and one 12000x12000 PNG of a flat colour). Starts the real
dashboard with `streamlit run` and signs four headless Chromium screens in. Then, in
alternating rounds, all four screens open at once either the arrivals board (the baseline:
the same server, sessions and navigation, no photos) or the Flags page (measured: until
every thumbnail has loaded), while a thread samples the server's resident memory (VmRSS)
every 50 ms. Prints the peak rise over each round's start (median and min) and the memory
after the first and the last round: flat means it does not keep growing.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from google.protobuf.message import DecodeError
from PIL import Image, ImageDraw, ImageFilter
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright
from sqlalchemy import func, select
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.screens import free_port, healthy, tail
from shared import migrate
from shared.db import make_engine, session_scope
from shared.demo import DEMO_PASSWORDS, seed_demo
from shared.models import (
    Appointment,
    Document,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Patient,
    utcnow,
)
from shared.services import flags, images
from shared.services.insurance import report_new_coverage

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLINIC_TZ = "America/Chicago"
BROWSER = os.environ.get("CHECKIN_BROWSER", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENS = 4
ROUNDS = 5  # of each kind, alternating (at least 3)
SAMPLE_S = 0.05
HEALTH_TIMEOUT_S = 60
STEP_TIMEOUT_MS = 60_000
POLL_MS = 50
MB = 1024 * 1024

# A page of flags: insurance changes with a front and a back photo each.
CURRENT_FLAGS = 8  # stored as the kiosk stores them today
LEGACY_JPEG_FLAGS = 3  # stored before the fix: the phone's own JPEG, as uploaded
LEGACY_PNG_FLAGS = 1  # stored before the fix: a 12000x12000 PNG front, a phone JPEG back
PHONE = (4032, 3024)
HUGE_PNG_SIDE = 12_000

ARRIVALS, FLAGS, SIGN_IN_PAGE = "Today's appointments", "Flags to review", "Queue"
APP_IDLE_JS = """
() => {
  const app = document.querySelector("[data-testid='stApp']");
  return !!app
    && app.getAttribute("data-test-script-state") === "notRunning"
    && app.getAttribute("data-test-connection-state") === "CONNECTED"
    && !document.querySelector("[data-testid='stSkeleton']");
}
"""
IMAGES_LOADED_JS = """
(expected) => {
  const shown = [...document.querySelectorAll("[data-testid='stImage'] img")];
  return shown.length === expected && shown.every((img) => img.complete && img.naturalWidth > 0);
}
"""
# A whole script run ended (a fragment's own rerun, or a run cut short, do not count).
FULL_RUN_ENDS = {ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
                 ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR}


class BenchError(Exception):
    """The bench cannot run (the dashboard did not start, a page never showed)."""


# --- The photos ---------------------------------------------------------------------------


@cache
def _desk_texture() -> Image.Image:
    """A phone-sized picture of a card on a desk: soft noise, so the JPEG is photo-sized."""
    small = (PHONE[0] // 8, PHONE[1] // 8)
    blotches = Image.merge("RGB", [Image.effect_noise(small, 60) for _ in range(3)])
    img = blotches.resize(PHONE, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(PHONE, 12).convert("RGB")
    return Image.blend(img, grain, 0.15)


def phone_photo(rng: random.Random) -> bytes:
    """A 4032x3024 JPEG as a phone takes it (about 2.7 MB), each one different."""
    img = _desk_texture().copy()
    draw = ImageDraw.Draw(img)
    left, top = rng.randint(300, 700), rng.randint(300, 600)
    draw.rounded_rectangle((left, top, left + 2800, top + 1900), 80,
                           fill=(rng.randint(200, 245), 235, 250), outline=(30, 60, 140),
                           width=20)
    for line in range(9):
        width = rng.randint(600, 2300)
        y = top + 300 + line * 170
        draw.rectangle((left + 200, y, left + 200 + width, y + 80), fill=(40, 40, 60))
    img = img.filter(ImageFilter.GaussianBlur(1))
    out = BytesIO()
    img.save(out, format="JPEG", quality=92)
    return out.getvalue()


def flat_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG of one colour, written row by row: a few hundred KB on disk that
    decode to width * height * 3 bytes (432 MB at 12000x12000)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    row = b"\0" + bytes(colour) * width
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


# --- The data set -------------------------------------------------------------------------


@dataclass
class DataSet:
    flags_with_photos: int = 0
    open_flags: int = 0
    photos: dict[str, list[int]] = field(default_factory=dict)  # what -> stored sizes
    thumbnails: int = 0  # photos the page shows (the others say "photo unavailable")

    def add(self, what: str, content: bytes, *, shown: bool = True) -> None:
        self.photos.setdefault(what, []).append(len(content))
        self.thumbnails += shown

    def describe(self) -> list[str]:
        count = sum(len(sizes) for sizes in self.photos.values())
        lines = [f"{self.open_flags} open flags on the page, {self.flags_with_photos} of them "
                 f"insurance changes with {count} card photos "
                 f"({self.thumbnails} shown as thumbnails):"]
        for what, sizes in self.photos.items():
            lines.append(f"  {len(sizes):2d} x {what}, "
                         f"{statistics.median(sizes) / 1024:,.0f} KB each (median)")
        return lines


def _legacy_flag(session, appointment: Appointment, front: bytes, back: bytes,
                 content_type: str, now) -> None:
    """A flag as the kiosk raised it before the fix: the uploads stored as they came."""
    ids = {}
    for kind, content, kind_type in (("card_front", front, content_type),
                                     ("card_back", back, "image/jpeg")):
        doc = Document(patient_id=appointment.patient_id, appointment_id=appointment.id,
                       kind=kind, content_type=kind_type, content=content, uploaded_at=now)
        session.add(doc)
        session.flush()
        ids[f"{kind}_document_id"] = doc.id
    flags.raise_flag(
        session, kind=FlagKind.INSURANCE_CHANGE, severity=FlagSeverity.WARNING, now=now,
        patient_id=appointment.patient_id, appointment_id=appointment.id, kiosk_id="lobby-1",
        new_value={"payer": "Prairie Health Plan", "member_id": f"PHP{appointment.id:08d}",
                   "group_id": "", **ids},
    )


def build(url: str) -> DataSet:
    """The demo day plus a page of insurance changes with card photos."""
    data = DataSet()
    rng = random.Random(11)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            seed_demo(session, tz=ZoneInfo(CLINIC_TZ), now=utcnow())
            session.flush()
            visits = session.scalars(
                select(Appointment).order_by(Appointment.start, Appointment.id)).all()
            seen: set[int] = set()
            one_each = [a for a in visits
                        if not (a.patient_id in seen or seen.add(a.patient_id))]
            total = CURRENT_FLAGS + LEGACY_JPEG_FLAGS + LEGACY_PNG_FLAGS
            if len(one_each) < total:
                raise BenchError(f"the demo has {len(one_each)} patients, {total} needed")
            now = utcnow()
            chosen = iter(one_each[:total])
            for _ in range(CURRENT_FLAGS):
                appointment = next(chosen)
                patient = session.get(Patient, appointment.patient_id)
                flag = report_new_coverage(
                    session, patient, payer="Lakeshore Mutual",
                    member_id=f"LKM{appointment.id:08d}", group_id="G-42",
                    card_front=phone_photo(rng), card_back=phone_photo(rng),
                    appointment_id=appointment.id, now=now, kiosk_id="lobby-1")
                for name in ("card_front_document_id", "card_back_document_id"):
                    doc = session.get(Document, (flag.new_value or {})[name])
                    data.add(f"{PHONE[0]}x{PHONE[1]} phone photo stored as today's JPEG "
                             f"(<= {images.STORED_LONG_SIDE} px)", doc.content)
            for _ in range(LEGACY_JPEG_FLAGS):
                front, back = phone_photo(rng), phone_photo(rng)
                _legacy_flag(session, next(chosen), front, back, "image/jpeg", now)
                for content in (front, back):
                    data.add(f"{PHONE[0]}x{PHONE[1]} phone JPEG stored raw (legacy)", content)
            for _ in range(LEGACY_PNG_FLAGS):
                front = flat_png(HUGE_PNG_SIDE, HUGE_PNG_SIDE, (228, 236, 246))
                back = phone_photo(rng)
                _legacy_flag(session, next(chosen), front, back, "image/png", now)
                # Too big to decode safely: the page says the photo is unavailable.
                data.add(f"{HUGE_PNG_SIDE}x{HUGE_PNG_SIDE} flat PNG stored raw (legacy)",
                         front, shown=False)
                data.add(f"{PHONE[0]}x{PHONE[1]} phone JPEG stored raw (legacy)", back)
            data.flags_with_photos = total
            data.open_flags = session.scalar(
                select(func.count()).select_from(Flag).where(Flag.status == FlagStatus.OPEN))
    finally:
        engine.dispose()
    return data


# --- The dashboard and its memory ---------------------------------------------------------


@contextmanager
def dashboard(url: str, folder: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """`streamlit run dashboard/app.py` on a free port, stopped by its own id on the way out."""
    port = free_port()
    env = dict(os.environ)
    env.update(CHECKIN_DATABASE_URL=url, CHECKIN_INSTANCE_DIR=str(folder),
               CHECKIN_TIMEZONE=CLINIC_TZ, CHECKIN_SECRET_KEY=secrets.token_urlsafe(48))
    env.pop("CHECKIN_KIOSK_ID", None)
    log_path = folder / "dashboard.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not healthy(port):
            if process.poll() is not None:
                raise BenchError(f"the dashboard exited with code {process.returncode} before "
                                 f"answering on port {port}; log tail:\n{tail(log_path)}")
            if time.monotonic() > deadline:
                raise BenchError(f"the dashboard did not answer /_stcore/health on port {port} "
                                 f"within {HEALTH_TIMEOUT_S} s; log tail:\n{tail(log_path)}")
            time.sleep(0.1)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _family(pid: int) -> list[int]:
    """The process and its descendants (streamlit should fork none)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def rss_bytes(pid: int) -> int:
    total = 0
    for member in _family(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass  # gone between the listing and the read
    return total


class PeakSampler:
    """Samples the server's RSS in a thread; the peak since `start`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> PeakSampler:
        self.start = rss_bytes(self.pid)
        self.peak = self.start
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.end = rss_bytes(self.pid)
        self.peak = max(self.peak, self.end)


# --- Four screens -------------------------------------------------------------------------


@dataclass
class Screen:
    page: object
    runs: list[int] = field(default_factory=lambda: [0])


def _count_runs(screen: Screen) -> None:
    """Count the whole script runs the server reports finished on the app's websocket."""

    def on_frame(payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(payload)
        except DecodeError:
            return
        if (message.WhichOneof("type") == "script_finished"
                and message.script_finished in FULL_RUN_ENDS):
            screen.runs[0] += 1

    def on_websocket(websocket) -> None:
        if websocket.url.split("?")[0].rstrip("/").endswith("/_stcore/stream"):
            websocket.on("framereceived", on_frame)

    screen.page.on("websocket", on_websocket)


async def _wait_run(screen: Screen, *, after: int) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while screen.runs[0] <= after:
        if time.monotonic() > deadline:
            raise BenchError(f"no dashboard run finished within {STEP_TIMEOUT_MS // 1000} s "
                             f"on {screen.page.url}")
        await screen.page.wait_for_timeout(POLL_MS)  # lets Playwright deliver frames
    await screen.page.wait_for_function(APP_IDLE_JS, polling=POLL_MS)


async def _sign_in(context, base_url: str) -> Screen:
    """Open the dashboard at the queue, sign in as the representative, land there."""
    screen = Screen(await context.new_page())
    _count_runs(screen)
    page = screen.page
    await page.goto(base_url + "queue")
    await _wait_run(screen, after=0)
    await page.get_by_role("textbox", name="Username").fill("rep")
    await page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORDS["rep"])
    before = screen.runs[0]
    await page.get_by_role("button", name="Sign in").click()
    await _wait_run(screen, after=before)
    await page.get_by_role("heading", name=SIGN_IN_PAGE, exact=True).wait_for()
    return screen


async def _open(screen: Screen, barrier: asyncio.Barrier, link: str, thumbnails: int) -> None:
    """Wait for the other screens, then open a page from the top navigation and wait until
    it has finished, its thumbnails too."""
    page = screen.page
    await barrier.wait()
    before = screen.runs[0]
    await page.get_by_role("link", name=link, exact=True).click()
    await _wait_run(screen, after=before)
    await page.get_by_role("heading", name=link, exact=True).wait_for()
    await page.wait_for_function(IMAGES_LOADED_JS, arg=thumbnails, polling=POLL_MS)


@dataclass
class Rounds:
    peaks: dict[str, list[float]] = field(default_factory=lambda: {ARRIVALS: [], FLAGS: []})
    after: dict[str, list[float]] = field(default_factory=lambda: {ARRIVALS: [], FLAGS: []})
    seconds: dict[str, list[float]] = field(default_factory=lambda: {ARRIVALS: [], FLAGS: []})
    before_first: float = 0.0


async def drive(base_url: str, pid: int, thumbnails: int) -> Rounds:
    try:
        return await _rounds(base_url, pid, thumbnails)
    except PlaywrightError as exc:
        first = (exc.message or "").strip().splitlines()[:1]
        raise BenchError(f"the browser gave up: {first[0] if first else exc}") from exc


async def _rounds(base_url: str, pid: int, thumbnails: int) -> Rounds:
    rounds = Rounds()
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=BROWSER,
                                                       args=CHROMIUM_ARGS)
        except Exception as exc:
            raise BenchError(f"cannot launch {BROWSER}: {type(exc).__name__}") from exc
        try:
            screens = []
            for _ in range(SCREENS):
                context = await browser.new_context(
                    viewport={"width": 1280, "height": 900}, locale="en-US",
                    timezone_id=CLINIC_TZ, reduced_motion="reduce")
                context.set_default_timeout(STEP_TIMEOUT_MS)
                screens.append(await _sign_in(context, base_url))
            rounds.before_first = rss_bytes(pid) / MB
            for _ in range(ROUNDS):
                for link, shown in ((ARRIVALS, 0), (FLAGS, thumbnails)):
                    barrier = asyncio.Barrier(SCREENS)
                    began = time.perf_counter()
                    with PeakSampler(pid) as sampler:
                        await asyncio.gather(*(_open(s, barrier, link, shown) for s in screens))
                    rounds.seconds[link].append(time.perf_counter() - began)
                    rounds.peaks[link].append((sampler.peak - sampler.start) / MB)
                    rounds.after[link].append(sampler.end / MB)
        finally:
            await browser.close()
    return rounds


# --- The report ---------------------------------------------------------------------------


def report(data: DataSet, rounds: Rounds, seconds: float) -> None:
    print(f"Dashboard memory, {SCREENS} screens at once ({os.cpu_count()} cores, "
          f"{ROUNDS} rounds of each, alternating; server RSS sampled every "
          f"{SAMPLE_S * 1000:.0f} ms):")
    for line in data.describe():
        print("  " + line)
    flags_peaks, board_peaks = rounds.peaks[FLAGS], rounds.peaks[ARRIVALS]
    measured, base = statistics.median(flags_peaks), statistics.median(board_peaks)
    print(f"  peak RSS rise over the round's start, median (min), MB; "
          f"baseline: arrivals board, {SCREENS} screens at once:")
    print(f"  flags page with card photos, {SCREENS} screens at once: "
          f"{measured:.1f} ({min(flags_peaks):.1f}), "
          f"{base:.1f} ({min(board_peaks):.1f}), "
          + (f"{measured / base:.1f}x" if base > 0 else "n/a (baseline 0)"))
    print("    each round, flags: " + ", ".join(f"{p:.1f}" for p in flags_peaks)
          + "; arrivals: " + ", ".join(f"{p:.1f}" for p in board_peaks))
    print("    seconds until all screens showed it, median: "
          f"flags {statistics.median(rounds.seconds[FLAGS]):.2f}, "
          f"arrivals {statistics.median(rounds.seconds[ARRIVALS]):.2f}")
    after = rounds.after[FLAGS]
    print(f"  server RSS: {rounds.before_first:.0f} MB signed in, {after[0]:.0f} MB after the "
          f"first flags round, {after[-1]:.0f} MB after the last: "
          f"{after[-1] - after[0]:+.1f} MB over {ROUNDS - 1} more rounds, "
          f"{after[-1] - after[-3]:+.1f} MB over the last 2 "
          f"(after each: " + ", ".join(f"{a:.0f}" for a in after) + ")")
    print(f"  ({seconds:.0f} s in all)")


def main() -> None:
    began = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-photos-") as name:
            folder = Path(name)
            url = f"sqlite:///{folder / 'checkin.db'}"
            migrate.upgrade(url)
            data = build(url)
            with dashboard(url, folder) as (port, process):
                rounds = asyncio.run(drive(f"http://127.0.0.1:{port}/", process.pid,
                                           data.thumbnails))
    except BenchError as exc:
        print(f"bench.photos: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    report(data, rounds, time.perf_counter() - began)


if __name__ == "__main__":
    main()
