"""The front desk: `streamlit run dashboard/app.py`. Sign-in gate and navigation."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import a11y  # noqa: E402
from dashboard.auth import current_staff, sign_in_form, sign_out_button  # noqa: E402
from dashboard.context import app_context  # noqa: E402
from dashboard.screens import display  # noqa: E402
from dashboard.style import apply_dashboard_style  # noqa: E402
from shared.i18n import t  # noqa: E402
from shared.models import StaffRole  # noqa: E402
from shared.runtime import AppUnavailable  # noqa: E402
from shared.text import t_plain  # noqa: E402

log = logging.getLogger("dashboard")


def main() -> None:
    st.set_page_config(page_title="Front desk", page_icon="🗂️", layout="wide",
                       initial_sidebar_state="collapsed")
    a11y.follow_page()
    apply_dashboard_style()
    try:
        ctx = app_context()
    except AppUnavailable as exc:
        log.error("dashboard unavailable: %s", exc)
        st.title(t("dash.unavailable_title"))
        st.markdown(t_plain("dash.unavailable_body", reason=str(exc)))
        return
    if st.query_params.get("display") == "waiting-room":
        # The lobby screen: tickets only, no sign-in, no navigation to anything else.
        display.render()
        return
    user = current_staff()
    pages = [
        st.Page("screens/arrivals.py", title=t("dash.arrivals"), url_path="arrivals",
                default=True),
        st.Page("screens/queue.py", title=t("queue.title"), url_path="queue"),
        st.Page("screens/flags.py", title=t("dash.flags"), url_path="flags"),
        st.Page("screens/patient.py", title=t("patient.title"), url_path="patient"),
    ]
    # Manager pages are listed for managers only; each page also checks the role itself,
    # so typing its address is refused on the server too.
    visibility = "visible" if user and user["role"] == StaffRole.MANAGER.value else "hidden"
    pages += [
        st.Page("screens/questions.py", title=t("questions_admin.title"),
                url_path="questions", visibility=visibility),
        st.Page("screens/consent_forms.py", title=t("consent_admin.title"),
                url_path="consent-forms", visibility=visibility),
        st.Page("screens/settings.py", title=t("settings.title"), url_path="settings",
                visibility=visibility),
        st.Page("screens/staff.py", title=t("staff.title"), url_path="staff",
                visibility=visibility),
        st.Page("screens/schedule_import.py", title=t("import.title"), url_path="import",
                visibility=visibility),
        st.Page("screens/reports.py", title=t("reports.title"), url_path="reports",
                visibility=visibility),
        st.Page("screens/audit_log.py", title=t("audit_log.title"), url_path="audit-log",
                visibility=visibility),
        st.Page("screens/reminders_export.py", title=t("reminders.title"),
                url_path="reminders-export", visibility=visibility),
        st.Page("screens/interface.py", title=t("interface.title"), visibility=visibility),
    ]
    # Navigation is always declared, so a URL stays valid across sign-in and sign-out;
    # only a signed-in user's page ever runs.
    current = st.navigation(pages, position="top" if user else "hidden")
    if user is None:
        sign_in_form(ctx)
        return
    who, out = st.container(key="signed_in_row").columns([6, 1], vertical_alignment="center")
    who.caption(t_plain("dash.signed_in_as", name=user["name"],
                         role=t(f"role.{user['role']}")))
    with out:
        sign_out_button(ctx, user)
    try:
        current.run()
    except Exception as exc:
        # The page, the error type and where; never the message, which may hold PHI.
        log.error("dashboard page %s failed: %s\n%s", current.url_path, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        st.error(t("dash.error_generic"))

main()
