"""The clinic's kiosk questions at check-in: which apply to a visit, which are shown given
earlier answers, what a valid answer is, and which answers raise a flag at once.

Conditions look like {"question": "<earlier key>", "equals": value}; flag rules like
{"when": {"equals": v} | {"in": [...]} | {"at_least": n} | {"at_most": n},
 "flag": "<flag kind>", "severity": "info" | "warning" | "urgent"}.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from shared.errors import DomainError
from shared.i18n import t
from shared.models import (
    Answer,
    Appointment,
    Flag,
    FlagKind,
    FlagSeverity,
    KioskQuestion,
    KioskQuestionVersion,
    Language,
    QuestionType,
)
from shared.services import flags

MAX_TEXT = 500
Q = QuestionType


class AnswerInvalid(DomainError):
    key = "questions.error_invalid"


@dataclass(frozen=True)
class Asked:
    """A question as put to one patient: the exact version and its place."""

    key: str
    version: KioskQuestionVersion


def _applies(v: KioskQuestionVersion, appointment: Appointment) -> bool:
    return (
        (not v.visit_types or appointment.visit_type in v.visit_types)
        and (not v.provider_ids or appointment.provider_id in v.provider_ids)
        and (not v.location_ids or appointment.location_id in v.location_ids)
    )


def questions_for_visit(session: Session, appointment: Appointment) -> list[Asked]:
    """The active questions that apply to this visit, in the clinic's order, each in its
    published version: a draft a manager is still writing is never asked."""
    questions = session.scalars(
        select(KioskQuestion)
        .options(selectinload(KioskQuestion.versions))
        .where(KioskQuestion.active.is_(True))
        .order_by(KioskQuestion.position, KioskQuestion.id)
    ).all()
    published = [(q.key, q.published_version) for q in questions]
    return [Asked(key, v) for key, v in published if v is not None and _applies(v, appointment)]


def condition_holds(condition: dict[str, Any] | None, answers: dict[str, Any]) -> bool:
    if not condition:
        return True
    if condition.get("question") not in answers:
        return False
    given = answers[condition["question"]]
    expected = condition.get("equals")
    if isinstance(given, list):
        return expected in given
    return given == expected


def visible(asked: list[Asked], answers: dict[str, Any]) -> list[Asked]:
    """The questions to show, given the answers so far (a hidden question's answer counts
    for nothing)."""
    shown: list[Asked] = []
    effective: dict[str, Any] = {}
    for a in asked:
        if condition_holds(a.version.condition, effective):
            shown.append(a)
            if a.key in answers:
                effective[a.key] = answers[a.key]
    return shown


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise AnswerInvalid("not a number", key="questions.error_number")
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError as exc:
        raise AnswerInvalid("not a number", key="questions.error_number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise AnswerInvalid("not a number", key="questions.error_number")
    return value


def validate_answer(v: KioskQuestionVersion, raw: Any) -> Any:
    """The answer as stored (JSON), or None when an optional question is skipped.

    AnswerInvalid carries the catalog key of what is wrong."""
    empty = raw is None or raw == "" or raw == []
    if empty:
        if v.required:
            raise AnswerInvalid("required", key="questions.error_required")
        return None
    choice_values = [c["value"] for c in v.choices]
    match v.type:
        case Q.YES_NO:
            if not isinstance(raw, bool):
                raise AnswerInvalid("yes or no", key="questions.error_choice")
            return raw
        case Q.SINGLE_CHOICE:
            if raw not in choice_values:
                raise AnswerInvalid("choice", key="questions.error_choice")
            return raw
        case Q.MULTIPLE_CHOICE:
            values = list(raw) if isinstance(raw, list | tuple) else [raw]
            if any(x not in choice_values for x in values):
                raise AnswerInvalid("choice", key="questions.error_choice")
            return [c for c in choice_values if c in values]
        case Q.SHORT_TEXT:
            text = " ".join(str(raw).split())
            if len(text) > MAX_TEXT:
                raise AnswerInvalid("too long", key="questions.error_too_long", max=MAX_TEXT)
            if not text and v.required:
                raise AnswerInvalid("required", key="questions.error_required")
            return text or None
        case Q.NUMBER | Q.PAIN_SCALE:
            value = _number(raw)
            if v.type == Q.PAIN_SCALE and not value.is_integer():
                raise AnswerInvalid("whole number", key="questions.error_range", low="0",
                                    high="10")
            low, high = (0, 10) if v.type == Q.PAIN_SCALE else (v.min_value, v.max_value)
            if (low is not None and value < low) or (high is not None and value > high):
                raise AnswerInvalid("out of range", key="questions.error_range",
                                    low=_fmt(low), high=_fmt(high))
            return int(value) if value.is_integer() else value
        case Q.DATE:
            if isinstance(raw, datetime):  # a date, not a time: the kiosk reads it back as one
                raw = raw.date()
            if isinstance(raw, date):
                return raw.isoformat()
            try:
                return date.fromisoformat(str(raw)).isoformat()
            except ValueError as exc:
                raise AnswerInvalid("date", key="questions.error_date") from exc
    raise AnswerInvalid("unknown question type")


def _fmt(value: float | None) -> str:
    if value is None:
        return "…"
    return str(int(value)) if float(value).is_integer() else str(value)


def rule_matches(when: dict[str, Any], value: Any) -> bool:
    if value is None:
        return False
    values = value if isinstance(value, list) else [value]

    def same(a: Any, b: Any) -> bool:
        # True must not match 1, nor False 0: a yes/no rule is about a yes/no answer.
        return a == b and isinstance(a, bool) == isinstance(b, bool)

    if "equals" in when:
        return any(same(v, when["equals"]) for v in values)
    if "in" in when:
        return any(same(v, w) for v in values for w in when["in"])
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if "at_least" in when:
        return any(v >= when["at_least"] for v in numeric)
    if "at_most" in when:
        return any(v <= when["at_most"] for v in numeric)
    return False


def triggered_rules(v: KioskQuestionVersion, value: Any) -> list[tuple[FlagKind, FlagSeverity]]:
    return [
        (FlagKind(rule["flag"]), FlagSeverity(rule.get("severity", "warning")))
        for rule in v.flag_rules
        if rule_matches(rule.get("when", {}), value)
    ]


@dataclass(frozen=True)
class Given:
    """An answer to store: `stored` when this visit's answer to that version is saved already
    (it is replaced), else it is new."""

    asked: Asked
    value: Any
    stored: bool = False


def save_answers(
    session: Session,
    *,
    appointment_id: int,
    patient_id: int,
    given: list[Given],
    language: str,
    now: datetime,
    kiosk_id: str | None,
    earlier: dict[str, Any] | None = None,
) -> list[Flag]:
    """Store answers in one go (one INSERT for all the new ones, an UPDATE per replaced one)
    and raise every flag their rules call for. Returns the flags raised.

    `earlier` holds the carried-over answers the patient was shown ("Still right?"): an
    answer that differs from its earlier one is a change the desk sees (ANSWER_CHANGE).

    The kiosk stores an answer that raises a flag the moment it is given, so the desk hears
    of it at once, and the others together when the last question is answered."""
    fresh = [g for g in given if not g.stored]
    if fresh:
        session.execute(insert(Answer), [
            {"appointment_id": appointment_id, "question_version_id": g.asked.version.id,
             "value": g.value, "language": Language(language), "answered_at": now}
            for g in fresh])
    for g in given:
        if g.stored:
            session.execute(
                update(Answer)
                .where(Answer.appointment_id == appointment_id,
                       Answer.question_version_id == g.asked.version.id)
                .values(value=g.value, language=Language(language), answered_at=now)
                .execution_options(synchronize_session=False))
    raised = []
    for g in given:
        for kind, severity in triggered_rules(g.asked.version, g.value):
            raised.append(
                flags.raise_flag(
                    session, kind=kind, severity=severity, now=now,
                    patient_id=patient_id, appointment_id=appointment_id,
                    kiosk_id=kiosk_id, new_value={"question": g.asked.key, "answer": g.value},
                )
            )
        if earlier and g.asked.key in earlier and earlier[g.asked.key] != g.value:
            raised.append(flags.raise_flag(
                session, kind=FlagKind.ANSWER_CHANGE, severity=FlagSeverity.INFO, now=now,
                patient_id=patient_id, appointment_id=appointment_id, kiosk_id=kiosk_id,
                old_value={"question": g.asked.key, "answer": earlier[g.asked.key]},
                new_value={"question": g.asked.key, "answer": g.value}))
    return raised


def save_answer(
    session: Session,
    appointment: Appointment,
    asked: Asked,
    value: Any,
    *,
    language: str,
    now: datetime,
    kiosk_id: str | None,
) -> list[Flag]:
    """Store (or replace) the answer to this exact question version, and raise at once any
    flag its rules call for. Returns the flags raised."""
    stored = session.scalar(
        select(Answer.id).where(Answer.appointment_id == appointment.id,
                                Answer.question_version_id == asked.version.id)
    ) is not None
    return save_answers(session, appointment_id=appointment.id,
                        patient_id=appointment.patient_id,
                        given=[Given(asked, value, stored)], language=language, now=now,
                        kiosk_id=kiosk_id)


def saved_answers(session: Session, appointment_id: int) -> dict[str, Any]:
    """This visit's answers so far, by question key."""
    rows = session.execute(
        select(KioskQuestion.key, Answer.value)
        .join(KioskQuestionVersion, Answer.question_version_id == KioskQuestionVersion.id)
        .join(KioskQuestion, KioskQuestionVersion.question_id == KioskQuestion.id)
        .where(Answer.appointment_id == appointment_id)
    ).all()
    return {r.key: r.value for r in rows}


