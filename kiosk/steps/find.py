"""Step 2: find the appointment and prove who you are.

By code (camera, a scanner that types, or the link on a phone) followed by the birth date;
or by family name and birth date, with the last 4 phone digits when two patients match.
"""

from __future__ import annotations

import streamlit as st

from kiosk import scanner
from kiosk.state import (
    HERE_KEY,
    go,
    is_remote,
    kiosk_action,
    kiosk_id,
    kiosk_state,
    lang,
    tr,
)
from kiosk.steps import finish, phone, welcome
from kiosk.widgets import birth_date_input, help_button, start_over_button
from shared.db import session_scope
from shared.errors import TokenInvalid
from shared.i18n import format_date, format_time
from shared.models import AppointmentStatus, Channel, utcnow
from shared.runtime import AppContext
from shared.services import checkin, clinic_settings, lookups, precheck
from shared.services.checkin import MAX_IDENTITY_ATTEMPTS


def accept_code(ctx: AppContext, code: str) -> None:
    """A code from the camera, a scanner or a link: remember its token, then ask the birth
    date. Unknown, expired, revoked or locked codes say so kindly."""
    now = utcnow()
    try:
        with session_scope(ctx.engine) as session:
            token = checkin.find_token(session, code, secret_key=ctx.settings.secret_key,
                                       now=now)
            kiosk_state()["token_id"] = token.id
    except TokenInvalid as exc:
        go("code_problem", problem=exc.key)
        return
    go("verify_birth_date")


def catch_scanner(ctx: AppContext) -> None:
    """On the welcome screen: a USB scanner's code, typed with no field tapped, goes straight
    to the birth date, as from the scan screen."""
    value = scanner.scanner_keys(key="welcome_scanner")
    scan = scanner.read_scan(value, handled_nonce=kiosk_state().get("scan_nonce"))
    if scan is not None:
        kiosk_state()["scan_nonce"] = scan.nonce
        accept_code(ctx, scan.code)
        st.rerun()


def render_scan(ctx: AppContext) -> None:
    """A live viewfinder that reads the reminder's QR code by itself, a USB scanner that
    types anywhere on the page, and a field to type the code: the next screen comes with no
    tap. The picture stays in the browser; only a code's text reaches this step."""
    st.title(tr("kiosk.scan_title"))
    viewfinder, typed = st.columns([3, 2], gap="medium")
    with viewfinder:
        value = scanner.viewfinder(words=_viewfinder_words(), lang=lang(),
                                   key="scan_viewfinder")
    scan = scanner.read_scan(value, handled_nonce=kiosk_state().get("scan_nonce"))
    if scan is not None:
        kiosk_state()["scan_nonce"] = scan.nonce
        accept_code(ctx, scan.code)
        st.rerun()
    with typed:
        st.markdown(tr("kiosk.scan_lead"))
        with st.form("scanner_form", clear_on_submit=True, border=False):
            code = st.text_input(tr("kiosk.scan_typed"), key="scan_code", type="password",
                                 autocomplete="off", help=tr("kiosk.scan_typed_help"))
            submitted = st.form_submit_button(tr("kiosk.continue"), type="primary",
                                              width="stretch")
    if submitted and code.strip():
        accept_code(ctx, code)
        st.rerun()
    st.button(tr("kiosk.start_name"), key="scan_to_name", on_click=go, args=("find_by_name",),
              width="stretch")
    start_over_button("scan_back")
    help_button()


def _viewfinder_words() -> dict[str, str]:
    """What the viewfinder shows, in the patient's language."""
    return {
        "hint": tr("kiosk.scan_frame_hint"),
        "starting": tr("kiosk.scan_starting"),
        "read": tr("kiosk.scan_read"),
        "denied": tr("kiosk.scan_camera_denied"),
        "missing": tr("kiosk.scan_camera_missing"),
        "camera": tr("kiosk.scan_camera"),
    }


