"""What a screen reader, a keyboard and a shaky finger need from the kiosk.

Streamlit owns the page, so the parts it does not give by itself are added here, once a run:
the page title and `<html lang>` in the patient's language, focus moved to the step's heading
when the step changes, a polite live region that names the new step, a focus ring that is
more than a colour change, readable captions and 48 px touch targets.

The script runs in the page itself (st.html with JavaScript, not an iframe). Streamlit runs it
again only when its text changes, and its text holds the step and the language, so it runs
once a step (or a change of language), never on the reruns of one step.
"""

from __future__ import annotations

import html
import json

import streamlit as st

from kiosk.state import kiosk_state
from shared.i18n import t

# Steps with a title of their own in the catalog ("kiosk.page.<step>"). A step not listed
# (a new one) gets the kiosk's general title until it has one.
TITLED_STEPS = frozenset({
    "welcome", "help", "scan", "code_problem", "verify_birth_date", "find_by_name",
    "ask_phone", "other_day", "see_desk", "already_checked_in", "cannot_check_in",
    "appointment", "details", "insurance", "questions", "consent", "done", "walk_in",
    "walk_in_done", "all_set", "precheck_done_before", "lobby_scan", "phone_ticket",
})
# Steps whose screen draws no h1 of its own (a question's label is its main text): the step's
# name is their one h1, for screen readers only, so focus has a heading to land on.
UNTITLED_STEPS = frozenset({"questions"})

LIVE_REGION_ID = "kiosk-step-status"

A11Y_CSS = """
<style>
.kiosk-sr-only, .stElementContainer:has(.kiosk-sr-only) {
  position: absolute !important; width: 1px !important; height: 1px !important;
  margin: -1px !important; padding: 0 !important; overflow: hidden !important;
  clip: rect(0 0 0 0) !important; clip-path: inset(50%) !important; white-space: nowrap !important;
  border: 0 !important; }
.stElementContainer:has(.kiosk-a11y-script) { display: none !important; }
/* A focus ring that is seen without colour vision: thick, dark, outside the control,
   with a white halo so it shows on a dark button too. */
:focus-visible, button:focus-visible, a:focus-visible, [role="radio"]:focus-visible,
[role="checkbox"]:focus-visible, [role="option"]:focus-visible, [tabindex]:focus-visible {
  outline: 4px solid #0B2545 !important; outline-offset: 3px !important;
  box-shadow: 0 0 0 7px #FFFFFF !important; }
/* A text field shows the ring around its whole box (its input element draws none).
   No angle brackets in this CSS: the HTML sanitizer drops a style tag that holds them. */
[data-testid="stTextInputRootElement"]:focus-within,
[data-testid="stNumberInputContainer"]:focus-within,
[data-testid="stDateInputField"]:focus-within, [data-testid="stTextAreaRootElement"]:focus-within,
[data-baseweb="input"]:focus-within, [data-baseweb="select"]:focus-within,
[data-baseweb="textarea"]:focus-within, .stRadio label:has(input:focus-visible),
.stCheckbox label:has(input:focus-visible) {
  outline: 4px solid #0B2545 !important; outline-offset: 3px !important; }
/* The heading that focus lands on after a step changes is not a control: no ring. */
h1[tabindex="-1"]:focus:not(:focus-visible) { outline: none !important; }
/* Captions and small print: at least 4.5:1 on white. Streamlit fades a caption with
   opacity 0.6, which takes a dark grey down to about 3:1, so the fading goes too. */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] *,
[data-testid="stFileUploaderDropzoneInstructions"] * {
  color: #374151 !important; opacity: 1 !important; }
/* A heading's "link to this heading" icon is a 22 px target with no use on a kiosk. */
[data-testid="stHeaderActionElements"] { display: none !important; }
/* Every target at least 48x48 px: the "?" beside a field, the eye of a hidden field, radio
   and checkbox rows, the camera's and the uploader's own buttons and links, and Streamlit's
   "skip to main content" link once a keyboard shows it. */
[data-testid="stTooltipHoverTarget"], [data-testid="stTooltipIcon"],
[data-testid="stTooltipHoverTarget"] button {
  min-width: 48px !important; min-height: 48px !important; display: inline-flex !important;
  align-items: center; justify-content: center; }
[data-testid="stTextInputRootElement"] button, [data-baseweb="input"] button,
[data-baseweb="base-input"] button, [data-testid="stCameraInput"] button,
[data-testid="stFileUploader"] button, [data-testid="stBaseButton-minimal"],
[data-testid="stBaseButton-borderlessIcon"] {
  min-width: 48px !important; min-height: 48px !important; }
[data-testid="stCameraInput"] a, [data-testid="stSkipToContent"]:focus {
  display: inline-flex !important; align-items: center; min-height: 48px !important;
  min-width: 48px !important; }
.stRadio label, .stCheckbox label { min-height: 48px !important; min-width: 48px !important;
  align-items: center; }
</style>
"""


