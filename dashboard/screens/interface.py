"""The connection to the practice system, for managers: is it healthy (last message in, last
ACK out, the outbox's backlog), which messages were refused and why, and a resend button
for an event the practice system refused. Message ids and reasons come from outside: they
are shown as plain text."""

from __future__ import annotations

from datetime import datetime

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context, run_service
from shared.i18n import t
from shared.interface import health, outbox
from shared.models import StaffRole, utcnow
from shared.text import t_plain

RESENT_KEY = "interface_resent"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return t("interface.never")
    return moment.astimezone(app_context().settings.tz).strftime("%Y-%m-%d %H:%M:%S")


def _resend(outbox_id: int, staff_user_id: int) -> None:
    if run_service(outbox.resend, outbox_id, staff_user_id=staff_user_id, now=utcnow()):
        st.session_state[RESENT_KEY] = outbox_id


def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("interface.title"))
    st.caption(t("interface.lead"))
    with Session(ctx.engine) as session:
        state = health.health(session)
        refused = health.refused_messages(session)
        failed = health.failed_events(session)
    resent = st.session_state.pop(RESENT_KEY, None)
    if resent is not None:
        st.success(t("interface.resent", id=resent))

    last_in, last_ack, backlog, delivered = st.columns(4)
    last_in.metric(t("interface.last_in"), _when(state.last_in_at))
    last_ack.metric(t("interface.last_ack"), state.last_ack_code or "–")
    backlog.metric(t("interface.backlog"), state.backlog)
    delivered.metric(t("interface.last_delivered"), _when(state.last_delivered_at))
    if state.last_in_control_id:
        st.caption(t_plain("interface.last_in_detail", control_id=state.last_in_control_id,
                           code=state.last_ack_code, at=_when(state.last_in_at)))
    if state.backlog:
        st.caption(t("interface.backlog_detail", count=state.backlog,
                     oldest=_when(state.oldest_waiting_at), retrying=state.retrying))
    if state.last_problem:
        st.warning(t_plain("interface.last_problem", problem=state.last_problem))

    st.subheader(t("interface.refused_in"))
    if not refused:
        st.info(t("interface.none_refused_in"))
    for message in refused:
        st.markdown(t_plain("interface.refused_in_line", at=_when(message.received_at),
                            control_id=message.control_id or "–", code=message.ack_code,
                            reasons=message.reasons))

    st.subheader(t("interface.failed_out"))
    if not failed:
        st.info(t("interface.none_failed_out"))
    for row in failed:
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.markdown(t_plain("interface.failed_out_line", at=_when(row.created_at),
                              event=t(f"interface.event_{row.event.value}"),
                              control_id=row.control_id, code=row.ack_code or "–",
                              error=row.error))
        button.button(t("interface.resend"), key=f"interface_resend_{row.id}",
                      on_click=_resend, args=(row.id, user["user_id"]))


page()
