"""Settings from environment variables, validated once.

Every setting has a sensible default so that `make run` works on a fresh machine. A bad
value raises ConfigError with one line naming the variable and what is wrong.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shared import clock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_DB_BACKENDS = ("sqlite", "postgresql")


class ConfigError(Exception):
    """A setting has a value the product cannot use; the message is one line."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    timezone: str
    instance_dir: Path
    kiosk_url: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _instance_dir(env: dict[str, str]) -> Path:
    raw = env.get("CHECKIN_INSTANCE_DIR", "").strip()
    path = Path(raw) if raw else PROJECT_ROOT / "instance"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"CHECKIN_INSTANCE_DIR: cannot create {path} ({exc.strerror})") from exc
    return path


def _database_url(env: dict[str, str], instance: Path) -> str:
    raw = env.get("CHECKIN_DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance / 'checkin.db'}"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise ConfigError(
            "CHECKIN_DATABASE_URL: not a database URL "
            "(expected e.g. postgresql+psycopg://user@host:5432/dbname)"
        ) from exc
    if url.get_backend_name() not in SUPPORTED_DB_BACKENDS:
        raise ConfigError(
            f"CHECKIN_DATABASE_URL: backend '{url.get_backend_name()}' is not supported "
            "(use sqlite or postgresql)"
        )
    if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _secret_key(env: dict[str, str], instance: Path) -> str:
    raw = env.get("CHECKIN_SECRET_KEY", "").strip()
    if raw:
        if len(raw) < 32:
            raise ConfigError("CHECKIN_SECRET_KEY: too short (use at least 32 characters)")
        return raw
    key_file = instance / "secret_key"
    if not key_file.exists():
        key = secrets.token_urlsafe(48)
        try:
            # Created with 0600 from the start, so the key is never readable by others.
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # the other app started at the same moment and made it; read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(key + "\n")
            return key
    # Another process may still be writing it: give it a moment before calling it damaged.
    for _ in range(50):
        stored = key_file.read_text().strip()
        if len(stored) >= 32:
            return stored
        time.sleep(0.02)
    raise ConfigError(
        f"CHECKIN_SECRET_KEY: the stored key in {key_file} is damaged "
        "(delete the file to make a new one; issued QR codes stop working)"
    )


def _machine_timezone(env: dict[str, str]) -> str:
    tz = env.get("TZ", "").lstrip(":").strip()
    # TZ may hold a file path or a POSIX rule rather than a zone name; only a name is used.
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    if tz in ("UTC", "GMT"):
        return tz
    etc_timezone = Path("/etc/timezone")
    if etc_timezone.exists():
        name = etc_timezone.read_text().strip()
        if name:
            return name
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return "UTC"


def _timezone(env: dict[str, str]) -> str:
    name = env.get("CHECKIN_TIMEZONE", "").strip() or _machine_timezone(env)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"CHECKIN_TIMEZONE: '{name}' is not a known time zone (e.g. America/Chicago)"
        ) from exc
    return name


def _kiosk_url(env: dict[str, str]) -> str:
    raw = env.get("CHECKIN_KIOSK_URL", "").strip() or "http://localhost:8501"
    if not raw.startswith(("http://", "https://")):
        raise ConfigError("CHECKIN_KIOSK_URL: must start with http:// or https://")
    return raw.rstrip("/")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and validate the settings from `env` (the process environment by default)."""
    env = dict(os.environ if env is None else env)
    instance = _instance_dir(env)
    for name in (clock.ENV_VAR, clock.SET_AT_VAR):
        if env.get(name, "").strip():
            try:
                clock.parse_start(env[name], name)
            except clock.ClockError as exc:
                raise ConfigError(str(exc)) from exc
    return Settings(
        database_url=_database_url(env, instance),
        secret_key=_secret_key(env, instance),
        timezone=_timezone(env),
        instance_dir=instance,
        kiosk_url=_kiosk_url(env),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
