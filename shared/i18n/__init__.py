"""Translation catalogs: every word a patient or a representative reads comes from here.

Use `t(key, lang, **params)`. The catalogs are gettext files, one folder per language under
locales/, English the source (see README.md). A key missing from a catalog is a bug; the tests
compare the catalogs, and at run time a missing key falls back to English rather than crashing
a page.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from string import Formatter

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).with_name("locales")
DOMAIN = "messages"
# The locale each language's times and dates are written in. Spanish is es_US, Spanish as
# written in the United States: the 12-hour clock of the clinic's signs, reminders and English
# screens ("3:00 p.m."), where plain "es" (Spain) would say "15:00". A language not listed is
# written as its own default territory does.
FORMAT_LOCALES: dict[str, str] = {"en": "en_US", "es": "es_US"}

log = logging.getLogger(__name__)


def language_codes(locales: Path = LOCALES) -> list[str]:
    """The languages that have a catalog (a folder under locales/), English first."""
    codes = {path.parents[1].name for path in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted(codes, key=lambda code: (code != DEFAULT_LANGUAGE, code))


def load_catalog(lang: str, locales: Path = LOCALES) -> dict[str, str]:
    """The translated and reviewed messages of `lang`, by key: from the compiled .mo when it is
    at least as new as the .po, else read from the .po itself (a fresh clone, or a catalog just
    edited). Empty and fuzzy entries are left out, so they fall back to English."""
    po = locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as file:
            catalog = read_mo(file)
    else:
        with po.open("rb") as file:
            catalog = read_po(file, domain=DOMAIN)
    return {str(message.id): message.string for message in catalog
            if message.id and isinstance(message.string, str) and message.string
            and not message.fuzzy}


def load_catalogs(locales: Path = LOCALES) -> dict[str, dict[str, str]]:
    return {lang: load_catalog(lang, locales) for lang in language_codes(locales)}


def language_name(code: str) -> str:
    """A language's name in its own words, as the kiosk offers it: "English", "Español"."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        name = code
    return name[:1].upper() + name[1:]


# Read once per process (a Streamlit rerun does not import this module again).
CATALOGS: dict[str, dict[str, str]] = load_catalogs()
EN = CATALOGS[DEFAULT_LANGUAGE]
LANGUAGES: dict[str, str] = {code: language_name(code) for code in CATALOGS}


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


def N_(key: str) -> str:
    """`key` unchanged: marks a message key written outside a `t()` call, so extraction and
    the catalog tests see it."""
    return key


def _format_locale(lang: str) -> Locale:
    try:
        return Locale.parse(FORMAT_LOCALES.get(lang, lang))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(FORMAT_LOCALES[DEFAULT_LANGUAGE])


def format_time(moment: datetime | time, lang: str = DEFAULT_LANGUAGE,
                tz: tzinfo | None = None) -> str:
    """A time of day as `lang` writes it: "3:00 PM", "3:00 p.m." (in `tz`, the clinic's zone,
    when given). CLDR puts a narrow no-break space (U+202F) before PM, so it never wraps."""
    if isinstance(moment, datetime) and tz is not None:
        moment = moment.astimezone(tz)
    return babel_dates.format_time(moment, "short", locale=_format_locale(lang))


def format_date(moment: date, lang: str = DEFAULT_LANGUAGE, tz: tzinfo | None = None) -> str:
    """A date in words as `lang` writes it: "Monday, June 15, 2026", "lunes, 15 de junio de
    2026" (a datetime is first put in `tz`, the clinic's zone, when given)."""
    if isinstance(moment, datetime) and tz is not None:
        moment = moment.astimezone(tz)
    return babel_dates.format_date(moment, "full", locale=_format_locale(lang))
