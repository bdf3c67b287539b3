"""The waiting-room screen for the lobby: "now calling" and "next" by ticket number only.
No sign-in, no names, and nothing else reachable from it."""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import timedelta

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.context import app_context, live_view
from shared.clinic_time import clinic_today
from shared.i18n import t
from shared.models import utcnow
from shared.services import clinic_settings, precheck
from shared.services.board import queue_for_day
from shared.services.slips import qr_image

# The lobby screen looks every 2 s (one screen, one small query): a called patient sees
# their number about a second after the desk presses "Call", not up to 5 s later.
REFRESH_SECONDS = 2
CALL_SHOWN_FOR = timedelta(minutes=10)
NEXT_COUNT = 6
ROOM_WORD = re.compile(r"^\s*(room|sala)\b[\s.:#-]*", re.IGNORECASE)

DISPLAY_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], footer, #MainMenu { display: none !important; }
.block-container { padding-top: 1rem; }
/* Scoped under the markdown container: Streamlit's own rule for paragraphs in markdown
   beats a lone class, and left the tickets at body size. No angle brackets in here: st.html
   sanitizes this block as HTML. */
[data-testid="stMarkdownContainer"] p.calling {
  font-size: 4.5rem; font-weight: 800; color: #0B2545; line-height: 1.15; }
[data-testid="stMarkdownContainer"] p.calling small {
  font-size: 4.5rem; font-weight: 800; color: #0B5CAD; white-space: nowrap; }
[data-testid="stMarkdownContainer"] p.next-ticket {
  font-size: 3rem; font-weight: 700; color: #111827; }
[data-testid="stMarkdownContainer"] p.display-title {
  font-size: 2.4rem; font-weight: 700; color: #374151; }
/* The lobby code's words, read from a seat: as large as a line of the list allows. */
figure.lobby-code { margin: 0.5rem 0 0 0; max-width: 22rem; }
figure.lobby-code figcaption { font-size: 1.3rem; color: #111827; line-height: 1.35; }
</style>
"""


def _room_number(room: str | None) -> str:
    """The room as typed, without a leading "Room"/"Sala" the label adds anyway: the desk
    typing "Room 3" must not show "Room Room 3"."""
    return ROOM_WORD.sub("", room or "").strip()


@st.cache_data(max_entries=4, show_spinner=False)
def _lobby_qr(code: str) -> bytes:
    """The lobby code as a PNG, made once per code (it changes every few minutes), not on
    every refresh."""
    buffer = io.BytesIO()
    qr_image(code, box_size=8).save(buffer, format="PNG")
    return buffer.getvalue()


def render() -> None:
    st.html(DISPLAY_CSS)
    _board()


@st.fragment(run_every=REFRESH_SECONDS)
@live_view
def _board() -> None:
    ctx = app_context()
    tz = ctx.settings.tz
    now = utcnow()
    with Session(ctx.engine) as session:
        rules = clinic_settings.load(session)
        rows = queue_for_day(session, clinic_today(tz), tz, grace_minutes=rules.grace_minutes)
    calling = sorted(
        (r for r in rows if r.called_at and now - r.called_at < CALL_SHOWN_FOR and r.ticket),
        key=lambda r: r.called_at, reverse=True,
    )
    upcoming = [r for r in rows if not r.called_at and r.ticket][:NEXT_COUNT]
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown(f'<p class="display-title">{t("display.now_calling")}</p>',
                    unsafe_allow_html=True)
        if not calling:
            st.markdown(f'<p class="next-ticket">{t("display.nobody")}</p>',
                        unsafe_allow_html=True)
        for r in calling[:3]:
            room = html.escape(t("display.room", room=_room_number(r.room)))
            st.markdown(f'<p class="calling">{r.ticket} <small>→ {room}</small></p>',
                        unsafe_allow_html=True)
    with right:
        st.markdown(f'<p class="display-title">{t("display.next")}</p>',
                    unsafe_allow_html=True)
        for r in upcoming:
            st.markdown(f'<p class="next-ticket">{r.ticket}</p>', unsafe_allow_html=True)
        # Patients who checked in ahead on their phone scan this to say "I'm here": it names
        # no one, and changes every few minutes (shared.services.precheck).
        code = precheck.lobby_code(ctx.settings.secret_key, now)
        # An <img> of our own: st.image gives no alternative text (axe: image-alt).
        png = base64.b64encode(_lobby_qr(code)).decode()
        st.html(f'<figure class="lobby-code"><img src="data:image/png;base64,{png}" '
                f'width="200" height="200" alt="{html.escape(t("display.lobby_code_alt"))}">'
                f'<figcaption>{html.escape(t("display.lobby_code"))}</figcaption></figure>')
