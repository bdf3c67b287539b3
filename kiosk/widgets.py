"""Inputs the kiosk uses on several steps: birth date, the help button, a step heading."""

from __future__ import annotations

import re
from datetime import date

import streamlit as st

from kiosk.state import lang, reset, tr
from kiosk.steps.help import ask_for_help
from shared import clock
from shared.clinic_time import clinic_today
from shared.config import get_settings
from shared.i18n import format_date

SEPARATOR = r"\s*[/.\-\s]\s*"


def read_birth_date(text: str, today: date | None = None
                    ) -> tuple[date | str | None, tuple[date, ...]]:
    """A typed birth date, the way people type them: 03/14/1986, 3/14/86, 03141986 or
    1986-03-14, month first as on US forms. Returns the date (None when empty, "invalid"
    when it is none), and, when it is not a date as typed but could be read otherwise, the
    dates it could mean, for the patient to pick: a day-first date (14/03/1986), or a
    two-digit year that fits two centuries (3/14/20)."""
    raw = text.strip()
    if not raw:
        return None, ()
    today = today or clock.now().date()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", raw):
        year, month, day = (int(p) for p in raw.split("-"))
        found = _possible(today, year, month, day)
        return (found[0] if found else "invalid"), ()
    if re.fullmatch(r"\d{8}", raw):
        first, second, year_text = int(raw[:2]), int(raw[2:4]), raw[4:]
    elif m := re.fullmatch(rf"(\d{{1,2}}){SEPARATOR}(\d{{1,2}}){SEPARATOR}(\d{{4}}|\d{{2}})", raw):
        first, second, year_text = int(m[1]), int(m[2]), m[3]
    else:
        return "invalid", ()
    years = [int(year_text)] if len(year_text) == 4 else [2000 + int(year_text),
                                                           1900 + int(year_text)]
    month_first = [d for y in years for d in _possible(today, y, first, second)]
    if len(month_first) == 1:
        return month_first[0], ()
    if month_first:
        return "invalid", tuple(month_first)  # a two-digit year in two centuries
    day_first = [d for y in years for d in _possible(today, y, second, first)]
    return "invalid", tuple(day_first)


def _possible(today: date, year: int, month: int, day: int) -> list[date]:
    """[the date] when it is a real day between 1900 and today, else []."""
    try:
        value = date(year, month, day)
    except ValueError:
        return []
    return [value] if date(1900, 1, 1) <= value <= today else []


def parse_birth_date(text: str, today: date | None = None) -> date | str | None:
    """The date typed, None when empty, or "invalid" (see read_birth_date)."""
    return read_birth_date(text, today)[0]


def birth_date_input(prefix: str) -> date | str | None:
    """One field, typed on the tablet's keyboard: one tap instead of three lists to scroll.
    When what was typed could be a date read another way (day first, or a two-digit year),
    the dates it could mean are offered in words, in the patient's language, to pick.

    Returns the date, None when nothing was entered yet, or "invalid"."""
    typed = st.text_input(tr("kiosk.birth_date"), key=f"{prefix}_birth", max_chars=10,
                          placeholder=tr("kiosk.birth_date_placeholder"),
                          help=tr("kiosk.birth_date_help"))
    value, readings = read_birth_date(typed, clinic_today(get_settings().tz))
    if not readings:
        return value
    # In words ("viernes, 14 de marzo de 1986"), so the choice is plain; a new reading (or
    # language) is a new question.
    meant = {format_date(d, lang()): d for d in readings}
    picked = st.radio(tr("kiosk.birth_date_meant"), list(meant), index=None,
                      key=f"{prefix}_birth_meant_{'_'.join(meant)}")
    return meant.get(picked, "invalid")


def help_button() -> None:
    """'I need help' on every screen."""
    with st.container(key="need_help"):
        st.button(tr("kiosk.need_help"), key="btn_help_anywhere", on_click=ask_for_help,
                  width="stretch")


def start_over_button(key: str = "start_over") -> None:
    st.button(tr("kiosk.start_over"), key=key, on_click=reset, width="stretch")
