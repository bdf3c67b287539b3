"""The translators' workflow behind `make i18n`: extract, update, check (compiling is
`pybabel compile`). Never imported by the apps; see README.md in this folder.

The English catalog is the source of truth: msgid is the symbolic key ("kiosk.help_title"),
msgstr the English text, and a `# comment` above an entry is a note for translators. Extraction
cannot see a key built at run time (f"status.{status}"), so it never decides which keys exist;
it only checks that every key written literally in the code is in the English catalog and
records where each is used.

    python -m shared.i18n.catalogs extract   # messages.pot from English + where keys are used
    python -m shared.i18n.catalogs update    # every other language from messages.pot
    python -m shared.i18n.catalogs check     # what the tests check; exit 1 on a problem
    python -m shared.i18n.catalogs init fr   # a new language: an empty catalog to translate
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections import defaultdict
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from shared.i18n import DEFAULT_LANGUAGE, DOMAIN, LOCALES, language_codes, placeholders

ROOT = Path(__file__).resolve().parents[2]
CODE_FOLDERS = ("kiosk", "dashboard", "shared")
TEMPLATE = LOCALES / f"{DOMAIN}.pot"
# The functions whose first argument is a message key: the catalog's `t`, the kiosk's `tr`,
# their Markdown-safe variants, an import row's `problem`, and `N_`, the no-op marker for a
# key named outside a call.
KEY_FUNCTIONS = ("t", "tr", "t_plain", "tr_plain", "problem", "N_")
KEYWORDS: dict[str, None] = dict.fromkeys(KEY_FUNCTIONS)
# What Babel's extractor cannot see: a domain error naming its message as `key="..."` (an
# argument or a class attribute), and a call inside an f-string (f'{tr("details.phone")}: ').
_CALL = r"\b(?:" + "|".join(KEY_FUNCTIONS) + r")\(\s*"
_KEY_ARGUMENT = re.compile(r"(?:\bkey\s*=\s*|" + _CALL + r")[\"']([a-z_]+\.[a-z0-9_.-]+)[\"']")
# The second key of t("a.saved" if published else "a.draft_saved") (Babel's extractor joins
# the two strings into one).
_ELSE_KEY = re.compile(_CALL + r"[\"'][^\"']+[\"']\s+if\b[^()]*?\belse\s+[\"']([a-z_]+\.[a-z0-9_.-]+)[\"']")
# A key built at run time: t(f"status.{status}").
_BUILT_KEY = re.compile(_CALL + r"f[\"']")
_KEY_SHAPE = re.compile(r"[a-z_]+\.[a-z0-9_.-]+")
# The catalog machinery itself names keys only in its documentation.
_NOT_SCANNED = ("shared/i18n/",)
ENGLISH_NOTE = "English: "
PLACEHOLDER_NOTE = "Keep these as written: "
HEADER = """\
# {language} messages of the patient check-in kiosk and the staff dashboard.
# msgid is a symbolic key; the comments above each entry give the English text, the
# placeholders to keep, and the files that use it. See shared/i18n/README.md."""


def po_file(lang: str, locales: Path = LOCALES) -> Path:
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def new_catalog(lang: str | None) -> Catalog:
    return Catalog(locale=lang, domain=DOMAIN, project="Patient check-in", version="1",
                   fuzzy=False, header_comment=HEADER.format(language=_language_name(lang)))


def _language_name(lang: str | None) -> str:
    if lang is None:
        return "Template for the"
    from babel import Locale

    return Locale.parse(lang).get_display_name("en") or lang


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, domain=DOMAIN)


