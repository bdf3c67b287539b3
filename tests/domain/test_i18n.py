"""Every word exists in every language, reviewed, with the same placeholders; the catalogs are
gettext files a translator edits, and a new language is a new file."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from shared.errors import DomainError, IllegalTransition, SignInRefused, TokenInvalid
from shared.i18n import (
    CATALOGS,
    LANGUAGES,
    LOCALES,
    format_date,
    format_time,
    language_codes,
    language_name,
    load_catalog,
    load_catalogs,
    placeholders,
    t,
)
from shared.i18n import catalogs as workflow

CLINIC = ZoneInfo("America/Chicago")


def _write(locales: Path, lang: str, entries: dict[str, str], fuzzy: tuple[str, ...] = ()) -> Path:
    catalog = workflow.new_catalog(lang)
    for key, text in entries.items():
        catalog.add(key, text, flags=("fuzzy",) if key in fuzzy else ())
    path = workflow.po_file(lang, locales)
    workflow.write_catalog(catalog, path)
    return path


ENGLISH = {"kiosk.need_help": "I need help", "kiosk.today": "Today is {date}.",
           "kiosk.back": "Back"}


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


def test_every_catalog_is_translated_reviewed_and_matches_english() -> None:
    """What `make i18n-check` says, on the .po files themselves: no empty or fuzzy entry, no
    key English lacks, the placeholders of English, in every language."""
    assert workflow.problems(root=None) == [], (
        "run `make i18n`, then translate or review; see shared/i18n/README.md")


def test_every_key_the_apps_use_exists() -> None:
    """Each key written literally in the code (passed to t()/tr()/t_plain()/tr_plain()/N_(),
    or named as a message key) is in the English catalog, which the tests above keep equal
    to every other. Keys built at run time are the English catalog's to hold."""
    used = workflow.keys_used_in_code()
    assert len(used) > 100  # the scan does find the keys
    assert sorted(f"{sorted(files)}: {key}" for key, files in used.items()
                  if key not in CATALOGS["en"]) == [], (
        "add these to locales/en/LC_MESSAGES/messages.po, then `make i18n`")


def _families_built_at_run_time() -> dict[str, list[object]]:
    """The keys the code builds from a value (t(f"status.{status}")), by prefix: extraction
    cannot see them, so this list does (`python -m shared.i18n.catalogs extract` names the
    places that build one)."""
    from shared.imports.apply import Action
    from shared.models.enums import AppointmentStatus, FlagKind, SignerRelationship, StaffRole
    from shared.models.interface import OutboxEvent
    from shared.services.desk import CANCEL_REASONS

    return {
        "status.": [s.value for s in AppointmentStatus],
        "flag.": [k.value for k in FlagKind],
        "role.": [r.value for r in StaffRole],
        "consent.rel_": [r.value for r in SignerRelationship],
        "interface.event_": [e.value for e in OutboxEvent],
        "import.action_": [a.value for a in Action],
        "reason.": list(CANCEL_REASONS),
        "slip.weekday_": list(range(7)),
        "slip.month_": list(range(1, 13)),
    }


@pytest.mark.parametrize("prefix", sorted(_families_built_at_run_time()))
def test_every_key_built_at_run_time_exists(prefix: str) -> None:
    values = _families_built_at_run_time()[prefix]
    assert [f"{prefix}{value}" for value in values
            if f"{prefix}{value}" not in CATALOGS["en"]] == []


def test_domain_error_keys_exist_in_catalogs() -> None:
    for cls in (DomainError, IllegalTransition, TokenInvalid, SignInRefused):
        assert cls.key in CATALOGS["en"]


def test_spanish_message_is_spanish_and_filled_in() -> None:
    expected = "La contraseña necesita al menos 10 caracteres."
    assert t("error.password_short", "es", min=10) == expected


def test_unknown_language_falls_back_to_english() -> None:
    assert t("kiosk.need_help", "fr") == "I need help"


def test_unknown_key_shows_the_key_rather_than_breaking_the_page() -> None:
    assert t("kiosk.no_such_message", "es") == "kiosk.no_such_message"


def test_the_languages_offered_are_the_catalog_folders() -> None:
    folders = {path.name for path in LOCALES.iterdir() if (path / "LC_MESSAGES").is_dir()}
    assert set(LANGUAGES) == folders == set(CATALOGS)
    assert LANGUAGES["en"] == "English" and LANGUAGES["es"] == "Español"


def test_a_third_language_is_a_new_po_file(tmp_path: Path) -> None:
    _write(tmp_path, "en", ENGLISH)
    _write(tmp_path, "es", {"kiosk.need_help": "Necesito ayuda"})
    _write(tmp_path, "fr", {"kiosk.need_help": "J'ai besoin d'aide",
                            "kiosk.today": "Nous sommes le {date}."})
    assert language_codes(tmp_path) == ["en", "es", "fr"]
    assert load_catalogs(tmp_path)["fr"]["kiosk.today"] == "Nous sommes le {date}."
    assert language_name("fr") == "Français"
    # The checker sees the new language too: what it has not translated yet is reported.
    assert f"fr/LC_MESSAGES/{workflow.DOMAIN}.po: kiosk.back is missing" in workflow.problems(
        tmp_path, root=None)


