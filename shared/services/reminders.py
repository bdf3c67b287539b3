"""Printed QR reminders: one PDF page per appointment, for one visit or a whole clinic day.

Each page says, in the patient's language, when and where the visit is and with whom, and
carries a QR code that holds only the check-in link (the token, nothing about the patient).
Printing a reminder issues a new code, so any code printed or sent earlier stops working.

The page is set in a Unicode TrueType font when the machine has one (DejaVu Sans or
Liberation Sans: slips.FONT_CANDIDATES); otherwise in the PDF core font Helvetica, which knows
only Latin-1: Spanish accents are in Latin-1, and anything else is written with its closest
Latin-1 letters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Literal
from zoneinfo import ZoneInfo

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.clinic_time import day_bounds
from shared.errors import DomainError
from shared.i18n import t
from shared.models import Appointment, AppointmentStatus
from shared.services import audit, clinic_settings, tokens
from shared.services.slips import (
    SlipContent,
    find_fonts,
    qr_image,
    render_slip,
    slip_content,
    when_line,
)

CORE_FONT = "Helvetica"

# US Letter, in millimetres.
PAGE_FORMAT = "Letter"
MARGIN = 20.0
QR_SIZE = 80.0
QR_MIN_SIZE = 50.0
BLUE = (11, 92, 173)
GREY = (55, 65, 81)
LIGHT_GREY = (107, 114, 128)

# A visit still to come: the only ones a day's reminders are printed for.
REMINDABLE = frozenset({AppointmentStatus.BOOKED})

# Characters outside Latin-1 that the core font cannot print, and what to print instead.
_LATIN1_SUBSTITUTES = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u2022": "\u00b7", "\u2026": "...", "\u2192": "->", "\u0141": "L", "\u0142": "l",
    "\u0152": "OE", "\u0153": "oe", "\u20ac": "EUR",
}


class ReminderRefused(DomainError):
    """No reminder can be printed for what was asked; `key` says why."""

    key = "reminders.error_not_found"


@dataclass(frozen=True)
class Reminder:
    """One appointment's reminder: its new code, the link form and what the page says."""

    appointment_id: int
    token: str
    link: str
    content: SlipContent
    reference: str

    def qr_png(self) -> bytes:
        """The QR code alone as PNG: it holds the link and nothing else."""
        out = BytesIO()
        qr_image(self.link).save(out, format="PNG")
        return out.getvalue()

    def slip_png(self, tz: ZoneInfo) -> bytes:
        """The same reminder as the PNG slip the desk prints one at a time."""
        return render_slip(self.content, tz)


@dataclass(frozen=True)
class ReminderBatch:
    reminders: list[Reminder]
    pdf: bytes

    @property
    def count(self) -> int:
        return len(self.reminders)


# --- Which appointments ------------------------------------------------------------------


def _with_details(statement):  # type: ignore[no-untyped-def]
    return statement.options(selectinload(Appointment.patient),
                             selectinload(Appointment.provider),
                             selectinload(Appointment.location))


def appointments_on(session: Session, day: date, tz: ZoneInfo) -> list[Appointment]:
    """Every appointment of the clinic day, in time order."""
    start, end = day_bounds(day, tz)
    return list(session.scalars(
        _with_details(select(Appointment))
        .where(Appointment.start >= start, Appointment.start < end)
        .order_by(Appointment.start, Appointment.id)
    ))


def _refuse_if_over(day: date, tz: ZoneInfo, now: datetime) -> None:
    """A code expires at the end of its appointment's day: one printed later never works."""
    if day_bounds(day, tz)[1] <= now:
        raise ReminderRefused(f"{day} is over", key="reminders.error_day_over",
                              day=day.isoformat())


