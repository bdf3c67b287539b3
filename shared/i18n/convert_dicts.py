"""One-way conversion of the old Python dict catalogs (en.py, es.py) into the gettext catalogs.

`python -m shared.i18n.convert_dicts` rewrites locales/en and locales/es from the dicts (the
dicts win), then runs the same extract and update steps as `make i18n`. It exists for the
switch-over only, while other work still adds keys to the dicts, and goes with them.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog

from shared.i18n import DEFAULT_LANGUAGE, LOCALES
from shared.i18n import catalogs as workflow

_SECTION = re.compile(r"^\s*#\s*(.+?)\s*$")


def _tokens(key: str) -> list[str]:
    return re.split(r"[._]", key)


def read_dict(path: Path) -> list[tuple[str, str, str | None]]:
    """(key, text, section comment) in file order. A `# ...` line above a run of keys notes
    the keys that share the family of the first two after it ("kiosk.page_title",
    "kiosk.page.welcome": the kiosk.page ones), until a key of another family."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    mapping = next(node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Dict))
    pairs = []
    for key_node, value_node in zip(mapping.keys, mapping.values, strict=True):
        assert isinstance(key_node, ast.Constant) and isinstance(value_node, ast.Constant)
        pairs.append((key_node.lineno, str(key_node.value), str(value_node.value)))
    entries: list[tuple[str, str, str | None]] = []
    section: str | None = None
    family: list[str] = []
    scanned = 0
    for index, (lineno, key, text) in enumerate(pairs):
        for line in lines[scanned:lineno - 1]:
            match = _SECTION.match(line)
            if match:
                section = match.group(1)
                following = [k for _, k, _ in pairs[index:index + 2]]
                first, second = _tokens(following[0]), _tokens(following[-1])
                common = next((n for n in range(min(len(first), len(second)))
                               if first[n] != second[n]), min(len(first), len(second)))
                family = first[:max(common, 1)]
        scanned = lineno - 1
        if section and _tokens(key)[:len(family)] != family:
            section = None
        entries.append((key, text, section))
    return entries


def convert(folder: Path = Path(__file__).parent, locales: Path = LOCALES) -> None:
    english = read_dict(folder / f"{DEFAULT_LANGUAGE}.py")
    source = workflow.new_catalog(DEFAULT_LANGUAGE)
    for key, text, section in english:
        source.add(key, text, user_comments=[section] if section else [])
    workflow.write_catalog(source, workflow.po_file(DEFAULT_LANGUAGE, locales))
    for path in sorted(folder.glob("*.py")):
        lang = path.stem
        if lang in (DEFAULT_LANGUAGE, "__init__") or not re.fullmatch(r"[a-z]{2,3}", lang):
            continue
        texts = {key: text for key, text, _ in read_dict(path)}
        extra = sorted(set(texts) - {key for key, _, _ in english})
        if extra:
            print(f"{path.name}: keys English lacks, left out: {extra}", file=sys.stderr)
        catalog: Catalog = workflow.new_catalog(lang)
        for key, _, _ in english:
            catalog.add(key, texts.get(key, ""))
        workflow.write_catalog(catalog, workflow.po_file(lang, locales))
    workflow.main(["extract"])
    workflow.main(["update"])


if __name__ == "__main__":
    convert()
