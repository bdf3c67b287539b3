"""Managers tune the kiosk's questions: definitions validated before they reach a patient,
edits as new versions (answers keep the wording the patient saw), saved as a draft that no
patient is asked until it is published, Spanish marked out of date when the English changed
under it, reordering, deactivation, and a JSON export/import to copy a question set between
clinics."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.errors import DomainError
from shared.models import (
    FlagKind,
    FlagSeverity,
    KioskQuestion,
    KioskQuestionVersion,
    QuestionType,
    utcnow,
)
from shared.services import audit
from shared.services.translation import outdated_parts

Q = QuestionType
KEY = re.compile(r"[a-z][a-z0-9_]{1,59}")
CHOICE_TYPES = (Q.SINGLE_CHOICE, Q.MULTIPLE_CHOICE)
RULE_OPERATORS = ("equals", "in", "at_least", "at_most")
EXPORT_FORMAT = "checkin-questions/1"
# The longest question, help or choice text a patient is asked to read on the kiosk.
MAX_TEXT = 1000


class DefinitionInvalid(DomainError):
    key = "questions_admin.invalid"


@dataclass
class QuestionDefinition:
    """What a manager edits; the same shape is exported as JSON."""

    key: str
    type: str
    text_en: str
    text_es: str = ""
    help_en: str = ""
    help_es: str = ""
    required: bool = False
    choices: list[dict[str, str]] = field(default_factory=list)
    min_value: float | None = None
    max_value: float | None = None
    visit_types: list[str] = field(default_factory=list)
    provider_ids: list[int] = field(default_factory=list)
    location_ids: list[int] = field(default_factory=list)
    condition: dict[str, Any] | None = None
    flag_rules: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_version(cls, key: str, v: KioskQuestionVersion) -> QuestionDefinition:
        return cls(key=key, type=v.type.value, text_en=v.text_en, text_es=v.text_es,
                   help_en=v.help_en, help_es=v.help_es, required=v.required,
                   choices=list(v.choices), min_value=v.min_value, max_value=v.max_value,
                   visit_types=list(v.visit_types), provider_ids=list(v.provider_ids),
                   location_ids=list(v.location_ids), condition=v.condition,
                   flag_rules=list(v.flag_rules))


def _fail(problem: str, key: str, question: str) -> DefinitionInvalid:
    return DefinitionInvalid(f"{question}: {problem}", key=key, question=question)


def validate_definition(d: QuestionDefinition, *, spanish: bool) -> None:
    """One question on its own: refused with a clear message before any patient sees it."""
    if not KEY.fullmatch(d.key or ""):
        raise _fail("bad key", "questions_admin.bad_key", d.key or "?")
    try:
        qtype = QuestionType(d.type)
    except ValueError:
        raise _fail("type", "questions_admin.bad_type", d.key) from None
    if not d.text_en.strip():
        raise _fail("text", "questions_admin.no_text", d.key)
    if spanish and not d.text_es.strip():
        raise _fail("spanish", "questions_admin.no_spanish", d.key)
    texts = [d.text_en, d.text_es, d.help_en, d.help_es,
             *(str(text) for c in d.choices for text in c.values())]
    if any(len(text) > MAX_TEXT for text in texts):
        raise _fail("text too long", "questions_admin.invalid", d.key)
    if qtype in CHOICE_TYPES:
        values = [c.get("value", "") for c in d.choices]
        if len(values) < 2 or any(not v or not c.get("en") for v, c in zip(values, d.choices,
                                                                           strict=True)):
            raise _fail("choices", "questions_admin.no_choices", d.key)
        if len(set(values)) != len(values):
            raise _fail("duplicate choices", "questions_admin.duplicate_choices", d.key)
        if spanish and any(not c.get("es") for c in d.choices):
            raise _fail("spanish choices", "questions_admin.no_spanish", d.key)
    elif d.choices:
        raise _fail("choices on a non-choice question", "questions_admin.no_choices", d.key)
    if qtype == Q.NUMBER and d.min_value is not None and d.max_value is not None \
            and d.min_value > d.max_value:
        raise _fail("bounds", "questions_admin.bad_bounds", d.key)
    for rule in d.flag_rules:
        when = rule.get("when") or {}
        if len(when) != 1 or next(iter(when)) not in RULE_OPERATORS:
            raise _fail("rule", "questions_admin.bad_rule", d.key)
        operator, operand = next(iter(when.items()))
        if (operator == "in" and not isinstance(operand, list)) or (
                operator in ("at_least", "at_most") and not _is_number(operand)):
            raise _fail("rule value", "questions_admin.bad_rule", d.key)
        try:
            FlagKind(rule.get("flag"))
            FlagSeverity(rule.get("severity", "warning"))
        except ValueError:
            raise _fail("rule flag", "questions_admin.bad_rule", d.key) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _can_answer(target: QuestionDefinition, value: Any) -> bool:
    """Whether `value` is an answer the target question can store, so a condition on it can
    hold (a follow-up that could never be shown is refused)."""
    if target.type == Q.YES_NO:
        return isinstance(value, bool)
    if target.type in CHOICE_TYPES:
        return isinstance(value, str) and value in [c.get("value") for c in target.choices]
    if target.type in (Q.NUMBER, Q.PAIN_SCALE):
        return _is_number(value)
    return isinstance(value, str)


def validate_set(definitions: list[QuestionDefinition], *, spanish: bool) -> None:
    """The whole ordered set: every question, unique keys, and conditions that point at an
    earlier question (which also rules out cycles)."""
    seen: dict[str, QuestionDefinition] = {}
    for d in definitions:
        validate_definition(d, spanish=spanish)
        for rule in d.flag_rules:
            # A rule that no answer can match would never warn the desk: refuse it.
            (operator, value), = rule["when"].items()
            values = value if operator == "in" else [value]
            if operator in ("equals", "in") and not all(_can_answer(d, v) for v in values):
                raise _fail("rule value", "questions_admin.bad_rule", d.key)
        if d.key in seen:
            raise _fail("duplicate key", "questions_admin.duplicate_key", d.key)
        if d.condition:
            target = d.condition.get("question")
            if target == d.key:
                raise _fail("cycle", "questions_admin.condition_cycle", d.key)
            if target not in seen:
                raise _fail("condition", "questions_admin.condition_later", d.key)
            if "equals" not in d.condition:
                raise _fail("condition", "questions_admin.condition_later", d.key)
            if not _can_answer(seen[target], d.condition["equals"]):
                raise _fail("condition value", "questions_admin.invalid", d.key)
        seen[d.key] = d


def _questions(session: Session, *, include_inactive: bool = False) -> list[KioskQuestion]:
    query = (select(KioskQuestion).options(selectinload(KioskQuestion.versions))
             .order_by(KioskQuestion.position, KioskQuestion.id))
    if not include_inactive:
        query = query.where(KioskQuestion.active.is_(True))
    return [q for q in session.scalars(query) if q.versions]


def current_set(session: Session, *, include_inactive: bool = False
                ) -> list[tuple[KioskQuestion, QuestionDefinition]]:
    """The set a manager works on: each question's latest version, a draft included."""
    return [(q, QuestionDefinition.from_version(q.key, q.current))
            for q in _questions(session, include_inactive=include_inactive)]


