"""Kiosk questions, for managers: list, create, edit (as a draft, or published as a new
version), publish or discard a draft, reorder, deactivate, preview exactly as a patient sees
it, export and import as JSON. Spanish written for an English since changed is marked.

Every change ends in a rerun, so the list, the editor and the preview (tabs switch in the
browser, with no run) all show what was just saved."""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict
from typing import Any

import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context, run_service
from kiosk.steps.intake import question_input
from shared.errors import DomainError
from shared.i18n import LANGUAGES, t
from shared.models import (
    Appointment,
    FlagKind,
    FlagSeverity,
    KioskQuestionVersion,
    Location,
    Provider,
    QuestionType,
    StaffRole,
)
from shared.services import clinic_settings, question_admin
from shared.services.question_admin import QuestionDefinition
from shared.services.questions import Asked, validate_answer, visible
from shared.text import plain, t_plain

NEW = "__new__"
OPERATORS = ("", "equals", "in", "at_least", "at_most")
FLASH = "q_flash"


def _done(message: str) -> None:
    """Say what happened on the next run, which reads the questions afresh (the editor,
    still on the saved question, warns there when its Spanish is now out of date)."""
    st.session_state[FLASH] = message
    st.rerun()


def _parts(parts: list[str]) -> str:
    named = {"text": t("questions_admin.part_text"), "help": t("questions_admin.part_help")}
    return ", ".join(
        t("questions_admin.part_choice", choice=part.removeprefix("choice:"))
        if part.startswith("choice:") else named[part] for part in parts)


def _spanish_warning(status: question_admin.QuestionStatus) -> None:
    if status.spanish_outdated:
        st.warning(t_plain("questions_admin.spanish_outdated",
                           parts=_parts(status.spanish_outdated)), icon="⚠️")


def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("questions_admin.title"))
    with Session(ctx.engine) as session:
        statuses = question_admin.overview(session)
        spanish = "es" in clinic_settings.load(session).languages
        visit_types = sorted(set(session.scalars(select(Appointment.visit_type).distinct())))
    flash = st.session_state.pop(FLASH, None)
    # The message has a place that is always there: when it goes on the next run, the tabs
    # below keep their place on the page, and so the tab the manager has open (a tab set
    # that moves is drawn afresh on its first tab).
    with st.container(key="q_flash"):
        if flash:
            st.success(flash)
    list_tab, edit_tab, preview_tab, file_tab = st.tabs([
        t("questions_admin.list"), t("questions_admin.edit"), t("questions_admin.preview"),
        t("questions_admin.file")], key="q_tabs")
    with list_tab:
        _list(user, statuses, spanish)
    with edit_tab:
        _editor(user, statuses, spanish, visit_types)
    with preview_tab:
        _preview(statuses, visit_types)
    with file_tab:
        with Session(ctx.engine) as session:
            exported = question_admin.export_json(session)
        st.download_button(t("questions_admin.export"), exported, file_name="questions.json",
                           mime="application/json", key="q_export")
        upload = st.file_uploader(t("questions_admin.import"), type=["json"], key="q_import")
        go = upload is not None and st.button(t("questions_admin.import_go"), key="q_import_go")
        if go and run_service(question_admin.import_set, upload.getvalue(), spanish=spanish,
                       staff_user_id=user["user_id"]):
            _done(t("questions_admin.imported"))


