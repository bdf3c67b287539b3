"""Reports, for managers: check-ins, the kiosk's completion and timing, no-shows, waits and
flags over a range of clinic days, each with its data as CSV."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.clinic_time import clinic_today
from shared.i18n import CATALOGS, t
from shared.models import StaffRole
from shared.services import reports
from shared.services.csv_export import csv_bytes

DEFAULT_DAYS = 30


def _number(value: float | None, key: str, digits: int) -> str:
    if value is None:
        return t("reports.no_value")
    return t(key, value=f"{value:,.{digits}f}")


def _percent(value: float | None) -> str:
    return _number(None if value is None else value * 100, "reports.percent", 1)


def _label(prefix: str, code: str) -> str:
    key = f"{prefix}{code}"
    return t(key) if key in CATALOGS["en"] else code


def _download(frame: pd.DataFrame, name: str, span: tuple[date, date], key: str) -> None:
    st.download_button(t("reports.download"), csv_bytes(frame),
                       file_name=f"{name}_{span[0]:%Y-%m-%d}_{span[1]:%Y-%m-%d}.csv",
                       mime="text/csv", key=key, on_click="ignore")


def _metrics(report: reports.Report) -> None:
    kiosk = report.kiosk
    cols = st.columns(4)
    cols[0].metric(t("reports.appointments"), f"{report.appointments:,}")
    cols[1].metric(t("reports.check_ins"), f"{report.check_ins_total:,}")
    cols[2].metric(t("reports.noshow_rate"), _percent(report.noshow_rate),
                   help=t("reports.noshow_help"))
    cols[3].metric(t("reports.wait_median"),
                   _number(report.median_wait_minutes, "reports.minutes", 1),
                   help=t("reports.wait_help", count=f"{report.waits_measured:,}"))
    cols = st.columns(4)
    cols[0].metric(t("reports.kiosk_completion"), _percent(kiosk.completion_rate),
                   help=t("reports.kiosk_completion_help", completed=f"{kiosk.completed:,}",
                          started=f"{kiosk.started:,}"))
    cols[1].metric(t("reports.kiosk_median"), _number(kiosk.median_seconds, "reports.seconds", 0),
                   help=t("reports.kiosk_time_help"))
    cols[2].metric(t("reports.kiosk_p90"), _number(kiosk.p90_seconds, "reports.seconds", 0),
                   help=t("reports.kiosk_time_help"))
    cols[3].metric(t("reports.abandoned"), f"{kiosk.abandoned:,}")


def _bar(frame: pd.DataFrame, label: str, value: str, *, title: str,
         order: list[str] | None = None, horizontal: bool = False) -> alt.Chart:
    """A titled bar chart of counts in `frame` (columns named in the catalog language): the
    count axis has whole-number ticks only. Fields are renamed to plain ones for Vega-Lite,
    which reads dots and brackets in a field name as paths.

    Every encoded field holds a value on every row: Vega-Lite draws no mark for a row whose
    encoded number is null (a median colour for a kind never resolved hid its bar: help
    requests, acknowledged and left open, were missing). Medians go in the tooltip and table."""
    field = {name: f"c{i}" for i, name in enumerate(frame.columns)}
    data = frame.rename(columns=field)
    category_sort: list[str] | str = order or ("-x" if horizontal else "-y")
    category_axis = alt.Y if horizontal else alt.X
    amount_axis = alt.X if horizontal else alt.Y
    encoding = {
        "y" if horizontal else "x": category_axis(
            f"{field[label]}:N", sort=category_sort, title=None,
            axis=alt.Axis(labelAngle=0, labelLimit=220)),
        "x" if horizontal else "y": amount_axis(
            f"{field[value]}:Q", title=value, axis=alt.Axis(tickMinStep=1, format="d")),
        "tooltip": [alt.Tooltip(f"{f}:{'N' if name == label else 'Q'}", title=name)
                    for name, f in field.items()],
    }
    return (alt.Chart(data, title=alt.Title(title, anchor="start"), description=title)
            .mark_bar().encode(**encoding))


def _channels(report: reports.Report, span: tuple[date, date]) -> None:
    st.subheader(t("reports.by_channel"))
    frame = pd.DataFrame({
        t("reports.channel"): [_label("reports.channel_", c.channel) for c in report.check_ins],
        t("reports.started"): [c.started for c in report.check_ins],
        t("reports.completed"): [c.completed for c in report.check_ins],
    })
    order = list(frame[t("reports.channel")])
    st.altair_chart(_bar(frame, t("reports.channel"), t("reports.started"),
                         title=t("reports.chart_by_channel"), order=order), width="stretch")
    _download(frame, "check-ins-by-channel", span, "rep_dl_channels")


def _steps(report: reports.Report, span: tuple[date, date]) -> None:
    st.subheader(t("reports.by_step"))
    steps = report.kiosk.abandoned_by_step
    if not steps:
        st.caption(t("reports.nothing"))
        return
    frame = pd.DataFrame({
        t("reports.step"): [_label("reports.step_", s.step) for s in steps],
        t("reports.count"): [s.abandoned for s in steps],
    })
    order = list(frame[t("reports.step")])
    st.altair_chart(_bar(frame, t("reports.step"), t("reports.count"),
                         title=t("reports.chart_by_step"), order=order), width="stretch")
    _download(frame, "kiosk-given-up-by-step", span, "rep_dl_steps")


def _precheck(report: reports.Report, span: tuple[date, date]) -> None:
    """Visits pre-checked at home, and whether those patients go faster at the kiosk."""
    pre = report.precheck
    st.subheader(t("reports.precheck"))
    cols = st.columns(3)
    cols[0].metric(t("reports.precheck_share"), _percent(pre.share),
                   help=t("reports.precheck_share_help", prechecked=f"{pre.prechecked:,}",
                          visits=f"{pre.visits:,}"))
    cols[1].metric(t("reports.kiosk_median_prechecked"),
                   _number(pre.kiosk_median_prechecked, "reports.seconds", 0),
                   help=t("reports.kiosk_precheck_help", count=f"{pre.kiosk_timed_prechecked:,}"))
    cols[2].metric(t("reports.kiosk_median_others"),
                   _number(pre.kiosk_median_others, "reports.seconds", 0),
                   help=t("reports.kiosk_precheck_help", count=f"{pre.kiosk_timed_others:,}"))
    median = t("reports.kiosk_median_seconds")
    medians = (pre.kiosk_median_prechecked, pre.kiosk_median_others)
    frame = pd.DataFrame({
        t("reports.precheck_group"): [t("reports.prechecked"), t("reports.not_prechecked")],
        t("reports.visits"): [pre.prechecked, pre.visits - pre.prechecked],
        t("reports.kiosk_timed"): [pre.kiosk_timed_prechecked, pre.kiosk_timed_others],
        median: [None if m is None else round(m) for m in medians],
    })
    left, right = st.columns(2)
    # Counts in the chart (a bar for every row); the medians in the table and the CSV.
    left.altair_chart(_bar(frame.drop(columns=[median]), t("reports.precheck_group"),
                           t("reports.visits"), title=t("reports.chart_precheck"),
                           order=list(frame[t("reports.precheck_group")])), width="stretch")
    shown = frame.assign(**{median: [_number(m, "reports.seconds", 0) for m in medians]})
    right.dataframe(shown, hide_index=True, width="stretch", key="rep_precheck_table")
    with right:
        _download(frame, "pre-check-in", span, "rep_dl_precheck")


def _flags(report: reports.Report, span: tuple[date, date]) -> None:
    st.subheader(t("reports.by_flag"))
    if not report.flags:
        st.caption(t("reports.nothing"))
        return
    median = t("reports.median_resolve")
    frame = pd.DataFrame({
        t("reports.kind"): [_label("flag.", f.kind) for f in report.flags],
        t("reports.raised"): [f.raised for f in report.flags],
        t("reports.resolved"): [f.resolved for f in report.flags],
        median: [None if f.median_resolve_minutes is None
                 else round(f.median_resolve_minutes, 1) for f in report.flags],
    })
    st.altair_chart(_bar(frame, t("reports.kind"), t("reports.raised"),
                         title=t("reports.chart_by_flag"), horizontal=True), width="stretch")
    # On screen a median never measured reads "—", not "None"; the CSV keeps the number.
    shown = frame.assign(**{median: [
        t("reports.no_value") if f.median_resolve_minutes is None
        else f"{f.median_resolve_minutes:,.1f}" for f in report.flags]})
    st.dataframe(shown, hide_index=True, width="stretch", key="rep_flags_table")
    _download(frame, "flags-by-kind", span, "rep_dl_flags")


def _groups(title: str, groups: list[reports.GroupCount], span: tuple[date, date],
            name: str) -> None:
    st.subheader(title)
    if not groups:
        st.caption(t("reports.nothing"))
        return
    frame = pd.DataFrame({
        t("reports.name"): [g.name for g in groups],
        t("reports.appointments"): [g.appointments for g in groups],
        t("reports.cancelled"): [g.cancelled for g in groups],
        t("reports.noshows"): [g.noshows for g in groups],
        t("reports.fulfilled"): [g.completed for g in groups],
        t("reports.noshow_rate"): [_percent(g.noshow_rate) for g in groups],
    })
    st.dataframe(frame, hide_index=True, width="stretch", key=f"rep_{name}_table")
    _download(frame, name, span, f"rep_dl_{name}")


def page() -> None:
    require_role(StaffRole.MANAGER)
    ctx = app_context()
    tz = ctx.settings.tz
    st.title(t("reports.title"))
    st.caption(t("reports.lead"))
    today = clinic_today(tz)
    with Session(ctx.engine) as session:
        providers, locations = reports.filter_choices(session)
    provider_names, location_names = dict(providers), dict(locations)
    c1, c2, c3 = st.columns([2, 2, 2])
    picked = c1.date_input(t("reports.range"),
                           value=(today - timedelta(days=DEFAULT_DAYS - 1), today),
                           format="YYYY-MM-DD", key="rep_range")
    provider_id = c2.selectbox(
        t("reports.provider"), [None, *provider_names], key="rep_provider",
        format_func=lambda i: t("reports.all") if i is None else provider_names[i])
    location_id = c3.selectbox(
        t("reports.location"), [None, *location_names], key="rep_location",
        format_func=lambda i: t("reports.all") if i is None else location_names[i])
    span = reports.picked_range(picked)
    if span is None:
        st.info(t("reports.pick_end"))
        return
    try:
        with Session(ctx.engine) as session:
            report = reports.build_report(session, span[0], span[1], tz,
                                          provider_id=provider_id, location_id=location_id)
    except reports.InvalidRange as exc:
        st.error(t(exc.key))
        return
    _metrics(report)
    left, right = st.columns(2)
    with left:
        _channels(report, span)
    with right:
        _steps(report, span)
    _precheck(report, span)
    _flags(report, span)
    left, right = st.columns(2)
    with left:
        _groups(t("reports.by_provider"), report.providers, span, "providers")
    with right:
        _groups(t("reports.by_location"), report.locations, span, "locations")


page()