def remindable_on(session: Session, day: date, tz: ZoneInfo, now: datetime
                  ) -> list[Appointment]:
    """The day's appointments still booked; ReminderRefused when there are none, or when
    the day is over."""
    every = appointments_on(session, day, tz)
    if not every:
        raise ReminderRefused(f"no appointments on {day}", key="reminders.error_no_appointments",
                              day=day.isoformat())
    booked = [a for a in every if a.status in REMINDABLE]
    if not booked:
        raise ReminderRefused(f"no booked appointment on {day}",
                              key="reminders.error_none_booked", day=day.isoformat())
    _refuse_if_over(day, tz, now)
    return booked


def remindable_appointment(session: Session, appointment_id: int, tz: ZoneInfo, now: datetime
                           ) -> Appointment:
    """One appointment by id, unless unknown, cancelled, or on a day that is over."""
    appointment = session.scalar(
        _with_details(select(Appointment)).where(Appointment.id == appointment_id)
    )
    if appointment is None:
        raise ReminderRefused(f"no appointment with id {appointment_id}",
                              key="reminders.error_not_found", id=appointment_id)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise ReminderRefused(f"appointment {appointment_id} is cancelled",
                              key="reminders.error_cancelled", id=appointment_id)
    _refuse_if_over(appointment.start.astimezone(tz).date(), tz, now)
    return appointment


# --- Issuing -----------------------------------------------------------------------------


def reference(appointment: Appointment) -> str:
    """How the desk and the patient name the appointment: its scheduling number, else its id."""
    return appointment.external_id or str(appointment.id)


def issue_reminders(
    session: Session,
    appointments: Sequence[Appointment],
    *,
    secret_key: str,
    tz: ZoneInfo,
    kiosk_url: str,
    now: datetime,
    actor_type: str,
    actor_id: str | int | None = None,
) -> ReminderBatch:
    """A new code for each appointment (earlier ones stop working) and the PDF, one page each."""
    if not appointments:
        raise ValueError("no appointments to remind")
    clinic_name = clinic_settings.load(session).clinic_name
    reminders = []
    for appointment in appointments:
        issued = tokens.issue_token(session, appointment, secret_key=secret_key, tz=tz, now=now,
                                    actor_type=actor_type, actor_id=actor_id)
        link = tokens.checkin_link(kiosk_url, issued.token)
        reminders.append(Reminder(
            appointment_id=appointment.id,
            token=issued.token,
            link=link,
            content=slip_content(session, appointment, link, clinic_name=clinic_name),
            reference=reference(appointment),
        ))
    audit.record(session, actor_type=actor_type, actor_id=actor_id, action="reminders.printed",
                 record_type="appointment",
                 record_id=appointments[0].id if len(appointments) == 1 else None,
                 detail={"count": len(reminders)}, at=now)
    return ReminderBatch(reminders=reminders, pdf=render_pdf(reminders, tz, created=now))


def reminders_for_day(
    session: Session, day: date, *, secret_key: str, tz: ZoneInfo, kiosk_url: str,
    now: datetime, actor_type: str, actor_id: str | int | None = None,
) -> ReminderBatch:
    return issue_reminders(session, remindable_on(session, day, tz, now), secret_key=secret_key,
                           tz=tz, kiosk_url=kiosk_url, now=now, actor_type=actor_type,
                           actor_id=actor_id)


def reminder_for_appointment(
    session: Session, appointment_id: int, *, secret_key: str, tz: ZoneInfo, kiosk_url: str,
    now: datetime, actor_type: str, actor_id: str | int | None = None,
) -> ReminderBatch:
    return issue_reminders(session, [remindable_appointment(session, appointment_id, tz, now)],
                           secret_key=secret_key, tz=tz, kiosk_url=kiosk_url, now=now,
                           actor_type=actor_type, actor_id=actor_id)


# --- The PDF -----------------------------------------------------------------------------


