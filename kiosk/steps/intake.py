"""Steps 6 and 7: the clinic's questions, one per screen, and consent signatures."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session
from streamlit_drawable_canvas import st_canvas

from kiosk.state import go, kiosk_id, kiosk_state, lang, tr, tr_plain
from kiosk.steps import finish
from kiosk.style import screen_marker
from kiosk.widgets import help_button
from shared.clinic_time import clinic_today
from shared.db import session_scope
from shared.i18n import t
from shared.models import (
    Appointment,
    FlagSeverity,
    Language,
    QuestionType,
    SignerRelationship,
    utcnow,
)
from shared.runtime import AppContext
from shared.services import checkin, consent, questions
from shared.services.consent import SignatureRefused
from shared.services.questions import AnswerInvalid, Asked

Q = QuestionType


def question_input(asked: Asked, previous: Any, language: str, key_prefix: str = "q") -> Any:
    """The widget for one question, as a patient sees it; returns the raw answer. Also used
    by the managers' preview, so the preview is the kiosk's own rendering.

    The question's help is printed under it, never only behind a small "?": it may be an
    instruction that matters now ("If yes, tell the front desk right away")."""
    raw = _question_widget(asked, previous, language, key_prefix)
    v = asked.version
    help_text = (v.help_es if language == Language.ES and v.help_es else v.help_en) or None
    if help_text and v.type not in (Q.MULTIPLE_CHOICE, Q.PAIN_SCALE):
        st.caption(help_text)
    return raw


def _question_widget(asked: Asked, previous: Any, language: str, key_prefix: str) -> Any:
    v = asked.version
    key = f"{key_prefix}_{asked.key}_{v.id}"
    label = v.text(language)
    # The help is shown as a caption by question_input, not as a tooltip.
    help_text = (v.help_es if language == Language.ES and v.help_es else v.help_en) or None
    values = [c["value"] for c in v.choices]
    labels = {c["value"]: c.get(language) or c.get("en") or c["value"] for c in v.choices}
    match v.type:
        case Q.YES_NO:
            options = [True, False]
            index = options.index(previous) if previous in options else None
            # Labels resolved now: a format function must not read session state later.
            yes, no = t("kiosk.yes", language), t("kiosk.no", language)
            return st.radio(label, options, index=index, key=key,
                            format_func=lambda x: yes if x else no, horizontal=True)
        case Q.SINGLE_CHOICE:
            index = values.index(previous) if previous in values else None
            return st.radio(label, values, index=index, key=key,
                            format_func=labels.get)
        case Q.MULTIPLE_CHOICE:
            st.markdown(f"**{label}**")
            if help_text:
                st.caption(help_text)
            return [value for value in values
                    if st.checkbox(labels[value], value=value in (previous or []),
                                   key=f"{key}_{value}")]
        case Q.SHORT_TEXT:
            return st.text_input(label, value=previous or "", key=key,
                                 max_chars=questions.MAX_TEXT)
        case Q.NUMBER:
            return st.text_input(label, value="" if previous is None else str(previous),
                                 key=key)
        case Q.PAIN_SCALE:
            st.markdown(f"**{label}**")
            st.caption(help_text or t("questions.pain_help", language))
            # In a keep_choice container: the kiosk's script keeps a score that is tapped
            # again (Streamlit's pills would unselect it).
            with st.container(key=f"keep_choice_{key}"):
                chosen = st.pills(label, list(range(11)), default=previous, key=key,
                                  label_visibility="collapsed")
            # Unselected all the same (no script, a screen reader): the score given before
            # stays; a score is changed by tapping another.
            return previous if chosen is None and previous in range(11) else chosen
        case Q.DATE:
            default = date.fromisoformat(previous) if previous else None
            return st.date_input(label, value=default, key=key,
                                 min_value=date(1900, 1, 1), max_value=date(2100, 12, 31),
                                 format="MM/DD/YYYY")
    return None


ASKED_KEY = "kiosk_asked"


def keep_question_set(session: Session, appointment: Appointment) -> None:
    """Read the questions for this visit and the answers stored so far, once, in the caller's
    transaction; they are kept for the patient (no query per screen). The question versions
    sit beside the patient's state, not in it: they are the clinic's, and the kiosk's actions
    copy the patient's state."""
    state = kiosk_state()
    st.session_state[ASKED_KEY] = questions.questions_for_visit(session, appointment)
    stored, earlier = questions.answers_for_visit(session, appointment)
    state["answers"] = dict(stored)
    state["stored_answers"] = dict(stored)
    # Answers that carry over from the last visit, shown with "Still right?".
    state["earlier_answers"] = earlier


