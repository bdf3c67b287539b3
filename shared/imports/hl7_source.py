"""The schedule as HL7 v2 SIU messages (v2.2 to v2.5): S12 (new), S13 (rescheduled), S14
(modified) and S15 (cancelled).

A file holds one or more messages, each starting with MSH; blank lines between them are
fine, and segments may end with CR, LF or CRLF. Batch wrappers (FHS/BHS/BTS/FTS) are
skipped. One row per message, numbered from 1. Messages are events in order: a later
message about the same appointment supersedes an earlier one. `read_message` reads one
message on its own (what a live connection receives).

Memory is bounded by the message, not the file: the text is split into messages first and
each is cut down before python-hl7 parses it: only the segments read below are kept (at most
MAX_SEGMENT_COPIES of each), a segment keeps its first MAX_FIELDS fields, a field its first
MAX_REPEATS repetitions (a warning names the field) and MAX_FIELD_CHARS characters; a message
still larger than MAX_MESSAGE_CHARS is refused.

- Appointment id: SCH-2.1 (filler id), else SCH-1.1 (placer id).
- Start: SCH-11.4, else TQ1-7, AIS-4, AIG-8, AIL-6 or AIP-6. Without an offset it is the
  clinic's local time. Duration: SCH-9 in SCH-10 units (minutes by default), else AIS-7/8,
  AIG-11/12, AIL-9/10 or AIP-9/10 (amount/units), else SCH-11.3.
- Visit type: SCH-8 (text, else code), else SCH-7, else AIS-3. Cancelled: S15, or SCH-25
  "Cancelled".
- Patient: PID-3 (the repetition typed MR, else PI, else the first when none is typed),
  PID-5 family^given^middle^suffix^prefix (the repetition typed L, else the first), PID-7
  birth date, PID-8 sex, PID-11 address, PID-13 phone and e-mail, else PID-14: the first
  valid number wins, and a warning names the field whose number was not valid.
- Provider: AIP-3 (XCN id^family^given^middle^suffix^prefix^degree), else AIG-3 (id^text),
  else PV1-7 (XCN). A user name where the name should be (`13^kmurphy2`) is a code, not a
  name: the provider is created under it until a manager gives it a name.
- Location: AIL-3, else PV1-3 (PL): the code is component 1; the name is component 2
  (`id^Name`), else 9 (description), else 4 (`^^^Name`), else the code. Department AIL-4.
- Insurance (IN1, optional): payer IN1-4.1 (else IN1-3.1), member id IN1-36 (else IN1-49.1),
  group IN1-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    email_normalized,
    phone_e164,
)

BOOKED_EVENTS = {"S12", "S13", "S14"}
CANCEL_EVENTS = {"S15"}
BATCH_SEGMENTS = {"FHS", "BHS", "BTS", "FTS"}
SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}")
# The segments read; any other (NTE, OBX, Z-segments...) is skipped before parsing.
READ_SEGMENTS = {"MSH", "SCH", "TQ1", "PID", "PV1", "AIS", "AIG", "AIL", "AIP", "IN1"}
MAX_SEGMENT_COPIES = 5
MAX_FIELDS = 60
MAX_REPEATS = 10
MAX_FIELD_CHARS = 2000
MAX_MESSAGE_CHARS = 64 * 1024
MAX_SEGMENTS = 1000  # all segments of one message, read or skipped
LABELS = {
    "appointment_id": "SCH-2", "start": "SCH-11", "duration_minutes": "SCH-9",
    "visit_type": "SCH-8", "status": "SCH-25", "mrn": "PID-3", "given_name": "PID-5",
    "family_name": "PID-5", "middle_name": "PID-5", "name_prefix": "PID-5",
    "name_suffix": "PID-5", "birth_date": "PID-7", "sex": "PID-8", "phone": "PID-13",
    "email": "PID-13", "address_line": "PID-11", "address_line2": "PID-11", "city": "PID-11",
    "state": "PID-11", "postal_code": "PID-11", "provider_id": "AIP-3",
    "provider_name": "AIP-3", "provider_login": "AIP-3", "location": "AIL-3",
    "location_code": "AIL-3", "department": "AIL-4", "payer": "IN1-4", "member_id": "IN1-36",
    "group_id": "IN1-8",
}
# A user name standing where a person's name should be: lower case, no spaces.
LOGIN = re.compile(r"[a-z][a-z0-9._-]*")


def iter_messages(text: str) -> Iterator[list[str]]:
    """The file's messages one at a time, each a list of segment lines."""
    first = True
    current: list[str] = []
    for match in re.finditer(r"[^\r\n]+", text):
        line = match.group().rstrip()
        if not line.strip() or line[:3] in BATCH_SEGMENTS:
            continue
        if first:
            if not line.startswith("MSH") or len(line) < 8:
                raise ImportUnreadable("import.error_not_hl7")
            first = False
        if line.startswith("MSH") and current:
            yield current
            current = []
        current.append(line)
    if first:
        raise ImportUnreadable("import.error_not_hl7")
    if current:
        yield current


