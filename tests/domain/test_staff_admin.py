"""A manager looks after the staff accounts: roles, deactivation, password resets and unlocking.
The clinic never loses its last active manager, nobody deactivates themselves, and a reset
or an unlock lets the representative sign in again at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import CATALOGS
from shared.models import AuditEvent, StaffRole, StaffUser
from shared.services.staff import (
    LOCK_MINUTES,
    MAX_FAILED_LOGINS,
    MIN_PASSWORD_LENGTH,
    SignIn,
    authenticate,
    reset_password,
    set_active,
    set_role,
    unlock,
)
from tests.factories import STAFF_PASSWORD, make_staff_user
from tests.races import at_once

NOW = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)
WRONG = "not-the-password-at-all"


@pytest.fixture
def grace(session: Session) -> StaffUser:
    """The clinic manager."""
    user = make_staff_user(session, "Grace Whitfield", username="grace.manager",
                           role=StaffRole.MANAGER)
    session.commit()
    return user


@pytest.fixture
def maya(session: Session) -> StaffUser:
    """A front-desk representative."""
    user = make_staff_user(session, "Maya Chen", username="maya.chen")
    session.commit()
    return user


def sign_in(session: Session, user: StaffUser, password: str, *, now: datetime = NOW) -> SignIn:
    """One sign-in attempt in its own transaction, as the dashboard does it."""
    result = authenticate(session, user.username, password, now=now)
    session.commit()
    return result


def refusal(result: SignIn) -> str | None:
    """The catalog key of the sign-in page's refusal, or None when signed in."""
    return result.error.key if result.error is not None else None


def lock_out(session: Session, user: StaffUser) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert not sign_in(session, user, WRONG).ok
    assert sign_in(session, user, STAFF_PASSWORD).locked


def stored(session: Session, user_id: int) -> StaffUser:
    with Session(session.get_bind()) as fresh:
        user = fresh.get(StaffUser, user_id)
        assert user is not None
        fresh.expunge(user)
        return user


def audit_actions(session: Session, user: StaffUser) -> list[str]:
    return list(session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_type == "staff_user",
                                        AuditEvent.record_id == user.id)
        .order_by(AuditEvent.id)))


def audit_count(session: Session) -> int | None:
    return session.scalar(select(func.count()).select_from(AuditEvent))


def refused(exc: pytest.ExceptionInfo[DomainError], key: str) -> None:
    assert exc.value.key == key
    assert all(key in catalog for catalog in CATALOGS.values())


# --- Roles --------------------------------------------------------------------------------------


