"""Kiosk styling: large type, high contrast, 48 px+ touch targets, no Streamlit chrome."""

from __future__ import annotations

import streamlit as st

KIOSK_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], footer,
#MainMenu, [data-testid="stStatusWidget"] { display: none !important; }
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
.block-container { padding-top: 1rem; padding-bottom: 1rem; max-width: 980px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  font-size: 1.4rem; line-height: 1.5; }
h1 { font-size: 2.6rem !important; line-height: 1.2 !important; }
h2 { font-size: 2.0rem !important; }
.stButton > button, .stFormSubmitButton > button, .stDownloadButton > button {
  min-height: 72px; font-size: 1.5rem !important; font-weight: 600; border-radius: 14px;
  border: 2px solid #4B5563; padding: 0.6rem 1.2rem; }
.stButton > button[kind="secondary"] { background: #EEF4FB; color: #0B2545; }
.st-key-languages .stButton > button { min-height: 52px; font-size: 1.15rem !important;
  background: #FFFFFF; }
.st-key-languages .stButton > button p { font-size: 1.15rem !important; }
.stButton > button p, .stFormSubmitButton > button p { font-size: 1.5rem !important; }
.stTextInput input, .stDateInput input, .stNumberInput input, .stSelectbox div[role="combobox"] {
  min-height: 60px; font-size: 1.5rem !important; }
label p { font-size: 1.3rem !important; font-weight: 600; }
.stSelectbox input, .stSelectbox [data-baseweb="select"] div { font-size: 1.5rem !important; }
[data-testid="InputInstructions"] { display: none !important; }
a[href^="mailto"] { pointer-events: none; color: inherit !important; text-decoration: none; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * {
  font-size: 1.2rem !important; color: #374151 !important; }
.stButtonGroup button { min-height: 64px; min-width: 64px; font-size: 1.5rem !important; }
.stButtonGroup button[aria-checked="true"] { background: #0B5CAD !important;
  color: #FFFFFF !important; }
.stRadio label { min-height: 48px; align-items: center; }
.stRadio label p { font-size: 1.35rem !important; }
.st-key-signature_pad canvas { border: 3px dashed #374151; border-radius: 8px; }
[data-testid="stMarkdownContainer"] p.kiosk-ticket { font-size: 3.4rem !important;
  font-weight: 800; color: #0B2545; margin: 0.2rem 0; line-height: 1.1; }
.st-key-still_there { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000;
  background: #FFF4D6; border-top: 4px solid #B54708; padding: 1rem 2rem 1.5rem 2rem; }
.st-key-need_help button { background: #B42318 !important; color: #FFFFFF !important;
  border-color: #B42318 !important; }
.st-key-need_help button p { color: #FFFFFF !important; }
.kiosk-help { color: #374151; font-size: 1.05rem !important; margin: 0.1rem 0 0.4rem 0.2rem; }
.kiosk-clinic { color: #0B5CAD; font-weight: 700; font-size: 1.3rem; }
</style>
"""


def apply_kiosk_style() -> None:
    st.html(KIOSK_CSS)
