"""The schedule as a FHIR R4 Bundle (JSON): Appointment resources whose participants point at
Patient, Practitioner and Location resources in the same Bundle, with Coverage for insurance.

Every resource is checked with the fhir.resources R4B models (which read R4 JSON). One row is
made per Appointment, numbered by its entry in the Bundle (the first entry is 1). An
Appointment, or a resource it points at, that fails validation refuses that row only.

- Appointment id: the first Appointment.identifier value, else the resource id.
- MRN: the Patient.identifier whose type is v2-0203 "MR", else the first untyped one.
- Provider id: the first Practitioner.identifier value; name: HumanName.text, else
  prefix + given + family.
- Location: Location.name, its code the first Location.identifier; department: Location.type
  text (else the name).
- Insurance: the patient's first active Coverage (payor display or Organization name,
  subscriberId or identifier, class "group" value).
- Status: booked (also arrived, checked-in, fulfilled, noshow: the import never sets these)
  or cancelled (also entered-in-error); other statuses are refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from shared.imports.model import (
    ImportUnreadable,
    Problem,
    ScheduleRow,
    build_row,
    check_row_count,
    clean_text,
)

KINDS = ("Patient", "Practitioner", "Location", "Coverage", "Organization", "Appointment")
BOOKED = {"booked", "arrived", "checked-in", "fulfilled", "noshow"}
CANCELLED = {"cancelled", "entered-in-error"}
MR_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"


@dataclass
class _Entry:
    number: int
    kind: str
    key: str  # "Patient/p1", or the fullUrl when the resource has no id
    resource: Any | None  # the validated model, or None when it failed validation
    error: str = ""  # the field that failed validation


def parse(text: str, tz: ZoneInfo, *, today: date | None = None) -> list[ScheduleRow]:
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ImportUnreadable("import.error_not_json") from exc
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        found = raw.get("resourceType") if isinstance(raw, dict) else type(raw).__name__
        raise ImportUnreadable("import.error_not_bundle", found=clean_text(found)[:40] or "?")
    entries = raw.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ImportUnreadable("import.error_bad_bundle", field="entry")
    try:
        Bundle.model_validate({k: v for k, v in raw.items() if k != "entry"})
    except ValidationError as exc:
        raise ImportUnreadable("import.error_bad_bundle", field=_where(exc)) from exc
    index: dict[str, _Entry] = {}
    appointments: list[_Entry] = []
    for number, entry in enumerate(entries, start=1):
        item = _read_entry(number, entry)
        if item is None:
            continue
        for name in _names(entry, item):
            index.setdefault(name, item)
        if item.kind == "Appointment":
            appointments.append(item)
    check_row_count(len(appointments))
    # Each patient's coverages, found once (not searched for every appointment).
    coverages: dict[int, list[_Entry]] = {}
    for entry in {id(e): e for e in index.values()}.values():
        if entry.kind == "Coverage" and entry.resource is not None:
            beneficiary = entry.resource.beneficiary
            patient = _resolve(beneficiary.reference if beneficiary else None, index)
            if patient is not None:
                coverages.setdefault(id(patient), []).append(entry)
    for found in coverages.values():
        found.sort(key=lambda e: e.number)
    return [_row(a, index, coverages, tz, today) for a in appointments]


def _where(exc: ValidationError) -> str:
    errors = exc.errors()
    loc = errors[0].get("loc", ()) if errors else ()
    return ".".join(str(p) for p in loc)[:80] or "-"


def _read_entry(number: int, entry: dict[str, Any]) -> _Entry | None:
    resource = entry.get("resource")
    if not isinstance(resource, dict) or resource.get("resourceType") not in KINDS:
        return None
    kind = resource["resourceType"]
    rid = clean_text(resource.get("id"))[:64]
    key = f"{kind}/{rid}" if rid else clean_text(entry.get("fullUrl"))[:200] or f"#{number}"
    try:
        model = get_fhir_model_class(kind).model_validate(resource)
    except ValidationError as exc:
        return _Entry(number, kind, key, None, _where(exc))
    except (ValueError, TypeError, RecursionError):
        return _Entry(number, kind, key, None, "-")
    return _Entry(number, kind, key, model)


def _names(entry: dict[str, Any], item: _Entry) -> list[str]:
    names = [item.key]
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str) and full_url:
        names.append(full_url)
    return names


def _resolve(reference: str | None, index: dict[str, _Entry]) -> _Entry | None:
    if not reference:
        return None
    if reference in index:
        return index[reference]
    parts = reference.rstrip("/").split("/")
    if len(parts) >= 2:
        return index.get(f"{parts[-2]}/{parts[-1]}")
    return None


def _row(
    item: _Entry,
    index: dict[str, _Entry],
    coverages: dict[int, list[_Entry]],
    tz: ZoneInfo,
    today: date | None,
) -> ScheduleRow:
    if item.resource is None:
        return ScheduleRow(row=item.number, problems=(
            Problem("import.reason_invalid_resource", {"resource": item.key, "field": item.error}),
        ))
    appointment = item.resource
    problems: list[Problem] = []
    values: dict[str, object] = {
        "appointment_id": _first_identifier(appointment) or appointment.id,
        "start": appointment.start,
        "duration_minutes": _duration(appointment),
        "visit_type": _concept_text(appointment.appointmentType)
        or next((_concept_text(c) for c in appointment.serviceType or []), None),
        "status": _status(appointment.status),
    }
    found: dict[str, _Entry] = {}
    for participant in appointment.participant or []:
        actor = participant.actor
        if actor is None or not actor.reference:
            continue
        target = _resolve(actor.reference, index)
        kind = target.kind if target else (actor.type or _kind_of(actor.reference))
        if kind not in ("Patient", "Practitioner", "Location") or kind in found:
            continue
        if target is None:
            if kind == "Patient":
                problems.append(Problem("import.reason_unresolved_reference",
                                        {"reference": clean_text(actor.reference)[:80]}))
            elif kind == "Practitioner":
                values["provider_name"] = actor.display
            else:
                values["location"] = actor.display
            continue
        found[kind] = target
    for kind, target in found.items():
        if target.resource is None:
            problems.append(Problem("import.reason_invalid_resource",
                                    {"resource": target.key, "field": target.error}))
            continue
        if kind == "Patient":
            values.update(_patient(target.resource))
            values.update(_coverage(target, coverages, index))
        elif kind == "Practitioner":
            values.update(_practitioner(target.resource))
        else:
            values["location"] = target.resource.name
            values["location_code"] = _first_identifier(target.resource)
            values["department"] = next(
                (_concept_text(c) for c in target.resource.type or []), None)
    if problems:  # the patient cannot be read: say why, not every value that is missing
        return ScheduleRow(row=item.number, problems=tuple(problems),
                           external_id=clean_text(values["appointment_id"])[:64] or None)
    return build_row(item.number, values, tz, today=today)


def _kind_of(reference: str) -> str:
    parts = reference.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def _first_identifier(resource: Any) -> str | None:
    return next((i.value for i in resource.identifier or [] if i.value), None)


def _concept_text(concept: Any) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    for coding in concept.coding or []:
        if coding.display or coding.code:
            return coding.display or coding.code
    return None


def _duration(appointment: Any) -> int | None:
    if appointment.minutesDuration is not None:
        return appointment.minutesDuration
    if appointment.start is not None and appointment.end is not None:
        return int((appointment.end - appointment.start).total_seconds() // 60)
    return None


def _status(status: str | None) -> str | None:
    if status in BOOKED:
        return "booked"
    if status in CANCELLED:
        return "cancelled"
    return status


def _mrn(patient: Any) -> str | None:
    """The identifier typed MR; else the first one without a type (an SSN or a payer's
    number, typed otherwise, is never taken for the MRN)."""
    untyped = None
    for identifier in patient.identifier or []:
        if not identifier.value:
            continue
        codings = identifier.type.coding if identifier.type and identifier.type.coding else []
        if any(c.code == "MR" and c.system in (None, MR_SYSTEM) for c in codings):
            return identifier.value
        if identifier.type is None and untyped is None:
            untyped = identifier.value
    return untyped


def _human_name(names: list[Any] | None) -> Any | None:
    names = names or []
    return next((n for n in names if n.use == "official"), None) or next(
        (n for n in names if n.use in (None, "usual")), None) or (names[0] if names else None)


def _words(values: list[str | None] | None) -> list[str]:
    """The parts of a name or an address that are there: FHIR lets a list hold nulls."""
    return [v for v in values or [] if v]


def _patient(patient: Any) -> dict[str, object]:
    name = _human_name(patient.name)
    given = _words(name.given) if name else []
    values: dict[str, object] = {
        "mrn": _mrn(patient),
        # HumanName.given holds the given name, then any middle names.
        "given_name": given[0] if given else None,
        "middle_name": " ".join(given[1:]) or None,
        "name_prefix": " ".join(_words(name.prefix)) or None if name else None,
        "name_suffix": " ".join(_words(name.suffix)) or None if name else None,
        "family_name": name.family if name else None,
        "birth_date": patient.birthDate,
        "sex": patient.gender,
    }
    for telecom in patient.telecom or []:
        if telecom.system == "phone" and "phone" not in values:
            values["phone"] = telecom.value
        if telecom.system == "email" and "email" not in values:
            values["email"] = telecom.value
    address = next((a for a in patient.address or [] if a.use in (None, "home")), None)
    if address is not None:
        lines = _words(address.line)
        values.update({
            "address_line": lines[0] if lines else None,
            "address_line2": " ".join(lines[1:]) or None,
            "city": address.city,
            "state": address.state,
            "postal_code": address.postalCode,
        })
    return values


def _practitioner(practitioner: Any) -> dict[str, object]:
    name = _human_name(practitioner.name)
    display = None
    if name is not None:
        display = name.text or " ".join(_words([*(name.prefix or []), *(name.given or []),
                                                 name.family]))
    return {"provider_id": _first_identifier(practitioner), "provider_name": display or None}


def _coverage(
    patient: _Entry, coverages: dict[int, list[_Entry]], index: dict[str, _Entry]
) -> dict[str, object]:
    for entry in coverages.get(id(patient), []):
        coverage = entry.resource
        if coverage.status not in (None, "active"):
            continue
        payer = None
        for payor in coverage.payor or []:
            organization = _resolve(payor.reference, index)
            if organization is not None and organization.kind == "Organization":
                payer = organization.resource.name if organization.resource else None
            payer = payer or payor.display
            if payer:
                break
        group = next((c.value for c in coverage.class_fhir or []
                      if c.type and any(x.code == "group" for x in c.type.coding or [])), None)
        return {"payer": payer, "member_id": coverage.subscriberId or _first_identifier(coverage),
                "group_id": group}
    return {}
