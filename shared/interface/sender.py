"""The sender: the outbox's rows to the practice system over MLLP, in order, each waiting
for its ACK.

    await Sender(engine, host="10.0.0.5", port=2576, tz=settings.tz).run()

At least once: a row is marked sent only after its ACK (AA or CA) came back with its own
MSH-10 in MSA-2. A receiver that is down, a lost connection or no ACK in time leave the row
pending; the sender waits (0.5 s, doubling to 30 s) and sends the same message again under
the same MSH-10, which the receiver uses to recognise a copy. A sender stopped between
sending and the ACK sends that row again when it starts. An ACK that refuses (AE, AR)
marks the row failed, with the receiver's words, and the next row goes; a manager can
resend it from the interface page.

Run one sender per database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from shared.interface import messages, outbox
from shared.interface.mllp import MAX_FRAME, FrameCut, FrameTooLarge, frame, read_frame
from shared.models import utcnow

log = logging.getLogger("shared.interface.sender")


@dataclass(frozen=True)
class Timing:
    ack_timeout: float = 30.0  # seconds to wait for an ACK before sending again
    connect_timeout: float = 10.0
    first_retry: float = 0.5  # the wait after a failure, doubling ...
    longest_retry: float = 30.0  # ... up to this
    idle_poll: float = 1.0  # how often an empty outbox is looked at again


class NoAnswer(Exception):
    """The receiver could not be reached, or sent no ACK for the message in time."""


class Sender:
    def __init__(self, engine: Engine, *, host: str, port: int, tz: ZoneInfo,
                 timing: Timing | None = None, batch: int = 50, facility: str = "",
                 receiver: tuple[str, str] = ("", "")) -> None:
        self.engine = engine
        self.host, self.port = host, port
        self.tz = tz
        self.timing = timing or Timing()
        self.batch = batch
        self.facility = facility
        self.receiver = receiver
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.delivered = 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        wait = self.timing.first_retry
        try:
            while not stop.is_set():
                try:
                    rows = await asyncio.to_thread(
                        outbox.pending, self.engine, tz=self.tz, limit=self.batch,
                        facility=self.facility, receiver=self.receiver)
                except SQLAlchemyError as exc:
                    log.error("outbox not read: database error (%s)", type(exc).__name__)
                    await self._pause(stop, wait)
                    wait = min(wait * 2, self.timing.longest_retry)
                    continue
                if not rows:
                    await self._pause(stop, self.timing.idle_poll)
                    continue
                for row in rows:
                    if stop.is_set():
                        break
                    try:
                        ack = await self.exchange(row)
                    except NoAnswer as exc:
                        log.warning("HL7 %s not acknowledged (%s); again in %.1f s",
                                    row.control_id, exc, wait)
                        await asyncio.to_thread(outbox.record_no_answer, self.engine, row,
                                                str(exc), now=utcnow())
                        await self._pause(stop, wait)
                        wait = min(wait * 2, self.timing.longest_retry)
                        break  # read the outbox again: the same row goes first
                    wait = self.timing.first_retry
                    # Recorded even if this task is cancelled now: the thread carries on.
                    await asyncio.to_thread(outbox.record_answer, self.engine, row, ack,
                                            now=utcnow())
                    self.delivered += 1
                    log.info("HL7 %s answered %s", row.control_id, ack.code)
        finally:
            await self.close()

    async def exchange(self, row: outbox.Outgoing) -> messages.Acknowledgement:
        """Send one message and wait for its ACK (ACKs for other messages are skipped)."""
        try:
            reader, writer = await self._connection()
        except (OSError, TimeoutError) as exc:
            await self.close()
            raise NoAnswer(f"cannot connect to {self.host}:{self.port}") from exc
        try:
            writer.write(frame(row.message))
            await writer.drain()
            async with asyncio.timeout(self.timing.ack_timeout):
                while True:
                    data = await read_frame(reader)
                    if data is None:
                        raise NoAnswer("connection closed by the receiver")
                    ack = messages.read_ack(data.decode("utf-8", "replace"))
                    if ack is not None and ack.control_id == row.control_id:
                        return ack
        except TimeoutError as exc:
            await self.close()
            raise NoAnswer("no ACK in time") from exc
        except (OSError, FrameCut, FrameTooLarge) as exc:
            await self.close()
            raise NoAnswer(type(exc).__name__) from exc
        except NoAnswer:
            await self.close()
            raise

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._writer is None or self._writer.is_closing() or self._reader is None:
            async with asyncio.timeout(self.timing.connect_timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    self.host, self.port, limit=MAX_FRAME)
        return self._reader, self._writer

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await stop.wait()
        except TimeoutError:
            pass
