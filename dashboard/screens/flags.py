"""Flags: every change a patient reported, side by side with the record, for a person to
accept, edit then accept, or reject with a reason."""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.clinic_time import clinic_today
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import DEFAULT_LANGUAGE, field_label, t
from shared.models import FlagKind, FlagSeverity, StaffRole, utcnow
from shared.services import insurance, precheck, questions, review
from shared.services.board import (
    STEP_KINDS,
    FlagRow,
    kiosk_step,
    open_flags_by_patient,
    open_notes,
)
from shared.services.details import display_phone
from shared.services.review import CHANGE_KINDS
from shared.services.slips import format_time
from shared.text import plain, t_plain

SEVERITY_COLOUR = {FlagSeverity.URGENT: "red", FlagSeverity.WARNING: "orange",
                   FlagSeverity.INFO: "blue"}
HIDDEN_FIELDS = ("card_front_document_id", "card_back_document_id")
CARD_THUMBNAIL_PX = 320


def page() -> None:
    user = require_role(StaffRole.REPRESENTATIVE, StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("dash.flags"))
    with Session(ctx.engine) as session:
        notes = open_notes(session)
    # Notes ("arrived early") only when asked for: the list is what needs a decision.
    with_notes = notes > 0 and st.toggle(t("dash.show_notes", n=notes), key="flags_notes")
    with Session(ctx.engine) as session:
        groups = open_flags_by_patient(session, notes=with_notes)
    if not groups:
        st.success(t("dash.no_flags"))
        return
    for group in groups:
        title = plain(group.patient_name.strip()) or t("dash.unknown_patient")
        if group.mrn:
            title += f" · {plain(group.mrn)}"
        group_key = f"flag_group_{group.patient_id or group.flags[0].flag_id}"
        with st.container(border=True, key=group_key):
            st.subheader(title)
            for flag in group.flags:
                _flag(ctx, user, flag)


def _value_table(value: dict[str, Any] | None) -> str:
    if not value:
        return "—"
    # Each value as typed at the kiosk or imported: text, never Markdown.
    lines = [f"- {plain(field_label(k))}: **{plain(_shown(k, v))}**"
             for k, v in value.items() if k not in HIDDEN_FIELDS and v not in (None, "")]
    return "\n".join(lines) or "—"


def _shown(name: str, value: Any) -> str:
    """A value as a person reads it: a phone formatted, yes or no, never "True"."""
    if isinstance(value, bool):
        return t("kiosk.yes") if value else t("kiosk.no")
    return display_phone(value) if "phone" in name else str(value)


