"""The demo clinic day: the same seed gives the same day, and the day has every case to show."""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.clinic_time import at_clinic_time, day_bounds
from shared.db import make_engine
from shared.demo import (
    DEMO_PASSWORDS,
    DemoInfo,
    clear_all,
    demo_info,
    has_demo_data,
    seed_demo,
)
from shared.migrate import upgrade
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Base,
    ConsentFormVersion,
    ConsentSignature,
    ContactKind,
    Coverage,
    Language,
    Patient,
    PrecheckState,
    Provider,
)
from shared.services import precheck
from shared.services.staff import authenticate

TZ = ZoneInfo("America/Chicago")
DAY = date(2026, 6, 16)
# Mid-afternoon, off the five-minute grid, so the demo visit's rounding shows.
AFTERNOON = datetime(2026, 6, 16, 14, 23, 10, tzinfo=TZ).astimezone(UTC)


@contextmanager
def _fresh_database(path: Path) -> Iterator[Session]:
    """A session on a newly migrated SQLite file, as `make run` creates on a new machine."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@pytest.fixture
def demo_session(session: Session) -> Session:
    """A fresh migrated database: SQLite, then PostgreSQL."""
    return session


def _seed(session: Session, now: datetime = AFTERNOON) -> DemoInfo:
    info = seed_demo(session, tz=TZ, now=now)
    session.commit()
    return info


def _todays_appointments(session: Session, day: date = DAY) -> list[Appointment]:
    start, end = day_bounds(day, TZ)
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.start >= start, Appointment.start < end)
            .order_by(Appointment.start, Appointment.id)
        )
    )


def _todays_patients(session: Session) -> list[Patient]:
    ids = {a.patient_id for a in _todays_appointments(session)}
    return [p for p in session.scalars(select(Patient).order_by(Patient.id)) if p.id in ids]


def test_the_same_seed_gives_the_same_day_on_two_new_databases(tmp_path: Path) -> None:
    def snapshot(session: Session) -> tuple[list[tuple[str, str, date]], list[datetime]]:
        patients = [
            (p.legal_given_name, p.legal_family_name, p.birth_date)
            for p in session.scalars(select(Patient).order_by(Patient.mrn))
        ]
        starts = list(session.scalars(select(Appointment.start).order_by(Appointment.external_id)))
        return patients, starts

    with _fresh_database(tmp_path / "first.db") as first:
        first_info = _seed(first)
        first_day = snapshot(first)
    with _fresh_database(tmp_path / "second.db") as second:
        second_info = _seed(second)
        second_day = snapshot(second)

    assert first_day == second_day
    assert first_info == second_info
    assert len(first_day[0]) >= 40


def test_a_full_clinic_day_is_booked_within_clinic_hours(demo_session: Session) -> None:
    info = _seed(demo_session)
    appointments = _todays_appointments(demo_session)
    opens, closes = at_clinic_time(DAY, 8, 0, TZ), at_clinic_time(DAY, 17, 0, TZ)

    assert info.day == DAY
    assert len(appointments) >= 40
    assert demo_session.scalar(select(func.count()).select_from(Appointment)) == len(appointments)
    for appointment in appointments:
        if appointment.id != info.appointment_id:
            assert opens <= appointment.start and appointment.end <= closes
            assert 15 <= appointment.duration_minutes <= 40
            assert appointment.location_id is not None
    assert len({a.provider_id for a in appointments}) >= 3
    assert demo_session.scalar(select(func.count()).select_from(Provider)) >= 3


def test_no_provider_is_double_booked(demo_session: Session) -> None:
    _seed(demo_session)
    by_provider: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in _todays_appointments(demo_session):
        by_provider[appointment.provider_id].append(appointment)
    for visits in by_provider.values():
        for earlier, later in itertools.pairwise(visits):
            assert earlier.end <= later.start


def test_statuses_follow_the_clock(demo_session: Session) -> None:
    info = _seed(demo_session)
    hour_ago = AFTERNOON - timedelta(minutes=60)
    S = AppointmentStatus
    for appointment in _todays_appointments(demo_session):
        stamps = [appointment.arrived_at, appointment.checked_in_at, appointment.in_room_at,
                  appointment.completed_at, appointment.cancelled_at]
        assert all(stamp is None or stamp <= AFTERNOON for stamp in stamps)
        if appointment.start > AFTERNOON or appointment.id == info.appointment_id:
            assert appointment.status == S.BOOKED
        elif appointment.start < hour_ago:
            assert appointment.status in (S.FULFILLED, S.NOSHOW, S.CANCELLED)
        else:
            assert appointment.status in (S.ARRIVED, S.CHECKED_IN, S.IN_ROOM)
        if appointment.status == S.FULFILLED:
            visit = [appointment.arrived_at, appointment.checked_in_at, appointment.in_room_at,
                     appointment.completed_at]
            assert None not in visit
            assert visit == sorted(visit)  # type: ignore[type-var]
    statuses = [a.status for a in _todays_appointments(demo_session)]
    assert statuses.count(S.NOSHOW) == 2 and statuses.count(S.CANCELLED) == 1


def test_some_coverage_has_expired_and_some_patients_pay_themselves(
    demo_session: Session,
) -> None:
    _seed(demo_session)
    patients = _todays_patients(demo_session)
    expired = [
        c for p in patients for c in p.coverages if c.effective_to is not None
        and c.effective_to < DAY
    ]
    self_pay = [p for p in patients if not p.coverages]
    assert len(expired) >= 4
    assert 2 <= len(self_pay) <= 3
    for coverage in demo_session.scalars(select(Coverage)):
        assert 9 <= len(coverage.member_id) <= 12
        assert coverage.effective_from is not None and coverage.effective_from < DAY


def test_some_patients_have_not_signed_their_consent(demo_session: Session) -> None:
    _seed(demo_session)
    signed = set(demo_session.scalars(select(ConsentSignature.patient_id)))
    unsigned = [p for p in _todays_patients(demo_session) if p.id not in signed]
    assert len(unsigned) >= 10
    assert len(signed) >= 15


def test_signatures_match_the_text_shown_in_the_signers_language(
    demo_session: Session,
) -> None:
    _seed(demo_session)
    for signature in demo_session.scalars(select(ConsentSignature)):
        version = signature.form_version
        body = version.body_es if signature.language == Language.ES else version.body_en
        assert signature.text_sha256 == hashlib.sha256(body.encode()).hexdigest()
        assert signature.signed_at < AFTERNOON
        assert signature.signature_png is not None
        assert signature.signature_png.startswith(b"\x89PNG")


def test_some_patients_prefer_spanish(demo_session: Session) -> None:
    _seed(demo_session)
    patients = _todays_patients(demo_session)
    spanish = [p for p in patients if p.preferred_language == Language.ES]
    assert 5 <= len(spanish) <= len(patients) // 2


def test_a_child_comes_with_a_guardian(demo_session: Session) -> None:
    _seed(demo_session)
    minors = [p for p in _todays_patients(demo_session) if p.age_on(DAY) < 18]
    assert len(minors) >= 3
    for minor in minors:
        guardians = [c for c in minor.contacts if c.kind == ContactKind.GUARDIAN]
        assert guardians and guardians[0].relationship_to_patient in (
            "mother", "father", "guardian"
        )
    ages = [p.age_on(DAY) for p in _todays_patients(demo_session)]
    assert min(ages) == 0 and max(ages) >= 85


def test_everyone_has_an_emergency_contact(demo_session: Session) -> None:
    _seed(demo_session)
    for patient in demo_session.scalars(select(Patient)):
        assert any(c.kind == ContactKind.EMERGENCY for c in patient.contacts)
        assert patient.mrn.startswith("DEMO-")
        assert patient.phone is None or " 555 01" in patient.phone
        assert patient.email is None or patient.email.endswith(("@example.com", "@example.org"))


def test_the_demo_patients_visit_is_booked_shortly_after_now(demo_session: Session) -> None:
    info = _seed(demo_session)
    appointment = demo_session.get(Appointment, info.appointment_id)
    assert appointment is not None
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.start > AFTERNOON
    # 14:23:10 plus a quarter of an hour is 14:38:10, which rounds up to 14:40.
    assert appointment.start == at_clinic_time(DAY, 14, 40, TZ)
    assert info.appointment_local_time == "2:40 PM"
    assert appointment.provider_id is not None and appointment.location_id is not None

    patient = appointment.patient
    assert patient.mrn == "DEMO-0001"
    assert (patient.legal_given_name, patient.legal_family_name, patient.birth_date) == (
        info.patient_given_name, info.patient_family_name, info.birth_date,
    )
    assert patient.age_on(DAY) >= 18 and patient.preferred_language == Language.EN
    assert any(c.is_active_on(DAY) for c in patient.coverages)
    versions = set(demo_session.scalars(select(ConsentFormVersion.id)))
    signed = set(demo_session.scalars(
        select(ConsentSignature.form_version_id).where(ConsentSignature.patient_id == patient.id)
    ))
    assert signed == versions
    namesakes = [
        p for p in _todays_patients(demo_session)
        if (p.legal_family_name, p.birth_date) == (patient.legal_family_name, patient.birth_date)
    ]
    assert namesakes == [patient]


def test_the_demo_patient_is_found_again_on_a_later_run(demo_session: Session) -> None:
    assert not has_demo_data(demo_session)
    assert demo_info(demo_session, tz=TZ) is None
    info = _seed(demo_session)
    demo_session.expunge_all()
    assert has_demo_data(demo_session)
    assert demo_info(demo_session, tz=TZ) == info


def test_seeding_twice_is_refused(demo_session: Session) -> None:
    _seed(demo_session)
    with pytest.raises(ValueError, match="already"):
        seed_demo(demo_session, tz=TZ, now=AFTERNOON)


def test_the_demo_staff_can_sign_in(demo_session: Session) -> None:
    _seed(demo_session)
    for username, password in DEMO_PASSWORDS.items():
        assert authenticate(demo_session, username, password, now=AFTERNOON).ok
    assert not authenticate(demo_session, "rep", "wrong-password", now=AFTERNOON).ok


def test_twins_share_a_family_name_and_birth_date(demo_session: Session) -> None:
    _seed(demo_session)
    groups: dict[tuple[str, date], list[Patient]] = defaultdict(list)
    for patient in _todays_patients(demo_session):
        groups[(patient.legal_family_name, patient.birth_date)].append(patient)
    twins = [group for group in groups.values() if len(group) >= 2]
    assert len(twins) == 1
    first, second = twins[0]
    assert first.legal_given_name != second.legal_given_name
    assert first.phone != second.phone

    by_family: dict[str, set[date]] = defaultdict(set)
    for patient in _todays_patients(demo_session):
        by_family[patient.legal_family_name].add(patient.birth_date)
    assert any(len(births) >= 2 for births in by_family.values())


def test_the_seeding_is_audited(demo_session: Session) -> None:
    _seed(demo_session)
    event = demo_session.scalar(select(AuditEvent).where(AuditEvent.action == "demo.seeded"))
    assert event is not None
    assert event.detail == {"count": len(_todays_appointments(demo_session))}


def test_reset_empties_every_table(demo_session: Session) -> None:
    _seed(demo_session)
    clear_all(demo_session)
    demo_session.commit()
    for table in Base.metadata.sorted_tables:
        assert demo_session.scalar(select(func.count()).select_from(table)) == 0, table.name
    assert not has_demo_data(demo_session)
    # A reset database takes a new seed.
    assert _seed(demo_session).day == DAY


def test_seeding_before_the_clinic_opens_books_the_whole_day(demo_session: Session) -> None:
    early = datetime(2026, 6, 16, 6, 0, tzinfo=TZ).astimezone(UTC)
    info = _seed(demo_session, early)
    appointments = _todays_appointments(demo_session)
    assert len(appointments) >= 40
    assert all(a.status == AppointmentStatus.BOOKED for a in appointments)
    assert info.appointment_local_time == "6:15 AM"


def test_seeding_after_the_clinic_closes_leaves_nothing_booked_earlier(
    demo_session: Session,
) -> None:
    late = datetime(2026, 6, 16, 20, 0, tzinfo=TZ).astimezone(UTC)
    info = _seed(demo_session, late)
    appointments = _todays_appointments(demo_session)
    assert len(appointments) >= 40
    earlier = [a for a in appointments if a.start < late]
    assert len(earlier) == len(appointments) - 1
    assert not [a for a in earlier if a.status == AppointmentStatus.BOOKED]
    demo = demo_session.get(Appointment, info.appointment_id)
    assert demo is not None and demo.status == AppointmentStatus.BOOKED
    assert info.appointment_local_time == "8:15 PM"


def test_some_patients_still_to_come_checked_in_ahead_but_not_the_demo_patient(
        demo_session: Session) -> None:
    info = _seed(demo_session)
    later = [a for a in _todays_appointments(demo_session)
             if a.status == AppointmentStatus.BOOKED and a.start > AFTERNOON]
    states = precheck.states(demo_session, [a.id for a in later])
    shown = set(states.values())
    assert shown == {PrecheckState.DONE, PrecheckState.STARTED, PrecheckState.NOT_OPENED}
    assert states[info.appointment_id] == PrecheckState.NOT_OPENED
    # Nobody who has been seen already, or is here, has a pre-check-in from the seed.
    earlier = [a.id for a in _todays_appointments(demo_session) if a not in later]
    assert set(precheck.states(demo_session, earlier).values()) == {PrecheckState.NOT_OPENED}
