"""Kiosk styling: large type, high contrast, 48 px+ touch targets, no Streamlit chrome, and
the few things a tablet needs that Streamlit has no parameter for (the keyboard a field opens,
a new screen shown from its top, a signature pad as wide as a phone, card photos)."""

from __future__ import annotations

import json

import streamlit as st

from kiosk.a11y import A11Y_CSS
from kiosk.state import tr

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
/* A heading is not a link a patient would share: no anchor icon beside it. */
[data-testid="stHeaderActionElements"], h1 a[href^="#"], h2 a[href^="#"], h3 a[href^="#"] {
  display: none !important; }
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
.st-key-signature_pad { border: 3px dashed #374151; border-radius: 8px; overflow: hidden;
  gap: 0; }
.st-key-signature_pad .stElementContainer, .st-key-signature_pad .stBidiComponent,
.st-key-signature_pad [data-testid="stBidiComponentIsolated"] { width: 100% !important;
  max-width: 100% !important; }
[data-testid="stMarkdownContainer"] p.kiosk-ticket { font-size: 3.4rem !important;
  font-weight: 800; color: #0B2545; margin: 0.2rem 0; line-height: 1.1; }
.st-key-still_there { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000;
  background: #FFF4D6; border-top: 4px solid #B54708; padding: 1rem 2rem 1.5rem 2rem; }
.st-key-need_help button { background: #B42318 !important; color: #FFFFFF !important;
  border-color: #B42318 !important; }
.st-key-need_help button p { color: #FFFFFF !important; }
.kiosk-help { color: #374151; font-size: 1.05rem !important; margin: 0.1rem 0 0.4rem 0.2rem; }
.kiosk-clinic { color: #0B5CAD; font-weight: 700; font-size: 1.3rem; }
/* Forms that must fit a landscape tablet: fields side by side, a little less air. */
.st-key-details_fields label p, .st-key-insurance_fields label p {
  font-size: 1.15rem !important; }
.st-key-details_fields [data-testid="stVerticalBlock"],
.st-key-insurance_fields [data-testid="stVerticalBlock"] { gap: 0.6rem; }
.st-key-details_fields .stTextInput input, .st-key-insurance_fields .stTextInput input {
  min-height: 54px; }
.st-key-details_actions button, .st-key-insurance_actions button { min-height: 64px; }
/* The consent form: its text scrolls in its own box beside the signature on a landscape
   tablet; stacked, with a shorter box, when the screen stands upright. */
.st-key-consent_text p, .st-key-consent_text li { font-size: 1.2rem !important; }
.st-key-consent_layout .stRadio [role="radiogroup"] { row-gap: 0; column-gap: 1.2rem; }
.st-key-consent_layout .stRadio label p { font-size: 1.2rem !important; }
.st-key-consent_layout button p { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; line-height: 1.2; }
.st-key-consent_layout [data-testid="stVerticalBlock"] { gap: 0.7rem; }
.st-key-consent_layout .stButton > button { min-height: 64px; }
.st-key-consent_clear button { min-height: 52px !important; }
.st-key-consent_clear button p { font-size: 1.2rem !important; }
@media (max-aspect-ratio: 1/1) {
  .st-key-consent_layout [data-testid="stHorizontalBlock"]:not(
      [data-testid="stColumn"] [data-testid="stHorizontalBlock"]) {
    flex-direction: column !important; }
  .st-key-consent_layout [data-testid="stHorizontalBlock"]:not(
      [data-testid="stColumn"] [data-testid="stHorizontalBlock"]) > [data-testid="stColumn"] {
    width: 100% !important; flex: 1 1 auto !important; }
  .st-key-consent_text { height: auto !important; max-height: 30vh !important; }
}
/* A patient's own phone (up to 520 px wide): the same large targets, the type one size
   smaller, so a step's words and its Continue button fit one screen. */
@media (max-width: 520px) {
  html, body, [data-testid="stAppViewContainer"] { font-size: 18px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
    font-size: 1.25rem; line-height: 1.4; }
  h1 { font-size: 2.1rem !important; }
  h2 { font-size: 1.7rem !important; }
}
/* Streamlit's uploader stays the way a card photo reaches the server, out of sight and out
   of a screen reader's way (its words are English): the kiosk's own buttons, in the
   patient's language, open its file input with the camera or the photo picker. */
.st-key-ins_front, .st-key-ins_back { display: none !important; }
.kiosk-photo { display: flex; flex-direction: column; gap: 0.5rem; }
.kiosk-photo button { min-height: 64px; min-width: 48px; border-radius: 14px;
  font: inherit; font-size: 1.25rem; font-weight: 600; padding: 0.5rem 1rem; cursor: pointer;
  border: 2px solid #4B5563; background: #EEF4FB; color: #0B2545; text-align: center; }
.kiosk-photo button.kiosk-photo-take { background: #FFFFFF; border-color: #0B5CAD;
  color: #0B2545; }
.kiosk-photo button.kiosk-photo-choose { min-height: 48px; font-size: 1.1rem; border: 0;
  background: transparent; text-decoration: underline; }
.kiosk-photo-status { margin: 0; font-size: 1.15rem; font-weight: 600; color: #05603A;
  min-height: 1.4rem; }
.stElementContainer:has(.kiosk-fit-script), .stElementContainer:has([data-kiosk-screen]) {
  display: none !important; }
</style>
"""

# Fields whose on-screen keyboard Streamlit cannot choose: the attributes each one gets, by
# the widget's key (Streamlit puts `st-key-<key>` on the widget's container).
INPUT_ATTRIBUTES: dict[str, dict[str, str]] = {
    "details_phone": {"type": "tel", "inputmode": "tel", "autocomplete": "tel"},
    "details_emergency_phone": {"type": "tel", "inputmode": "tel", "autocomplete": "off"},
    "details_postal_code": {"inputmode": "numeric", "autocomplete": "postal-code"},
    "details_email": {"inputmode": "email", "autocomplete": "email"},
    "walkin_phone": {"type": "tel", "inputmode": "tel", "autocomplete": "off"},
    "phone_last4": {"inputmode": "numeric"},
}

# Inside the signature pad's shadow root: as wide as the space it is given (a 390 px phone
# too), the drawing kept in the canvas's own pixels, and no toolbar (its words are English,
# and the kiosk has its own Clear button).
PAD_CSS = """
.canvas-root, .dc-root, .dc-scroll { display: block !important; width: 100% !important;
  max-width: 100% !important; }
.dc-scroll { overflow: hidden !important; }
.dc-container, .canvas-container { width: 100% !important; height: auto !important;
  aspect-ratio: var(--kiosk-pad-ratio, 3.2); }
.dc-container canvas { width: 100% !important; height: 100% !important; }
.dc-toolbar { display: none !important; }
"""

FIT_SCRIPT = """<span class="kiosk-fit-script" hidden></span><script>
(() => {
  if (window.__kioskFit) return;
  window.__kioskFit = true;
  const INPUTS = %(inputs)s;
  const PAD_CSS = %(pad_css)s;
  const doc = document;
  let screen = null;
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; tidy(); });
  };
  const toTop = () => {
    const main = doc.querySelector("[data-testid='stMain']");
    if (main) main.scrollTop = 0;
    const view = doc.querySelector("[data-testid='stAppViewContainer']");
    if (view) view.scrollTop = 0;
    window.scrollTo(0, 0);
  };
  const tidy = () => {
    // Streamlit's own words, in the patient's language (set by the kiosk once a language).
    const words = window.__kioskWords || {};
    const skip = doc.querySelector("[data-testid='stSkipToContent']");
    if (skip && words.skip && skip.textContent !== words.skip) skip.textContent = words.skip;
    if (words.helpFor) {
      for (const button of doc.querySelectorAll("button[aria-label^='Help for ']")) {
        const label = button.getAttribute("aria-label").slice("Help for ".length);
        button.setAttribute("aria-label", words.helpFor.replace("{label}", label));
      }
    }
    for (const [key, attrs] of Object.entries(INPUTS)) {
      for (const input of doc.querySelectorAll(`.st-key-${key} input`)) {
        for (const [name, value] of Object.entries(attrs)) {
          if (input.getAttribute(name) !== value) input.setAttribute(name, value);
        }
      }
    }
    for (const host of doc.querySelectorAll(
        ".st-key-signature_pad [data-testid='stBidiComponentIsolated']")) {
      const root = host.shadowRoot;
      if (!root) { schedule(); continue; }  // its shadow root comes in a moment: look again
      if (!host.__kioskWatched) {
        // The pad draws itself inside its shadow root, which the page's observer cannot see.
        host.__kioskWatched = true;
        new MutationObserver(schedule).observe(root, {childList: true, subtree: true});
      }
      const canvas = root.querySelector("canvas");
      if (!canvas) continue;
      const ratio = String(canvas.width / canvas.height || 3.2);
      if (host.style.getPropertyValue("--kiosk-pad-ratio") !== ratio) {
        host.style.setProperty("--kiosk-pad-ratio", ratio);
      }
      if (!root.querySelector("style[data-kiosk-fit]")) {
        const style = doc.createElement("style");
        style.setAttribute("data-kiosk-fit", "");
        style.textContent = PAD_CSS;
        root.appendChild(style);
      }
    }
    // A new screen (another step, question or form) opens at its top, wherever the last
    // one was scrolled to when its button was pressed.
    const marker = doc.querySelector("[data-kiosk-screen]");
    const heading = doc.querySelector("[data-testid='stMain'] h1");
    const now = (marker ? marker.getAttribute("data-kiosk-screen") : "") + "|" +
      (heading ? heading.textContent : "");
    if (now !== "|" && now !== screen) {
      const first = screen === null;
      screen = now;
      if (!first) { toTop(); requestAnimationFrame(toTop); }
    }
  };
  new MutationObserver(schedule).observe(
    doc.body, {childList: true, subtree: true, characterData: true});
  // A component's shadow root appears without a change the observer sees: look again now
  // and then (a few selector queries).
  setInterval(schedule, 500);
  window.__kioskTidy = schedule;
  tidy();
  doc.addEventListener("click", (event) => {
    // A pain score tapped again stays chosen (Streamlit's pills would drop it).
    const chosen = event.target.closest(
      "[class*='st-key-keep_choice'] button[aria-checked='true']");
    if (chosen) { event.preventDefault(); event.stopPropagation(); return; }
    // The kiosk's own card-photo buttons open the uploader's file input, with the camera
    // (capture) or the photo picker.
    const button = event.target.closest("[data-kiosk-photo]");
    if (!button) return;
    const input = doc.querySelector(
      `.st-key-${button.getAttribute("data-kiosk-photo")} input[type='file']`);
    if (!input) return;
    if (button.hasAttribute("data-capture")) input.setAttribute("capture", "environment");
    else input.removeAttribute("capture");
    input.click();
  }, true);
  doc.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    for (const status of doc.querySelectorAll("[data-kiosk-photo-status]")) {
      const key = status.getAttribute("data-kiosk-photo-status");
      if (input.closest(`.st-key-${key}`) && input.files && input.files.length) {
        status.textContent = status.getAttribute("data-done");
      }
    }
  }, true);
})();
</script>"""


LT = "\\u003c"


def apply_kiosk_style() -> None:
    # Two elements, not four: every element costs the server a share of each run (issue 13).
    # The accessibility styling (kiosk/a11y.py) goes first, as it did in its own element.
    st.html(A11Y_CSS + KIOSK_CSS)
    # The words change with the language, so this element runs again when the patient picks
    # another; FIT_SCRIPT itself installs once (window.__kioskFit) and the words part then
    # tidies with the new words. Catalog text only, yet kept from closing the script tag.
    words = json.dumps({"skip": tr("kiosk.skip_to_content"),
                        "helpFor": tr("kiosk.help_for", label="{label}")}).replace("<", LT)
    st.html(FIT_SCRIPT % {"inputs": json.dumps(INPUT_ATTRIBUTES),
                          "pad_css": json.dumps(PAD_CSS)}
            + f'<script>window.__kioskWords = {words};'
              f'window.__kioskTidy && window.__kioskTidy();</script>',
            unsafe_allow_javascript=True)


def screen_marker(name: str) -> None:
    """Names the screen for the kiosk's script, so a new one (a question, a consent form)
    opens at its top even when its step and heading stay the same."""
    st.html(f'<span data-kiosk-screen="{_attribute(name)}" hidden></span>')


def _attribute(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum() or ch in "-_:")