def _list(user: dict, statuses: list[question_admin.QuestionStatus], spanish: bool) -> None:
    for i, status in enumerate(statuses):
        d = status.definition
        cols = st.columns([6, 1, 1, 2], vertical_alignment="center")
        cond = f" · {t_plain('questions_admin.shown_if', key=d.condition['question'])}" \
            if d.condition else ""
        markers = ""
        if status.draft:
            markers += f" :blue-badge[{t_plain('questions_admin.draft_marker')}]"
        if status.spanish_outdated:
            markers += f" :orange-badge[⚠ {t_plain('questions_admin.spanish_outdated_marker')}]"
        with cols[0].container(key=f"q_row_{d.key}"):
            st.markdown(f"**{i + 1}. {plain(d.text_en)}** `{d.key}` · "
                        f"{t('qtype.' + d.type)}{cond}{markers}")
            if status.draft:
                b1, b2, _ = st.columns([1, 1, 2])
                if b1.button(t("questions_admin.publish"), key=f"q_pub_{d.key}",
                             type="primary") and run_service(
                        question_admin.publish, d.key, spanish=spanish,
                        staff_user_id=user["user_id"]):
                    _done(t("questions_admin.saved"))
                if b2.button(t("questions_admin.discard_draft"),
                             key=f"q_discard_{d.key}") and run_service(
                        question_admin.discard_draft, d.key, staff_user_id=user["user_id"]):
                    _done(t("questions_admin.draft_discarded"))
        if not status.active:
            continue  # a deactivated question's draft: published, it comes back last
        with cols[0]:
            carry = st.toggle(t("questions_admin.carry_over"), status.carry_over,
                              key=f"q_carry_{d.key}", help=t("questions_admin.carry_over_help"))
        if carry != status.carry_over and run_service(
                question_admin.set_carry_over, d.key, carry, staff_user_id=user["user_id"]):
            st.rerun()
        if cols[1].button("↑", key=f"q_up_{d.key}", disabled=i == 0) and run_service(
                question_admin.move, d.key, -1, staff_user_id=user["user_id"]):
            st.rerun()
        if cols[2].button("↓", key=f"q_down_{d.key}",
                          disabled=i == len(statuses) - 1 or not statuses[i + 1].active
                          ) and run_service(
                question_admin.move, d.key, 1, staff_user_id=user["user_id"]):
            st.rerun()
        off = cols[3].button(t("questions_admin.deactivate"), key=f"q_off_{d.key}")
        if off and run_service(question_admin.deactivate, d.key,
                               staff_user_id=user["user_id"]):
            st.rerun()


def _choices_text(choices: list[dict[str, str]]) -> str:
    return "\n".join(f"{c.get('value', '')} | {c.get('en', '')} | {c.get('es', '')}"
                     for c in choices)


def _parse_choices(text: str) -> list[dict[str, str]]:
    choices = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + ["", ""]
        choices.append({"value": parts[0], "en": parts[1], "es": parts[2]})
    return choices


def _parse_value(raw: str) -> Any:
    text = raw.strip()
    if text.lower() in ("yes", "true", "sí", "si"):
        return True
    if text.lower() in ("no", "false"):
        return False
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def form_suffix(key: str, version: int | None) -> str:
    """The editor's widget keys end in this: the question and the version it opened, so a
    saved version opens with its own values, never the ones typed over an older one."""
    return NEW if version is None else f"{key}_v{version}"