def write_catalog(catalog: Catalog, path: Path) -> bool:
    """Write `catalog` unless only its dates would change (so `make i18n` twice is no diff).
    True when the file changed."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_lineno=False)
    new = buffer.getvalue()
    if path.is_file() and _without_dates(path.read_bytes()) == _without_dates(new):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(new)
    return True


def _without_dates(po: bytes) -> bytes:
    return re.sub(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\n', b"", po, flags=re.M)


def messages(catalog: Catalog) -> list[Message]:
    """The entries of a catalog, without its header."""
    return [message for message in catalog if message.id]


def scan_code(root: Path = ROOT) -> tuple[dict[str, set[str]], list[str]]:
    """The keys written literally in the code (first argument of `t`, `tr`, `t_plain`,
    `tr_plain`, `N_`, or `key="..."`) with the files that use each, and the places that build
    a key at run time ("dashboard/app.py:79"), which only the English catalog can vouch for.
    A prefix completed at run time (`t("slip.month_" + n)`) is not a key and is left out."""
    used: dict[str, set[str]] = defaultdict(set)
    built: list[str] = []
    for folder in CODE_FOLDERS:
        # Babel warns on each f-string it skips; _BUILT_KEY finds the ones that make a key.
        with contextlib.redirect_stderr(io.StringIO()):
            found = list(extract_from_dir(root / folder, [("**.py", "python")],
                                          keywords=KEYWORDS))
        for filename, _, key, _, _ in found:
            path = f"{folder}/{filename}"
            if (isinstance(key, str) and _KEY_SHAPE.fullmatch(key) and not _skipped(path)
                    and re.search(f"[\"']{re.escape(key)}[\"']",
                                  (root / path).read_text(encoding="utf-8"))):
                used[key].add(path)
        for file in (root / folder).rglob("*.py"):
            path = file.relative_to(root).as_posix()
            if _skipped(path):
                continue
            source = file.read_text(encoding="utf-8")
            for pattern in (_KEY_ARGUMENT, _ELSE_KEY):
                for match in pattern.finditer(source):
                    used[match.group(1)].add(path)
            built.extend(f"{path}:{source.count(chr(10), 0, match.start()) + 1}"
                         for match in _BUILT_KEY.finditer(source))
    return {key: files for key, files in used.items() if not key.endswith(("_", "."))}, built


def keys_used_in_code(root: Path = ROOT) -> dict[str, set[str]]:
    return scan_code(root)[0]


def _skipped(path: str) -> bool:
    return path.startswith(_NOT_SCANNED)


def build_template(english: Catalog, used: dict[str, set[str]]) -> Catalog:
    """messages.pot: every English key, empty, with its notes for translators."""
    template = new_catalog(None)
    for message in messages(english):
        notes = [*message.user_comments, ENGLISH_NOTE + _one_line(str(message.string))]
        names = placeholders(str(message.string))
        if names:
            notes.append(PLACEHOLDER_NOTE + ", ".join("{" + name + "}" for name in sorted(names)))
        template.add(message.id, "", auto_comments=notes,
                     locations=[(path, None) for path in sorted(used.get(message.id, ()))])
    return template


def _one_line(text: str) -> str:
    return text.replace("\n", "\\n")


def _english_note(message: Message) -> str | None:
    """The English text noted above a translation when it was last updated (a long note is
    wrapped over several comment lines, up to the placeholders note)."""
    lines: list[str] = []
    for note in message.auto_comments:
        if note.startswith(ENGLISH_NOTE):
            lines = [note[len(ENGLISH_NOTE):]]
        elif note.startswith(PLACEHOLDER_NOTE) and lines:
            break
        elif lines:
            lines.append(note)
    return " ".join(lines) if lines else None


def update(catalog: Catalog, template: Catalog) -> list[str]:
    """Bring a translated catalog up to the template: new keys arrive empty, keys English no
    longer has become obsolete (`#~`), and an entry whose English text changed since it was
    translated is marked fuzzy for review. The keys marked fuzzy."""
    before = {message.id: _english_note(message) for message in messages(catalog)}
    catalog.update(template, no_fuzzy_matching=True)
    changed = []
    for message in messages(catalog):
        old, new = before.get(message.id), _english_note(message)
        if message.string and old is not None and old != new:
            message.flags.add("fuzzy")
            changed.append(str(message.id))
    return changed


def problems(locales: Path = LOCALES, root: Path | None = ROOT) -> list[str]:
    """Everything that would let a patient or a representative read a missing, unreviewed or
    broken message: a key the code uses that English lacks, and in every catalog an empty or
    fuzzy entry, a key English lacks, or placeholders other than English's."""
    found: list[str] = []
    english = {m.id: str(m.string) for m in messages(read_catalog(po_file(DEFAULT_LANGUAGE,
                                                                           locales)))}
    if root is not None:
        for key, files in sorted(keys_used_in_code(root).items()):
            if key not in english:
                found.append(f"{', '.join(sorted(files))}: {key} is not in the English catalog")
    for lang in language_codes(locales):
        catalog = read_catalog(po_file(lang, locales))
        where = f"{lang}/LC_MESSAGES/{DOMAIN}.po"
        if catalog.fuzzy:
            found.append(f"{where}: the header is marked fuzzy")
        seen = set()
        for message in messages(catalog):
            key, text = str(message.id), str(message.string or "")
            seen.add(key)
            if key not in english:
                found.append(f"{where}: {key} is not in the English catalog")
            elif not text.strip():
                found.append(f"{where}: {key} has no translation")
            elif message.fuzzy:
                found.append(f"{where}: {key} is fuzzy (to be reviewed)")
            elif placeholders(text) != placeholders(english[key]):
                found.append(f"{where}: {key} has placeholders {sorted(placeholders(text))},"
                             f" English has {sorted(placeholders(english[key]))}")
        found.extend(f"{where}: {key} is missing" for key in sorted(set(english) - seen))
    return found


def main(argv: list[str]) -> int:
    command, *rest = argv or ["check"]
    if command == "extract":
        english = read_catalog(po_file(DEFAULT_LANGUAGE))
        used, built = scan_code()
        print(f"{len(used)} keys written in the code; {len(built)} places build a key at run"
              " time (their keys must be in the English catalog by hand):", " ".join(built))
        unknown = sorted(set(used) - {m.id for m in messages(english)})
        for key in unknown:
            print(f"{', '.join(sorted(used[key]))}: {key} is not in the English catalog",
                  file=sys.stderr)
        if write_catalog(build_template(english, used), TEMPLATE):
            print(f"wrote {TEMPLATE.relative_to(ROOT)}")
        return 1 if unknown else 0
    if command == "update":
        template = read_catalog(TEMPLATE)
        for lang in language_codes():
            if lang == DEFAULT_LANGUAGE:
                continue
            catalog = read_catalog(po_file(lang))
            changed = update(catalog, template)
            if write_catalog(catalog, po_file(lang)):
                print(f"updated {lang}" + (f"; English changed, to review: {changed}"
                                           if changed else ""))
        return 0
    if command == "init":
        (lang,) = rest
        if po_file(lang).exists():
            print(f"{po_file(lang)} exists already", file=sys.stderr)
            return 1
        catalog = new_catalog(lang)
        update(catalog, read_catalog(TEMPLATE))
        write_catalog(catalog, po_file(lang))
        print(f"wrote {po_file(lang).relative_to(ROOT)}: translate it, then make i18n")
        return 0
    if command == "check":
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