def published_set(session: Session) -> list[tuple[KioskQuestion, QuestionDefinition]]:
    """The set patients are asked: each active question's published version (a question that
    is only a draft so far is left out)."""
    return [(q, QuestionDefinition.from_version(q.key, published))
            for q in _questions(session)
            if (published := q.published_version) is not None]


# --- Spanish written for an older English ---------------------------------------------------


def _question_parts(v: KioskQuestionVersion | QuestionDefinition) -> dict[str, tuple[str, str]]:
    parts = {"text": (v.text_en, v.text_es), "help": (v.help_en, v.help_es)}
    for choice in v.choices:
        parts[f"choice:{choice.get('value', '')}"] = (choice.get("en", ""), choice.get("es", ""))
    return parts


def spanish_outdated(versions: Sequence[KioskQuestionVersion]) -> list[str]:
    """Where the latest of these versions (one question's, oldest first) has Spanish written
    for an English since changed: "text", "help" or "choice:<value>". It stays so, version
    after version, until someone saves that Spanish."""
    return outdated_parts([_question_parts(v) for v in versions])


@dataclass(frozen=True)
class QuestionStatus:
    """One question as the managers' list shows it."""

    key: str
    definition: QuestionDefinition  # the latest version: a draft, if there is one
    version: int
    draft: bool  # the latest version is a draft: patients are still asked `published`
    published: QuestionDefinition | None  # what patients are asked (None: only a draft)
    spanish_outdated: list[str]
    active: bool = True  # False: deactivated, with a draft that would bring it back
    carry_over: bool = False  # the answer is shown again at the next visit ("Still right?")