def render_code_problem(ctx: AppContext) -> None:
    st.title(tr("kiosk.code_problem_title"))
    st.warning(tr(kiosk_state().get("problem", "error.token_invalid")))
    st.button(tr("kiosk.start_name"), key="problem_to_name", on_click=go,
              args=("find_by_name",), type="primary", width="stretch")
    start_over_button("problem_back")
    help_button()


def render_verify_birth_date(ctx: AppContext) -> None:
    state = kiosk_state()
    if is_remote():
        # The link opens here, past the welcome: the language is chosen here too.
        welcome.language_buttons()
    st.title(tr("kiosk.verify_title"))
    st.markdown(tr("kiosk.verify_lead"))
    with st.form("verify_form", border=False):
        value = birth_date_input("verify")
        submitted = st.form_submit_button(tr("kiosk.continue"), type="primary", width="stretch")
    if submitted:
        if value is None or value == "invalid":
            st.error(tr("kiosk.birth_date_invalid"))
        else:
            _check_birth_date(ctx, state, value)
    start_over_button("verify_back")
    help_button()


def _check_birth_date(ctx: AppContext, state: dict, birth_date) -> None:
    now = utcnow()
    with session_scope(ctx.engine) as session:
        result = checkin.verify_token_birth_date(session, state["token_id"], birth_date,
                                                 now=now, kiosk_id=kiosk_id())
    if result.locked:
        go("see_desk")
        st.rerun()
    if result.appointment_id is None:
        st.error(tr("kiosk.verify_wrong", left=result.attempts_left))
        return
    start_check_in(ctx, result.appointment_id)
    st.rerun()


def start_check_in(ctx: AppContext, appointment_id: int, *, review: bool = False) -> None:
    """Identity is proven: begin (or resume) the check-in and show the appointment.

    On the patient's phone (the reminder's link) it is a pre-check-in instead. At the kiosk,
    a patient who did the pre-check-in at home is asked one question first ("Has anything
    changed?"), unless they chose to go through the steps (`review`)."""
    if is_remote():
        start_precheck(ctx, appointment_id)
        return
    now = utcnow()
    tz = ctx.settings.tz
    rules = clinic_settings.load_cached(ctx.engine)
    with session_scope(ctx.engine) as session:
        done = None if review else precheck.done_at(session, appointment_id)
        if done is not None:
            appointment = checkin.load_appointment(session, appointment_id)
            if (appointment.status in checkin.CHECKABLE
                    and checkin.arrival_timing(appointment.start, now, tz, rules)
                    != checkin.Timing.WRONG_DAY):
                go("all_set", appointment_id=appointment_id,
                   precheck_day=format_date(done, lang(), tz))
                return
        try:
            check_in = checkin.begin(session, appointment_id, channel=Channel.KIOSK, now=now,
                                     tz=tz, rules=rules, kiosk_id=kiosk_id())
        except checkin.AlreadyCheckedIn:
            go("already_checked_in")
            return
        except checkin.CannotCheckIn as exc:
            # Caught inside the transaction: the flag raised for the desk is kept.
            go("cannot_check_in", problem=exc.key, problem_params=exc.params)
            return
        appointment = check_in.appointment
        timing = checkin.arrival_timing(appointment.start, now, tz, rules)
        go("appointment", appointment_id=appointment.id, check_in_id=check_in.id,
           patient_id=appointment.patient_id, timing=timing.value)


