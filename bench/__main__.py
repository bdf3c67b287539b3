"""`python -m bench` (`make bench`): every benchmark, each against a named baseline.

Each comparison alternates baseline and measured rounds and prints
`name: measured, baseline, ratio` with the median and the minimum of each side (see
bench/harness.py). Runs on SQLite and, when CHECKIN_TEST_POSTGRES_URL is set, on PostgreSQL
too (in a schema of its own, dropped afterwards). Absolute times vary between machines and
with what else runs; the ratios are the figures to read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench import (
    board,
    cluster,
    harness,
    hl7,
    imports,
    kiosk,
    pages,
    photos,
    reports,
    screens,
    throughput,
)


def _needs_postgresql(name: str, run: Callable[[], None]) -> None:
    """A benchmark that starts real processes on PostgreSQL: a missing server is one line,
    and the rest of the run goes on."""
    print()
    try:
        run()
    except SystemExit as stop:
        print(f"{name}: stopped ({stop.code if isinstance(stop.code, str) else 'see above'})")


def main() -> None:
    began = time.perf_counter()
    print(f"make bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {harness.machine()}; "
          f"databases: {', '.join(harness.backends())}")
    board.main()
    # Before any AppTest run: AppTest runs an app's script as __main__, and the cluster's
    # spawned workers would then start by importing the kiosk instead of the benchmark.
    _needs_postgresql("50 screens on one dashboard process", screens.main)
    _needs_postgresql("4 kiosk and 4 dashboard processes", cluster.main)
    print()
    pages.main()
    kiosk.main()
    throughput.main()
    reports.main()
    imports.main()
    print()
    photos.main()
    print()
    hl7.main()
    print()
    print(f"make bench took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
