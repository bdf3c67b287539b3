"""The patient's own phone on the day (issue 16): "I'm here" once the phone proves it is in
the waiting room (it reads the lobby screen's code), then the ticket, the place in line and
the wait, refreshed live, and "It's your turn: Room 3" when the desk calls.

Only reached from the reminder's link (kiosk.state.is_remote). The appointment's id stays
in the server's session for the day; the page holds nothing of the patient."""

from __future__ import annotations

import logging
from datetime import timedelta

import streamlit as st

from kiosk import scanner
from kiosk.state import (
    HERE_KEY,
    go,
    kiosk_action,
    kiosk_state,
    lang,
    passing_fault,
    tr,
    tr_plain,
)
from kiosk.widgets import help_button
from shared.db import session_scope
from shared.i18n import format_time
from shared.models import Appointment, utcnow
from shared.runtime import AppContext
from shared.services import checkin, clinic_settings, precheck
from shared.services.precheck import PhoneStep

log = logging.getLogger("kiosk")

# How often the phone's page looks again at its place in line (and for the desk's call).
REFRESH = timedelta(seconds=5)


def render_arrival(ctx: AppContext, appointment_id: int) -> None:
    """Under "You're all set": on the day, within the arrival window, the way to say "I'm
    here" (the lobby code, or one button where the clinic allows it)."""
    state = kiosk_state()
    state["appointment_id"] = appointment_id
    rules = clinic_settings.load_cached(ctx.engine)
    tz = ctx.settings.tz
    now = utcnow()
    with session_scope(ctx.engine) as session:
        appointment = session.get(Appointment, appointment_id)
        start = appointment.start if appointment is not None else None
    if start is None:
        return
    timing = checkin.arrival_timing(start, now, tz, rules)
    if timing == checkin.Timing.EARLY:
        opens = start - timedelta(minutes=rules.early_checkin_minutes)
        st.info(tr("phone.come_back_at", time=format_time(opens, lang(), tz)))
        return
    if timing != checkin.Timing.ON_TIME:
        return
    with st.container(key="phone_arrival"):
        st.subheader(tr("phone.here_title"))
        if rules.arrive_without_lobby_code:
            st.button(tr("kiosk.all_set_no"), key="phone_im_here", type="primary",
                      width="stretch", on_click=kiosk_action(_im_here), args=(ctx, None))
        else:
            st.markdown(tr("phone.scan_lobby_lead"))
            st.button(tr("phone.scan_lobby"), key="phone_scan_lobby", type="primary",
                      width="stretch", on_click=go,
                      args=("lobby_scan",), kwargs={"back_to": state.get("step")})


def render_lobby_scan(ctx: AppContext) -> None:
    """The phone's camera reads the waiting-room screen's code: no tap once it is in view."""
    state = kiosk_state()
    st.title(tr("phone.lobby_scan_title"))
    st.markdown(tr("phone.lobby_scan_lead"))
    value = scanner.viewfinder(words=_viewfinder_words(), lang=lang(), key="lobby_viewfinder")
    scan = scanner.read_scan(value, handled_nonce=state.get("scan_nonce"))
    if scan is not None:
        state["scan_nonce"] = scan.nonce
        kiosk_action(_im_here)(ctx, scan.code)
        st.rerun()
    st.caption(tr("phone.no_camera"))
    st.button(tr("kiosk.back"), key="lobby_back", width="stretch", on_click=go,
              args=(state.get("back_to") or "precheck_done_before",))
    help_button()


def _viewfinder_words() -> dict[str, str]:
    return {"hint": tr("phone.lobby_frame_hint"), "starting": tr("kiosk.scan_starting"),
            "read": tr("kiosk.scan_read"), "denied": tr("kiosk.scan_camera_denied"),
            "missing": tr("kiosk.scan_camera_missing"), "camera": tr("kiosk.scan_camera")}


def _im_here(ctx: AppContext, code: str | None) -> None:
    state = kiosk_state()
    back = state.get("back_to") or state.get("step")
    try:
        with session_scope(ctx.engine) as session:
            precheck.im_here(session, state["appointment_id"], now=utcnow(),
                             tz=ctx.settings.tz, rules=clinic_settings.load_cached(ctx.engine),
                             secret_key=ctx.settings.secret_key, code=code)
    except (precheck.LobbyCodeRefused, precheck.NotInArrivalWindow) as exc:
        # Said on the screen the patient came from, in their language: use the kiosk.
        go(back if back != "lobby_scan" else "precheck_done_before")
        state["fault"] = (exc.key, {})
        return
    except checkin.AlreadyCheckedIn:
        pass  # checked in meanwhile (at the kiosk, or a second tap): show the ticket
    go("phone_ticket", **{HERE_KEY: True})


def render_phone_ticket(ctx: AppContext) -> None:
    _phone_ticket(ctx)
    help_button()


@st.fragment(run_every=REFRESH.total_seconds())
def _phone_ticket(ctx: AppContext) -> None:
    state = kiosk_state()
    try:
        with session_scope(ctx.engine) as session:
            status = precheck.phone_status(session, state["appointment_id"], now=utcnow(),
                                           tz=ctx.settings.tz,
                                           rules=clinic_settings.load_cached(ctx.engine))
    except Exception as exc:  # this part reruns on its own timer, outside the app's guard
        key = passing_fault(exc)
        (log.warning if key else log.error)("phone ticket: %s", type(exc).__name__)
        # Calm words, never a stack trace; the next look (in a few seconds) tries again.
        st.info(tr(key or "kiosk.error_generic"))
        return
    if status.step == PhoneStep.CALLED:
        st.title(tr_plain("phone.your_turn", room=status.room or ""))
        if status.ticket:
            st.markdown(f'<p class="kiosk-ticket">{status.ticket}</p>', unsafe_allow_html=True)
        st.markdown(tr("phone.your_turn_body"))
        return
    if status.step == PhoneStep.OVER:
        st.title(tr("phone.over_title"))
        st.markdown(tr("phone.over_body"))
        return
    st.title(tr("phone.checked_in_title"))
    if status.ticket:
        st.markdown(tr("done.ticket_label"))
        st.markdown(f'<p class="kiosk-ticket">{status.ticket}</p>', unsafe_allow_html=True)
    if status.needs_desk:
        st.warning(tr("done.please_stop_at_desk"))
    if status.position is not None:
        st.markdown(tr("done.position", n=status.position))
    if status.wait_minutes is not None:
        st.markdown(tr("done.wait", minutes=status.wait_minutes))
    st.caption(tr("phone.we_will_tell_you"))