def split_messages(text: str) -> list[list[str]]:
    """The file's messages, each a list of segment lines."""
    return list(iter_messages(text))


def parse(text: str, tz: ZoneInfo, *, today: date | None = None) -> list[ScheduleRow]:
    rows: list[ScheduleRow] = []
    for number, segments in enumerate(iter_messages(text), start=1):
        check_row_count(number)
        rows.append(_row(number, segments, tz, today))
    return rows


def read_message(text: str, tz: ZoneInfo, *, today: date | None = None) -> ScheduleRow:
    """One message on its own (segments ending in CR, LF or CRLF), as row 1. Raises
    ImportUnreadable when it does not start with MSH or holds more than one message."""
    messages = iter_messages(text)
    segments = next(messages)
    if next(messages, None) is not None:
        raise ImportUnreadable("import.error_not_hl7")
    return _row(1, segments, tz, today)


def control_id(text: str) -> str | None:
    """MSH-10 of a message, read without parsing it; None when there is none."""
    line = text.lstrip("\ufeff \t\r\n")[:4096].replace("\n", "\r").split("\r", 1)[0]
    if not line.startswith("MSH") or len(line) < 4:
        return None
    fields = line.split(line[3], 10)
    value = clean_text(fields[9]) if len(fields) > 9 else ""
    return value[:64] or None


def _refused(number: int, key: str, **params: object) -> ScheduleRow:
    return ScheduleRow(row=number, problems=(Problem(key, params),))


def _bounded(segments: list[str]) -> tuple[list[str] | None, list[Problem]]:
    """The message cut down to what is read, before it is parsed; None when it cannot be."""
    msh = segments[0]
    separator = msh[3]
    encoding = msh[4:8].split(separator, 1)[0]
    if len(encoding) < 2 or separator in encoding or len(set(encoding)) != len(encoding):
        return None, []
    repeat = encoding[1]
    if len(segments) > MAX_SEGMENTS:
        return None, [Problem("import.reason_message_too_large",
                              {"max_kb": MAX_MESSAGE_CHARS // 1024,
                               "max_segments": MAX_SEGMENTS})]
    kept: list[str] = []
    copies: dict[str, int] = {}
    warnings: list[Problem] = []
    for line in segments:
        name = line[:3]
        if not SEGMENT.fullmatch(name) or (len(line) > 3 and line[3] != separator):
            return None, []
        if name not in READ_SEGMENTS:
            continue
        copies[name] = copies.get(name, 0) + 1
        if copies[name] > MAX_SEGMENT_COPIES:
            continue
        fields = line.split(separator, MAX_FIELDS + 1)[:MAX_FIELDS + 1]
        for i in range(1 if name != "MSH" else 2, len(fields)):
            value = fields[i]
            count = value.count(repeat) + 1
            if count > MAX_REPEATS:
                label = f"{name}-{i}"
                warnings.append(Problem("import.warning_repeats_trimmed",
                                        {"field": label, "count": count, "max": MAX_REPEATS}))
                value = repeat.join(value.split(repeat, MAX_REPEATS)[:MAX_REPEATS])
            fields[i] = value[:MAX_FIELD_CHARS]
        kept.append(separator.join(fields))
    if sum(len(line) + 1 for line in kept) > MAX_MESSAGE_CHARS:
        return None, [Problem("import.reason_message_too_large",
                              {"max_kb": MAX_MESSAGE_CHARS // 1024,
                               "max_segments": MAX_SEGMENTS})]
    return kept, warnings


