"""Manager pages: settings and staff. A representative is refused on the server."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import KioskQuestion, StaffUser, utcnow
from shared.services import clinic_settings
from tests.apps.conftest import dashboard_as


@pytest.fixture
def clinic(app_db):
    with session_scope(app_db) as session:
        demo.seed_demo(session, tz=get_settings().tz, now=utcnow())
    return app_db


def _as(username: str, screen: str) -> AppTest:
    return dashboard_as(username, screen)

@pytest.mark.parametrize("screen", ["settings", "staff", "questions", "consent_forms"])
def test_a_representative_is_refused_manager_pages(clinic, screen: str) -> None:
    at = _as("rep", screen)
    assert [e.value for e in at.error] == [
        "You do not have access to this page. Sign in with an account that does."]
    assert not at.text_input


def test_manager_changes_the_grace_period_and_it_applies_at_once(clinic) -> None:
    at = _as("manager", "settings")
    at.number_input(key="set_grace_minutes").set_value(20)
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)
    with Session(clinic) as session:
        assert clinic_settings.load(session).grace_minutes == 20


def test_red_before_amber_is_refused_and_nothing_is_saved(clinic) -> None:
    at = _as("manager", "settings")
    at.number_input(key="set_wait_amber_minutes").set_value(40)
    at.number_input(key="set_wait_red_minutes").set_value(30)
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    assert at.error
    with Session(clinic) as session:
        assert clinic_settings.load(session).wait_amber_minutes == 15


def test_manager_resets_a_password_shown_once(clinic) -> None:
    at = _as("manager", "staff")
    with Session(clinic) as session:
        rep = session.scalars(select(StaffUser).where(StaffUser.username == "rep")).one()
        old_hash = rep.password_hash
    at.button(key=f"staff_reset_{rep.id}").click().run()
    assert not at.exception
    shown = [w.value for w in at.warning if "New password for rep" in w.value]
    assert len(shown) == 1
    at.run()
    assert not [w for w in at.warning if "New password for rep" in w.value]
    with Session(clinic) as session:
        assert session.get(StaffUser, rep.id).password_hash != old_hash


def test_the_last_manager_cannot_be_deactivated(clinic) -> None:
    at = _as("manager", "staff")
    with Session(clinic) as session:
        manager = session.scalars(select(StaffUser).where(StaffUser.username == "manager")).one()
    at.button(key=f"staff_active_{manager.id}").click().run()
    assert not at.exception
    assert any("own account" in e.value or "at least one" in e.value for e in at.error)
    with Session(clinic) as session:
        assert session.get(StaffUser, manager.id).active


def _save(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Save and publish").click().run()
    assert not at.exception, at.exception
    return at


def test_manager_adds_a_conditional_question_with_an_urgent_rule(clinic) -> None:
    at = _as("manager", "questions")
    at.text_input(key="q_key___new__").input("fever")
    at.selectbox(key="q_type___new__").set_value("yes_no")
    at.text_area(key="q_ten___new__").input("Do you have a fever?")
    at.text_area(key="q_tes___new__").input("¿Tiene fiebre?")
    at.selectbox(key="q_cond___new__").set_value("chest_pain_or_breathing")
    at.text_input(key="q_condv___new__").input("no")
    at.selectbox(key="q_rop___new__").set_value("equals")
    at.text_input(key="q_rv___new__").input("yes")
    _save(at)
    assert any("Saved" in s.value for s in at.success), [e.value for e in at.error]
    from shared.models import KioskQuestion

    with Session(clinic) as session:
        question = session.scalars(select(KioskQuestion).where(KioskQuestion.key == "fever")).one()
        version = question.current
        assert version.condition == {"question": "chest_pain_or_breathing", "equals": False}
        assert version.flag_rules == [{"when": {"equals": True}, "flag": "urgent_answer",
                                       "severity": "urgent"}]


def test_a_choice_question_without_choices_is_refused(clinic) -> None:
    at = _as("manager", "questions")
    at.text_input(key="q_key___new__").input("contact_pref")
    at.selectbox(key="q_type___new__").set_value("single_choice")
    at.text_area(key="q_ten___new__").input("How should we contact you?")
    at.text_area(key="q_tes___new__").input("¿Cómo le contactamos?")
    _save(at)
    assert any("at least two choices" in e.value for e in at.error)


def test_missing_spanish_is_refused_when_spanish_is_offered(clinic) -> None:
    at = _as("manager", "questions")
    at.text_input(key="q_key___new__").input("diet")
    at.text_area(key="q_ten___new__").input("Are you on a special diet?")
    _save(at)
    assert any("Spanish" in e.value for e in at.error)


def test_publishing_a_new_consent_version_asks_patients_to_sign_again(clinic) -> None:
    from shared.models import Appointment, ConsentForm, Patient
    from shared.services import consent

    at = _as("manager", "consent_forms")
    with Session(clinic) as session:
        form = session.scalars(select(ConsentForm).where(
            ConsentForm.key == "general_consent")).one()
    at.selectbox(key="consent_form_chosen").set_value(form.id).run()
    at.text_input(key=f"cv_ten_{form.id}").input("Consent to treatment (2027)")
    next(b for b in at.button if b.label == "Add as a draft version").click().run()
    assert not at.exception
    assert any("Draft added" in s.value for s in at.success)
    with Session(clinic) as session:
        draft = max(session.get(ConsentForm, form.id).versions, key=lambda v: v.version)
        elena = session.scalars(select(Patient).where(Patient.mrn == "DEMO-0001")).one()
        visit = session.scalars(select(Appointment).where(
            Appointment.patient_id == elena.id)).first()
        day = visit.start.date()
        before = consent.forms_to_sign(session, visit, language="en", now=utcnow(), day=day)
    assert not before  # a draft asks nobody to sign
    at.button(key=f"cf_pub_{draft.id}").click().run()
    assert not at.exception
    with Session(clinic) as session:
        visit = session.get(Appointment, visit.id)
        after = consent.forms_to_sign(session, visit, language="en", now=utcnow(), day=day)
    assert [f.version_id for f in after] == [draft.id]


def test_a_version_without_text_is_refused(clinic) -> None:
    at = _as("manager", "consent_forms")
    from shared.models import ConsentForm

    with Session(clinic) as session:
        form = session.scalars(select(ConsentForm)).first()
    at.selectbox(key="consent_form_chosen").set_value(form.id).run()
    at.text_area(key=f"cv_ben_{form.id}").input("")
    next(b for b in at.button if b.label == "Add as a draft version").click().run()
    assert any("English title and text" in e.value for e in at.error)


# --- Question edits: seen at once, drafts, Spanish out of date -------------------------------

TRAVEL = "recent_travel"
TRAVEL_EN = "Have you travelled outside the country in the last 30 days?"
TRAVEL_NEW = "Have you been outside the United States in the last 30 days?"


def _edit(at: AppTest, key: str, **fields: str) -> str:
    """Open `key` in the editor and type `fields` (q_ten, q_tes, ...); the widget suffix."""
    at.selectbox(key="q_edit_which").set_value(key).run()
    assert not at.exception, at.exception
    suffix = next(w.key for w in at.text_area if w.key.startswith(f"q_ten_{key}_v")
                  ).removeprefix("q_ten_")
    for name, value in fields.items():
        at.text_area(key=f"{name}_{suffix}").input(value)
    return suffix


def _press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _preview_labels(at: AppTest) -> list[str]:
    return [r.label for r in at.radio if r.key and r.key.startswith("preview_")]


def _asked(engine, key: str) -> str | None:
    from shared.models import Appointment
    from shared.services.questions import questions_for_visit

    with Session(engine) as session:
        visit = session.scalars(select(Appointment)).first()
        return next((a.version.text_en for a in questions_for_visit(session, visit)
                     if a.key == key), None)


def test_a_published_edit_is_what_the_preview_shows_at_once(clinic) -> None:
    at = _as("manager", "questions")
    assert TRAVEL_EN in _preview_labels(at)
    _edit(at, TRAVEL, q_ten=TRAVEL_NEW)
    _press(at, "Save and publish")
    assert [s.value for s in at.success] == [t("questions_admin.saved")]
    # The same run that reports the save draws the preview (a tab is switched in the browser
    # with no run): it must already hold the new wording.
    assert TRAVEL_NEW in _preview_labels(at)
    assert TRAVEL_EN not in _preview_labels(at)
    assert _asked(clinic, TRAVEL) == TRAVEL_NEW
    # The editor opens the saved version with its own values.
    assert at.text_area(key=f"q_ten_{TRAVEL}_v2").value == TRAVEL_NEW


def test_english_edited_alone_warns_the_spanish_is_out_of_date_until_it_is_saved(
        clinic) -> None:
    at = _as("manager", "questions")
    _edit(at, TRAVEL, q_ten=TRAVEL_NEW)
    _press(at, "Save and publish")
    warning = t("questions_admin.spanish_outdated", parts=t("questions_admin.part_text"))
    assert warning in [w.value for w in at.warning]
    marked = [m.value for m in at.markdown if f"`{TRAVEL}`" in m.value]
    assert len(marked) == 1 and t("questions_admin.spanish_outdated_marker") in marked[0]
    # Someone saves the Spanish: the warning and the mark go.
    _edit(at, TRAVEL, q_tes="¿Ha estado fuera de los Estados Unidos en los últimos 30 días?")
    _press(at, "Save and publish")
    assert warning not in [w.value for w in at.warning]
    marked = [m.value for m in at.markdown if f"`{TRAVEL}`" in m.value]
    assert t("questions_admin.spanish_outdated_marker") not in marked[0]


def test_a_draft_is_not_asked_until_it_is_published(clinic) -> None:
    at = _as("manager", "questions")
    _edit(at, TRAVEL, q_ten=TRAVEL_NEW, q_tes="¿Ha estado fuera del país este mes?")
    _press(at, "Save as a draft")
    assert [s.value for s in at.success] == [t("questions_admin.draft_saved")]
    assert _asked(clinic, TRAVEL) == TRAVEL_EN  # the kiosk asks the published version
    marked = [m.value for m in at.markdown if f"`{TRAVEL}`" in m.value]
    assert t("questions_admin.draft_marker") in marked[0]
    assert t("questions_admin.editing_draft", version=2) in [i.value for i in at.info]
    # The preview shows the draft, or with drafts off what patients are asked now.
    assert TRAVEL_NEW in _preview_labels(at)
    at.toggle(key="q_preview_drafts").set_value(False).run()
    assert TRAVEL_EN in _preview_labels(at) and TRAVEL_NEW not in _preview_labels(at)
    at.button(key=f"q_pub_{TRAVEL}").click().run()
    assert not at.exception, at.exception
    assert _asked(clinic, TRAVEL) == TRAVEL_NEW
    marked = [m.value for m in at.markdown if f"`{TRAVEL}`" in m.value]
    assert t("questions_admin.draft_marker") not in marked[0]


def test_a_discarded_draft_leaves_the_published_wording(clinic) -> None:
    at = _as("manager", "questions")
    _edit(at, TRAVEL, q_ten="Half-written")
    _press(at, "Save as a draft")
    at.button(key=f"q_discard_{TRAVEL}").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [t("questions_admin.draft_discarded")]
    assert _asked(clinic, TRAVEL) == TRAVEL_EN
    assert "Half-written" not in _preview_labels(at)


def test_a_consent_version_with_english_changed_alone_is_marked(clinic) -> None:
    from shared.models import ConsentForm

    at = _as("manager", "consent_forms")
    with Session(clinic) as session:
        form = session.scalars(select(ConsentForm).where(
            ConsentForm.key == "general_consent")).one()
    at.selectbox(key="consent_form_chosen").set_value(form.id).run()
    body = at.text_area(key=f"cv_ben_{form.id}").value
    at.text_area(key=f"cv_ben_{form.id}").input(body + " We may call you about your visit.")
    next(b for b in at.button if b.label == "Add as a draft version").click().run()
    assert not at.exception, at.exception
    warning = t("consent_admin.spanish_outdated", parts=t("consent_admin.part_body"))
    assert warning in [w.value for w in at.warning]
    expanders = [e.label for e in at.expander]
    assert t("consent_admin.spanish_outdated_marker") in expanders[0]  # the new draft
    assert all(t("consent_admin.spanish_outdated_marker") not in e for e in expanders[1:])


def test_manager_allows_im_here_without_the_lobby_code(clinic) -> None:
    at = _as("manager", "settings")
    assert at.checkbox(key="set_arrive_without_lobby_code").value is False
    at.checkbox(key="set_arrive_without_lobby_code").check()
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    with Session(clinic) as session:
        assert clinic_settings.load(session).arrive_without_lobby_code is True


def test_manager_marks_a_question_whose_answer_carries_over(clinic) -> None:
    at = _as("manager", "questions")
    with Session(clinic) as session:
        key = session.scalars(select(KioskQuestion.key).order_by(KioskQuestion.position)).first()
    toggle = at.toggle(key=f"q_carry_{key}")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception
    with Session(clinic) as session:
        assert session.scalars(select(KioskQuestion.carry_over).where(
            KioskQuestion.key == key)).one() is True
    assert at.toggle(key=f"q_carry_{key}").value is True
