"""`python -m bench.hl7`: messages per second through the MLLP listener (SIU in, ACK out)
and the outbox's delivery rate, on SQLite (always) and PostgreSQL (when
CHECKIN_TEST_POSTGRES_URL is set).

- Listener: 100 new appointments a round as SIU^S12, one connection, each message waiting
  for its ACK. Baseline: an MLLP server that answers each message with the same ACK without
  touching the database (framing, reading MSH, building the ACK).
- Outbox: 100 arrivals a round delivered by the sender to an ACK-only receiver. Baseline:
  the same messages, already rendered, sent one at a time over MLLP to the same receiver,
  each waiting for its ACK, without the database.

Baseline and measured rounds alternate; each prints `name: measured, baseline, ratio` with
the median and the best (min) round, as messages per second.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from shared import migrate
from shared.db import make_engine
from shared.interface import listener, messages, outbox
from shared.interface.mllp import frame, read_frame
from shared.interface.sender import Sender, Timing
from shared.models import (
    Appointment,
    Location,
    OutboxEvent,
    OutboxMessage,
    OutboxStatus,
    Patient,
    Provider,
)

TZ = ZoneInfo("America/Chicago")
MESSAGES = 100
ROUNDS = 5
FIRST_DAY = date(2026, 7, 6)
NOW = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def siu(round_no: int, i: int) -> str:
    """A new appointment, as a practice system sends it."""
    day = FIRST_DAY + timedelta(days=round_no)
    start = f"{day:%Y%m%d}{8 + i % 9:02d}{(i * 7) % 60:02d}"
    appointment = f"B{round_no:02d}{i:04d}"
    return "\r".join([
        f"MSH|^~\\&|PMS|MAIN|CHECKIN|MAIN|20260701083000||SIU^S12|BENCH-{uuid.uuid4().hex[:12]}"
        "|P|2.3",
        f"SCH|{appointment}^PMS|{appointment}^PMS|||||FU^Follow-up|FU^Follow-up|20|MIN"
        f"|^^20^{start}||||||||||||||Booked",
        f"PID|1||P{i % 40:05d}^^^PMS^MR||Bench{i % 40}^Pat||19610314|F"
        "|||118 Cedar Ave^^Chicago^IL^60614||(312)555-0181^PRN^PH",
        "RGS|1|A", f"AIP|1||D{i % 8}^Okafor^Imani^^^Dr|D",
        "RGS|2|A", f"AIL|1||W{i % 3}^Wing {i % 3}|Family Medicine",
    ]) + "\r"


async def ack_server(handle_text: Callable[[str], str]) -> tuple[asyncio.Server, int]:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (data := await read_frame(reader)) is not None:
                writer.write(frame(handle_text(data.decode())))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the other side left, or the benchmark is over
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def echo_ack(message: str) -> str:
    control_id = messages.msh_fields(message).get(10, "")
    return messages.ack(message, "AA", control_id=f"E{control_id}", now=NOW, tz=TZ)


async def send_all(port: int, texts: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for message in texts:
            writer.write(frame(message))
            await writer.drain()
            answer = await read_frame(reader)
            assert answer is not None and b"MSA|AA|" in answer, answer
    finally:
        writer.close()


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    began = time.perf_counter()
    await work()
    return time.perf_counter() - began


def add_arrivals(engine: Engine, round_no: int) -> None:
    with Session(engine) as session, session.begin():
        provider = Provider(display_name=f"Dr. Bench {round_no}")
        location = Location(name=f"Bench wing {round_no}", department="Clinic")
        for i in range(MESSAGES):
            appointment = Appointment(
                patient=Patient(mrn=f"O{round_no:02d}{i:05d}", legal_given_name="Pat",
                                legal_family_name=f"Out{i}", birth_date=date(1970, 1, 1)),
                provider=provider, location=location, visit_type="Follow-up",
                start=NOW + timedelta(days=round_no, minutes=i))
            session.add(appointment)
            session.flush()
            outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment,
                                now=NOW)


def rendered_copies(engine: Engine) -> list[str]:
    """The messages the sender delivered, for the baseline to send again (new MSH-10s)."""
    with Session(engine) as session:
        rows = session.query(OutboxMessage.message).filter(
            OutboxMessage.status == OutboxStatus.SENT).order_by(OutboxMessage.id.desc()).limit(
            MESSAGES).all()
    return [m.replace("|CHK", "|BASE", 1) for (m,) in rows if m]


async def drain_outbox(engine: Engine, port: int) -> None:
    sender = Sender(engine, host="127.0.0.1", port=port, tz=TZ,
                    timing=Timing(idle_poll=0.001), batch=MESSAGES)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    while sender.delivered < MESSAGES:
        await asyncio.sleep(0.001)
    stop.set()
    await task


async def bench_database(engine: Engine, name: str) -> list[str]:
    echo, echo_port = await ack_server(echo_ack)
    server, handler = await listener.serve(engine, host="127.0.0.1", port=0, tz=TZ)
    port = server.sockets[0].getsockname()[1]
    receiver, receiver_port = await ack_server(echo_ack)
    times: dict[str, list[float]] = {k: [] for k in ("echo", "listener", "wire", "sender")}
    try:
        await send_all(port, [siu(99, i) for i in range(10)])  # warm up
        for round_no in range(ROUNDS):
            batch = [siu(round_no, i) for i in range(MESSAGES)]
            times["echo"].append(await timed(lambda b=batch: send_all(echo_port, b)))
            times["listener"].append(await timed(lambda b=batch: send_all(port, b)))
            await asyncio.to_thread(add_arrivals, engine, round_no)
            times["sender"].append(await timed(lambda: drain_outbox(engine, receiver_port)))
            copies = await asyncio.to_thread(rendered_copies, engine)
            times["wire"].append(await timed(lambda c=copies: send_all(receiver_port, c)))
    finally:
        for s in (echo, server, receiver):
            s.close()
            await s.wait_closed()
        handler.close()
    return [line(f"hl7 listener, SIU in and ACK out ({name})", times["listener"],
                 times["echo"], "MLLP echo ACK, no database"),
            line(f"hl7 outbox delivery ({name})", times["sender"], times["wire"],
                 "the same messages over MLLP, no database")]


def line(name: str, measured: list[float], baseline: list[float], baseline_name: str) -> str:
    def rate(seconds: float) -> float:
        return MESSAGES / seconds

    m_med, m_best = rate(statistics.median(measured)), rate(min(measured))
    b_med, b_best = rate(statistics.median(baseline)), rate(min(baseline))
    return (f"{name}: {m_med:,.0f} msg/s (best {m_best:,.0f}), "
            f"baseline {b_med:,.0f} msg/s (best {b_best:,.0f}; {baseline_name}), "
            f"ratio {b_med / m_med:.1f}x slower")


def _postgres_url() -> tuple[str, Callable[[], None]] | None:
    base = os.environ.get("CHECKIN_TEST_POSTGRES_URL", "").strip()
    if not base:
        return None
    admin = make_engine(base)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def run_on(url: str, name: str) -> list[str]:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        return asyncio.run(bench_database(engine, name))
    finally:
        engine.dispose()


def main() -> None:
    print(f"HL7 over MLLP on this machine, {MESSAGES} messages a round, {ROUNDS} rounds "
          "alternating with the baseline; median and best round:")
    with tempfile.TemporaryDirectory() as folder:
        lines = run_on(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite")
    postgres = _postgres_url()
    if postgres is not None:
        url, drop = postgres
        try:
            lines += run_on(url, "PostgreSQL")
        finally:
            drop()
    else:
        lines.append("(PostgreSQL skipped: set CHECKIN_TEST_POSTGRES_URL to measure it)")
    for text_line in lines:
        print("  " + text_line)


if __name__ == "__main__":
    main()