def _editor(user: dict, statuses: list[question_admin.QuestionStatus], spanish: bool,
            visit_types: list[str]) -> None:
    definitions = [s.definition for s in statuses]
    keys = [d.key for d in definitions]
    chosen = st.selectbox(t("questions_admin.which"), [NEW, *keys],
                          format_func=lambda k: t("questions_admin.new") if k == NEW else k,
                          key="q_edit_which")
    status = next((s for s in statuses if s.key == chosen), None)
    base = status.definition if status else QuestionDefinition(
        key="", type=QuestionType.YES_NO.value, text_en="")
    if status is not None:
        if status.draft:
            st.info(t("questions_admin.editing_draft", version=status.version))
        _spanish_warning(status)
    earlier = keys[: keys.index(chosen)] if chosen in keys else keys
    rule = base.flag_rules[0] if base.flag_rules else {}
    operator = next(iter(rule.get("when", {})), "")
    chosen = form_suffix(chosen, status.version if status else None)
    with st.form(f"q_form_{chosen}"):
        key = st.text_input(t("questions_admin.key"), base.key, disabled=chosen != NEW,
                            key=f"q_key_{chosen}")
        qtype = st.selectbox(t("questions_admin.type"), [q.value for q in QuestionType],
                             index=[q.value for q in QuestionType].index(base.type),
                             format_func=lambda q: t("qtype." + q), key=f"q_type_{chosen}")
        c1, c2 = st.columns(2)
        text_en = c1.text_area(t("questions_admin.text_en"), base.text_en, key=f"q_ten_{chosen}")
        text_es = c2.text_area(t("questions_admin.text_es"), base.text_es, key=f"q_tes_{chosen}")
        help_en = c1.text_input(t("questions_admin.help_en"), base.help_en, key=f"q_hen_{chosen}")
        help_es = c2.text_input(t("questions_admin.help_es"), base.help_es, key=f"q_hes_{chosen}")
        required = st.checkbox(t("questions_admin.required"), base.required,
                               key=f"q_req_{chosen}")
        choices = st.text_area(t("questions_admin.choices"), _choices_text(base.choices),
                               help=t("questions_admin.choices_help"), key=f"q_ch_{chosen}")
        n1, n2 = st.columns(2)
        min_value = n1.text_input(t("questions_admin.min"), "" if base.min_value is None
                                  else str(base.min_value), key=f"q_min_{chosen}")
        max_value = n2.text_input(t("questions_admin.max"), "" if base.max_value is None
                                  else str(base.max_value), key=f"q_max_{chosen}")
        applies = st.multiselect(t("questions_admin.visit_types"), visit_types,
                                 default=[v for v in base.visit_types if v in visit_types],
                                 key=f"q_vt_{chosen}")
        p1, p2 = st.columns(2)
        providers = _names(Provider)
        locations = _names(Location)
        provider_ids = p1.multiselect(
            t("questions_admin.providers"), list(providers), format_func=providers.get,
            default=[i for i in base.provider_ids if i in providers], key=f"q_pr_{chosen}")
        location_ids = p2.multiselect(
            t("questions_admin.locations"), list(locations), format_func=locations.get,
            default=[i for i in base.location_ids if i in locations], key=f"q_lo_{chosen}")
        k1, k2 = st.columns(2)
        # Shown by their wording, which is what a manager recognises, not by key.
        wording = {d.key: d.text_en for d in definitions} | {"": "—"}
        cond_key = k1.selectbox(t("questions_admin.condition"), ["", *earlier],
                                index=(["", *earlier].index(base.condition["question"])
                                       if base.condition and base.condition["question"]
                                       in earlier else 0), format_func=wording.get,
                                key=f"q_cond_{chosen}")
        cond_value = k2.text_input(t("questions_admin.condition_value"),
                                   "" if not base.condition else str(base.condition.get(
                                       "equals", "")), key=f"q_condv_{chosen}")
        r1, r2, r3, r4 = st.columns(4)
        rule_op = r1.selectbox(t("questions_admin.rule_when"), OPERATORS,
                               index=OPERATORS.index(operator) if operator in OPERATORS else 0,
                               key=f"q_rop_{chosen}")
        rule_value = r2.text_input(t("questions_admin.rule_value"),
                                   str(rule.get("when", {}).get(operator, "")) if operator
                                   else "", key=f"q_rv_{chosen}")
        rule_flag = r3.selectbox(t("questions_admin.rule_flag"), [k.value for k in FlagKind],
                                 index=[k.value for k in FlagKind].index(
                                     rule.get("flag", FlagKind.URGENT_ANSWER.value)),
                                 key=f"q_rf_{chosen}")
        rule_sev = r4.selectbox(t("questions_admin.rule_severity"),
                                [s.value for s in FlagSeverity],
                                index=[s.value for s in FlagSeverity].index(
                                    rule.get("severity", FlagSeverity.URGENT.value)),
                                key=f"q_rs_{chosen}")
        b1, b2 = st.columns(2)
        as_draft = b1.form_submit_button(t("questions_admin.save_draft"), key=f"q_draft_{chosen}")
        published = b2.form_submit_button(t("questions_admin.save"), type="primary",
                                          key=f"q_save_{chosen}")
    if not (as_draft or published):
        return
    try:
        bounds = [float(v) if v.strip() else None for v in (min_value, max_value)]
    except ValueError:
        st.error(t_plain("questions_admin.bad_bounds", question=key))
        return
    rules = []
    if rule_op:
        value = _parse_value(rule_value)
        if rule_op == "in":
            value = [_parse_value(v) for v in rule_value.split(",")]
        rules.append({"when": {rule_op: value}, "flag": rule_flag, "severity": rule_sev})
    definition = QuestionDefinition(
        key=(key or "").strip(), type=qtype, text_en=text_en, text_es=text_es, help_en=help_en,
        help_es=help_es, required=required, choices=_parse_choices(choices),
        min_value=bounds[0], max_value=bounds[1], visit_types=applies,
        provider_ids=provider_ids, location_ids=location_ids,
        condition={"question": cond_key, "equals": _parse_value(cond_value)} if cond_key
        else None,
        flag_rules=rules,
    )
    if run_service(question_admin.save_question, definition, spanish=spanish,
                   staff_user_id=user["user_id"], publish=bool(published)):
        _done(t("questions_admin.saved" if published else "questions_admin.draft_saved"))