def step_name(step: str, language: str) -> str:
    """The step's short name, as the live region says it."""
    return t(f"kiosk.page.{step}" if step in TITLED_STEPS else "kiosk.title", language)


def page_title() -> str:
    """The browser tab's title for the patient's current step, in their language."""
    state = kiosk_state()
    step, language = state.get("step", "welcome"), state["lang"]
    if step not in TITLED_STEPS:
        return t("kiosk.title", language)
    return t("kiosk.page_title", language, step=step_name(step, language))


# Runs in the page. `__DATA__` becomes the step, language, title and announcement (JSON).
STEP_SCRIPT = """<span class="kiosk-a11y-script" hidden></span><script>
(() => {
  const d = __DATA__;
  const doc = document;
  doc.documentElement.lang = d.lang;
  doc.title = d.title;
  let live = doc.getElementById(d.live);
  if (!live) {
    // Outside React's tree, so it is there before it speaks and survives every rerun.
    live = doc.createElement("div");
    live.id = d.live;
    live.className = "kiosk-sr-only";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    live.setAttribute("aria-atomic", "true");
    doc.body.appendChild(live);
  }
  if (!window.__kioskA11yScroll) {
    // A box that scrolls (the consent text, the signature pad on a narrow screen) must take
    // keyboard focus, or a keyboard cannot read what is below its fold.
    window.__kioskA11yScroll = true;
    let queued = false;
    const scrolls = (el) => {
      const s = getComputedStyle(el);
      return (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1)
        || (/(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1);
    };
    const mark = () => {
      queued = false;
      const roots = [doc, ...Array.from(
        doc.querySelectorAll("[data-testid='stBidiComponentIsolated']"),
        (host) => host.shadowRoot).filter(Boolean)];
      const boxes = "[data-testid='stMain'] [class*='st-key-'], "
        + "[data-testid='stVerticalBlock'], .dc-scroll";
      for (const root of roots) {
        for (const el of root.querySelectorAll(boxes)) {
          if (!el.hasAttribute("tabindex") && scrolls(el)) el.setAttribute("tabindex", "0");
        }
      }
    };
    const later = () => { if (!queued) { queued = true; requestAnimationFrame(mark); } };
    new MutationObserver(later).observe(doc.body, {childList: true, subtree: true});
    window.addEventListener("resize", later);
  }
  const seen = window.__kioskA11y || {};
  const stepChanged = seen.step !== d.step;
  if (!stepChanged && seen.lang === d.lang) return;
  window.__kioskA11y = {step: d.step, lang: d.lang};
  const say = () => {
    live.textContent = "";
    // `said` tells a test the region holds this step's words in this language.
    setTimeout(() => { live.textContent = d.announce; window.__kioskA11y.said = d.lang; }, 100);
  };
  if (!stepChanged) { say(); return; }
  // The step's heading exists once this run is over (until then the last step's may show).
  let tries = 0;
  const land = () => {
    if (window.__kioskA11y.step !== d.step) return;  // a newer step took over
    const app = doc.querySelector("[data-testid='stApp']");
    const idle = app && app.getAttribute("data-test-script-state") === "notRunning";
    const heading = doc.querySelector("[data-testid='stMain'] h1");
    if (!(idle && heading)) {
      if (++tries < 200) setTimeout(land, 50);
      return;
    }
    heading.setAttribute("tabindex", "-1");
    heading.focus({preventScroll: false});
    say();
  };
  land();
})();
</script>"""


def _script(step: str, language: str, title: str, announce: str) -> str:
    # Catalog text only, yet kept from closing the script tag whatever it holds.
    data = json.dumps({"step": step, "lang": language, "title": title, "announce": announce,
                       "live": LIVE_REGION_ID}).replace("<", "\\u003c")
    return STEP_SCRIPT.replace("__DATA__", data)


def follow_step() -> None:
    """Once a run, right after the page config: the step's language, title, heading focus and
    announcement. (The accessibility styling, A11Y_CSS, goes out with the kiosk's own
    styling, in one element: kiosk/style.py.)"""
    state = kiosk_state()
    step, language = state.get("step", "welcome"), state["lang"]
    name = step_name(step, language)
    st.html(_script(step, language, page_title(), name), unsafe_allow_javascript=True)
    if step in UNTITLED_STEPS:
        st.html(f'<h1 class="kiosk-sr-only">{html.escape(name)}</h1>')
