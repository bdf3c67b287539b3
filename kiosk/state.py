"""The kiosk's UI state: which step, which language, and what this patient typed.

Everything about the current patient lives under one key, so a reset or a finished check-in
drops it all at once.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from shared.i18n import DEFAULT_LANGUAGE, t

STATE_KEY = "kiosk"
DEFAULT_KIOSK_ID = "kiosk-1"


def kiosk_state() -> dict[str, Any]:
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = {"step": "welcome", "lang": DEFAULT_LANGUAGE}
    return st.session_state[STATE_KEY]


def lang() -> str:
    return kiosk_state()["lang"]


def tr(key: str, /, **params: object) -> str:
    """A message in the patient's chosen language."""
    return t(key, lang(), **params)


def go(step: str, **data: Any) -> None:
    state = kiosk_state()
    state["step"] = step
    state.update(data)


def reset(keep_language: bool = False) -> None:
    """Forget the patient: every value they entered, and every widget's value."""
    language = lang() if keep_language else DEFAULT_LANGUAGE
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[STATE_KEY] = {"step": "welcome", "lang": language}


def kiosk_id() -> str:
    """Which tablet this is: from ?kiosk=... or CHECKIN_KIOSK_ID. Never patient data."""
    raw = st.query_params.get("kiosk") or os.environ.get("CHECKIN_KIOSK_ID") or DEFAULT_KIOSK_ID
    cleaned = "".join(ch for ch in raw if ch.isalnum() or ch in "-_")[:32]
    return cleaned or DEFAULT_KIOSK_ID
