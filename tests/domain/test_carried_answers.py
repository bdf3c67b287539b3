"""Answers that carry over to the next visit (issue 16): a manager marks the question, the
patient sees the last answer with "Still right?", and a change reaches the desk."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import AuditEvent, Flag, FlagKind, FlagSeverity, QuestionType
from shared.services import question_admin, questions
from shared.services.questions import Asked, Given
from tests.factories import (
    DEFAULT_START,
    make_appointment,
    make_patient,
    make_question,
    make_staff_user,
)

PHARMACY = [{"value": "corner", "en": "Corner Drugs", "es": "Farmacia de la esquina"},
            {"value": "mail", "en": "By mail", "es": "Por correo"}]
LAST_MONTH = DEFAULT_START - timedelta(days=30)
LAST_WEEK = DEFAULT_START - timedelta(days=7)


def _answer(session: Session, appointment, asked: Asked, value, at) -> None:
    questions.save_answers(session, appointment_id=appointment.id,
                           patient_id=appointment.patient_id, given=[Given(asked, value)],
                           language="en", now=at, kiosk_id="kiosk-1")


def _asked(question) -> Asked:
    return Asked(question.key, question.versions[-1])


def test_the_latest_earlier_answer_of_a_carried_over_question_is_offered(
        session: Session) -> None:
    patient = make_patient(session)
    pharmacy = make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    pain = make_question(session, "pain_today", QuestionType.PAIN_SCALE)
    pharmacy.carry_over = True
    older = make_appointment(session, patient=patient, start=LAST_MONTH)
    last = make_appointment(session, patient=patient, start=LAST_WEEK)
    today = make_appointment(session, patient=patient)
    _answer(session, older, _asked(pharmacy), "mail", LAST_MONTH)
    _answer(session, last, _asked(pharmacy), "corner", LAST_WEEK)
    _answer(session, last, _asked(pain), 7, LAST_WEEK)  # not carried over: today's pain

    saved, earlier = questions.answers_for_visit(session, today)
    assert (saved, earlier) == ({}, {"pharmacy": "corner"})


def test_another_patients_answers_never_carry_over(session: Session) -> None:
    pharmacy = make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    pharmacy.carry_over = True
    someone_else = make_appointment(session, start=LAST_WEEK)
    _answer(session, someone_else, _asked(pharmacy), "mail", LAST_WEEK)
    assert questions.answers_for_visit(session, make_appointment(session)) == ({}, {})


def test_this_visits_answer_is_saved_not_earlier(session: Session) -> None:
    patient = make_patient(session)
    pharmacy = make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    pharmacy.carry_over = True
    last = make_appointment(session, patient=patient, start=LAST_WEEK)
    today = make_appointment(session, patient=patient)
    _answer(session, last, _asked(pharmacy), "corner", LAST_WEEK)
    _answer(session, today, _asked(pharmacy), "mail", DEFAULT_START)
    saved, earlier = questions.answers_for_visit(session, today)
    assert saved == {"pharmacy": "mail"} and earlier == {"pharmacy": "corner"}


def test_a_changed_carried_over_answer_is_a_change_for_the_desk(session: Session) -> None:
    pharmacy = make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    today = make_appointment(session)
    questions.save_answers(session, appointment_id=today.id, patient_id=today.patient_id,
                           given=[Given(_asked(pharmacy), "mail")], language="en",
                           now=DEFAULT_START, kiosk_id="kiosk-1",
                           earlier={"pharmacy": "corner"})
    [flag] = session.scalars(select(Flag).where(Flag.kind == FlagKind.ANSWER_CHANGE)).all()
    assert flag.severity == FlagSeverity.INFO
    assert flag.old_value == {"question": "pharmacy", "answer": "corner"}
    assert flag.new_value == {"question": "pharmacy", "answer": "mail"}


def test_a_carried_over_answer_kept_as_it_was_raises_nothing(session: Session) -> None:
    pharmacy = make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    today = make_appointment(session)
    raised = questions.save_answers(
        session, appointment_id=today.id, patient_id=today.patient_id,
        given=[Given(_asked(pharmacy), "corner")], language="en", now=DEFAULT_START,
        kiosk_id="kiosk-1", earlier={"pharmacy": "corner"})
    assert raised == []


def test_a_manager_marks_a_question_to_carry_over_and_it_is_audited(session: Session) -> None:
    make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    manager = make_staff_user(session)
    question_admin.set_carry_over(session, "pharmacy", True, staff_user_id=manager.id)
    question_admin.set_carry_over(session, "pharmacy", True, staff_user_id=manager.id)
    [status] = question_admin.overview(session)
    assert status.carry_over is True
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.record_type == "kiosk_question")).all()
    assert actions == ["question.carry_over_on"]  # once: the second press changed nothing


def test_answers_are_told_in_words_in_the_patients_language(session: Session) -> None:
    pharmacy = make_question(session, "pharmacy", QuestionType.SINGLE_CHOICE, choices=PHARMACY)
    version = pharmacy.versions[-1]
    assert questions.answer_text(version, "corner", "es") == "Farmacia de la esquina"
    assert questions.answer_text(version, True, "es") == "Sí"
    assert questions.answer_text(version, ["corner", "mail"], "en") == "Corner Drugs, By mail"
    assert questions.answer_text(version, [], "en") == "none"
    assert questions.answer_text(version, "penicillin", "en") == "penicillin"