def overview(session: Session) -> list[QuestionStatus]:
    """The active questions in the clinic's order, each with its draft and Spanish state;
    a deactivated question with a draft waiting to bring it back comes too, as a draft."""
    statuses = []
    for q in _questions(session, include_inactive=True):
        if not q.active and q.draft_version is None:
            continue
        latest = q.current
        published = q.published_version if q.active else None
        statuses.append(QuestionStatus(
            key=q.key, definition=QuestionDefinition.from_version(q.key, latest),
            version=latest.version, draft=latest.draft,
            published=None if published is None
            else QuestionDefinition.from_version(q.key, published),
            spanish_outdated=spanish_outdated(q.versions), active=q.active,
            carry_over=q.carry_over))
    # A deactivated question comes back last when its draft is published: listed there.
    return sorted(statuses, key=lambda status: not status.active)


# --- Writing versions -----------------------------------------------------------------------


def _fill(version: KioskQuestionVersion, d: QuestionDefinition) -> None:
    version.type = QuestionType(d.type)
    version.text_en, version.text_es = d.text_en.strip(), d.text_es.strip()
    version.help_en, version.help_es = d.help_en.strip(), d.help_es.strip()
    version.required = d.required
    version.choices = list(d.choices)
    version.min_value, version.max_value = d.min_value, d.max_value
    version.visit_types = list(d.visit_types)
    version.provider_ids = list(d.provider_ids)
    version.location_ids = list(d.location_ids)
    version.condition = d.condition
    version.flag_rules = list(d.flag_rules)


def _new_version(session: Session, question: KioskQuestion, d: QuestionDefinition,
                 staff_user_id: int | None, *, draft: bool = False) -> KioskQuestionVersion:
    number = (question.versions[-1].version + 1) if question.versions else 1
    version = KioskQuestionVersion(question=question, version=number, created_at=utcnow(),
                                   created_by_id=staff_user_id, draft=draft)
    _fill(version, d)
    session.add(version)
    return version


def _write(session: Session, question: KioskQuestion, d: QuestionDefinition,
           staff_user_id: int | None, *, publish: bool) -> bool:
    """Put `d` on the question: as its draft (written over the draft there is: no patient
    was asked it, so no answer points at it) or published. A definition equal to the
    published one needs no version, and a draft back to it is dropped. Whether anything
    changed."""
    published, draft = question.published_version, question.draft_version
    if published is not None and QuestionDefinition.from_version(question.key, published) == d:
        if draft is None:
            return False
        question.versions.remove(draft)
        session.delete(draft)
        return True
    if draft is not None:
        if QuestionDefinition.from_version(question.key, draft) != d:
            _fill(draft, d)
            draft.created_at, draft.created_by_id = utcnow(), staff_user_id
        elif not publish:
            return False
        draft.draft = not publish
        return True
    _new_version(session, question, d, staff_user_id, draft=not publish)
    return True


def _in_place(pairs: list[tuple[KioskQuestion, QuestionDefinition]], d: QuestionDefinition
              ) -> list[QuestionDefinition]:
    """The set with `d` in its question's place, or last when it is new there."""
    proposed = [d if q.key == d.key else old for q, old in pairs]
    if d.key not in [q.key for q, _ in pairs]:
        proposed.append(d)
    return proposed


def _check_publishable(session: Session, d: QuestionDefinition, *, spanish: bool) -> None:
    """The set patients would be asked with `d` published must hold: a condition may only
    point at a question patients are asked already, not at another draft."""
    published = published_set(session)
    target = (d.condition or {}).get("question")
    if target and target not in [q.key for q, _ in published] and target in [
            q.key for q, _ in current_set(session)]:
        raise _fail("condition on a draft", "questions_admin.depends_on_draft", d.key)
    validate_set(_in_place(published, d), spanish=spanish)