def start_precheck(ctx: AppContext, appointment_id: int, *, again: bool = False) -> None:
    """On the patient's phone: start the pre-check-in, or resume it at the step where it was
    left. Once done, opening the link again says so, with a way to change something."""
    now = utcnow()
    tz = ctx.settings.tz
    with session_scope(ctx.engine) as session:
        appointment = checkin.load_appointment(session, appointment_id)
        when = {"precheck_date": format_date(appointment.start, lang(), tz),
                "precheck_time": format_time(appointment.start, lang(), tz)}
        if (appointment.status in PHONE_TICKET_STATUSES
                and checkin.arrival_timing(appointment.start, now, tz, clinic_settings
                                           .load_cached(ctx.engine)) != checkin.Timing.WRONG_DAY):
            # Checked in already (here, at the kiosk or the desk): the place in line, live.
            go("phone_ticket", appointment_id=appointment_id, **{HERE_KEY: True})
            return
        if not precheck.is_open(appointment, now):
            go("cannot_check_in", problem="precheck.closed")
            return
        if not again and precheck.done_at(session, appointment_id) is not None:
            go("precheck_done_before", appointment_id=appointment_id, **when)
            return
        check_in = precheck.begin(session, appointment_id, now=now)
        go(RESUME_AT.get(check_in.last_step or "", "appointment"), appointment_id=appointment_id,
           check_in_id=check_in.id, patient_id=appointment.patient_id, **when)


# Appointments whose patient is here and in line (or called): the phone shows the ticket.
PHONE_TICKET_STATUSES = (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_ROOM)

# Where a pre-check-in left at a step goes on: the step after the last one done.
RESUME_AT = {"appointment": "details", "details": "insurance", "demographics": "insurance",
             "insurance": "questions", "questions": "consent", "consent": "consent"}


def render_precheck_done_before(ctx: AppContext) -> None:
    state = kiosk_state()
    st.title(tr("precheck.done_title", date=state["precheck_date"]))
    # On the day, "At the clinic?" first: it is what the patient opened the link for.
    phone.render_arrival(ctx, state["appointment_id"])
    st.markdown(tr("precheck.done_body", date=state["precheck_date"],
                   time=state["precheck_time"]))
    st.button(tr("precheck.change_something"), key="precheck_again", width="stretch",
              on_click=kiosk_action(lambda: start_precheck(ctx, state["appointment_id"],
                                                           again=True)))


def render_all_set(ctx: AppContext) -> None:
    """At the kiosk, after the birth date, for a patient who did the pre-check-in: one tap
    checks them in ("No, I'm here"), or they go through the steps ("Yes, let me check")."""
    state = kiosk_state()
    st.title(tr("kiosk.all_set_title"))
    st.markdown(tr("kiosk.all_set_body", day=state["precheck_day"]))
    st.button(tr("kiosk.all_set_no"), key="all_set_here", type="primary", width="stretch",
              on_click=kiosk_action(_arrive_after_precheck), args=(ctx,))
    st.button(tr("kiosk.all_set_yes"), key="all_set_check", width="stretch",
              on_click=kiosk_action(lambda: start_check_in(ctx, state["appointment_id"],
                                                           review=True)))
    start_over_button("all_set_back")
    help_button()


def _arrive_after_precheck(ctx: AppContext) -> None:
    state = kiosk_state()
    now = utcnow()
    with session_scope(ctx.engine) as session:
        try:
            result = precheck.arrive(
                session, state["appointment_id"], channel=Channel.KIOSK, now=now,
                tz=ctx.settings.tz, rules=clinic_settings.load_cached(ctx.engine),
                kiosk_id=kiosk_id())
        except checkin.AlreadyCheckedIn:
            go("already_checked_in")
            return
        except checkin.CannotCheckIn as exc:
            # Caught inside the transaction: the flag raised for the desk is kept.
            go("cannot_check_in", problem=exc.key, problem_params=exc.params)
            return
    go("done", completion=finish.completion_view(result))


def render_find_by_name(ctx: AppContext) -> None:
    state = kiosk_state()
    st.title(tr("kiosk.find_title"))
    st.markdown(tr("kiosk.find_lead"))
    st.caption(tr("kiosk.find_child_note"))
    with st.form("find_form", border=False):
        family = st.text_input(tr("kiosk.family_name"), key="find_family", max_chars=100,
                               autocomplete="off")
        value = birth_date_input("find")
        submitted = st.form_submit_button(tr("kiosk.find_button"), type="primary",
                                          width="stretch")
    if submitted:
        if not family.strip():
            st.error(tr("kiosk.family_name_missing"))
        elif value is None or value == "invalid":
            st.error(tr("kiosk.birth_date_invalid"))
        else:
            _search(ctx, state, family, value)
    start_over_button("find_back")
    help_button()


