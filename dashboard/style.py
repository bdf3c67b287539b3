"""The desk's screens are read at a glance on a 1366x768 laptop: a compact header, one line
per alert and filters in one row, so the board shows at least twelve appointments under three
alerts. Only spacing and sizes change here, and the colours of a wait's label; other colours
and focus come from Streamlit's theme and dashboard/a11y.py."""

from __future__ import annotations

import streamlit as st

from shared.services.clinic_settings import ClinicSettings

DASHBOARD_CSS = """<style>
/* The top navigation lives in Streamlit's header: start the page right under it. */
[data-testid="stMainBlockContainer"], .block-container {
  padding-top: 3.3rem !important; padding-bottom: 1.5rem !important; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.55rem; }
[data-testid="stMainBlockContainer"] h1 {
  font-size: 1.75rem !important; line-height: 1.2 !important; padding: 0.1rem 0 !important; }
[data-testid="stMainBlockContainer"] h2 {
  font-size: 1.35rem !important; padding: 0.2rem 0 !important; }
/* The alert strip: one line per alert, its button the line's height. */
.st-key-alert_strip { padding: 0.4rem 0.6rem !important; gap: 0.3rem !important; }
.st-key-alert_strip [data-testid="stAlertContainer"] { padding: 0.3rem 0.8rem !important; }
.st-key-alert_strip [data-testid="stAlertContainer"] p {
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.st-key-alert_strip .stButton > button { min-height: 2.2rem; padding: 0.1rem 0.6rem; }
/* "Signed in as ... / Sign out" above every page: one slim line. */
.st-key-signed_in_row .stButton > button { min-height: 2rem; padding: 0.1rem 0.7rem; }
</style>"""


def apply_dashboard_style() -> None:
    """Once a run, right after the page config."""
    st.html(DASHBOARD_CSS)


# A wait's label on the arrivals board: the theme's dark text on each reads at 8:1 or more.
WAIT_RED, WAIT_AMBER, WAIT_CALM = "#F4A09B", "#FCDC8C", "#EEF2F7"


def wait_colour(minutes: int, rules: ClinicSettings) -> str:
    """A wait's colour: red from the clinic's red line, amber from its amber line, a quiet
    grey below."""
    if minutes >= rules.wait_red_minutes:
        return WAIT_RED
    if minutes >= rules.wait_amber_minutes:
        return WAIT_AMBER
    return WAIT_CALM