def _flag(ctx, user: dict, flag: FlagRow) -> None:
    tz = ctx.settings.tz
    # Raised during a pre-check-in at home: said so, never as a kiosk named "home".
    where = "" if not flag.kiosk_id else f" · {t('dash.alert_from_home_undated')}" if (
        flag.kiosk_id == precheck.HOME_KIOSK_ID) else f" · {plain(flag.kiosk_id)}"
    badge = f":{SEVERITY_COLOUR[flag.severity]}-badge[{t('severity.' + flag.severity.value)}]"
    st.markdown(f"{badge} **{t('flag.' + flag.kind.value)}** · "
                f"{format_time(flag.raised_at, tz)}{where}")
    if flag.kind == FlagKind.LEFT_KIOSK:
        # Where the patient stopped, not a proposed change.
        step = kiosk_step(flag.new_value)
        st.markdown(t("dash.left_kiosk_at", step=t(f"patient.step_{step}")))
    elif flag.kind == FlagKind.ANSWER_CHANGE:
        # A carried-over answer the patient changed: the question and both answers, in words.
        with Session(ctx.engine) as session:
            question, old, new = questions.describe_answer_change(
                session, flag.old_value, flag.new_value, DEFAULT_LANGUAGE)
        st.markdown(t_plain("dash.answer_changed", question=question, old=old, new=new))
    elif flag.kind in STEP_KINDS:
        if (flag.new_value or {}).get("step"):
            st.markdown(t("dash.alert_step", step=t(f"patient.step_{kiosk_step(flag.new_value)}")))
    elif flag.old_value or flag.new_value:
        left, right = st.columns(2)
        left.caption(t("dash.on_record"))
        left.markdown(_value_table(flag.old_value))
        right.caption(t("dash.patient_says"))
        right.markdown(_value_table(flag.new_value))
    _card_photos(ctx, flag)
    key = f"flag_{flag.flag_id}"
    note = None
    if flag.kind not in CHANGE_KINDS:
        # e.g. "signed on paper", "sent back to the kiosk": kept with who and when.
        note = st.text_input(t("dash.resolve_note"), key=f"{key}_note", max_chars=500)
    a, e, r = st.columns(3)
    # A change is accepted into the record; any other flag is simply dealt with.
    accept_label = t("dash.accept") if flag.kind in CHANGE_KINDS else t("dash.resolve")
    if a.button(accept_label, key=f"{key}_accept", type="primary", width="stretch"):
        _decide(ctx, user, flag, "accept", note=note)
    editable = flag.kind in CHANGE_KINDS and bool(flag.new_value) and not (
        flag.new_value or {}).get("self_pay")
    if editable and e.button(t("dash.edit_accept"), key=f"{key}_edit", width="stretch"):
        st.session_state[f"{key}_editing"] = True
    if r.button(t("dash.reject"), key=f"{key}_reject_open", width="stretch"):
        st.session_state[f"{key}_rejecting"] = True
    if st.session_state.get(f"{key}_editing"):
        with st.form(f"{key}_edit_form"):
            edited = {
                name: st.text_input(field_label(name), value=str(value or ""),
                                    key=f"{key}_field_{name}")
                for name, value in (flag.new_value or {}).items() if name not in HIDDEN_FIELDS
            }
            if st.form_submit_button(t("dash.save_accept"), type="primary"):
                kept = {k: v for k, v in (flag.new_value or {}).items() if k in HIDDEN_FIELDS}
                _decide(ctx, user, flag, "accept", edited={**edited, **kept})
    if st.session_state.get(f"{key}_rejecting"):
        with st.form(f"{key}_reject_form"):
            reason = st.text_input(t("dash.reject_reason"), key=f"{key}_reason", max_chars=500)
            if st.form_submit_button(t("dash.reject"), type="primary"):
                _decide(ctx, user, flag, "reject", reason=reason)
    st.divider()


def _card_photos(ctx, flag: FlagRow) -> None:
    ids = [(flag.new_value or {}).get(name) for name in HIDDEN_FIELDS]
    ids = [i for i in ids if i]
    if not ids:
        return
    with Session(ctx.engine) as session:
        # Small JPEGs at the size they are shown, not the uploads: four screens opening a
        # page of cards stay light.
        cards = insurance.document_thumbnails(session, ids, long_side=CARD_THUMBNAIL_PX)
    cols = st.columns(len(cards) or 1)
    for col, (kind, small) in zip(cols, cards, strict=False):
        if small is None:
            col.caption(f"{field_label(kind)}: {t('dash.photo_unavailable')}")
        else:
            col.image(small, caption=field_label(kind), width=CARD_THUMBNAIL_PX,
                      alt=(t(f"insurance.{kind}") if kind in ("card_front", "card_back")
                           else field_label(kind)))


def _decide(ctx, user: dict, flag: FlagRow, action: str, *, edited: dict | None = None,
            reason: str = "", note: str | None = None) -> None:
    now = utcnow()
    try:
        with session_scope(ctx.engine) as session:
            if action == "accept":
                review.accept_flag(session, flag.flag_id, staff_user_id=user["user_id"], now=now,
                                   day=clinic_today(ctx.settings.tz), edited_value=edited,
                                   note=(note or "").strip()[:500] or None,
                                   expected_version=flag.version)
            else:
                review.reject_flag(session, flag.flag_id, staff_user_id=user["user_id"],
                                   now=now, reason=reason, expected_version=flag.version)
    except DomainError as exc:
        st.error(t_plain(exc.key, **exc.params))
        return
    for suffix in ("editing", "rejecting"):
        st.session_state.pop(f"flag_{flag.flag_id}_{suffix}", None)
    st.toast(t("dash.accepted") if action == "accept" else t("dash.rejected"))
    st.rerun()


page()