def _row(number: int, segments: list[str], tz: ZoneInfo, today: date | None) -> ScheduleRow:
    if len(segments[0]) < 8:
        return _refused(number, "import.reason_bad_message")
    kept, warnings = _bounded(segments)
    if kept is None:
        return ScheduleRow(row=number, problems=tuple(warnings) or (
            Problem("import.reason_bad_message"),))
    try:
        message = hl7.parse("\r".join(kept))
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
    status = {m.get("SCH", 25, 1, 1).lower(), m.get("SCH", 25, 1, 2).lower()}
    cancelled = event in CANCEL_EVENTS or bool(
        status & {"cancelled", "canceled", "deleted"})
    labels = dict(LABELS)
    values: dict[str, object] = {
        "appointment_id": m.get("SCH", 2, 1, 1) or m.get("SCH", 1, 1, 1),
        "start": _start(m),
        "duration_minutes": _duration(m, labels, warnings),
        "visit_type": m.get("SCH", 8, 1, 2) or m.get("SCH", 8, 1, 1)
        or m.get("SCH", 7, 1, 2) or m.get("SCH", 7, 1, 1)
        or m.get("AIS", 3, 1, 2) or m.get("AIS", 3, 1, 1),
        "status": "cancelled" if cancelled else "booked",
        **_patient(m, warnings),
        **_provider(m, labels),
        **_location(m, labels),
        "payer": m.get("IN1", 4, 1, 1) or m.get("IN1", 3, 1, 1),
        "member_id": m.get("IN1", 36, 1, 1) or m.get("IN1", 49, 1, 1),
        "group_id": m.get("IN1", 8, 1, 1),
    }
    return build_row(number, {k: v or None for k, v in values.items()}, tz, today=today,
                     event=event, labels=labels, warnings=tuple(warnings))


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
            value = self.message[f"{segment}.F{field}.R{repeat}.C{component}.S1"]
        except (KeyError, IndexError, ValueError, TypeError):
            return ""
        return value if isinstance(value, str) else str(value)

    def repeats(self, segment: str, field: int) -> int:
        try:
            value = self.message.segment(segment)[field]
        except (KeyError, IndexError):
            return 0
        if isinstance(value, hl7.Field) and value and isinstance(value[0], hl7.Repetition):
            return min(len(value), MAX_REPEATS)
        return 1


def _start(m: _Message) -> str:
    return (m.get("SCH", 11, 1, 4) or m.get("TQ1", 7, 1, 1) or m.get("AIS", 4, 1, 1)
            or m.get("AIG", 8, 1, 1) or m.get("AIL", 6, 1, 1) or m.get("AIP", 6, 1, 1))


MINUTE_UNITS = {"", "m", "min", "mins", "minute", "minutes"}
HOUR_UNITS = {"h", "hr", "hrs", "hour", "hours"}
SECOND_UNITS = {"s", "sec", "secs", "second", "seconds"}


