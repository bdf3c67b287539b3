"""Every word exists in every language, with the same placeholders."""

from __future__ import annotations

import pytest

from shared.errors import DomainError, IllegalTransition, SignInRefused, TokenInvalid
from shared.i18n import CATALOGS, placeholders, t


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_no_key_is_missing_in_any_language(lang: str) -> None:
    english = set(CATALOGS["en"])
    missing = sorted(english - set(CATALOGS[lang]))
    extra = sorted(set(CATALOGS[lang]) - english)
    assert missing == [], f"{lang} lacks {missing}"
    assert extra == [], f"{lang} has keys English lacks: {extra}"


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_placeholders_match_english(lang: str) -> None:
    for key, text in CATALOGS["en"].items():
        assert placeholders(CATALOGS[lang][key]) == placeholders(text), key


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_no_message_is_empty(lang: str) -> None:
    assert all(text.strip() for text in CATALOGS[lang].values())


def test_domain_error_keys_exist_in_catalogs() -> None:
    for cls in (DomainError, IllegalTransition, TokenInvalid, SignInRefused):
        assert cls.key in CATALOGS["en"]


def test_spanish_message_is_spanish_and_filled_in() -> None:
    expected = "La contraseña necesita al menos 10 caracteres."
    assert t("error.password_short", "es", min=10) == expected


def test_unknown_language_falls_back_to_english() -> None:
    assert t("kiosk.need_help", "fr") == "I need help"


def test_every_key_the_apps_use_exists() -> None:
    """Static check: each literal key passed to t()/tr() or named as a message key is in the
    English catalog (which the tests above keep equal to every other)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    name = r"([a-z_]+\.[a-z0-9_.-]+)"
    pattern = re.compile(r"\b(?:t|tr)\(\s*\"" + name + r"\"|key=\"" + name + r"\"")
    missing = set()
    seen = 0
    for folder in ("kiosk", "dashboard", "shared"):
        for path in (root / folder).rglob("*.py"):
            for match in pattern.finditer(path.read_text()):
                key = match.group(1) or match.group(2)
                if key.endswith(("_", ".")):
                    continue  # a prefix completed at run time (checked by the pages' tests)
                seen += 1
                if key not in CATALOGS["en"]:
                    missing.add(f"{path.relative_to(root)}: {key}")
    assert seen > 100  # the scan does find the keys
    assert sorted(missing) == []
