"""Printed QR reminders: a page per appointment, a code that holds only the token, the old
code revoked, the patient's language, and clear refusals."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from io import BytesIO
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import demo
from shared.clinic_time import at_clinic_time
from shared.errors import TokenInvalid
from shared.models import Appointment, AppointmentStatus, CheckInToken, Language, utcnow
from shared.services import reminders, tokens
from shared.services.reminders import ReminderRefused
from shared.services.slips import when_line
from tests.factories import DEFAULT_START, make_appointment, make_location, make_patient

TZ = ZoneInfo("America/Chicago")
SECRET = "test-secret-key-that-is-long-enough-0123456789"
KIOSK = "https://kiosk.example.org"
NOW = DEFAULT_START - timedelta(days=1)


def _options(now: datetime = NOW) -> dict[str, object]:
    return {"secret_key": SECRET, "tz": TZ, "kiosk_url": KIOSK, "now": now,
            "actor_type": "staff", "actor_id": 1}


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def decode_qr(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(BytesIO(png)))]


def pdf_images(pdf: bytes) -> list[Image.Image]:
    """The images embedded in the PDF (fpdf2 stores them as PNG-predicted Flate streams):
    rebuilt as PNG files, so the QR printed on the page itself can be decoded."""
    images = []
    pattern = re.compile(rb"<<((?:(?!>>\s*stream).)*?/Subtype /Image.*?)>>\s*stream\r?\n", re.S)
    for match in pattern.finditer(pdf):
        header = match.group(1)
        width = int(re.search(rb"/Width (\d+)", header).group(1))
        height = int(re.search(rb"/Height (\d+)", header).group(1))
        length = int(re.search(rb"/Length (\d+)", header).group(1))
        assert b"/DeviceGray" in header and b"/Predictor 15" in header
        data = pdf[match.end(): match.end() + length]

        def chunk(kind: bytes, body: bytes) -> bytes:
            return (struct.pack(">I", len(body)) + kind + body
                    + struct.pack(">I", zlib.crc32(kind + body)))

        png = (b"\x89PNG\r\n\x1a\n"
               + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
               + chunk(b"IDAT", data) + chunk(b"IEND", b""))
        images.append(Image.open(BytesIO(png)))
    return images


def _assert_only_the_token(link: str, token: str) -> None:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == KIOSK
    assert parse_qs(parts.query) == {tokens.QUERY_PARAM: [token]}
    assert tokens.extract_token(link) == token


# --- One appointment ---------------------------------------------------------------------


def test_the_qr_holds_only_a_live_token_and_the_old_code_stops_working(
    session: Session,
) -> None:
    patient = make_patient(session, legal_given_name="Rosalind",
                           legal_family_name="Okonkwo-Delgado", mrn="MRN-QR-0042")
    appointment = make_appointment(session, patient=patient)
    old = tokens.issue_token(session, appointment, secret_key=SECRET, tz=TZ, now=NOW)

    batch = reminders.reminder_for_appointment(session, appointment.id, **_options())
    session.commit()

    assert batch.pdf.startswith(b"%PDF")
    assert page_count(batch.pdf) == 1 == batch.count
    reminder = batch.reminders[0]
    # The same link in the QR alone, in the PNG slip and on the PDF page.
    pdf_codes = [text for image in pdf_images(batch.pdf) for text in decode_qr(_png(image))]
    assert decode_qr(reminder.qr_png()) == [reminder.link]
    assert decode_qr(reminder.slip_png(TZ)) == [reminder.link]
    assert pdf_codes == [reminder.link]
    _assert_only_the_token(reminder.link, reminder.token)

    text = reminder.link.casefold()
    for private in ("rosalind", "okonkwo", "mrn-qr-0042", "1984", "02-29", "0229"):
        assert private not in text

    live = tokens.find_token(session, reminder.token, secret_key=SECRET, now=NOW)
    assert live.appointment_id == appointment.id
    with pytest.raises(TokenInvalid) as refused:
        tokens.find_token(session, old.token, secret_key=SECRET, now=NOW)
    assert refused.value.key == "error.token_revoked"
    rows = session.scalars(
        select(CheckInToken).where(CheckInToken.appointment_id == appointment.id)
    ).all()
    assert sum(1 for r in rows if r.revoked_at is None) == 1


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_spanish_reader_gets_spanish_words_and_directions(session: Session) -> None:
    location = make_location(session, directions_en="Take the lift to floor 2.",
                             directions_es="Tome el elevador al 2.º piso, sala 210.")
    patient = make_patient(session, preferred_language=Language.ES)
    appointment = make_appointment(session, patient=patient, location=location)

    batch = reminders.reminder_for_appointment(session, appointment.id, **_options())
    content = batch.reminders[0].content

    assert content.language == "es"
    assert content.directions == "Tome el elevador al 2.º piso, sala 210."
    # 10:00 in Chicago on Monday 15 June 2026.
    assert when_line(content.start, TZ, "es") == "Lunes 15 de junio de 2026 a las 10:00\xa0a.m."
    assert when_line(content.start, TZ, "en") == "Monday 15 June 2026 at 10:00\xa0AM"


def test_the_pdf_uses_a_unicode_font_when_the_machine_has_one(session: Session) -> None:
    appointment = make_appointment(session)
    batch = reminders.reminder_for_appointment(session, appointment.id, **_options())
    fonts = reminders.find_fonts()
    if fonts is None:
        pytest.skip("no Unicode TrueType font on this machine: the Helvetica path is tested below")
    assert b"/FontFile2" in batch.pdf  # an embedded TrueType font, not a core one


def test_without_a_unicode_font_helvetica_keeps_spanish_accents(session: Session) -> None:
    location = make_location(session, directions_es="Pase la farmacia — “sala verde” • 2.º piso")
    patient = make_patient(session, preferred_language=Language.ES)
    appointment = make_appointment(session, patient=patient, location=location)
    batch = reminders.reminder_for_appointment(session, appointment.id, **_options())

    pdf = reminders.render_pdf(batch.reminders, TZ, fonts=None)

    assert pdf.startswith(b"%PDF") and page_count(pdf) == 1
    assert b"/Helvetica" in pdf and b"/FontFile2" not in pdf
    assert reminders.to_latin1("¿Cuál? año 2.º — “verde” • Łódź, Dvořák, 漢") == (
        "¿Cuál? año 2.º - \"verde\" · Lódz, Dvorák, ?")


def test_long_directions_still_fit_on_one_page(session: Session) -> None:
    location = make_location(session, directions_en=" ".join(["Walk down the long hall."] * 60))
    appointment = make_appointment(session, location=location)
    batch = reminders.reminder_for_appointment(session, appointment.id, **_options())
    assert page_count(batch.pdf) == 1
    assert [decode_qr(_png(i)) for i in pdf_images(batch.pdf)] == [[batch.reminders[0].link]]


def test_an_unknown_appointment_is_refused_with_a_key(session: Session) -> None:
    with pytest.raises(ReminderRefused) as refused:
        reminders.reminder_for_appointment(session, 987654, **_options())
    assert refused.value.key == "reminders.error_not_found"
    assert refused.value.params == {"id": 987654}


def test_a_cancelled_appointment_gets_no_reminder(session: Session) -> None:
    appointment = make_appointment(session, status=AppointmentStatus.CANCELLED)
    with pytest.raises(ReminderRefused) as refused:
        reminders.reminder_for_appointment(session, appointment.id, **_options())
    assert refused.value.key == "reminders.error_cancelled"
    assert session.scalars(select(CheckInToken)).all() == []


# --- A whole day -------------------------------------------------------------------------


def test_a_demo_day_prints_one_page_per_booked_appointment(session: Session) -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=TZ).astimezone(UTC)  # midday: some are done
    info = demo.seed_demo(session, tz=TZ, now=now)
    every = reminders.appointments_on(session, info.day, TZ)
    booked = [a for a in every if a.status == AppointmentStatus.BOOKED]
    assert 0 < len(booked) < len(every)

    batch = reminders.reminders_for_day(session, info.day, **_options(now))
    session.commit()

    assert batch.pdf.startswith(b"%PDF")
    assert page_count(batch.pdf) == len(booked) == batch.count
    assert [r.appointment_id for r in batch.reminders] == [a.id for a in booked]
    assert len({r.token for r in batch.reminders}) == len(booked)
    spanish = {a.id for a in booked if a.patient.preferred_language == Language.ES}
    assert spanish and {r.appointment_id for r in batch.reminders
                        if r.content.language == "es"} == spanish
    for reminder in batch.reminders[:5]:
        _assert_only_the_token(reminder.link, reminder.token)
        assert decode_qr(reminder.qr_png()) == [reminder.link]
    images = pdf_images(batch.pdf)
    assert len(images) == len(booked)
    assert decode_qr(_png(images[-1])) == [batch.reminders[-1].link]
    for appointment in booked:
        patient = appointment.patient
        for reminder in batch.reminders:
            assert patient.legal_family_name.casefold() not in reminder.link.casefold()
            assert patient.mrn.casefold() not in reminder.link.casefold()


def test_printing_again_revokes_the_first_printing(session: Session) -> None:
    patient = make_patient(session)
    first_visit = make_appointment(session, patient=patient)
    make_appointment(session, patient=patient, start=DEFAULT_START + timedelta(hours=2))
    day = DEFAULT_START.astimezone(TZ).date()
    first = reminders.reminders_for_day(session, day, **_options())
    second = reminders.reminders_for_day(session, day, **_options(NOW + timedelta(minutes=5)))
    assert first.count == second.count == 2
    for old, new in zip(first.reminders, second.reminders, strict=True):
        assert old.appointment_id == new.appointment_id
        with pytest.raises(TokenInvalid):
            tokens.find_token(session, old.token, secret_key=SECRET, now=NOW)
        assert tokens.find_token(session, new.token, secret_key=SECRET, now=NOW)
    assert session.get(Appointment, first_visit.id) is not None


def test_a_day_without_appointments_is_refused(session: Session) -> None:
    with pytest.raises(ReminderRefused) as refused:
        reminders.reminders_for_day(session, DEFAULT_START.date(), **_options())
    assert refused.value.key == "reminders.error_no_appointments"
    assert refused.value.params == {"day": "2026-06-15"}


def test_a_day_that_is_over_is_refused_since_its_codes_would_not_work(
    session: Session,
) -> None:
    appointment = make_appointment(session)
    after = datetime(2026, 6, 16, 0, 0, tzinfo=TZ).astimezone(UTC)
    day = DEFAULT_START.astimezone(TZ).date()
    with pytest.raises(ReminderRefused) as refused:
        reminders.reminders_for_day(session, day, **_options(after))
    assert refused.value.key == "reminders.error_day_over"
    assert refused.value.params == {"day": "2026-06-15"}
    with pytest.raises(ReminderRefused) as refused:
        reminders.reminder_for_appointment(session, appointment.id, **_options(after))
    assert refused.value.key == "reminders.error_day_over"
    assert session.scalars(select(CheckInToken)).all() == []
    # Until midnight in the clinic, the day still counts.
    late = datetime(2026, 6, 15, 23, 59, tzinfo=TZ).astimezone(UTC)
    assert reminders.reminders_for_day(session, day, **_options(late)).count == 1


def test_a_day_with_nobody_left_to_come_is_refused(session: Session) -> None:
    make_appointment(session, status=AppointmentStatus.FULFILLED)
    make_appointment(session, status=AppointmentStatus.CANCELLED)
    with pytest.raises(ReminderRefused) as refused:
        reminders.reminders_for_day(session, DEFAULT_START.astimezone(TZ).date(), **_options())
    assert refused.value.key == "reminders.error_none_booked"


# --- Command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from shared.config import get_settings
    from shared.db import get_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    monkeypatch.setenv("CHECKIN_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TIMEZONE", "America/Chicago")
    monkeypatch.setenv("CHECKIN_KIOSK_URL", KIOSK)
    monkeypatch.delenv("CHECKIN_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield url
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_the_command_line_writes_a_days_reminders(
    cli_env: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared import cli
    from shared.db import make_engine

    assert cli.main(["migrate"]) == 0
    day = (utcnow() + timedelta(days=1)).astimezone(TZ).date()  # codes for a past day expire
    engine = make_engine(cli_env)
    with Session(engine) as session:
        first = make_appointment(session, start=at_clinic_time(day, 9, 0, TZ))
        make_appointment(session, start=at_clinic_time(day, 11, 30, TZ))
        first_id = first.id
        session.commit()
    engine.dispose()
    capsys.readouterr()

    assert cli.main(["reminders", "--day", day.isoformat()]) == 0
    out = tmp_path / "reminders" / f"reminders-{day}.pdf"
    assert page_count(out.read_bytes()) == 2
    assert "2 pages" in capsys.readouterr().out

    target = tmp_path / "one.pdf"
    assert cli.main(["reminders", "--appointment", str(first_id), "--out", str(target)]) == 0
    printed = capsys.readouterr().out
    link = next(line for line in printed.splitlines() if line.startswith("Link: "))[6:]
    assert [decode_qr(_png(i)) for i in pdf_images(target.read_bytes())] == [[link]]

    assert cli.main(["reminders", "--appointment", "4242"]) == 1
    err = capsys.readouterr().err
    assert err == "Error: no appointment with id 4242\n"
    empty = day + timedelta(days=7)
    assert cli.main(["reminders", "--day", empty.isoformat()]) == 1
    assert f"no appointments on {empty}" in capsys.readouterr().err


def test_the_png_slip_keeps_its_size_and_grows_for_long_directions(session: Session) -> None:
    from dataclasses import replace

    from shared.services.slips import HEIGHT, render_slip

    appointment = make_appointment(session)
    reminder = reminders.reminder_for_appointment(session, appointment.id,
                                                  **_options()).reminders[0]
    assert Image.open(BytesIO(reminder.slip_png(TZ))).height == HEIGHT
    long = replace(reminder.content, directions=" ".join(["Walk down the long hall."] * 40))
    png = render_slip(long, TZ)
    assert Image.open(BytesIO(png)).height > HEIGHT
    assert decode_qr(png) == [reminder.link]
