"""The audit log, for managers: who did what to which record, and when, filtered and
exported as CSV. Events hold ids and codes only, so nothing here names a patient."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.clinic_time import clinic_today
from shared.i18n import t
from shared.models import StaffRole
from shared.services import reports
from shared.services.csv_export import csv_bytes

DEFAULT_DAYS = 7


def page() -> None:
    require_role(StaffRole.MANAGER)
    ctx = app_context()
    tz = ctx.settings.tz
    st.title(t("audit_log.title"))
    st.caption(t("audit_log.lead"))
    today = clinic_today(tz)
    with Session(ctx.engine) as session:
        actions, record_types, staff = reports.audit_choices(session)
    staff_names = dict(staff)
    c1, c2, c3, c4, c5 = st.columns([3, 3, 3, 2, 2])
    picked = c1.date_input(t("audit_log.dates"),
                           value=(today - timedelta(days=DEFAULT_DAYS - 1), today),
                           format="YYYY-MM-DD", key="audit_range")
    staff_id = c2.selectbox(
        t("audit_log.staff"), [None, *staff_names], key="audit_staff",
        format_func=lambda i: t("audit_log.any") if i is None else staff_names[i])
    action = c3.selectbox(t("audit_log.action"), [None, *actions], key="audit_action",
                          format_func=lambda a: t("audit_log.any") if a is None else a)
    record_type = c4.selectbox(
        t("audit_log.record_type"), [None, *record_types], key="audit_record_type",
        format_func=lambda r: t("audit_log.any") if r is None else r)
    raw_id = c5.text_input(t("audit_log.record_id"), key="audit_record_id", max_chars=12)
    span = reports.picked_range(picked)
    if span is None:
        st.info(t("reports.pick_end"))
        return
    record_id = None
    if raw_id.strip():
        if not raw_id.strip().isdigit():
            st.error(t("audit_log.record_id_invalid"))
            return
        record_id = int(raw_id.strip())
    try:
        with Session(ctx.engine) as session:
            found = reports.audit_events(session, span[0], span[1], tz, staff_user_id=staff_id,
                                         action=action, record_type=record_type,
                                         record_id=record_id)
    except reports.InvalidRange as exc:
        st.error(t(exc.key))
        return
    if not found.rows:
        st.info(t("audit_log.none"))
        return
    if found.total > len(found.rows):
        st.warning(t("audit_log.limited", shown=f"{len(found.rows):,}",
                     total=f"{found.total:,}"))
    else:
        st.caption(t("audit_log.count", total=f"{found.total:,}"))
    staff_actor = set(reports.STAFF_ACTOR_TYPES)

    def staff_name(actor_type: str, actor_id: str | None) -> str:
        if actor_type in staff_actor and actor_id and actor_id.isdigit():
            return staff_names.get(int(actor_id), actor_id)
        return ""

    frame = pd.DataFrame({
        t("audit_log.col_id"): [r.id for r in found.rows],
        t("audit_log.col_at"): [r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
                                for r in found.rows],
        t("audit_log.col_actor_type"): [r.actor_type for r in found.rows],
        t("audit_log.col_actor_id"): [r.actor_id or "" for r in found.rows],
        t("audit_log.col_staff"): [staff_name(r.actor_type, r.actor_id) for r in found.rows],
        t("audit_log.col_action"): [r.action for r in found.rows],
        t("audit_log.col_record_type"): [r.record_type for r in found.rows],
        t("audit_log.col_record_id"): pd.array([r.record_id for r in found.rows],
                                               dtype="Int64"),
        t("audit_log.col_detail"): [json.dumps(r.detail, sort_keys=True) if r.detail else ""
                                    for r in found.rows],
    })
    st.dataframe(frame, hide_index=True, width="stretch", key="audit_table")
    st.download_button(
        t("audit_log.download"), csv_bytes(frame),
        file_name=f"audit-log_{span[0]:%Y-%m-%d}_{span[1]:%Y-%m-%d}.csv", mime="text/csv",
        key="audit_download", on_click="ignore")


page()
