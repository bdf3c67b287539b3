"""The schedule as a CSV file: one appointment per row, columns named in the header.

The columns are documented in README.md ("Importing the schedule") and shown by
docs/import/sample-schedule.csv. Header names are matched without regard to case, spaces or
dashes. A missing required column, an unknown column or a file that is not UTF-8 text
refuses the whole file; a bad value refuses only its row.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

from shared.imports.model import ImportUnreadable, Problem, ScheduleRow, build_row, check_row_count

REQUIRED = ("appointment_id", "start", "mrn", "given_name", "family_name", "birth_date",
            "location")
PROVIDER = ("provider_id", "provider_name")  # at least one of the two
OPTIONAL = ("duration_minutes", "visit_type", "status", "department", "sex", "phone", "email",
            "address_line", "address_line2", "city", "state", "postal_code", "payer",
            "member_id", "group_id")
COLUMNS = REQUIRED + PROVIDER + OPTIONAL
DELIMITERS = (",", ";", "\t")


def _column_name(raw: str) -> str:
    return "_".join(raw.strip().lower().replace("-", " ").split())


def _delimiter(text: str) -> str:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse(text: str, tz: ZoneInfo, *, today: date | None = None) -> list[ScheduleRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ImportUnreadable("import.error_not_csv", line=reader.line_num) from exc
    header_index = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if header_index is None:
        raise ImportUnreadable("import.error_empty")
    header = [_column_name(c) for c in records[header_index]]
    _check_header(header)
    body = records[header_index + 1:]
    check_row_count(len(body))
    rows = []
    for offset, record in enumerate(body):
        number = header_index + offset + 2  # the header is row 1, as in a spreadsheet
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            rows.append(ScheduleRow(row=number, problems=(
                Problem("import.reason_cell_count", {"expected": len(header),
                                                     "found": len(record)}),)))
            continue
        values = dict(zip(header, record, strict=True))
        rows.append(build_row(number, values, tz, today=today))
    return rows


def _check_header(header: list[str]) -> None:
    unknown = [name or "(blank)" for name in header if name not in COLUMNS]
    if unknown:
        raise ImportUnreadable("import.error_unknown_columns",
                               columns=", ".join(unknown[:10])[:300])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ImportUnreadable("import.error_repeated_columns", columns=", ".join(repeated))
    missing = [name for name in REQUIRED if name not in header]
    if not any(name in header for name in PROVIDER):
        missing.append(" / ".join(PROVIDER))
    if missing:
        raise ImportUnreadable("import.error_missing_columns", columns=", ".join(missing))
