"""The MLLP listener: the practice system's SIU messages in, an HL7 ACK out for each.

    server = await start_listener(engine, host="127.0.0.1", port=2575, tz=settings.tz)

Each message is applied through the schedule import (`import_hl7_message`) in its own
transaction, in a thread, so that one connection's database work never holds up another
connection's reading and answering. The answer:

- AA: applied (warnings, if any, are kept with the message's record).
- AA: a duplicate, an MSH-10 already applied: acknowledged, not applied again (the applied
  MSH-10s are in the database, so this holds across restarts and between copies arriving
  at the same moment).
- AE: read and refused; ERR names the reasons.
- AR: not a message that can be read (not HL7, not UTF-8 or ISO 8859-1, larger than
  MAX_FRAME; after an oversized frame the connection is closed).

When the database cannot be reached, no ACK is sent and the connection is closed: the sender
keeps the message and sends it again, so nothing is lost.

The log names message ids and outcomes, never a patient's values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from shared.db import lock_refused
from shared.imports import MessageStatus, Problem, import_hl7_message
from shared.imports.hl7_source import MAX_SEGMENTS
from shared.imports.hl7_source import control_id as read_control_id
from shared.interface import messages
from shared.interface.mllp import MAX_FRAME, FrameCut, FrameTooLarge, frame, read_frame
from shared.models import InboundMessage, InboundStatus, utcnow

log = logging.getLogger("shared.interface.listener")

ACK_CODES = {InboundStatus.APPLIED: "AA", InboundStatus.DUPLICATE: "AA",
             InboundStatus.REFUSED: "AE", InboundStatus.UNPARSABLE: "AR"}
# HL7 table 0357: what went wrong, for the sender's interface engine.
ERROR_CODES = {InboundStatus.REFUSED: ("207", "Application internal error"),
               InboundStatus.UNPARSABLE: ("102", "Data type error")}
ATTEMPTS = 3  # a transaction that lost a race (a provider created meanwhile) runs again
WORKERS = 4  # database threads: at most this many messages are applied at once


@dataclass(frozen=True)
class Answer:
    status: InboundStatus
    control_id: str | None
    ack: str
    reasons: tuple[Problem, ...] = ()

    @property
    def ack_code(self) -> str:
        return ACK_CODES[self.status]


def _reason_record(problem: Problem) -> dict[str, Any]:
    params = {k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
              for k, v in problem.params.items()}
    return {"key": problem.key, "params": params}


def _answer(text: str, status: InboundStatus, control_id: str | None,
            reasons: tuple[Problem, ...], now: datetime, tz: ZoneInfo) -> Answer:
    error = ERROR_CODES.get(status, ("", ""))
    words = " ".join(p.text("en") for p in reasons) if status in ERROR_CODES else ""
    ack = messages.ack(text, ACK_CODES[status], control_id=f"A{uuid4().hex[:19]}", now=now,
                       tz=tz, text=words, error_code=error[0], error_text=error[1],
                       reason_codes=tuple(dict.fromkeys(p.key for p in reasons)))
    return Answer(status, control_id, ack, reasons)


def decode(data: bytes) -> str | None:
    """The message's text: UTF-8, or ISO 8859-1 when MSH-18 says so; None otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        charset = messages.msh_fields(data[:4096].decode("latin-1")).get(18, "")
        return data.decode("latin-1") if "8859" in charset else None


def _apply(session: Session, text: str, control_id: str | None, *, tz: ZoneInfo,
           now: datetime) -> tuple[InboundStatus, tuple[Problem, ...]]:
    if control_id is not None and session.scalar(
        select(InboundMessage.id).where(InboundMessage.applied_control_id == control_id)
    ) is not None:
        return InboundStatus.DUPLICATE, ()
    outcome = import_hl7_message(session, text, tz=tz, now=now)
    status = {MessageStatus.APPLIED: InboundStatus.APPLIED,
              MessageStatus.REFUSED: InboundStatus.REFUSED,
              MessageStatus.UNPARSABLE: InboundStatus.UNPARSABLE}[outcome.status]
    return status, outcome.reasons


