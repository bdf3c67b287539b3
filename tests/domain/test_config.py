"""Settings: sensible defaults on a fresh machine, and one clear line for each bad value."""

from __future__ import annotations

import stat
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.config import ConfigError, Settings, load_settings


def _load(instance: Path, **variables: str) -> Settings:
    return load_settings(env={"CHECKIN_INSTANCE_DIR": str(instance), **variables})


def _refusal(instance: Path, **variables: str) -> str:
    with pytest.raises(ConfigError) as refused:
        _load(instance, **variables)
    message = str(refused.value)
    assert "\n" not in message, "a configuration error is one line"
    return message


# --- defaults ---------------------------------------------------------------------------------


def test_a_fresh_install_keeps_its_sqlite_database_in_the_instance_dir(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'checkin.db'}"
    assert settings.is_sqlite
    assert settings.instance_dir == tmp_path


def test_a_missing_instance_dir_is_created(tmp_path: Path) -> None:
    instance = tmp_path / "var" / "checkin"
    settings = _load(instance)
    assert instance.is_dir()
    assert settings.instance_dir == instance


def test_a_fresh_install_generates_a_private_secret_key_file(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == settings.secret_key
    assert len(settings.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_generated_secret_key_is_the_same_on_the_next_start(tmp_path: Path) -> None:
    first = _load(tmp_path).secret_key
    second = _load(tmp_path).secret_key
    assert first == second


def test_two_installs_get_different_secret_keys(tmp_path: Path) -> None:
    assert _load(tmp_path / "a").secret_key != _load(tmp_path / "b").secret_key


def test_the_default_time_zone_is_a_real_zone(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert isinstance(settings.tz, ZoneInfo)
    assert settings.tz.key == settings.timezone


def test_the_default_kiosk_url_is_the_local_kiosk(tmp_path: Path) -> None:
    assert _load(tmp_path).kiosk_url == "http://localhost:8501"


# --- time zone --------------------------------------------------------------------------------


def test_the_clinic_time_zone_is_taken_from_the_setting(tmp_path: Path) -> None:
    settings = _load(tmp_path, CHECKIN_TIMEZONE="America/Chicago")
    assert settings.timezone == "America/Chicago"
    assert settings.tz == ZoneInfo("America/Chicago")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Central Time", "../../etc/passwd"])
def test_an_unknown_time_zone_is_refused_naming_the_setting(tmp_path: Path, zone: str) -> None:
    message = _refusal(tmp_path, CHECKIN_TIMEZONE=zone)
    assert message.startswith("CHECKIN_TIMEZONE")
    assert zone in message


# --- database URL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "localhost:5432/checkin",
        "postgresql://checkin@db.example:notaport/checkin",
    ],
    ids=["garbage", "no-scheme", "bad-port"],
)
def test_a_database_url_that_is_not_a_url_is_refused(tmp_path: Path, url: str) -> None:
    message = _refusal(tmp_path, CHECKIN_DATABASE_URL=url)
    assert message.startswith("CHECKIN_DATABASE_URL")


@pytest.mark.parametrize(
    "url",
    ["mysql://checkin:hunter2secret@db.example/checkin", "oracle+oracledb://db.example/checkin"],
)
def test_an_unsupported_database_is_refused(tmp_path: Path, url: str) -> None:
    message = _refusal(tmp_path, CHECKIN_DATABASE_URL=url)
    assert message.startswith("CHECKIN_DATABASE_URL")
    assert "hunter2secret" not in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://checkin:s3cret@db.example:5432/checkin",
        "postgresql+psycopg2://checkin:s3cret@db.example:5432/checkin",
    ],
    ids=["no-driver", "psycopg2"],
)
def test_a_postgresql_url_is_rewritten_to_use_psycopg_3(tmp_path: Path, url: str) -> None:
    settings = _load(tmp_path, CHECKIN_DATABASE_URL=url)
    assert settings.database_url == "postgresql+psycopg://checkin:s3cret@db.example:5432/checkin"
    assert not settings.is_sqlite


def test_an_explicit_sqlite_url_is_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert _load(tmp_path, CHECKIN_DATABASE_URL=url).database_url == url


# --- secret key -------------------------------------------------------------------------------


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    message = _refusal(tmp_path, CHECKIN_SECRET_KEY="x" * 31)
    assert message.startswith("CHECKIN_SECRET_KEY")
    assert "x" * 31 not in message


def test_a_long_enough_secret_key_is_used_and_no_key_file_is_written(tmp_path: Path) -> None:
    key = "k" * 32
    assert _load(tmp_path, CHECKIN_SECRET_KEY=key).secret_key == key
    assert not (tmp_path / "secret_key").exists()


# --- kiosk URL --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["kiosk.example:8501", "ftp://kiosk.example", "//kiosk.example"])
def test_a_kiosk_url_without_http_is_refused(tmp_path: Path, url: str) -> None:
    message = _refusal(tmp_path, CHECKIN_KIOSK_URL=url)
    assert message.startswith("CHECKIN_KIOSK_URL")


def test_the_kiosk_url_loses_its_trailing_slash(tmp_path: Path) -> None:
    settings = _load(tmp_path, CHECKIN_KIOSK_URL="https://kiosk.clinic.example/")
    assert settings.kiosk_url == "https://kiosk.clinic.example"
