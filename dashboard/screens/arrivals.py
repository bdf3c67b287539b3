"""Arrivals: today's appointments, refreshed every few seconds."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.clinic_time import clinic_today
from shared.i18n import t
from shared.models import AppointmentStatus, StaffRole
from shared.services.board import appointments_for_day
from shared.services.slips import format_time

REFRESH_SECONDS = 5
WAITING = {AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN}
DONE = {AppointmentStatus.FULFILLED}


def page() -> None:
    require_role(StaffRole.REPRESENTATIVE, StaffRole.MANAGER)
    st.title(t("dash.arrivals"))
    _board()


@st.fragment(run_every=REFRESH_SECONDS)
def _board() -> None:
    ctx = app_context()
    tz = ctx.settings.tz
    day = clinic_today(tz)
    with Session(ctx.engine) as session:
        rows = appointments_for_day(session, day, tz)
    if not rows:
        st.info(t("dash.no_appointments"))
        return
    st.caption(
        t(
            "dash.count_summary",
            total=len(rows),
            waiting=sum(r.status in WAITING for r in rows),
            done=sum(r.status in DONE for r in rows),
        )
    )
    table = [
        {
            t("dash.col_time"): format_time(r.start, tz),
            t("dash.col_patient"): r.patient_name,
            t("dash.col_age"): r.age,
            t("dash.col_provider"): r.provider,
            t("dash.col_location"): r.location,
            t("dash.col_visit"): r.visit_type,
            t("dash.col_status"): t(f"status.{r.status.value}"),
            t("dash.col_arrived"): format_time(r.arrived_at, tz) if r.arrived_at else "",
            t("dash.col_flags"): r.open_flags or "",
        }
        for r in rows
    ]
    st.dataframe(table, hide_index=True, width="stretch", height=min(40 + 35 * len(rows), 800),
                 key="arrivals_table")