def to_latin1(text: str) -> str:
    """`text` in characters the PDF core fonts can print: accents kept, the rest spelled
    with the nearest Latin-1 letters ('ł' becomes 'l', '“' a plain quote)."""
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
        elif char in _LATIN1_SUBSTITUTES:
            out.append(_LATIN1_SUBSTITUTES[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 256)
            out.append(base or "?")
    return "".join(out)


class _Writer:
    """The PDF and its font: Unicode when available, else Helvetica with Latin-1 text."""

    def __init__(self, fonts: tuple[str, str] | None, created: datetime | None) -> None:
        pdf = FPDF(orientation="P", unit="mm", format=PAGE_FORMAT)
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        if fonts is not None:
            pdf.add_font("Body", "", fonts[0])
            pdf.add_font("Body", "B", fonts[1])
            self.family = "Body"
        else:
            self.family = CORE_FONT
        self.unicode = fonts is not None
        pdf.set_title("Appointment reminders")
        pdf.set_creator("Patient check-in")
        if created is not None:
            pdf.set_creation_date(created)
        self.pdf = pdf

    def text(self, text: str) -> str:
        return text if self.unicode else to_latin1(text)

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = (0, 0, 0)
             ) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def para(self, text: str, size: float, *, bold: bool = False,
             color: tuple[int, int, int] = (0, 0, 0), gap: float = 0.0,
             align: str = "L") -> None:
        self.font(size, bold, color)
        self.pdf.multi_cell(0, size * 0.5, self.text(text), align=align, new_x="LMARGIN",
                            new_y="NEXT")
        self.pdf.ln(gap)

    def height_of(self, text: str, size: float) -> float:
        self.font(size)
        lines = self.pdf.multi_cell(0, size * 0.5, self.text(text), dry_run=True,
                                    output="LINES")
        return len(lines) * size * 0.5


def _page(w: _Writer, reminder: Reminder, tz: ZoneInfo) -> None:
    pdf = w.pdf
    content = reminder.content
    lang = content.language
    pdf.add_page()
    w.para(content.clinic_name, 14, bold=True, color=BLUE, gap=2)
    w.para(t("slip.title", lang), 24, bold=True, gap=3)
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(5)
    w.para(when_line(content.start, tz, lang), 18, bold=True, gap=2)
    w.para(t("slip.with", lang, provider=content.provider), 14, gap=2)
    w.para(t("slip.where", lang, location=content.location), 14, bold=True, gap=1)

    # Keep everything on one page: long directions get a smaller type, then a smaller code.
    footer_top = pdf.h - MARGIN - 6
    after_qr = (w.height_of(t("slip.how", lang), 13) + w.height_of(t("slip.private", lang), 11)
                + 14)
    size = 12.0
    while size > 8 and pdf.get_y() + w.height_of(content.directions, size) + 8 + QR_MIN_SIZE \
            + after_qr > footer_top:
        size -= 1
    if content.directions.strip():
        w.para(content.directions, size, color=GREY, gap=4)
    qr_size = max(QR_MIN_SIZE, min(QR_SIZE, footer_top - after_qr - pdf.get_y()))
    code = qr_image(content.link).convert("L")
    pdf.image(code, x=(pdf.w - qr_size) / 2, y=pdf.get_y(), w=qr_size, h=qr_size)
    pdf.set_y(pdf.get_y() + qr_size + 4)
    w.para(t("slip.how", lang), 13, bold=True, gap=3, align="C")
    w.para(t("slip.private", lang), 11, color=GREY, align="C")
    pdf.set_y(footer_top)
    w.para(t("reminders.reference", lang, ref=reminder.reference), 9, color=LIGHT_GREY)


def render_pdf(
    reminders: Sequence[Reminder],
    tz: ZoneInfo,
    *,
    created: datetime | None = None,
    fonts: tuple[str, str] | Literal["find"] | None = "find",
) -> bytes:
    """The reminders as one PDF, a page each. `fonts`: "find" looks for a Unicode font
    (falling back to Helvetica), None forces Helvetica, or a (regular, bold) pair of TTFs."""
    if not reminders:
        raise ValueError("a reminders PDF needs at least one reminder")
    writer = _Writer(find_fonts() if fonts == "find" else fonts, created)
    for reminder in reminders:
        _page(writer, reminder, tz)
    return bytes(writer.pdf.output())
