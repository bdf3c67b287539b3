"""QR reminder slips: a PNG with the appointment's time and place and a code that holds
only the check-in token (as a link, so a phone can open it too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import qrcode
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from shared.i18n import format_time as format_time_in
from shared.i18n import t
from shared.models import Appointment, Language
from shared.services import clinic_settings, tokens

WIDTH, HEIGHT = 800, 1100
MARGIN = 60

# Unicode TrueType faces (regular, bold), first found wins: Debian/Ubuntu, Fedora, Arch, then
# Liberation. Pillow's built-in font has no accented letters ("código" would print a box).
FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
     "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)


def find_fonts() -> tuple[str, str] | None:
    """A Unicode regular and bold TrueType font on this machine, or None."""
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


def slip_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font for the PNG slip: a Unicode TrueType one when installed, else Pillow's own."""
    fonts = find_fonts()
    return ImageFont.truetype(fonts[0], size) if fonts else ImageFont.load_default(size=size)


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


def format_date_in(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """The date in words in `language`: 'Monday 15 June 2026', 'lunes 15 de junio de 2026'."""
    local = moment.astimezone(tz)
    return t("slip.date", language, weekday=t(f"slip.weekday_{local.weekday()}", language),
             day=local.day, month=t(f"slip.month_{local.month}", language), year=local.year)


def when_line(start: datetime, tz: ZoneInfo, language: str) -> str:
    """'Monday 15 June 2026 at 10:00 AM', 'Lunes 15 de junio de 2026 a las 10:00 a.m.', in
    `language`, starting with a capital. The time is kept on one line with a plain no-break
    space, which every printing font has (CLDR's narrow one is missing from some)."""
    time = format_time_in(start, language, tz).replace("\u202f", "\u00a0")
    text = t("slip.when", language, date=format_date_in(start, tz, language), time=time)
    return text[:1].upper() + text[1:]


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
    # Drawn on a tall sheet, then cut to HEIGHT, or longer when long directions need it.
    img = Image.new("RGB", (WIDTH, HEIGHT * 2), "white")
    draw = ImageDraw.Draw(img)
    big, mid, small = slip_font(44), slip_font(30), slip_font(24)
    text_width = WIDTH - 2 * MARGIN
    y = MARGIN
    draw.text((MARGIN, y), content.clinic_name, font=mid, fill="#0B5CAD")
    y += 50
    for wrapped in _wrap(draw, t("slip.title", lang), big, text_width):
        draw.text((MARGIN, y), wrapped, font=big, fill="black")
        y += 54
    y += 16
    for line in (
        when_line(content.start, tz, lang),
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
    img = img.crop((0, 0, WIDTH, min(max(HEIGHT, y + MARGIN), HEIGHT * 2)))
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
    content = slip_content(session, appointment, link)
    return IssuedSlip(token=issued.token, link=link, png=render_slip(content, tz))


def slip_content(
    session: Session, appointment: Appointment, link: str, *, clinic_name: str | None = None
) -> SlipContent:
    """What a slip or a printed reminder says for `appointment`, in the patient's language."""
    language = appointment.patient.preferred_language
    location = appointment.location
    return SlipContent(
        clinic_name=clinic_name or clinic_settings.load(session).clinic_name,
        start=appointment.start,
        provider=appointment.provider.display_name,
        location=location.label,
        directions=location.directions_es if language == Language.ES else location.directions_en,
        link=link,
        language=language.value,
    )
