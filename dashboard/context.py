"""One engine per process for the dashboard, and running a service call for a page."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.exc import InterfaceError, OperationalError

from shared.db import DatabaseUnavailable, connection_dropped, run_transaction
from shared.errors import DomainError
from shared.i18n import t
from shared.runtime import AppContext, open_app
from shared.text import t_plain

log = logging.getLogger("dashboard")


@st.cache_resource
def app_context() -> AppContext:
    return open_app()


def run_service(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one service call in its own transaction. A rule the user broke is shown as a
    message in their language and gives None; otherwise the call's result (or True)."""
    try:
        result = run_transaction(app_context().engine,
                                 lambda session: action(session, *args, **kwargs))
    except DomainError as exc:
        st.error(t_plain(exc.key, **exc.params))
        return None
    return True if result is None else result


def live_view(body: Callable[..., None]) -> Callable[..., None]:
    """For a part of a page that refreshes by itself (under @st.fragment): when the database
    does not answer, a calm line says so and the next refresh tries again, instead of an
    error box in the middle of the board."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            body(*args, **kwargs)
        except Exception as exc:
            if not (isinstance(exc, OperationalError | InterfaceError | DatabaseUnavailable)
                    or connection_dropped(exc)):
                raise
            log.warning("dashboard view %s paused: %s", body.__name__, type(exc).__name__)
            st.warning(t("dash.database_blink"))

    return run
