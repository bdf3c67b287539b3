"""Manager reports: how check-in went over a range of clinic days, from SQL aggregates.

Every figure is counted by the database (GROUP BY, COUNT, CASE); no Python loop ever walks
the appointments. Durations are computed in SQL too: `julianday` on SQLite (where times are
stored as UTC ISO strings) and `EXTRACT(EPOCH ...)` on PostgreSQL.

Which rows fall in the range [start_day, end_day] (clinic days, both included):

- appointments (no-shows, waits, per provider and per location) by their start;
- check-ins by the moment they started (`CheckIn.started_at`);
- flags by the moment they were raised (`Flag.raised_at`).

A provider or location filter applies to check-ins and flags through their appointment, so a
flag that belongs to no appointment (a walk-in, a help press) is left out of a filtered view.

Percentiles use one definition on every backend, PostgreSQL's `percentile_cont`: sort the n
values, take position p·(n−1) (counting from 0) and interpolate linearly between the two
values around it. So the median of 60, 120, 180 is 120 and their 90th percentile is
120 + 0.8·60 = 168. PostgreSQL computes it with `percentile_cont ... WITHIN GROUP`; SQLite,
which has no such aggregate, numbers the sorted values with ROW_NUMBER() and returns only the
one or two rows around each position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from shared.clinic_time import day_bounds
from shared.errors import DomainError
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    CheckIn,
    Flag,
    Location,
    Provider,
    StaffUser,
)

S = AppointmentStatus

# The kiosk's steps in the order a patient meets them; `CheckIn.last_step` holds the last one
# done ("done" once finished).
KIOSK_STEPS = ("identity", "appointment", "demographics", "insurance", "questions", "consent")
CHANNELS = tuple(c.value for c in Channel)
# Audit actors that are a staff member: their actor_id is the staff user's id.
STAFF_ACTOR_TYPES = ("staff", Channel.DESK.value, Channel.PHONE.value)
AUDIT_LIMIT = 1000


class InvalidRange(DomainError):
    key = "reports.bad_range"


# --- Results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelCount:
    channel: str
    started: int
    completed: int


@dataclass(frozen=True)
class StepCount:
    step: str  # the last step done before the patient walked away
    abandoned: int


@dataclass(frozen=True)
class KioskSummary:
    started: int
    completed: int
    abandoned: int
    abandoned_by_step: list[StepCount]
    median_seconds: float | None  # started_at -> completed_at, completed check-ins only
    p90_seconds: float | None

    @property
    def completion_rate(self) -> float | None:
        """Of the check-ins that ended, the share completed: one still under way at the
        kiosk is neither a success nor a patient who gave up."""
        ended = self.completed + self.abandoned
        return self.completed / ended if ended else None


@dataclass(frozen=True)
class FlagKindCount:
    kind: str
    raised: int
    resolved: int
    median_resolve_minutes: float | None  # raised_at -> resolved_at, resolved flags only


@dataclass(frozen=True)
class GroupCount:
    """Appointments of one provider or one location."""

    id: int
    name: str
    appointments: int  # all, cancelled ones included
    cancelled: int
    noshows: int
    completed: int  # fulfilled

    @property
    def noshow_rate(self) -> float | None:
        booked = self.appointments - self.cancelled
        return self.noshows / booked if booked else None


@dataclass(frozen=True)
class PrecheckSummary:
    """Pre-check-in at home (issue 16): how many visits were pre-checked, and the kiosk time
    of those patients against the others."""

    visits: int  # appointments in the range, cancelled ones left out
    prechecked: int  # of those, with a pre-check-in done at home
    kiosk_median_prechecked: float | None  # seconds, finished kiosk check-ins
    kiosk_timed_prechecked: int
    kiosk_median_others: float | None
    kiosk_timed_others: int

    @property
    def share(self) -> float | None:
        return self.prechecked / self.visits if self.visits else None


NO_PRECHECKS = PrecheckSummary(0, 0, None, 0, None, 0)


@dataclass(frozen=True)
class Report:
    start_day: date
    end_day: date
    appointments: int
    cancelled: int
    noshows: int
    completed: int
    check_ins: list[ChannelCount]
    kiosk: KioskSummary
    median_wait_minutes: float | None  # checked in (or arrived) -> in room
    waits_measured: int
    flags: list[FlagKindCount]
    providers: list[GroupCount] = field(default_factory=list)
    locations: list[GroupCount] = field(default_factory=list)
    precheck: PrecheckSummary = NO_PRECHECKS

    @property
    def noshow_rate(self) -> float | None:
        """No-shows over the range's appointments that were not cancelled."""
        booked = self.appointments - self.cancelled
        return self.noshows / booked if booked else None

    @property
    def check_ins_total(self) -> int:
        """Check-ins at the clinic (kiosk, desk, phone): a pre-check-in at home is counted in
        its own section, so a patient who pre-checks and then taps "No, I'm here" is one."""
        return sum(c.started for c in self.check_ins if c.channel != Channel.HOME.value)