def test_a_manager_makes_a_representative_a_manager(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    set_role(session, maya.id, StaffRole.MANAGER, actor_id=grace.id)
    session.commit()

    assert stored(session, maya.id).role == StaffRole.MANAGER
    assert sign_in(session, maya, STAFF_PASSWORD).role == StaffRole.MANAGER
    event = session.scalars(select(AuditEvent)
                            .where(AuditEvent.action == "staff.role_changed")).one()
    assert (event.actor_type, event.actor_id, event.record_id, event.detail) == (
        "staff", str(grace.id), maya.id, {"role": "manager"})


def test_giving_the_same_role_again_changes_nothing(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    before = audit_count(session)

    set_role(session, maya.id, StaffRole.REPRESENTATIVE, actor_id=grace.id)
    session.commit()

    assert stored(session, maya.id).role == StaffRole.REPRESENTATIVE
    assert audit_count(session) == before


def test_the_last_active_manager_cannot_be_made_a_representative(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    before = audit_count(session)

    with pytest.raises(DomainError) as exc:
        set_role(session, grace.id, StaffRole.REPRESENTATIVE, actor_id=grace.id)
    refused(exc, "staff.last_manager")
    session.commit()

    assert stored(session, grace.id).role == StaffRole.MANAGER
    assert audit_count(session) == before


def test_a_manager_may_step_down_while_another_manager_remains(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    set_role(session, maya.id, StaffRole.MANAGER, actor_id=grace.id)
    set_role(session, grace.id, StaffRole.REPRESENTATIVE, actor_id=grace.id)
    session.commit()

    assert stored(session, grace.id).role == StaffRole.REPRESENTATIVE
    # Maya is now the last manager: she cannot be demoted in turn.
    with pytest.raises(DomainError) as exc:
        set_role(session, maya.id, StaffRole.REPRESENTATIVE, actor_id=maya.id)
    refused(exc, "staff.last_manager")
    session.commit()
    assert stored(session, maya.id).role == StaffRole.MANAGER


def test_a_deactivated_manager_does_not_count_as_a_remaining_manager(
    session: Session, grace: StaffUser
) -> None:
    retired = make_staff_user(session, "Henry Osei", username="henry.osei",
                              role=StaffRole.MANAGER)
    set_active(session, retired.id, False, actor_id=grace.id)
    session.commit()

    with pytest.raises(DomainError) as exc:
        set_role(session, grace.id, StaffRole.REPRESENTATIVE, actor_id=grace.id)
    refused(exc, "staff.last_manager")
    # A deactivated manager may be demoted: the clinic keeps its active one.
    set_role(session, retired.id, StaffRole.REPRESENTATIVE, actor_id=grace.id)
    session.commit()
    assert stored(session, retired.id).role == StaffRole.REPRESENTATIVE


def test_changing_the_role_of_an_unknown_account_is_refused(
    session: Session, grace: StaffUser
) -> None:
    with pytest.raises(DomainError) as exc:
        set_role(session, 9999, StaffRole.MANAGER, actor_id=grace.id)
    assert exc.value.key == "staff.not_found"


# --- Deactivating -------------------------------------------------------------------------------


def test_a_deactivated_representative_cannot_sign_in(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    set_active(session, maya.id, False, actor_id=grace.id)
    session.commit()

    result = sign_in(session, maya, STAFF_PASSWORD)
    # The same words as for a wrong password: the page does not say the account exists.
    assert refusal(result) == "error.sign_in_refused"
    assert result.user_id is None and result.role is None
    assert stored(session, maya.id).active is False
    assert audit_actions(session, maya)[-1] == "staff.deactivated"

    set_active(session, maya.id, True, actor_id=grace.id)
    session.commit()
    assert sign_in(session, maya, STAFF_PASSWORD).ok
    assert "staff.activated" in audit_actions(session, maya)


def test_nobody_deactivates_their_own_account(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    # Even with a second manager there to carry on.
    set_role(session, maya.id, StaffRole.MANAGER, actor_id=grace.id)
    session.commit()
    before = audit_count(session)

    with pytest.raises(DomainError) as exc:
        set_active(session, grace.id, False, actor_id=grace.id)
    refused(exc, "staff.not_yourself")
    session.commit()

    assert stored(session, grace.id).active is True
    assert sign_in(session, grace, STAFF_PASSWORD).ok
    assert audit_count(session) == before + 1  # the sign-in only


def test_the_last_active_manager_cannot_be_deactivated(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    # Maya was a manager and was just made a representative, but her page still shows the
    # manager's buttons: her click must not leave the clinic without a manager.
    set_role(session, maya.id, StaffRole.MANAGER, actor_id=grace.id)
    set_role(session, maya.id, StaffRole.REPRESENTATIVE, actor_id=grace.id)
    session.commit()
    before = audit_count(session)

    with pytest.raises(DomainError) as exc:
        set_active(session, grace.id, False, actor_id=maya.id)
    refused(exc, "staff.last_manager")
    session.commit()

    assert stored(session, grace.id).active is True
    assert audit_count(session) == before


def test_a_manager_may_deactivate_another_manager_while_one_remains(
    session: Session, grace: StaffUser
) -> None:
    henry = make_staff_user(session, "Henry Osei", username="henry.osei",
                            role=StaffRole.MANAGER)
    session.commit()

    set_active(session, henry.id, False, actor_id=grace.id)
    session.commit()

    assert stored(session, henry.id).active is False
    assert not sign_in(session, henry, STAFF_PASSWORD).ok


def test_deactivating_an_already_inactive_account_changes_nothing(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    set_active(session, maya.id, False, actor_id=grace.id)
    session.commit()
    before = audit_count(session)

    set_active(session, maya.id, False, actor_id=grace.id)
    session.commit()

    assert audit_count(session) == before


# --- Password resets ----------------------------------------------------------------------------


def test_a_reset_password_signs_in_and_the_old_one_no_longer_does(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    old_hash = stored(session, maya.id).password_hash

    password = reset_password(session, maya.id, actor_id=grace.id)
    session.commit()

    assert password != STAFF_PASSWORD
    assert len(password) >= MIN_PASSWORD_LENGTH
    kept = stored(session, maya.id)
    assert kept.password_hash != old_hash
    assert password not in kept.password_hash and kept.password_hash.startswith("$argon2")
    assert not sign_in(session, maya, STAFF_PASSWORD).ok
    assert sign_in(session, maya, password).ok
    event = session.scalars(select(AuditEvent)
                            .where(AuditEvent.action == "staff.password_reset")).one()
    assert (event.actor_id, event.record_id, event.detail) == (str(grace.id), maya.id, None)


def test_each_reset_gives_a_new_random_password(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    first = reset_password(session, maya.id, actor_id=grace.id)
    second = reset_password(session, maya.id, actor_id=grace.id)
    session.commit()

    assert first != second
    assert not sign_in(session, maya, first).ok
    assert sign_in(session, maya, second).ok


def test_a_reset_lifts_a_lock_at_once(session: Session, grace: StaffUser,
                                      maya: StaffUser) -> None:
    lock_out(session, maya)
    assert stored(session, maya.id).locked_until == NOW + timedelta(minutes=LOCK_MINUTES)

    password = reset_password(session, maya.id, actor_id=grace.id)
    session.commit()

    kept = stored(session, maya.id)
    assert (kept.locked_until, kept.failed_logins) == (None, 0)
    assert sign_in(session, maya, password, now=NOW + timedelta(minutes=1)).ok


def test_resetting_an_unknown_account_is_refused(session: Session, grace: StaffUser) -> None:
    with pytest.raises(DomainError) as exc:
        reset_password(session, 9999, actor_id=grace.id)
    assert exc.value.key == "staff.not_found"


# --- Unlocking ----------------------------------------------------------------------------------


def test_an_unlocked_representative_signs_in_at_once_with_the_right_password(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    lock_out(session, maya)
    assert stored(session, maya.id).locked_until is not None

    unlock(session, maya.id, actor_id=grace.id)
    session.commit()

    kept = stored(session, maya.id)
    assert (kept.locked_until, kept.failed_logins) == (None, 0)
    result = sign_in(session, maya, STAFF_PASSWORD, now=NOW + timedelta(minutes=1))
    assert result.ok and result.user_id == maya.id
    assert "staff.unlocked" in audit_actions(session, maya)


def test_unlocking_clears_the_count_of_wrong_passwords(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert not sign_in(session, maya, WRONG).ok
    assert stored(session, maya.id).failed_logins == MAX_FAILED_LOGINS - 1

    unlock(session, maya.id, actor_id=grace.id)
    session.commit()

    assert stored(session, maya.id).failed_logins == 0
    # One more wrong password does not lock her out: the count started again.
    assert refusal(sign_in(session, maya, WRONG)) == "error.sign_in_refused"
    assert stored(session, maya.id).locked_until is None
    assert sign_in(session, maya, STAFF_PASSWORD).ok


def test_unlocking_does_not_change_the_password(
    session: Session, grace: StaffUser, maya: StaffUser
) -> None:
    lock_out(session, maya)
    old_hash = stored(session, maya.id).password_hash

    unlock(session, maya.id, actor_id=grace.id)
    session.commit()

    assert stored(session, maya.id).password_hash == old_hash
    assert not sign_in(session, maya, WRONG).ok


def test_single_sign_on_finds_the_active_account_by_address(session) -> None:
    from shared.services.staff import create_user, find_for_single_sign_on, set_active

    riley = create_user(session, username="riley", display_name="Riley", role=StaffRole.MANAGER,
                        password="long-enough-pw")
    other = create_user(session, username="sam", display_name="Sam",
                        role=StaffRole.REPRESENTATIVE, password="long-enough-pw")
    assert find_for_single_sign_on(session, "Riley@clinic.example").id == riley.id
    assert find_for_single_sign_on(session, "nobody@clinic.example") is None
    assert find_for_single_sign_on(session, "") is None
    set_active(session, other.id, False, actor_id=riley.id)
    assert find_for_single_sign_on(session, "sam@clinic.example") is None


# --- Two managers at the same moment --------------------------------------------------------------


@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_two_managers_removing_each_other_at_once_leave_one_manager(
    session: Session, engine: Engine, change: str
) -> None:
    for round_ in range(5):  # the two clicks land in either order
        first = make_staff_user(session, f"Ana {round_}", role=StaffRole.MANAGER)
        second = make_staff_user(session, f"Ben {round_}", role=StaffRole.MANAGER)
        session.commit()
        pair = [(first.id, second.id), (second.id, first.id)]

        def remove(n: int, pair: list[tuple[int, int]] = pair) -> None:
            actor_id, target_id = pair[n]
            with session_scope(engine) as screen:
                if change == "demote":
                    set_role(screen, target_id, StaffRole.REPRESENTATIVE, actor_id=actor_id)
                else:
                    set_active(screen, target_id, False, actor_id=actor_id)

        outcome = at_once(2, remove)

        assert len(outcome.results) == 1
        assert [e.key for e in outcome.errors] == ["staff.last_manager"]
        with Session(engine) as fresh:
            managers = fresh.scalar(select(func.count()).select_from(StaffUser).where(
                StaffUser.role == StaffRole.MANAGER, StaffUser.active.is_(True)))
        assert managers == 1
        # Back to a clinic with no other managers for the next round.
        with session_scope(engine) as tidy:
            for user in tidy.scalars(select(StaffUser)):
                user.active = False
