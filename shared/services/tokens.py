"""Check-in tokens: the code on a reminder slip.

A token is random (unguessable), holds no patient data, belongs to one appointment, expires
at the end of that appointment's day in the clinic's zone, and can be revoked. Only an HMAC
of it is stored, so a copy of the database cannot be turned back into working codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.clinic_time import end_of_day
from shared.errors import TokenInvalid
from shared.models import Appointment, CheckInToken
from shared.services import audit

TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters
QUERY_PARAM = "code"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: int
    expires_at: datetime


def hash_token(token: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), token.strip().encode(), hashlib.sha256).hexdigest()


def issue_token(
    session: Session,
    appointment: Appointment,
    *,
    secret_key: str,
    tz: ZoneInfo,
    now: datetime,
    actor_type: str = "system",
    actor_id: str | int | None = None,
) -> IssuedToken:
    """Issue a new code for `appointment`, revoking any earlier one. Returns the plain code once."""
    revoked = session.execute(
        update(CheckInToken)
        .where(CheckInToken.appointment_id == appointment.id, CheckInToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = CheckInToken(
        token_hash=hash_token(token, secret_key),
        appointment_id=appointment.id,
        created_at=now,
        expires_at=end_of_day(appointment.start, tz),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_type=actor_type,
        actor_id=actor_id,
        action="token.issued",
        record_type="appointment",
        record_id=appointment.id,
        detail={"token_id": row.id, "revoked": revoked},
        at=now,
    )
    return IssuedToken(token=token, token_id=row.id, expires_at=row.expires_at)


def find_token(session: Session, token: str, *, secret_key: str, now: datetime) -> CheckInToken:
    """The live token row for a scanned or typed code; TokenInvalid says why not."""
    row = session.scalar(
        select(CheckInToken).where(CheckInToken.token_hash == hash_token(token, secret_key))
    )
    if row is None:
        raise TokenInvalid("This code is not known.", key="error.token_unknown")
    if row.revoked_at is not None:
        raise TokenInvalid("This code has been replaced by a newer one.", key="error.token_revoked")
    if row.locked_at is not None:
        raise TokenInvalid("This code is locked.", key="error.token_locked")
    if now >= row.expires_at:
        raise TokenInvalid("This code has expired.", key="error.token_expired")
    return row


def revoke_token(session: Session, row: CheckInToken, *, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now


def checkin_link(kiosk_url: str, token: str) -> str:
    """The link form of a code, for a patient's own phone. It holds the token and nothing else."""
    return f"{kiosk_url.rstrip('/')}/?{QUERY_PARAM}={token}"


def extract_token(scanned: str) -> str:
    """The token from whatever a scanner produced: the bare code or the link form."""
    text = scanned.strip()
    if text.startswith(("http://", "https://")):
        values = parse_qs(urlsplit(text).query).get(QUERY_PARAM)
        return values[0].strip() if values else ""
    return text
