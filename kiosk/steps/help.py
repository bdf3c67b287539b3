"""'I need help': the desk sees an urgent flag naming this kiosk at once."""

from __future__ import annotations

import streamlit as st

from kiosk.state import kiosk_id, kiosk_state, reset, tr
from shared.db import session_scope
from shared.models import utcnow
from shared.runtime import AppContext
from shared.services import flags


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
            )
            state["help_flag_id"] = flag.id
    st.title(tr("kiosk.help_title"))
    st.markdown(tr("kiosk.help_body"))
    st.button(tr("kiosk.start_over"), key="help_back", on_click=reset, width="stretch")
