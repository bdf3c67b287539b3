"""Staff accounts: argon2 password hashes, roles, and locking after repeated failures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import DomainError, SignInRefused
from shared.models import StaffRole, StaffUser
from shared.services import audit

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: StaffRole,
    actor_type: str = "cli",
    actor_id: str | int | None = None,
) -> StaffUser:
    """Create an active staff account. Usernames are case-insensitive and unique."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise DomainError(
            "A username uses letters, digits, dots, dashes or underscores.",
            key="error.username_invalid",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
            key="error.password_short",
            min=MIN_PASSWORD_LENGTH,
        )
    exists = session.scalar(
        select(func.count()).select_from(StaffUser).where(StaffUser.username == username)
    )
    if exists:
        raise DomainError("That username is taken.", key="error.username_taken")
    user = StaffUser(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=StaffRole(role),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_type=actor_type,
        actor_id=actor_id,
        action="staff.created",
        record_type="staff_user",
        record_id=user.id,
        detail={"role": user.role.value},
    )
    return user


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user's id and role, or the reason for refusal."""

    user_id: int | None = None
    role: StaffRole | None = None
    display_name: str = ""
    error: SignInRefused | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def authenticate(session: Session, username: str, password: str, *, now: datetime) -> SignIn:
    """Check a username and password, counting failures in the caller's transaction.

    Returns an outcome instead of raising, so the failed-login count is committed along with
    the refusal. The message does not tell an unknown username from a wrong password. Five
    wrong passwords in a row lock the account for LOCK_MINUTES.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    refused = SignInRefused("Wrong username or password.", key="error.sign_in_refused")
    if user is None or not user.active:
        return SignIn(error=refused)
    if user.locked_until is not None and now < user.locked_until:
        return SignIn(
            error=SignInRefused(
                "This account is locked for a while after too many wrong passwords.",
                key="error.account_locked",
            )
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        action = "staff.sign_in_failed"
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            action = "staff.locked"
        audit.record(
            session, actor_type="staff", action=action, record_type="staff_user",
            record_id=user.id, at=now,
        )
        return SignIn(error=refused)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(
        session, actor_type="staff", actor_id=user.id, action="staff.signed_in",
        record_type="staff_user", record_id=user.id, at=now,
    )
    return SignIn(user_id=user.id, role=user.role, display_name=user.display_name)
