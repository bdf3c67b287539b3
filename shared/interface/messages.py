"""HL7 v2 text: the ACKs the listener answers with, and the messages the outbox sends.

Segments end in CR. Every value from a record is escaped (`|^~\\&` and line breaks), so a
name or an address can never add a field, a component or a segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

ENCODING_CHARACTERS = "^~\\&"
SENDING_APPLICATION = "CHECKIN"
VERSION = "2.5.1"
ACCEPTED = ("AA", "CA")
_ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_SPECIAL = re.compile(r"[\\|^&~]")
_BREAKS = re.compile(r"[\r\n\x0b\x1c]+")


def escape(value: object) -> str:
    """A value as the text of one HL7 component (None is empty)."""
    if value is None:
        return ""
    text = _BREAKS.sub(" ", str(value))
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], text)


def components(*values: object) -> str:
    """Escaped components joined with ^, without trailing empty ones."""
    return "^".join(escape(v) for v in values).rstrip("^")


def segment(name: str, *fields: str) -> str:
    """A segment of already escaped fields, without trailing empty ones."""
    return "|".join((name, *fields)).rstrip("|")


def timestamp(moment: datetime, tz: ZoneInfo) -> str:
    """An HL7 TS in the clinic's zone, with its offset: 20260616100000-0500."""
    return moment.astimezone(tz).strftime("%Y%m%d%H%M%S%z")


def msh_fields(text: str) -> dict[int, str]:
    """MSH fields by number, read without parsing the message (empty when there is no MSH).
    MSH-1 is the field separator, MSH-2 the encoding characters."""
    line = text.lstrip("\ufeff \t\r\n\x0b")[:4096].replace("\n", "\r").split("\r", 1)[0]
    if not line.startswith("MSH") or len(line) < 4:
        return {}
    separator = line[3]
    parts = line.split(separator)
    fields = {1: separator}
    fields.update({n: value for n, value in enumerate(parts[1:], start=2)})
    return fields


def _component(value: str, encoding: str, index: int = 0) -> str:
    separator = encoding[0] if encoding else "^"
    parts = value.split(separator)
    return parts[index] if index < len(parts) else ""


def ack(incoming: str, code: str, *, control_id: str, now: datetime, tz: ZoneInfo,
        text: str = "", error_code: str = "", error_text: str = "",
        reason_codes: tuple[str, ...] = ()) -> str:
    """The ACK for `incoming`: MSA-1 `code` (AA, AE or AR), MSA-2 its MSH-10. With AE or AR,
    an ERR segment: ERR-3 the HL7 error code (table 0357), ERR-4 severity E, ERR-5 our
    reason codes, ERR-8 the reasons in words (also in MSA-3, for v2.3 receivers)."""
    msh = msh_fields(incoming)
    encoding = msh.get(2, ENCODING_CHARACTERS)
    trigger = _component(msh.get(9, ""), encoding, 1)
    version = _component(msh.get(12, ""), encoding) or VERSION
    lines = [
        segment("MSH", ENCODING_CHARACTERS, SENDING_APPLICATION, escape(msh.get(6, "")),
                escape(_component(msh.get(3, ""), encoding)),
                escape(_component(msh.get(4, ""), encoding)), timestamp(now, tz), "",
                components("ACK", trigger, "ACK") if trigger else "ACK", escape(control_id),
                "P", escape(version)),
        segment("MSA", code, escape(msh.get(10, "")), escape(text[:80])),
    ]
    if code not in ACCEPTED:
        lines.append(segment(
            "ERR", "", "", components(error_code, error_text, "HL70357"), "E",
            "~".join(components(c, "", "L") for c in reason_codes), "", "",
            escape(text)))
    return "\r".join(lines) + "\r"


@dataclass(frozen=True)
class Acknowledgement:
    code: str  # MSA-1: AA, AE, AR (or CA, CE, CR)
    control_id: str  # MSA-2: the MSH-10 it answers
    text: str  # MSA-3 and ERR-8, as the receiver wrote them

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED


def read_ack(text: str) -> Acknowledgement | None:
    """The MSA (and ERR text) of an ACK; None when `text` is not one."""
    msh = msh_fields(text)
    if not msh:
        return None
    separator = msh[1]
    encoding = msh.get(2, ENCODING_CHARACTERS)
    msa: list[str] | None = None
    notes: list[str] = []
    for line in re.split(r"[\r\n]+", text):
        fields = line.split(separator)
        if fields[0] == "MSA" and msa is None:
            msa = fields
        elif fields[0] == "ERR":
            notes += [f for f in fields[8:9] if f]
            notes += [_component(f, encoding, 1) for f in fields[3:4] if f and not fields[8:9]]
    if msa is None or len(msa) < 3:
        return None
    said = [msa[3]] if len(msa) > 3 and msa[3] else []
    words = " ".join(dict.fromkeys(n for n in said + notes if n))
    return Acknowledgement(msa[1].strip().upper(), _component(msa[2], encoding), words)


