"""Staff accounts: argon2 password hashes, roles, and locking after repeated failures."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from shared.errors import DomainError, SignInRefused
from shared.models import StaffRole, StaffUser
from shared.services import audit

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")

_hasher = PasswordHasher()
# Checked against when the username is unknown, so that answering takes as long as for a
# real account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    # For the audit trail and tests only: the page shows the same refusal either way, so a
    # lockout does not confirm that an account exists.
    locked: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def authenticate(session: Session, username: str, password: str, *, now: datetime) -> SignIn:
    """Check a username and password, counting failures in the caller's transaction.

    Returns an outcome instead of raising, so the failed-login count is committed along with
    the refusal. The message does not tell an unknown username from a wrong password or a
    locked account (the one refusal names the lock rule), and an unknown username costs the
    same argon2 check as a known one, so timing does not tell either. Five wrong passwords in
    a row lock the account for LOCK_MINUTES.

    Counting a failure and locking at the limit are one UPDATE ... RETURNING, and a right
    password is let in by a conditional UPDATE that holds only while the account is not
    locked: passwords tried at the same moment from many browsers are counted one by one.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    refused = SignInRefused("Wrong username or password.", key="error.sign_in_refused",
                            tries=MAX_FAILED_LOGINS, minutes=LOCK_MINUTES)
    if user is None or not user.active:
        _password_matches(_DUMMY_HASH, password)
        return SignIn(error=refused)
    locked = SignIn(error=refused, locked=True)
    if user.locked_until is not None and now < user.locked_until:
        # The same argon2 check as every other answer, so a locked account is not told
        # apart by answering sooner.
        _password_matches(_DUMMY_HASH, password)
        return locked
    unlocked = (StaffUser.id == user.id,
                or_(StaffUser.locked_until.is_(None), StaffUser.locked_until <= now))
    if not _password_matches(user.password_hash, password):
        reaches_limit = StaffUser.failed_logins + 1 >= MAX_FAILED_LOGINS
        counted = session.execute(
            update(StaffUser).where(*unlocked)
            .values(failed_logins=case((reaches_limit, 0), else_=StaffUser.failed_logins + 1),
                    locked_until=case((reaches_limit, now + timedelta(minutes=LOCK_MINUTES)),
                                      else_=None))
            .returning(StaffUser.locked_until)
            .execution_options(synchronize_session="fetch")
        ).first()
        if counted is None:
            return locked
        action = "staff.sign_in_failed" if counted.locked_until is None else "staff.locked"
        audit.record(
            session, actor_type="staff", action=action, record_type="staff_user",
            record_id=user.id, at=now,
        )
        return SignIn(error=refused)
    let_in = session.execute(
        update(StaffUser).where(*unlocked)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .returning(StaffUser.id)
        .execution_options(synchronize_session="fetch")
    ).first()
    if let_in is None:
        return locked
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(
        session, actor_type="staff", actor_id=user.id, action="staff.signed_in",
        record_type="staff_user", record_id=user.id, at=now,
    )
    return SignIn(user_id=user.id, role=user.role, display_name=user.display_name)


def _staff(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise DomainError("no such user", key="staff.not_found")
    return user


def _audit(session: Session, actor_id: int, action: str, user: StaffUser,
           detail: dict[str, object] | None = None) -> None:
    audit.record(session, actor_type="staff", actor_id=actor_id, action=action,
                 record_type="staff_user", record_id=user.id, detail=detail)


def _guard_last_manager(session: Session, user: StaffUser) -> None:
    """A clinic never loses its last active manager: nobody could tune it afterwards."""
    if user.role != StaffRole.MANAGER or not user.active:
        return
    # Lock the active managers' rows before counting them (a row lock on PostgreSQL, the
    # database's write lock on SQLite, both taken by this no-op UPDATE), so two managers
    # demoting each other at the same moment queue up and the second sees the first's change.
    session.execute(update(StaffUser)
                    .where(StaffUser.role == StaffRole.MANAGER, StaffUser.active.is_(True))
                    .values(role=StaffUser.role).execution_options(synchronize_session=False))
    managers = session.scalar(
        select(func.count()).select_from(StaffUser).where(
            StaffUser.role == StaffRole.MANAGER, StaffUser.active.is_(True))
    )
    if managers <= 1:
        raise DomainError("last manager", key="staff.last_manager")


def set_role(session: Session, user_id: int, role: StaffRole, *, actor_id: int) -> StaffUser:
    user = _staff(session, user_id)
    if user.role == role:
        return user
    if role != StaffRole.MANAGER:
        _guard_last_manager(session, user)
    user.role = StaffRole(role)
    _audit(session, actor_id, "staff.role_changed", user, {"role": user.role.value})
    return user


def set_active(session: Session, user_id: int, active: bool, *, actor_id: int) -> StaffUser:
    user = _staff(session, user_id)
    if user.active == active:
        return user
    if not active:
        if user.id == actor_id:
            raise DomainError("self", key="staff.not_yourself")
        _guard_last_manager(session, user)
    user.active = active
    _audit(session, actor_id, "staff.activated" if active else "staff.deactivated", user)
    return user


def reset_password(session: Session, user_id: int, *, actor_id: int) -> str:
    """A new random password, returned once to show to the manager; only its hash is kept."""
    user = _staff(session, user_id)
    password = secrets.token_urlsafe(12)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    _audit(session, actor_id, "staff.password_reset", user)
    return password


def unlock(session: Session, user_id: int, *, actor_id: int) -> StaffUser:
    user = _staff(session, user_id)
    user.failed_logins = 0
    user.locked_until = None
    _audit(session, actor_id, "staff.unlocked", user)
    return user


def find_for_single_sign_on(session: Session, email: str | None) -> StaffUser | None:
    """The active staff account for an identity provider's e-mail address: the username
    equals the whole address or the part before "@". None when there is no such account."""
    address = (email or "").strip().lower()
    if not address:
        return None
    candidates = {address, address.split("@", 1)[0]}
    return session.scalar(
        select(StaffUser).where(StaffUser.username.in_(candidates), StaffUser.active.is_(True))
        .order_by(StaffUser.username.desc())
    )
