"""The lobby kiosk: `streamlit run kiosk/app.py`. Renders steps; the rules live in shared/."""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import datetime, timedelta
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk import a11y  # noqa: E402
from kiosk.state import (  # noqa: E402
    REMOTE_KEY,
    idle_time,
    kiosk_id,
    kiosk_state,
    lang,
    passing_fault,
    put_back_walk_away,
    reset,
    resets_when_idle,
    take_walk_away,
    tr,
)
from kiosk.steps import find, finish, intake, phone, visit, welcome  # noqa: E402
from kiosk.steps import help as help_step  # noqa: E402
from kiosk.style import apply_kiosk_style  # noqa: E402
from shared.db import DatabaseUnavailable, check_connection, session_scope  # noqa: E402
from shared.errors import DomainError  # noqa: E402
from shared.i18n import t  # noqa: E402
from shared.models import utcnow  # noqa: E402
from shared.runtime import AppContext, AppUnavailable, open_app  # noqa: E402
from shared.services import checkin, clinic_settings  # noqa: E402
from shared.services.clinic_settings import ClinicSettings  # noqa: E402

log = logging.getLogger("kiosk")
# How often a step paused by a database blink tries again by itself.
RETRY_EVERY = timedelta(seconds=3)

STEPS = {
    "welcome": lambda ctx: (welcome.render(_welcome_message(ctx)), find.catch_scanner(ctx)),
    "help": help_step.render,
    "scan": find.render_scan,
    "code_problem": find.render_code_problem,
    "verify_birth_date": find.render_verify_birth_date,
    "find_by_name": find.render_find_by_name,
    "ask_phone": find.render_ask_phone,
    "other_day": find.render_other_day,
    "see_desk": find.render_see_desk,
    "already_checked_in": find.render_already,
    "all_set": find.render_all_set,
    "lobby_scan": phone.render_lobby_scan,
    "phone_ticket": phone.render_phone_ticket,
    "precheck_done_before": find.render_precheck_done_before,
    "cannot_check_in": find.render_cannot,
    "appointment": visit.render_appointment,
    "details": visit.render_details,
    "insurance": visit.render_insurance,
    "questions": intake.render_questions,
    "consent": intake.render_consent,
    "done": finish.render_done,
    "walk_in": finish.render_walk_in,
    "walk_in_done": finish.render_walk_in_done,
}
WARN_BEFORE_RESET = timedelta(seconds=20)


def _welcome_message(ctx: AppContext) -> str:
    """The clinic's own message on the welcome screen, in the patient's language."""
    rules = clinic_settings.load_cached(ctx.engine)
    return rules.welcome_message_es if lang() == "es" and rules.welcome_message_es else (
        rules.welcome_message_en)


@st.fragment(run_every=5)
def _inactivity_watch(ctx: AppContext) -> None:
    """After the clinic's timeout without a touch: "Are you still there?", then a reset that
    leaves nothing of the patient behind."""
    state = kiosk_state()
    if not resets_when_idle(state):
        return
    try:
        timeout = timedelta(seconds=clinic_settings.load_cached(ctx.engine)
                            .kiosk_timeout_seconds)
    except Exception as exc:
        if passing_fault(exc) is None:
            raise
        # The database blinked: the patient is still forgotten after the usual time.
        timeout = timedelta(seconds=ClinicSettings().kiosk_timeout_seconds)
    idle, timeout = idle_time(state, timeout, utcnow())
    if idle >= timeout:
        # A check-in left unfinished is recorded as a walk-away by the next run.
        reset()
        st.rerun()
    if idle >= timeout - WARN_BEFORE_RESET:
        with st.container(key="still_there"):
            st.warning(tr("kiosk.still_there"))
            st.button(tr("kiosk.still_here"), key="still_here", type="primary",
                      width="stretch", on_click=_touch)


@st.fragment(run_every=RETRY_EVERY.total_seconds())
def _wait_for_database(ctx: AppContext, paused_at: datetime) -> None:
    """Try the step again, by itself, as soon as the database answers: on this part's own
    timer only, never in the run that has just shown the pause (that would spin)."""
    if utcnow() - paused_at < RETRY_EVERY:
        return
    try:
        check_connection(ctx.engine)
    except DatabaseUnavailable:
        return
    st.rerun(scope="app")


def _touch() -> None:
    kiosk_state()["last_activity"] = utcnow()


def _record_walk_away(ctx: AppContext) -> None:
    """The patient left a check-in unfinished (inactivity or "Back to the start"): the
    appointment goes back to where it was and the desk sees where they stopped."""
    walked_away = take_walk_away()
    if walked_away is None:
        return
    check_in_id, step = walked_away
    try:
        with session_scope(ctx.engine) as session:
            checkin.abandon(session, check_in_id, utcnow(), step=step, kiosk_id=kiosk_id())
    except Exception as exc:
        # The error type only. A blink: try again on the next run.
        log.warning("kiosk could not record a walk-away: %s", type(exc).__name__)
        if passing_fault(exc) is not None:
            put_back_walk_away(walked_away)


@st.cache_resource
def _context() -> AppContext:
    return open_app()


def main() -> None:
    st.set_page_config(page_title=a11y.page_title(), page_icon="🏥", layout="centered",
                       initial_sidebar_state="collapsed")
    a11y.follow_step()
    apply_kiosk_style()
    try:
        ctx = _context()
    except AppUnavailable as exc:
        log.error("kiosk unavailable: %s", exc)
        st.title(t("kiosk.unavailable_title", lang()))
        st.markdown(t("kiosk.unavailable_body", lang()))
        return
    _record_walk_away(ctx)
    state = kiosk_state()
    state["last_activity"] = utcnow()
    code = st.query_params.get("code")
    if code:
        # A link opened on the patient's phone: take the code, then drop it from the URL so
        # it stays in no history.
        del st.query_params["code"]
        reset()
        # Opened from the reminder's link: the patient's own phone, before the visit.
        kiosk_state()[REMOTE_KEY] = True
        find.accept_code(ctx, code)
        kiosk_state()["last_activity"] = utcnow()
        # Once more from the top, so the page's title and announcement (kiosk/a11y.py, run
        # above) are the new step's, not the welcome's.
        st.rerun()
    step = state.get("step", "welcome")
    # First on the page, and pinned to the bottom of the screen by the kiosk's styling, so
    # "Are you still there?" is seen wherever the patient has scrolled.
    _inactivity_watch(ctx)
    render = STEPS.get(step, STEPS["welcome"])
    fault = state.pop("fault", None)
    if fault is not None:
        # A button's action failed (kiosk_action): say so calmly, on the same step.
        key, params = fault
        st.warning(tr(key, **params))
    try:
        render(ctx)
    except DomainError as exc:
        st.error(tr(exc.key, **exc.params))
        st.button(tr("kiosk.start_over"), key="error_start_over", on_click=reset, width="stretch")
    except Exception as exc:  # a patient never sees a traceback
        key = passing_fault(exc)
        if key is not None:
            # The database blinked or the desk changed the visit: nothing is lost, and the
            # step comes back by itself once the database answers again.
            log.warning("kiosk step %s paused: %s", step, type(exc).__name__)
            st.warning(tr(key))
            st.button(tr("kiosk.start_over"), key="error_start_over", on_click=reset,
                      width="stretch")
            _wait_for_database(ctx, utcnow())
            return
        # The step, the error type and where it happened; never the message, which may
        # hold what the patient typed.
        log.error("kiosk step %s failed: %s\n%s", step, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        st.error(tr("kiosk.error_generic"))
        st.button(tr("kiosk.start_over"), key="error_start_over", on_click=reset, width="stretch")


main()
