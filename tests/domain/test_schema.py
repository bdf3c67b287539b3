"""The migrated schema is the models' schema, on every database we support."""

from __future__ import annotations

from sqlalchemy import inspect

from shared import migrate
from shared.db import make_engine
from shared.models import Base


def test_migrations_leave_no_pending_autogenerate_diff(engine) -> None:
    assert migrate.pending_changes(engine) == []


def test_every_model_table_exists_after_migration(engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrating_twice_changes_nothing(db_url) -> None:
    migrate.upgrade(db_url)
    eng = make_engine(db_url)
    try:
        assert migrate.pending_changes(eng) == []
    finally:
        eng.dispose()
