"""The one row every schedule format is read into, and the checks every row passes.

A parser (CSV, FHIR, HL7 v2) turns its file into raw values named like the CSV columns and
hands them to `build_row`, which cleans and validates them the same way for every format. A
required value that cannot be used becomes a `Problem` (a catalog key and its parameters) on
the row; the row is then refused by the plan, the other rows go on. An optional value that
cannot be used (a phone number, an address, insurance, a duration...) never refuses the row:
it is left out (the record keeps what it had) and becomes a warning on the row, naming the
field.

A file that cannot be read at all raises `ImportUnreadable`, and nothing is planned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from shared.clinic_time import clinic_today
from shared.errors import DomainError
from shared.i18n import t
from shared.models import Sex
from shared.services.details import POSTAL_CODE, normalize_phone
from shared.services.insurance import MEMBER_ID

FORMATS = ("csv", "fhir", "hl7")
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_DURATION_MINUTES = 12 * 60
DEFAULT_DURATION_MINUTES = 20
DEFAULT_VISIT_TYPE = "Visit"

# The longest value each field may hold: the width of its column in the database.
MAX_LENGTH: dict[str, int] = {
    "appointment_id": 64,
    "visit_type": 60,
    "provider_id": 64,
    "provider_name": 120,
    "location": 120,
    "department": 120,
    "mrn": 40,
    "given_name": 100,
    "family_name": 100,
    "phone": 32,
    "email": 254,
    "address_line": 200,
    "address_line2": 200,
    "city": 100,
    "state": 50,
    "postal_code": 20,
    "payer": 120,
    "member_id": 60,
    "group_id": 60,
    "middle_name": 100,
    "name_prefix": 40,
    "name_suffix": 40,
    "location_code": 64,
    "provider_login": 64,
}
# Values a row can do without: one that fails its check is a warning, never a refusal.
OPTIONAL = frozenset({
    "duration_minutes", "visit_type", "provider_name", "provider_login", "department",
    "location_code", "sex", "phone", "email", "address_line", "address_line2", "city", "state",
    "postal_code", "payer", "member_id", "group_id", "middle_name", "name_prefix",
    "name_suffix",
})
# Any other raw value longer than this is refused before it is looked at.
MAX_RAW = 1000

SEX_CODES = {
    "f": Sex.FEMALE, "female": Sex.FEMALE,
    "m": Sex.MALE, "male": Sex.MALE,
    "o": Sex.OTHER, "other": Sex.OTHER, "a": Sex.OTHER, "x": Sex.OTHER,
    "u": Sex.UNKNOWN, "unknown": Sex.UNKNOWN, "n": Sex.UNKNOWN,
}
STATUSES = {"booked": False, "cancelled": True, "canceled": True}

# HL7 v2 TS: YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]
_HL7_TS = re.compile(
    r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d{1,6})?)?)?([+-]\d{4})?"
)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_US_TIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p",
                    "%m/%d/%Y %I:%M%p")

# Every reason a row can carry; the catalogs hold a message for each (tests check).
REASON_KEYS = frozenset(
    {
        "import.reason_bad_date",
        "import.reason_bad_birth_date",
        "import.reason_bad_time",
        "import.reason_nonexistent_time",
        "import.reason_bad_duration",
        "import.reason_bad_status",
        "import.reason_bad_sex",
        "import.reason_bad_phone",
        "import.reason_bad_email",
        "import.reason_bad_postal_code",
        "import.reason_bad_member_id",
        "import.reason_bad_text",
        "import.reason_incomplete_insurance",
        "import.reason_too_long",
        "import.reason_cell_count",
        "import.reason_missing_id",
        "import.reason_missing_mrn",
        "import.reason_missing_name",
        "import.reason_missing_birth_date",
        "import.reason_missing_start",
        "import.reason_missing_provider",
        "import.reason_missing_location",
        "import.reason_duplicate_id",
        "import.reason_patient_conflict",
        "import.reason_patient_mismatch",
        "import.reason_cannot_cancel",
        "import.reason_invalid_resource",
        "import.reason_unresolved_reference",
        "import.reason_missing_segment",
        "import.reason_bad_message",
        "import.reason_unsupported_message",
        "import.note_new_patient",
        "import.note_new_provider",
        "import.note_new_location",
        "import.note_cancelled",
        "import.note_demographics_flag",
        "import.note_flag_open",
        "import.note_superseded",
        "import.note_nothing_to_cancel",
        "import.note_stays_cancelled",
        "import.note_flag_rejected",
        "import.reason_message_too_large",
        "import.warning_repeats_trimmed",
        "import.warning_patient_not_updated",
    }
)


class ImportUnreadable(DomainError):
    """The file as a whole cannot be read: nothing is planned or written."""

    key = "import.error_unreadable"

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(t(key, **params), key=key, **params)


@dataclass(frozen=True)
class Problem:
    """Why a row is refused (or, for a note, what will happen to it): a catalog key."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        return t(self.key, lang, **self.params)


