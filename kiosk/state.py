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
from datetime import datetime, timedelta
from typing import Any

import streamlit as st
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from shared.db import DatabaseUnavailable, lock_refused
from shared.errors import DomainError
from shared.i18n import DEFAULT_LANGUAGE, t
from shared.services.precheck import HOME_KIOSK_ID, PHONE_KIOSK_ID
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


# The steps of a started check-in, as the desk names them ("left the kiosk at consent").
CHECK_IN_STEPS = ("appointment", "details", "insurance", "questions", "consent")
# A walk-away to record in the next run, which has the database: (check-in id, step).
WALKED_AWAY_KEY = "_walked_away"


def reset(keep_language: bool = False) -> None:
    """Forget the patient: every value they entered, and every widget's value. A check-in
    they started and did not finish is a walk-away (see take_walk_away), except from the
    help screen: there the desk has it and finishes it with the patient."""
    language = lang() if keep_language else DEFAULT_LANGUAGE
    walked_away = _walk_away(kiosk_state())
    _forget({"step": "welcome", "lang": language})
    if walked_away is not None:
        st.session_state[WALKED_AWAY_KEY] = walked_away


def forget_patient(**keep: Any) -> None:
    """Forget everything of the patient but `keep` (the done screen's ticket), staying on
    the same step and language."""
    state = kiosk_state()
    _forget({"step": state["step"], "lang": state["lang"], **keep})


def _forget(state: dict[str, Any]) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[STATE_KEY] = state


def _walk_away(state: dict[str, Any]) -> tuple[int, str] | None:
    check_in_id = state.get("check_in_id")
    # A pre-check-in left on the phone is not a walk-away: it waits, resumable, at home.
    if (not isinstance(check_in_id, int) or "completion" in state
            or state.get("step") == "help" or state.get(REMOTE_KEY)):
        return None
    step = state.get("step")
    return check_in_id, step if step in CHECK_IN_STEPS else "identity"


# Steps that stay until someone touches the screen: the ticket, nothing else of the patient.
STAY_UNTIL_TOUCHED = ("done", "walk_in_done")
# "I need help" waits for the desk: no "Are you still there?" until the desk has seen the
# request (then the usual timeout, counted from then), or until this long without a touch.
HELP_WAIT_LIMIT = timedelta(minutes=30)


def resets_when_idle(state: dict[str, Any]) -> bool:
    """Whether this screen goes back to the start after the clinic's timeout: not the
    welcome in the default language (nothing to forget) nor a screen that keeps the ticket."""
    step = state.get("step")
    # The patient's own phone is theirs: it keeps its page (closing it ends the session).
    return not ((step == "welcome" and state.get("lang") == DEFAULT_LANGUAGE)
                or step in STAY_UNTIL_TOUCHED or state.get(REMOTE_KEY))


def idle_time(state: dict[str, Any], timeout: timedelta,
              now: datetime) -> tuple[timedelta, timedelta]:
    """How long the patient has not touched the screen, and after how long it starts over.
    The help screen waits for the desk: the long limit until the desk has seen the request
    (help_seen_at), then the clinic's timeout counted from that moment."""
    since = state.get("last_activity", now)
    if state.get("step") == "help":
        seen = state.get("help_seen_at")
        if seen is None:
            timeout = max(timeout, HELP_WAIT_LIMIT)
        else:
            since = max(since, seen)
    return now - since, timeout


def take_walk_away() -> tuple[int, str] | None:
    """The check-in the last reset left unfinished, once."""
    return st.session_state.pop(WALKED_AWAY_KEY, None)


def put_back_walk_away(walked_away: tuple[int, str]) -> None:
    """The database blinked: record the walk-away in a later run."""
    st.session_state[WALKED_AWAY_KEY] = walked_away


# Set when the kiosk was opened from a reminder's link on the patient's own phone: a
# pre-check-in (shared/services/precheck.py), never an arrival in the lobby.
REMOTE_KEY = "remote"


# Set on the patient's phone once they are checked in at the clinic ("I'm here", or at the
# kiosk): from then on the phone is in the lobby, not at home.
HERE_KEY = "here_by_phone"


def is_remote() -> bool:
    return bool(kiosk_state().get(REMOTE_KEY))


def at_home() -> bool:
    """On the patient's phone, before they are at the clinic."""
    state = kiosk_state()
    return bool(state.get(REMOTE_KEY)) and not state.get(HERE_KEY)


def kiosk_id() -> str:
    """Which tablet this is: from ?kiosk=... or CHECKIN_KIOSK_ID; on the patient's own phone,
    "home" (what the desk's alerts show as "from home"), or "phone" once they are here.
    Never patient data."""
    if is_remote():
        return HOME_KIOSK_ID if at_home() else PHONE_KIOSK_ID
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