def _minutes(amount: str, unit: str) -> str | None:
    """Minutes as text; None when the amount is not a number or the unit is unknown."""
    amount, unit = amount.strip(), unit.strip().lower()
    if not re.fullmatch(r"\d{1,5}", amount):
        return None
    if unit in HOUR_UNITS:
        return str(int(amount) * 60)
    if unit in SECOND_UNITS:
        return str(int(amount) // 60)
    if unit in MINUTE_UNITS:
        return amount
    return None


# The duration's amount and its units, field by field, in the order they are tried.
DURATIONS = (("SCH", 9, 10), ("AIS", 7, 8), ("AIG", 11, 12), ("AIL", 9, 10), ("AIP", 9, 10))


def _duration(m: _Message, labels: dict[str, str], warnings: list[Problem]) -> str:
    """The first duration that reads as minutes, else SCH-11.3; a warning for each one given
    before it that does not read. With none that reads, the first one given (warned about
    when the row is built)."""
    given: list[tuple[str, str]] = []
    found = ""
    for segment, amount, unit in DURATIONS:
        value = m.get(segment, amount, 1, 1)
        if not value:
            continue
        minutes = _minutes(value, m.get(segment, unit, 1, 1))
        if minutes is not None:
            found, labels["duration_minutes"] = minutes, f"{segment}-{amount}"
            break
        given.append((f"{segment}-{amount}", value))
    timing = m.get("SCH", 11, 1, 3).upper()  # "M30", "H1" or "30"
    if not found and (match := re.fullmatch(r"([SMH]?)(\d{1,5})", timing)):
        unit = {"S": "s", "H": "h"}.get(match.group(1), "min")
        found, labels["duration_minutes"] = _minutes(match.group(2), unit) or "", "SCH-11"
    if not found:
        if given:
            labels["duration_minutes"] = given[0][0]
            return given[0][1]
        return timing
    warnings.extend(Problem("import.reason_bad_duration", {"field": label})
                    for label, _ in given)
    return found


def _patient(m: _Message, warnings: list[Problem]) -> dict[str, object]:
    name = next((r for r in range(1, m.repeats("PID", 5) + 1)
                 if m.get("PID", 5, r, 7).upper() == "L"), 1)
    address = next((r for r in range(1, m.repeats("PID", 11) + 1)
                    if m.get("PID", 11, r, 7).upper() in ("H", "M")), 1)
    values: dict[str, object] = {
        "mrn": _mrn(m),
        "family_name": m.get("PID", 5, name, 1),
        "given_name": m.get("PID", 5, name, 2),
        "middle_name": m.get("PID", 5, name, 3),
        "name_suffix": m.get("PID", 5, name, 4),
        "name_prefix": m.get("PID", 5, name, 5),
        "birth_date": m.get("PID", 7, 1, 1),
        "sex": m.get("PID", 8, 1, 1),
        "address_line": m.get("PID", 11, address, 1),
        "address_line2": m.get("PID", 11, address, 2),
        "city": m.get("PID", 11, address, 3),
        "state": m.get("PID", 11, address, 4),
        "postal_code": m.get("PID", 11, address, 5),
    }
    values.update(_contacts(m, warnings))
    return values


def _contacts(m: _Message, warnings: list[Problem]) -> dict[str, object]:
    """The first valid phone number and e-mail address of PID-13, else PID-14; a warning for
    each field whose value was not valid (and not used)."""
    phones: list[tuple[str, str]] = []
    emails: list[tuple[str, str]] = []
    for field in (13, 14):
        for repeat in range(1, m.repeats("PID", field) + 1):
            use, kind = m.get("PID", field, repeat, 2).upper(), m.get("PID", field, repeat, 3)
            email = m.get("PID", field, repeat, 4)
            label = f"PID-{field}"
            if use == "NET" or kind.lower() == "internet" or "@" in email:
                if email:
                    emails.append((label, email))
                continue
            if kind.upper() in ("FX", "BP"):  # a fax or a pager is not the patient's phone
                continue
            local = m.get("PID", field, repeat, 7)
            number = (m.get("PID", field, repeat, 6) + local) if local else m.get(
                "PID", field, repeat, 1)
            if number:
                phones.append((label, number))
    values: dict[str, object] = {}
    bad: list[Problem] = []
    for name, found, check, key in (
            ("phone", phones, phone_e164, "import.reason_bad_phone"),
            ("email", emails, email_normalized, "import.reason_bad_email")):
        for label, raw in found:
            valid = check(clean_text(raw)) if len(raw) <= 254 else None
            if valid is not None:
                values[name] = valid
                break
            problem = Problem(key, {"field": label})
            if problem not in bad:
                bad.append(problem)
    warnings.extend(bad)
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


def _person(m: _Message, segment: str, field: int) -> dict[str, object]:
    """An XCN: id^family^given^middle^suffix^prefix^degree. A family name that is a user
    name, with no given name, is a code."""
    code, family = m.get(segment, field, 1, 1), m.get(segment, field, 1, 2)
    given, middle = m.get(segment, field, 1, 3), m.get(segment, field, 1, 4)
    suffix, prefix = m.get(segment, field, 1, 5), m.get(segment, field, 1, 6)
    degree = m.get(segment, field, 1, 7)
    if family and not given and LOGIN.fullmatch(family.strip()):
        return {"provider_id": code or family, "provider_login": family}
    name = " ".join(p for p in (prefix, given, middle, family, suffix) if p.strip())
    if name and degree.strip():
        name = f"{name}, {degree}"
    return {"provider_id": code, "provider_name": name}


def _provider(m: _Message, labels: dict[str, str]) -> dict[str, object]:
    for segment, field in (("AIP", 3), ("AIG", 3), ("PV1", 7)):
        if not (m.get(segment, field, 1, 1) or m.get(segment, field, 1, 2)):
            continue
        for name in ("provider_id", "provider_name", "provider_login"):
            labels[name] = f"{segment}-{field}"
        if segment != "AIG":
            return _person(m, segment, field)
        code, text = m.get("AIG", 3, 1, 1), m.get("AIG", 3, 1, 2)
        if text and LOGIN.fullmatch(text.strip()):
            return {"provider_id": code or text, "provider_login": text}
        return {"provider_id": code, "provider_name": text}
    return {}


def _location(m: _Message, labels: dict[str, str]) -> dict[str, object]:
    for segment, field in (("AIL", 3), ("PV1", 3)):
        code, room = m.get(segment, field, 1, 1), m.get(segment, field, 1, 2)
        facility, description = m.get(segment, field, 1, 4), m.get(segment, field, 1, 9)
        name = room or description or (facility if not code else "") or code
        if not name:
            continue
        labels["location"] = labels["location_code"] = f"{segment}-{field}"
        department = m.get("AIL", 4, 1, 2) or m.get("AIL", 4, 1, 1) or (
            facility if code else "")
        return {"location": name, "location_code": code or name, "department": department}
    return {}
