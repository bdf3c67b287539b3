"""The schedule as HL7 v2 SIU messages: S12 (new), S13 (rescheduled), S14 (modified) and
S15 (cancelled).

A file holds one or more messages, each starting with MSH; blank lines between them are
fine, and segments may end with CR, LF or CRLF. Batch wrappers (FHS/BHS/BTS/FTS) are
skipped. One row per message, numbered from 1. Messages are events in order: a later
message about the same appointment supersedes an earlier one.

- Appointment id: SCH-2.1 (filler id), else SCH-1.1 (placer id).
- Start: SCH-11.4, else TQ1-7, AIS-4, AIG-8, AIL-6 or AIP-6. Without an offset it is the
  clinic's local time. Duration: SCH-9 in SCH-10 units (minutes by default), else the
  duration on AIS, AIG, AIL or AIP, else SCH-11.3.
- Visit type: SCH-8 (text, else code), else SCH-7. Cancelled: S15, or SCH-25 "Cancelled".
- Patient: PID-3 (the repetition typed MR, else PI, else the first when none is typed),
  PID-5 family^given, PID-7 birth
  date, PID-8 sex, PID-11 address, PID-13 phone and e-mail.
- Provider: AIP-3 id^family^given^...^prefix, else AIG-3 id^name.
- Location: AIL-3.1 point of care (else AIL-3.9 description); department AIL-4, else AIL-3.4.
- Insurance (IN1, optional): payer IN1-4.1 (else IN1-3.1), member id IN1-36 (else IN1-49.1),
  group IN1-8.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import hl7

from shared.imports.model import (
    ImportUnreadable,
    Problem,
    ScheduleRow,
    build_row,
    check_row_count,
    clean_text,
)

BOOKED_EVENTS = {"S12", "S13", "S14"}
CANCEL_EVENTS = {"S15"}
BATCH_SEGMENTS = {"FHS", "BHS", "BTS", "FTS"}
SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}")
LABELS = {
    "appointment_id": "SCH-2", "start": "SCH-11", "duration_minutes": "SCH-9",
    "visit_type": "SCH-8", "status": "SCH-25", "mrn": "PID-3", "given_name": "PID-5",
    "family_name": "PID-5", "birth_date": "PID-7", "sex": "PID-8", "phone": "PID-13",
    "email": "PID-13", "address_line": "PID-11", "address_line2": "PID-11", "city": "PID-11",
    "state": "PID-11", "postal_code": "PID-11", "provider_id": "AIP-3",
    "provider_name": "AIP-3", "location": "AIL-3", "department": "AIL-4", "payer": "IN1-4",
    "member_id": "IN1-36", "group_id": "IN1-8",
}


def split_messages(text: str) -> list[list[str]]:
    """The file's messages, each a list of segment lines."""
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    content = [line.rstrip() for line in lines]
    first = next((line for line in content
                  if line.strip() and line[:3] not in BATCH_SEGMENTS), "")
    if not first.startswith("MSH") or len(first) < 8:
        raise ImportUnreadable("import.error_not_hl7")
    messages: list[list[str]] = []
    for line in content:
        if not line.strip() or line[:3] in BATCH_SEGMENTS:
            continue
        if line.startswith("MSH"):
            messages.append([])
        messages[-1].append(line)
    return messages


def parse(text: str, tz: ZoneInfo, *, today: date | None = None) -> list[ScheduleRow]:
    messages = split_messages(text)
    check_row_count(len(messages))
    return [_row(number, segments, tz, today) for number, segments in
            enumerate(messages, start=1)]


def _refused(number: int, key: str, **params: object) -> ScheduleRow:
    return ScheduleRow(row=number, problems=(Problem(key, params),))


def _row(number: int, segments: list[str], tz: ZoneInfo, today: date | None) -> ScheduleRow:
    if len(segments[0]) < 8:
        return _refused(number, "import.reason_bad_message")
    separator = segments[0][3]
    if any(not SEGMENT.fullmatch(s[:3]) or (len(s) > 3 and s[3] != separator)
           for s in segments):
        return _refused(number, "import.reason_bad_message")
    try:
        message = hl7.parse("\r".join(segments))
    except Exception:  # python-hl7 raises several kinds on malformed input
        return _refused(number, "import.reason_bad_message")
    m = _Message(message)
    kind, event = m.get("MSH", 9, 1, 1).upper(), m.get("MSH", 9, 1, 2).upper()
    if not kind:
        return _refused(number, "import.reason_bad_message")
    if kind != "SIU" or event not in BOOKED_EVENTS | CANCEL_EVENTS:
        return _refused(number, "import.reason_unsupported_message",
                        type=clean_text(f"{kind}^{event}")[:20])
    for name in ("SCH", "PID"):
        if not m.has(name):
            return _refused(number, "import.reason_missing_segment", segment=name)
    status = m.get("SCH", 25, 1, 1).lower()
    cancelled = event in CANCEL_EVENTS or status in ("cancelled", "canceled", "deleted")
    values: dict[str, object] = {
        "appointment_id": m.get("SCH", 2, 1, 1) or m.get("SCH", 1, 1, 1),
        "start": _start(m),
        "duration_minutes": _duration(m),
        "visit_type": m.get("SCH", 8, 1, 2) or m.get("SCH", 8, 1, 1)
        or m.get("SCH", 7, 1, 2) or m.get("SCH", 7, 1, 1),
        "status": "cancelled" if cancelled else "booked",
        **_patient(m),
        **_provider(m),
        "location": m.get("AIL", 3, 1, 1) or m.get("AIL", 3, 1, 9),
        "department": m.get("AIL", 4, 1, 2) or m.get("AIL", 4, 1, 1) or m.get("AIL", 3, 1, 4),
        "payer": m.get("IN1", 4, 1, 1) or m.get("IN1", 3, 1, 1),
        "member_id": m.get("IN1", 36, 1, 1) or m.get("IN1", 49, 1, 1),
        "group_id": m.get("IN1", 8, 1, 1),
    }
    return build_row(number, {k: v or None for k, v in values.items()}, tz, today=today,
                     event=event, labels=LABELS)