def save_question(session: Session, d: QuestionDefinition, *, spanish: bool,
                  staff_user_id: int | None, publish: bool = True) -> KioskQuestion:
    """Create a question, or edit one, as a draft or published at once. The whole set is
    checked with the change in place before anything is written (the set being written,
    and when publishing the set patients will be asked). Patients are asked a draft only once
    it is published; a published edit is a new version, so answers keep their wording. A
    draft may leave the Spanish for later, while the clinic offers Spanish; publishing asks
    for it."""
    existing = current_set(session)
    # A draft may wait for its Spanish: it is asked for in the set patients will be asked.
    validate_set(_in_place(existing, d), spanish=False)
    question = session.scalar(select(KioskQuestion).where(KioskQuestion.key == d.key))
    if publish:
        _check_publishable(session, d, spanish=spanish)
    end = max((q.position for q, _ in existing), default=0) + 1
    if question is None:
        question = KioskQuestion(key=d.key, position=end, active=True)
        session.add(question)
        session.flush()
    elif not question.active and publish:
        # Validated above as the last question, so that is where it comes back. (A draft
        # leaves it out of the kiosk until it is published.)
        _bring_back(session, question)
    if not _write(session, question, d, staff_user_id, publish=publish):
        return question  # nothing changed: no new version
    session.flush()
    latest = question.versions[-1]
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="question.draft_saved" if latest.draft else "question.saved",
                 record_type="kiosk_question", record_id=question.id,
                 detail={"question_version_id": latest.id})
    return question


def _bring_back(session: Session, question: KioskQuestion) -> None:
    """A deactivated question asked again comes last."""
    question.position = max(
        (q.position for q in _questions(session) if q.id != question.id), default=0) + 1
    question.active = True


def _question(session: Session, key: str) -> KioskQuestion:
    question = session.scalar(select(KioskQuestion).where(KioskQuestion.key == key))
    if question is None:
        raise _fail("unknown", "questions_admin.bad_key", key)
    return question


def publish(session: Session, key: str, *, spanish: bool, staff_user_id: int | None
            ) -> KioskQuestionVersion:
    """Publish a question's draft: patients are asked it from their next check-in on."""
    question = _question(session, key)
    draft = question.draft_version
    if draft is None:
        raise _fail("no draft", "questions_admin.no_draft", key)
    definition = QuestionDefinition.from_version(key, draft)
    validate_set(_in_place(current_set(session), definition), spanish=False)
    _check_publishable(session, definition, spanish=spanish)
    if not question.active:
        _bring_back(session, question)
    draft.draft = False
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="question.published", record_type="kiosk_question",
                 record_id=question.id, detail={"question_version_id": draft.id})
    return draft


def discard_draft(session: Session, key: str, *, staff_user_id: int | None) -> None:
    """Drop a question's draft; patients go on being asked the published version. A question
    that was only ever a draft has nothing left to ask and leaves the list."""
    question = _question(session, key)
    draft = question.draft_version
    if draft is None:
        raise _fail("no draft", "questions_admin.no_draft", key)
    if question.published_version is None:
        question.active = False  # nothing left to ask
    question.versions.remove(draft)
    session.delete(draft)
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="question.draft_discarded", record_type="kiosk_question",
                 record_id=question.id)


def deactivate(session: Session, key: str, *, staff_user_id: int | None) -> None:
    """A question in use is deactivated, never deleted; a later one that depends on it is
    refused first (in the set being written, and in the set patients are asked)."""
    for pairs in (current_set(session), published_set(session)):
        dependents = [d.key for q, d in pairs
                      if q.key != key and (d.condition or {}).get("question") == key]
        if dependents:
            raise _fail("in use by a condition", "questions_admin.has_dependents",
                        dependents[0])
    question = _question(session, key)
    question.active = False
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="question.deactivated", record_type="kiosk_question",
                 record_id=question.id)


def set_carry_over(session: Session, key: str, carry_over: bool, *,
                   staff_user_id: int | None) -> None:
    """Whether the question's answer carries over to the patient's next visit (shown with
    "Still right?"). On the question, so it holds for every version."""
    question = _question(session, key)
    if question.carry_over == carry_over:
        return
    question.carry_over = carry_over
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="question.carry_over_on" if carry_over else "question.carry_over_off",
                 record_type="kiosk_question", record_id=question.id)


