"""The clinic's own settings (arrival window, timeouts, languages...), kept in the database
so a manager's change applies without a restart: at once for every check-in rule, and within
CACHE_SECONDS on the kiosk's screens, which read the timeout on every refresh."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.models import ClinicSetting, utcnow
from shared.services import audit


@dataclass(frozen=True)
class ClinicSettings:
    clinic_name: str = "Riverside Community Clinic"
    # The arrival window: how early a patient may check in, and how late (the grace period).
    early_checkin_minutes: int = 30
    grace_minutes: int = 15
    # Outside the window the kiosk still checks the patient in (and flags it) when allowed.
    allow_early_checkin: bool = True
    allow_late_checkin: bool = True
    kiosk_timeout_seconds: int = 90
    wait_amber_minutes: int = 15
    wait_red_minutes: int = 30
    # Average minutes a provider spends per patient, for the kiosk's wait estimate.
    minutes_per_patient: int = 15
    languages: tuple[str, ...] = ("en", "es")
    welcome_message_en: str = ""
    welcome_message_es: str = ""
    # A chime and a browser notification on the desk's screens when an urgent alert comes
    # (help, an urgent answer, a walk-away). Off unless the clinic turns it on: a quiet desk.
    alert_sound: bool = False
    # "I'm here" on the patient's phone without scanning the lobby's code (parking-lot
    # check-in). Off by default: the phone proves it is in the lobby (shared.services.precheck).
    arrive_without_lobby_code: bool = False


DEFAULTS = ClinicSettings()
_BOUNDS = {
    "early_checkin_minutes": (0, 240),
    "grace_minutes": (0, 120),
    "kiosk_timeout_seconds": (30, 900),
    "wait_amber_minutes": (1, 240),
    "wait_red_minutes": (1, 480),
    "minutes_per_patient": (1, 120),
}


class SettingsInvalid(DomainError):
    key = "error.setting_invalid"


def _coerce(name: str, value: Any) -> Any:
    default = getattr(DEFAULTS, name)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsInvalid(f"{name} must be yes or no", name=name)
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsInvalid(f"{name} must be a whole number", name=name)
        low, high = _BOUNDS[name]
        if not low <= value <= high:
            raise SettingsInvalid(f"{name} must be between {low} and {high}", name=name)
        return value
    if isinstance(default, tuple):
        items = tuple(str(v) for v in value)
        if not items or not set(items) <= {"en", "es"} or "en" not in items:
            raise SettingsInvalid("languages must include English", name=name)
        return items
    if not isinstance(value, str):
        raise SettingsInvalid(f"{name} must be text", name=name)
    text = value.strip()
    if name == "clinic_name" and not text:
        raise SettingsInvalid("the clinic needs a name", name=name)
    if len(text) > 500:
        raise SettingsInvalid(f"{name} is too long", name=name)
    return text


def load(session: Session) -> ClinicSettings:
    """The settings in force: stored values over the defaults."""
    stored = {row.key: row.value for row in session.scalars(select(ClinicSetting))}
    known = {f.name for f in fields(ClinicSettings)}
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if name in known:
            try:
                values[name] = _coerce(name, value)
            except SettingsInvalid:
                continue  # a damaged value falls back to its default
    return replace(DEFAULTS, **values)


CACHE_SECONDS = 10.0
_cached: dict[str, tuple[float, ClinicSettings]] = {}
_cache_lock = threading.Lock()


def load_cached(engine: Engine, *, max_age_s: float = CACHE_SECONDS) -> ClinicSettings:
    """The settings for a screen that needs them on every refresh (the kiosk's inactivity
    timeout, its welcome text): read from the database at most every `max_age_s` seconds per
    process instead of on every rerun of every session."""
    key = engine.url.render_as_string(hide_password=False)
    with _cache_lock:
        hit = _cached.get(key)
    if hit is not None and time.monotonic() - hit[0] < max_age_s:
        return hit[1]
    with Session(engine) as session:
        settings = load(session)
    with _cache_lock:
        _cached[key] = (time.monotonic(), settings)
    return settings


def forget_cached() -> None:
    """Drop the cached settings (a test that changes them, or the settings page's save)."""
    with _cache_lock:
        _cached.clear()


def update(
    session: Session, changes: dict[str, Any], *, staff_user_id: int | None
) -> ClinicSettings:
    """Validate every change first, then store them all; audited by setting name."""
    known = {f.name for f in fields(ClinicSettings)}
    unknown = set(changes) - known
    if unknown:
        raise SettingsInvalid(f"unknown settings: {sorted(unknown)}", name=sorted(unknown)[0])
    coerced = {name: _coerce(name, value) for name, value in changes.items()}
    merged = replace(load(session), **coerced)
    if merged.wait_red_minutes <= merged.wait_amber_minutes:
        raise SettingsInvalid("the red limit must be later than the amber one",
                              name="wait_red_minutes")
    now = utcnow()
    for name, value in coerced.items():
        row = session.get(ClinicSetting, name)
        stored = list(value) if isinstance(value, tuple) else value
        if row is None:
            session.add(ClinicSetting(key=name, value=stored, updated_at=now,
                                      updated_by_id=staff_user_id))
        else:
            row.value = stored
            row.updated_at = now
            row.updated_by_id = staff_user_id
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="settings.updated",
                 record_type="clinic_setting", detail={"count": len(coerced)}, at=now)
    # This process's screens read the change at once; other processes within CACHE_SECONDS.
    forget_cached()
    return merged


def as_dict(settings: ClinicSettings) -> dict[str, Any]:
    return asdict(settings)
