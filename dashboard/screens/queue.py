"""The queue: who should be seen next, per provider and overall, with a reason for each
place, and the desk's actions on the selected patient."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import streamlit as st
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dashboard.auth import guard_live_view, require_role
from dashboard.context import app_context, live_view
from shared.clinic_time import clinic_today, day_bounds
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import t
from shared.models import Appointment, AppointmentStatus, Patient, StaffRole, utcnow
from shared.services import clinic_settings, desk
from shared.services.board import QueueRow, queue_for_day
from shared.services.slips import format_time
from shared.text import plain, t_plain

REFRESH_SECONDS = 5


def page() -> None:
    user = require_role(StaffRole.REPRESENTATIVE, StaffRole.MANAGER)
    st.title(t("queue.title"))
    _queue(user)
    _other_lists(user)


# What each action's success says: "Noah Price called to Room 3." with an Undo.
DID = {desk.call_to_room: "desk.did_called", desk.mark_in_room: "desk.did_in_room",
       desk.complete_visit: "desk.did_completed", desk.mark_no_show: "desk.did_noshow",
       desk.cancel: "desk.did_cancelled", desk.move_in_queue: "desk.did_moved",
       desk.undo_last: "desk.did_undone"}
LAST_ACTION = "queue_last_action"


def _act(user: dict, action: Callable[..., object], appointment_id: int, version: int | None,
         *, name: str, **kwargs: object) -> None:
    ctx = app_context()
    if action is desk.undo_last:
        kwargs["manager"] = user["role"] == StaffRole.MANAGER.value
    try:
        with session_scope(ctx.engine) as session:
            action(session, appointment_id, staff_user_id=user["user_id"], now=utcnow(),
                   expected_version=version, **kwargs)
    except DomainError as exc:
        params = dict(exc.params)
        if "action" in params:
            params["action"] = _action_words(str(params["action"]))
        # `who`, `room` and names were typed by staff or imported: shown as text.
        st.session_state["queue_message"] = ("error", t_plain(exc.key, **params))
        return
    done = t_plain(DID[action], name=name, room=str(kwargs.get("room", "")))
    st.session_state["queue_message"] = ("success", done)
    # Every action but an undo or a move can be taken back for a few minutes, from here.
    st.session_state[LAST_ACTION] = None if action in (desk.undo_last, desk.move_in_queue) \
        else (appointment_id, name, utcnow(), done)


def _action_words(action: str) -> str:
    key = "desk.action_" + action.replace(".", "_")
    words = t(key)
    return action if words == key else words


def _message(user: dict) -> None:
    """What the last action did, with an Undo while it can still be undone."""
    kind, text = st.session_state.pop("queue_message", (None, None))
    if kind == "error":
        st.error(text)
    last = st.session_state.get(LAST_ACTION)
    if last is not None and utcnow() - last[2] < desk.UNDO_WINDOW:
        # The last action stays in view, with its Undo, as long as it can be undone.
        line, button = st.columns([5, 1], vertical_alignment="center")
        line.success(last[3])
        if button.button(t("queue.undo_that"), key="undo_last_action", width="stretch"):
            _act(user, desk.undo_last, last[0], None, name=last[1])
            st.rerun()
    elif kind == "success":
        st.success(text)


@st.fragment(run_every=REFRESH_SECONDS)
@live_view
def _queue(user: dict) -> None:
    guard_live_view()
    ctx = app_context()
    tz = ctx.settings.tz
    now = utcnow()
    with Session(ctx.engine) as session:
        rules = clinic_settings.load(session)
        rows = queue_for_day(session, clinic_today(tz), tz, grace_minutes=rules.grace_minutes)
    _message(user)
    if not rows:
        st.info(t("queue.empty"))
        return
    providers = sorted({r.provider for r in rows})
    # A segmented control reads Markdown in its options; provider names come from imports.
    choice = st.segmented_control(t("dash.filter_provider"), [t("queue.overall"), *providers],
                                  default=t("queue.overall"), format_func=plain,
                                  key="queue_provider")
    shown = [r for r in rows if choice in (None, t("queue.overall")) or r.provider == choice]
    table = [{
        t("queue.col_pos"): r.position if choice in (None, t("queue.overall"))
        else r.provider_position,
        t("queue.col_ticket"): r.ticket,
        t("dash.col_patient"): r.patient_name,
        t("dash.col_provider"): r.provider,
        t("dash.col_time"): format_time(r.start, tz),
        t("dash.col_arrived"): format_time(r.arrived_at, tz) if r.arrived_at else "",
        t("dash.col_waiting"): int((now - r.arrived_at).total_seconds() // 60)
        if r.arrived_at else 0,
        t("dash.col_status"): t(f"status.{r.status.value}"),
        t("queue.col_reason"): t(r.reason_key) + (f" ({r.note})" if r.note else ""),
        t("queue.col_room"): r.room or "",
    } for r in shown]
    st.dataframe(table, hide_index=True, width="stretch", key="queue_table")
    # Chosen by appointment id, not by row: a refresh that reorders the line never moves
    # the selection onto another patient.
    by_id = {r.appointment_id: r for r in shown}
    labels = {r.appointment_id: f"{r.ticket} · {r.patient_name}" for r in shown}
    chosen = st.selectbox(t("queue.select_hint"), options=list(by_id), index=None,
                          format_func=labels.get, key="queue_selected")
    if chosen in by_id:
        _actions(user, by_id[chosen])


def _actions(user: dict, row: QueueRow) -> None:
    st.markdown(f"**{t_plain('queue.selected', name=row.patient_name, ticket=row.ticket)}**")
    key = f"act_{row.appointment_id}"
    name = row.patient_name
    room_col, call_col, in_col, undo_col = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    room = room_col.text_input(t("queue.room"), key=f"{key}_room", max_chars=40)
    if call_col.button(t("queue.call"), key=f"{key}_call", type="primary", width="stretch"):
        _act(user, desk.call_to_room, row.appointment_id, row.version, name=name, room=room)
        st.rerun()
    if in_col.button(t("queue.in_room"), key=f"{key}_in_room", width="stretch"):
        _act(user, desk.mark_in_room, row.appointment_id, row.version, name=name)
        st.rerun()
    if undo_col.button(t("queue.undo"), key=f"{key}_undo", width="stretch"):
        _act(user, desk.undo_last, row.appointment_id, row.version, name=name)
        st.rerun()
    with st.expander(t("queue.move")):
        minutes = st.number_input(t("queue.move_minutes"), min_value=-240, max_value=240,
                                  value=15, step=5, key=f"{key}_minutes")
        reason = st.text_input(t("queue.move_reason"), key=f"{key}_move_reason", max_chars=200)
        if st.button(t("queue.move"), key=f"{key}_move"):
            _act(user, desk.move_in_queue, row.appointment_id, row.version, name=name,
                 minutes_earlier=int(minutes), reason=reason)
            st.rerun()
    with st.expander(t("queue.cancel")):
        code = st.selectbox(t("queue.cancel_reason"), desk.CANCEL_REASONS, index=None,
                            format_func=lambda c: t(f"reason.{c}"), key=f"{key}_cancel_reason")
        tz = app_context().settings.tz
        if _confirmed(f"{key}_cancel", t("queue.cancel"),
                      t_plain("queue.cancel_confirm", name=name, time=format_time(row.start, tz)),
                      t("queue.cancel_yes")):
            _act(user, desk.cancel, row.appointment_id, row.version, name=name,
                 reason_code=code or "")
            st.rerun()


def _confirmed(key: str, label: str, question: str, yes: str) -> bool:
    """A button that asks first, naming the patient: True once "yes" is pressed."""
    asking = f"{key}_asking"
    if not st.session_state.get(asking):
        if st.button(label, key=key):
            st.session_state[asking] = True
            st.rerun()
        return False
    st.warning(question)
    sure, keep = st.columns(2)
    if keep.button(t("queue.keep"), key=f"{key}_keep", width="stretch"):
        st.session_state[asking] = False
        st.rerun()
    if sure.button(yes, key=f"{key}_yes", type="primary", width="stretch"):
        st.session_state[asking] = False
        return True
    return False


def _other_lists(user: dict) -> None:
    """Patients in a room (to complete) and booked patients past the grace period (no-show).
    Both lists are read with their conditions in SQL, and the late list is one table with one
    action, so a morning of late patients costs the page a row each, not a row of buttons."""
    ctx = app_context()
    tz = ctx.settings.tz
    now = utcnow()
    start, end = day_bounds(clinic_today(tz), tz)
    with Session(ctx.engine) as session:
        rules = clinic_settings.load(session)
        late_before = now - timedelta(minutes=rules.grace_minutes)
        rows = session.execute(
            select(Appointment.id, Appointment.version, Appointment.status, Appointment.start,
                   Appointment.room, Patient.legal_given_name, Patient.preferred_name,
                   Patient.legal_family_name)
            .join(Patient, Appointment.patient_id == Patient.id)
            .where(Appointment.start >= start, Appointment.start < end,
                   or_(Appointment.status == AppointmentStatus.IN_ROOM,
                       (Appointment.status == AppointmentStatus.BOOKED)
                       & (Appointment.start < late_before)))
            .order_by(Appointment.start)
        ).all()
    in_room = [r for r in rows if r.status == AppointmentStatus.IN_ROOM]
    missing = [r for r in rows if r.status == AppointmentStatus.BOOKED]
    left, right = st.columns(2)
    with left:
        st.subheader(t("queue.in_room_title"))
        for r in in_room:
            name = f"{r.preferred_name or r.legal_given_name} {r.legal_family_name}"
            a, b, c = st.columns([3, 2, 2], vertical_alignment="center")
            a.markdown(plain(name) + (f" · {plain(r.room)}" if r.room else ""))
            if b.button(t("queue.complete"), key=f"done_{r.id}", width="stretch"):
                _act(user, desk.complete_visit, r.id, r.version, name=name)
                st.rerun()
            if c.button(t("queue.undo"), key=f"undo_room_{r.id}", width="stretch"):
                _act(user, desk.undo_last, r.id, r.version, name=name)
                st.rerun()
    with right:
        st.subheader(t("queue.not_arrived_title"))
        if not missing:
            return
        names = {r.id: f"{r.preferred_name or r.legal_given_name} {r.legal_family_name}"
                 for r in missing}
        st.dataframe([{t("dash.col_time"): format_time(r.start, tz),
                       t("dash.col_patient"): names[r.id]} for r in missing],
                     hide_index=True, width="stretch", height=min(40 + 35 * len(missing), 300),
                     key="late_table")
        by_id = {r.id: r for r in missing}
        chosen = st.selectbox(t("queue.noshow_pick"), options=list(by_id), index=None,
                              format_func=lambda i: f"{format_time(by_id[i].start, tz)} · "
                                                    f"{names[i]}",
                              key="noshow_selected")
        if chosen in by_id and _confirmed(
                f"noshow_{chosen}", t("queue.noshow"),
                t_plain("queue.noshow_confirm", name=names[chosen],
                        time=format_time(by_id[chosen].start, tz)), t("queue.noshow_yes")):
            _act(user, desk.mark_no_show, chosen, by_id[chosen].version, name=names[chosen],
                 rules=rules)
            st.rerun()


page()
