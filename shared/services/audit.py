"""The audit trail: who did what to which record, and when. Ids and codes only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shared.db import insert_row
from shared.models import AuditEvent, utcnow

# Detail values may only be ids, counts, codes and flags: never names, dates of birth or text
# a patient typed. Keys outside this set are refused, so PHI cannot slip in by accident.
ALLOWED_DETAIL_KEYS = frozenset(
    {
        "appointment_id",
        "patient_id",
        "flag_id",
        "token_id",
        "staff_user_id",
        "form_version_id",
        "question_version_id",
        "from_status",
        "to_status",
        "channel",
        "kiosk_id",
        "kind",
        "count",
        "role",
        "reason_code",
        "created",
        "updated",
        "revoked",
        "step",  # a kiosk step name (identity, consent...), never what was typed
    }
)


def record(
    session: Session,
    *,
    actor_type: str,
    action: str,
    record_type: str,
    record_id: int | None = None,
    actor_id: str | int | None = None,
    detail: dict[str, object] | None = None,
    at: datetime | None = None,
) -> None:
    """Write one audit event in the session's transaction (one INSERT, sent at once)."""
    unknown = set(detail or {}) - ALLOWED_DETAIL_KEYS
    if unknown:
        raise ValueError(f"audit detail keys not allowed: {sorted(unknown)}")
    insert_row(session, AuditEvent, {
        "at": at or utcnow(), "actor_type": actor_type,
        "actor_id": None if actor_id is None else str(actor_id), "action": action,
        "record_type": record_type, "record_id": record_id, "detail": detail or None})