class _Message:
    """Field access that answers '' for what a message leaves out."""

    def __init__(self, message: hl7.Message) -> None:
        self.message = message

    def has(self, segment: str) -> bool:
        try:
            self.message.segment(segment)
        except KeyError:
            return False
        return True

    def get(self, segment: str, field: int, repeat: int = 1, component: int = 1) -> str:
        try:
            value = self.message[f"{segment}.F{field}.R{repeat}.C{component}"]
        except (KeyError, IndexError, ValueError, TypeError):
            return ""
        return value if isinstance(value, str) else str(value)

    def repeats(self, segment: str, field: int) -> int:
        try:
            value = self.message.segment(segment)[field]
        except (KeyError, IndexError):
            return 0
        if isinstance(value, hl7.Field) and value and isinstance(value[0], hl7.Repetition):
            return len(value)
        return 1


def _start(m: _Message) -> str:
    return (m.get("SCH", 11, 1, 4) or m.get("TQ1", 7, 1, 1) or m.get("AIS", 4, 1, 1)
            or m.get("AIG", 8, 1, 1) or m.get("AIL", 6, 1, 1) or m.get("AIP", 6, 1, 1))


def _minutes(amount: str, unit: str) -> str:
    """Minutes as text; the amount unchanged when it is not a number (refused later)."""
    amount, unit = amount.strip(), unit.strip().lower()
    if not re.fullmatch(r"\d{1,5}", amount):
        return amount
    if unit in ("h", "hr", "hrs", "hour", "hours"):
        return str(int(amount) * 60)
    if unit in ("s", "sec", "second", "seconds"):
        return str(int(amount) // 60)
    return amount


def _duration(m: _Message) -> str:
    for segment, amount, unit in (("SCH", 9, 10), ("AIS", 7, 8), ("AIG", 10, 11),
                                  ("AIL", 8, 9), ("AIP", 8, 9)):
        value = m.get(segment, amount, 1, 1)
        if value:
            return _minutes(value, m.get(segment, unit, 1, 1))
    timing = m.get("SCH", 11, 1, 3).upper()  # "M30", "H1" or "30"
    if match := re.fullmatch(r"([SMH]?)(\d{1,5})", timing):
        unit = {"S": "s", "H": "h"}.get(match.group(1), "min")
        return _minutes(match.group(2), unit)
    return timing


def _patient(m: _Message) -> dict[str, object]:
    values: dict[str, object] = {
        "mrn": _mrn(m),
        "family_name": m.get("PID", 5, 1, 1),
        "given_name": m.get("PID", 5, 1, 2),
        "birth_date": m.get("PID", 7, 1, 1),
        "sex": m.get("PID", 8, 1, 1),
        "address_line": m.get("PID", 11, 1, 1),
        "address_line2": m.get("PID", 11, 1, 2),
        "city": m.get("PID", 11, 1, 3),
        "state": m.get("PID", 11, 1, 4),
        "postal_code": m.get("PID", 11, 1, 5),
    }
    for field in (13, 14):
        for repeat in range(1, m.repeats("PID", field) + 1):
            use, kind = m.get("PID", field, repeat, 2).upper(), m.get("PID", field, repeat, 3)
            email = m.get("PID", field, repeat, 4)
            if use == "NET" or kind.lower() == "internet" or "@" in email:
                values.setdefault("email", email)
                continue
            number = m.get("PID", field, repeat, 1) or (
                m.get("PID", field, repeat, 6) + m.get("PID", field, repeat, 7))
            if number:
                values.setdefault("phone", number)
    return values


def _mrn(m: _Message) -> str:
    """The PID-3 repetition typed MR (else PI); the first one only when none is typed, so
    that an SSN or a payer's number is never taken for the MRN."""
    typed: dict[str, str] = {}
    for repeat in range(m.repeats("PID", 3), 0, -1):
        typed[m.get("PID", 3, repeat, 5).upper()] = m.get("PID", 3, repeat, 1)
    for kind in ("MR", "PI"):
        if kind in typed:
            return typed[kind]
    return m.get("PID", 3, 1, 1) if set(typed) <= {""} else ""


def _provider(m: _Message) -> dict[str, object]:
    if m.has("AIP"):
        name = " ".join(p for p in (m.get("AIP", 3, 1, 6), m.get("AIP", 3, 1, 3),
                                    m.get("AIP", 3, 1, 2)) if p)
        return {"provider_id": m.get("AIP", 3, 1, 1), "provider_name": name}
    return {"provider_id": m.get("AIG", 3, 1, 1), "provider_name": m.get("AIG", 3, 1, 2)}
