"""The lobby kiosk: `streamlit run kiosk/app.py`. Renders steps; the rules live in shared/."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.state import kiosk_state, lang, reset, tr  # noqa: E402
from kiosk.steps import help as help_step  # noqa: E402
from kiosk.steps import welcome  # noqa: E402
from kiosk.style import apply_kiosk_style  # noqa: E402
from shared.errors import DomainError  # noqa: E402
from shared.i18n import t  # noqa: E402
from shared.runtime import AppContext, AppUnavailable, open_app  # noqa: E402

log = logging.getLogger("kiosk")

STEPS = {
    "welcome": lambda ctx: welcome.render(),
    "help": help_step.render,
}


@st.cache_resource
def _context() -> AppContext:
    return open_app()


def main() -> None:
    st.set_page_config(page_title="Check in", page_icon="🏥", layout="centered",
                       initial_sidebar_state="collapsed")
    apply_kiosk_style()
    try:
        ctx = _context()
    except AppUnavailable as exc:
        log.error("kiosk unavailable: %s", exc)
        st.title(t("kiosk.unavailable_title", lang()))
        st.markdown(t("kiosk.unavailable_body", lang()))
        return
    state = kiosk_state()
    step = state.get("step", "welcome")
    render = STEPS.get(step, STEPS["welcome"])
    try:
        render(ctx)
    except DomainError as exc:
        st.error(tr(exc.key, **exc.params))
        st.button(tr("kiosk.start_over"), key="error_start_over", on_click=reset, width="stretch")
    except Exception:
        # Log the step and the error type only: the exception text may hold patient data.
        log.exception("kiosk step %s failed", step)
        st.error(tr("kiosk.error_generic"))
        st.button(tr("kiosk.start_over"), key="error_start_over", on_click=reset, width="stretch")


main()