def receive(engine: Engine, data: bytes, *, tz: ZoneInfo, now: datetime | None = None) -> Answer:
    """Apply one message (its bytes, as framed) and say how to answer it. A message that is
    applied and its record are one transaction. Raises SQLAlchemyError when the database
    cannot take it (the caller sends no ACK)."""
    text = decode(data)
    if text is None:
        now = now or utcnow()
        text = data.decode("latin-1")
        problems = (Problem("import.error_encoding", {"line": 1}),)
        control_id = read_control_id(text)
        _record(engine, InboundStatus.UNPARSABLE, control_id, problems, now)
        return _answer(text, InboundStatus.UNPARSABLE, control_id, problems, now, tz)
    control_id = read_control_id(text)
    for attempt in range(1, ATTEMPTS + 1):
        at = now or utcnow()
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                status, reasons = _apply(session, text, control_id, tz=tz, now=at)
                session.add(InboundMessage(
                    control_id=control_id, status=status, ack_code=ACK_CODES[status],
                    applied_control_id=control_id if status == InboundStatus.APPLIED else None,
                    reasons=[_reason_record(p) for p in reasons] or None, received_at=at))
            return _answer(text, status, control_id, reasons, at, tz)
        except IntegrityError:
            # Another copy of this message was applied meanwhile (the next attempt finds it a
            # duplicate), or a provider or patient it creates was created meanwhile.
            if attempt == ATTEMPTS:
                raise
        except OperationalError as exc:
            if not lock_refused(exc) or attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _record(engine: Engine, status: InboundStatus, control_id: str | None,
            reasons: tuple[Problem, ...], now: datetime) -> None:
    with Session(engine) as session, session.begin():
        session.add(InboundMessage(control_id=control_id, status=status,
                                   ack_code=ACK_CODES[status],
                                   reasons=[_reason_record(p) for p in reasons],
                                   received_at=now))


def _oversized(engine: Engine, head: bytes, tz: ZoneInfo, max_frame: int) -> Answer:
    now = utcnow()
    text = head.decode("latin-1")
    control_id = read_control_id(text)
    problems = (Problem("import.reason_message_too_large",
                        {"max_kb": max_frame // 1024, "max_segments": MAX_SEGMENTS}),)
    try:
        _record(engine, InboundStatus.UNPARSABLE, control_id, problems, now)
    except SQLAlchemyError as exc:
        log.error("HL7 message %s not recorded (%s)", control_id, type(exc).__name__)
    return _answer(text, InboundStatus.UNPARSABLE, control_id, problems, now, tz)


class Listener:
    """The MLLP server's per-connection work; `serve` starts it."""

    def __init__(self, engine: Engine, *, tz: ZoneInfo, workers: int = WORKERS,
                 max_frame: int = MAX_FRAME) -> None:
        self.engine = engine
        self.tz = tz
        self.max_frame = max_frame
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hl7-db")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await read_frame(reader)
                if data is None:
                    break
                try:
                    answer = await loop.run_in_executor(
                        self.pool, lambda d=data: receive(self.engine, d, tz=self.tz))
                except SQLAlchemyError as exc:
                    log.error("HL7 message %s from %s not applied: database error (%s); "
                              "no ACK, connection closed",
                              read_control_id(data[:4096].decode("latin-1")), peer,
                              type(exc).__name__)
                    break
                log.info("HL7 message %s from %s: %s (%s)%s", answer.control_id, peer,
                         answer.status.value, answer.ack_code,
                         "".join(f" {p.key}" for p in answer.reasons))
                writer.write(frame(answer.ack))
                await writer.drain()
        except FrameTooLarge as exc:
            head = exc.head
            answer = await loop.run_in_executor(
                self.pool, lambda: _oversized(self.engine, head, self.tz, self.max_frame))
            log.warning("HL7 frame from %s larger than %d bytes (message %s): AR, "
                        "connection closed", peer, self.max_frame, answer.control_id)
            writer.write(frame(answer.ack))
        except FrameCut:
            log.warning("HL7 connection from %s closed in the middle of a message", peer)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.warning("HL7 connection from %s lost (%s)", peer, type(exc).__name__)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


async def serve(engine: Engine, *, host: str, port: int, tz: ZoneInfo,
                max_frame: int = MAX_FRAME) -> tuple[asyncio.Server, Listener]:
    """Start listening; the server runs until closed (then call `listener.close()`)."""
    listener = Listener(engine, tz=tz, max_frame=max_frame)
    server = await asyncio.start_server(listener.handle, host, port, limit=max_frame)
    return server, listener


async def run_forever(engine: Engine, *, host: str, port: int, tz: ZoneInfo) -> None:
    """The `listen-hl7` command: serve until cancelled (Ctrl-C)."""
    server, listener = await serve(engine, host=host, port=port, tz=tz)
    try:
        async with server:
            await server.serve_forever()
    finally:
        listener.close()
