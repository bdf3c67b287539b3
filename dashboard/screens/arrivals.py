"""Arrivals: what needs a person now, then today's appointments, refreshed every few
seconds without losing the filters."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import guard_live_view, require_role
from dashboard.context import app_context, live_view
from dashboard.style import wait_colour
from shared.clinic_time import clinic_today
from shared.db import session_scope
from shared.i18n import format_date, t
from shared.models import AppointmentStatus, FlagKind, Location, Provider, StaffRole, utcnow
from shared.services import clinic_settings, precheck, review
from shared.services.board import (
    AlertRow,
    AppointmentRow,
    BoardFilter,
    alerts,
    appointments_for_day,
    day_counts,
    matches_search,
)
from shared.services.slips import format_time
from shared.text import plain

REFRESH_SECONDS = 5
NEW_FOR = timedelta(minutes=1)
ROW_PX = 30  # a compact row: twelve and more under three alerts on a 1366x768 screen
# Unless the whole day is asked for (or searched), the board shows the appointments from a
# little before now to a few hours ahead, and everyone who is here: a busy day's 1,000 rows
# would cost every open screen a full re-read and re-send every few seconds.
HOURS_BEHIND = 2
HOURS_AHEAD = 4
WAITING = (AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)
# Hidden unless asked for (or searched for): the board is about who is coming and who is here.
FINISHED = (AppointmentStatus.FULFILLED, AppointmentStatus.NOSHOW, AppointmentStatus.CANCELLED)
# The days the call list (pre-check-in not done by the day before) can show, tomorrow first:
# the desk calls those patients the day before.
CALL_DAYS = ("tomorrow", "today")


def page() -> None:
    user = require_role(StaffRole.REPRESENTATIVE, StaffRole.MANAGER)
    st.title(t("dash.arrivals"))
    _alert_strip(user)
    _filters()
    _board()


@st.fragment(run_every=REFRESH_SECONDS)
@live_view
def _alert_strip(user: dict) -> None:
    guard_live_view()
    ctx = app_context()
    with Session(ctx.engine) as session:
        rows = alerts(session, utcnow())
        chime = rows and clinic_settings.load_cached(ctx.engine).alert_sound
    if not rows:
        return
    if chime:
        _chime_for_new(rows, ctx.settings.tz)
    # One line per alert, saying what happened and where: the board stays in view below.
    with st.container(border=True, key="alert_strip"):
        for alert in rows:
            line, button = st.columns([9, 1], vertical_alignment="center")
            text = alert_text(alert, ctx.settings.tz)
            if alert.taken_at is None:
                line.error(text, icon=":material/priority_high:")
                if button.button(t("dash.acknowledge"), key=f"ack_{alert.flag_id}",
                                 width="stretch"):
                    with session_scope(ctx.engine) as session:
                        review.acknowledge(session, alert.flag_id,
                                           staff_user_id=user["user_id"], now=utcnow())
                    st.rerun()
            else:
                line.info(text, icon=":material/check:")


CHIME_JS = """<span class="dash-chime" hidden></span><script>
(() => {
  try {
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    for (const [at, hz] of [[0, 880], [0.22, 660]]) {
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.25, audio.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + at);
      tone.stop(audio.currentTime + at + 0.2);
    }
  } catch (e) {}
  if ("Notification" in window) {
    const show = () => new Notification(TITLE, {body: BODY, tag: "checkin-alert"});
    if (Notification.permission === "granted") show();
    else if (Notification.permission !== "denied") Notification.requestPermission().then(
      (p) => { if (p === "granted") show(); });
  }
})();
</script>
<style>.stElementContainer:has(.dash-chime) { display: none !important; }</style>"""


def _chime_for_new(rows: list[AlertRow], tz) -> None:
    """The clinic asked for a sound: once per alert this screen has not rung for yet, a
    chime and a browser notification that says only what kind of alert (no patient name:
    a notification can show on a locked screen)."""
    rung = st.session_state.setdefault("_alerts_rung", set())
    new = [a for a in rows if a.taken_at is None and a.flag_id not in rung]
    if not new:
        return
    rung.update(a.flag_id for a in new)
    kind = new[-1].kind
    what = t("dash.alert_help") if kind == FlagKind.HELP_REQUEST else (
        t("flag.left_kiosk") if kind == FlagKind.LEFT_KIOSK else t(f"flag.{kind.value}"))
    where = new[-1].kiosk_id or ""  # a script's text, not Markdown: as it is
    if where == precheck.HOME_KIOSK_ID:
        where = alert_place(new[-1], tz)
    script = (CHIME_JS.replace("TITLE", json.dumps(t("dash.alerts_title")))
              .replace("BODY", json.dumps(what + (f" · {where}" if where else ""))))
    st.html(script, unsafe_allow_javascript=True)


def alert_text(alert: AlertRow, tz) -> str:
    """"Urgent answer: Chest pain now? – yes · Noah Price · lobby-3 · 10:42", "Needs help ·
    step: insurance · lobby-2 · 10:40", "Left the kiosk at consent · ...", then who took it.
    Patient, import and question text is shown as typed (plain)."""
    if alert.kind == FlagKind.URGENT_ANSWER and alert.question:
        what = t("dash.alert_urgent_answer", question=plain(alert.question),
                 answer=plain(_answer(alert.answer)))
    elif alert.kind == FlagKind.LEFT_KIOSK:
        what = t("dash.alert_left", step=t(f"patient.step_{alert.step or 'identity'}"))
    elif alert.kind == FlagKind.HELP_REQUEST:
        what = t("dash.alert_help")
        if alert.step:
            what += " · " + t("dash.alert_step", step=t(f"patient.step_{alert.step}"))
    else:
        what = t(f"flag.{alert.kind.value}")
    parts = [what, plain(alert.patient_name) if alert.patient_name
             else t("dash.alert_no_patient")]
    if alert.kiosk_id:
        parts.append(alert_place(alert, tz))
    parts.append(format_time(alert.raised_at, tz))
    if alert.taken_at is not None:
        parts.append(t("dash.alert_taken", name=plain(alert.taken_by or t("dash.alert_someone")),
                       time=format_time(alert.taken_at, tz)))
    return " · ".join(parts)


def alert_place(alert: AlertRow, tz) -> str:
    """Where the flag was raised: the kiosk's name, or "from home, for <the visit's date>"
    for one raised during a pre-check-in, so nobody looks for that patient in the lobby."""
    if alert.kiosk_id != precheck.HOME_KIOSK_ID:
        return plain(alert.kiosk_id)
    if alert.appointment_start is None:
        return t("dash.alert_from_home_undated")
    return t("dash.alert_from_home", date=format_date(alert.appointment_start, tz=tz))


def _answer(value: object) -> str:
    if value is True:
        return t("kiosk.yes")
    if value is False:
        return t("kiosk.no")
    return "" if value is None else str(value)


def _filters() -> None:
    """Filters live in session state, so a refresh never resets them."""
    with Session(app_context().engine) as session:
        providers = session.scalars(select(Provider.display_name).order_by(
            Provider.display_name)).all()
        locations = session.scalars(select(Location.name).order_by(Location.name)).all()
    # One row, labels inside the fields (still their accessible names): the board's rows
    # start higher on a laptop screen.
    hidden = {"label_visibility": "collapsed"}
    cols = st.columns([1.7, 1.7, 1.7, 2.5, 1.35, 1.15, 1.9], vertical_alignment="center")
    cols[0].multiselect(t("dash.filter_provider"), options=providers, key="filter_provider",
                        placeholder=t("dash.filter_provider"), **hidden)
    cols[1].multiselect(t("dash.filter_location"), options=locations, key="filter_location",
                        placeholder=t("dash.filter_location"), **hidden)
    cols[2].multiselect(t("dash.filter_status"), options=[s.value for s in AppointmentStatus],
                        format_func=lambda s: t(f"status.{s}"), key="filter_status",
                        placeholder=t("dash.filter_status"), **hidden)
    cols[3].text_input(t("dash.search"), key="filter_search", placeholder=t("dash.search"),
                       **hidden)
    cols[4].checkbox(t("dash.show_finished"), key="filter_show_finished")
    cols[5].checkbox(t("dash.whole_day"), key="filter_whole_day")
    cols[6].toggle(t("dash.filter_precheck"), key="filter_precheck",
                   help=t("dash.filter_precheck_help"))
    if st.session_state.get("filter_precheck"):
        # The calls are made the day before: this list alone can show tomorrow.
        st.radio(t("dash.precheck_day"), CALL_DAYS, key="filter_precheck_day",
                 format_func=lambda d: t(f"dash.precheck_{d}"), horizontal=True, **hidden)


def _calls_day(today: date) -> date | None:
    """The day of the call list (pre-check-in not done by the day before), None when the
    board shows its usual list."""
    state = st.session_state
    if not state.get("filter_precheck"):
        return None
    return today + timedelta(days=1) if state.get("filter_precheck_day",
                                                  CALL_DAYS[0]) == "tomorrow" else today


def _board_filter(now: datetime, calls: bool = False) -> BoardFilter:
    """The filters the database applies: provider, location, the hours around now (not for
    the call list, which is a whole day's), and the pre-check-in not done."""
    state = st.session_state
    whole_day = (calls or state.get("filter_whole_day")
                 or (state.get("filter_search") or "").strip() or state.get("filter_status"))
    around = None if whole_day else (now - timedelta(hours=HOURS_BEHIND),
                                     now + timedelta(hours=HOURS_AHEAD))
    return BoardFilter(providers=tuple(state.get("filter_provider") or ()),
                       locations=tuple(state.get("filter_location") or ()), around=around,
                       not_prechecked=calls)


def _shown(rows: list[AppointmentRow]) -> list[AppointmentRow]:
    """The rows the representative's filters let through (the filters read once: each read
    of the session state costs more than the test itself)."""
    state = st.session_state
    search = (state.get("filter_search") or "").strip()
    statuses = state.get("filter_status") or ()
    hide_finished = not (search or statuses or state.get("filter_show_finished"))
    return [r for r in rows
            if not (hide_finished and r.status in FINISHED)
            and (not statuses or r.status.value in statuses)
            and matches_search(r, search)]


@st.fragment(run_every=REFRESH_SECONDS)
@live_view
def _board() -> None:
    guard_live_view()
    ctx = app_context()
    tz = ctx.settings.tz
    now = utcnow()
    day = clinic_today(tz)
    calls_day = _calls_day(day)
    if calls_day is not None:
        _call_list(calls_day, _board_filter(now, calls=True))
        return
    only = _board_filter(now)
    with Session(ctx.engine) as session:
        counts = day_counts(session, day, tz)
        rows = appointments_for_day(session, day, tz, only) if counts.total else []
    # Read on every refresh of every screen: from the process's copy, at most 10 s old (a
    # save on the settings page drops it at once).
    rules = clinic_settings.load_cached(ctx.engine)
    if not counts.total:
        st.info(t("dash.no_appointments"))
        return
    summary = t("dash.count_summary", total=counts.total, waiting=counts.waiting,
                done=counts.done)
    if only.around is not None:
        summary += " · " + t("dash.window_note", start=format_time(only.around[0], tz),
                             end=format_time(only.around[1], tz))
    st.caption(summary)
    shown = _shown(rows)
    # When this screen first showed each arrival: None for those already here when it
    # opened. "NEW" stays a minute, so a representative who looks away still sees it.
    seen: dict[int, datetime | None] = st.session_state.setdefault("_seen_arrivals", {})
    first_look = not st.session_state.get("_board_shown")
    st.session_state["_board_shown"] = True
    for r in rows:
        if r.arrived_at is not None and r.appointment_id not in seen:
            seen[r.appointment_id] = None if first_look else now
    table = []
    for r in shown:
        waiting = None
        if r.status in WAITING and r.arrived_at is not None:
            waiting = int((now - r.arrived_at).total_seconds() // 60)
        first_seen = seen.get(r.appointment_id)
        is_new = first_seen is not None and now - first_seen < NEW_FOR
        table.append({
            t("dash.col_time"): format_time(r.start, tz),
            t("dash.col_patient"): (f"{t('dash.new')} · " if is_new else "") + r.patient_name,
            t("dash.col_age"): r.age,
            t("dash.col_mrn"): r.mrn,
            t("dash.col_provider"): r.provider,
            t("dash.col_location"): r.location,
            t("dash.col_status"): t(f"status.{r.status.value}") + (
                " · " + t("dash.left_kiosk_at", step=t(f"patient.step_{r.left_kiosk_at}"))
                if r.left_kiosk_at else ""),
            t("dash.col_arrived"): format_time(r.arrived_at, tz) if r.arrived_at else "",
            # Whole minutes as text in a coloured label, none when not waiting: never
            # "None" or "45.0".
            t("dash.col_waiting"): [] if waiting is None else [str(waiting)],
            t("dash.col_flags"): f"⚑ {r.open_flags}" if r.open_flags else "",
            t("dash.col_precheck"): _precheck_word(r),
        })
    # The wait is coloured by the clinic's thresholds as a label (a read-only multiselect
    # cell): a pandas Styler did the same by restyling every cell of the table on every
    # refresh, about 70% of the board's CPU.
    waits = sorted({int(w) for row in table for w in row[t("dash.col_waiting")]})
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", row_height=ROW_PX,
                 height=min(ROW_PX + 4 + ROW_PX * max(len(table), 1), 760),
                 column_config={
                     t("dash.col_status"): st.column_config.TextColumn(width="medium"),
                     t("dash.col_waiting"): st.column_config.MultiselectColumn(
                         options=[str(w) for w in waits] or None,
                         color=[wait_colour(w, rules) for w in waits] or None),
                 },
                 placeholder="", key="arrivals_table")


def _precheck_word(row: AppointmentRow) -> str:
    return t(f"dash.precheck_{row.precheck.value}") if row.precheck else ""


def _call_list(day: date, only: BoardFilter) -> None:
    """The day's booked patients whose pre-check-in was not done before the day began, with
    their phone numbers: the representative calls them (usually the day before)."""
    ctx = app_context()
    tz = ctx.settings.tz
    with Session(ctx.engine) as session:
        rows = appointments_for_day(session, day, tz, only)
    shown = _shown(rows)
    st.caption(t("dash.precheck_calls_summary", date=format_date(day), count=len(shown)))
    if not shown:
        return
    table = [{
        t("dash.col_time"): format_time(r.start, tz),
        t("dash.col_patient"): r.patient_name,
        t("dash.col_phone"): r.phone or "",
        t("dash.col_age"): r.age,
        t("dash.col_mrn"): r.mrn,
        t("dash.col_provider"): r.provider,
        t("dash.col_location"): r.location,
        t("dash.col_precheck"): _precheck_word(r),
        t("dash.col_flags"): f"⚑ {r.open_flags}" if r.open_flags else "",
    } for r in shown]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", row_height=ROW_PX,
                 height=min(ROW_PX + 4 + ROW_PX * max(len(table), 1), 760),
                 placeholder="", key="precheck_calls_table")


page()
