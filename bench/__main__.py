"""`python -m bench` (`make bench`): every benchmark, each against a named baseline.

Each comparison alternates baseline and measured rounds and prints
`name: measured, baseline, ratio` with the median and the minimum of each side (see
bench/harness.py). Runs on SQLite and, when CHECKIN_TEST_POSTGRES_URL is set, on PostgreSQL
too (in a schema of its own, dropped afterwards). Absolute times vary between machines and
with what else runs; the ratios are the figures to read.
"""

from __future__ import annotations

import importlib.util
import time
from datetime import UTC, datetime

from bench import board, harness, imports, kiosk, reports, throughput


def main() -> None:
    began = time.perf_counter()
    print(f"make bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {harness.machine()}; "
          f"databases: {', '.join(harness.backends())}")
    board.main()
    kiosk.main()
    throughput.main()
    reports.main()
    imports.main()
    print()
    from bench import photos

    photos.main()
    # bench.hl7 arrives with the HL7 listener; the rest runs without it.
    if importlib.util.find_spec("bench.hl7") is not None:
        print()
        from bench import hl7

        hl7.main()
    print()
    print(f"make bench took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