def _question_set(ctx: AppContext) -> tuple[list[Asked], dict[str, Any], dict[str, Any]]:
    """The questions, the answers given so far, and those already stored."""
    state = kiosk_state()
    if ASKED_KEY not in st.session_state or "answers" not in state:
        with session_scope(ctx.engine) as session:
            keep_question_set(session, checkin.load_appointment(session,
                                                                state["appointment_id"]))
    return st.session_state[ASKED_KEY], state["answers"], state["stored_answers"]


def _store(session: Session, shown: list[Asked], answers: dict[str, Any],
           stored: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Store, in the caller's transaction, the answers not yet stored as given: the flags
    raised, and what to note as stored once the transaction has committed."""
    state = kiosk_state()
    given = [questions.Given(a, answers[a.key], a.key in stored) for a in shown
             if a.key in answers and (a.key not in stored or stored[a.key] != answers[a.key])]
    if not given:
        return [], {}
    raised = questions.save_answers(
        session, appointment_id=state["appointment_id"], patient_id=state["patient_id"],
        given=given, language=lang(), now=utcnow(), kiosk_id=kiosk_id(),
        earlier=state.get("earlier_answers"))
    return raised, {g.asked.key: g.value for g in given}


def _pending_forms(session: Session, ctx: AppContext, appointment: Appointment) -> list[Any]:
    """The consent forms this patient still has to sign or decline here."""
    state = kiosk_state()
    pending = consent.forms_to_sign(session, appointment, language=lang(), now=utcnow(),
                                    day=clinic_today(ctx.settings.tz))
    skipped = set(state.get("consent_skipped", []))
    return [f for f in pending if f.form_key not in skipped]


def _finish_questions(ctx: AppContext, shown: list[Asked], answers: dict[str, Any],
                      stored: dict[str, Any]) -> None:
    """The last answer is in: store the answers and, when no consent is due, finish the
    check-in in the same transaction."""
    state = kiosk_state()
    now = utcnow()
    with session_scope(ctx.engine) as session:
        _, newly_stored = _store(session, shown, answers, stored)
        checkin.mark_step(session, state["check_in_id"], "questions", now)
        appointment = checkin.load_appointment(session, state["appointment_id"])
        completion = None
        if not _pending_forms(session, ctx, appointment):
            checkin.mark_step(session, state["check_in_id"], "consent", now)
            completion = finish.complete(session, ctx, state["check_in_id"])
    stored.update(newly_stored)
    if completion is None:
        go("consent")
    else:
        go("done", completion=completion)


def render_questions(ctx: AppContext) -> None:
    state = kiosk_state()
    asked, answers, stored = _question_set(ctx)
    shown = questions.visible(asked, answers)
    index = state.get("q_index", 0)
    if index >= len(shown):
        _finish_questions(ctx, shown, answers, stored)
        st.rerun()
    current = shown[index]
    screen_marker(f"question-{index}")
    st.caption(tr("questions.progress", n=index + 1, total=len(shown)))
    if state.get("urgent_notice"):
        st.error(tr("questions.urgent_notice"))
    earlier = state.get("earlier_answers", {})
    carried = current.key in earlier and current.key not in answers
    if carried:
        # Last visit's answer, ready: one tap if it is still right, or change it first.
        st.info(tr_plain("questions.last_time", answer=questions.answer_text(
            current.version, earlier[current.key], lang())))
    with st.form(f"question_form_{index}", border=False):
        raw = question_input(current, answers.get(current.key, earlier.get(current.key)),
                             lang())
        submitted = st.form_submit_button(tr("kiosk.next"), type="primary", width="stretch")
    if not current.version.required:
        st.caption(tr("questions.optional"))
    if submitted:
        try:
            value = questions.validate_answer(current.version, raw)
        except AnswerInvalid as exc:
            st.error(tr(exc.key, **exc.params))
        else:
            answers[current.key] = value
            if questions.triggered_rules(current.version, value):
                # An answer that raises a flag reaches the desk now, not at the last question.
                with session_scope(ctx.engine) as session:
                    raised, newly_stored = _store(session, [current], answers, stored)
                stored.update(newly_stored)
                if any(f.severity == FlagSeverity.URGENT for f in raised):
                    state["urgent_notice"] = True
            state["q_index"] = index + 1
            st.rerun()
    if index > 0:
        st.button(tr("kiosk.back"), key="question_back", width="stretch",
                  on_click=lambda: state.update(q_index=index - 1))
    help_button()


# The consent text's own scroll box, in px, on a landscape tablet (see render_consent).
CONSENT_TEXT_HEIGHT = 300

RELATIONSHIPS = (
    SignerRelationship.SELF,
    SignerRelationship.PARENT,
    SignerRelationship.GUARDIAN,
    SignerRelationship.LEGAL_REPRESENTATIVE,
)


def render_consent(ctx: AppContext) -> None:
    state = kiosk_state()
    today = clinic_today(ctx.settings.tz)
    now = utcnow()
    with session_scope(ctx.engine) as session:
        appointment = checkin.load_appointment(session, state["appointment_id"])
        pending = _pending_forms(session, ctx, appointment)
        minor = consent.is_minor(appointment.patient, today)
        child = appointment.patient.preferred_name or appointment.patient.legal_given_name
        completion = None
        if not pending:
            checkin.mark_step(session, state["check_in_id"], "consent", now)
            completion = finish.complete(session, ctx, state["check_in_id"])
    if not pending:
        go("done", completion=completion)
        st.rerun()
    form = pending[0]
    screen_marker(f"consent-{form.version_id}")
    if state.get("urgent_notice"):
        # The urgent answer may have been the last question: say it here too.
        st.error(tr("questions.urgent_notice"))
    st.title(form.title)
    # On a landscape tablet the whole form is in view: the text in its own box on the left
    # (the page itself does not scroll), who signs and the signature on the right, with the
    # button to sign. Upright, the kiosk's styling stacks the two.
    with st.container(key="consent_layout"):
        left, right = st.columns(2, gap="medium")
    with left:
        with st.container(border=True, height=CONSENT_TEXT_HEIGHT, key="consent_text"):
            st.markdown(form.body)
        options = [r for r in RELATIONSHIPS if not (minor and r == SignerRelationship.SELF)]
        labels = {r: tr(f"consent.rel_{r.value}") for r in options}
        # A parent signing for a child is asked how they are related to the child, by name.
        who = (tr_plain("consent.relationship_to", name=child) if minor
               else tr("consent.who_signs"))
        relationship = st.radio(who, options, key=f"consent_rel_{form.version_id}",
                                format_func=labels.get, horizontal=True)
        name = st.text_input(tr("consent.typed_name"), key=f"consent_name_{form.version_id}",
                             max_chars=200)
    with right:
        if minor:
            st.info(tr("consent.minor_note"))
        st.markdown(f"**{tr('consent.sign_here')}**")
        pad = state.setdefault("pad", 0)
        with st.container(key="signature_pad"):
            # 640x200 canvas pixels, shown as wide as the column (a phone's too): the
            # kiosk's styling scales it, and the stored signature keeps this size.
            drawing = st_canvas(stroke_width=3, stroke_color="#111827",
                                background_color="#FFFFFF", height=200, width=640,
                                drawing_mode="freedraw", return_image_data=True,
                                key=f"signature_{form.version_id}_{pad}")
        strokes = len((drawing.json_data or {}).get("objects", [])) if drawing else 0
        png = drawing.image_bytes if drawing is not None and strokes else None
        st.button(tr("consent.clear"), key="consent_clear", width="stretch",
                  on_click=lambda: state.update(pad=pad + 1))
        if st.button(tr("consent.sign_button"), key="consent_sign", type="primary",
                     width="stretch"):
            try:
                with session_scope(ctx.engine) as session:
                    appointment = checkin.load_appointment(session, state["appointment_id"])
                    consent.sign(session, appointment, form.version_id, signer_name=name,
                                 relationship=relationship, signature_png=png,
                                 stroke_count=strokes, language=lang(), now=utcnow(),
                                 day=today, kiosk_id=kiosk_id())
            except SignatureRefused as exc:
                st.error(tr(exc.key))
            else:
                # For the done screen: which forms were signed this time.
                state["signed_titles"] = [*state.get("signed_titles", []), form.title]
                st.rerun()
        if st.button(tr("consent.ask_desk"), key="consent_skip", width="stretch"):
            with session_scope(ctx.engine) as session:
                appointment = checkin.load_appointment(session, state["appointment_id"])
                consent.flag_unsigned(session, appointment, form, now=utcnow(),
                                      kiosk_id=kiosk_id())
            state["consent_skipped"] = [*state.get("consent_skipped", []), form.form_key]
            st.rerun()
        help_button()
