"""Staff sign-in for the dashboard: the gate every page passes through.

The signed-in user lives in session state as ids and role only; every page asks
`require_role` on the server, so hiding a link is never the only protection.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from shared.db import session_scope
from shared.i18n import t
from shared.models import StaffRole, utcnow
from shared.runtime import AppContext
from shared.services import audit, staff

STAFF_KEY = "staff"
DEFAULT_IDLE_MINUTES = 15


def idle_limit() -> timedelta:
    raw = os.environ.get("CHECKIN_STAFF_IDLE_MINUTES", "")
    minutes = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_IDLE_MINUTES
    return timedelta(minutes=minutes)


def current_staff(now: datetime | None = None) -> dict[str, Any] | None:
    """The signed-in staff member, or None (after an idle timeout, too)."""
    user = st.session_state.get(STAFF_KEY)
    if user is None:
        return None
    now = now or utcnow()
    if now - user["last_seen"] > idle_limit():
        sign_out()
        st.session_state["signed_out_reason"] = "idle"
        return None
    user["last_seen"] = now
    return user


def guard_live_view(now: datetime | None = None) -> None:
    """For a part of a page that refreshes by itself (the board, the queue, the alerts).

    A refresh is not someone at the screen, so it does not count as activity; when the idle
    limit passes, the member is signed out and the whole app redrawn as the sign-in page,
    even if nobody touches the screen: no names stay up on an unattended desk."""
    user = st.session_state.get(STAFF_KEY)
    if user is None:
        st.stop()
    if (now or utcnow()) - user["last_seen"] > idle_limit():
        sign_out()
        st.session_state["signed_out_reason"] = "idle"
        st.rerun(scope="app")


def sign_out() -> None:
    """Forget everything this browser session held: the user and every page's state."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def require_role(*roles: StaffRole) -> dict[str, Any]:
    """Stop the page unless a staff member with one of `roles` is signed in."""
    user = current_staff()
    if user is None or (roles and StaffRole(user["role"]) not in roles):
        st.error(t("dash.not_allowed"))
        st.stop()
    return user


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _single_sign_on(ctx: AppContext) -> None:
    """Optional: with an [auth] section in .streamlit/secrets.toml, staff may sign in with
    the clinic's identity provider (st.login, OIDC). The address must match a staff account."""
    if not _sso_configured():
        return
    if not st.user.get("is_logged_in", False):
        st.button(t("dash.sso"), key="sso_login", on_click=st.login)
        return
    with session_scope(ctx.engine) as session:
        user = staff.find_for_single_sign_on(session, st.user.get("email"))
        if user is None:
            st.error(t("dash.sso_no_account"))
            return
        now = utcnow()
        user.last_login_at = now
        audit.record(session, actor_type="staff", actor_id=user.id, action="staff.signed_in",
                     record_type="staff_user", record_id=user.id, at=now)
        st.session_state[STAFF_KEY] = {"user_id": user.id, "role": user.role.value,
                                       "name": user.display_name, "last_seen": now}
    st.rerun()


def sign_in_form(ctx: AppContext) -> None:
    st.title(t("dash.sign_in"))
    st.markdown(t("dash.sign_in_lead"))
    if st.session_state.pop("signed_out_reason", None) == "idle":
        st.info(t("dash.signed_out_idle"))
    _single_sign_on(ctx)
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input(t("dash.username"), key="sign_in_username")
        password = st.text_input(t("dash.password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("dash.sign_in"), type="primary")
    if not submitted:
        return
    if not username.strip() or not password:
        st.error(t("error.fields_required"))
        return
    now = utcnow()
    with session_scope(ctx.engine) as session:
        outcome = staff.authenticate(session, username, password, now=now)
    if not outcome.ok:
        assert outcome.error is not None
        st.error(t(outcome.error.key, **outcome.error.params))
        return
    st.session_state[STAFF_KEY] = {
        "user_id": outcome.user_id,
        "role": outcome.role.value if outcome.role else "",
        "name": outcome.display_name,
        "last_seen": now,
    }
    st.rerun()


def sign_out_button(ctx: AppContext, user: dict[str, Any]) -> None:
    def _out() -> None:
        with session_scope(ctx.engine) as session:
            audit.record(session, actor_type="staff", actor_id=user["user_id"],
                         action="staff.signed_out", record_type="staff_user",
                         record_id=user["user_id"])
        sign_out()

    st.button(t("dash.sign_out"), key="sign_out", on_click=_out)
