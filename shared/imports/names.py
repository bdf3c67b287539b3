"""The names patients read for providers and locations that the practice system knows by a
code (a user name such as `kmurphy2`, a room id such as `102`).

A manager sets the name; the import matches by the code and leaves that name as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.i18n import t
from shared.imports.model import clean_text
from shared.models import Location, Provider, utcnow
from shared.services import audit

MAX_NAME = 120
KINDS = ("provider", "location")


class NameRefused(DomainError):
    """A name a manager typed that cannot be used; `key` names the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(t(key, **params), key=key, **params)


@dataclass(frozen=True)
class CodedName:
    kind: str  # "provider" or "location"
    id: int
    code: str
    name: str
    set_by_staff: bool


def coded_names(session: Session) -> list[CodedName]:
    """Providers and locations that have a practice-system code, by kind and code."""
    providers = [CodedName("provider", r.id, r.external_id, r.display_name, r.name_set_by_staff)
                 for r in session.execute(
                     select(Provider.id, Provider.external_id, Provider.display_name,
                            Provider.name_set_by_staff)
                     .where(Provider.external_id.is_not(None)).order_by(Provider.external_id))]
    locations = [CodedName("location", r.id, r.external_id, r.name, r.name_set_by_staff)
                 for r in session.execute(
                     select(Location.id, Location.external_id, Location.name,
                            Location.name_set_by_staff)
                     .where(Location.external_id.is_not(None)).order_by(Location.external_id))]
    return providers + locations


def set_name(session: Session, kind: str, record_id: int, name: str, *, staff_user_id: int,
             now: datetime | None = None) -> bool:
    """Give a provider or location the name patients read; imports keep it from now on.
    False when the name was already that; raises NameRefused for a name that cannot be
    used."""
    if kind not in KINDS:
        raise ValueError(kind)
    value = clean_text(name)
    if not value:
        raise NameRefused("names.error_empty")
    if len(value) > MAX_NAME:
        raise NameRefused("names.error_too_long", max=MAX_NAME)
    model = Provider if kind == "provider" else Location
    column = Provider.display_name if kind == "provider" else Location.name
    record = session.get(model, record_id, with_for_update=True)
    if record is None:
        raise ValueError(f"no {kind} {record_id}")
    if getattr(record, column.key) == value and record.name_set_by_staff:
        return False
    if kind == "location" and session.scalar(
            select(Location.id).where(func.lower(Location.name) == value.lower(),
                                      Location.id != record_id)) is not None:
        raise NameRefused("names.error_taken", name=value)
    setattr(record, column.key, value)
    record.name_set_by_staff = True
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action=f"{kind}.renamed", record_type=kind, record_id=record_id,
                 at=now or utcnow())
    return True


@dataclass(frozen=True)
class SpanishName:
    kind: str  # "provider" or "location"
    id: int
    name: str  # the name patients read in English
    name_es: str  # "" when the manager gave none


def spanish_names(session: Session) -> list[SpanishName]:
    """Every active provider and location, with the name Spanish-speaking patients read."""
    providers = [SpanishName("provider", r.id, r.display_name, r.display_name_es or "")
                 for r in session.execute(
                     select(Provider.id, Provider.display_name, Provider.display_name_es)
                     .where(Provider.active).order_by(Provider.display_name, Provider.id))]
    locations = [SpanishName("location", r.id, r.name, r.name_es or "")
                 for r in session.execute(
                     select(Location.id, Location.name, Location.name_es)
                     .where(Location.active).order_by(Location.name, Location.id))]
    return providers + locations


def set_spanish_name(session: Session, kind: str, record_id: int, name_es: str, *,
                     staff_user_id: int, now: datetime | None = None) -> bool:
    """The name a provider or location shows in Spanish; empty clears it (the usual name
    shows). False when it was already that; raises NameRefused for a name too long."""
    if kind not in KINDS:
        raise ValueError(kind)
    value = clean_text(name_es) or None
    if value is not None and len(value) > MAX_NAME:
        raise NameRefused("names.error_too_long", max=MAX_NAME)
    model = Provider if kind == "provider" else Location
    column = "display_name_es" if kind == "provider" else "name_es"
    record = session.get(model, record_id, with_for_update=True)
    if record is None:
        raise ValueError(f"no {kind} {record_id}")
    if getattr(record, column) == value:
        return False
    setattr(record, column, value)
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action=f"{kind}.renamed_es", record_type=kind, record_id=record_id,
                 at=now or utcnow())
    return True