def _names(model: type[Provider] | type[Location]) -> dict[int, str]:
    name = model.display_name if model is Provider else model.name
    with Session(app_context().engine) as session:
        return {row[0]: row[1] for row in session.execute(select(model.id, name).order_by(name))}


def _preview(statuses: list[question_admin.QuestionStatus], visit_types: list[str]) -> None:
    """The kiosk's question step, rendered by the kiosk's own code, with nothing saved: the
    questions as just saved (drafts too, unless asked otherwise)."""
    c1, c2, c3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    language = c1.segmented_control(t("kiosk.language"), list(LANGUAGES), default="en",
                                    format_func=LANGUAGES.get, key="q_preview_lang") or "en"
    visit = c2.selectbox(t("questions_admin.visit_type"), ["", *visit_types],
                         key="q_preview_visit")
    drafts = c3.toggle(t("questions_admin.preview_drafts"), value=True, key="q_preview_drafts")
    definitions = [s.definition if drafts else s.published for s in statuses]
    shown = [d for d in definitions
             if d is not None and (not visit or not d.visit_types or visit in d.visit_types)]
    asked = [Asked(d.key, _transient_version(d)) for d in shown]
    answers: dict[str, Any] = st.session_state.setdefault("q_preview_answers", {})
    with st.container(border=True, key="q_preview"):
        for a in asked:
            # Checked again after each answer, so a follow-up shows as soon as the answer it
            # depends on is given (the list taken before this run's answers would lag one).
            if a.key not in {s.key for s in visible(asked, answers)}:
                continue
            raw = question_input(a, answers.get(a.key), language, key_prefix="preview")
            try:
                value = validate_answer(a.version, raw)
            except DomainError:
                value = None
            if value is None:
                answers.pop(a.key, None)
            else:
                answers[a.key] = value
            if not a.version.required:
                st.caption(t("questions.optional", language))


def _transient_version(d: QuestionDefinition) -> KioskQuestionVersion:
    """An unsaved version object, for the preview only. Its id (part of the widgets' keys)
    comes from the wording and settings, so an edited question gets fresh widgets instead of
    the ones drawn for its old wording."""
    fingerprint = zlib.crc32(json.dumps(asdict(d), sort_keys=True, default=str).encode())
    return KioskQuestionVersion(
        id=-(fingerprint + 1), version=0, type=QuestionType(d.type), text_en=d.text_en,
        text_es=d.text_es, help_en=d.help_en, help_es=d.help_es, required=d.required,
        choices=d.choices, min_value=d.min_value, max_value=d.max_value,
        visit_types=d.visit_types, condition=d.condition, flag_rules=d.flag_rules,
    )


page()
