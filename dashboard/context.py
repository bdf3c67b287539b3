"""One engine per process for the dashboard."""

from __future__ import annotations

import streamlit as st

from shared.runtime import AppContext, open_app


@st.cache_resource
def app_context() -> AppContext:
    return open_app()
