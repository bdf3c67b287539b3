"""The desk's pages driven without a browser: alerts, flags, queue, the waiting-room screen."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from shared import demo
from shared.config import get_settings
from shared.db import session_scope
from shared.i18n import t
from shared.models import (
    Appointment,
    AppointmentStatus,
    Channel,
    CheckIn,
    Flag,
    FlagKind,
    FlagSeverity,
    FlagStatus,
    KioskQuestion,
    Patient,
    utcnow,
)
from shared.services import board, checkin, clinic_settings, details, flags, precheck
from shared.services.board import queue_for_day
from shared.text import plain
from tests.apps.conftest import DASHBOARD, dashboard_as
from tests.factories import due_soon, make_appointment, make_patient


@pytest.fixture
def desk_day(app_db):
    """A demo day where the demo patient has arrived and reported a new phone number, and
    someone pressed "I need help" on the second kiosk."""
    settings = get_settings()
    now = utcnow()
    with session_scope(app_db) as session:
        info = demo.seed_demo(session, tz=settings.tz, now=now)
    with session_scope(app_db) as session:
        check_in = checkin.begin(session, info.appointment_id, channel=Channel.KIOSK, now=now,
                                 tz=settings.tz, rules=clinic_settings.load(session),
                                 kiosk_id="kiosk-1")
        patient = check_in.appointment.patient
        reported = replace(details.current_details(patient), phone="+13125550188")
        details.report_changes(session, patient, reported, appointment_id=info.appointment_id,
                               now=now, kiosk_id="kiosk-1")
        flags.request_help(session, kiosk_id="lobby-2", now=now)
    return info


def _signed_in(username: str = "rep") -> AppTest:
    return dashboard_as(username)

def _open(at: AppTest, screen: str) -> AppTest:
    at.switch_page(f"screens/{screen}.py").run()
    assert not at.exception, at.exception
    return at


def test_alert_strip_shows_the_help_press_until_someone_acknowledges(app_db, desk_day) -> None:
    at = _signed_in()
    assert any(e.value.startswith("Needs help · patient not identified · lobby-2 · ")
               for e in at.error), [e.value for e in at.error]
    ack = next(b for b in at.button if (b.key or "").startswith("ack_"))
    ack.click().run()
    assert not at.exception
    assert not any("Needs help" in e.value for e in at.error)
    # Still on the strip for a few minutes, saying who took it, with nothing left to press.
    assert any("Needs help" in i.value and "taken by Riley Rep at" in i.value for i in at.info), [
        i.value for i in at.info]
    assert not [b for b in at.button if (b.key or "").startswith("ack_")]
    with Session(app_db) as session:
        flag = session.scalars(select(Flag).where(Flag.kiosk_id == "lobby-2")).one()
    assert flag.acknowledged_at is not None
    assert flag.acknowledged_by_id is not None
    assert flag.status == FlagStatus.OPEN


def test_accepting_a_phone_flag_updates_the_record(app_db, desk_day) -> None:
    at = _open(_signed_in(), "flags")
    with Session(app_db) as session:
        flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.PHONE_CHANGE)).one()
    at.button(key=f"flag_{flag.id}_accept").click().run()
    assert not at.exception
    with Session(app_db) as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == "DEMO-0001")).one()
        assert patient.phone == "+13125550188"
        assert session.get(Flag, flag.id).status == FlagStatus.ACCEPTED


def test_rejecting_without_a_reason_is_refused_and_nothing_changes(app_db, desk_day) -> None:
    at = _open(_signed_in(), "flags")
    with Session(app_db) as session:
        flag = session.scalars(select(Flag).where(Flag.kind == FlagKind.PHONE_CHANGE)).one()
        before = session.scalars(select(Patient.phone).where(Patient.mrn == "DEMO-0001")).one()
    at.button(key=f"flag_{flag.id}_reject_open").click().run()
    next(b for b in at.button if b.label == "Reject" and b.form_id).click().run()
    assert not at.exception
    assert "Please give a reason." in [e.value for e in at.error]
    with Session(app_db) as session:
        assert session.get(Flag, flag.id).status == FlagStatus.OPEN
        after = session.scalars(select(Patient.phone).where(Patient.mrn == "DEMO-0001")).one()
    assert after == before


def test_queue_lists_the_waiting_patient_and_calls_them_to_a_room(app_db, desk_day) -> None:
    at = _open(_signed_in(), "queue")
    assert at.dataframe, "the queue table is shown"
    at.selectbox(key="queue_selected").set_value(desk_day.appointment_id).run()
    at.text_input(key=f"act_{desk_day.appointment_id}_room").input("Room 4")
    at.button(key=f"act_{desk_day.appointment_id}_call").click().run()
    assert not at.exception
    with Session(app_db) as session:
        appointment = session.get(Appointment, desk_day.appointment_id)
    assert appointment.room == "Room 4"
    assert appointment.called_at is not None
    name = f"{desk_day.patient_given_name} {desk_day.patient_family_name}"
    assert [m.value for m in at.success] == [f"{name} called to Room 4."]

    # Called by mistake: the message's Undo takes the call back.
    at.button(key="undo_last_action").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert [m.value for m in at.success] == [f"Undone: {name} is back as before."]
    with Session(app_db) as session:
        appointment = session.get(Appointment, desk_day.appointment_id)
    assert (appointment.room, appointment.called_at) == (None, None)


def test_a_second_representative_calling_the_same_patient_is_told_who_called_them_where(
        app_db, desk_day) -> None:
    first, second = _open(_signed_in(), "queue"), _open(_signed_in("manager"), "queue")
    for at in (first, second):
        at.selectbox(key="queue_selected").set_value(desk_day.appointment_id).run()
    for at, room in ((first, "Room 5"), (second, "Room 6")):
        at.text_input(key=f"act_{desk_day.appointment_id}_room").input(room)
    first.button(key=f"act_{desk_day.appointment_id}_call").click().run()
    second.button(key=f"act_{desk_day.appointment_id}_call").click().run()

    assert not second.exception
    assert [e.value for e in second.error] == [
        "Riley Rep has already called this patient to Room 5. Nothing was changed; undo "
        "that call first to send them elsewhere."]
    with Session(app_db) as session:
        assert session.get(Appointment, desk_day.appointment_id).room == "Room 5"


def test_marking_in_room_then_undo_restores_the_status(app_db, desk_day) -> None:
    at = _open(_signed_in(), "queue")
    at.selectbox(key="queue_selected").set_value(desk_day.appointment_id).run()
    at.button(key=f"act_{desk_day.appointment_id}_in_room").click().run()
    with Session(app_db) as session:
        assert session.get(Appointment, desk_day.appointment_id).status == (
            AppointmentStatus.IN_ROOM)
    at.button(key=f"undo_room_{desk_day.appointment_id}").click().run()
    assert not at.exception
    with Session(app_db) as session:
        assert session.get(Appointment, desk_day.appointment_id).status == (
            AppointmentStatus.ARRIVED)


def test_waiting_room_screen_shows_tickets_never_names(app_db, desk_day) -> None:
    settings = get_settings()
    with session_scope(app_db) as session:
        # The demo patient finishes at the kiosk: a ticket (the first of the day at 6:00).
        started = session.scalars(select(CheckIn.id).where(
            CheckIn.appointment_id == desk_day.appointment_id)).one()
        checkin.complete(session, started, now=utcnow(), tz=settings.tz,
                         rules=clinic_settings.load(session))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["display"] = "waiting-room"
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    with Session(app_db) as session:
        line = queue_for_day(session, desk_day.day, settings.tz, grace_minutes=15)
    # The next patient, by ticket (someone still at the kiosk has none yet).
    ticketed = [r for r in line if r.ticket]
    assert ticketed and ticketed[0].ticket in text
    with Session(app_db) as session:
        names = session.scalars(select(Patient.legal_family_name)).all()
    assert not any(name in text for name in names)
    assert not at.text_input  # no sign-in form, nothing else reachable
    # The lobby code for phones that checked in ahead: a picture with its words, no name.
    [figure] = [e.proto.body for e in at.main if e.type == "html"
                and "lobby-code" in e.proto.body]
    assert f'alt="{t("display.lobby_code_alt")}"' in figure
    assert t("display.lobby_code") in figure and "data:image/png;base64," in figure


def test_pages_refuse_a_signed_out_visitor(app_db, desk_day) -> None:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    at.switch_page("screens/flags.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown) + " ".join(e.value for e in at.error)
    assert "Parker" not in text
    assert at.title[0].value == "Sign in"


def test_patient_page_shows_the_record_and_checks_in_at_the_desk(app_db, desk_day) -> None:
    at = _open(_signed_in(), "patient")
    at.text_input(key="patient_search").input("Parker").run()
    assert not at.exception
    assert any("Parker" in h.value for h in at.header)
    # A visit of its own, due in ten minutes: whatever the hour, it is today's and booked.
    with session_scope(app_db) as session:
        walk_up = make_appointment(
            session, start=due_soon(utcnow(), get_settings().tz),
            patient=make_patient(session, mrn="DESK-0001", legal_given_name="Odalys",
                                 legal_family_name="Ferreira"))
        walk_up_id = walk_up.id
    at.text_input(key="patient_search").input("DESK-0001").run()
    at.button(key=f"desk_checkin_{walk_up_id}").click().run()
    assert not at.exception
    with Session(app_db) as session:
        status = session.get(Appointment, walk_up_id).status
    assert status in (AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)


def test_new_slip_revokes_the_old_code(app_db, desk_day) -> None:
    at = _open(_signed_in(), "patient")
    at.text_input(key="patient_search").input("DEMO-0001").run()
    at.button(key=f"slip_{desk_day.appointment_id}").click().run()
    assert not at.exception
    at.button(key=f"slip_{desk_day.appointment_id}").click().run()
    with Session(app_db) as session:
        from shared.models import CheckInToken

        rows = session.scalars(select(CheckInToken).where(
            CheckInToken.appointment_id == desk_day.appointment_id)).all()
    assert len(rows) == 2
    assert sum(r.revoked_at is None for r in rows) == 1


def test_a_missing_consent_is_resolved_with_a_note(app_db, desk_day) -> None:
    from shared.models import FlagSeverity

    with session_scope(app_db) as session:
        flag = flags.raise_flag(session, kind=FlagKind.CONSENT_MISSING,
                                severity=FlagSeverity.WARNING, now=utcnow(),
                                appointment_id=desk_day.appointment_id,
                                patient_id=session.get(Appointment,
                                                       desk_day.appointment_id).patient_id)
        flag_id = flag.id
    at = _open(_signed_in(), "flags")
    at.text_input(key=f"flag_{flag_id}_note").input("Signed on paper at the desk")
    at.button(key=f"flag_{flag_id}_accept").click().run()
    assert not at.exception
    with Session(app_db) as session:
        resolved = session.get(Flag, flag_id)
    assert resolved.status == FlagStatus.ACCEPTED
    assert resolved.resolution_note == "Signed on paper at the desk"
    assert resolved.resolved_by_id is not None


# --- pages whose cost follows what they show (issue 13) -------------------------------------


# A weekday morning, whatever hour the suite runs at: the board's window is in hours.
MORNING = datetime(2026, 6, 16, 10, 0, tzinfo=ZoneInfo("America/Chicago"))


def _dataframe_with(at: AppTest, column: str, needle: str):
    return next(d.value for d in at.dataframe
                if column in d.value.columns and d.value[column].str.contains(needle).any())


def test_late_patients_are_one_table_and_one_no_show_action(app_db) -> None:
    with time_machine.travel(MORNING, tick=True):
        now = utcnow()
        with session_scope(app_db) as session:
            demo.seed_demo(session, tz=get_settings().tz, now=now)
            late = [make_appointment(
                session, start=now - timedelta(minutes=30 + n),
                patient=make_patient(session, legal_family_name=f"Latecomer{n:02d}")).id
                for n in range(12)]
        at = _open(_signed_in(), "queue")
        table = _dataframe_with(at, "Patient", "Latecomer")
        assert sum(table["Patient"].str.contains("Latecomer")) == 12
        assert not [b for b in at.button if (b.key or "").startswith("noshow_")]
        at.selectbox(key="noshow_selected").set_value(late[3]).run()
        at.button(key=f"noshow_{late[3]}").click().run()
        assert not at.exception
        # Asked first, naming the patient; "No" changes nothing.
        [asked] = at.warning
        assert asked.value.startswith("Mark Rosalind Latecomer03 (") and asked.value.endswith(
            "AM) as a no-show?")
        at.button(key=f"noshow_{late[3]}_keep").click().run()
        assert not at.warning
        at.button(key=f"noshow_{late[3]}").click().run()
        at.button(key=f"noshow_{late[3]}_yes").click().run()
        assert not at.exception
        assert [m.value for m in at.success] == ["Rosalind Latecomer03 marked as a no-show."]
    with Session(app_db) as session:
        statuses = dict(session.execute(
            select(Appointment.id, Appointment.status).where(Appointment.id.in_(late))).all())
    assert statuses.pop(late[3]) == AppointmentStatus.NOSHOW
    assert set(statuses.values()) == {AppointmentStatus.BOOKED}


def test_the_board_shows_the_hours_around_now_and_everyone_here_unless_asked(app_db) -> None:
    tz = get_settings().tz
    with time_machine.travel(MORNING, tick=True):
        now = utcnow()
        with session_scope(app_db) as session:
            demo.seed_demo(session, tz=tz, now=now)
            make_appointment(session, start=now + timedelta(hours=5),
                             patient=make_patient(session, legal_family_name="Faraway"))
            early = make_appointment(session, start=now - timedelta(hours=3),
                                     patient=make_patient(session,
                                                          legal_family_name="Stillhere"))
            early.status = AppointmentStatus.CHECKED_IN
            early.arrived_at = now - timedelta(hours=3)
        at = _signed_in()
        names = " ".join(_dataframe_with(at, "Patient", "Stillhere")["Patient"])
        assert "Faraway" not in names
        assert any("8:00 AM to 2:00 PM and everyone who is here" in c.value for c in at.caption)
        at.checkbox(key="filter_whole_day").check().run()
        names = " ".join(_dataframe_with(at, "Patient", "Stillhere")["Patient"])
        assert "Faraway" in names


@pytest.mark.parametrize(("screen", "service"), [
    ("arrivals", "appointments_for_day"), ("queue", "queue_for_day")])
def test_a_database_blink_on_a_live_board_is_a_calm_line_and_the_next_refresh_works(
    app_db, desk_day, monkeypatch: pytest.MonkeyPatch, screen: str, service: str
) -> None:
    module = board
    at = _open(_signed_in(), screen)
    real = getattr(module, service)

    def blink(*args: object, **kwargs: object) -> object:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(module, service, blink)
    at.run()
    assert not at.exception
    assert any("did not answer just now" in w.value for w in at.warning)
    monkeypatch.setattr(module, service, real)
    at.run()
    assert not any("did not answer just now" in w.value for w in at.warning)
    assert at.dataframe


def test_the_board_and_the_flags_page_say_where_a_patient_left_the_kiosk(app_db) -> None:
    tz = get_settings().tz
    with time_machine.travel(MORNING, tick=True):
        now = utcnow()
        with session_scope(app_db) as session:
            demo.seed_demo(session, tz=tz, now=now)
            walked = make_appointment(session, start=now + timedelta(minutes=20),
                                      patient=make_patient(session, legal_family_name="Wanderer"))
            started = checkin.begin(session, walked.id, channel=Channel.KIOSK, now=now, tz=tz,
                                    rules=clinic_settings.load(session), kiosk_id="lobby-3")
            checkin.abandon(session, started.id, now, step="consent", kiosk_id="lobby-3")
        at = _signed_in()
        row = _dataframe_with(at, "Patient", "Wanderer")
        status = row[row["Patient"].str.contains("Wanderer")]["Status"].iloc[0]
        assert status == "Booked · left the kiosk at consent"
        at = _open(at, "flags")
        assert not at.exception
        assert any(m.value == "left the kiosk at consent" for m in at.markdown)


def test_new_marks_an_arrival_for_a_minute_not_one_refresh(app_db) -> None:
    tz = get_settings().tz
    with time_machine.travel(MORNING, tick=False) as clock:
        now = utcnow()
        with session_scope(app_db) as session:
            demo.seed_demo(session, tz=tz, now=now)
            fresh = make_appointment(session, start=now + timedelta(minutes=20),
                                     patient=make_patient(session, legal_family_name="Newcomer"))
        at = _signed_in()

        def newcomer() -> str:
            row = _dataframe_with(at, "Patient", "Newcomer")
            return row[row["Patient"].str.contains("Newcomer")]["Patient"].iloc[0]

        assert not newcomer().startswith("NEW")
        with session_scope(app_db) as session:
            checkin.begin(session, fresh.id, channel=Channel.KIOSK, now=utcnow(), tz=tz,
                          rules=clinic_settings.load(session), kiosk_id="kiosk-1")
        clock.shift(timedelta(seconds=5))
        at.run()
        assert newcomer().startswith("NEW · ")
        clock.shift(timedelta(seconds=40))
        at.run()
        assert newcomer().startswith("NEW · "), "still new after three refreshes"
        clock.shift(timedelta(seconds=30))
        at.run()
        assert not newcomer().startswith("NEW")


def test_early_arrival_notes_stay_out_of_the_review_list_unless_asked(app_db) -> None:
    tz = get_settings().tz
    with time_machine.travel(MORNING, tick=True):
        now = utcnow()
        with session_scope(app_db) as session:
            demo.seed_demo(session, tz=tz, now=now)
            early = make_appointment(session, start=now + timedelta(minutes=25),
                                     patient=make_patient(session, legal_family_name="Earlybird"))
            flags.raise_flag(session, kind=FlagKind.EARLY_ARRIVAL, severity=FlagSeverity.INFO,
                             now=now, patient_id=early.patient_id, appointment_id=early.id,
                             kiosk_id="kiosk-1")
        at = _open(_signed_in(), "flags")
        titles = [h.value for h in at.subheader]
        assert not any("Earlybird" in title for title in titles), titles
        toggle = at.toggle(key="flags_notes")
        assert toggle.label.startswith("Show notes too (")
        toggle.set_value(True).run()
        assert not at.exception
        assert any("Earlybird" in h.value for h in at.subheader)
        assert any("Early arrival" in m.value for m in at.markdown)


def test_a_clinic_that_asks_for_it_hears_a_chime_once_per_new_alert(app_db, desk_day) -> None:
    def chimes(at: AppTest) -> list[str]:
        return [h.proto.body for h in at.get("html") if "AudioContext" in h.proto.body]

    at = _signed_in()
    assert chimes(at) == []  # off by default: a quiet desk
    with session_scope(app_db) as session:
        clinic_settings.update(session, {"alert_sound": True}, staff_user_id=None)
    clinic_settings.forget_cached()
    at.run()
    [chime] = chimes(at)
    assert json.dumps("Needs help · lobby-2") in chime
    assert desk_day.patient_family_name not in chime  # a notification never names anyone
    at.run()
    assert chimes(at) == [], "the same alert rang again"


def test_the_lobby_code_on_the_waiting_room_screen_reads_back_as_the_current_code() -> None:
    from dashboard.screens.display import _lobby_qr

    now = utcnow()
    secret = "a clinic's secret key"
    code = precheck.lobby_code(secret, now)
    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(_lobby_qr(code))))
    assert read.text == code
    assert precheck.lobby_code_valid(read.text, secret, now)


def test_a_changed_carried_over_answer_reads_as_the_question_and_both_answers(
        app_db, desk_day) -> None:
    with session_scope(app_db) as session:
        question = session.scalars(select(KioskQuestion).order_by(KioskQuestion.position)
                                   ).first()
        text = question.published_version.text_en
        flags.raise_flag(session, kind=FlagKind.ANSWER_CHANGE, severity=FlagSeverity.INFO,
                         now=utcnow(), appointment_id=desk_day.appointment_id,
                         patient_id=session.get(Appointment, desk_day.appointment_id).patient_id,
                         kiosk_id="home",
                         old_value={"question": question.key, "answer": False},
                         new_value={"question": question.key, "answer": True})
    at = _open(_signed_in(), "flags")
    shown = [m.value for m in at.markdown]
    # Shown as text (the question's "?" kept from Markdown), then both answers in words.
    assert f'{plain(text)}: was "No", now "Yes"' in shown, shown
