"""Managers tune the kiosk's questions: a definition is refused before a patient could see a
broken question, an edit is a new version (an answer keeps the wording the patient saw),
questions are reordered and deactivated but never deleted, and a question set travels between
clinics as a JSON file that is checked whole before anything changes."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.demo import _create_questions
from shared.i18n import CATALOGS, t
from shared.models import (
    Answer,
    Appointment,
    AuditEvent,
    KioskQuestion,
    KioskQuestionVersion,
    StaffRole,
    StaffUser,
)
from shared.services.question_admin import (
    EXPORT_FORMAT,
    DefinitionInvalid,
    QuestionDefinition,
    current_set,
    deactivate,
    discard_draft,
    export_json,
    import_set,
    move,
    overview,
    publish,
    published_set,
    save_question,
    validate_definition,
    validate_set,
)
from shared.services.questions import Asked, questions_for_visit, save_answer, saved_answers
from shared.services.translation import outdated_parts
from tests.factories import DEFAULT_START, make_appointment, make_staff_user

NOW = DEFAULT_START - timedelta(minutes=6)
KIOSK = "kiosk-1"


# --- The clinic's questions, as a manager writes them ----------------------------------------


def chest_pain(**changes: Any) -> QuestionDefinition:
    d = QuestionDefinition(
        key="chest_pain", type="yes_no",
        text_en="Do you have chest pain or trouble breathing right now?",
        text_es="¿Tiene dolor de pecho o dificultad para respirar en este momento?",
        help_en="If yes, please also tell the front desk right away.",
        help_es="Si la respuesta es sí, avise también en la recepción de inmediato.",
        required=True,
        flag_rules=[{"when": {"equals": True}, "flag": "urgent_answer", "severity": "urgent"}],
    )
    return replace(d, **changes)


def new_allergies(**changes: Any) -> QuestionDefinition:
    d = QuestionDefinition(
        key="new_allergies", type="yes_no", text_en="Do you have any new allergies?",
        text_es="¿Tiene alguna alergia nueva?", required=True,
    )
    return replace(d, **changes)


def allergy_details(**changes: Any) -> QuestionDefinition:
    d = QuestionDefinition(
        key="new_allergy_details", type="short_text", text_en="Which new allergies?",
        text_es="¿Qué alergias nuevas tiene?",
        condition={"question": "new_allergies", "equals": True},
    )
    return replace(d, **changes)


def summary_delivery(**changes: Any) -> QuestionDefinition:
    d = QuestionDefinition(
        key="visit_summary_delivery", type="single_choice",
        text_en="How would you like to receive your visit summary?",
        text_es="¿Cómo quiere recibir el resumen de su visita?",
        required=True,
        choices=[
            {"value": "portal", "en": "Patient portal", "es": "Portal del paciente"},
            {"value": "print", "en": "Printed copy", "es": "Copia impresa"},
            {"value": "email", "en": "Email", "es": "Correo electrónico"},
        ],
    )
    return replace(d, **changes)


def pain_level(**changes: Any) -> QuestionDefinition:
    d = QuestionDefinition(
        key="pain_level", type="pain_scale", text_en="How much pain are you in right now?",
        text_es="¿Cuánto dolor tiene en este momento?", required=True,
        flag_rules=[{"when": {"at_least": 8}, "flag": "urgent_answer", "severity": "warning"}],
    )
    return replace(d, **changes)


def weight(**changes: Any) -> QuestionDefinition:
    d = QuestionDefinition(
        key="weight_lb", type="number", text_en="About how much do you weigh, in pounds?",
        text_es="¿Cuánto pesa más o menos, en libras?", min_value=2, max_value=900,
    )
    return replace(d, **changes)


def clinic_set() -> list[QuestionDefinition]:
    return [chest_pain(), new_allergies(), allergy_details(), summary_delivery()]


@pytest.fixture
def manager(session: Session) -> StaffUser:
    return make_staff_user(session, "Grace Whitfield", username="grace.manager",
                           role=StaffRole.MANAGER)


def save(session: Session, d: QuestionDefinition, manager: StaffUser, *,
         spanish: bool = True) -> KioskQuestion:
    return save_question(session, d, spanish=spanish, staff_user_id=manager.id)


def save_all(session: Session, definitions: list[QuestionDefinition],
             manager: StaffUser) -> None:
    for d in definitions:
        save(session, d, manager)
    session.commit()


def active_keys(session: Session) -> list[str]:
    return [q.key for q, _ in current_set(session)]


def stored(session: Session) -> dict[str, Any]:
    """Everything a refused change must leave alone, read back in a fresh session."""
    with Session(session.get_bind()) as fresh:
        questions = fresh.execute(
            select(KioskQuestion.key, KioskQuestion.active, KioskQuestion.position)
            .order_by(KioskQuestion.key)
        ).all()
        versions = fresh.execute(
            select(KioskQuestionVersion.id, KioskQuestionVersion.question_id,
                   KioskQuestionVersion.version, KioskQuestionVersion.text_en)
            .order_by(KioskQuestionVersion.id)
        ).all()
        return {
            "questions": [tuple(r) for r in questions],
            "versions": [tuple(r) for r in versions],
            "answers": fresh.scalar(select(func.count()).select_from(Answer)),
            "audit": fresh.scalar(select(func.count()).select_from(AuditEvent)),
        }


def refused(exc: pytest.ExceptionInfo[DefinitionInvalid], key: str, question: str) -> None:
    """Refused for the stated reason, with a message the manager can read in both languages."""
    assert exc.value.key == key
    assert exc.value.params["question"] == question
    for lang in CATALOGS:
        message = t(exc.value.key, lang, **exc.value.params)
        assert key in CATALOGS[lang] and "{" not in message


# --- One definition on its own -----------------------------------------------------------------


def _one_choice() -> QuestionDefinition:
    return summary_delivery(choices=[{"value": "portal", "en": "Patient portal", "es": "Portal"}])


REFUSED_DEFINITIONS = [
    ("key with capitals and a dash", chest_pain(key="Chest-Pain"), False,
     "questions_admin.bad_key"),
    ("key of one letter", chest_pain(key="c"), False, "questions_admin.bad_key"),
    ("key starting with a digit", chest_pain(key="2nd_visit"), False, "questions_admin.bad_key"),
    ("key with a space", chest_pain(key="chest pain"), False, "questions_admin.bad_key"),
    ("key too long for the column", chest_pain(key="q" * 61), False, "questions_admin.bad_key"),
    ("unknown question type", chest_pain(type="essay"), False, "questions_admin.bad_type"),
    ("no English text", chest_pain(text_en="   "), False, "questions_admin.no_text"),
    ("no Spanish text though Spanish is offered", chest_pain(text_es=""), True,
     "questions_admin.no_spanish"),
    ("a choice without Spanish though Spanish is offered",
     summary_delivery(choices=[{"value": "portal", "en": "Patient portal", "es": "Portal"},
                               {"value": "print", "en": "Printed copy", "es": ""}]),
     True, "questions_admin.no_spanish"),
    ("a choice question with one choice", _one_choice(), False, "questions_admin.no_choices"),
    ("a choice question with no choices", summary_delivery(type="multiple_choice", choices=[]),
     False, "questions_admin.no_choices"),
    ("a choice without a value",
     summary_delivery(choices=[{"value": "portal", "en": "Patient portal"},
                               {"value": "", "en": "Printed copy"}]),
     False, "questions_admin.no_choices"),
    ("a choice without English",
     summary_delivery(choices=[{"value": "portal", "en": "Patient portal"},
                               {"value": "print", "es": "Copia impresa"}]),
     False, "questions_admin.no_choices"),
    ("two choices with the same value",
     summary_delivery(choices=[{"value": "portal", "en": "Patient portal"},
                               {"value": "portal", "en": "Online"}]),
     False, "questions_admin.duplicate_choices"),
    ("a yes/no question with choices",
     chest_pain(choices=[{"value": "yes", "en": "Yes"}, {"value": "no", "en": "No"}]),
     False, "questions_admin.no_choices"),
    ("a number whose lowest is above its highest", weight(min_value=900, max_value=2), False,
     "questions_admin.bad_bounds"),
    ("a flag rule with an unknown operator",
     pain_level(flag_rules=[{"when": {"more_than": 7}, "flag": "urgent_answer"}]), False,
     "questions_admin.bad_rule"),
    ("a flag rule with two operators",
     pain_level(flag_rules=[{"when": {"at_least": 8, "at_most": 10}, "flag": "urgent_answer"}]),
     False, "questions_admin.bad_rule"),
    ("a flag rule without a condition", pain_level(flag_rules=[{"flag": "urgent_answer"}]),
     False, "questions_admin.bad_rule"),
    ("a flag rule with an unknown flag",
     chest_pain(flag_rules=[{"when": {"equals": True}, "flag": "call_ambulance"}]), False,
     "questions_admin.bad_rule"),
    ("a flag rule naming no flag", chest_pain(flag_rules=[{"when": {"equals": True}}]), False,
     "questions_admin.bad_rule"),
    ("a flag rule with an unknown severity",
     chest_pain(flag_rules=[{"when": {"equals": True}, "flag": "urgent_answer",
                             "severity": "critical"}]),
     False, "questions_admin.bad_rule"),
    ("a flag rule 'in' that is not a list",
     summary_delivery(flag_rules=[{"when": {"in": "print"}, "flag": "document_missing"}]),
     False, "questions_admin.bad_rule"),
    ("a flag rule 'at least' that is not a number",
     pain_level(flag_rules=[{"when": {"at_least": "high"}, "flag": "urgent_answer"}]), False,
     "questions_admin.bad_rule"),
    ("a huge question text", chest_pain(text_en="Do you have chest pain? " * 5000), False,
     "questions_admin.invalid"),
    ("a huge help text", chest_pain(help_es="Avise en la recepción. " * 5000), False,
     "questions_admin.invalid"),
    ("a huge choice text",
     summary_delivery(choices=[{"value": "portal", "en": "Patient portal " * 500},
                               {"value": "print", "en": "Printed copy"}]),
     False, "questions_admin.invalid"),
]


@pytest.mark.parametrize(("definition", "spanish", "key"),
                         [case[1:] for case in REFUSED_DEFINITIONS],
                         ids=[case[0] for case in REFUSED_DEFINITIONS])
def test_a_broken_definition_is_refused_with_its_reason(
    definition: QuestionDefinition, spanish: bool, key: str
) -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        validate_definition(definition, spanish=spanish)
    refused(exc, key, definition.key)


def test_an_empty_key_is_named_with_a_placeholder() -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        validate_definition(chest_pain(key=""), spanish=False)
    refused(exc, "questions_admin.bad_key", "?")


@pytest.mark.parametrize(
    "definition",
    [chest_pain(), new_allergies(), summary_delivery(), pain_level(), weight(),
     weight(min_value=5, max_value=5), weight(min_value=None), allergy_details()],
    ids=lambda d: d.key,
)
def test_the_clinics_own_questions_are_accepted_in_both_languages(
    definition: QuestionDefinition,
) -> None:
    validate_definition(definition, spanish=True)


def test_spanish_may_be_missing_while_the_clinic_offers_only_english() -> None:
    validate_definition(chest_pain(text_es="", help_es=""), spanish=False)
    validate_definition(summary_delivery(choices=[{"value": "portal", "en": "Patient portal"},
                                                  {"value": "print", "en": "Printed copy"}]),
                        spanish=False)


# --- The whole set ------------------------------------------------------------------------------


REFUSED_SETS = [
    ("two questions with one key", [chest_pain(), new_allergies(), chest_pain(text_en="Again?")],
     "questions_admin.duplicate_key", "chest_pain"),
    ("a condition on a later question", [chest_pain(), allergy_details(), new_allergies()],
     "questions_admin.condition_later", "new_allergy_details"),
    ("a condition on a question that does not exist", [chest_pain(), allergy_details()],
     "questions_admin.condition_later", "new_allergy_details"),
    ("a condition on itself",
     [new_allergies(condition={"question": "new_allergies", "equals": True})],
     "questions_admin.condition_cycle", "new_allergies"),
    ("two questions depending on each other",
     [new_allergies(condition={"question": "new_allergy_details", "equals": "latex"}),
      allergy_details()],
     "questions_admin.condition_later", "new_allergies"),
    ("a condition without a value",
     [new_allergies(), allergy_details(condition={"question": "new_allergies"})],
     "questions_admin.condition_later", "new_allergy_details"),
    ("a condition a yes/no question can never meet",
     [new_allergies(), allergy_details(condition={"question": "new_allergies", "equals": "yes"})],
     "questions_admin.invalid", "new_allergy_details"),
    ("a condition on a choice the question does not offer",
     [summary_delivery(),
      allergy_details(key="email_address", condition={"question": "visit_summary_delivery",
                                                      "equals": "fax"})],
     "questions_admin.invalid", "email_address"),
    ("a condition on a number that is text",
     [pain_level(), allergy_details(key="pain_where", condition={"question": "pain_level",
                                                                 "equals": "8"})],
     "questions_admin.invalid", "pain_where"),
]


@pytest.mark.parametrize(("definitions", "key", "question"),
                         [case[1:] for case in REFUSED_SETS],
                         ids=[case[0] for case in REFUSED_SETS])
def test_a_broken_question_set_is_refused(
    definitions: list[QuestionDefinition], key: str, question: str
) -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        validate_set(definitions, spanish=True)
    refused(exc, key, question)


def test_a_set_refuses_any_broken_definition_in_it() -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        validate_set([chest_pain(), weight(min_value=10, max_value=1)], spanish=True)
    refused(exc, "questions_admin.bad_bounds", "weight_lb")


def test_conditions_on_earlier_questions_are_accepted() -> None:
    validate_set([
        *clinic_set(),
        allergy_details(key="email_address",
                        condition={"question": "visit_summary_delivery", "equals": "email"}),
        pain_level(),
        allergy_details(key="pain_where", condition={"question": "pain_level", "equals": 8}),
    ], spanish=True)


def test_the_demo_clinics_question_set_is_valid(session: Session, manager: StaffUser) -> None:
    _create_questions(session, manager.id)
    session.flush()
    definitions = [d for _, d in current_set(session)]
    assert len(definitions) == 8
    validate_set(definitions, spanish=True)


# --- Saving: new questions and new versions ---------------------------------------------------


def test_a_new_question_is_saved_as_version_1_at_the_end(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, [chest_pain(), new_allergies()], manager)
    question = save(session, summary_delivery(), manager)
    session.commit()

    assert [v.version for v in question.versions] == [1]
    assert question.active is True
    assert active_keys(session) == ["chest_pain", "new_allergies", "visit_summary_delivery"]
    version = question.current
    assert version.created_by_id == manager.id
    assert version.choices[2] == {"value": "email", "en": "Email", "es": "Correo electrónico"}
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "question.saved")
                            .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.record_id == question.id
    assert event.actor_id == str(manager.id)
    assert event.detail == {"question_version_id": version.id}


def test_an_edit_is_a_new_version_and_an_answer_keeps_the_wording_the_patient_saw(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    appointment = make_appointment(session)
    asked = next(a for a in questions_for_visit(session, appointment)
                 if a.key == "new_allergies")
    save_answer(session, appointment, asked, True, language="es", now=NOW, kiosk_id=KIOSK)
    session.commit()
    v1_before = stored(session)["versions"]

    question = save(session, new_allergies(
        text_en="Since your last visit, have you found out you are allergic to anything?",
        text_es="Desde su última visita, ¿ha sabido que es alérgico a algo?",
    ), manager)
    session.commit()

    assert [v.version for v in question.versions] == [1, 2]
    after = stored(session)["versions"]
    assert after[: len(v1_before)] == v1_before  # no earlier version row changed
    with Session(session.get_bind()) as fresh:
        answer = fresh.scalars(select(Answer)).one()
        assert answer.question_version.version == 1
        assert answer.question_version.text_en == "Do you have any new allergies?"
        assert answer.question_version.text_es == "¿Tiene alguna alergia nueva?"
        assert answer.value is True
        assert saved_answers(fresh, appointment.id) == {"new_allergies": True}
        # The next patient is asked the new wording.
        visit = fresh.get(Appointment, appointment.id)
        assert visit is not None
        now_asked = {a.key: a.version for a in questions_for_visit(fresh, visit)}
        assert now_asked["new_allergies"].version == 2
        assert now_asked["new_allergies"].text_en.startswith("Since your last visit")


def test_saving_an_unchanged_question_adds_no_version(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    before = stored(session)

    question = save(session, summary_delivery(), manager)
    session.commit()

    assert [v.version for v in question.versions] == [1]
    assert stored(session) == before


def test_an_edit_that_would_break_another_questions_condition_is_refused(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, [*clinic_set(), allergy_details(
        key="email_address", text_en="Which email address should we use?",
        text_es="¿Qué correo electrónico usamos?",
        condition={"question": "visit_summary_delivery", "equals": "email"})], manager)
    before = stored(session)

    # The follow-up asks "which allergies?" only after a yes: a text answer is never a yes.
    with pytest.raises(DefinitionInvalid) as exc:
        save(session, new_allergies(type="short_text"), manager)
    refused(exc, "questions_admin.invalid", "new_allergy_details")
    # The email question would never be shown once "Email" is no longer offered.
    with pytest.raises(DefinitionInvalid) as exc:
        save(session, summary_delivery(choices=summary_delivery().choices[:2]), manager)
    refused(exc, "questions_admin.invalid", "email_address")
    # A follow-up may not move its condition onto a later question either.
    with pytest.raises(DefinitionInvalid) as exc:
        save(session, allergy_details(condition={"question": "email_address", "equals": "x"}),
             manager)
    refused(exc, "questions_admin.condition_later", "new_allergy_details")
    session.commit()

    assert stored(session) == before


def test_a_refused_new_question_is_not_written(session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    before = stored(session)

    with pytest.raises(DefinitionInvalid) as exc:
        save(session, pain_level(text_es=""), manager)
    refused(exc, "questions_admin.no_spanish", "pain_level")
    session.commit()

    assert stored(session) == before
    # Without Spanish offered the same question is fine.
    save(session, pain_level(text_es=""), manager, spanish=False)
    assert active_keys(session)[-1] == "pain_level"


# --- Deactivating -------------------------------------------------------------------------------


def test_a_deactivated_question_is_kept_but_no_longer_asked(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    appointment = make_appointment(session)
    asked = next(a for a in questions_for_visit(session, appointment)
                 if a.key == "visit_summary_delivery")
    save_answer(session, appointment, asked, "print", language="en", now=NOW, kiosk_id=KIOSK)
    session.commit()
    versions_before = stored(session)["versions"]

    deactivate(session, "visit_summary_delivery", staff_user_id=manager.id)
    session.commit()

    after = stored(session)
    assert ("visit_summary_delivery", False, 4) in after["questions"]
    assert after["versions"] == versions_before
    assert after["answers"] == 1
    assert "visit_summary_delivery" not in active_keys(session)
    assert "visit_summary_delivery" not in [
        a.key for a in questions_for_visit(session, make_appointment(session))]
    assert saved_answers(session, appointment.id) == {"visit_summary_delivery": "print"}
    assert session.scalar(select(AuditEvent).where(
        AuditEvent.action == "question.deactivated")) is not None


def test_a_question_others_depend_on_cannot_be_deactivated_first(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    before = stored(session)

    with pytest.raises(DefinitionInvalid) as exc:
        deactivate(session, "new_allergies", staff_user_id=manager.id)
    refused(exc, "questions_admin.has_dependents", "new_allergy_details")
    session.commit()
    assert stored(session) == before

    deactivate(session, "new_allergy_details", staff_user_id=manager.id)
    deactivate(session, "new_allergies", staff_user_id=manager.id)
    session.commit()
    assert active_keys(session) == ["chest_pain", "visit_summary_delivery"]


def test_deactivating_an_unknown_question_is_refused(
    session: Session, manager: StaffUser
) -> None:
    with pytest.raises(DefinitionInvalid) as exc:
        deactivate(session, "no_such_question", staff_user_id=manager.id)
    refused(exc, "questions_admin.bad_key", "no_such_question")


def test_saving_a_deactivated_question_brings_it_back_at_the_end(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, [chest_pain(), new_allergies(), summary_delivery()], manager)
    deactivate(session, "chest_pain", staff_user_id=manager.id)
    deactivate(session, "new_allergies", staff_user_id=manager.id)
    session.commit()

    unchanged = save(session, chest_pain(), manager)
    # Brought back with a condition on a question that sits after its old place.
    edited = save(session, new_allergies(
        condition={"question": "visit_summary_delivery", "equals": "email"}), manager)
    session.commit()

    assert [v.version for v in unchanged.versions] == [1]
    assert [v.version for v in edited.versions] == [1, 2]
    assert active_keys(session) == ["visit_summary_delivery", "chest_pain", "new_allergies"]
    validate_set([d for _, d in current_set(session)], spanish=True)


# --- Reordering ---------------------------------------------------------------------------------


def positions(session: Session) -> list[tuple[str, int]]:
    return [(q.key, q.position) for q, _ in current_set(session)]


def test_moving_a_question_up_or_down_swaps_it_with_its_neighbour(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)

    move(session, "visit_summary_delivery", -1, staff_user_id=manager.id)
    session.commit()
    assert positions(session) == [("chest_pain", 1), ("new_allergies", 2),
                                  ("visit_summary_delivery", 3), ("new_allergy_details", 4)]

    move(session, "chest_pain", +1, staff_user_id=manager.id)
    session.commit()
    assert positions(session) == [("new_allergies", 1), ("chest_pain", 2),
                                  ("visit_summary_delivery", 3), ("new_allergy_details", 4)]
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "question.moved")) == 2


def test_moving_past_either_end_changes_nothing(session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    before = positions(session)

    move(session, "chest_pain", -1, staff_user_id=manager.id)
    move(session, "visit_summary_delivery", +1, staff_user_id=manager.id)

    assert positions(session) == before


def test_a_follow_up_question_cannot_move_before_the_question_it_depends_on(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    before = stored(session)

    with pytest.raises(DefinitionInvalid) as exc:
        move(session, "new_allergy_details", -1, staff_user_id=manager.id)
    refused(exc, "questions_admin.condition_later", "new_allergy_details")
    with pytest.raises(DefinitionInvalid) as exc:
        move(session, "new_allergies", +1, staff_user_id=manager.id)
    refused(exc, "questions_admin.condition_later", "new_allergy_details")
    session.commit()

    assert stored(session) == before


def test_moving_an_unknown_or_deactivated_question_is_refused(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    deactivate(session, "chest_pain", staff_user_id=manager.id)

    for key in ("no_such_question", "chest_pain"):
        with pytest.raises(DefinitionInvalid) as exc:
            move(session, key, 1, staff_user_id=manager.id)
        refused(exc, "questions_admin.bad_key", key)


# --- Export and import --------------------------------------------------------------------------


def _empty_question_tables(session: Session) -> None:
    session.execute(delete(Answer))
    session.execute(delete(KioskQuestionVersion))
    session.execute(delete(KioskQuestion))
    session.commit()
    session.expunge_all()


def test_an_exported_set_imports_the_same_into_an_empty_clinic(
    session: Session, manager: StaffUser
) -> None:
    _create_questions(session, manager.id)
    session.flush()
    save(session, pain_level(text_en="On a scale of 0 to 10, how much pain are you in?"),
         manager)
    save(session, weight(), manager)
    deactivate(session, "recent_travel", staff_user_id=manager.id)
    session.commit()
    exported = export_json(session)
    source = [(d.key, d) for _, d in current_set(session)]

    _empty_question_tables(session)
    assert current_set(session, include_inactive=True) == []
    count = import_set(session, exported, spanish=True, staff_user_id=manager.id)
    session.commit()

    data = json.loads(exported)
    assert data["format"] == EXPORT_FORMAT
    assert "recent_travel" not in [q["key"] for q in data["questions"]]
    assert count == len(source) == 8
    imported = [(q.key, d) for q, d in current_set(session)]
    assert imported == source  # same keys, order, texts, choices, conditions and rules
    assert [q.position for q, _ in current_set(session)] == list(range(1, 9))
    assert all([v.version for v in q.versions] == [1] for q, _ in current_set(session))
    assert dict(imported)["pain_level"].text_en.startswith("On a scale of 0 to 10")
    assert dict(imported)["new_allergy_details"].condition == {
        "question": "new_allergies", "equals": True}
    assert dict(imported)["chest_pain_or_breathing"].flag_rules == [
        {"when": {"equals": True}, "flag": "urgent_answer", "severity": "urgent"}]
    assert dict(imported)["weight_lb"].min_value == 2
    assert export_json(session) == exported


def test_importing_the_same_file_again_adds_no_versions(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    exported = export_json(session)
    versions = stored(session)["versions"]

    assert import_set(session, exported, spanish=True, staff_user_id=manager.id) == 4
    session.commit()

    assert stored(session)["versions"] == versions
    assert export_json(session) == exported


def test_an_import_deactivates_questions_missing_from_the_file_and_deletes_nothing(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    appointment = make_appointment(session)
    asked = next(a for a in questions_for_visit(session, appointment) if a.key == "chest_pain")
    save_answer(session, appointment, asked, False, language="en", now=NOW, kiosk_id=KIOSK)
    session.commit()
    before = stored(session)
    incoming = [summary_delivery(), pain_level(),
                new_allergies(text_en="Any new allergies since your last visit?")]
    raw = json.dumps({"format": EXPORT_FORMAT,
                      "questions": [asdict(d) for d in incoming]}).encode()

    assert import_set(session, raw, spanish=True, staff_user_id=manager.id) == 3
    session.commit()

    after = stored(session)
    assert active_keys(session) == ["visit_summary_delivery", "pain_level", "new_allergies"]
    assert {(k, a) for k, a, _ in after["questions"]} == {
        ("chest_pain", False), ("new_allergy_details", False), ("new_allergies", True),
        ("pain_level", True), ("visit_summary_delivery", True)}
    assert set(before["versions"]) <= set(after["versions"])  # every old version is kept
    assert len(after["versions"]) == len(before["versions"]) + 2  # pain v1, allergies v2
    assert after["answers"] == 1
    assert saved_answers(session, appointment.id) == {"chest_pain": False}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "question.imported"))
    assert event is not None and event.detail == {"count": 3}


def _file(*questions: Any, **top: Any) -> str:
    return json.dumps({"format": EXPORT_FORMAT, "questions": list(questions), **top})


def _item(d: QuestionDefinition, **changes: Any) -> dict[str, Any]:
    return {**asdict(d), **changes}


HOSTILE_FILES = [
    ("not JSON", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "questions_admin.bad_file"),
    ("broken JSON", '{"format": "checkin-questions/1", "questions": [', "questions_admin.bad_file"),
    ("not UTF-8", b'{"format": "\xff\xfe\xfa"}', "questions_admin.bad_file"),
    ("a list, not an export", json.dumps([_item(chest_pain())]), "questions_admin.bad_file"),
    ("no format tag", json.dumps({"questions": [_item(chest_pain())]}),
     "questions_admin.bad_file"),
    ("another format", _file(_item(chest_pain())).replace(EXPORT_FORMAT, "checkin-questions/9"),
     "questions_admin.bad_file"),
    ("questions not a list", json.dumps({"format": EXPORT_FORMAT,
                                         "questions": {"chest_pain": _item(chest_pain())}}),
     "questions_admin.bad_file"),
    ("a question that is not an object", _file(_item(chest_pain()), "new_allergies"),
     "questions_admin.bad_file"),
    ("an unknown field", _file(_item(chest_pain(), run="DROP TABLE kiosk_question")),
     "questions_admin.bad_file"),
    ("a question without a key",
     _file({k: v for k, v in _item(chest_pain()).items() if k != "key"}),
     "questions_admin.bad_file"),
    ("a question without its text", _file({"key": "chest_pain", "type": "yes_no"}),
     "questions_admin.bad_file"),
    ("text that is not text", _file(_item(chest_pain(), text_en=["Chest pain?"])),
     "questions_admin.bad_file"),
    ("a key that is not text", _file(_item(chest_pain(), key=7)), "questions_admin.bad_file"),
    ("required that is not yes or no", _file(_item(chest_pain(), required="yes")),
     "questions_admin.bad_file"),
    ("choices that are not a list", _file(_item(summary_delivery(), choices="portal,print")),
     "questions_admin.bad_file"),
    ("a choice that is not an object", _file(_item(summary_delivery(), choices=["a", "b"])),
     "questions_admin.bad_file"),
    ("a bound that is not a number", _file(_item(weight(), min_value="2")),
     "questions_admin.bad_file"),
    ("a bound that is not finite",
     _file(_item(weight())).replace('"max_value": 900', '"max_value": Infinity'),
     "questions_admin.bad_file"),
    ("visit types that are not a list", _file(_item(chest_pain(), visit_types="Dental")),
     "questions_admin.bad_file"),
    ("provider ids that are not numbers", _file(_item(chest_pain(), provider_ids=["dr-okafor"])),
     "questions_admin.bad_file"),
    ("a condition that is not an object",
     _file(_item(new_allergies()), _item(allergy_details(), condition="new_allergies")),
     "questions_admin.bad_file"),
    ("a condition naming a list",
     _file(_item(new_allergies()), _item(allergy_details(),
                                         condition={"question": ["new_allergies"],
                                                    "equals": True})),
     "questions_admin.bad_file"),
    ("flag rules that are not a list", _file(_item(chest_pain(), flag_rules="urgent")),
     "questions_admin.bad_file"),
    ("a flag rule that is not an object", _file(_item(chest_pain(), flag_rules=["urgent"])),
     "questions_admin.bad_file"),
    ("a flag rule whose condition is a list",
     _file(_item(chest_pain(), flag_rules=[{"when": ["equals"], "flag": "urgent_answer"}])),
     "questions_admin.bad_file"),
    ("nested a hundred thousand deep", "[" * 100_000 + "]" * 100_000,
     "questions_admin.bad_file"),
    ("a definition that fails validation",
     _file(_item(chest_pain()), _item(weight(), min_value=900, max_value=2)),
     "questions_admin.bad_bounds"),
    ("a key made to look like SQL",
     _file(_item(chest_pain(), key="x'); DROP TABLE kiosk_question; --")),
     "questions_admin.bad_key"),
    ("Spanish missing though offered", _file(_item(chest_pain(), text_es="")),
     "questions_admin.no_spanish"),
    ("a condition on a later question",
     _file(_item(allergy_details()), _item(new_allergies())), "questions_admin.condition_later"),
    ("one key twice", _file(_item(chest_pain()), _item(chest_pain())),
     "questions_admin.duplicate_key"),
    ("huge text", _file(_item(chest_pain(), text_en="Do you have chest pain? " * 50_000)),
     "questions_admin.invalid"),
]


@pytest.mark.parametrize(("raw", "key"), [case[1:] for case in HOSTILE_FILES],
                         ids=[case[0] for case in HOSTILE_FILES])
def test_a_malformed_or_hostile_file_changes_nothing(
    session: Session, manager: StaffUser, raw: str | bytes, key: str
) -> None:
    save_all(session, [*clinic_set(), weight()], manager)
    before = stored(session)

    with pytest.raises(DefinitionInvalid) as exc:
        import_set(session, raw, spanish=True, staff_user_id=manager.id)
    assert exc.value.key == key
    session.commit()

    assert stored(session) == before
    assert active_keys(session) == [d.key for d in [*clinic_set(), weight()]]


def test_an_empty_question_list_deactivates_every_question_and_deletes_none(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    before = stored(session)

    assert import_set(session, _file(), spanish=True, staff_user_id=manager.id) == 0
    session.commit()

    after = stored(session)
    assert active_keys(session) == []
    assert [(k, p) for k, _, p in after["questions"]] == [
        (k, p) for k, _, p in before["questions"]]
    assert after["versions"] == before["versions"]


def test_questions_asked_after_an_import_follow_the_files_order(
    session: Session, manager: StaffUser
) -> None:
    save_all(session, clinic_set(), manager)
    raw = _file(_item(summary_delivery()), _item(new_allergies()), _item(allergy_details()),
                _item(chest_pain()))

    import_set(session, raw, spanish=True, staff_user_id=manager.id)
    session.commit()

    asked: list[Asked] = questions_for_visit(session, make_appointment(session))
    assert [a.key for a in asked] == ["visit_summary_delivery", "new_allergies",
                                      "new_allergy_details", "chest_pain"]


def test_a_rule_no_answer_can_match_is_refused() -> None:
    from shared.errors import DomainError
    from shared.services.question_admin import QuestionDefinition, validate_set

    typo = QuestionDefinition(key="fever", type="yes_no", text_en="Fever?",
                              flag_rules=[{"when": {"equals": "yess"}, "flag": "urgent_answer",
                                           "severity": "urgent"}])
    try:
        validate_set([typo], spanish=False)
    except DomainError as exc:
        assert exc.key == "questions_admin.bad_rule"
    else:
        raise AssertionError("a rule that can never fire was accepted")


# --- Drafts: a half-made change never reaches a patient -----------------------------------------


def save_draft(session: Session, d: QuestionDefinition, manager: StaffUser, *,
               spanish: bool = True) -> KioskQuestion:
    return save_question(session, d, spanish=spanish, staff_user_id=manager.id, publish=False)


def asked_text(session: Session, key: str) -> str | None:
    """The wording the kiosk asks a patient today, read in a fresh session."""
    with Session(session.get_bind()) as fresh:
        return next((a.version.text_en for a in questions_for_visit(fresh, _any_visit(fresh))
                     if a.key == key), None)


def _any_visit(session: Session) -> Appointment:
    return session.scalars(select(Appointment)).first()


def test_a_draft_edit_is_not_asked_until_it_is_published(
        session: Session, manager: StaffUser) -> None:
    make_appointment(session)
    save_all(session, clinic_set(), manager)
    published_text = chest_pain().text_en
    save_draft(session, chest_pain(text_en="Chest pain or short of breath now?"), manager)
    session.commit()
    assert asked_text(session, "chest_pain") == published_text
    status = next(s for s in overview(session) if s.key == "chest_pain")
    assert status.draft and status.version == 2
    assert status.definition.text_en == "Chest pain or short of breath now?"
    assert status.published is not None and status.published.text_en == published_text
    # Saved again as a draft: the same draft, written over (no patient saw it).
    save_draft(session, chest_pain(text_en="Chest pain or trouble breathing now?"), manager)
    session.commit()
    versions = session.scalars(select(KioskQuestionVersion.version).join(KioskQuestion).where(
        KioskQuestion.key == "chest_pain").order_by(KioskQuestionVersion.version)).all()
    assert versions == [1, 2]
    assert asked_text(session, "chest_pain") == published_text
    publish(session, "chest_pain", spanish=True, staff_user_id=manager.id)
    session.commit()
    assert asked_text(session, "chest_pain") == "Chest pain or trouble breathing now?"
    assert not next(s for s in overview(session) if s.key == "chest_pain").draft
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["question.draft_saved", "question.draft_saved",
                            "question.published"]


def test_answers_keep_the_published_wording_while_a_draft_waits(
        session: Session, manager: StaffUser) -> None:
    appointment = make_appointment(session)
    save_all(session, clinic_set(), manager)
    save_draft(session, chest_pain(text_en="Draft wording"), manager)
    asked = next(a for a in questions_for_visit(session, appointment) if a.key == "chest_pain")
    save_answer(session, appointment, asked, False, language="en", now=NOW, kiosk_id=KIOSK)
    session.commit()
    answer = session.scalars(select(Answer)).one()
    assert answer.question_version.text_en == chest_pain().text_en
    assert not answer.question_version.draft


def test_a_new_question_saved_as_a_draft_is_asked_of_nobody(
        session: Session, manager: StaffUser) -> None:
    make_appointment(session)
    save_all(session, clinic_set(), manager)
    save_draft(session, weight(), manager)
    session.commit()
    assert asked_text(session, "weight_lb") is None
    assert "weight_lb" in active_keys(session)  # the manager's list shows it, as a draft
    assert "weight_lb" not in [q.key for q, _ in published_set(session)]
    assert "weight_lb" not in json.loads(export_json(session))["questions"].__str__()
    publish(session, "weight_lb", spanish=True, staff_user_id=manager.id)
    session.commit()
    assert asked_text(session, "weight_lb") == weight().text_en


def test_a_draft_saved_back_to_the_published_wording_is_dropped(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    save_draft(session, chest_pain(required=False), manager)
    save_draft(session, chest_pain(), manager)
    session.commit()
    status = next(s for s in overview(session) if s.key == "chest_pain")
    assert not status.draft and status.version == 1


def test_discarding_a_draft_keeps_the_published_version(
        session: Session, manager: StaffUser) -> None:
    make_appointment(session)
    save_all(session, clinic_set(), manager)
    save_draft(session, chest_pain(text_en="Half-written"), manager)
    discard_draft(session, "chest_pain", staff_user_id=manager.id)
    session.commit()
    assert asked_text(session, "chest_pain") == chest_pain().text_en
    assert not next(s for s in overview(session) if s.key == "chest_pain").draft
    with pytest.raises(DefinitionInvalid) as exc:
        publish(session, "chest_pain", spanish=True, staff_user_id=manager.id)
    refused(exc, "questions_admin.no_draft", "chest_pain")


def test_a_draft_cannot_be_published_before_the_draft_it_depends_on(
        session: Session, manager: StaffUser) -> None:
    save_all(session, [chest_pain()], manager)
    save_draft(session, new_allergies(), manager)
    save_draft(session, allergy_details(), manager)
    session.commit()
    before = stored(session)
    with pytest.raises(DefinitionInvalid) as exc:
        publish(session, "new_allergy_details", spanish=True, staff_user_id=manager.id)
    refused(exc, "questions_admin.depends_on_draft", "new_allergy_details")
    session.rollback()
    assert stored(session) == before
    publish(session, "new_allergies", spanish=True, staff_user_id=manager.id)
    publish(session, "new_allergy_details", spanish=True, staff_user_id=manager.id)
    session.commit()
    assert [q.key for q, _ in published_set(session)] == [
        "chest_pain", "new_allergies", "new_allergy_details"]


def test_an_import_replaces_a_waiting_draft_and_publishes(
        session: Session, manager: StaffUser) -> None:
    make_appointment(session)
    save_all(session, clinic_set(), manager)
    exported = export_json(session)
    save_draft(session, chest_pain(text_en="Draft wording"), manager)
    import_set(session, exported, spanish=True, staff_user_id=manager.id)
    session.commit()
    status = next(s for s in overview(session) if s.key == "chest_pain")
    assert not status.draft and status.definition == chest_pain()
    assert asked_text(session, "chest_pain") == chest_pain().text_en


# --- Spanish written for an older English --------------------------------------------------------


def outdated(session: Session, key: str) -> list[str]:
    return next(s for s in overview(session) if s.key == key).spanish_outdated


def test_english_edited_without_the_spanish_marks_the_spanish_out_of_date(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    assert outdated(session, "chest_pain") == []
    save(session, chest_pain(text_en="Do you have chest pain or shortness of breath now?"),
         manager)
    assert outdated(session, "chest_pain") == ["text"]
    # A later edit of something else leaves the mark: the Spanish is still the old one.
    save(session, chest_pain(text_en="Do you have chest pain or shortness of breath now?",
                             required=False), manager)
    assert outdated(session, "chest_pain") == ["text"]
    # Someone saves the Spanish: the mark goes.
    save(session, chest_pain(text_en="Do you have chest pain or shortness of breath now?",
                             text_es="¿Tiene dolor de pecho o le falta el aire ahora?",
                             required=False), manager)
    assert outdated(session, "chest_pain") == []


def test_help_and_each_choice_are_marked_on_their_own(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    save(session, chest_pain(help_en="If yes, tell the front desk now."), manager)
    assert outdated(session, "chest_pain") == ["help"]
    choices = [dict(c) for c in summary_delivery().choices]
    choices[2]["en"] = "Email me"
    # An English help where no Spanish help was ever written: missing, not out of date.
    save(session, summary_delivery(choices=choices, help_en="Pick one."), manager)
    assert outdated(session, "visit_summary_delivery") == ["choice:email"]
    # A new choice comes with its Spanish: nothing about it is out of date.
    choices.append({"value": "text", "en": "Text message", "es": "Mensaje de texto"})
    save(session, summary_delivery(choices=choices, help_en="Pick one."), manager)
    assert outdated(session, "visit_summary_delivery") == ["choice:email"]
    choices[2]["es"] = "Correo electrónico, por favor"
    save(session, summary_delivery(choices=choices, help_en="Pick one."), manager)
    assert outdated(session, "visit_summary_delivery") == []


def test_putting_back_the_english_the_spanish_was_written_for_clears_the_mark(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    save(session, new_allergies(text_en="Any new allergies?"), manager)
    assert outdated(session, "new_allergies") == ["text"]
    save(session, new_allergies(), manager)
    assert outdated(session, "new_allergies") == []


def test_a_draft_shows_its_spanish_state_before_it_is_published(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    save_draft(session, chest_pain(text_en="Chest pain now?"), manager)
    assert outdated(session, "chest_pain") == ["text"]
    save_draft(session, chest_pain(text_en="Chest pain now?", text_es="¿Dolor de pecho ahora?"),
               manager)
    assert outdated(session, "chest_pain") == []


@pytest.mark.parametrize(("history", "expected"), [
    ([], []),
    ([{"text": ("A", "a")}], []),
    ([{"text": ("A", "a")}, {"text": ("B", "a")}], ["text"]),
    ([{"text": ("A", "a")}, {"text": ("B", "a")}, {"text": ("B", "b")}], []),
    ([{"text": ("A", "a")}, {"text": ("B", "a")}, {"text": ("A", "a")}], []),
    ([{"text": ("A", "")}, {"text": ("B", "")}], []),  # missing Spanish is not out of date
    # Someone saved the Spanish again in the last version (back to "a"): it is current.
    ([{"text": ("A", "a")}, {"text": ("B", "b")}, {"text": ("C", "a")}], []),
    ([{"text": ("A", "a")}, {"text": ("B", "b")}, {"text": ("C", "b")}], ["text"]),
    ([{"help": ("A", "a")}, {"text": ("B", "b"), "help": ("A", "a")}], []),
])
def test_the_rule_for_spanish_out_of_date(history: list[dict], expected: list[str]) -> None:
    assert outdated_parts(history) == expected


def test_a_draft_may_wait_for_its_spanish_but_is_not_published_without_it(
        session: Session, manager: StaffUser) -> None:
    make_appointment(session)
    save_all(session, clinic_set(), manager)
    save_draft(session, weight(text_es=""), manager)
    session.commit()
    with pytest.raises(DefinitionInvalid) as exc:
        publish(session, "weight_lb", spanish=True, staff_user_id=manager.id)
    refused(exc, "questions_admin.no_spanish", "weight_lb")
    session.rollback()
    assert asked_text(session, "weight_lb") is None
    save_draft(session, weight(), manager)
    publish(session, "weight_lb", spanish=True, staff_user_id=manager.id)
    session.commit()
    assert asked_text(session, "weight_lb") == weight().text_en


def test_a_draft_waiting_for_its_spanish_does_not_hold_up_other_questions(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    save_draft(session, weight(text_es=""), manager)
    save(session, new_allergies(text_en="Any new allergies?", text_es="¿Alergias nuevas?"),
         manager)
    save_draft(session, pain_level(), manager)
    publish(session, "pain_level", spanish=True, staff_user_id=manager.id)
    session.commit()
    assert [q.key for q, _ in published_set(session)] == [
        "chest_pain", "new_allergies", "new_allergy_details", "visit_summary_delivery",
        "pain_level"]


def test_a_draft_of_a_deactivated_question_brings_it_back_only_when_published(
        session: Session, manager: StaffUser) -> None:
    make_appointment(session)
    save_all(session, [*clinic_set(), weight()], manager)
    deactivate(session, "weight_lb", staff_user_id=manager.id)
    save_draft(session, weight(text_en="About how much do you weigh today, in pounds?",
                               text_es="¿Cuánto pesa hoy más o menos, en libras?"), manager)
    session.commit()
    assert asked_text(session, "weight_lb") is None  # still not asked
    status = next(s for s in overview(session) if s.key == "weight_lb")
    assert status.draft and status.published is None
    publish(session, "weight_lb", spanish=True, staff_user_id=manager.id)
    session.commit()
    assert asked_text(session, "weight_lb") == "About how much do you weigh today, in pounds?"
    assert active_keys(session)[-1] == "weight_lb"


def test_discarding_a_question_that_was_only_a_draft_takes_it_off_the_list(
        session: Session, manager: StaffUser) -> None:
    save_all(session, clinic_set(), manager)
    save_draft(session, weight(), manager)
    discard_draft(session, "weight_lb", staff_user_id=manager.id)
    session.commit()
    assert "weight_lb" not in [s.key for s in overview(session)]
    save(session, weight(), manager)  # written again later, and published
    session.commit()
    assert [s.key for s in overview(session)][-1] == "weight_lb"


def test_a_deactivated_question_with_a_draft_is_listed_last(
        session: Session, manager: StaffUser) -> None:
    save_all(session, [chest_pain(), weight(), new_allergies()], manager)
    deactivate(session, "weight_lb", staff_user_id=manager.id)
    save_draft(session, weight(text_en="Your weight today, in pounds?"), manager)
    statuses = overview(session)
    assert [(s.key, s.active, s.draft) for s in statuses] == [
        ("chest_pain", True, False), ("new_allergies", True, False), ("weight_lb", False, True)]
