"""Printed QR reminders and the FHIR export, for managers: pick a clinic day (and, if wanted,
one appointment), then download the reminders PDF or the day's FHIR R4 Bundle."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context, run_service
from shared.clinic_time import clinic_today
from shared.i18n import t
from shared.models import StaffRole, utcnow
from shared.services import fhir_export, reminders
from shared.services.slips import format_time

PDF_KEY = "rx_pdf"
FHIR_KEY = "rx_fhir"
SELECTION_KEY = "rx_selection"


def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    tz = ctx.settings.tz
    st.title(t("reminders.title"))
    st.caption(t("reminders.lead"))

    day = st.date_input(t("reminders.day"), value=clinic_today(tz), key="rx_day",
                        format="YYYY-MM-DD")
    with Session(ctx.engine) as session:
        visits = reminders.appointments_on(session, day, tz)
        labels = {
            a.id: " · ".join((format_time(a.start, tz), a.patient.display_name,
                              a.provider.display_name, t(f"status.{a.status.value}")))
            for a in visits
        }
        booked = sum(1 for a in visits if a.status in reminders.REMINDABLE)
    if visits:
        st.caption(t("reminders.day_summary", count=len(visits), booked=booked))
    else:
        st.info(t("reminders.error_no_appointments", day=day.isoformat()))
    chosen = st.selectbox(
        t("reminders.appointment"), [None, *labels],
        format_func=lambda a: t("reminders.whole_day") if a is None else labels[a],
        key="rx_appointment",
    )
    # What was made belongs to what was picked: a new pick forgets it.
    selection = (day.isoformat(), chosen)
    if st.session_state.get(SELECTION_KEY) != selection:
        st.session_state[SELECTION_KEY] = selection
        st.session_state.pop(PDF_KEY, None)
        st.session_state.pop(FHIR_KEY, None)
    name = f"appointment-{chosen}" if chosen is not None else day.isoformat()

    st.subheader(t("reminders.pdf_heading"))
    st.caption(t("reminders.pdf_help"))
    if st.button(t("reminders.make_pdf"), key="rx_make_pdf", type="primary"):
        options = {"secret_key": ctx.settings.secret_key, "tz": tz,
                   "kiosk_url": ctx.settings.kiosk_url, "now": utcnow(), "actor_type": "staff",
                   "actor_id": user["user_id"]}
        batch = (run_service(reminders.reminder_for_appointment, chosen, **options)
                 if chosen is not None
                 else run_service(reminders.reminders_for_day, day, **options))
        if batch is not None:
            st.session_state[PDF_KEY] = (batch.pdf, batch.count)
    made = st.session_state.get(PDF_KEY)
    if made:
        pdf, count = made
        st.success(t("reminders.pdf_ready", count=count))
        st.download_button(t("reminders.download_pdf"), pdf, file_name=f"reminders-{name}.pdf",
                           mime="application/pdf", key="rx_download_pdf")

    st.subheader(t("reminders.fhir_heading"))
    st.caption(t("reminders.fhir_help"))
    if st.button(t("reminders.make_fhir"), key="rx_make_fhir"):
        who = {"tz": tz, "now": utcnow(), "actor_type": "staff", "actor_id": user["user_id"]}
        text = (run_service(fhir_export.export_appointment, chosen, **who)
                if chosen is not None else run_service(fhir_export.export_day, day, **who))
        if text is not None:
            count = sum(fhir_export.resource_counts(text).values())
            if count:
                st.session_state[FHIR_KEY] = (text, count)
            else:
                st.error(t("reminders.error_no_appointments", day=day.isoformat()))
    exported = st.session_state.get(FHIR_KEY)
    if exported:
        text, count = exported
        st.success(t("reminders.fhir_ready", count=count))
        st.download_button(t("reminders.download_fhir"), text.encode("utf-8"),
                           file_name=f"fhir-{name}.json", mime="application/fhir+json",
                           key="rx_download_fhir")


page()
