"""Importing the clinic's schedule: CSV, FHIR R4 Bundle (JSON) or HL7 v2 SIU messages.

    rows = read_file(data, "csv")          # or detect_format(filename, data)
    plan = plan_import(session, rows)      # per row: create / update / unchanged / refuse
    result = apply_import(session, plan)   # batched writes; the caller commits

`read_file` raises ImportUnreadable (nothing planned, nothing written) when the file as a
whole cannot be read.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

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
    "Problem",
    "RowOutcome",
    "ScheduleRow",
    "apply_import",
    "detect_format",
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
