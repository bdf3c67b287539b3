"""Plan an import row by row, then apply it with batched statements.

`plan_import` reads the database (in chunks of IN queries, never a query per row) and says
for each row: create, update, unchanged or refuse, with reasons. It writes nothing.
`apply_import` plans again in its own transaction (the database may have changed since the
plan was shown) and writes: new providers, locations, patients, coverages and appointments
in multi-row INSERTs, changes in executemany UPDATEs.

The rules:

- An appointment is matched by its external id, a patient by MRN: importing the same file
  again changes nothing, and an updated file updates, never duplicates.
- Providers and locations named in the file are created when new. A provider is matched by
  its id when the file gives one, else by name; a location by the practice system's code,
  else by name (case aside), and a location found by name learns its code. A name the file
  gives replaces the one on record unless a manager set it (a code is never a name).
- A row whose appointment exists may leave provider, location, duration and visit type out
  (they stay as they are); a new appointment needs a provider and a location.
- Name or birth date that differ on an existing MRN are not overwritten: a
  demographics_change flag holds the record's values and the file's for the desk. Names
  differing only in case count as the same.
- Sex, phone, e-mail and address given by the file update the patient; an empty value never
  clears one. Insurance not on file (payer and member id) becomes the primary coverage.
- A cancelled row cancels the appointment when its status allows it; one not on file is left
  alone. A booked row never undoes a cancellation: the desk re-books if needed.
- A cancellation, and an HL7 reschedule or change (S13/S14), of an appointment on file
  always applies, whatever else the row gets wrong (a missing birth date, another MRN): the
  row's problems become warnings and only the appointment changes, not the patient.
- Optional values that fail their checks were left out of the row with a warning; the
  outcome lists those warnings after its reasons or notes.
- A name or birth date change that the desk rejected is not flagged again when the same
  file or message comes again.
- In one file the same appointment id twice is refused (both rows), except in HL7 where a
  later message supersedes an earlier one; the same MRN with another name or birth date than
  its first row is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from shared.imports.model import (
    DEFAULT_DURATION_MINUTES,
    DEFAULT_VISIT_TYPE,
    Problem,
    ScheduleRow,
    clean_text,
    phone_e164,
)
from shared.models import (
    Appointment,
    AppointmentStatus,
    Coverage,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Location,
    Patient,
    Provider,
    Sex,
    utcnow,
)
from shared.services import audit
from shared.services.appointments import change_status, is_allowed
from shared.services.flags import raise_flag

CHUNK = 500
CONTACT_FIELDS = ("sex", "phone", "email", "address_line", "address_line2", "city", "state",
                  "postal_code")
NAME_PARTS = ("middle_name", "name_prefix", "name_suffix")
T = TypeVar("T")


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REFUSE = "refuse"


@dataclass(frozen=True)
class RowOutcome:
    row: int
    external_id: str | None
    action: Action
    reasons: tuple[Problem, ...]
    source: ScheduleRow

    @property
    def reason(self) -> str | None:
        """The first reason's catalog key."""
        return self.reasons[0].key if self.reasons else None

    def describe(self, lang: str = "en") -> str:
        return " ".join(p.text(lang) for p in self.reasons)


@dataclass(frozen=True)
class ImportResult:
    outcomes: list[RowOutcome]
    patients_created: int
    flags_raised: int

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action == action)


def totals(outcomes: Iterable[RowOutcome]) -> dict[Action, int]:
    counts = dict.fromkeys(Action, 0)
    for outcome in outcomes:
        counts[outcome.action] += 1
    return counts


def plan_import(session: Session, rows: Sequence[ScheduleRow]) -> list[RowOutcome]:
    """What importing `rows` would do, row by row. Reads only."""
    return _Planner(session, rows).plan()


