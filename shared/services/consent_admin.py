"""Managers keep the consent forms: versions with an effective date, which visits need them,
and how often they are re-signed. Publishing a version makes patients sign it at their next
check-in; earlier signatures stay tied to the version they signed. A version whose English
changed while its Spanish did not is marked: the Spanish is out of date."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.errors import DomainError
from shared.models import ConsentForm, ConsentFormVersion, ConsentRenewal, utcnow
from shared.services import audit
from shared.services.translation import outdated_parts

KEY = re.compile(r"[a-z][a-z0-9_]{1,59}")
MAX_TITLE = 200  # the title columns' length: refused the same on SQLite and PostgreSQL


class ConsentFormInvalid(DomainError):
    key = "consent_admin.invalid"


@dataclass(frozen=True)
class FormDraft:
    title_en: str
    body_en: str
    title_es: str = ""
    body_es: str = ""
    effective_from: date | None = None


def forms(session: Session) -> list[ConsentForm]:
    return list(session.scalars(
        select(ConsentForm).options(selectinload(ConsentForm.versions)).order_by(ConsentForm.id)
    ))


def spanish_outdated(versions: Sequence[ConsentFormVersion]) -> list[str]:
    """Where the latest of these versions (one form's, oldest first) has Spanish written for
    an English since changed: "title", "body". It stays so, version after version, until
    someone saves that Spanish."""
    return outdated_parts([{"title": (v.title_en, v.title_es), "body": (v.body_en, v.body_es)}
                           for v in versions])


def spanish_outdated_by_version(form: ConsentForm) -> dict[int, list[str]]:
    """For each version of the form (by id), the parts whose Spanish was out of date in it."""
    ordered = sorted(form.versions, key=lambda v: v.version)
    return {v.id: spanish_outdated(ordered[: i + 1]) for i, v in enumerate(ordered)}


def _check_draft(draft: FormDraft, *, spanish: bool) -> None:
    if not draft.title_en.strip() or not draft.body_en.strip():
        raise ConsentFormInvalid("english", key="consent_admin.no_text")
    if spanish and (not draft.title_es.strip() or not draft.body_es.strip()):
        raise ConsentFormInvalid("spanish", key="consent_admin.no_spanish")
    if draft.effective_from is None:
        raise ConsentFormInvalid("date", key="consent_admin.no_date")
    if max(len(draft.title_en.strip()), len(draft.title_es.strip())) > MAX_TITLE:
        raise ConsentFormInvalid("title too long", key="consent_admin.invalid")


def save_form(
    session: Session, *, key: str, renewal: ConsentRenewal, required: bool,
    visit_types: list[str], staff_user_id: int | None,
) -> ConsentForm:
    """Create a form or change its rules (which visits, how often, required or optional)."""
    key = key.strip()
    if not KEY.fullmatch(key):
        raise ConsentFormInvalid("key", key="consent_admin.bad_key")
    form = session.scalar(select(ConsentForm).where(ConsentForm.key == key))
    if form is None:
        form = ConsentForm(key=key, active=True)
        session.add(form)
    form.renewal = ConsentRenewal(renewal)
    form.required = required
    form.visit_types = list(visit_types)
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id, action="consent.saved",
                 record_type="consent_form", record_id=form.id)
    return form


def add_version(session: Session, form_id: int, draft: FormDraft, *, spanish: bool,
                staff_user_id: int | None) -> ConsentFormVersion:
    """A new draft version; patients see it only once it is published and in effect."""
    _check_draft(draft, spanish=spanish)
    form = session.get(ConsentForm, form_id)
    if form is None:
        raise ConsentFormInvalid("form", key="consent_admin.not_found")
    number = max((v.version for v in form.versions), default=0) + 1
    version = ConsentFormVersion(
        form=form, version=number, title_en=draft.title_en.strip(),
        title_es=draft.title_es.strip(), body_en=draft.body_en.strip(),
        body_es=draft.body_es.strip(), effective_from=draft.effective_from,
        created_by_id=staff_user_id,
    )
    session.add(version)
    session.flush()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="consent.version_added", record_type="consent_form",
                 record_id=form.id, detail={"form_version_id": version.id})
    return version


def publish(session: Session, version_id: int, *, staff_user_id: int | None
            ) -> ConsentFormVersion:
    """Publish a draft: from its effective date on, patients are asked to sign it."""
    version = session.get(ConsentFormVersion, version_id)
    if version is None:
        raise ConsentFormInvalid("version", key="consent_admin.not_found")
    if version.published_at is not None:
        raise ConsentFormInvalid("published", key="consent_admin.already_published")
    version.published_at = utcnow()
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="consent.published", record_type="consent_form",
                 record_id=version.form_id, detail={"form_version_id": version.id})
    return version


def set_active(session: Session, form_id: int, active: bool, *, staff_user_id: int | None
               ) -> ConsentForm:
    form = session.get(ConsentForm, form_id)
    if form is None:
        raise ConsentFormInvalid("form", key="consent_admin.not_found")
    form.active = active
    audit.record(session, actor_type="staff", actor_id=staff_user_id,
                 action="consent.activated" if active else "consent.deactivated",
                 record_type="consent_form", record_id=form.id)
    return form
