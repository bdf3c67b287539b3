"""'I need help': the desk sees an urgent flag naming this kiosk at once, and the screen
waits for them. It keeps the check-in, so the representative can finish it with the patient,
and the patient can go back to where they were."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.state import (
    CHECK_IN_STEPS,
    at_home,
    kiosk_id,
    kiosk_state,
    passing_fault,
    reset,
    tr,
)
from shared.db import session_scope
from shared.models import Flag, utcnow
from shared.runtime import AppContext
from shared.services import flags

# How often the screen looks whether the desk has seen the request.
LOOK_EVERY_SECONDS = 5


def ask_for_help() -> None:
    """The help button's callback, on any step: remember where the patient was."""
    state = kiosk_state()
    if state.get("step") != "help":
        state["help_from"] = state.get("step", "welcome")
    state["step"] = "help"


def back_from_help() -> None:
    """Back to the step the patient was on. A later press asks the desk again (the flag is
    the same one while it is open)."""
    state = kiosk_state()
    state["step"] = state.pop("help_from", "welcome")
    state.pop("help_flag_id", None)
    state.pop("help_seen_at", None)


def help_step(state: dict) -> str | None:
    """The check-in step the patient asked from, in the desk's words; None before one."""
    step = state.get("help_from")
    if not state.get("check_in_id"):
        return None
    return step if step in CHECK_IN_STEPS else "identity"


def render(ctx: AppContext) -> None:
    state = kiosk_state()
    if "help_flag_id" not in state:
        with session_scope(ctx.engine) as session:
            flag = flags.request_help(
                session,
                kiosk_id=kiosk_id(),
                now=utcnow(),
                patient_id=state.get("patient_id"),
                appointment_id=state.get("appointment_id"),
                step=help_step(state),
            )
            state["help_flag_id"] = flag.id
    st.title(tr("kiosk.help_title"))
    # At home nobody can walk over: the desk calls the patient back.
    st.markdown(tr("kiosk.help_body_home" if at_home() else "kiosk.help_body"))
    _desk_status(ctx)
    if state.get("help_from", "welcome") != "welcome":
        st.button(tr("kiosk.help_back") if state.get("check_in_id") else tr("kiosk.back"),
                  key="help_return", type="primary", width="stretch", on_click=back_from_help)
    st.button(tr("kiosk.start_over"), key="help_back", on_click=reset, width="stretch")


@st.fragment(run_every=LOOK_EVERY_SECONDS)
def _desk_status(ctx: AppContext) -> None:
    """"Please stay here" until the desk has seen the request, then "someone is on the way".
    The inactivity watch reads help_seen_at: the screen never times out before that."""
    state = kiosk_state()
    seen = state.get("help_seen_at")
    if seen is None and state.get("help_flag_id") is not None:
        try:
            with Session(ctx.engine) as session:
                seen = session.scalar(
                    select(func.coalesce(Flag.acknowledged_at, Flag.resolved_at))
                    .where(Flag.id == state["help_flag_id"]))
        except Exception as exc:
            if passing_fault(exc) is None:
                raise
            seen = None  # the database blinked: keep waiting, look again in a moment
        if seen is not None:
            state["help_seen_at"] = seen
    with st.container(key="help_status"):
        home = at_home()
        if seen is None:
            st.info(tr("kiosk.help_waiting_home" if home else "kiosk.help_waiting"))
        else:
            st.success(tr("kiosk.help_acknowledged_home" if home else "kiosk.help_acknowledged"))
