"""The outbox: an event the practice system must hear of is written in the same transaction
as the change (one INSERT), and rendered as HL7 v2.5.1: SIU^S14 with the filler status, or
ADT^A08 for an accepted change of demographics or coverage (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import hl7
import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from shared.interface import outbox
from shared.models import (
    AppointmentStatus,
    AuditEvent,
    Channel,
    FlagKind,
    OutboxEvent,
    OutboxMessage,
    OutboxStatus,
)
from shared.services import desk, review
from shared.services.checkin import CannotCheckIn, begin, complete
from shared.services.clinic_settings import ClinicSettings
from tests.factories import (
    DEFAULT_START,
    make_appointment,
    make_check_in,
    make_coverage,
    make_flag,
    make_patient,
    make_provider,
    make_staff_user,
)

TZ = ZoneInfo("America/Chicago")
RULES = ClinicSettings()
NOW = DEFAULT_START  # 10:00 in Chicago, the appointment's time
DAY = date(2026, 6, 15)


def events(session: Session) -> list[tuple[OutboxEvent, int | None, int | None]]:
    session.expire_all()
    return [(r.event, r.appointment_id, r.patient_id) for r in session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id))]


def rendered(session: Session, engine: Engine) -> list[hl7.Message]:
    session.commit()
    return [hl7.parse(o.message) for o in outbox.pending(engine, tz=TZ)]


def test_a_patient_arriving_writes_one_event_with_the_arrival(session: Session) -> None:
    appointment = make_appointment(session)

    begin(session, appointment.id, channel=Channel.KIOSK, now=NOW, tz=TZ, rules=RULES,
          kiosk_id="kiosk-1")
    begin(session, appointment.id, channel=Channel.KIOSK, now=NOW, tz=TZ, rules=RULES,
          kiosk_id="kiosk-1")  # resumed: not a second arrival

    assert events(session) == [(OutboxEvent.ARRIVED, appointment.id, appointment.patient_id)]


def test_a_kiosk_check_in_that_needs_no_desk_sends_arrived_then_checked_in(
    session: Session
) -> None:
    appointment = make_appointment(session)
    started = begin(session, appointment.id, channel=Channel.KIOSK, now=NOW, tz=TZ,
                    rules=RULES, kiosk_id="kiosk-1")
    complete(session, started.id, now=NOW + timedelta(minutes=3), tz=TZ, rules=RULES)

    assert events(session) == [(OutboxEvent.ARRIVED, appointment.id, appointment.patient_id),
                               (OutboxEvent.CHECKED_IN, appointment.id,
                                appointment.patient_id)]


def test_a_kiosk_check_in_sent_to_the_desk_stays_arrived(session: Session) -> None:
    appointment = make_appointment(session)
    started = begin(session, appointment.id, channel=Channel.KIOSK, now=NOW, tz=TZ,
                    rules=RULES, kiosk_id="kiosk-1")
    make_flag(session, FlagKind.HELP_REQUEST, appointment=appointment)
    complete(session, started.id, now=NOW + timedelta(minutes=3), tz=TZ, rules=RULES)

    assert events(session) == [(OutboxEvent.ARRIVED, appointment.id, appointment.patient_id)]


def test_a_refused_check_in_tells_the_practice_system_nothing(session: Session) -> None:
    appointment = make_appointment(session, start=NOW + timedelta(days=1))

    with pytest.raises(CannotCheckIn):
        begin(session, appointment.id, channel=Channel.KIOSK, now=NOW, tz=TZ, rules=RULES)

    assert events(session) == []


def test_the_event_is_written_with_the_change_or_not_at_all(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        appointment_id = make_appointment(session).id
    with Session(engine) as session:
        begin(session, appointment_id, channel=Channel.KIOSK, now=NOW, tz=TZ, rules=RULES)
        session.rollback()  # the check-in failed later on: neither stays
        assert events(session) == []


def test_writing_an_event_costs_one_insert(session: Session, engine: Engine) -> None:
    appointment = make_appointment(session)
    session.commit()
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment, now=NOW)
        session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO hl7_outbox")


def test_calling_to_a_room_and_a_no_show_are_events(session: Session) -> None:
    rep = make_staff_user(session)
    waiting = make_appointment(session, status=AppointmentStatus.CHECKED_IN)
    absent = make_appointment(session, start=NOW - timedelta(hours=1))

    desk.call_to_room(session, waiting.id, "Room 4", staff_user_id=rep.id, now=NOW)
    desk.mark_no_show(session, absent.id, staff_user_id=rep.id, now=NOW, rules=RULES)

    assert events(session) == [(OutboxEvent.ROOMED, waiting.id, waiting.patient_id),
                               (OutboxEvent.NOSHOW, absent.id, absent.patient_id)]


@pytest.mark.parametrize(("kind", "new_value", "expected"), [
    (FlagKind.PHONE_CHANGE, {"phone": "(312) 555-0199"}, OutboxEvent.DEMOGRAPHICS),
    (FlagKind.DEMOGRAPHICS_CHANGE, {"legal_family_name": "Rivera"}, OutboxEvent.DEMOGRAPHICS),
    (FlagKind.INSURANCE_CHANGE, {"payer": "Lakeshore Health", "member_id": "LH-90211"},
     OutboxEvent.COVERAGE),
])
def test_staff_accepting_a_change_of_demographics_or_coverage_is_an_event(
    session: Session, kind: FlagKind, new_value: dict[str, str], expected: OutboxEvent
) -> None:
    rep = make_staff_user(session)
    patient = make_patient(session)
    accepted = make_flag(session, kind, patient=patient, new_value=new_value)
    rejected = make_flag(session, kind, patient=patient, new_value=new_value)

    review.accept_flag(session, accepted.id, staff_user_id=rep.id, now=NOW, day=DAY)
    review.reject_flag(session, rejected.id, staff_user_id=rep.id, now=NOW,
                       reason="not what the card says")

    assert events(session) == [(expected, None, patient.id)]


def test_clearing_the_last_desk_flag_checks_the_patient_in_and_says_so(session: Session) -> None:
    rep = make_staff_user(session)
    appointment = make_appointment(session, status=AppointmentStatus.ARRIVED, arrived_at=NOW)
    make_check_in(session, appointment, completed_at=NOW)
    flag = make_flag(session, FlagKind.HELP_REQUEST, appointment=appointment)

    review.accept_flag(session, flag.id, staff_user_id=rep.id, now=NOW, day=DAY)

    assert events(session) == [(OutboxEvent.CHECKED_IN, appointment.id,
                                appointment.patient_id)]


def test_a_status_change_is_sent_as_siu_s14_with_the_filler_status(
    session: Session, engine: Engine
) -> None:
    rep = make_staff_user(session)
    appointment = make_appointment(
        session, status=AppointmentStatus.CHECKED_IN, external_id="88120",
        provider=make_provider(session, external_id="1021"),
        patient=make_patient(session, legal_family_name="O'Neil|Smith^Jr",
                             legal_given_name="Ana~Maria", mrn="44501"))
    desk.call_to_room(session, appointment.id, "Room 4", staff_user_id=rep.id, now=NOW)

    (message,) = rendered(session, engine)

    assert str(message.segment("MSH")[9]) == "SIU^S14^SIU_S12"
    assert str(message.segment("MSH")[12]) == "2.5.1"
    sch = message.segment("SCH")
    assert (str(sch[2]), str(sch[25])) == ("88120", "Roomed^Called to a room^L")
    assert str(message.segment("PV1")[3][0][1]) == "Room 4"
    assert str(message.segment("AIP")[3][0][0]) == "1021"
    pid = message.segment("PID")
    assert str(pid[3][0][0]) == "44501"
    # Delimiters in a name are escaped: still one field, one family name, one given name.
    assert len(message.segment("PID")) == 9
    assert str(pid[5][0][0]) == "O'Neil\\F\\Smith\\S\\Jr"
    assert message.unescape(str(pid[5][0][1])) == "Ana~Maria"


def test_an_accepted_coverage_is_sent_as_adt_a08_with_the_coverage(
    session: Session, engine: Engine
) -> None:
    rep = make_staff_user(session)
    patient = make_patient(session, mrn="44501", city="Chicago", address_line="118 Cedar Ave")
    make_coverage(session, patient)
    flag = make_flag(session, FlagKind.INSURANCE_CHANGE, patient=patient,
                     new_value={"payer": "Lakeshore Health", "member_id": "LH-90211",
                                "group_id": "G7"})
    review.accept_flag(session, flag.id, staff_user_id=rep.id, now=NOW, day=DAY)

    (message,) = rendered(session, engine)

    assert str(message.segment("MSH")[9]) == "ADT^A08^ADT_A01"
    assert str(message.segment("EVN")[1]) == "A08"
    assert str(message.segment("PID")[11][0][0]) == "118 Cedar Ave"
    (in1,) = [s for s in message if str(s[0]) == "IN1"]  # the old coverage ended yesterday
    assert (str(in1[4]), str(in1[36]), str(in1[8])) == ("Lakeshore Health", "LH-90211", "G7")


def test_the_message_is_rendered_once_and_kept_for_every_retry(
    session: Session, engine: Engine
) -> None:
    appointment = make_appointment(session)
    outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment, now=NOW)
    session.commit()
    (first,) = outbox.pending(engine, tz=TZ)
    appointment.room = "Room 9"  # the record changes before the retry
    session.commit()

    (again,) = outbox.pending(engine, tz=TZ)

    assert again == first
    assert first.message.split("\r")[0].split("|")[9] == first.control_id


def test_a_manager_resends_a_refused_message_under_a_new_id(
    session: Session, engine: Engine
) -> None:
    rep = make_staff_user(session)
    appointment = make_appointment(session)
    outbox.record_event(session, OutboxEvent.ARRIVED, appointment=appointment, now=NOW)
    session.commit()
    (row,) = outbox.pending(engine, tz=TZ)
    outbox.record_answer(engine, row, outbox.messages.Acknowledgement("AE", row.control_id,
                                                                      "Unknown patient"),
                         now=NOW)
    assert outbox.pending(engine, tz=TZ) == []

    with Session(engine) as manager, manager.begin():
        outbox.resend(manager, row.id, staff_user_id=rep.id, now=NOW)
    with Session(engine) as manager, pytest.raises(outbox.ResendRefused):
        outbox.resend(manager, row.id, staff_user_id=rep.id, now=NOW)  # pending again

    (again,) = outbox.pending(engine, tz=TZ)
    assert again.id == row.id and again.control_id != row.control_id
    session.expire_all()
    stored = session.get(OutboxMessage, row.id)
    assert (stored.status, stored.error) == (OutboxStatus.PENDING, None)
    assert session.scalar(select(AuditEvent.action).where(
        AuditEvent.record_type == "hl7_outbox")) == "hl7.resend"