def apply_import(
    session: Session,
    plan: Sequence[RowOutcome],
    *,
    now: datetime | None = None,
    actor_type: str = "import",
    actor_id: str | int | None = None,
) -> ImportResult:
    """Write the plan's rows (planned afresh against the database as it is now) in the
    session's transaction; the caller commits. One audit event for the whole import."""
    now = now or utcnow()
    session.flush()
    planner = _Planner(session, [o.source for o in plan])
    outcomes = planner.plan()
    work = planner.work
    provider_ids = _insert_providers(session, work)
    location_ids = _insert_locations(session, work)
    patient_ids = _insert_patients(session, work, now)

    def ref(kind: dict[str, int], value: int | str) -> int:
        return value if isinstance(value, int) else kind[value]

    _update_many(session, Provider, [{"b_id": pid, **values}
                                     for pid, values in work.provider_updates.items()])
    _update_many(session, Location, [{"b_id": lid, **values}
                                     for lid, values in work.location_updates.items()])

    _update_many(session, Patient, [{"b_id": pid, **changes, "updated_at": now}
                                    for pid, changes in work.patient_updates.items()])
    for chunk in _chunks(sorted(work.coverage_rank_shift)):
        session.execute(update(Coverage.__table__)
                        .where(Coverage.__table__.c.patient_id.in_(chunk))
                        .values(rank=Coverage.__table__.c.rank + 1))
    _update_many(session, Coverage, [{"b_id": cid, "group_id": group}
                                     for cid, group in work.coverage_groups.items()])
    if work.new_coverages:
        session.execute(insert(Coverage), [
            {**values, "patient_id": ref(patient_ids, patient)}
            for patient, values in work.new_coverages
        ])
    if work.new_appointments:
        session.execute(insert(Appointment), [
            {**values, "patient_id": ref(patient_ids, values["patient_id"]),
             "provider_id": ref(provider_ids, values["provider_id"]),
             "location_id": ref(location_ids, values["location_id"]),
             "created_at": now, "updated_at": now}
            for values in work.new_appointments
        ])
    _update_many(session, Appointment, [
        {"b_id": aid, **values, "provider_id": ref(provider_ids, values["provider_id"]),
         "location_id": ref(location_ids, values["location_id"]), "updated_at": now}
        for aid, values in work.appointment_updates.items()
    ], versioned=True)
    for chunk in _chunks(work.cancellations):
        appointments = session.scalars(
            select(Appointment).where(Appointment.id.in_(chunk))
            .execution_options(populate_existing=True)
        ).all()
        for appointment in appointments:
            change_status(appointment, AppointmentStatus.CANCELLED, now)
    session.flush()
    for patient_id, old, new in work.flags:
        raise_flag(session, kind=FlagKind.DEMOGRAPHICS_CHANGE, severity=FlagSeverity.WARNING,
                   now=now, patient_id=patient_id, old_value=old, new_value=new,
                   actor_type="import")
    counts = totals(outcomes)
    audit.record(session, actor_type=actor_type, actor_id=actor_id, action="schedule.imported",
                 record_type="appointment",
                 detail={"count": len(outcomes), "created": counts[Action.CREATE],
                         "updated": counts[Action.UPDATE]}, at=now)
    session.flush()
    # Rows changed by bulk statements may sit stale in the session: read them afresh.
    session.expire_all()
    return ImportResult(outcomes, patients_created=len(work.new_patients),
                        flags_raised=len(work.flags))


# --- Planning -------------------------------------------------------------------------------


@dataclass
class _Work:
    """What applying the plan writes. Providers, locations and patients not yet in the
    database are referred to by key (str) until their INSERT gives them an id (int)."""

    new_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    patient_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    coverage_rank_shift: set[int] = field(default_factory=set)
    coverage_groups: dict[int, str] = field(default_factory=dict)
    new_coverages: list[tuple[int | str, dict[str, Any]]] = field(default_factory=list)
    new_appointments: list[dict[str, Any]] = field(default_factory=list)
    appointment_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    provider_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    location_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    cancellations: list[int] = field(default_factory=list)
    flags: list[tuple[int, dict[str, str], dict[str, str]]] = field(default_factory=list)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _same_text(a: str | None, b: str | None) -> bool:
    return clean_text(a).casefold() == clean_text(b).casefold()


