"""Running a coroutine from a test, whatever else this test session has running."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on a thread of its own. The browser tests' Playwright keeps an
    event loop running on the main thread for the whole session, and asyncio.run refuses to
    start beside it; a test must not depend on whether a browser test ran before it."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-asyncio") as pool:
        return pool.submit(asyncio.run, main).result()
