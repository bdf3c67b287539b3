"""The clinic's own settings: defaults until a manager changes them, every value checked
before anything is stored, and each change audited by name only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.models import AuditEvent, ClinicSetting, StaffRole, StaffUser
from shared.services import clinic_settings
from shared.services.clinic_settings import ClinicSettings, SettingsInvalid


def manager(session: Session) -> StaffUser:
    user = StaffUser(username="morgan", display_name="Morgan Manager", password_hash="x",
                     role=StaffRole.MANAGER)
    session.add(user)
    session.flush()
    return user


def test_an_empty_database_gives_the_defaults(session: Session) -> None:
    settings = clinic_settings.load(session)

    assert settings == ClinicSettings()
    assert settings.early_checkin_minutes == 30
    assert settings.grace_minutes == 15
    assert settings.allow_late_checkin is True
    assert settings.languages == ("en", "es")


def test_a_managers_change_is_stored_and_applies_at_once(
    session: Session, engine: Engine
) -> None:
    user = manager(session)

    returned = clinic_settings.update(
        session,
        {"grace_minutes": 10, "allow_late_checkin": False, "languages": ["en"],
         "clinic_name": "  Lakeside Family Clinic ", "welcome_message_es": "¡Bienvenidos!"},
        staff_user_id=user.id,
    )
    session.commit()

    with Session(engine) as kiosk:
        loaded = clinic_settings.load(kiosk)
    assert loaded == returned
    assert loaded.grace_minutes == 10
    assert loaded.allow_late_checkin is False
    assert loaded.languages == ("en",)
    assert loaded.clinic_name == "Lakeside Family Clinic"
    assert loaded.welcome_message_es == "¡Bienvenidos!"
    assert loaded.early_checkin_minutes == 30  # untouched settings keep their defaults


def test_changing_a_setting_again_replaces_its_value(session: Session) -> None:
    clinic_settings.update(session, {"grace_minutes": 10}, staff_user_id=None)
    clinic_settings.update(session, {"grace_minutes": 20}, staff_user_id=None)

    assert clinic_settings.load(session).grace_minutes == 20
    rows = session.scalars(select(ClinicSetting)).all()
    assert [(r.key, r.value) for r in rows] == [("grace_minutes", 20)]


@pytest.mark.parametrize(
    "changes",
    [
        {"grace_minutes": -1},
        {"grace_minutes": 121},
        {"grace_minutes": "abc"},
        {"grace_minutes": "15"},
        {"grace_minutes": True},
        {"grace_minutes": 7.5},
        {"kiosk_timeout_seconds": 5},
        {"allow_late_checkin": "yes"},
        {"allow_early_checkin": 1},
        {"wait_red_minutes": 15},  # not later than the default amber of 15
        {"wait_amber_minutes": 40},  # later than the default red of 30
        {"wait_amber_minutes": 30, "wait_red_minutes": 30},
        {"clinic_name": "   "},
        {"clinic_name": "x" * 501},
        {"languages": ["es"]},
        {"languages": []},
        {"languages": ["en", "fr"]},
        {"waiting_room_music": "on"},
        {"grace_minutes": 5, "early_checkin_minutes": 999},  # one bad value spoils the lot
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_stored(
    session: Session, changes: dict[str, Any]
) -> None:
    with pytest.raises(SettingsInvalid) as refused:
        clinic_settings.update(session, changes, staff_user_id=None)

    assert refused.value.key == "error.setting_invalid"
    assert refused.value.params["name"] in {*changes, "wait_red_minutes"}
    assert session.scalars(select(ClinicSetting)).all() == []
    assert session.scalars(select(AuditEvent)).all() == []
    assert clinic_settings.load(session) == ClinicSettings()


def test_a_refused_change_leaves_earlier_settings_as_they_were(session: Session) -> None:
    clinic_settings.update(session, {"grace_minutes": 10}, staff_user_id=None)

    with pytest.raises(SettingsInvalid):
        clinic_settings.update(session, {"grace_minutes": 20, "wait_red_minutes": 5},
                               staff_user_id=None)

    assert clinic_settings.load(session).grace_minutes == 10


def test_a_damaged_stored_value_falls_back_to_its_default(session: Session) -> None:
    session.add_all([ClinicSetting(key="grace_minutes", value="lots"),
                     ClinicSetting(key="retired_setting", value=3),
                     ClinicSetting(key="early_checkin_minutes", value=45)])
    session.flush()

    settings = clinic_settings.load(session)

    assert settings.grace_minutes == 15
    assert settings.early_checkin_minutes == 45


def test_a_change_is_audited_by_who_and_how_many_never_by_value(session: Session) -> None:
    user = manager(session)

    clinic_settings.update(session, {"clinic_name": "Lakeside Family Clinic",
                                     "grace_minutes": 25}, staff_user_id=user.id)
    session.flush()

    (event,) = session.scalars(select(AuditEvent)).all()
    assert event.action == "settings.updated"
    assert event.actor_type == "staff"
    assert event.actor_id == str(user.id)
    assert event.record_type == "clinic_setting"
    assert event.detail == {"count": 2}
    assert "Lakeside" not in str(event.detail)
    assert "25" not in str(event.detail)
    stored = {r.key: r.updated_by_id for r in session.scalars(select(ClinicSetting))}
    assert stored == {"clinic_name": user.id, "grace_minutes": user.id}
