"""Which Spanish was written for an English that has changed since.

Questions and consent forms are versioned, each version holding both languages, so the
versions already stored say it: no flag to keep in step. Shared by question_admin and
consent_admin, so the rule lives in one place."""

from __future__ import annotations

from collections.abc import Sequence


def outdated_parts(history: Sequence[dict[str, tuple[str, str]]]) -> list[str]:
    """The parts of the latest version whose Spanish was translated from an English that has
    changed since. `history` holds each version's {part: (English, Spanish)}, oldest first.

    The Spanish of a part was last saved at the earliest version of the latest run of versions
    holding that same Spanish; its English then is what it translates. So the mark stays,
    version after version, until someone saves that Spanish; putting back the English it was
    written for clears it too. An empty Spanish is missing, not out of date."""
    if not history:
        return []
    outdated = []
    for part, (english, spanish) in history[-1].items():
        if not spanish.strip():
            continue
        source = english
        for version in reversed(history):
            if part not in version or version[part][1] != spanish:
                break
            source = version[part][0]
        if source != english:
            outdated.append(part)
    return outdated