def answers_for_visit(session: Session, appointment: Appointment
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """This visit's answers so far, and the patient's latest earlier answers to questions
    that carry over (by key, for the ones not answered yet this visit), in one query."""
    rows = session.execute(
        select(KioskQuestion.key, Answer.appointment_id, Answer.value)
        .join(KioskQuestionVersion, Answer.question_version_id == KioskQuestionVersion.id)
        .join(KioskQuestion, KioskQuestionVersion.question_id == KioskQuestion.id)
        .join(Appointment, Answer.appointment_id == Appointment.id)
        .where(Appointment.patient_id == appointment.patient_id,
               (Answer.appointment_id == appointment.id) | KioskQuestion.carry_over.is_(True))
        .order_by(Answer.answered_at.desc(), Answer.id.desc())
    ).all()
    saved: dict[str, Any] = {}
    earlier: dict[str, Any] = {}
    for key, appointment_id, value in rows:
        if appointment_id == appointment.id:
            saved[key] = value
        else:
            earlier.setdefault(key, value)  # the latest first
    return saved, earlier


def answer_text(version: KioskQuestionVersion, value: Any, language: str) -> str:
    """An answer as the patient or the desk reads it: yes or no, a choice's label, the
    labels of several choices, or the value itself."""
    labels = {c["value"]: c.get(language) or c.get("en") or c["value"] for c in version.choices}
    if isinstance(value, bool):
        return t("kiosk.yes" if value else "kiosk.no", language)
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) for v in value) or t("questions.none", language)
    if value is None or value == "":
        return t("questions.none", language)
    return str(labels.get(value, value))


def describe_answer_change(session: Session, old_value: dict[str, Any] | None,
                           new_value: dict[str, Any] | None, language: str
                           ) -> tuple[str, str, str]:
    """An ANSWER_CHANGE flag in the desk's words: the question as patients are asked it
    (its key when it is gone), the earlier answer and the new one."""
    key = str((new_value or old_value or {}).get("question", ""))
    question = session.scalar(select(KioskQuestion).where(KioskQuestion.key == key))
    version = question.published_version if question is not None else None
    if version is None:
        return key, str((old_value or {}).get("answer")), str((new_value or {}).get("answer"))
    return (version.text(language), answer_text(version, (old_value or {}).get("answer"),
                                                language),
            answer_text(version, (new_value or {}).get("answer"), language))
