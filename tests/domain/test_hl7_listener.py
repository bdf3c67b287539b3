"""The MLLP listener over a real TCP socket, spoken to with python-hl7's MLLP client: good,
refused and unreadable messages get AA, AE and AR; a duplicate is applied once (also after a
restart); twenty senders at once lose nothing; a sender that hangs up mid-frame, noise on the
line or an oversized frame stall no one (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import hl7
import pytest
from hl7.mllp import open_hl7_connection
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.interface import listener
from shared.interface.mllp import END, START
from shared.models import Appointment, InboundMessage, InboundStatus
from tests.aio import run_async
from tests.domain.test_siu_real_feeds import siu

TZ = ZoneInfo("America/Chicago")
SAFETY = 60  # seconds: a safety net against a hang, never a measure


def run(engine: Engine, scenario: Callable[[int], Awaitable[object]], *,
        max_frame: int = listener.MAX_FRAME) -> object:
    """Start the listener on a free port, run `scenario(port)`, stop the listener."""

    async def main() -> object:
        server, handler = await listener.serve(engine, host="127.0.0.1", port=0, tz=TZ,
                                               max_frame=max_frame)
        try:
            async with asyncio.timeout(SAFETY):
                return await scenario(server.sockets[0].getsockname()[1])
        finally:
            server.close()
            await server.wait_closed()
            handler.close()

    return run_async(main())


async def send(port: int, *texts: str) -> list[hl7.Message]:
    """Send messages on one connection with python-hl7's client; their ACKs, in order."""
    reader, writer = await open_hl7_connection("127.0.0.1", port, encoding="utf-8")
    try:
        acks = []
        for text in texts:
            writer.writeblock(text.encode("utf-8"))
            await writer.drain()
            acks.append(await reader.readmessage())
        return acks
    finally:
        writer.close()
        await writer.wait_closed()


def msa(ack: hl7.Message) -> tuple[str, str]:
    segment = ack.segment("MSA")
    return str(segment[1]), str(segment[2])


def err_text(ack: hl7.Message) -> str:
    return str(ack.segment("ERR")[8])


def appointments(engine: Engine) -> list[tuple[str, object]]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(Appointment.external_id, Appointment.start).order_by(Appointment.external_id))]


def inbound(engine: Engine) -> list[tuple[str | None, InboundStatus, str]]:
    with Session(engine) as session:
        return [tuple(r) for r in session.execute(
            select(InboundMessage.control_id, InboundMessage.status, InboundMessage.ack_code)
            .order_by(InboundMessage.id))]


def test_applied_refused_and_unreadable_messages_are_answered_aa_ae_and_ar(engine) -> None:
    good = siu(control="GOOD-1")
    refused = siu(appointment="88121", pid={7: ""}, control="BAD-1")
    unreadable = "MSH|^~\\&|PMS\rSCH|1\rbroken line\r"

    acks = run(engine, lambda port: send(port, good, refused, unreadable))

    assert [msa(a) for a in acks] == [("AA", "GOOD-1"), ("AE", "BAD-1"), ("AR", "")]
    assert str(acks[0].segment("MSH")[9]) == "ACK^S12^ACK"
    assert str(acks[0].segment("MSH")[12]) == "2.3"  # answered in the sender's version
    assert err_text(acks[1]) == "Birth date missing."
    assert str(acks[1].segment("ERR")[3][0][0]) == "207"
    assert str(acks[2].segment("ERR")[3][0][0]) == "102"
    assert [a[0] for a in appointments(engine)] == ["88120"]
    assert inbound(engine) == [("GOOD-1", InboundStatus.APPLIED, "AA"),
                               ("BAD-1", InboundStatus.REFUSED, "AE"),
                               (None, InboundStatus.UNPARSABLE, "AR")]


def test_a_duplicate_is_acknowledged_and_applied_once_also_after_a_restart(engine) -> None:
    first = siu(control="DUP-1", start="202607060915")
    # The same MSH-10 with another time: were it applied again, the appointment would move.
    copy = siu(control="DUP-1", start="202607061400")

    acks = run(engine, lambda port: send(port, first, copy))
    after_restart = run(engine, lambda port: send(port, copy))

    assert [msa(a) for a in acks + after_restart] == [("AA", "DUP-1")] * 3
    ((_, start),) = appointments(engine)
    assert start.astimezone(TZ).strftime("%H:%M") == "09:15"
    assert [s for _, s, _ in inbound(engine)] == [
        InboundStatus.APPLIED, InboundStatus.DUPLICATE, InboundStatus.DUPLICATE]


