"""Opening the database for an app process, with reasons a person can act on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from shared.config import ConfigError, Settings, get_settings
from shared.db import DatabaseUnavailable, check_connection, get_engine


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine


class AppUnavailable(Exception):
    """The app cannot serve: a bad setting or an unreachable database. One line, no secrets."""


def open_app() -> AppContext:
    """Settings and a checked engine, or AppUnavailable with a one-line reason."""
    try:
        settings = get_settings()
    except ConfigError as exc:
        raise AppUnavailable(str(exc)) from exc
    engine = get_engine(settings.database_url)
    try:
        check_connection(engine)
    except DatabaseUnavailable as exc:
        raise AppUnavailable(str(exc)) from exc
    return AppContext(settings=settings, engine=engine)
