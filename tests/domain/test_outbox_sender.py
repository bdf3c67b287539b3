"""The sender against a real MLLP receiver (a small asyncio server in the test): the receiver
down for a while then back, the sender stopped between sending and the ACK, a refusal; the
messages arrive in order, none lost, none applied twice, nothing sent again after its ACK
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.interface import messages, outbox
from shared.interface.mllp import frame, read_frame
from shared.interface.sender import Sender, Timing
from shared.models import OutboxEvent, OutboxMessage, OutboxStatus, utcnow
from tests.aio import run_async
from tests.factories import make_appointment, make_patient

TZ = ZoneInfo("America/Chicago")
FAST = Timing(ack_timeout=5, connect_timeout=2, first_retry=0.02, longest_retry=0.1,
              idle_poll=0.02)
SAFETY = 60  # seconds: a safety net against a hang, never a measure


class Receiver:
    """The practice system's end: keeps every message it is sent, applies each MSH-10
    once, and answers AA unless told to hold the ACK or to refuse."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[str] = []  # MSH-10 of every message, copies included
        self.applied: list[str] = []  # MSH-10 of each message applied, in order
        self.hold = False  # take messages but answer none
        self.refuse: set[str] = set()  # MSH-10s to answer AE
        self.got_one = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Stop listening and hang up on every sender connected."""
        for writer in list(self.connections):
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.add(writer)
        try:
            while (data := await read_frame(reader)) is not None:
                text = data.decode()
                control_id = messages.msh_fields(text)[10]
                self.received.append(control_id)
                self.got_one.set()
                if self.hold:
                    continue
                code = "AE" if control_id in self.refuse else "AA"
                if code == "AA" and control_id not in self.applied:
                    self.applied.append(control_id)
                writer.write(frame(messages.ack(text, code, control_id="R1", now=utcnow(),
                                                tz=TZ, text="Unknown patient")))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_events(engine: Engine, count: int) -> list[str]:
    """`count` arrivals in the outbox; their MSH-10s in the order they were written."""
    with Session(engine) as session, session.begin():
        patient = make_patient(session)
        for _ in range(count):
            appointment = make_appointment(session, patient=patient)
            outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment,
                                now=utcnow())
    return control_ids(engine)


def control_ids(engine: Engine, status: OutboxStatus | None = None) -> list[str]:
    with Session(engine) as session:
        query = select(OutboxMessage.control_id).order_by(OutboxMessage.id)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        return list(session.scalars(query))


def attempts(engine: Engine) -> int:
    with Session(engine) as session:
        return sum(session.scalars(select(OutboxMessage.attempts)))


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.02)


def run(scenario: Callable[[], object]) -> None:
    async def main() -> None:
        async with asyncio.timeout(SAFETY):
            await scenario()

    run_async(main())


def test_messages_arrive_in_order_once_each_and_are_not_sent_again_after_the_ack(
    engine: Engine
) -> None:
    written = write_events(engine, 30)
    port = free_port()
    receiver = Receiver(port)

    async def scenario() -> None:
        await receiver.start()
        sender = Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST, batch=7)
        task = asyncio.create_task(sender.run())
        await until(lambda: len(control_ids(engine, OutboxStatus.SENT)) == 30)
        task.cancel()
        # A new sender finds nothing to send: every row was acknowledged.
        again = Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST)
        stop = asyncio.Event()
        second = asyncio.create_task(again.run(stop))
        await asyncio.sleep(0.2)
        stop.set()
        await second
        await receiver.stop()

    run(scenario)

    assert receiver.received == written
    assert receiver.applied == written


def test_the_receiver_down_for_a_while_then_back_loses_nothing(engine: Engine) -> None:
    written = write_events(engine, 5)
    port = free_port()
    receiver = Receiver(port)

    async def scenario() -> None:
        task = asyncio.create_task(
            Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST).run())
        await until(lambda: attempts(engine) >= 3)  # it tried, and waits longer each time
        assert control_ids(engine, OutboxStatus.PENDING) == written
        await receiver.start()
        await until(lambda: len(control_ids(engine, OutboxStatus.SENT)) == 5)
        task.cancel()
        await receiver.stop()

    run(scenario)

    assert receiver.applied == written


def test_the_receiver_going_away_mid_stream_loses_nothing(engine: Engine) -> None:
    written = write_events(engine, 12)
    port = free_port()
    receiver = Receiver(port)

    async def scenario() -> None:
        await receiver.start()
        task = asyncio.create_task(
            Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST).run())
        await until(lambda: len(receiver.applied) >= 4)
        await receiver.stop()  # hangs up, and is not listening for a while
        await asyncio.sleep(0.2)
        await receiver.start()
        await until(lambda: len(control_ids(engine, OutboxStatus.SENT)) == 12)
        task.cancel()
        await receiver.stop()

    run(scenario)

    assert receiver.applied == written


def test_a_sender_stopped_between_sending_and_the_ack_sends_the_same_message_again(
    engine: Engine
) -> None:
    written = write_events(engine, 3)
    port = free_port()
    receiver = Receiver(port)

    async def scenario() -> None:
        await receiver.start()
        receiver.hold = True
        first = asyncio.create_task(
            Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST).run())
        await receiver.got_one.wait()
        first.cancel()  # killed while waiting for the ACK
        with pytest.raises(asyncio.CancelledError):
            await first
        assert control_ids(engine, OutboxStatus.PENDING) == written
        receiver.hold = False
        second = asyncio.create_task(
            Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST).run())
        await until(lambda: len(control_ids(engine, OutboxStatus.SENT)) == 3)
        second.cancel()
        await receiver.stop()

    run(scenario)

    # The first message went twice under the same MSH-10, and was applied once.
    assert receiver.received == [written[0], *written]
    assert receiver.applied == written


def test_a_refused_message_is_kept_with_the_reason_and_the_next_ones_go(engine: Engine) -> None:
    written = write_events(engine, 3)
    port = free_port()
    receiver = Receiver(port)
    receiver.refuse = {written[1]}

    async def scenario() -> None:
        await receiver.start()
        task = asyncio.create_task(
            Sender(engine, host="127.0.0.1", port=port, tz=TZ, timing=FAST).run())
        await until(lambda: len(control_ids(engine, OutboxStatus.SENT)) == 2)
        task.cancel()
        await receiver.stop()

    run(scenario)

    assert receiver.applied == [written[0], written[2]]
    with Session(engine) as session:
        failed = session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.FAILED)).one()
    assert (failed.control_id, failed.ack_code, failed.error) == (
        written[1], "AE", "Unknown patient")