def test_twenty_senders_at_once_lose_nothing(engine) -> None:
    # The same provider and location in every message: created once, whoever comes first.
    texts = [siu(appointment=f"77{i:03d}", control=f"MANY-{i}",
                 pid={3: f"6{i:04d}^^^PMS^MR", 5: f"Sender{i}^Pat"}) for i in range(20)]

    async def scenario(port: int) -> list[list[hl7.Message]]:
        return await asyncio.gather(*(send(port, text) for text in texts))

    answers = run(engine, scenario)

    assert sorted(msa(acks[0]) for acks in answers) == sorted(
        ("AA", f"MANY-{i}") for i in range(20))
    assert len(appointments(engine)) == 20
    assert sorted(c for c, s, _ in inbound(engine) if s == InboundStatus.APPLIED) == sorted(
        f"MANY-{i}" for i in range(20))


def test_the_same_message_from_two_senders_at_once_is_applied_once(engine) -> None:
    text = siu(control="TWICE-1")

    async def scenario(port: int) -> list[list[hl7.Message]]:
        return await asyncio.gather(send(port, text), send(port, text))

    answers = run(engine, scenario)

    assert [msa(a[0]) for a in answers] == [("AA", "TWICE-1")] * 2
    assert len(appointments(engine)) == 1
    assert sorted(s for _, s, _ in inbound(engine)) == [InboundStatus.APPLIED,
                                                         InboundStatus.DUPLICATE]


def test_a_sender_hanging_up_mid_frame_or_holding_half_a_frame_stalls_no_one(engine) -> None:
    async def scenario(port: int) -> list[hl7.Message]:
        # One sends half a message and hangs up; another sends half and waits, silent.
        _, quitter = await asyncio.open_connection("127.0.0.1", port)
        quitter.write(START + siu(control="HALF-1").encode()[:60])
        await quitter.drain()
        quitter.close()
        _, silent = await asyncio.open_connection("127.0.0.1", port)
        silent.write(START + siu(control="HALF-2").encode()[:60])
        await silent.drain()
        try:
            return await send(port, siu(control="WHOLE-1"))
        finally:
            silent.close()

    acks = run(engine, scenario)

    assert [msa(a) for a in acks] == [("AA", "WHOLE-1")]
    assert [c for c, _, _ in inbound(engine)] == ["WHOLE-1"]


def test_noise_between_frames_is_skipped(engine) -> None:
    async def scenario(port: int) -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\r\n\x00keepalive" + START + siu(control="NOISY-1").encode() + END
                     + b"junk\x1c\r" + b"\n" + START + siu(appointment="88122",
                                                         control="NOISY-2").encode() + END)
        await writer.drain()
        answers = [await reader.readuntil(END), await reader.readuntil(END)]
        writer.close()
        return answers

    answers = run(engine, scenario)

    assert [a.split(b"MSA|")[1][:10] for a in answers] == [b"AA|NOISY-1", b"AA|NOISY-2"]
    assert [a[0] for a in appointments(engine)] == ["88120", "88122"]


def test_an_oversized_frame_is_answered_ar_and_closed_while_others_go_on(engine) -> None:
    big = siu(control="BIG-1", extra=("NTE|1||" + "x" * 5000,))

    async def scenario(port: int) -> tuple[bytes, bytes, list[hl7.Message]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(START + big.encode() + END)
        await writer.drain()
        answer = await reader.readuntil(END)
        rest = await reader.read()  # the listener closed the connection
        writer.close()
        return answer, rest, await send(port, siu(control="SMALL-1"))

    answer, rest, acks = run(engine, scenario, max_frame=4096)

    assert b"MSA|AR|BIG-1" in answer
    assert rest == b""
    assert [msa(a) for a in acks] == [("AA", "SMALL-1")]
    assert [c for c, _, _ in inbound(engine)] == ["BIG-1", "SMALL-1"]


def test_the_log_names_message_ids_and_outcomes_never_patient_values(
    engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shared.interface")
    text = siu(control="LOG-1", pid={5: "Zyxwvut^Qponm", 7: ""})

    run(engine, lambda port: send(port, text))

    assert "LOG-1" in caplog.text and "refused" in caplog.text
    assert "Zyxwvut" not in caplog.text and "Qponm" not in caplog.text


def test_a_message_the_database_cannot_take_gets_no_ack_and_is_sent_again(
    engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*args: object, **kwargs: object) -> object:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    async def scenario(port: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(START + siu(control="DOWN-1").encode() + END)
        await writer.drain()
        rest = await reader.read()
        writer.close()
        return rest

    monkeypatch.setattr(listener, "import_hl7_message", down)
    assert run(engine, scenario) == b""  # no ACK: the connection is closed
    monkeypatch.undo()

    acks = run(engine, lambda port: send(port, siu(control="DOWN-1")))
    assert [msa(a) for a in acks] == [("AA", "DOWN-1")]
    assert len(appointments(engine)) == 1
