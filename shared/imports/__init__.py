"""Importing the clinic's schedule: CSV, FHIR R4 Bundle (JSON) or HL7 v2 SIU messages.

    rows = read_file(data, "csv")          # or detect_format(filename, data)
    plan = plan_import(session, rows)      # per row: create / update / unchanged / refuse
    result = apply_import(session, plan)   # batched writes; the caller commits

`read_file` raises ImportUnreadable (nothing planned, nothing written) when the file as a
whole cannot be read.

One HL7 message on its own (what a live connection receives) goes through the same code:

    outcome = import_hl7_message(session, text)   # applied / refused / unparsable
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.imports import csv_source, fhir_source, hl7_source
from shared.imports.apply import (
    Action,
    ImportResult,
    RowOutcome,
    apply_import,
    plan_import,
    totals,
)
from shared.imports.model import (
    FORMATS,
    MAX_BYTES,
    REASON_KEYS,
    ImportUnreadable,
    Problem,
    ScheduleRow,
    decode_text,
)

EXTENSIONS = {".csv": "csv", ".json": "fhir", ".hl7": "hl7"}

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MAX_BYTES",
    "REASON_KEYS",
    "Action",
    "ImportResult",
    "ImportUnreadable",
    "MessageOutcome",
    "MessageStatus",
    "Problem",
    "RowOutcome",
    "ScheduleRow",
    "apply_import",
    "detect_format",
    "import_hl7_message",
    "plan_import",
    "read_file",
    "totals",
]


def detect_format(filename: str, data: bytes) -> str:
    """csv, fhir or hl7: by the file's extension (.csv, .json, .hl7), else by how it starts."""
    name = filename.lower()
    for extension, fmt in EXTENSIONS.items():
        if name.endswith(extension):
            return fmt
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return "fhir"
    if head.startswith((b"MSH", b"FHS", b"BHS")):
        return "hl7"
    return "csv"


def read_file(
    data: bytes, fmt: str, *, tz: ZoneInfo | None = None, today: date | None = None
) -> list[ScheduleRow]:
    """The file's rows, each cleaned and checked. Times without an offset are in `tz` (the
    clinic's time zone by default)."""
    if fmt not in FORMATS:
        raise ImportUnreadable("import.error_format", formats=", ".join(FORMATS))
    text = decode_text(data)
    tz = tz or get_settings().tz
    parser = {"csv": csv_source, "fhir": fhir_source, "hl7": hl7_source}[fmt]
    return parser.parse(text, tz, today=today)


class MessageStatus(StrEnum):
    APPLIED = "applied"  # written (or already as the message says): HL7 AA
    REFUSED = "refused"  # read, and refused for the reasons given: HL7 AE
    UNPARSABLE = "unparsable"  # not an HL7 message that can be read: HL7 AR


UNREADABLE_REASONS = {"import.reason_bad_message", "import.reason_message_too_large"}


@dataclass(frozen=True)
class MessageOutcome:
    status: MessageStatus
    control_id: str | None  # MSH-10, as far as it can be read
    reasons: tuple[Problem, ...]
    outcome: RowOutcome | None = None  # the plan's outcome, when the message was read

    def describe(self, lang: str = "en") -> str:
        return " ".join(p.text(lang) for p in self.reasons)


def import_hl7_message(
    session: Session,
    text: str,
    *,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
    today: date | None = None,
    actor_type: str = "hl7",
) -> MessageOutcome:
    """Apply one SIU message, in the session's transaction (the caller commits), through the
    same reading, planning and writing as a file. A message that is refused or cannot be
    read writes nothing."""
    tz = tz or get_settings().tz
    control_id = hl7_source.control_id(text)
    try:
        row = hl7_source.read_message(text, tz, today=today)
    except ImportUnreadable as exc:
        return MessageOutcome(MessageStatus.UNPARSABLE, control_id,
                              (Problem(exc.key, dict(exc.params)),))
    if any(p.key in UNREADABLE_REASONS for p in row.problems):
        return MessageOutcome(MessageStatus.UNPARSABLE, control_id, row.problems)
    (planned,) = plan_import(session, [row])
    if planned.action == Action.REFUSE:
        return MessageOutcome(MessageStatus.REFUSED, control_id, planned.reasons, planned)
    (applied,) = apply_import(session, [planned], now=now, actor_type=actor_type).outcomes
    status = MessageStatus.REFUSED if applied.action == Action.REFUSE else MessageStatus.APPLIED
    return MessageOutcome(status, control_id, applied.reasons, applied)
