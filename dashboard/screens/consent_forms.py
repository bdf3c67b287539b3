"""Consent forms, for managers: rules, versions, publishing, and a preview as on the kiosk.
A version whose English changed while its Spanish did not is marked, and the form with it."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context, run_service
from shared.clinic_time import clinic_today
from shared.i18n import LANGUAGES, t
from shared.models import Appointment, ConsentRenewal, StaffRole
from shared.services import clinic_settings, consent_admin
from shared.services.consent_admin import FormDraft
from shared.text import plain

NEW = 0


def _outdated_text(parts: list[str]) -> str:
    named = {"title": t("consent_admin.part_title"), "body": t("consent_admin.part_body")}
    return t("consent_admin.spanish_outdated", parts=", ".join(named[part] for part in parts))


def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("consent_admin.title"))
    flash = st.session_state.pop("consent_flash", None)
    with Session(ctx.engine) as session:
        all_forms = consent_admin.forms(session)
        spanish = "es" in clinic_settings.load(session).languages
        visit_types = sorted(set(session.scalars(select(Appointment.visit_type).distinct())))
        summary = [(f.id, f.key, f.renewal, f.required, list(f.visit_types), f.active,
                    [(v.id, v.version, v.title_en, v.title_es, v.body_en, v.body_es,
                      v.effective_from, v.published_at) for v in f.versions])
                   for f in all_forms]
        outdated = {vid: parts for f in all_forms
                    for vid, parts in consent_admin.spanish_outdated_by_version(f).items()}
    marker = t("consent_admin.spanish_outdated_marker")
    labels = {NEW: t("consent_admin.new")} | {s[0]: s[1] for s in summary}
    chosen = st.selectbox(t("consent_admin.form"), list(labels), format_func=labels.get,
                          key="consent_form_chosen")
    current = next((s for s in summary if s[0] == chosen), None)
    if flash:
        st.success(flash)
    # The form's newest version has Spanish written for an older English: said at the top
    # (the versions below mark which).
    if current and current[6] and outdated.get(current[6][-1][0]):
        st.warning(_outdated_text(outdated[current[6][-1][0]]), icon="⚠️")
    renewals = [r.value for r in ConsentRenewal]
    with st.form(f"consent_rules_{chosen}"):
        key = st.text_input(t("questions_admin.key"), current[1] if current else "",
                            disabled=current is not None, key=f"cf_key_{chosen}")
        renewal = st.selectbox(t("consent_admin.renewal"), renewals,
                               index=renewals.index(current[2].value) if current else 1,
                               format_func=lambda r: t("renewal." + r), key=f"cf_ren_{chosen}")
        required = st.checkbox(t("consent_admin.required"), current[3] if current else True,
                               key=f"cf_req_{chosen}")
        applies = st.multiselect(t("questions_admin.visit_types"), visit_types,
                                 default=[v for v in (current[4] if current else [])
                                          if v in visit_types], key=f"cf_vt_{chosen}")
        if st.form_submit_button(t("consent_admin.save_rules"), type="primary") and run_service(
                consent_admin.save_form, key=key, renewal=ConsentRenewal(renewal),
                required=required, visit_types=applies, staff_user_id=user["user_id"]):
            st.session_state["consent_flash"] = t("consent_admin.saved")
            st.rerun()
    if current is None:
        return
    form_id, _, _, _, _, active, versions = current
    if st.button(t("staff.deactivate") if active else t("staff.activate"),
                 key=f"cf_active_{form_id}") and run_service(
            consent_admin.set_active, form_id, not active, staff_user_id=user["user_id"]):
        st.rerun()
    st.subheader(t("consent_admin.versions"))
    for vid, number, title_en, title_es, body_en, body_es, effective, published in reversed(
            versions):
        state = (t("consent_admin.published") if published else t("consent_admin.draft"))
        if outdated.get(vid):
            state += f" · ⚠ {marker}"
        with st.expander(f"v{number} · {plain(title_en)} · {effective:%m/%d/%Y} · {state}"):
            if outdated.get(vid):
                st.warning(_outdated_text(outdated[vid]))
            language = st.segmented_control(t("kiosk.language"), list(LANGUAGES), default="en",
                                            format_func=LANGUAGES.get, key=f"cf_lang_{vid}")
            title, body = ((title_es or title_en, body_es or body_en) if language == "es"
                           else (title_en, body_en))
            st.markdown(f"### {title}")
            with st.container(height=260, border=True, key=f"cf_preview_{vid}"):
                st.markdown(body)
            if not published and st.button(t("consent_admin.publish"), key=f"cf_pub_{vid}",
                                           type="primary") and run_service(
                    consent_admin.publish, vid, staff_user_id=user["user_id"]):
                st.rerun()
    st.subheader(t("consent_admin.new_version"))
    latest = versions[-1] if versions else None
    with st.form(f"consent_version_{form_id}", clear_on_submit=False):
        c1, c2 = st.columns(2)
        title_en = c1.text_input(t("consent_admin.title_en"), latest[2] if latest else "",
                                 key=f"cv_ten_{form_id}")
        title_es = c2.text_input(t("consent_admin.title_es"), latest[3] if latest else "",
                                 key=f"cv_tes_{form_id}")
        body_en = c1.text_area(t("consent_admin.body_en"), latest[4] if latest else "",
                               height=220, key=f"cv_ben_{form_id}")
        body_es = c2.text_area(t("consent_admin.body_es"), latest[5] if latest else "",
                               height=220, key=f"cv_bes_{form_id}")
        effective = st.date_input(t("consent_admin.effective"), clinic_today(ctx.settings.tz),
                                  key=f"cv_eff_{form_id}")
        if st.form_submit_button(t("consent_admin.add_version")) and run_service(
                consent_admin.add_version, form_id,
                FormDraft(title_en, body_en, title_es, body_es, effective), spanish=spanish,
                staff_user_id=user["user_id"]):
            st.session_state["consent_flash"] = t("consent_admin.version_added")
            st.rerun()


page()