def _search(ctx: AppContext, state: dict, family: str, birth_date) -> None:
    now = utcnow()
    tz = ctx.settings.tz
    with session_scope(ctx.engine) as session:
        try:
            lookups.check_allowed(session, kiosk_id(), now=now)
        except lookups.LookupPaused as exc:
            st.error(tr(exc.key, **exc.params))
            return
        found = checkin.find_by_name(session, family, birth_date, now=now, tz=tz)
        other = found.other_day
        if not found.today and other is not None:
            checkin.report_wrong_day(session, other, now=now, kiosk_id=kiosk_id())
            # In the patient's language: "lunes, 15 de junio de 2026", "3:00 p.m.".
            go("other_day", other_date=format_date(other.start, lang(), tz),
               other_time=format_time(other.start, lang(), tz))
        elif not found.today:
            lookups.record_miss(session, kiosk_id(), now=now, what="name")
    if not found.today and other is None:
        st.error(tr("kiosk.not_found"))
        return
    if len(found.today) == 1:
        start_check_in(ctx, found.today[0])
    elif len(found.today) > 1:
        go("ask_phone", candidates=found.today, attempts=0)
    st.rerun()


def render_ask_phone(ctx: AppContext) -> None:
    state = kiosk_state()
    st.title(tr("kiosk.phone_title"))
    st.markdown(tr("kiosk.phone_lead"))
    with st.form("phone_form", border=False):
        digits = st.text_input(tr("kiosk.phone_last4"), max_chars=4, key="phone_last4",
                               type="password")
        submitted = st.form_submit_button(tr("kiosk.continue"), type="primary", width="stretch")
    if submitted:
        with session_scope(ctx.engine) as session:
            matches = checkin.narrow_by_phone(session, state["candidates"], digits)
            if len(matches) != 1:
                # Counted for this kiosk in the database too: starting over does not wipe it.
                missed = lookups.record_miss(session, kiosk_id(), now=utcnow(), what="phone")
                state["attempts"] = state.get("attempts", 0) + 1
                if missed.locked:
                    state["attempts"] = MAX_IDENTITY_ATTEMPTS
                elif state["attempts"] >= MAX_IDENTITY_ATTEMPTS:
                    checkin.identity_failed(session, now=utcnow(), kiosk_id=kiosk_id())
        if len(matches) == 1:
            start_check_in(ctx, matches[0])
            st.rerun()
        if state["attempts"] >= MAX_IDENTITY_ATTEMPTS:
            go("see_desk")
            st.rerun()
        st.error(tr("kiosk.verify_wrong", left=MAX_IDENTITY_ATTEMPTS - state["attempts"]))
    start_over_button("phone_back")
    help_button()


def render_other_day(ctx: AppContext) -> None:
    state = kiosk_state()
    st.title(tr("kiosk.other_day_title"))
    st.markdown(tr("kiosk.other_day_body", date=state["other_date"], time=state["other_time"]))
    start_over_button("other_day_back")
    help_button()


def render_see_desk(ctx: AppContext) -> None:
    st.title(tr("kiosk.see_desk_title"))
    st.markdown(tr("kiosk.see_desk_body"))
    start_over_button("see_desk_back")
    help_button()


def render_already(ctx: AppContext) -> None:
    st.title(tr("kiosk.already_checked_in"))
    st.markdown(tr("kiosk.already_body"))
    start_over_button("already_back")
    help_button()


def render_cannot(ctx: AppContext) -> None:
    state = kiosk_state()
    st.title(tr("kiosk.cannot_title"))
    st.markdown(tr(state.get("problem", "kiosk.see_desk"), **state.get("problem_params", {})))
    start_over_button("cannot_back")
    help_button()
