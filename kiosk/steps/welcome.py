"""Step 1: welcome, language, and the big choices."""

from __future__ import annotations

import streamlit as st

from kiosk.state import go, kiosk_state, tr
from shared.i18n import LANGUAGES


def _set_language(code: str) -> None:
    kiosk_state()["lang"] = code


def render() -> None:
    cols = st.columns(len(LANGUAGES))
    for col, (code, name) in zip(cols, LANGUAGES.items(), strict=True):
        col.button(
            name,
            key=f"lang_{code}",
            on_click=_set_language,
            args=(code,),
            type="primary" if kiosk_state()["lang"] == code else "secondary",
            width="stretch",
        )
    st.title(tr("kiosk.title"))
    st.markdown(tr("kiosk.welcome_lead"))
    choices = [
        ("start_scan", "kiosk.start_scan", "kiosk.start_scan_help", "scan"),
        ("start_name", "kiosk.start_name", "kiosk.start_name_help", "find_by_name"),
        ("no_appointment", "kiosk.no_appointment", "kiosk.no_appointment_help", "walk_in"),
        ("need_help", "kiosk.need_help", "kiosk.need_help_help", "help"),
    ]
    for key, label, help_key, step in choices:
        with st.container(key=key):
            st.button(tr(label), key=f"btn_{key}", on_click=go, args=(step,), width="stretch")
        st.markdown(f'<p class="kiosk-help">{tr(help_key)}</p>', unsafe_allow_html=True)
    st.caption(tr("kiosk.privacy_note"))
