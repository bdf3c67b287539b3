"""Clinic settings, for managers: validated, audited, applied at once without a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import LANGUAGES, t
from shared.imports import names
from shared.models import StaffRole
from shared.services import clinic_settings

NUMBERS = (
    ("early_checkin_minutes", 0, 240),
    ("grace_minutes", 0, 120),
    ("kiosk_timeout_seconds", 30, 900),
    ("wait_amber_minutes", 1, 240),
    ("wait_red_minutes", 1, 480),
    ("minutes_per_patient", 1, 120),
)


def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("settings.title"))
    with Session(ctx.engine) as session:
        current = clinic_settings.load(session)
    # The time zone decides what "today" means for every stored time, so it is set where
    # the apps start (CHECKIN_TIMEZONE), not changed under running check-ins.
    st.caption(t("settings.timezone_note", zone=ctx.settings.timezone))
    with st.form("settings_form"):
        changes: dict[str, object] = {
            "clinic_name": st.text_input(t("settings.clinic_name"), current.clinic_name,
                                         max_chars=120, key="set_clinic_name"),
        }
        cols = st.columns(3)
        for i, (name, low, high) in enumerate(NUMBERS):
            changes[name] = int(cols[i % 3].number_input(
                t(f"settings.{name}"), min_value=low, max_value=high,
                value=int(getattr(current, name)), step=1, key=f"set_{name}"))
        changes["allow_early_checkin"] = st.checkbox(
            t("settings.allow_early_checkin"), current.allow_early_checkin, key="set_early")
        changes["allow_late_checkin"] = st.checkbox(
            t("settings.allow_late_checkin"), current.allow_late_checkin, key="set_late")
        changes["alert_sound"] = st.checkbox(
            t("settings.alert_sound"), current.alert_sound, key="set_alert_sound",
            help=t("settings.alert_sound_help"))
        changes["arrive_without_lobby_code"] = st.checkbox(
            t("settings.arrive_without_lobby_code"), current.arrive_without_lobby_code,
            key="set_arrive_without_lobby_code", help=t("settings.arrive_without_lobby_code_help"))
        changes["languages"] = st.multiselect(
            t("settings.languages"), list(LANGUAGES), default=list(current.languages),
            format_func=LANGUAGES.get, key="set_languages")
        changes["welcome_message_en"] = st.text_area(
            t("settings.welcome_en"), current.welcome_message_en, max_chars=500,
            key="set_welcome_en")
        changes["welcome_message_es"] = st.text_area(
            t("settings.welcome_es"), current.welcome_message_es, max_chars=500,
            key="set_welcome_es")
        submitted = st.form_submit_button(t("settings.save"), type="primary")
    if submitted:
        try:
            with session_scope(ctx.engine) as session:
                clinic_settings.update(session, changes, staff_user_id=user["user_id"])
        except DomainError as exc:
            st.error(t(exc.key, name=t(f"settings.{exc.params.get('name', '')}")
                       if exc.params.get("name") else ""))
        else:
            st.success(t("settings.saved"))
    practice_names(ctx, user["user_id"])
    spanish_names(ctx, user["user_id"])


def practice_names(ctx, staff_user_id: int) -> None:
    """The names patients read for providers and locations the practice system sends only
    as codes; the codes come from files, so they are shown as plain text."""
    with Session(ctx.engine) as session:
        current = names.coded_names(session)
    _names_form(ctx, current, title="names.title", lead="names.lead", form="names_form",
                shown=lambda c: c.code, field="name", label="names.name", widths=[1, 3],
                save="names.save", saved="names.saved",
                store=lambda session, c, value: names.set_name(
                    session, c.kind, c.id, value, staff_user_id=staff_user_id))


def spanish_names(ctx, staff_user_id: int) -> None:
    """What Spanish-speaking patients read on the kiosk for each provider and location; the
    usual names come from imports and managers, so they are shown as plain text."""
    with Session(ctx.engine) as session:
        current = names.spanish_names(session)
    _names_form(ctx, current, title="names.spanish_title", lead="names.spanish_lead",
                form="names_es_form", shown=lambda c: c.name, field="name_es",
                label="names.name_es", widths=[1, 1], save="names.save_spanish",
                saved="names.spanish_saved",
                store=lambda session, c, value: names.set_spanish_name(
                    session, c.kind, c.id, value, staff_user_id=staff_user_id))


def _names_form(ctx, current: list, *, title: str, lead: str, form: str,
                shown: Callable[[Any], str], field: str, label: str, widths: list[int],
                save: str, saved: str, store: Callable[[Any, Any, str], None]) -> None:
    """One row per provider and location: what identifies it (shown as plain text) and the
    name to type; only the names changed are saved, in one transaction."""
    if not current:
        return
    st.subheader(t(title))
    st.caption(t(lead))
    typed: dict[tuple[str, int], str] = {}
    with st.form(form):
        for kind, heading in (("provider", "names.providers"), ("location", "names.locations")):
            rows = [c for c in current if c.kind == kind]
            if not rows:
                continue
            st.text(t(heading))
            for c in rows:
                left, right = st.columns(widths)
                left.text(shown(c))
                typed[(kind, c.id)] = right.text_input(
                    t(label), getattr(c, field), max_chars=names.MAX_NAME,
                    label_visibility="collapsed", key=f"{field}_{kind}_{c.id}")
        submitted = st.form_submit_button(t(save), key=f"{form.removesuffix('_form')}_save")
    if not submitted:
        return
    by_key = {(c.kind, c.id): c for c in current}
    try:
        with session_scope(ctx.engine) as session:
            for row_key, value in typed.items():
                if value != getattr(by_key[row_key], field):
                    store(session, by_key[row_key], value)
    except DomainError as exc:
        st.error(t(exc.key, **exc.params))
    else:
        st.success(t(saved))


page()
