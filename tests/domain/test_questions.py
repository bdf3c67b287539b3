"""The clinic's kiosk questions: which ones a visit gets, which are shown given earlier
answers, what a valid answer is, and which answers raise a flag at once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.models import (
    Answer,
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    KioskQuestionVersion,
    QuestionType,
)
from shared.services.checkin import begin
from shared.services.clinic_settings import ClinicSettings
from shared.services.questions import (
    AnswerInvalid,
    Asked,
    questions_for_visit,
    rule_matches,
    save_answer,
    saved_answers,
    validate_answer,
    visible,
)
from tests.factories import (
    DEFAULT_START,
    add_question_version,
    make_appointment,
    make_location,
    make_provider,
    make_question,
)

Q = QuestionType
NOW = DEFAULT_START - timedelta(minutes=8)
KIOSK = "kiosk-1"
URGENT_IF_YES = [{"when": {"equals": True}, "flag": "urgent_answer", "severity": "urgent"}]
DELIVERY = [
    {"value": "portal", "en": "Patient portal", "es": "Portal del paciente"},
    {"value": "print", "en": "Printed copy", "es": "Copia impresa"},
    {"value": "email", "en": "Email", "es": "Correo electrónico"},
]


def keys(asked: list[Asked]) -> list[str]:
    return [a.key for a in asked]


def version(type: QuestionType, **overrides: Any) -> KioskQuestionVersion:
    """A question version as the kiosk sees it (not stored: validation needs no database)."""
    fields: dict[str, Any] = {
        "version": 1, "type": type, "text_en": "?", "required": False, "choices": [],
        "min_value": None, "max_value": None, "visit_types": [], "provider_ids": [],
        "location_ids": [], "condition": None, "flag_rules": [],
    }
    fields.update(overrides)
    return KioskQuestionVersion(**fields)


def asked(key: str, **overrides: Any) -> Asked:
    return Asked(key, version(Q.YES_NO, **overrides))


# --- which questions a visit gets ------------------------------------------------------------


def test_questions_are_asked_in_the_clinics_order(session: Session) -> None:
    make_question(session, "visit_reason", Q.SHORT_TEXT, position=3)
    make_question(session, "chest_pain", position=1)
    make_question(session, "recent_travel", position=2)

    assert keys(questions_for_visit(session, make_appointment(session))) == [
        "chest_pain", "recent_travel", "visit_reason",
    ]


def test_a_retired_question_is_not_asked(session: Session) -> None:
    make_question(session, "chest_pain", position=1)
    make_question(session, "flu_shot_2025", position=2, active=False)

    assert keys(questions_for_visit(session, make_appointment(session))) == ["chest_pain"]


def test_a_question_for_one_visit_type_is_asked_only_at_that_visit(session: Session) -> None:
    make_question(session, "chest_pain", position=1)
    make_question(session, "dental_symptoms", Q.MULTIPLE_CHOICE, position=2,
                  visit_types=["Dental cleaning"], choices=DELIVERY)

    follow_up = make_appointment(session, visit_type="Follow-up")
    cleaning = make_appointment(session, visit_type="Dental cleaning")

    assert keys(questions_for_visit(session, follow_up)) == ["chest_pain"]
    assert keys(questions_for_visit(session, cleaning)) == ["chest_pain", "dental_symptoms"]


def test_a_question_for_one_provider_or_location_is_asked_only_there(session: Session) -> None:
    okafor, ortega = make_provider(session), make_provider(session)
    pediatrics, dental = make_location(session), make_location(session)
    make_question(session, "okafor_only", position=1, provider_ids=[okafor.id])
    make_question(session, "dental_only", position=2, location_ids=[dental.id])
    make_question(session, "everyone", position=3)

    at_okafor_peds = make_appointment(session, provider=okafor, location=pediatrics)
    at_ortega_dental = make_appointment(session, provider=ortega, location=dental)

    assert keys(questions_for_visit(session, at_okafor_peds)) == ["okafor_only", "everyone"]
    assert keys(questions_for_visit(session, at_ortega_dental)) == ["dental_only", "everyone"]


def test_the_newest_wording_of_a_question_is_asked(session: Session, engine: Engine) -> None:
    question = make_question(session, "chest_pain", text_en="Chest pain?")
    add_question_version(session, question, text_en="Do you have chest pain right now?")
    appointment = make_appointment(session)
    session.commit()

    with Session(engine) as kiosk:
        (current,) = questions_for_visit(kiosk, kiosk.get(Appointment, appointment.id))
        assert current.version.version == 2
        assert current.version.text("en") == "Do you have chest pain right now?"


def test_the_newest_version_decides_whether_a_question_applies(session: Session) -> None:
    question = make_question(session, "dental_symptoms")
    add_question_version(session, question, visit_types=["Dental cleaning"])

    assert questions_for_visit(session, make_appointment(session, visit_type="Follow-up")) == []


# --- which questions are shown ---------------------------------------------------------------


ALLERGIES = [
    asked("new_allergies"),
    Asked("allergy_details", version(Q.SHORT_TEXT,
                                     condition={"question": "new_allergies", "equals": True})),
    asked("recent_travel"),
]


def test_a_follow_up_question_is_hidden_until_the_earlier_answer_calls_for_it() -> None:
    assert keys(visible(ALLERGIES, {})) == ["new_allergies", "recent_travel"]
    assert keys(visible(ALLERGIES, {"new_allergies": False})) == ["new_allergies",
                                                                    "recent_travel"]
    assert keys(visible(ALLERGIES, {"new_allergies": True})) == [
        "new_allergies", "allergy_details", "recent_travel",
    ]


def test_a_hidden_questions_answer_does_not_unlock_a_later_one() -> None:
    chain = [
        asked("smokes"),
        asked("wants_help_quitting", condition={"question": "smokes", "equals": True}),
        asked("quit_line_referral",
              condition={"question": "wants_help_quitting", "equals": True}),
    ]
    # The patient said yes to both, then changed the first answer to no.
    stale = {"smokes": False, "wants_help_quitting": True}

    assert keys(visible(chain, stale)) == ["smokes"]
    assert keys(visible(chain, {"smokes": True, "wants_help_quitting": True})) == [
        "smokes", "wants_help_quitting", "quit_line_referral",
    ]


def test_a_condition_on_a_multiple_choice_answer_holds_when_the_choice_is_ticked() -> None:
    questions = [
        Asked("symptoms", version(Q.MULTIPLE_CHOICE, choices=DELIVERY)),
        asked("about_email", condition={"question": "symptoms", "equals": "email"}),
    ]

    assert keys(visible(questions, {"symptoms": ["portal", "email"]})) == ["symptoms",
                                                                          "about_email"]
    assert keys(visible(questions, {"symptoms": ["portal"]})) == ["symptoms"]


# --- what a valid answer is ------------------------------------------------------------------


def refused(v: KioskQuestionVersion, raw: Any) -> str:
    with pytest.raises(AnswerInvalid) as error:
        validate_answer(v, raw)
    return error.value.key


@pytest.mark.parametrize("type", list(QuestionType))
@pytest.mark.parametrize("empty", [None, "", []])
def test_a_required_question_cannot_be_skipped(type: QuestionType, empty: Any) -> None:
    v = version(type, required=True, choices=DELIVERY)

    assert refused(v, empty) == "questions.error_required"


@pytest.mark.parametrize("type", list(QuestionType))
@pytest.mark.parametrize("empty", [None, "", []])
def test_an_optional_question_can_be_skipped(type: QuestionType, empty: Any) -> None:
    assert validate_answer(version(type, choices=DELIVERY), empty) is None


def test_yes_or_no_takes_only_yes_or_no() -> None:
    v = version(Q.YES_NO, required=True)

    assert validate_answer(v, True) is True
    assert validate_answer(v, False) is False
    for raw in ("yes", "no", 1, 0, "true"):
        assert refused(v, raw) == "questions.error_choice"


def test_a_single_choice_must_be_one_of_the_listed_values() -> None:
    v = version(Q.SINGLE_CHOICE, choices=DELIVERY)

    assert validate_answer(v, "print") == "print"
    assert refused(v, "fax") == "questions.error_choice"
    assert refused(v, "Printed copy") == "questions.error_choice"  # the label, not the value


def test_multiple_choices_come_back_in_the_forms_order() -> None:
    v = version(Q.MULTIPLE_CHOICE, choices=DELIVERY)

    assert validate_answer(v, ["email", "portal"]) == ["portal", "email"]
    assert validate_answer(v, ("print",)) == ["print"]
    assert validate_answer(v, "email") == ["email"]
    assert validate_answer(v, ["email", "email"]) == ["email"]
    assert refused(v, ["portal", "fax"]) == "questions.error_choice"


def test_short_text_is_trimmed_and_limited_to_500_characters() -> None:
    v = version(Q.SHORT_TEXT)

    assert validate_answer(v, "  rash on my   left arm \n") == "rash on my left arm"
    assert validate_answer(v, "x" * 500) == "x" * 500
    assert refused(v, "x" * 501) == "questions.error_too_long"
    assert validate_answer(v, "   ") is None
    assert refused(version(Q.SHORT_TEXT, required=True), "  \t ") == "questions.error_required"


def test_a_number_must_be_within_the_questions_bounds() -> None:
    temperature = version(Q.NUMBER, min_value=90, max_value=110)

    assert validate_answer(temperature, "98.6") == 98.6
    assert validate_answer(temperature, "98,6") == 98.6
    assert validate_answer(temperature, " 101 ") == 101
    assert isinstance(validate_answer(temperature, "101"), int)
    assert validate_answer(temperature, 90) == 90
    assert validate_answer(temperature, 110) == 110
    assert refused(temperature, "89.9") == "questions.error_range"
    assert refused(temperature, 120) == "questions.error_range"


def test_a_number_without_bounds_takes_any_number() -> None:
    assert validate_answer(version(Q.NUMBER), "-3") == -3


@pytest.mark.parametrize("garbage", ["abc", "12 kg", "nan", "NaN", "inf", "-inf", "Infinity",
                                     True, ["5"]])
def test_a_number_that_is_not_a_number_is_refused(garbage: Any) -> None:
    v = version(Q.NUMBER, min_value=0, max_value=500)

    assert refused(v, garbage) == "questions.error_number"


def test_the_pain_scale_runs_from_0_to_10() -> None:
    v = version(Q.PAIN_SCALE, required=True)

    assert [validate_answer(v, n) for n in range(11)] == list(range(11))
    assert validate_answer(v, "7") == 7
    assert refused(v, -1) == "questions.error_range"
    assert refused(v, 11) == "questions.error_range"
    assert refused(v, "ten") == "questions.error_number"


def test_a_date_is_given_in_iso_form() -> None:
    v = version(Q.DATE)

    assert validate_answer(v, "2026-05-30") == "2026-05-30"
    assert validate_answer(v, date(2026, 5, 30)) == "2026-05-30"
    assert refused(v, "05/30/2026") == "questions.error_date"
    assert refused(v, "2026-02-30") == "questions.error_date"
    assert refused(v, "last week") == "questions.error_date"


# --- flag rules ------------------------------------------------------------------------------


def test_rules_match_equals_in_at_least_and_at_most() -> None:
    assert rule_matches({"equals": True}, True)
    assert not rule_matches({"equals": True}, False)
    assert rule_matches({"equals": "email"}, ["portal", "email"])
    assert rule_matches({"in": ["print", "email"]}, "email")
    assert rule_matches({"in": ["print", "email"]}, ["portal", "print"])
    assert not rule_matches({"in": ["print", "email"]}, "portal")
    assert rule_matches({"at_least": 8}, 8)
    assert rule_matches({"at_least": 8}, 10)
    assert not rule_matches({"at_least": 8}, 7)
    assert rule_matches({"at_most": 2}, 2)
    assert not rule_matches({"at_most": 2}, 3)


def test_rules_never_match_a_skipped_answer_or_an_unknown_test() -> None:
    assert not rule_matches({"equals": True}, None)
    assert not rule_matches({"at_least": 0}, None)
    assert not rule_matches({"at_least": 1}, True)  # yes is not a number
    assert not rule_matches({"at_least": 1}, "9")
    assert not rule_matches({"resembles": 1}, 1)
    assert not rule_matches({}, True)


# --- saving answers --------------------------------------------------------------------------


def only_asked(session: Session, appointment: Appointment) -> Asked:
    (current,) = questions_for_visit(session, appointment)
    return current


def answer(session: Session, appointment: Appointment, current: Asked, value: Any) -> list[Flag]:
    return save_answer(session, appointment, current, value, language="en", now=NOW,
                       kiosk_id=KIOSK)


def test_a_worrying_answer_reaches_the_desk_before_the_check_in_is_finished(
    session: Session, engine: Engine
) -> None:
    make_question(session, "chest_pain", required=True, flag_rules=URGENT_IF_YES)
    appointment = make_appointment(session)
    check_in = begin(session, appointment.id, channel=Channel.KIOSK, now=NOW,
                     tz=ZoneInfo("America/Chicago"), rules=ClinicSettings(), kiosk_id=KIOSK)

    raised = answer(session, appointment, only_asked(session, appointment), True)
    session.commit()

    assert [(f.kind, f.severity) for f in raised] == [(FlagKind.URGENT_ANSWER,
                                                       FlagSeverity.URGENT)]
    with Session(engine) as desk:
        (flag,) = desk.scalars(select(Flag)).all()
        assert flag.kind == FlagKind.URGENT_ANSWER
        assert flag.status == FlagStatus.OPEN
        assert flag.appointment_id == appointment.id
        assert flag.patient_id == appointment.patient_id
        assert flag.new_value == {"question": "chest_pain", "answer": True}
        still_checking_in = desk.get(CheckIn, check_in.id)
        assert still_checking_in is not None
        assert still_checking_in.completed_at is None
        assert desk.get(Appointment, appointment.id).status == AppointmentStatus.ARRIVED


def test_a_reassuring_answer_raises_no_flag(session: Session) -> None:
    make_question(session, "chest_pain", required=True, flag_rules=URGENT_IF_YES)
    appointment = make_appointment(session)

    assert answer(session, appointment, only_asked(session, appointment), False) == []
    assert session.scalars(select(Flag)).all() == []


def test_severe_pain_raises_a_flag_at_the_rules_severity(session: Session) -> None:
    make_question(session, "pain_level", Q.PAIN_SCALE, flag_rules=[
        {"when": {"at_least": 8}, "flag": "urgent_answer", "severity": "warning"},
    ])
    appointment = make_appointment(session)
    current = only_asked(session, appointment)

    assert answer(session, appointment, current, 7) == []
    raised = answer(session, appointment, current, 9)

    assert [(f.kind, f.severity) for f in raised] == [(FlagKind.URGENT_ANSWER,
                                                       FlagSeverity.WARNING)]


def test_answering_again_replaces_the_earlier_answer(session: Session) -> None:
    make_question(session, "visit_summary_delivery", Q.SINGLE_CHOICE, choices=DELIVERY)
    appointment = make_appointment(session)
    current = only_asked(session, appointment)

    answer(session, appointment, current, "print")
    save_answer(session, appointment, current, "email", language="es",
                now=NOW + timedelta(minutes=1), kiosk_id=KIOSK)

    (stored,) = session.scalars(select(Answer)).all()
    assert stored.value == "email"
    assert stored.language == "es"
    assert stored.answered_at == NOW + timedelta(minutes=1)
    assert saved_answers(session, appointment.id) == {"visit_summary_delivery": "email"}


def test_an_answer_keeps_pointing_at_the_wording_the_patient_saw(
    session: Session, engine: Engine
) -> None:
    question = make_question(session, "chest_pain", text_en="Chest pain?")
    appointment = make_appointment(session)
    seen = only_asked(session, appointment)
    answer(session, appointment, seen, False)
    session.commit()

    newer = add_question_version(session, question, text_en="Any chest pain today?")
    session.commit()

    with Session(engine) as fresh:
        (stored,) = fresh.scalars(select(Answer)).all()
        assert stored.question_version_id == seen.version.id
        assert stored.question_version.text_en == "Chest pain?"
        asked_now = only_asked(fresh, fresh.get(Appointment, appointment.id))
        assert asked_now.version.id == newer.id != seen.version.id


def test_saved_answers_come_back_by_question_key(session: Session) -> None:
    make_question(session, "chest_pain", position=1)
    make_question(session, "pain_level", Q.PAIN_SCALE, position=2)
    make_question(session, "dental_symptoms", Q.MULTIPLE_CHOICE, position=3, choices=DELIVERY)
    make_question(session, "visit_reason", Q.SHORT_TEXT, position=4)
    appointment = make_appointment(session)
    other = make_appointment(session)
    chest, pain, dental, _reason = questions_for_visit(session, appointment)

    answer(session, appointment, chest, False)
    answer(session, appointment, pain, 3)
    answer(session, appointment, dental, ["portal", "email"])
    answer(session, other, chest, True)

    assert saved_answers(session, appointment.id) == {
        "chest_pain": False, "pain_level": 3, "dental_symptoms": ["portal", "email"],
    }
    assert saved_answers(session, other.id) == {"chest_pain": True}
    count = session.scalar(select(func.count()).select_from(Answer))
    assert count == 4