# --- Building blocks -----------------------------------------------------------------------


def utc_range(start_day: date, end_day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of start_day, end of end_day) in UTC; InvalidRange when start is after end."""
    if start_day > end_day:
        raise InvalidRange(f"range starts {start_day} after it ends {end_day}")
    return day_bounds(start_day, tz)[0], day_bounds(end_day, tz)[1]


def picked_range(value: object) -> tuple[date, date] | None:
    """The (start, end) of a date-range picker's value (a date, or a tuple of 0 to 2 dates);
    None while the end is not chosen yet. A reversed pair is returned as it is: utc_range
    refuses it."""
    if isinstance(value, date):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    return None


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    """SQL for the seconds from `start` to `end` (two UTC timestamp expressions), rounded to
    the millisecond so that both backends give the very same values."""
    if dialect == "postgresql":
        seconds = cast(func.extract("epoch", end) - func.extract("epoch", start), Float)
    else:
        # SQLite keeps instants as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, which julianday reads;
        # a day number as a double is exact to about 0.1 ms, hence the rounding.
        seconds = (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.round(seconds * 1000.0) / 1000.0


def interpolate(values_at: dict[int, float], n: int, fraction: float) -> float | None:
    """percentile_cont from the sorted values at 0-based positions floor(p(n-1)) and the
    next one (`values_at` needs only those two)."""
    if n <= 0:
        return None
    position = fraction * (n - 1)
    low = int(position)
    share = position - low
    value = values_at[low]
    if share and low + 1 in values_at:
        value += share * (values_at[low + 1] - value)
    return value


def percentiles(
    session: Session, values: Select[Any], fractions: Sequence[float]
) -> dict[Any, tuple[int, list[float | None]]]:
    """Percentiles of `values`, a SELECT of two columns labelled `g` (the group) and `v` (a
    number; NULLs are skipped), for each group: {g: (how many values, [value at each
    fraction])}. One query."""
    sub = values.subquery()
    dialect = _dialect(session)
    if dialect == "postgresql":
        rows = session.execute(
            select(sub.c.g, func.count(sub.c.v),
                   *[func.percentile_cont(f).within_group(sub.c.v) for f in fractions])
            .where(sub.c.v.is_not(None))
            .group_by(sub.c.g)
        ).all()
        return {r[0]: (int(r[1]), [None if x is None else float(x) for x in r[2:]])
                for r in rows}
    ranked = (
        select(
            sub.c.g,
            sub.c.v,
            (func.row_number().over(partition_by=sub.c.g, order_by=sub.c.v) - 1).label("pos"),
            func.count().over(partition_by=sub.c.g).label("n"),
        )
        .where(sub.c.v.is_not(None))
        .subquery()
    )
    wanted = []
    for f in fractions:
        low = cast(literal(float(f)) * (ranked.c.n - 1), Integer)
        wanted += [ranked.c.pos == low, ranked.c.pos == low + 1]
    rows = session.execute(
        select(ranked.c.g, ranked.c.pos, ranked.c.n, ranked.c.v).where(or_(*wanted))
    ).all()
    found: dict[Any, tuple[int, dict[int, float]]] = {}
    for g, pos, n, v in rows:  # at most two rows per fraction and group
        found.setdefault(g, (int(n), {}))[1][pos] = float(v)
    return {g: (n, [interpolate(at, n, f) for f in fractions])
            for g, (n, at) in found.items()}


def _one(result: dict[Any, tuple[int, list[float | None]]],
         fractions: int) -> tuple[int, list[float | None]]:
    return result.get(0, (0, [None] * fractions))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class _Scope:
    start: datetime
    end: datetime
    provider_id: int | None
    location_id: int | None

    @property
    def filtered(self) -> bool:
        return self.provider_id is not None or self.location_id is not None

    def appointment_filters(self) -> list[ColumnElement[bool]]:
        conditions = []
        if self.provider_id is not None:
            conditions.append(Appointment.provider_id == self.provider_id)
        if self.location_id is not None:
            conditions.append(Appointment.location_id == self.location_id)
        return conditions

    def through_appointment(self, query: Select[Any], fk: Any) -> Select[Any]:
        """Limit a check-in or flag query to the provider/location, via its appointment."""
        if not self.filtered:
            return query
        return query.join(Appointment, fk == Appointment.id).where(*self.appointment_filters())


# --- The report ----------------------------------------------------------------------------


def build_report(
    session: Session,
    start_day: date,
    end_day: date,
    tz: ZoneInfo,
    *,
    provider_id: int | None = None,
    location_id: int | None = None,
) -> Report:
    """Every figure of the reports page for [start_day, end_day]. Twelve queries."""
    start, end = utc_range(start_day, end_day, tz)
    scope = _Scope(start, end, provider_id, location_id)
    dialect = _dialect(session)
    providers, locations, totals = _appointment_counts(session, scope)
    return Report(
        start_day=start_day,
        end_day=end_day,
        appointments=totals[0],
        cancelled=totals[1],
        noshows=totals[2],
        completed=totals[3],
        check_ins=check_ins_by_channel(session, scope),
        kiosk=kiosk_summary(session, scope, dialect),
        **_waits(session, scope, dialect),
        flags=flags_by_kind(session, scope, dialect),
        providers=providers,
        locations=locations,
        precheck=precheck_summary(session, scope, dialect),
    )


def _appointment_counts(
    session: Session, scope: _Scope
) -> tuple[list[GroupCount], list[GroupCount], tuple[int, int, int, int]]:
    """Counts per (provider, location) pair from one GROUP BY, rolled up per provider, per
    location and in total (over a handful of groups, never over appointments)."""
    rows = session.execute(
        select(
            Appointment.provider_id,
            Appointment.location_id,
            func.count(),
            _count_if(Appointment.status == S.CANCELLED),
            _count_if(Appointment.status == S.NOSHOW),
            _count_if(Appointment.status == S.FULFILLED),
        )
        .where(Appointment.start >= scope.start, Appointment.start < scope.end,
               *scope.appointment_filters())
        .group_by(Appointment.provider_id, Appointment.location_id)
    ).all()
    by_provider: dict[int, list[int]] = {}
    by_location: dict[int, list[int]] = {}
    totals = [0, 0, 0, 0]
    for provider_id, location_id, *counts in rows:
        for bucket in (by_provider.setdefault(provider_id, [0, 0, 0, 0]),
                       by_location.setdefault(location_id, [0, 0, 0, 0]), totals):
            for i, n in enumerate(counts):
                bucket[i] += int(n)
    provider_names = dict(session.execute(
        select(Provider.id, Provider.display_name).where(Provider.id.in_(by_provider))).all())
    location_names = dict(session.execute(
        select(Location.id, Location.name).where(Location.id.in_(by_location))).all())

    def groups(counts: dict[int, list[int]], names: dict[int, str]) -> list[GroupCount]:
        made = [GroupCount(i, names.get(i, str(i)), *c) for i, c in counts.items()]
        return sorted(made, key=lambda g: (-g.appointments, g.name))

    return (groups(by_provider, provider_names), groups(by_location, location_names),
            (totals[0], totals[1], totals[2], totals[3]))


def check_ins_by_channel(session: Session, scope: _Scope) -> list[ChannelCount]:
    """Check-ins started in the range, per channel (every channel listed, zero or not)."""
    query = select(CheckIn.channel, func.count(), _count_if(CheckIn.completed_at.is_not(None)))
    query = scope.through_appointment(query, CheckIn.appointment_id)
    rows = session.execute(
        query.where(CheckIn.started_at >= scope.start, CheckIn.started_at < scope.end)
        .group_by(CheckIn.channel)
    ).all()
    counts = {Channel(c).value: (int(n), int(done)) for c, n, done in rows}
    return [ChannelCount(c, *counts.get(c, (0, 0))) for c in CHANNELS]


def kiosk_summary(session: Session, scope: _Scope, dialect: str) -> KioskSummary:
    """Kiosk check-ins: how many finished, where the others walked away, how long it took."""
    kiosk = (CheckIn.channel == Channel.KIOSK, CheckIn.started_at >= scope.start,
             CheckIn.started_at < scope.end)
    gave_up = CheckIn.abandoned_at.is_not(None) & CheckIn.completed_at.is_(None)
    query = select(func.count(), _count_if(CheckIn.completed_at.is_not(None)),
                   _count_if(gave_up))
    started, completed, abandoned = session.execute(
        scope.through_appointment(query, CheckIn.appointment_id).where(*kiosk)).one()
    query = select(CheckIn.last_step, func.count())
    steps = dict(session.execute(
        scope.through_appointment(query, CheckIn.appointment_id)
        .where(*kiosk, gave_up).group_by(CheckIn.last_step)).all())
    order = [s for s in KIOSK_STEPS if s in steps]
    order += sorted((s for s in steps if s not in KIOSK_STEPS), key=lambda s: s or "")
    durations = scope.through_appointment(
        select(literal(0).label("g"),
               seconds_between(dialect, CheckIn.started_at, CheckIn.completed_at).label("v")),
        CheckIn.appointment_id,
    ).where(*kiosk, CheckIn.completed_at.is_not(None))
    _, (median, p90) = _one(percentiles(session, durations, (0.5, 0.9)), 2)
    return KioskSummary(
        started=int(started), completed=int(completed), abandoned=int(abandoned),
        abandoned_by_step=[StepCount(s or "", int(steps[s])) for s in order],
        median_seconds=median, p90_seconds=p90,
    )


def _waits(session: Session, scope: _Scope, dialect: str) -> dict[str, Any]:
    """Median minutes from check-in (or arrival, when never checked in) to the exam room."""
    since = func.coalesce(Appointment.checked_in_at, Appointment.arrived_at)
    values = select(literal(0).label("g"),
                    (seconds_between(dialect, since, Appointment.in_room_at) / 60.0).label("v"),
                    ).where(Appointment.start >= scope.start, Appointment.start < scope.end,
                            Appointment.in_room_at.is_not(None), since.is_not(None),
                            *scope.appointment_filters())
    measured, (median,) = _one(percentiles(session, values, (0.5,)), 1)
    return {"median_wait_minutes": median, "waits_measured": measured}


def _prechecked() -> ColumnElement[bool]:
    """The appointment in the enclosing query has a pre-check-in done at home (its own alias
    of check_in: the enclosing query may read check-ins too)."""
    home = aliased(CheckIn)
    return (select(home.id)
            .where(home.appointment_id == Appointment.id, home.channel == Channel.HOME,
                   home.completed_at.is_not(None))
            .correlate(Appointment).exists())


def precheck_summary(session: Session, scope: _Scope, dialect: str) -> PrecheckSummary:
    """The share of the range's visits (appointments by their start, cancelled ones left out)
    pre-checked at home, and the median kiosk time (start to finish of kiosk check-ins
    started in the range, finished ones) of pre-checked patients and of the others. Two
    queries."""
    visits, prechecked = session.execute(
        select(func.count(), _count_if(_prechecked()))
        .where(Appointment.start >= scope.start, Appointment.start < scope.end,
               Appointment.status != S.CANCELLED, *scope.appointment_filters())
    ).one()
    durations = (
        select(case((_prechecked(), 1), else_=0).label("g"),
               seconds_between(dialect, CheckIn.started_at, CheckIn.completed_at).label("v"))
        .join(Appointment, CheckIn.appointment_id == Appointment.id)
        .where(CheckIn.channel == Channel.KIOSK, CheckIn.started_at >= scope.start,
               CheckIn.started_at < scope.end, CheckIn.completed_at.is_not(None),
               *scope.appointment_filters())
    )
    medians = percentiles(session, durations, (0.5,))
    timed_pre, (median_pre,) = medians.get(1, (0, [None]))
    timed_others, (median_others,) = medians.get(0, (0, [None]))
    return PrecheckSummary(
        visits=int(visits), prechecked=int(prechecked),
        kiosk_median_prechecked=median_pre, kiosk_timed_prechecked=timed_pre,
        kiosk_median_others=median_others, kiosk_timed_others=timed_others,
    )


def flags_by_kind(session: Session, scope: _Scope, dialect: str) -> list[FlagKindCount]:
    """Flags raised in the range per kind, most frequent first, with the median minutes a
    resolved one took."""
    in_range = (Flag.raised_at >= scope.start, Flag.raised_at < scope.end)
    query = select(Flag.kind, func.count(), _count_if(Flag.resolved_at.is_not(None)))
    rows = session.execute(
        scope.through_appointment(query, Flag.appointment_id).where(*in_range)
        .group_by(Flag.kind)
    ).all()
    minutes = scope.through_appointment(
        select(Flag.kind.label("g"),
               (seconds_between(dialect, Flag.raised_at, Flag.resolved_at) / 60.0).label("v")),
        Flag.appointment_id,
    ).where(*in_range, Flag.resolved_at.is_not(None))
    medians = {getattr(k, "value", k): m
               for k, (_, m) in percentiles(session, minutes, (0.5,)).items()}
    result = [
        FlagKindCount(kind=getattr(k, "value", k), raised=int(n), resolved=int(done),
                      median_resolve_minutes=medians.get(getattr(k, "value", k), [None])[0])
        for k, n, done in rows
    ]
    return sorted(result, key=lambda f: (-f.raised, f.kind))


def filter_choices(session: Session) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, name) of every provider and every location, for the page's filters."""
    providers = session.execute(
        select(Provider.id, Provider.display_name).order_by(Provider.display_name)).all()
    locations = session.execute(select(Location.id, Location.name).order_by(Location.name)).all()
    return [(i, n) for i, n in providers], [(i, n) for i, n in locations]


