"""The kiosk's UI state: which step, which language, and what this patient typed.

Everything about the current patient lives under one key, so a reset or a finished check-in
drops it all at once.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import traceback
from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from shared.db import DatabaseUnavailable, lock_refused
from shared.errors import DomainError
from shared.i18n import DEFAULT_LANGUAGE, t
from shared.text import t_plain

log = logging.getLogger("kiosk")

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


def tr_plain(key: str, /, **params: object) -> str:
    """`tr` for an element that reads Markdown when a parameter is the patient's or an
    import's text (a name, an address, a provider, a payer): shown as typed, never as
    formatting (see shared.text)."""
    return t_plain(key, lang(), **params)


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


def passing_fault(exc: BaseException) -> str | None:
    """The message key for a fault that passes by itself (the database blinked, or the desk
    changed the visit meanwhile), or None for a real error."""
    if isinstance(exc, StaleDataError):
        return "kiosk.changed_meanwhile"
    if isinstance(exc, DatabaseUnavailable | OperationalError | InterfaceError) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return "kiosk.try_again"
    return None


def kiosk_action(action: Callable[..., None]) -> Callable[..., None]:
    """For a button's callback that saves something. A fault becomes a calm message on the
    same step, in the patient's language, never Streamlit's error page: what was saved before
    stays saved, and pressing again works once the database is back."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> None:
        before = copy.deepcopy(kiosk_state())
        try:
            try:
                action(*args, **kwargs)
            except OperationalError as exc:
                if not lock_refused(exc):
                    raise
                # SQLite refused the write lock after its busy timeout and rolled the whole
                # transaction back: run the action once more from where the patient was.
                log.warning("kiosk action %s: database busy, trying once more",
                            action.__name__)
                st.session_state[STATE_KEY] = before
                action(*args, **kwargs)
        except DomainError as exc:
            kiosk_state()["fault"] = (exc.key, exc.params)
        except Exception as exc:
            key = passing_fault(exc)
            # The action and the error type only: the message may hold what was typed.
            (log.warning if key else log.error)(
                "kiosk action %s failed: %s\n%s", action.__name__, type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)))
            kiosk_state()["fault"] = (key or "kiosk.error_generic", {})

    return run
