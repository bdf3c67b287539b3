"""`python -m bench.kiosk`: the kiosk's server time per tap, against an empty script.

Seeds the demo day (the clock set to a Tuesday at 10:00 in the clinic, as the tests do) and
drives the real kiosk script with Streamlit's AppTest, as the app tests do, through one
check-in by name: welcome, find by name, appointment, details, insurance, a question, done.
On each step it compares, in alternating rounds, a rerun of the kiosk on that step (measured)
with a rerun of an empty Streamlit script (baseline): what the kiosk's own code costs the
server per run, over what Streamlit costs anyway. Each script is compiled once, as a
running server does (AppTest alone compiles it again on every run). The done step's return
to the welcome screen is held back between rounds so every round draws the done screen.
The taps that moved the patient from step to step are timed once each as well (they also
save). Goal (issue 13): every step within 5x the empty script.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from bench import harness
from shared import clock, demo
from shared.config import get_settings
from shared.db import get_engine, make_engine, session_scope
from shared.models import KioskQuestionVersion, utcnow
from shared.services import clinic_settings

ROOT = Path(__file__).resolve().parent.parent
KIOSK = str(ROOT / "kiosk" / "app.py")
TIMEZONE = "America/Chicago"
CLOCK = "2026-06-16T10:00:00-05:00"  # a Tuesday morning, as in the tests
ROUNDS = 40  # runs are short; many rounds steady the medians on a busy machine
GOAL_RATIO = 5.0
TIMEOUT_S = 60


def _clear_process_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()
    st.cache_resource.clear()
    clinic_settings.forget_cached()


@contextmanager
def kiosk_environment(url: str, folder: Path) -> Iterator[None]:
    """The settings a real kiosk reads from its environment, for this database; restored."""
    values = {"CHECKIN_DATABASE_URL": url, "CHECKIN_INSTANCE_DIR": str(folder),
              "CHECKIN_TIMEZONE": TIMEZONE, clock.ENV_VAR: CLOCK}
    saved = {k: os.environ.get(k) for k in [*values, clock.SET_AT_VAR]}
    os.environ.update(values)
    os.environ.pop(clock.SET_AT_VAR, None)
    _clear_process_caches()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _clear_process_caches()


def _run(at: AppTest) -> AppTest:
    at.run()
    if at.exception:
        raise RuntimeError(f"the kiosk raised: {at.exception[0].value}")
    return at


def _step(at: AppTest) -> str:
    return at.session_state["kiosk"]["step"]


def _press(at: AppTest, *, key: str | None = None, label: str | None = None) -> float:
    """Press a button and let the app run; the seconds the run took."""
    button = at.button(key=key) if key else next(b for b in at.button if b.label == label)
    button.click()
    began = time.perf_counter()
    _run(at)
    return time.perf_counter() - began


def _answer_question(at: AppTest, choices: dict[str, str]) -> None:
    """A calm patient's answer: no to yes/no questions, low pain, the first choice."""
    for radio in at.radio:
        radio.set_value(False if radio.options == ["Yes", "No"] else choices[radio.options[0]])
    for pills in at.pills:
        pills.set_value(2)
    for text in at.text_input:
        text.input("Yearly checkup")


def _rerun_against_empty(name: str, at: AppTest, empty: AppTest,
                         state: dict[str, Any] | None = None) -> harness.Comparison:
    def kiosk_rerun() -> None:
        if state is not None:
            at.session_state["kiosk"] = dict(state)
        _run(at)

    return harness.compare(name, kiosk_rerun, lambda: _run(empty),
                           baseline_name="empty script rerun", rounds=ROUNDS)


def run(backend: str, empty_script: str) -> tuple[list[harness.Comparison], dict[str, float]]:
    comparisons: list[harness.Comparison] = []
    taps: dict[str, float] = {}
    with (harness.database(backend) as url, tempfile.TemporaryDirectory() as folder,
          kiosk_environment(url, Path(folder)), harness.script_compiled_once()):
        engine = make_engine(url)
        with session_scope(engine) as session:
            info = demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
        with Session(engine) as session:
            versions = session.scalars(select(KioskQuestionVersion)).all()
            choices = {c["en"]: c["value"] for v in versions for c in v.choices}
        harness.analyze(engine)
        empty = _run(AppTest.from_file(empty_script, default_timeout=TIMEOUT_S))
        at = AppTest.from_file(KIOSK, default_timeout=TIMEOUT_S)
        began = time.perf_counter()
        _run(at)
        taps["open the kiosk (first run)"] = time.perf_counter() - began

        def measure(label: str, state: dict[str, Any] | None = None) -> None:
            step = _step(at)
            comparisons.append(_rerun_against_empty(f"kiosk {label}, {backend}", at, empty,
                                                    state))
            assert _step(at) == step, f"the rerun left {step} for {_step(at)}"

        measure("welcome")
        taps["tap: find by name"] = _press(at, key="btn_start_name")
        assert _step(at) == "find_by_name", _step(at)
        measure("find by name")
        at.text_input(key="find_family").input(info.patient_family_name)
        at.text_input(key="find_birth").input(info.birth_date.strftime("%m/%d/%Y"))
        taps["tap: find my appointment"] = _press(at, label="Find my appointment")
        assert _step(at) == "appointment", _step(at)
        measure("appointment")
        taps["tap: that's my appointment"] = _press(at, key="appointment_ok")
        assert _step(at) == "details", _step(at)
        measure("details")
        taps["tap: details are right"] = _press(at, key="details_ok")
        assert _step(at) == "insurance", _step(at)
        measure("insurance")
        taps["tap: same insurance"] = _press(at, key="insurance_same")
        assert _step(at) == "questions", _step(at)
        measure("a question")
        questions = 0
        while _step(at) == "questions" and questions < 12:
            _answer_question(at, choices)
            taps["tap: next question (the last one finishes)"] = _press(at, label="Next")
            questions += 1
        assert _step(at) == "done", _step(at)
        done = {k: v for k, v in at.session_state["kiosk"].items() if k != "done_shown"}
        measure("done", done)
        engine.dispose()
    return comparisons, taps


def main() -> None:
    # Reading the session state between runs, outside a script run, is what AppTest does:
    # not worth a warning each time (a filter, since Streamlit resets its loggers' levels).
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    gc_after_runs = st_config.get_option("runner.postScriptGC")
    harness.heading(f"Kiosk: server time per run on each step (AppTest) against an empty "
                    f"script's run (goal within {GOAL_RATIO:g}x; Streamlit's post-run GC "
                    f"{'on' if gc_after_runs else 'off'})")
    with tempfile.TemporaryDirectory() as folder:
        empty_script = Path(folder) / "empty.py"
        empty_script.write_text('"""An empty Streamlit script: the baseline."""\n')
        for backend in harness.backends():
            comparisons, taps = run(backend, str(empty_script))
            for comparison in comparisons:
                print("  " + comparison.line())
            worst = max(c.ratio for c in comparisons)
            print(harness.goal(worst <= GOAL_RATIO,
                               f"every step <= {GOAL_RATIO:g}x (the worst {worst:.2f}x)"))
            base = statistics.median(comparisons[0].baseline)
            print(f"  the taps on the way, once each ({backend}; the empty script's run "
                  f"{base * 1000:.2f} ms):")
            for label, seconds in taps.items():
                print(f"    {label}: {seconds * 1000:.1f} ms ({seconds / base:.1f}x)")


if __name__ == "__main__":
    main()