# --- The audit log -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    record_type: str
    record_id: int | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]  # newest first, at most `limit`
    total: int  # every event the filters match


def audit_events(
    session: Session,
    start_day: date,
    end_day: date,
    tz: ZoneInfo,
    *,
    staff_user_id: int | None = None,
    action: str | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
    limit: int = AUDIT_LIMIT,
) -> AuditPage:
    """Audit events in the range matching the filters, newest first. A staff member's events
    include the check-ins they made at the desk or on the phone. Two queries."""
    start, end = utc_range(start_day, end_day, tz)
    conditions: list[ColumnElement[bool]] = [AuditEvent.at >= start, AuditEvent.at < end]
    if staff_user_id is not None:
        conditions += [AuditEvent.actor_type.in_(STAFF_ACTOR_TYPES),
                       AuditEvent.actor_id == str(staff_user_id)]
    if action:
        conditions.append(AuditEvent.action == action)
    if record_type:
        conditions.append(AuditEvent.record_type == record_type)
    if record_id is not None:
        conditions.append(AuditEvent.record_id == record_id)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    events = session.scalars(
        select(AuditEvent).where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    ).all()
    return AuditPage(
        rows=[AuditRow(e.id, e.at, e.actor_type, e.actor_id, e.action, e.record_type,
                       e.record_id, e.detail) for e in events],
        total=int(total),
    )


def audit_choices(session: Session) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    """The actions and record types the log holds, and every staff member (id, name)."""
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    types = session.scalars(
        select(AuditEvent.record_type).distinct().order_by(AuditEvent.record_type))
    staff = session.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username)
        .order_by(StaffUser.display_name)).all()
    return list(actions), list(types), [(i, f"{n} ({u})") for i, n, u in staff]