# --- Outgoing messages --------------------------------------------------------------------


@dataclass(frozen=True)
class PatientFacts:
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: str  # F, M, O, U
    address: tuple[str | None, ...] = ()  # line, line 2, city, state, postal code
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class AppointmentFacts:
    appointment_id: str  # the practice system's id (SCH-2), or ours
    start: datetime
    duration_minutes: int
    visit_type: str
    provider_id: str | None
    provider_name: str
    location_code: str | None
    location_name: str
    room: str | None


@dataclass(frozen=True)
class CoverageFacts:
    payer: str
    member_id: str
    group_id: str | None
    plan: str | None
    effective_from: date | None
    effective_to: date | None


def _msh(kind: str, control_id: str, at: datetime, tz: ZoneInfo, facility: str,
         receiver: tuple[str, str]) -> str:
    return segment("MSH", ENCODING_CHARACTERS, SENDING_APPLICATION, escape(facility),
                   escape(receiver[0]), escape(receiver[1]), timestamp(at, tz), "", kind,
                   escape(control_id), "P", VERSION)


def _pid(patient: PatientFacts, *, details: bool) -> str:
    fields = ["1", "", components(patient.mrn, "", "", "", "MR"), "",
              components(patient.family_name, patient.given_name), "",
              patient.birth_date.strftime("%Y%m%d"), patient.sex]
    if details:
        address = components(*patient.address) if any(patient.address) else ""
        phones = [components(patient.phone, "PRN", "PH") if patient.phone else "",
                  components("", "NET", "Internet", patient.email) if patient.email else ""]
        fields += ["", "", address, "", "~".join(p for p in phones if p)]
    return segment("PID", *fields)


def _date(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def siu_s14(*, control_id: str, at: datetime, tz: ZoneInfo, status: tuple[str, str],
            patient: PatientFacts, appointment: AppointmentFacts, facility: str = "",
            receiver: tuple[str, str] = ("", "")) -> str:
    """SIU^S14 (appointment modified) with the filler status in SCH-25, as (code, text)."""
    start = timestamp(appointment.start, tz)
    place = components(appointment.location_code or appointment.location_name,
                       appointment.room)
    provider = components(appointment.provider_id, appointment.provider_name)
    lines = [
        _msh("SIU^S14^SIU_S12", control_id, at, tz, facility, receiver),
        segment("SCH", escape(appointment.appointment_id), escape(appointment.appointment_id),
                "", "", "", components(status[0], status[1], "L"), "",
                components(appointment.visit_type), str(appointment.duration_minutes), "MIN",
                components("", "", appointment.duration_minutes, start),
                *[""] * 13, components(status[0], status[1], "L")),
        segment("TQ1", "1", "", "", "", "", "", start),
        _pid(patient, details=False),
        segment("PV1", "1", "O", place, "", "", "", provider),
        segment("RGS", "1", "U"),
        segment("AIL", "1", "U", components(appointment.location_code,
                                            appointment.location_name), "", "", start),
        segment("AIP", "1", "U", provider, "", "", start),
    ]
    return "\r".join(lines) + "\r"


def adt_a08(*, control_id: str, at: datetime, tz: ZoneInfo, patient: PatientFacts,
            coverages: tuple[CoverageFacts, ...] | None = None,
            emergency: tuple[str, str, str | None] | None = None, facility: str = "",
            receiver: tuple[str, str] = ("", "")) -> str:
    """ADT^A08 (update patient information): the patient's details, their emergency
    contact (name, relationship, phone) and, for a coverage change, every active coverage
    (none: self-pay)."""
    lines = [
        _msh("ADT^A08^ADT_A01", control_id, at, tz, facility, receiver),
        segment("EVN", "A08", timestamp(at, tz)),
        _pid(patient, details=True),
    ]
    if emergency is not None:
        name, relationship, phone = emergency
        lines.append(segment("NK1", "1", components(name), components("", relationship),
                             "", components(phone) if phone else "", "",
                             components("EP", "Emergency contact", "HL70131")))
    lines.append(segment("PV1", "1", "N"))
    if coverages is not None:
        if not coverages:
            lines.append(segment("IN1", "1", components("SELFPAY", "Self-pay", "L")))
        for number, coverage in enumerate(coverages, start=1):
            lines.append(segment(
                "IN1", str(number), components(coverage.plan or coverage.payer),
                components(coverage.payer), components(coverage.payer), "", "", "",
                escape(coverage.group_id), "", "", "", _date(coverage.effective_from),
                _date(coverage.effective_to), *[""] * 22, escape(coverage.member_id)))
    return "\r".join(lines) + "\r"
