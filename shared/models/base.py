"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from shared import clock

# Named constraints keep Alembic's batch mode on SQLite and its autogenerate stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Now, from the product's one clock (shared.clock)."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are stored timezone-aware in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[object], datetime | None] | None:
        """On SQLite, the stored text straight to an aware datetime in one step.

        SQLAlchemy's own SQLite path parses the text with a regular expression, builds a naive
        datetime and hands it to process_result_value for the zone: three steps per value, and
        on a busy day's queue that was a third of the service's time. fromisoformat reads the
        format SQLAlchemy writes (and CURRENT_TIMESTAMP's) directly."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: object) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                # SQLAlchemy writes UTC without an offset: reading it with "+00:00" appended
                # gives the aware datetime (with the UTC singleton) in one C call, seven times
                # faster than .replace(tzinfo=UTC). Text with its own offset takes the long way.
                try:
                    return parse(value + "+00:00")
                except ValueError:
                    value = parse(value)
            parsed = value if isinstance(value, datetime) else parse(str(value))
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return process


class _Members(dict[object, object]):
    """Stored value -> enum member, None -> None; any other value is refused, as
    SQLAlchemy's own Enum refuses it."""

    def __missing__(self, key: object) -> object:
        raise LookupError(f"{key!r} is not among the defined enum values")


class StrEnumType(Enum):
    """SQLAlchemy's Enum, read back with one dictionary lookup per value (in C) instead of
    two Python calls: a status column is read for every row of every open board."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[object], object]:
        members = _Members({member.value: member for member in self.enum_class})
        members[None] = None
        return members.__getitem__


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value as a plain string column (portable, readable in SQL)."""
    return StrEnumType(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )
