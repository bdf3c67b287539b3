"""MLLP framing: <VT> message <FS><CR>, over asyncio streams.

Bytes outside a frame (noise on the line, a sender's keep-alive) are skipped; a frame larger
than the limit is refused before it is held in memory twice.
"""

from __future__ import annotations

import asyncio

START = b"\x0b"
END = b"\x1c\r"
MAX_FRAME = 1024 * 1024  # 1 MB: the largest SIU a practice system sends is a few kB


class FrameTooLarge(Exception):
    """A frame ran past the limit; `head` holds its first bytes (for its MSH-10)."""

    def __init__(self, head: bytes) -> None:
        super().__init__("frame too large")
        self.head = head


class FrameCut(Exception):
    """The other side closed the connection in the middle of a frame."""


def frame(message: str | bytes, encoding: str = "utf-8") -> bytes:
    data = message.encode(encoding) if isinstance(message, str) else message
    return START + data + END


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's content, or None when the connection ends between frames.

    The reader's limit (asyncio.start_server / open_connection `limit=`) is the largest
    frame: past it, FrameTooLarge. A connection closed mid-frame raises FrameCut."""
    while True:
        try:
            chunk = await reader.readuntil(END)
        except asyncio.IncompleteReadError as exc:
            if START in exc.partial:
                raise FrameCut() from exc
            return None  # closed between frames (anything left was noise)
        except asyncio.LimitOverrunError as exc:
            head = await reader.read(4096)
            raise FrameTooLarge(head[head.find(START) + 1:]) from exc
        start = chunk.rfind(START)
        if start >= 0:
            return chunk[start + 1:-len(END)]
        # Noise with no start of a frame in it: skip it and read on.
