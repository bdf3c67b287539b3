"""Fair comparisons for `make bench`: every figure stands beside a named baseline.

A comparison runs its baseline and its measured work in alternating rounds (baseline,
measured, baseline, measured, ...) after one untimed warm-up of each, so a machine that gets
busier or quieter halfway through moves both alike. It prints the median and the minimum of
each side and their ratio:

    name: measured <median> (min <min>), <baseline name> <median> (min <min>), ratio <r>x

Times are wall-clock seconds per round. A throughput round returns how many things it did,
and is shown per second (there the ratio is measured / baseline too: below 1 is slower).

The databases: a migrated SQLite file in a temporary folder, and, when
CHECKIN_TEST_POSTGRES_URL is set, a fresh migrated schema on that server, dropped at the end.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, event, text

from shared import migrate
from shared.db import make_engine

POSTGRES_ENV = "CHECKIN_TEST_POSTGRES_URL"


# --- Databases ------------------------------------------------------------------------------


def backends() -> list[str]:
    """The databases to measure on: SQLite always, PostgreSQL when its URL is set."""
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV, "").strip() else ["sqlite"]


@contextmanager
def database(backend: str) -> Iterator[str]:
    """The URL of an empty, migrated database of `backend`, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate.upgrade(url)
            yield url
        return
    with postgres_schema(os.environ[POSTGRES_ENV].strip(), "bench") as url:
        yield url


@contextmanager
def postgres_schema(base: str, prefix: str) -> Iterator[str]:
    """The URL of a fresh migrated schema named `prefix_<random>` on the PostgreSQL server
    at `base`, dropped afterwards. OperationalError when the server does not answer."""
    admin = make_engine(base)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        admin.dispose()
        raise
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def analyze(engine: Engine) -> None:
    """PostgreSQL: gather the planner's statistics after loading, as autovacuum would do
    soon after on a real server (without them a fresh table's plans can be 30x slower).
    SQLite is left as the product leaves it (no ANALYZE)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


class StatementCounter:
    """Counts the SQL statements an engine sends (a before_cursor_execute listener)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args: object) -> None:
        self.count += 1

    def during(self, fn: Callable[[], object]) -> int:
        before = self.count
        fn()
        return self.count - before

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._one)


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: object


@contextmanager
def captured(engine: Engine) -> Iterator[list[Statement]]:
    """The statements (SQL and DBAPI parameters, exactly as sent) the engine runs inside."""
    seen: list[Statement] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- Scripts under AppTest ------------------------------------------------------------------


@contextmanager
def script_compiled_once() -> Iterator[None]:
    """AppTest runs as a running server does, compiling each script once.

    AppTest gives every run a new, empty ScriptCache, so every rerun reads, rewrites (magic)
    and compiles the script afresh: for the kiosk's app.py about 18 ms of a 29 ms rerun,
    work a running server does once for all sessions (its Runtime keeps one ScriptCache).
    Inside this block every AppTest run shares one cache, so a rerun costs what a tap costs
    the server. Both sides of a comparison run inside it alike.
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    cache = ScriptCache()
    # The main script's runner and the pages' manager (st.navigation's page scripts) each
    # make their own.
    modules = (local_script_runner, app_test)
    made = [module.ScriptCache for module in modules]
    for module in modules:
        module.ScriptCache = lambda: cache
    try:
        yield
    finally:
        for module, original in zip(modules, made, strict=True):
            module.ScriptCache = original


# --- Comparisons ----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


@dataclass
class Comparison:
    name: str
    baseline_name: str
    measured: list[float] = field(default_factory=list)  # seconds, or things per second
    baseline: list[float] = field(default_factory=list)
    throughput: bool = False
    note: str = ""

    @property
    def ratio(self) -> float:
        return statistics.median(self.measured) / statistics.median(self.baseline)

    @property
    def min_ratio(self) -> float:
        # The best of each side: for times the minimum, for rates the maximum.
        best = max if self.throughput else min
        return best(self.measured) / best(self.baseline)

    def _side(self, values: list[float]) -> str:
        if self.throughput:
            return f"{statistics.median(values):,.1f}/s (max {max(values):,.1f}/s)"
        return f"{_ms(statistics.median(values))} (min {_ms(min(values))})"

    def line(self) -> str:
        text_ = (f"{self.name}: {self._side(self.measured)}, {self.baseline_name} "
                 f"{self._side(self.baseline)}, ratio {self.ratio:.2f}x "
                 f"(of the {'best' if self.throughput else 'minimums'} {self.min_ratio:.2f}x; "
                 f"{len(self.measured)} rounds each)")
        return text_ + (f"  {self.note}" if self.note else "")


def compare(
    name: str,
    measured: Callable[[], object],
    baseline: Callable[[], object],
    *,
    baseline_name: str,
    rounds: int,
    warmup: bool = True,
) -> Comparison:
    """Time `baseline` and `measured` in alternating rounds (ABAB...), after a warm-up of each."""
    if warmup:
        baseline()
        measured()
    result = Comparison(name, baseline_name)
    for _ in range(rounds):
        for fn, samples in ((baseline, result.baseline), (measured, result.measured)):
            began = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - began)
    return result


def compare_rates(
    name: str,
    measured: Callable[[], tuple[int, float]],
    baseline: Callable[[], tuple[int, float]],
    *,
    baseline_name: str,
    rounds: int,
) -> Comparison:
    """Like `compare` for throughput: each round returns (things done, seconds it took)."""
    result = Comparison(name, baseline_name, throughput=True)
    for _ in range(rounds):
        for fn, samples in ((baseline, result.baseline), (measured, result.measured)):
            done, seconds = fn()
            samples.append(done / seconds)
    return result


def goal(met: bool, text_: str) -> str:
    return f"    goal {text_}: {'met' if met else 'NOT MET'}"


def heading(title: str) -> None:
    print()
    print(title)


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, load average {load:.1f} at the start"