@dataclass(frozen=True)
class ScheduleRow:
    """One appointment as a file states it, cleaned; None where the file says nothing."""

    row: int
    external_id: str | None = None
    start: datetime | None = None  # aware, UTC
    duration_minutes: int | None = None
    visit_type: str | None = None
    cancelled: bool = False
    provider_id: str | None = None
    provider_name: str | None = None  # a person's name; None when the file gives only a code
    provider_login: str | None = None  # a user name standing in for the name (13^kmurphy2)
    location: str | None = None
    location_code: str | None = None  # the practice system's code for the location
    department: str | None = None
    mrn: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None  # XPN: kept as the file gives them
    name_prefix: str | None = None
    name_suffix: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    phone: str | None = None
    email: str | None = None
    address_line: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    payer: str | None = None
    member_id: str | None = None
    group_id: str | None = None
    # HL7 messages are events in order (S12 new, S14 changed, S15 cancelled): a later message
    # about the same appointment supersedes an earlier one. None for CSV and FHIR rows.
    event: str | None = None
    problems: tuple[Problem, ...] = ()
    # Optional values left out, and why: the row is imported all the same.
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


# --- Reading bytes --------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte order mark; anything else is refused."""
    if len(data) > MAX_BYTES:
        raise ImportUnreadable("import.error_too_large", max_mb=MAX_BYTES // (1024 * 1024))
    if not data.strip():
        raise ImportUnreadable("import.error_empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportUnreadable("import.error_encoding_utf16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportUnreadable("import.error_encoding", line=line) from exc
    if "\x00" in text:
        raise ImportUnreadable("import.error_binary")
    return text


def check_row_count(count: int) -> None:
    if count > MAX_ROWS:
        raise ImportUnreadable("import.error_too_many_rows", max=MAX_ROWS)


# --- Values ---------------------------------------------------------------------------------


def clean_text(raw: object) -> str:
    """Whitespace collapsed to single spaces; '' for nothing."""
    if raw is None:
        return ""
    return " ".join(str(raw).split())


# Control characters, lone surrogates and private-use code points (PostgreSQL refuses NUL).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff]")


def _has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


@lru_cache(maxsize=65536)
def phone_e164(raw: str) -> str | None:
    """normalize_phone, remembered: a patient's number comes back on every appointment."""
    return normalize_phone(raw)


@lru_cache(maxsize=65536)
def email_normalized(raw: str) -> str | None:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def parse_date(raw: str) -> date | None:
    """ISO 2026-06-15, US 06/15/2026 or HL7 20260615; None when it is none of these."""
    value = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        if match := _US_DATE.fullmatch(value):
            month, day, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{8}(\d{2,6}([.]\d+)?)?([+-]\d{4})?", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None
    return None


def parse_datetime(raw: str, tz: ZoneInfo) -> datetime | None:
    """A time of day on a date, as an aware UTC instant. Without an offset it is the clinic's
    local time. None when unreadable or when it names no time of day."""
    value = raw.strip()
    moment: datetime | None = None
    if match := _HL7_TS.fullmatch(value):
        year, month, day, hour, minute, second, offset = match.groups()
        if hour is None:
            return None
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                              int(second or 0))
        except ValueError:
            return None
        if offset:
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
            moment = (moment - sign * delta).replace(tzinfo=UTC)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        for fmt in _US_TIME_FORMATS:
            try:
                moment = datetime.strptime(value.upper(), fmt)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    return to_utc(moment, tz)


class NonexistentTime(ValueError):
    """A clinic-local time that the clock skips (the spring-forward hour)."""


def to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """An aware instant in UTC; a naive one is read as the clinic's local time."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    local = moment.replace(tzinfo=tz)
    back = local.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != moment:
        raise NonexistentTime(moment.isoformat())
    return local.astimezone(UTC)


# --- One row --------------------------------------------------------------------------------


class _Builder:
    def __init__(self, values: Mapping[str, object]) -> None:
        self.values = values
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, key: str, **params: object) -> None:
        self.problems.append(Problem(key, params))

    def bad(self, name: str, key: str, **params: object) -> None:
        """A value that fails its check: a warning for an optional one, else a problem."""
        (self.warnings if name in OPTIONAL else self.problems).append(Problem(key, params))

    def text(self, name: str, label: str | None = None) -> str | None:
        raw = self.values.get(name)
        if raw is None:
            return None
        raw_text = str(raw)
        shown = label or name
        if len(raw_text) > MAX_RAW:
            self.bad(name, "import.reason_too_long", field=shown,
                     max=MAX_LENGTH.get(name, MAX_RAW))
            return None
        value = clean_text(raw_text)
        if not value:
            return None
        if _has_control(value):
            self.bad(name, "import.reason_bad_text", field=shown)
            return None
        limit = MAX_LENGTH.get(name)
        if limit is not None and len(value) > limit:
            self.bad(name, "import.reason_too_long", field=shown, max=limit)
            return None
        return value


def build_row(
    number: int,
    values: Mapping[str, object],
    tz: ZoneInfo,
    *,
    today: date | None = None,
    event: str | None = None,
    problems: tuple[Problem, ...] = (),
    warnings: tuple[Problem, ...] = (),
    labels: Mapping[str, str] | None = None,
) -> ScheduleRow:
    """Clean and check one row's raw values (named like the CSV columns).

    `start` and `birth_date` may be given as text or already as datetime/date. `labels` name
    the fields in the source's own terms (an HL7 field like PID-7) for the messages."""
    b = _Builder(values)
    b.problems.extend(problems)
    b.warnings.extend(warnings)
    names = dict(labels or {})

    def label(name: str) -> str:
        return names.get(name, name)

    today = today or clinic_today(tz)
    text = {name: b.text(name, label(name)) for name in MAX_LENGTH}

    start = _start(b, values.get("start"), tz, label("start"))
    birth_date = _birth_date(b, values.get("birth_date"), today, label("birth_date"))
    duration = _duration(b, values.get("duration_minutes"), label("duration_minutes"))

    cancelled = False
    status = clean_text(values.get("status")).lower()
    if status:
        if status in STATUSES:
            cancelled = STATUSES[status]
        else:
            b.problem("import.reason_bad_status", value=status[:20])

    sex = None
    raw_sex = clean_text(values.get("sex")).lower()
    if raw_sex:
        sex = SEX_CODES.get(raw_sex)
        if sex is None:
            b.bad("sex", "import.reason_bad_sex", value=raw_sex[:20])

    if text["phone"]:
        phone = phone_e164(text["phone"])
        if phone is None:
            b.bad("phone", "import.reason_bad_phone", field=label("phone"))
        text["phone"] = phone
    if text["email"]:
        text["email"] = email_normalized(text["email"])
        if text["email"] is None:
            b.bad("email", "import.reason_bad_email", field=label("email"))
    if text["postal_code"] and not POSTAL_CODE.fullmatch(text["postal_code"]):
        b.bad("postal_code", "import.reason_bad_postal_code", field=label("postal_code"))
        text["postal_code"] = None
    payer, member_id, group_id = text["payer"], text["member_id"], text["group_id"]
    if (payer is None) != (member_id is None) or (group_id and payer is None):
        b.bad("payer", "import.reason_incomplete_insurance")
        payer = member_id = group_id = None
    elif member_id is not None and not MEMBER_ID.fullmatch(member_id):
        b.bad("member_id", "import.reason_bad_member_id", field=label("member_id"))
        payer = member_id = group_id = None

    _require(b, text, start, birth_date, values, names)
    return ScheduleRow(
        row=number,
        external_id=text["appointment_id"],
        start=start,
        duration_minutes=duration,
        visit_type=text["visit_type"],
        cancelled=cancelled,
        provider_id=text["provider_id"],
        provider_name=text["provider_name"],
        provider_login=text["provider_login"],
        location=text["location"],
        location_code=text["location_code"],
        department=text["department"],
        mrn=text["mrn"],
        given_name=text["given_name"],
        family_name=text["family_name"],
        middle_name=text["middle_name"],
        name_prefix=text["name_prefix"],
        name_suffix=text["name_suffix"],
        birth_date=birth_date,
        sex=sex,
        phone=text["phone"],
        email=text["email"],
        address_line=text["address_line"],
        address_line2=text["address_line2"],
        city=text["city"],
        state=text["state"],
        postal_code=text["postal_code"],
        payer=payer,
        member_id=member_id,
        group_id=group_id,
        event=event,
        problems=tuple(b.problems),
        warnings=tuple(b.warnings),
    )


def _start(b: _Builder, raw: object, tz: ZoneInfo, label: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        if isinstance(raw, datetime):
            start = to_utc(raw, tz)
        else:
            text = clean_text(raw)
            if not text:
                return None
            if len(text) > 40:
                b.problem("import.reason_bad_time", field=label)
                return None
            start = parse_datetime(text, tz)
    except NonexistentTime:
        b.problem("import.reason_nonexistent_time", field=label)
        return None
    except OverflowError:  # on the calendar's first or last day, moved off it by the offset
        b.problem("import.reason_bad_time", field=label)
        return None
    if start is None or not 2000 <= start.year <= 2100:
        b.problem("import.reason_bad_time", field=label)
        return None
    return start


def _birth_date(b: _Builder, raw: object, today: date, label: str) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value: date | None = raw.date()
    elif isinstance(raw, date):
        value = raw
    else:
        text = clean_text(raw)
        if not text:
            return None
        value = parse_date(text) if len(text) <= 40 else None
        if value is None:
            b.problem("import.reason_bad_date", field=label)
            return None
    assert value is not None
    if not date(1880, 1, 1) <= value <= today:
        b.problem("import.reason_bad_birth_date", field=label)
        return None
    return value


def _duration(b: _Builder, raw: object, label: str) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        minutes = raw
    else:
        text = clean_text(raw)
        if not text:
            return None
        if not re.fullmatch(r"\d{1,4}", text):
            b.bad("duration_minutes", "import.reason_bad_duration", field=label)
            return None
        minutes = int(text)
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        b.bad("duration_minutes", "import.reason_bad_duration", field=label)
        return None
    return minutes


def _require(
    b: _Builder,
    text: Mapping[str, str | None],
    start: datetime | None,
    birth_date: date | None,
    values: Mapping[str, object],
    labels: Mapping[str, str],
) -> None:
    """A value that is absent (not one that was there but wrong) is a missing-value reason."""
    reported = {p.params.get("field") for p in b.problems}

    def absent(name: str) -> bool:
        return labels.get(name, name) not in reported

    if text["appointment_id"] is None and absent("appointment_id"):
        b.problem("import.reason_missing_id")
    if text["mrn"] is None and absent("mrn"):
        b.problem("import.reason_missing_mrn")
    if (text["given_name"] is None and absent("given_name")) or (
        text["family_name"] is None and absent("family_name")
    ):
        b.problem("import.reason_missing_name")
    if birth_date is None and absent("birth_date"):
        b.problem("import.reason_missing_birth_date")
    if start is None and absent("start"):
        b.problem("import.reason_missing_start")
