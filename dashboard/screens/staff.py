"""Staff accounts, for managers: create, set role, deactivate, reset a password (shown once),
unlock."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth import require_role
from dashboard.context import app_context, run_service
from shared.i18n import t
from shared.models import StaffRole, StaffUser, utcnow
from shared.services import staff
from shared.text import plain, t_plain

ROLES = [StaffRole.REPRESENTATIVE, StaffRole.MANAGER]




def page() -> None:
    user = require_role(StaffRole.MANAGER)
    ctx = app_context()
    st.title(t("staff.title"))
    shown = st.session_state.pop("staff_new_password", None)
    if shown:
        # Escaped, so a `*` or `_` in the password shows as typed and not as formatting.
        st.warning(t_plain("staff.password_once", username=shown[0], password=shown[1]))
    now = utcnow()
    with Session(ctx.engine) as session:
        users = session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
    for u in users:
        locked = u.locked_until is not None and u.locked_until > now
        cols = st.columns([3, 2, 2, 2, 2], vertical_alignment="center")
        status = t("staff.active") if u.active else t("staff.inactive")
        if locked:
            status += " · " + t("staff.locked")
        cols[0].markdown(f"**{plain(u.display_name)}** ({plain(u.username)}) · {status}")
        role = cols[1].selectbox(t("staff.role"), ROLES, index=ROLES.index(u.role),
                                 format_func=lambda r: t(f"role.{r.value}"),
                                 key=f"staff_role_{u.id}", label_visibility="collapsed")
        if role != u.role and run_service(staff.set_role, u.id, role, actor_id=user["user_id"]):
            st.rerun()
        label = t("staff.deactivate") if u.active else t("staff.activate")
        if cols[2].button(label, key=f"staff_active_{u.id}", width="stretch") and run_service(
                staff.set_active, u.id, not u.active, actor_id=user["user_id"]):
            st.rerun()
        if cols[3].button(t("staff.reset_password"), key=f"staff_reset_{u.id}",
                          width="stretch"):
            password = run_service(staff.reset_password, u.id, actor_id=user["user_id"])
            if password:
                st.session_state["staff_new_password"] = (u.username, password)
                st.rerun()
        if locked and cols[4].button(t("staff.unlock"), key=f"staff_unlock_{u.id}",
                                     width="stretch") and run_service(
                staff.unlock, u.id, actor_id=user["user_id"]):
            st.rerun()
    st.subheader(t("staff.create"))
    with st.form("staff_create", clear_on_submit=True):
        username = st.text_input(t("dash.username"), key="new_staff_username", max_chars=60)
        name = st.text_input(t("staff.display_name"), key="new_staff_name", max_chars=120)
        role = st.selectbox(t("staff.role"), ROLES, format_func=lambda r: t(f"role.{r.value}"),
                            key="new_staff_role")
        password = st.text_input(t("dash.password"), type="password", key="new_staff_password")
        if st.form_submit_button(t("staff.create"), type="primary") and run_service(
            staff.create_user, username=username, display_name=name, password=password,
            role=role, actor_type="staff", actor_id=user["user_id"],
        ):
            st.success(t("staff.created"))


page()
