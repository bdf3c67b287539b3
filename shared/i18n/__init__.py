"""Translation catalogs: every word a patient or a representative reads comes from here.

Use `t(key, lang, **params)`. A key missing from a catalog is a bug; the tests compare the
catalogs, and at run time a missing key falls back to English rather than crashing a page.
"""

from __future__ import annotations

import logging
from string import Formatter

from shared.i18n.en import MESSAGES as EN
from shared.i18n.es import MESSAGES as ES

CATALOGS: dict[str, dict[str, str]] = {"en": EN, "es": ES}
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"

log = logging.getLogger(__name__)


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The message `key` in `lang`, with `params` filled in."""
    catalog = CATALOGS.get(lang, EN)
    text = catalog.get(key)
    if text is None:
        log.warning("missing translation key %s for %s", key, lang)
        text = EN.get(key, key)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("bad parameters for translation key %s", key)
        return text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def field_label(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The label of a record field (as held in a flag's values); the raw name if unknown."""
    key = f"field.{name}"
    return t(key, lang) if key in CATALOGS.get(lang, EN) else name.replace("_", " ")
