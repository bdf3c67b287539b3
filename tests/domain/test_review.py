"""The desk reviews what the kiosk flagged: accepting writes the patient's new details to the
record in the same transaction, editing first keeps the edited value, rejecting needs a
reason, and two representatives deciding the same flag cannot both win."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shared.errors import DomainError
from shared.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Channel,
    ContactKind,
    Coverage,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    Patient,
    PatientContact,
)
from shared.services import checkin, details, flags, insurance
from shared.services.clinic_settings import ClinicSettings
from shared.services.review import (
    ConcurrentChange,
    ReviewRefused,
    accept_flag,
    acknowledge,
    reject_flag,
)
from tests.factories import (
    DEFAULT_START,
    image_bytes,
    make_appointment,
    make_coverage,
    make_flag,
    make_patient,
    make_staff_user,
)

CHICAGO = ZoneInfo("America/Chicago")
RULES = ClinicSettings()
KIOSK = "kiosk-1"
ARRIVED = DEFAULT_START - timedelta(minutes=5)  # 09:55 in Chicago
NOW = DEFAULT_START + timedelta(minutes=2)  # the representative decides at 10:02
DAY = date(2026, 6, 15)
S = AppointmentStatus

OLD_ADDRESS = {
    "address_line": "1450 W Maple Ave",
    "address_line2": "Apt 3B",
    "city": "Chicago",
    "state": "IL",
    "postal_code": "60614",
}
NEW_ADDRESS = {
    "address_line": "88 N Lakeview Dr",
    "address_line2": "",
    "city": "Evanston",
    "state": "IL",
    "postal_code": "60201-1234",
}


def patient_on_file(session: Session, **overrides: object) -> Patient:
    """A patient whose record holds a full address, a phone and an email."""
    fields: dict[str, object] = {**OLD_ADDRESS, "email": "rosalind@example.org"}
    fields.update(overrides)
    return make_patient(session, **fields)


def reported_at_kiosk(session: Session, patient: Patient, appointment_id: int | None = None,
                      **changes: str) -> dict[FlagKind, Flag]:
    """The patient corrects their details at the kiosk: one flag per changed group."""
    reported = replace(details.current_details(patient), **changes)
    raised = details.report_changes(session, patient, reported, appointment_id=appointment_id,
                                    now=ARRIVED, kiosk_id=KIOSK)
    return {flag.kind: flag for flag in raised}


def audit_events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


def accept(session: Session, flag: Flag, by: int, **kwargs: object) -> Flag:
    return accept_flag(session, flag.id, staff_user_id=by, now=NOW, day=DAY, **kwargs)


# --- Accepting a change writes it to the record --------------------------------------------------


def test_accepting_an_address_change_writes_the_new_address_and_closes_the_flag(
    session: Session, engine: Engine
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, **NEW_ADDRESS)[FlagKind.ADDRESS_CHANGE]
    session.commit()

    accept(session, flag, rep.id)
    session.commit()

    with Session(engine) as fresh:
        record = fresh.get(Patient, patient.id)
        assert record is not None
        assert (record.address_line, record.address_line2, record.city, record.state,
                record.postal_code) == ("88 N Lakeview Dr", None, "Evanston", "IL", "60201-1234")
        decided = fresh.get(Flag, flag.id)
        assert decided is not None
        assert decided.status == FlagStatus.ACCEPTED
        assert decided.resolved_by_id == rep.id
        assert decided.resolved_at == NOW
        assert decided.acknowledged_by_id == rep.id


def test_the_address_and_the_decision_are_one_transaction(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, **NEW_ADDRESS)[FlagKind.ADDRESS_CHANGE]
    session.commit()

    accept(session, flag, rep.id)
    session.rollback()

    session.expire_all()
    assert session.get(Patient, patient.id).address_line == OLD_ADDRESS["address_line"]
    assert session.get(Flag, flag.id).status == FlagStatus.OPEN
    assert audit_events(session, "flag.accepted") == []


def test_accepting_a_phone_change_stores_the_number_in_international_form(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, phone="(773) 555-0199")[FlagKind.PHONE_CHANGE]

    accept(session, flag, rep.id)

    assert patient.phone == "+17735550199"
    assert patient.address_line == OLD_ADDRESS["address_line"]
    assert flag.status == FlagStatus.ACCEPTED


def test_accepting_an_email_change_replaces_the_email(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, email="roz.okonkwo@example.com")[
        FlagKind.EMAIL_CHANGE
    ]

    accept(session, flag, rep.id)

    assert patient.email == "roz.okonkwo@example.com"
    assert flag.status == FlagStatus.ACCEPTED


def test_accepting_an_emergency_contact_creates_one_when_the_record_has_none(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    assert patient.contacts == []
    flag = reported_at_kiosk(
        session, patient, emergency_name="Tomasz Okonkwo", emergency_relationship="spouse",
        emergency_phone="773-555-0188",
    )[FlagKind.EMERGENCY_CONTACT_CHANGE]

    accept(session, flag, rep.id)
    session.flush()

    (contact,) = session.scalars(
        select(PatientContact).where(PatientContact.patient_id == patient.id)
    ).all()
    assert contact.kind == ContactKind.EMERGENCY
    assert (contact.name, contact.relationship_to_patient, contact.phone) == (
        "Tomasz Okonkwo", "spouse", "+17735550188",
    )


def test_accepting_an_emergency_contact_updates_the_one_on_file(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    patient.contacts.append(PatientContact(kind=ContactKind.EMERGENCY, name="Ada Okonkwo",
                                           relationship_to_patient="parent",
                                           phone="+13125550100"))
    session.flush()
    flag = reported_at_kiosk(session, patient, emergency_name="Tomasz Okonkwo",
                             emergency_relationship="spouse")[FlagKind.EMERGENCY_CONTACT_CHANGE]

    accept(session, flag, rep.id)
    session.flush()

    contacts = session.scalars(
        select(PatientContact).where(PatientContact.patient_id == patient.id)
    ).all()
    assert [(c.name, c.relationship_to_patient, c.phone) for c in contacts] == [
        ("Tomasz Okonkwo", "spouse", "+13125550100")
    ]


def test_a_phone_change_can_be_accepted_while_the_address_change_still_waits(
    session: Session,
) -> None:
    """The record has no address yet; the kiosk reported one and a new phone. The desk
    accepts the phone first: the address still missing on the record is not the phone's
    problem."""
    rep = make_staff_user(session)
    patient = make_patient(session, phone="312-555-0147")  # no address on file
    raised = reported_at_kiosk(session, patient, phone="773-555-0199", **NEW_ADDRESS)

    accept(session, raised[FlagKind.PHONE_CHANGE], rep.id)

    assert patient.phone == "+17735550199"
    assert patient.address_line is None
    assert raised[FlagKind.ADDRESS_CHANGE].status == FlagStatus.OPEN


def test_accepting_new_demographics_updates_names_and_birth_date(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = make_flag(
        session, FlagKind.DEMOGRAPHICS_CHANGE, patient=patient,
        old_value={"legal_family_name": "Okonkwo-Delgado", "birth_date": "1984-02-29"},
        new_value={"legal_given_name": " Rosalind  Ada ", "legal_family_name": "Okonkwo",
                   "preferred_name": "Roz", "birth_date": "1984-03-01"},
    )

    accept(session, flag, rep.id)

    assert (patient.legal_given_name, patient.legal_family_name, patient.preferred_name) == (
        "Rosalind Ada", "Okonkwo", "Roz",
    )
    assert patient.birth_date == date(1984, 3, 1)
    assert patient.display_name == "Roz Okonkwo"


# --- Edit, then accept ---------------------------------------------------------------------------


def test_an_edited_phone_is_what_the_record_and_the_flag_keep(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, phone="773-555-0199")[FlagKind.PHONE_CHANGE]
    edited = {"phone": "(312) 555-0123"}

    accept(session, flag, rep.id, edited_value=edited)

    assert patient.phone == "+13125550123"
    assert flag.new_value == edited
    assert flag.status == FlagStatus.ACCEPTED
    (event,) = audit_events(session, "flag.accepted")
    assert event.detail is not None
    assert event.detail["updated"] is True


def test_an_edited_phone_that_is_not_a_phone_number_is_refused_and_nothing_changes(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session, phone="+13125550147")
    flag = reported_at_kiosk(session, patient, phone="773-555-0199")[FlagKind.PHONE_CHANGE]
    proposed = dict(flag.new_value or {})

    with pytest.raises(DomainError) as refused:
        accept(session, flag, rep.id, edited_value={"phone": "555-12"})

    assert isinstance(refused.value, ReviewRefused)
    assert refused.value.key == "details.error_phone"
    session.flush()
    assert patient.phone == "+13125550147"
    assert flag.status == FlagStatus.OPEN
    assert flag.version == 1
    assert flag.new_value == proposed
    assert flag.resolved_by_id is None
    assert audit_events(session, "flag.accepted") == []


def test_an_edited_insurance_without_a_member_id_is_refused_and_the_coverage_stays(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    old = make_coverage(session, patient)
    flag = make_flag(session, FlagKind.INSURANCE_CHANGE, patient=patient,
                     new_value={"payer": "Lakeshore Mutual", "member_id": "LM-200117"})

    with pytest.raises(DomainError) as refused:
        accept(session, flag, rep.id, edited_value={"payer": "Lakeshore Mutual",
                                                    "member_id": " "})

    assert refused.value.key == "insurance.error_member_id"
    assert (old.effective_to, old.rank) == (None, 1)
    assert len(patient.coverages) == 1
    assert flag.status == FlagStatus.OPEN



def test_new_demographics_with_an_impossible_birth_date_are_refused_and_nothing_changes(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = make_flag(session, FlagKind.DEMOGRAPHICS_CHANGE, patient=patient,
                     new_value={"legal_family_name": "Okonkwo", "birth_date": "1984-02-30"})

    with pytest.raises(DomainError) as refused:
        accept(session, flag, rep.id)

    assert refused.value.key == "kiosk.birth_date_invalid"
    assert (patient.legal_family_name, patient.birth_date) == (
        "Okonkwo-Delgado", date(1984, 2, 29),
    )
    assert flag.status == FlagStatus.OPEN

# --- Rejecting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "no"])
def test_rejecting_needs_a_reason(session: Session, reason: str) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, **NEW_ADDRESS)[FlagKind.ADDRESS_CHANGE]

    with pytest.raises(ReviewRefused) as refused:
        reject_flag(session, flag.id, staff_user_id=rep.id, now=NOW, reason=reason)

    assert refused.value.key == "review.reason_required"
    assert flag.status == FlagStatus.OPEN


def test_a_rejected_change_leaves_the_record_as_it_was_and_keeps_the_reason(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, **NEW_ADDRESS)[FlagKind.ADDRESS_CHANGE]

    reject_flag(session, flag.id, staff_user_id=rep.id, now=NOW,
                reason="  Patient   tapped the wrong field ")
    session.flush()

    assert flag.status == FlagStatus.REJECTED
    assert flag.resolution_note == "Patient tapped the wrong field"
    assert (flag.resolved_by_id, flag.resolved_at) == (rep.id, NOW)
    assert {name: getattr(patient, name) for name in OLD_ADDRESS} == OLD_ADDRESS


# --- Insurance -----------------------------------------------------------------------------------


def test_accepting_new_insurance_ends_the_old_coverage_and_adds_the_new_one_with_its_card(
    session: Session, engine: Engine
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    old = make_coverage(session, patient)
    appointment = make_appointment(session, patient=patient)
    front, back = image_bytes("PNG"), image_bytes("JPEG")
    flag = insurance.report_new_coverage(
        session, patient, payer="Lakeshore Mutual", member_id="LM-200117", group_id="G-77",
        card_front=front, card_back=back, appointment_id=appointment.id, now=ARRIVED,
        kiosk_id=KIOSK,
    )
    session.commit()

    accept(session, flag, rep.id)
    session.commit()

    with Session(engine) as fresh:
        coverages = fresh.scalars(
            select(Coverage).where(Coverage.patient_id == patient.id).order_by(Coverage.rank)
        ).all()
        assert [c.id for c in coverages][1:] == [old.id]
        new, ended = coverages
        assert (new.rank, new.payer, new.member_id, new.group_id) == (
            1, "Lakeshore Mutual", "LM-200117", "G-77",
        )
        assert new.effective_from == DAY
        assert new.effective_to is None
        assert (new.card_front, new.card_back) == (
            insurance.card_photo(front), insurance.card_photo(back),
        )
        assert ended.rank == 2
        assert ended.effective_to == DAY - timedelta(days=1)
        assert insurance.primary_coverage(fresh.get(Patient, patient.id), DAY).payer == (
            "Lakeshore Mutual"
        )


def test_a_card_photo_of_another_patient_is_not_copied_onto_this_coverage(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    stranger = make_patient(session)
    appointment = make_appointment(session, patient=stranger)
    theirs = insurance.report_new_coverage(
        session, stranger, payer="Lakeshore Mutual", member_id="LM-999", group_id="",
        card_front=image_bytes(), card_back=None, appointment_id=appointment.id, now=ARRIVED,
        kiosk_id=KIOSK,
    )
    flag = make_flag(session, FlagKind.INSURANCE_CHANGE, patient=patient, new_value={
        "payer": "Lakeshore Mutual", "member_id": "LM-200117", "group_id": "",
        "card_front_document_id": (theirs.new_value or {})["card_front_document_id"],
    })

    accept(session, flag, rep.id)

    (coverage,) = patient.coverages
    assert coverage.card_front is None
    assert coverage.group_id is None


def test_accepting_self_pay_ends_the_coverage_and_adds_none(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    old = make_coverage(session, patient)
    appointment = make_appointment(session, patient=patient)
    flag = insurance.report_self_pay(session, patient, appointment_id=appointment.id,
                                     now=ARRIVED, kiosk_id=KIOSK)

    accept(session, flag, rep.id)
    session.flush()

    assert session.scalar(
        select(func.count()).select_from(Coverage).where(Coverage.patient_id == patient.id)
    ) == 1
    assert old.effective_to == DAY - timedelta(days=1)
    assert insurance.primary_coverage(patient, DAY).state == insurance.CoverageState.EXPIRED


# --- Someone else got there first ----------------------------------------------------------------


@pytest.mark.parametrize("second_decision", ["accept", "reject"])
def test_deciding_a_flag_someone_already_decided_names_who_did(
    session: Session, second_decision: str
) -> None:
    maya = make_staff_user(session, "Maya Chen")
    jonas = make_staff_user(session, "Jonas Park")
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, phone="773-555-0199")[FlagKind.PHONE_CHANGE]
    accept(session, flag, maya.id)
    session.commit()

    with pytest.raises(ConcurrentChange) as refused:
        if second_decision == "accept":
            accept(session, flag, jonas.id)
        else:
            reject_flag(session, flag.id, staff_user_id=jonas.id, now=NOW,
                        reason="Number is wrong")

    assert refused.value.key == "review.concurrent"
    assert refused.value.params == {"who": "Maya Chen", "status": "accepted"}
    assert flag.resolved_by_id == maya.id


def test_a_decision_on_a_flag_that_changed_since_it_was_shown_is_refused(
    session: Session,
) -> None:
    maya = make_staff_user(session, "Maya Chen")
    jonas = make_staff_user(session, "Jonas Park")
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, phone="773-555-0199")[FlagKind.PHONE_CHANGE]
    shown_version = flag.version
    acknowledge(session, flag.id, staff_user_id=maya.id, now=NOW)  # still open, but changed
    session.commit()

    with pytest.raises(ConcurrentChange):
        accept(session, flag, jonas.id, expected_version=shown_version)

    assert patient.phone == "312-555-0147"
    assert flag.status == FlagStatus.OPEN


@pytest.mark.parametrize("kind", [FlagKind.EMERGENCY_CONTACT_CHANGE, FlagKind.INSURANCE_CHANGE])
def test_two_representatives_accepting_the_same_change_at_once_only_one_wins(
    session: Session, engine: Engine, kind: FlagKind
) -> None:
    maya = make_staff_user(session, "Maya Chen")
    jonas = make_staff_user(session, "Jonas Park")
    patient = patient_on_file(session)
    make_coverage(session, patient)
    appointment = make_appointment(session, patient=patient)
    if kind == FlagKind.INSURANCE_CHANGE:
        flag = insurance.report_new_coverage(
            session, patient, payer="Lakeshore Mutual", member_id="LM-200117", group_id="",
            card_front=None, card_back=None, appointment_id=appointment.id, now=ARRIVED,
            kiosk_id=KIOSK,
        )
    else:
        flag = reported_at_kiosk(session, patient, emergency_name="Tomasz Okonkwo",
                                 emergency_relationship="spouse")[kind]
    session.commit()

    with Session(engine) as desk_a, Session(engine) as desk_b:
        shown_a = desk_a.get(Flag, flag.id)
        shown_b = desk_b.get(Flag, flag.id)
        assert shown_a is not None and shown_b is not None
        assert shown_a.version == shown_b.version == 1
        for desk in (desk_a, desk_b):  # each screen shows the record as it is now
            on_file = desk.get(Patient, patient.id)
            assert on_file is not None
            assert len(on_file.contacts) == 0
            assert len(on_file.coverages) == 1
        accept(desk_a, shown_a, maya.id, expected_version=1)
        desk_a.commit()
        with pytest.raises(ConcurrentChange) as refused:
            accept(desk_b, shown_b, jonas.id, expected_version=1)
            desk_b.commit()
        desk_b.rollback()

    assert refused.value.params == {"who": "Maya Chen", "status": "accepted"}

    with Session(engine) as fresh:
        decided = fresh.get(Flag, flag.id)
        assert decided is not None
        assert (decided.status, decided.resolved_by_id) == (FlagStatus.ACCEPTED, maya.id)
        contacts = fresh.scalar(select(func.count()).select_from(PatientContact)
                                .where(PatientContact.patient_id == patient.id))
        coverages = fresh.scalar(select(func.count()).select_from(Coverage)
                                 .where(Coverage.patient_id == patient.id))
        if kind == FlagKind.INSURANCE_CHANGE:
            assert (contacts, coverages) == (0, 2)
        else:
            assert (contacts, coverages) == (1, 1)
        assert fresh.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "flag.accepted")) == 1



def test_a_rejection_that_lands_first_keeps_the_record_unchanged_for_a_late_acceptance(
    session: Session, engine: Engine
) -> None:
    maya = make_staff_user(session, "Maya Chen")
    jonas = make_staff_user(session, "Jonas Park")
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, **NEW_ADDRESS)[FlagKind.ADDRESS_CHANGE]
    session.commit()

    with Session(engine) as desk_a, Session(engine) as desk_b:
        shown = [d.get(Flag, flag.id) for d in (desk_a, desk_b)]
        assert all(f is not None and f.status == FlagStatus.OPEN for f in shown)
        reject_flag(desk_a, flag.id, staff_user_id=maya.id, now=NOW,
                    reason="Moved back already")
        desk_a.commit()
        with pytest.raises(ConcurrentChange) as refused:
            accept(desk_b, flag, jonas.id, expected_version=1)
        desk_b.rollback()

    assert refused.value.params == {"who": "Maya Chen", "status": "rejected"}
    with Session(engine) as fresh:
        record = fresh.get(Patient, patient.id)
        assert record is not None
        assert record.address_line == OLD_ADDRESS["address_line"]

# --- Acknowledging an alert ----------------------------------------------------------------------


def test_acknowledging_an_alert_keeps_who_and_when_once_and_leaves_the_flag_open(
    session: Session,
) -> None:
    maya = make_staff_user(session, "Maya Chen")
    jonas = make_staff_user(session, "Jonas Park")
    help_press = flags.request_help(session, kiosk_id=KIOSK, now=ARRIVED)

    acknowledge(session, help_press.id, staff_user_id=maya.id, now=NOW)
    acknowledge(session, help_press.id, staff_user_id=jonas.id, now=NOW + timedelta(minutes=1))
    session.flush()

    assert (help_press.acknowledged_by_id, help_press.acknowledged_at) == (maya.id, NOW)
    assert help_press.status == FlagStatus.OPEN
    assert help_press.resolved_at is None
    (event,) = audit_events(session, "flag.acknowledged")
    assert (event.actor_id, event.record_id) == (str(maya.id), help_press.id)


def test_acknowledging_a_flag_that_does_not_exist_is_refused(session: Session) -> None:
    maya = make_staff_user(session)
    with pytest.raises(ReviewRefused) as refused:
        acknowledge(session, 424242, staff_user_id=maya.id, now=NOW)
    assert refused.value.key == "review.not_found"


# --- Finishing the check-in when the desk is done ------------------------------------------------


def kiosk_check_in(session: Session, *, finish: bool = True) -> Appointment:
    """A patient with no insurance on file checks in on time: the kiosk raises a
    coverage-missing flag, so the appointment waits at 'arrived' for the desk."""
    patient = patient_on_file(session)
    appointment = make_appointment(session, patient=patient)
    started = checkin.begin(session, appointment.id, channel=Channel.KIOSK, now=ARRIVED,
                            tz=CHICAGO, rules=RULES, kiosk_id=KIOSK)
    insurance.confirm_same(session, patient, appointment_id=appointment.id, day=DAY,
                           now=ARRIVED, kiosk_id=KIOSK)
    if finish:
        done = checkin.complete(session, started.id, now=ARRIVED, tz=CHICAGO, rules=RULES)
        assert done.needs_desk
    assert appointment.status == S.ARRIVED
    return appointment


def desk_flag(session: Session, appointment: Appointment, kind: FlagKind) -> Flag:
    return session.scalars(select(Flag).where(Flag.appointment_id == appointment.id,
                                              Flag.kind == kind)).one()


def test_resolving_the_last_desk_flag_of_a_finished_check_in_checks_the_patient_in(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    appointment = kiosk_check_in(session)

    accept(session, desk_flag(session, appointment, FlagKind.COVERAGE_MISSING), rep.id,
           note="Self-pay today")
    session.flush()

    assert appointment.status == S.CHECKED_IN
    assert appointment.checked_in_at == NOW


def test_rejecting_the_last_desk_flag_also_checks_the_patient_in(session: Session) -> None:
    rep = make_staff_user(session)
    appointment = kiosk_check_in(session)

    reject_flag(session, desk_flag(session, appointment, FlagKind.COVERAGE_MISSING).id,
                staff_user_id=rep.id, now=NOW, reason="Card seen at the desk")
    session.flush()

    assert appointment.status == S.CHECKED_IN


def test_the_patient_stays_arrived_while_another_desk_flag_is_open(session: Session) -> None:
    rep = make_staff_user(session)
    appointment = kiosk_check_in(session)
    help_press = flags.request_help(session, kiosk_id=KIOSK, now=ARRIVED,
                                    patient_id=appointment.patient_id,
                                    appointment_id=appointment.id)

    accept(session, desk_flag(session, appointment, FlagKind.COVERAGE_MISSING), rep.id)
    session.flush()
    assert appointment.status == S.ARRIVED

    accept(session, help_press, rep.id)
    session.flush()
    assert appointment.status == S.CHECKED_IN


def test_the_patient_stays_arrived_when_they_have_not_finished_the_kiosk(
    session: Session,
) -> None:
    rep = make_staff_user(session)
    appointment = kiosk_check_in(session, finish=False)

    accept(session, desk_flag(session, appointment, FlagKind.COVERAGE_MISSING), rep.id)
    session.flush()

    assert appointment.status == S.ARRIVED
    assert appointment.checked_in_at is None


def test_a_patient_level_desk_flag_also_holds_the_check_in(session: Session) -> None:
    rep = make_staff_user(session)
    appointment = kiosk_check_in(session)
    make_flag(session, FlagKind.DOCUMENT_MISSING, severity=FlagSeverity.WARNING,
              patient=appointment.patient)

    accept(session, desk_flag(session, appointment, FlagKind.COVERAGE_MISSING), rep.id)
    session.flush()

    assert appointment.status == S.ARRIVED


# --- The audit trail -----------------------------------------------------------------------------


def test_decisions_are_audited_with_ids_and_codes_only(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    raised = reported_at_kiosk(session, patient, phone="773-555-0199", **NEW_ADDRESS)

    accept(session, raised[FlagKind.ADDRESS_CHANGE], rep.id,
           edited_value={**NEW_ADDRESS, "address_line": "90 N Lakeview Dr"})
    reject_flag(session, raised[FlagKind.PHONE_CHANGE].id, staff_user_id=rep.id, now=NOW,
                reason="Patient says Okonkwo's old number is right")
    session.flush()

    (accepted,) = audit_events(session, "flag.accepted")
    (rejected,) = audit_events(session, "flag.rejected")
    assert (accepted.actor_type, accepted.actor_id, accepted.record_type,
            accepted.record_id) == ("staff", str(rep.id), "flag",
                                    raised[FlagKind.ADDRESS_CHANGE].id)
    assert accepted.detail == {"kind": "address_change", "patient_id": patient.id,
                               "updated": True}
    assert rejected.record_id == raised[FlagKind.PHONE_CHANGE].id
    assert rejected.detail == {"kind": "phone_change", "patient_id": patient.id}
    written = json.dumps([accepted.detail, rejected.detail])
    for value in ("Lakeview", "Evanston", "60201", "555", "Okonkwo", "Patient says"):
        assert value not in written
    assert all(e.at == NOW for e in (accepted, rejected))


def test_audit_events_are_written_in_the_decisions_transaction(
    session: Session, engine: Engine
) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, phone="773-555-0199")[FlagKind.PHONE_CHANGE]
    accept(session, flag, rep.id)
    session.commit()

    with Session(engine) as fresh:
        actions = fresh.scalars(
            select(AuditEvent.action).where(AuditEvent.record_type == "flag",
                                            AuditEvent.record_id == flag.id)
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["flag.raised", "flag.accepted"]


def test_the_time_of_a_decision_is_the_clinic_time_given(session: Session) -> None:
    rep = make_staff_user(session)
    patient = patient_on_file(session)
    flag = reported_at_kiosk(session, patient, phone="773-555-0199")[FlagKind.PHONE_CHANGE]
    later = datetime(2026, 6, 15, 16, 45, tzinfo=CHICAGO)

    accept_flag(session, flag.id, staff_user_id=rep.id, now=later, day=DAY)
    session.commit()
    session.expire_all()

    assert session.get(Flag, flag.id).resolved_at == later

