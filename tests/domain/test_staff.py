"""Staff accounts: argon2 hashes, sign-in that never says which half was wrong, and locking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.models import AuditEvent, StaffRole, StaffUser
from shared.services.staff import (
    LOCK_MINUTES,
    MAX_FAILED_LOGINS,
    MIN_PASSWORD_LENGTH,
    authenticate,
    create_user,
)
from tests.races import at_once

PASSWORD = "correct horse battery"
NOW = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)


def _add_maria(session: Session, **overrides: object) -> StaffUser:
    fields: dict[str, object] = {
        "username": "maria.lopez",
        "display_name": "María López",
        "password": PASSWORD,
        "role": StaffRole.REPRESENTATIVE,
    }
    fields.update(overrides)
    user = create_user(session, **fields)
    session.commit()
    return user


def _sign_in(session: Session, password: str, *, now: datetime = NOW, username="maria.lopez"):
    """One sign-in attempt in its own transaction, as the dashboard does it."""
    with session.begin():
        return authenticate(session, username, password, now=now)


def _stored(session: Session, user_id: int) -> StaffUser:
    with Session(session.get_bind()) as fresh:
        user = fresh.get(StaffUser, user_id)
        assert user is not None
        fresh.expunge(user)
        return user


# --- creating accounts ------------------------------------------------------------------------


def test_a_new_account_keeps_only_an_argon2_hash_of_the_password(session: Session) -> None:
    user = _add_maria(session)
    stored = _stored(session, user.id)
    assert stored.password_hash.startswith("$argon2")
    assert PASSWORD not in stored.password_hash
    assert stored.active
    assert stored.failed_logins == 0
    assert stored.role == StaffRole.REPRESENTATIVE


def test_usernames_are_stored_trimmed_and_lowercase(session: Session) -> None:
    user = _add_maria(session, username="  Maria.Lopez ")
    assert _stored(session, user.id).username == "maria.lopez"


def test_creating_an_account_is_audited_without_the_password(session: Session) -> None:
    user = _add_maria(session, role=StaffRole.MANAGER)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.created")).one()
    assert event.record_id == user.id
    assert event.detail == {"role": "manager"}
    assert PASSWORD not in str(event.detail)


def test_a_password_shorter_than_the_minimum_is_refused(session: Session) -> None:
    with pytest.raises(DomainError) as refused:
        create_user(
            session, username="sam", display_name="Sam", password="x" * (MIN_PASSWORD_LENGTH - 1),
            role=StaffRole.REPRESENTATIVE,
        )
    assert refused.value.key == "error.password_short"
    assert session.scalars(select(StaffUser)).all() == []


def test_a_password_of_exactly_the_minimum_length_is_accepted(session: Session) -> None:
    password = "k7#q" * (MIN_PASSWORD_LENGTH // 4) + "z" * (MIN_PASSWORD_LENGTH % 4)
    assert len(password) == MIN_PASSWORD_LENGTH
    user = create_user(
        session, username="sam", display_name="Sam", password=password, role=StaffRole.MANAGER,
    )
    session.commit()

    stored = _stored(session, user.id)
    assert (stored.username, stored.display_name, stored.role) == ("sam", "Sam",
                                                                   StaffRole.MANAGER)
    assert stored.active
    assert stored.failed_logins == 0
    assert stored.password_hash.startswith("$argon2")
    assert password not in stored.password_hash
    # The password works as typed, in full, and nothing shorter or different does.
    for wrong in (password[:-1], password + "z", password.upper()):
        assert not _sign_in(session, wrong, username="sam").ok
    outcome = _sign_in(session, password, username="sam")
    assert outcome.ok
    assert (outcome.user_id, outcome.role) == (user.id, StaffRole.MANAGER)


@pytest.mark.parametrize("username", ["", "   ", "maria lopez", "maria@clinic", "josé!", "a/b"])
def test_a_username_with_anything_but_letters_digits_dots_dashes_is_refused(
    session: Session, username: str
) -> None:
    with pytest.raises(DomainError) as refused:
        create_user(
            session, username=username, display_name="X", password=PASSWORD,
            role=StaffRole.REPRESENTATIVE,
        )
    assert refused.value.key == "error.username_invalid"


@pytest.mark.parametrize("again", ["maria.lopez", "MARIA.LOPEZ", " Maria.Lopez "])
def test_a_username_already_taken_is_refused_whatever_its_case(
    session: Session, again: str
) -> None:
    _add_maria(session)
    with pytest.raises(DomainError) as refused:
        create_user(
            session, username=again, display_name="Other", password=PASSWORD,
            role=StaffRole.MANAGER,
        )
    assert refused.value.key == "error.username_taken"


# --- signing in -------------------------------------------------------------------------------


def test_the_right_password_signs_in_with_the_users_id_and_role(session: Session) -> None:
    user = _add_maria(session, role=StaffRole.MANAGER)

    outcome = _sign_in(session, PASSWORD)

    assert outcome.ok
    assert outcome.user_id == user.id
    assert outcome.role == StaffRole.MANAGER
    assert outcome.display_name == "María López"
    assert _stored(session, user.id).last_login_at == NOW


def test_the_username_is_matched_whatever_its_case(session: Session) -> None:
    _add_maria(session)
    assert _sign_in(session, PASSWORD, username=" MARIA.Lopez ").ok


def test_a_wrong_password_is_counted_even_though_the_sign_in_is_refused(
    session: Session,
) -> None:
    user = _add_maria(session)

    outcome = _sign_in(session, "wrong password")

    assert not outcome.ok
    assert outcome.user_id is None
    assert outcome.error is not None
    assert outcome.error.key == "error.sign_in_refused"
    assert _stored(session, user.id).failed_logins == 1
    with Session(session.get_bind()) as fresh:
        actions = fresh.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "staff.sign_in_failed"


def test_a_good_sign_in_clears_the_count_of_wrong_passwords(session: Session) -> None:
    user = _add_maria(session)
    for _ in range(MAX_FAILED_LOGINS - 1):
        _sign_in(session, "wrong password")
    assert _stored(session, user.id).failed_logins == MAX_FAILED_LOGINS - 1

    assert _sign_in(session, PASSWORD).ok
    assert _stored(session, user.id).failed_logins == 0


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    session: Session,
) -> None:
    user = _add_maria(session)
    for attempt in range(MAX_FAILED_LOGINS):
        _sign_in(session, "wrong password", now=NOW + timedelta(seconds=attempt))
    last_failure = NOW + timedelta(seconds=MAX_FAILED_LOGINS - 1)

    stored = _stored(session, user.id)
    assert stored.locked_until == last_failure + timedelta(minutes=LOCK_MINUTES)

    outcome = _sign_in(session, PASSWORD, now=last_failure + timedelta(minutes=1))
    assert not outcome.ok
    assert outcome.locked
    assert outcome.error is not None
    assert outcome.error.key == "error.sign_in_refused"

    almost = last_failure + timedelta(minutes=LOCK_MINUTES) - timedelta(seconds=1)
    outcome = _sign_in(session, PASSWORD, now=almost)
    assert outcome.locked
    assert outcome.error is not None

    with Session(session.get_bind()) as fresh:
        assert "staff.locked" in fresh.scalars(select(AuditEvent.action)).all()


def test_a_locked_account_opens_again_once_the_lock_time_has_passed(session: Session) -> None:
    user = _add_maria(session)
    for _ in range(MAX_FAILED_LOGINS):
        _sign_in(session, "wrong password")

    outcome = _sign_in(session, PASSWORD, now=NOW + timedelta(minutes=LOCK_MINUTES))

    assert outcome.ok
    assert outcome.user_id == user.id
    stored = _stored(session, user.id)
    assert stored.locked_until is None
    assert stored.failed_logins == 0


def test_a_deactivated_account_cannot_sign_in(session: Session) -> None:
    user = _add_maria(session)
    user.active = False
    session.commit()

    outcome = _sign_in(session, PASSWORD)

    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.key == "error.sign_in_refused"


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(session: Session) -> None:
    _add_maria(session)

    unknown = _sign_in(session, PASSWORD, username="nobody.here")
    wrong = _sign_in(session, "wrong password")

    assert unknown.error is not None and wrong.error is not None
    assert unknown.error.key == wrong.error.key == "error.sign_in_refused"
    assert str(unknown.error) == str(wrong.error)
    assert unknown.error.params == wrong.error.params
    assert (unknown.user_id, unknown.role, unknown.display_name) == (None, None, "")
    assert (wrong.user_id, wrong.role, wrong.display_name) == (None, None, "")


# --- passwords tried at the same moment from many browsers -------------------------------------


def _sign_in_alone(engine: Engine, password: str):
    with Session(engine) as browser:
        return _sign_in(browser, password)


def test_twelve_wrong_passwords_at_once_lock_the_account_after_five(
    session: Session, engine: Engine
) -> None:
    user = _add_maria(session)

    outcome = at_once(12, lambda n: _sign_in_alone(engine, f"wrong password {n}"))

    assert outcome.errors == []
    assert {r.error.key for r in outcome.results} == {"error.sign_in_refused"}
    assert sorted(r.locked for r in outcome.results) == [False] * 5 + [True] * 7
    stored = _stored(session, user.id)
    assert stored.locked_until == NOW + timedelta(minutes=LOCK_MINUTES)
    with Session(engine) as fresh:
        actions = fresh.scalars(select(AuditEvent.action)
                                .where(AuditEvent.record_type == "staff_user")).all()
    assert sorted(a for a in actions if a != "staff.created") == (
        ["staff.locked"] + ["staff.sign_in_failed"] * (MAX_FAILED_LOGINS - 1))


def test_the_right_password_among_eleven_wrong_ones_gets_in_only_before_the_lock(
    session: Session, engine: Engine
) -> None:
    user = _add_maria(session)
    passwords = [f"wrong password {n}" for n in range(11)] + [PASSWORD]

    outcome = at_once(12, lambda n: _sign_in_alone(engine, passwords[n]))

    assert outcome.errors == []
    signed_in = [r for r in outcome.results if r.ok]
    counted = [r for r in outcome.results if not r.ok and not r.locked]
    stored = _stored(session, user.id)
    # Wrong passwords before the right one are forgiven by it and counted afresh after it,
    # so the account ends locked either way; nobody is let in after the fifth failure.
    assert len(signed_in) <= 1
    assert stored.locked_until == NOW + timedelta(minutes=LOCK_MINUTES)
    assert len(counted) >= MAX_FAILED_LOGINS


def test_after_the_lock_the_right_password_from_twelve_browsers_is_refused(
    session: Session, engine: Engine
) -> None:
    _add_maria(session)
    for n in range(MAX_FAILED_LOGINS):
        _sign_in_alone(engine, f"wrong password {n}")

    outcome = at_once(12, lambda n: _sign_in_alone(engine, PASSWORD))

    assert outcome.errors == []
    assert [(r.ok, r.locked) for r in outcome.results] == [(False, True)] * 12


def test_an_unknown_username_costs_the_same_password_check_as_a_known_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_maria(session)
    checked: list[str] = []
    real = PasswordHasher.verify

    def counting_verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
        checked.append(password_hash[:9])
        return real(hasher, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    _sign_in(session, "wrong password", username="nobody.here")
    _sign_in(session, "wrong password")
    assert checked == ["$argon2id", "$argon2id"]


def test_a_locked_account_costs_the_same_password_check_as_an_open_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_maria(session)
    for _ in range(MAX_FAILED_LOGINS):
        _sign_in(session, "wrong password")
    checked: list[str] = []
    real = PasswordHasher.verify

    def counting_verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
        checked.append(password_hash[:9])
        return real(hasher, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    outcome = _sign_in(session, PASSWORD)
    assert outcome.locked
    assert checked == ["$argon2id"]
