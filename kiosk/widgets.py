"""Inputs the kiosk uses on several steps: birth date, the help button, a step heading."""

from __future__ import annotations

from datetime import date

import streamlit as st

from kiosk.state import go, reset, tr

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def birth_date_input(prefix: str) -> date | str | None:
    """Month, day and year as big touch-friendly fields (a calendar is hard for many).

    Returns the date, None when nothing was entered yet, or "invalid"."""
    st.markdown(f"**{tr('kiosk.birth_date')}**")
    col_m, col_d, col_y = st.columns([2, 1, 1.4])
    names = {m: tr(f"month.{MONTHS[m - 1]}") for m in range(1, 13)}
    month = col_m.selectbox(
        tr("kiosk.month"), options=list(range(1, 13)), index=None,
        format_func=names.get, key=f"{prefix}_month",
        placeholder=tr("kiosk.choose"),
    )
    day = col_d.selectbox(tr("kiosk.day"), options=list(range(1, 32)), index=None,
                          key=f"{prefix}_day", placeholder="—")
    year = col_y.text_input(tr("kiosk.year"), max_chars=4, key=f"{prefix}_year",
                            placeholder="1980")
    if month is None and day is None and not year.strip():
        return None
    try:
        value = date(int(year), int(month), int(day))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "invalid"
    if value > date.today() or value.year < 1900:
        return "invalid"
    return value


def help_button() -> None:
    """'I need help' on every screen."""
    with st.container(key="need_help"):
        st.button(tr("kiosk.need_help"), key="btn_help_anywhere", on_click=go, args=("help",),
                  width="stretch")


def start_over_button(key: str = "start_over") -> None:
    st.button(tr("kiosk.start_over"), key=key, on_click=reset, width="stretch")