def move(session: Session, key: str, offset: int, *, staff_user_id: int | None) -> None:
    """Move a question up (-1) or down (+1); a move that would put a question before the one
    its condition depends on is refused, whether in a draft or in what patients are asked."""
    pairs = current_set(session)
    keys = [q.key for q, _ in pairs]
    if key not in keys:
        raise _fail("unknown", "questions_admin.bad_key", key)
    i = keys.index(key)
    j = i + offset
    if not 0 <= j < len(keys):
        return
    reordered = list(pairs)
    reordered[i], reordered[j] = reordered[j], reordered[i]
    validate_set([d for _, d in reordered], spanish=False)
    published = {q.key: d for q, d in published_set(session)}
    validate_set([published[q.key] for q, _ in reordered if q.key in published], spanish=False)
    for position, (question, _) in enumerate(reordered, start=1):
        question.position = position
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="question.moved",
                 record_type="kiosk_question", record_id=pairs[i][0].id)


def export_json(session: Session) -> str:
    """The set patients are asked, as a file (drafts stay in this clinic)."""
    return json.dumps(
        {"format": EXPORT_FORMAT, "questions": [asdict(d) for _, d in published_set(session)]},
        ensure_ascii=False, indent=2,
    )


def parse_import(raw: bytes | str) -> list[QuestionDefinition]:
    """Read an exported file; anything unreadable is refused as a whole."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8; absurdly deep nesting
        raise DefinitionInvalid("not JSON", key="questions_admin.bad_file", question="") from exc
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or not isinstance(
            data.get("questions"), list):
        raise DefinitionInvalid("format", key="questions_admin.bad_file", question="")
    known = set(QuestionDefinition.__dataclass_fields__)
    definitions = []
    for item in data["questions"]:
        if not isinstance(item, dict) or not set(item) <= known or "key" not in item:
            raise DefinitionInvalid("item", key="questions_admin.bad_file", question="")
        try:
            definition = QuestionDefinition(**item)
        except TypeError as exc:
            raise DefinitionInvalid("item", key="questions_admin.bad_file",
                                    question="") from exc
        if not _well_typed(definition):
            raise DefinitionInvalid("item", key="questions_admin.bad_file", question="")
        definitions.append(definition)
    return definitions


def _well_typed(d: QuestionDefinition) -> bool:
    """Each field of a definition read from a file has the JSON type the editor gives it."""

    def strings(values: Any) -> bool:
        return isinstance(values, list) and all(isinstance(v, str) for v in values)

    def ids(values: Any) -> bool:
        return isinstance(values, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in values)

    return (
        all(isinstance(text, str)
            for text in (d.key, d.type, d.text_en, d.text_es, d.help_en, d.help_es))
        and isinstance(d.required, bool)
        and isinstance(d.choices, list)
        and all(isinstance(c, dict) and strings(list(c.values())) for c in d.choices)
        and all(bound is None or _is_number(bound) for bound in (d.min_value, d.max_value))
        and strings(d.visit_types) and ids(d.provider_ids) and ids(d.location_ids)
        and (d.condition is None or (isinstance(d.condition, dict)
                                     and isinstance(d.condition.get("question"), str)))
        and isinstance(d.flag_rules, list)
        and all(isinstance(r, dict) and isinstance(r.get("when", {}), dict)
                for r in d.flag_rules)
    )


def import_set(session: Session, raw: bytes | str, *, spanish: bool,
               staff_user_id: int | None) -> int:
    """Replace the active question set with the file's, published: validated whole before any
    change. Questions missing from the file are deactivated, never deleted; a draft of a
    question in the file gives way to the file's version."""
    definitions = parse_import(raw)
    validate_set(definitions, spanish=spanish)
    incoming = {d.key for d in definitions}
    for question, _ in current_set(session):
        if question.key not in incoming:
            question.active = False
    for position, d in enumerate(definitions, start=1):
        question = session.scalar(select(KioskQuestion).where(KioskQuestion.key == d.key))
        if question is None:
            question = KioskQuestion(key=d.key, position=position, active=True)
            session.add(question)
            session.flush()
            _new_version(session, question, d, staff_user_id)
        else:
            _write(session, question, d, staff_user_id, publish=True)
            question.active = True
            question.position = position
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="question.imported", record_type="kiosk_question",
                 detail={"count": len(definitions)})
    return len(definitions)
