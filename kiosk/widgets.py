"""Inputs the kiosk uses on several steps: birth date, the help button, a step heading."""

from __future__ import annotations

import re
from datetime import date

import streamlit as st

from kiosk.state import reset, tr
from kiosk.steps.help import ask_for_help
from shared import clock
from shared.clinic_time import clinic_today
from shared.config import get_settings


def parse_birth_date(text: str, today: date | None = None) -> date | str | None:
    """A typed birth date: 03/14/1986, 3/14/1986, 03141986 or 1986-03-14 (month first,
    as on US forms). The date, None when empty, or "invalid"."""
    raw = text.strip()
    if not raw:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", raw):
            year, month, day = (int(p) for p in raw.split("-"))
        elif re.fullmatch(r"\d{8}", raw):
            month, day, year = int(raw[:2]), int(raw[2:4]), int(raw[4:])
        elif m := re.fullmatch(r"(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})", raw):
            month, day, year = (int(g) for g in m.groups())
        else:
            return "invalid"
        value = date(year, month, day)
    except ValueError:
        return "invalid"
    if value > (today or clock.now().date()) or value.year < 1900:
        return "invalid"
    return value


def birth_date_input(prefix: str) -> date | str | None:
    """One field, typed on the tablet's keyboard: one tap instead of three lists to scroll.

    Returns the date, None when nothing was entered yet, or "invalid"."""
    typed = st.text_input(tr("kiosk.birth_date"), key=f"{prefix}_birth", max_chars=10,
                          placeholder=tr("kiosk.birth_date_placeholder"),
                          help=tr("kiosk.birth_date_help"))
    return parse_birth_date(typed, clinic_today(get_settings().tz))


def help_button() -> None:
    """'I need help' on every screen."""
    with st.container(key="need_help"):
        st.button(tr("kiosk.need_help"), key="btn_help_anywhere", on_click=ask_for_help,
                  width="stretch")


def start_over_button(key: str = "start_over") -> None:
    st.button(tr("kiosk.start_over"), key=key, on_click=reset, width="stretch")
