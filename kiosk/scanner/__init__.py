"""The scan screen's viewfinder: a small Streamlit component that reads a QR code by itself.

The camera's picture never leaves the tablet: the browser decodes each frame (ZXing C++ as
WebAssembly, vendored in frontend/vendor/zxing-wasm) and sends only the code's text, once,
with a nonce so the same code shown twice is seen twice. The same component catches a USB
scanner's keys (the code, then Enter) anywhere on the page, so no field needs a tap.

The frontend is static files (index.html, scanner.js): nothing is built or fetched at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

FRONTEND = Path(__file__).resolve().parent / "frontend"
# A scanned code is a token or the link holding it; anything longer is not ours.
MAX_CODE_LENGTH = 2048
SOURCES = ("camera", "keys")

_viewfinder = components.declare_component("kiosk_scanner", path=str(FRONTEND))


@dataclass(frozen=True)
class Scan:
    """One code read by the viewfinder: its text, where it came from, and its nonce."""

    code: str
    source: str
    nonce: str


def read_scan(value: Any, *, handled_nonce: str | None) -> Scan | None:
    """The new code in the viewfinder's value, or None: nothing read yet, a value already
    handled (the component keeps its last value across reruns), or not a code at all."""
    if not isinstance(value, dict):
        return None
    code, nonce, source = value.get("code"), value.get("nonce"), value.get("source")
    if not isinstance(code, str) or not isinstance(nonce, str) or not nonce:
        return None
    code = code.strip()
    if not code or len(code) > MAX_CODE_LENGTH or nonce == handled_nonce:
        return None
    return Scan(code=code, source=source if source in SOURCES else "camera", nonce=nonce)


def viewfinder(*, words: dict[str, str], lang: str, key: str) -> Any:
    """Show the live viewfinder; its value is the last code read ({code, nonce, source}) or
    None. `words` are the patient's-language texts it shows (hint, starting, read, denied,
    missing, camera)."""
    return _viewfinder(words=words, lang=lang, key=key, default=None)


def scanner_keys(*, key: str) -> Any:
    """No camera and nothing shown: only a USB scanner's keys, caught anywhere on the page
    (the welcome screen, so a patient can scan before choosing anything). Its value is as
    the viewfinder's."""
    return _viewfinder(words={}, lang="en", keys_only=True, key=key, default=None)