def test_a_new_language_starts_from_the_template_with_every_key_to_translate(
    tmp_path: Path,
) -> None:
    english = workflow.new_catalog("en")
    for key, text in ENGLISH.items():
        english.add(key, text, user_comments=["Kiosk"])
    template = workflow.build_template(english, {"kiosk.need_help": {"kiosk/steps/welcome.py"}})
    catalog = workflow.new_catalog("fr")
    workflow.update(catalog, template)
    entry = catalog["kiosk.today"]
    assert entry.string == ""
    assert "English: Today is {date}." in entry.auto_comments
    assert "Keep these as written: {date}" in entry.auto_comments
    assert catalog["kiosk.need_help"].locations == [("kiosk/steps/welcome.py", None)]


def test_checker_catches_an_empty_a_fuzzy_and_a_misplaced_placeholder(tmp_path: Path) -> None:
    _write(tmp_path, "en", ENGLISH)
    _write(tmp_path, "es", {"kiosk.need_help": "", "kiosk.today": "Hoy es {fecha}.",
                            "kiosk.back": "Atrás"}, fuzzy=("kiosk.back",))
    where = f"es/LC_MESSAGES/{workflow.DOMAIN}.po"
    assert workflow.problems(tmp_path, root=None) == [
        f"{where}: kiosk.need_help has no translation",
        f"{where}: kiosk.today has placeholders ['fecha'], English has ['date']",
        f"{where}: kiosk.back is fuzzy (to be reviewed)",
    ]


def test_checker_catches_a_key_the_code_uses_that_english_lacks(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    _write(locales, "en", ENGLISH)
    for folder in workflow.CODE_FOLDERS:
        (tmp_path / folder).mkdir()
    (tmp_path / "kiosk" / "step.py").write_text(
        'tr("kiosk.need_help")\n'
        'st.error(f\'{tr("kiosk.new_words")}\')\n'
        'raise Refused(key="error.new_rule")\n'
        'tr(f"status.{status}")\n')
    used, built = workflow.scan_code(tmp_path)
    assert set(used) == {"kiosk.need_help", "kiosk.new_words", "error.new_rule"}
    assert built == ["kiosk/step.py:4"]
    assert workflow.problems(locales, root=tmp_path) == [
        "kiosk/step.py: error.new_rule is not in the English catalog",
        "kiosk/step.py: kiosk.new_words is not in the English catalog",
    ]


def test_a_fuzzy_or_empty_translation_reaches_the_patient_in_english(tmp_path: Path) -> None:
    _write(tmp_path, "es", {"kiosk.need_help": "Necesito ayuda (?)", "kiosk.back": ""},
           fuzzy=("kiosk.need_help",))
    assert load_catalog("es", tmp_path) == {}


def test_a_catalog_edited_after_compiling_is_read_from_its_po(tmp_path: Path) -> None:
    po = _write(tmp_path, "es", {"kiosk.back": "Atrás"})
    compiled = Catalog(locale="es")
    compiled.add("kiosk.back", "Volver (compilado)")
    with po.with_suffix(".mo").open("wb") as file:
        write_mo(file, compiled)
    mo_time = po.with_suffix(".mo").stat().st_mtime
    os.utime(po, (mo_time - 10, mo_time - 10))
    assert load_catalog("es", tmp_path) == {"kiosk.back": "Volver (compilado)"}
    os.utime(po, (mo_time + 10, mo_time + 10))
    assert load_catalog("es", tmp_path) == {"kiosk.back": "Atrás"}


def test_changed_english_marks_the_translation_for_review() -> None:
    english = workflow.new_catalog("en")
    english.add("kiosk.back", "Back")
    spanish = workflow.new_catalog("es")
    workflow.update(spanish, workflow.build_template(english, {}))
    spanish["kiosk.back"].string = "Atrás"
    english["kiosk.back"].string = "Back to your details"
    assert workflow.update(spanish, workflow.build_template(english, {})) == ["kiosk.back"]
    assert spanish["kiosk.back"].fuzzy and spanish["kiosk.back"].string == "Atrás"


def test_spanish_patient_reads_the_time_as_spanish_writes_it() -> None:
    three_pm = datetime(2026, 6, 15, 20, 0, tzinfo=UTC)
    assert format_time(three_pm, "en", CLINIC) == "3:00\u202fPM"
    assert format_time(three_pm, "es", CLINIC) == "3:00\u202fp.m."


def test_long_dates_in_each_language() -> None:
    assert format_date(date(2026, 6, 15), "en") == "Monday, June 15, 2026"
    assert format_date(date(2026, 6, 15), "es") == "lunes, 15 de junio de 2026"
    # Late evening in the clinic is already tomorrow in UTC: the clinic's day is the one shown.
    evening = datetime(2026, 6, 16, 3, 30, tzinfo=UTC)
    assert format_date(evening, "en", CLINIC) == "Monday, June 15, 2026"


def test_a_language_without_a_formatting_locale_still_formats() -> None:
    assert format_time(datetime(2026, 6, 15, 20, 0, tzinfo=UTC), "fr", CLINIC) == "15:00"
    assert format_time(datetime(2026, 6, 15, 20, 0, tzinfo=UTC), "xx", CLINIC) == "3:00\u202fPM"
