"""Step 1: welcome, language, and the big choices (all four in view on a landscape tablet)."""

from __future__ import annotations

import streamlit as st

from kiosk.state import go, kiosk_state, tr
from shared.i18n import LANGUAGES

CHOICES = (
    ("start_scan", "kiosk.start_scan", "kiosk.start_scan_help", "scan"),
    ("start_name", "kiosk.start_name", "kiosk.start_name_help", "find_by_name"),
    ("no_appointment", "kiosk.no_appointment", "kiosk.no_appointment_help", "walk_in"),
    ("need_help", "kiosk.need_help", "kiosk.need_help_help", "help"),
)


def _set_language(code: str) -> None:
    kiosk_state()["lang"] = code


def language_buttons() -> None:
    """English / Español, the chosen one ticked: on the welcome, and on the first screen a
    reminder's link opens on the patient's phone (which starts past the welcome)."""
    current = kiosk_state()["lang"]
    with st.container(horizontal=True, horizontal_alignment="right", key="languages"):
        for code, name in LANGUAGES.items():
            st.button(("✓ " if code == current else "") + name, key=f"lang_{code}",
                      on_click=_set_language, args=(code,))


def render(welcome_message: str = "") -> None:
    language_buttons()
    st.title(tr("kiosk.title"))
    st.markdown(tr("kiosk.welcome_lead"))
    if welcome_message:
        st.info(welcome_message)
    for row in (CHOICES[:2], CHOICES[2:]):
        cols = st.columns(2, gap="medium")
        for col, (key, label, help_key, step) in zip(cols, row, strict=True):
            with col, st.container(key=key):
                st.button(tr(label), key=f"btn_{key}", on_click=go, args=(step,),
                          width="stretch")
                st.markdown(f'<p class="kiosk-help">{tr(help_key)}</p>',
                            unsafe_allow_html=True)
    st.caption(tr("kiosk.privacy_note"))