class _Planner:
    def __init__(self, session: Session, rows: Sequence[ScheduleRow]) -> None:
        self.session = session
        self.rows = list(rows)
        self.decided: dict[int, RowOutcome] = {}
        self.work = _Work()
        self.claimed: set[int] = set()  # existing patients an earlier row already planned
        self.rejected_flags: dict[int, list[Any]] = defaultdict(list)
        self.planned_names: set[str] = set()  # names of the new locations planned so far

    # One place decides a row's outcome; each row is decided once.
    def _decide(self, i: int, action: Action, *reasons: Problem) -> None:
        row = self.rows[i]
        self.decided[i] = RowOutcome(row.row, row.external_id, action,
                                     (*reasons, *row.warnings), row)

    def plan(self) -> list[RowOutcome]:
        for i, row in enumerate(self.rows):
            if not row.ok and not _event_for_known(row):
                self._decide(i, Action.REFUSE, *row.problems)
        self._within_file()
        active = [i for i in range(len(self.rows)) if i not in self.decided]
        self._load([self.rows[i] for i in active])
        for i in active:
            self._plan_row(i)
        return [self.decided[i] for i in range(len(self.rows))]

    def _within_file(self) -> None:
        # Rows already refused count too: with two versions of one appointment in a file,
        # which one is right cannot be told (in HL7, the last message is the latest).
        by_id: dict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(self.rows):
            if row.external_id:
                by_id[row.external_id].append(i)
        for indexes in by_id.values():
            if len(indexes) < 2:
                continue
            if all(self.rows[i].event for i in indexes):
                last = self.rows[indexes[-1]].row
                for i in indexes[:-1]:
                    if i not in self.decided:
                        self._decide(i, Action.UNCHANGED, Problem("import.note_superseded",
                                                                  {"row": last}))
            else:
                numbers = ", ".join(str(self.rows[i].row) for i in indexes[:10])
                for i in indexes:
                    if i not in self.decided:
                        self._decide(i, Action.REFUSE, Problem("import.reason_duplicate_id",
                                                               {"rows": numbers}))
        first: dict[str, int] = {}
        for i, row in enumerate(self.rows):
            if i in self.decided or row.cancelled or row.mrn is None or not row.ok:
                continue
            if row.mrn not in first:
                first[row.mrn] = i
                continue
            other = self.rows[first[row.mrn]]
            if not (_same_text(row.given_name, other.given_name)
                    and _same_text(row.family_name, other.family_name)
                    and row.birth_date == other.birth_date):
                self._decide(i, Action.REFUSE, Problem("import.reason_patient_conflict",
                                                       {"row": other.row}))

    def _load(self, rows: list[ScheduleRow]) -> None:
        s = self.session
        ids = sorted({r.external_id for r in rows if r.external_id})
        mrns = sorted({r.mrn for r in rows if r.mrn})
        a = Appointment
        self.appointments = {
            r.external_id: r for chunk in _chunks(ids) for r in s.execute(
                select(a.id, a.external_id, a.patient_id, a.provider_id, a.location_id,
                       a.start, a.duration_minutes, a.visit_type, a.status)
                .where(a.external_id.in_(chunk))
            )
        }
        p = Patient
        self.patients = {
            r.mrn: r for chunk in _chunks(mrns) for r in s.execute(
                select(p.id, p.mrn, p.legal_given_name, p.legal_family_name, p.birth_date,
                       *(getattr(p, name) for name in (*CONTACT_FIELDS, *NAME_PARTS)))
                .where(p.mrn.in_(chunk))
            )
        }
        patient_ids = sorted(r.id for r in self.patients.values())
        self.coverages: dict[int, list[Any]] = defaultdict(list)
        self.open_flags: dict[int, list[Any]] = defaultdict(list)
        for chunk in _chunks(patient_ids):
            for r in s.execute(select(Coverage.id, Coverage.patient_id, Coverage.payer,
                                      Coverage.member_id, Coverage.group_id)
                               .where(Coverage.patient_id.in_(chunk))):
                self.coverages[r.patient_id].append(r)
            for r in s.execute(select(Flag.patient_id, Flag.new_value, Flag.status).where(
                    Flag.kind == FlagKind.DEMOGRAPHICS_CHANGE,
                    Flag.status.in_([FlagStatus.OPEN, FlagStatus.REJECTED]),
                    Flag.patient_id.in_(chunk))):
                seen = self.open_flags if r.status == FlagStatus.OPEN else self.rejected_flags
                seen[r.patient_id].append(r.new_value)
        self.providers: dict[int, Any] = {}
        self.provider_by_id: dict[str, int] = {}
        self.provider_by_name: dict[str, int] = {}
        for r in s.execute(select(Provider.id, Provider.external_id, Provider.display_name,
                                  Provider.name_set_by_staff).order_by(Provider.id)):
            self.providers[r.id] = r
            if r.external_id:
                self.provider_by_id[r.external_id] = r.id
            self.provider_by_name.setdefault(r.display_name.casefold(), r.id)
        self.locations: dict[int, Any] = {}
        self.location_by_code: dict[str, int] = {}
        self.location_by_name: dict[str, int] = {}
        for r in s.execute(select(Location.id, Location.name, Location.external_id,
                                  Location.name_set_by_staff).order_by(Location.id.desc())):
            self.locations[r.id] = r
            self.location_by_name[r.name.casefold()] = r.id
            if r.external_id:
                self.location_by_code[r.external_id] = r.id

    # --- One row ----------------------------------------------------------------------------

    def _plan_row(self, i: int) -> None:
        row = self.rows[i]
        assert row.external_id is not None
        appointment = self.appointments.get(row.external_id)
        if not row.ok:  # an event for an appointment on file applies; else it is refused
            if appointment is None:
                self._decide(i, Action.REFUSE, *row.problems)
                return
            row = self.rows[i] = replace(row, warnings=(
                *row.problems, Problem("import.warning_patient_not_updated"), *row.warnings))
        patient = self.patients.get(row.mrn) if row.mrn and row.ok else None
        mismatch = appointment is not None and (patient is None
                                                or appointment.patient_id != patient.id)
        if mismatch and row.ok:
            if not _event_for_known(row):
                self._decide(i, Action.REFUSE, Problem("import.reason_patient_mismatch"))
                return
            row = self.rows[i] = replace(row, warnings=(
                Problem("import.reason_patient_mismatch"),
                Problem("import.warning_patient_not_updated"), *row.warnings))
            patient = None
        if row.cancelled:
            self._plan_cancel(i, appointment)
            return
        found_provider, found_location = self._provider(row), self._location(row)
        provider, location = found_provider[0], found_location[0]
        if appointment is None and (provider is None or location is None):
            key = "import.reason_missing_provider" if provider is None else (
                "import.reason_missing_location")
            self._decide(i, Action.REFUSE, Problem(key))
            return
        notes: list[Problem] = []
        self._add_new(found_provider, found_location, notes)
        changed = self._rename(found_provider, found_location)
        if patient is not None or appointment is None:
            changed |= self._plan_patient(row, patient, notes)
        if appointment is None:
            self.work.new_appointments.append({
                "external_id": row.external_id,
                "patient_id": patient.id if patient is not None else row.mrn,
                "provider_id": provider,
                "location_id": location,
                "start": row.start,
                "duration_minutes": row.duration_minutes or DEFAULT_DURATION_MINUTES,
                "visit_type": row.visit_type or DEFAULT_VISIT_TYPE,
                "status": AppointmentStatus.BOOKED,
                "version": 1,
                "queue_shift_minutes": 0,
            })
            self._decide(i, Action.CREATE, *notes)
            return
        values = {
            "start": row.start or appointment.start,
            "duration_minutes": row.duration_minutes or appointment.duration_minutes,
            "visit_type": row.visit_type or appointment.visit_type,
            "provider_id": provider if provider is not None else appointment.provider_id,
            "location_id": location if location is not None else appointment.location_id,
        }
        if any(values[k] != getattr(appointment, k) for k in values):
            self.work.appointment_updates[appointment.id] = values
            changed = True
        if appointment.status == AppointmentStatus.CANCELLED:
            notes.append(Problem("import.note_stays_cancelled"))
        self._decide(i, Action.UPDATE if changed else Action.UNCHANGED, *notes)

    def _plan_cancel(self, i: int, appointment: Any) -> None:
        if appointment is None:
            self._decide(i, Action.UNCHANGED, Problem("import.note_nothing_to_cancel"))
        elif appointment.status == AppointmentStatus.CANCELLED:
            self._decide(i, Action.UNCHANGED)
        elif is_allowed(appointment.status, AppointmentStatus.CANCELLED):
            self.work.cancellations.append(appointment.id)
            self._decide(i, Action.UPDATE, Problem("import.note_cancelled"))
        else:
            self._decide(i, Action.REFUSE, Problem("import.reason_cannot_cancel",
                                                   {"status": appointment.status.value}))

    def _provider(self, row: ScheduleRow) -> tuple[int | str | None, dict[str, Any] | None]:
        """The provider's id, or the key of a new one and its values."""
        if row.provider_id:
            if row.provider_id in self.provider_by_id:
                return self.provider_by_id[row.provider_id], (
                    {"display_name": row.provider_name} if row.provider_name else None)
            return f"id:{row.provider_id}", {
                "external_id": row.provider_id,
                "display_name": row.provider_name or row.provider_login or row.provider_id}
        if row.provider_name:
            name = row.provider_name.casefold()
            if name in self.provider_by_name:
                return self.provider_by_name[name], None
            return f"name:{name}", {"external_id": None, "display_name": row.provider_name}
        return None, None

    def _location(self, row: ScheduleRow) -> tuple[int | str | None, dict[str, Any] | None]:
        """The location's id (with the name and code the file gives it), or the key of a new
        one and its values."""
        if not row.location:
            return None, None
        code, name = row.location_code, row.location
        if code and code in self.location_by_code:
            return self.location_by_code[code], {"name": name}
        named = self.location_by_name.get(name.casefold())
        if named is not None and not (code and _has_own_code(self.locations[named])):
            return named, {"name": name, "external_id": code}
        key = f"code:{code}" if code else name.casefold()
        if key not in self.work.new_locations and (
                named is not None or name.casefold() in self.planned_names):
            name = f"{name} ({code})"[:120]  # two codes, one name: both kept apart
        return key, {"name": name, "external_id": code,
                     "department": row.department or row.location}

    def _rename(self, provider: tuple[Any, dict[str, Any] | None],
                location: tuple[Any, dict[str, Any] | None]) -> bool:
        """A name the file gives replaces the one on record unless a manager set it; a
        location found by name learns its code. True when something changes."""
        changed = False
        (provider_id, given), (location_id, found) = provider, location
        if isinstance(provider_id, int) and given is not None:
            current = self.providers[provider_id]
            if not current.name_set_by_staff and given["display_name"] != current.display_name:
                self.work.provider_updates[provider_id] = {
                    "display_name": given["display_name"]}
                changed = True
        if isinstance(location_id, int) and found is not None:
            current = self.locations[location_id]
            values: dict[str, Any] = {}
            code = found.get("external_id")
            if code and not _has_own_code(current) and code not in self.location_by_code:
                values["external_id"] = code
                self.location_by_code[code] = location_id
            name = found["name"]
            taken = self.location_by_name.get(name.casefold(), location_id) != location_id
            if (not current.name_set_by_staff and name != current.name and not taken
                    and name.casefold() not in self.planned_names):
                values["name"] = name
            if values:
                self.work.location_updates.setdefault(location_id, {}).update(values)
                changed = True
        return changed

    def _add_new(self, provider: tuple[Any, dict[str, Any] | None],
                 location: tuple[Any, dict[str, Any] | None], notes: list[Problem]) -> None:
        """A new provider or location is written (once) for rows that are not refused."""
        (provider_key, new_provider), (location_key, new_location) = provider, location
        if isinstance(provider_key, int):
            new_provider = None
        if isinstance(location_key, int):
            new_location = None
        if new_provider is not None and provider_key not in self.work.new_providers:
            self.work.new_providers[provider_key] = new_provider
            notes.append(Problem("import.note_new_provider",
                                 {"name": new_provider["display_name"]}))
        if new_location is not None and location_key not in self.work.new_locations:
            self.work.new_locations[location_key] = new_location
            self.planned_names.add(new_location["name"].casefold())
            notes.append(Problem("import.note_new_location", {"name": new_location["name"]}))

    def _plan_patient(self, row: ScheduleRow, patient: Any, notes: list[Problem]) -> bool:
        """Plan the patient's part of a row; True when it changes something."""
        assert row.mrn is not None
        coverage = ({"rank": 1, "payer": row.payer, "member_id": row.member_id,
                     "group_id": row.group_id} if row.payer and row.member_id else None)
        if patient is None:
            if row.mrn in self.work.new_patients:
                return False
            self.work.new_patients[row.mrn] = {
                "mrn": row.mrn,
                "legal_given_name": row.given_name,
                "legal_family_name": row.family_name,
                **{name: getattr(row, name) for name in NAME_PARTS},
                "birth_date": row.birth_date,
                **{name: getattr(row, name) for name in CONTACT_FIELDS},
                "sex": row.sex or Sex.UNKNOWN,
            }
            if coverage is not None:
                self.work.new_coverages.append((row.mrn, coverage))
            notes.append(Problem("import.note_new_patient"))
            return True
        if patient.id in self.claimed:
            return False  # an earlier row of this file already planned this patient
        self.claimed.add(patient.id)
        changed = False
        updates = {name: getattr(row, name) for name in CONTACT_FIELDS
                   if getattr(row, name) is not None
                   and not _same_contact(name, getattr(patient, name), getattr(row, name))}
        if updates:
            self.work.patient_updates[patient.id] = updates
            changed = True
        if coverage is not None:
            changed |= self._plan_coverage(patient.id, coverage)
        old: dict[str, str] = {}
        new: dict[str, str] = {}
        for name, value in (("legal_given_name", row.given_name),
                            ("legal_family_name", row.family_name)):
            if not _same_text(getattr(patient, name), value):
                old[name], new[name] = getattr(patient, name), str(value)
        for name in NAME_PARTS:
            # A part the file leaves out says nothing; one it gives that differs is a change
            # of the legal name like any other, for the desk to accept.
            value = getattr(row, name)
            if value and not _same_text(getattr(patient, name) or "", value):
                old[name], new[name] = getattr(patient, name) or "", str(value)
        if row.birth_date is not None and row.birth_date != patient.birth_date:
            old["birth_date"] = patient.birth_date.isoformat()
            new["birth_date"] = row.birth_date.isoformat()
        if new:
            if new in self.open_flags[patient.id]:
                notes.append(Problem("import.note_flag_open"))
            elif new in self.rejected_flags[patient.id]:
                notes.append(Problem("import.note_flag_rejected"))
            else:
                self.work.flags.append((patient.id, old, new))
                notes.append(Problem("import.note_demographics_flag"))
                changed = True
        return changed

    def _plan_coverage(self, patient_id: int, coverage: dict[str, Any]) -> bool:
        for existing in self.coverages.get(patient_id, []):
            if _same_text(existing.payer, coverage["payer"]) and _same_text(
                    existing.member_id, coverage["member_id"]):
                group = coverage["group_id"]
                if group and group != existing.group_id:
                    self.work.coverage_groups[existing.id] = group
                    return True
                return False
        if self.coverages.get(patient_id):
            self.work.coverage_rank_shift.add(patient_id)
        self.work.new_coverages.append((patient_id, coverage))
        return True


