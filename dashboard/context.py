"""One engine per process for the dashboard, and running a service call for a page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from shared.db import run_transaction
from shared.errors import DomainError
from shared.runtime import AppContext, open_app
from shared.text import t_plain


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
