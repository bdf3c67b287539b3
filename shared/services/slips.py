"""QR reminder slips: a PNG with the appointment's time and place and a code that holds
only the check-in token (as a link, so a phone can open it too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import qrcode
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from shared.i18n import t
from shared.models import Appointment, Language
from shared.services import clinic_settings, tokens

WIDTH, HEIGHT = 800, 1100
MARGIN = 60


@dataclass(frozen=True)
class SlipContent:
    clinic_name: str
    start: datetime
    provider: str
    location: str
    directions: str
    link: str
    language: str = "en"


def format_date(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y}"


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def qr_image(data: str, box_size: int = 10) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size,
                         border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=font) <= width:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def render_slip(content: SlipContent, tz: ZoneInfo) -> bytes:
    """The slip as PNG bytes."""
    lang = content.language
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    big = ImageFont.load_default(size=44)
    mid = ImageFont.load_default(size=30)
    small = ImageFont.load_default(size=24)
    text_width = WIDTH - 2 * MARGIN
    y = MARGIN
    draw.text((MARGIN, y), content.clinic_name, font=mid, fill="#0B5CAD")
    y += 50
    draw.text((MARGIN, y), t("slip.title", lang), font=big, fill="black")
    y += 70
    for line in (
        t("slip.when", lang, date=format_date(content.start, tz),
          time=format_time(content.start, tz)),
        t("slip.with", lang, provider=content.provider),
        t("slip.where", lang, location=content.location),
    ):
        for wrapped in _wrap(draw, line, mid, text_width):
            draw.text((MARGIN, y), wrapped, font=mid, fill="black")
            y += 40
    for wrapped in _wrap(draw, content.directions, small, text_width):
        draw.text((MARGIN, y), wrapped, font=small, fill="#374151")
        y += 32
    y += 10
    code = qr_image(content.link).resize((440, 440), Image.Resampling.NEAREST)
    img.paste(code, ((WIDTH - code.width) // 2, y))
    y += code.height + 20
    for text, font in ((t("slip.how", lang), small), (t("slip.private", lang), small)):
        for wrapped in _wrap(draw, text, font, text_width):
            draw.text((MARGIN, y), wrapped, font=font, fill="black")
            y += 32
        y += 8
    out = BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class IssuedSlip:
    token: str
    link: str
    png: bytes


def issue_slip(
    session: Session,
    appointment: Appointment,
    *,
    secret_key: str,
    tz: ZoneInfo,
    kiosk_url: str,
    now: datetime,
    actor_type: str,
    actor_id: str | int | None = None,
) -> IssuedSlip:
    """A new code for the appointment (the old one stops working) and its printable slip,
    in the patient's language."""
    issued = tokens.issue_token(session, appointment, secret_key=secret_key, tz=tz, now=now,
                                actor_type=actor_type, actor_id=actor_id)
    link = tokens.checkin_link(kiosk_url, issued.token)
    language = appointment.patient.preferred_language
    location = appointment.location
    content = SlipContent(
        clinic_name=clinic_settings.load(session).clinic_name,
        start=appointment.start,
        provider=appointment.provider.display_name,
        location=location.label,
        directions=location.directions_es if language == Language.ES else location.directions_en,
        link=link,
        language=language.value,
    )
    return IssuedSlip(token=issued.token, link=link, png=render_slip(content, tz))