def _has_own_code(location: Any) -> bool:
    """A code other than the location's own name (which stands in when a file gives none)."""
    return bool(location.external_id) and location.external_id.casefold() != (
        location.name.casefold())


def _event_for_known(row: ScheduleRow) -> bool:
    """A cancellation, or an HL7 reschedule or change: it applies to an appointment on file
    whatever else the row gets wrong."""
    return bool(row.external_id) and (row.cancelled or row.event in ("S13", "S14"))


def _same_contact(name: str, old: object, new: object) -> bool:
    if name == "phone":
        return (phone_e164(str(old)) if old else None) == new
    if name == "email":
        return clean_text(old).casefold() == clean_text(new).casefold()
    if name == "sex":
        return old == new
    return clean_text(old) == clean_text(new)


# --- Writing --------------------------------------------------------------------------------


def _insert_providers(session: Session, work: _Work) -> dict[str, int]:
    ids: dict[str, int] = {}
    if not work.new_providers:
        return ids
    result = session.execute(
        insert(Provider).returning(Provider.id, Provider.external_id, Provider.display_name),
        list(work.new_providers.values()),
    )
    for r in result:
        key = f"id:{r.external_id}" if r.external_id else f"name:{r.display_name.casefold()}"
        ids[key] = r.id
    return ids


def _insert_locations(session: Session, work: _Work) -> dict[str, int]:
    if not work.new_locations:
        return {}
    result = session.execute(
        insert(Location).returning(Location.id, Location.name, Location.external_id),
        list(work.new_locations.values()))
    return {f"code:{r.external_id}" if r.external_id else r.name.casefold(): r.id
            for r in result}


def _insert_patients(session: Session, work: _Work, now: datetime) -> dict[str, int]:
    if not work.new_patients:
        return {}
    result = session.execute(
        insert(Patient).returning(Patient.id, Patient.mrn),
        [dict(v, created_at=now, updated_at=now) for v in work.new_patients.values()],
    )
    return {r.mrn: r.id for r in result}


def _update_many(session: Session, model: type, rows: list[dict[str, Any]],
                 *, versioned: bool = False) -> None:
    """executemany UPDATEs by primary key (`b_id`), one per set of columns changed."""
    table = model.__table__  # type: ignore[attr-defined]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    for batch in groups.values():
        statement = update(table).where(table.c.id == bindparam("b_id"))
        if versioned:
            statement = statement.values(version=table.c.version + 1)
        for chunk in _chunks(batch, 1000):
            session.execute(statement, list(chunk))
