"""Races are tested, not argued: N threads wait on a barrier, then do the same thing at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    results: list[Any] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def at_once(n: int, work: Callable[[int], Any], *, timeout: float = 60) -> Outcome:
    """Run `work(0)` .. `work(n - 1)` in n threads released together; collect what each
    returned or raised (each thread opens its own session, so its own connection)."""
    barrier = threading.Barrier(n)
    outcome = Outcome()
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait(timeout)
        try:
            result = work(i)
        except BaseException as exc:  # collected and asserted on by the test
            with lock:
                outcome.errors.append(exc)
        else:
            with lock:
                outcome.results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return outcome
