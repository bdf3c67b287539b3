"""Step 8: done, plus the walk-in path. The done screen keeps the ticket until the next
patient touches the screen."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from kiosk.state import (
    REMOTE_KEY,
    forget_patient,
    go,
    is_remote,
    kiosk_id,
    kiosk_state,
    lang,
    reset,
    tr,
    tr_plain,
)
from kiosk.steps import phone
from kiosk.widgets import birth_date_input, help_button, start_over_button
from shared.db import session_scope
from shared.i18n import format_date, format_time
from shared.models import Language, utcnow
from shared.runtime import AppContext
from shared.services import checkin, clinic_settings, flags, precheck
from shared.services.details import normalize_phone


def complete(session: Session, ctx: AppContext, check_in_id: int) -> dict[str, Any]:
    """Finish the check-in in the caller's transaction; what the done screen shows. On the
    patient's phone it is the pre-check-in that is finished: the appointment stays booked."""
    if is_remote():
        return _precheck_view(precheck.complete(session, check_in_id, now=utcnow()), ctx)
    result = checkin.complete(session, check_in_id, now=utcnow(), tz=ctx.settings.tz,
                              rules=clinic_settings.load_cached(ctx.engine))
    return completion_view(result, signed=kiosk_state().get("signed_titles", []))


def completion_view(result: checkin.Completion, signed: list[str] | None = None
                    ) -> dict[str, Any]:
    """What the done screen shows of a finished check-in (no name, nothing typed): the
    ticket, the place in line, and the titles of the consent forms signed this time."""
    return {"needs_desk": result.needs_desk, "position": result.position,
            "wait": result.estimated_wait_minutes, "ticket": result.ticket,
            "signed": list(signed or [])}


def _precheck_view(done: precheck.PrecheckDone, ctx: AppContext) -> dict[str, Any]:
    tz = ctx.settings.tz
    return {"precheck": True, "date": format_date(done.start, lang(), tz),
            "time": format_time(done.start, lang(), tz),
            "signed": [es if lang() == Language.ES and es else en for en, es in done.signed]}


def _render_precheck_done(ctx: AppContext, done: dict[str, Any]) -> None:
    """The phone's last screen: all set for the day ("At the clinic?" first when it is the
    day), what to do at the clinic, and which consents were signed this time. Nothing else
    of the patient stays in the page."""
    st.title(tr("precheck.done_title", date=done["date"]))
    if kiosk_state().get("appointment_id"):
        phone.render_arrival(ctx, kiosk_state()["appointment_id"])
    st.markdown(tr("precheck.done_body", date=done["date"], time=done["time"]))
    _signed_this_time(done["signed"])
    st.caption(tr("precheck.close_page"))


def render_done(ctx: AppContext) -> None:
    state = kiosk_state()
    if "completion" not in state:
        with session_scope(ctx.engine) as session:
            completion = complete(session, ctx, state["check_in_id"])
        state["completion"] = completion
    if not state.get("patient_forgotten"):
        # The ticket stays on screen until the next patient touches it: nothing else of this
        # patient stays behind with it. (On the patient's own phone, the appointment's id
        # stays in the server's session for "I'm here" on the day.)
        phone_keeps = ({REMOTE_KEY: True, "appointment_id": state.get("appointment_id")}
                       if is_remote() else {})
        forget_patient(completion=state["completion"], patient_forgotten=True, **phone_keeps)
    done = kiosk_state()["completion"]
    if done.get("precheck"):
        _render_precheck_done(ctx, done)
        return
    if done["needs_desk"]:
        st.title(tr("done.title_desk"))
        st.markdown(tr("done.please_stop_at_desk"))
    else:
        st.title(tr("done.title"))
    if done.get("ticket"):
        st.markdown(tr("done.ticket_label"))
        st.markdown(f'<p class="kiosk-ticket">{done["ticket"]}</p>', unsafe_allow_html=True)
    if not done["needs_desk"]:
        if done["position"] is not None:
            st.markdown(tr("done.position", n=done["position"]))
        if done["wait"] is not None:
            st.markdown(tr("done.wait", minutes=done["wait"]))
        st.markdown(tr("done.next"))
    if done.get("ticket"):
        st.caption(tr("done.ticket_keep"))
    _next_patient("done_finish")
    # Last, as on a receipt: the ticket and "Next patient" stay in view on a tablet.
    _signed_this_time(done.get("signed"))


def _signed_this_time(titles: list[str] | None) -> None:
    """The consent forms signed in this check-in (those still valid were not asked), one
    line: a form's title is the clinic's text, shown as it is."""
    if titles:
        st.caption(tr_plain("done.signed_list", titles=", ".join(titles)))


def _next_patient(key: str) -> None:
    """The screen stays as it is until someone touches it (the kiosk's inactivity watch
    leaves it alone): then it is the next patient's welcome."""
    st.button(tr("done.next_patient"), key=key, type="primary", width="stretch",
              on_click=reset)
    help_button()


def render_walk_in(ctx: AppContext) -> None:
    st.title(tr("walkin.title"))
    st.markdown(tr("walkin.lead"))
    with st.form("walkin_form", border=False):
        # In pairs, so the button is in view on a landscape tablet without scrolling.
        first, second = st.columns(2, vertical_alignment="bottom")
        given = first.text_input(tr("walkin.given_name"), key="walkin_given", max_chars=100)
        family = second.text_input(tr("kiosk.family_name"), key="walkin_family", max_chars=100)
        first, second = st.columns(2, vertical_alignment="bottom")
        with first:
            birth = birth_date_input("walkin")
        phone = second.text_input(tr("details.phone"), key="walkin_phone", max_chars=32)
        reason = st.text_input(tr("walkin.reason"), key="walkin_reason", max_chars=200)
        submitted = st.form_submit_button(tr("walkin.submit"), type="primary", width="stretch")
    if submitted:
        if not given.strip() or not family.strip():
            st.error(tr("walkin.name_missing"))
        elif not isinstance(birth, date):
            st.error(tr("kiosk.birth_date_invalid"))
        elif phone.strip() and normalize_phone(phone) is None:
            st.error(f'{tr("details.phone")}: {tr("details.error_phone")}')
        else:
            with session_scope(ctx.engine) as session:
                flags.report_walk_in(session, given_name=given, family_name=family,
                                     birth_date=birth, phone=normalize_phone(phone) or "",
                                     reason=reason, now=utcnow(), kiosk_id=kiosk_id())
            go("walk_in_done")
            st.rerun()
    start_over_button("walkin_back")
    help_button()


def render_walk_in_done(ctx: AppContext) -> None:
    if not kiosk_state().get("patient_forgotten"):
        forget_patient(patient_forgotten=True)
    st.title(tr("walkin.done_title"))
    st.markdown(tr("walkin.done_body"))
    _next_patient("walkin_finish")
