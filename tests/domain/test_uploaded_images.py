"""Images handed in at the kiosk: card photos and drawn signatures.

A photo too big to decode safely (a few KB of PNG that would decode to gigabytes) is refused
with the kiosk's photo message before any pixel is decoded, and nothing is stored. A card
photo is kept as a JPEG of at most 1600 px, upright, without EXIF; the desk sees thumbnails.
A signature is kept exactly as drawn, unless it is not a PNG or is far larger than the pad.
"""

from __future__ import annotations

import struct
import tempfile
import threading
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from shared.models import Appointment, ConsentSignature, Document, Flag, SignerRelationship
from shared.services import images, insurance
from shared.services.consent import SignatureRefused, sign
from shared.services.insurance import (
    InsuranceInvalid,
    card_photo,
    document_thumbnail,
    report_new_coverage,
)
from tests.factories import (
    DEFAULT_START,
    image_bytes,
    make_appointment,
    make_consent_form,
    make_document,
    make_patient,
)

# Hypothesis keeps caches; outside the work tree, which `make test` leaves clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "checkin-hypothesis")

NOW = DEFAULT_START
KIOSK = "kiosk-1"
RED, BLUE = (220, 20, 20), (20, 20, 220)
ORIENTATION, MAKE, MODEL = 0x0112, 0x010F, 0x0110


@cache
def png_bomb(width: int, height: int) -> bytes:
    """A real, valid black-and-white PNG of width x height that is only a few KB on disk:
    Pillow would decode it to one byte a pixel (144 MB for 12000x12000)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def sideways_phone_photo(width: int = 2400, height: int = 1800) -> bytes:
    """A landscape JPEG that the camera stored sideways: EXIF orientation 6 says "turn it a
    quarter clockwise". The left half is red, so upright the top is red. The camera also
    wrote its make and model."""
    img = Image.new("RGB", (width, height), BLUE)
    img.paste(RED, (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "PhoneCo"
    exif[MODEL] = "Pocket 12"
    out = BytesIO()
    img.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def damaged_png() -> bytes:
    """A PNG whose header and checksums are right but whose pixel data is not zlib."""
    good = image_bytes("PNG", (64, 64))
    start = good.index(b"IDAT")
    length = struct.unpack(">I", good[start - 4:start])[0]
    junk = bytes((i * 37 + 11) % 256 for i in range(length))
    crc = struct.pack(">I", zlib.crc32(b"IDAT" + junk) & 0xFFFFFFFF)
    return good[:start + 4] + junk + crc + good[start + 8 + length:]


def decoded(data: bytes) -> Image.Image:
    img = Image.open(BytesIO(data))
    img.load()
    return img


def new_coverage(session: Session, appointment: Appointment, *, card_front: bytes | None,
                 card_back: bytes | None = None) -> Flag:
    return report_new_coverage(
        session, appointment.patient, payer="Lakeshore Mutual", member_id="LKM-20931177",
        group_id="", card_front=card_front, card_back=card_back,
        appointment_id=appointment.id, now=NOW, kiosk_id=KIOSK,
    )


def nothing_stored(session: Session) -> bool:
    return (session.scalars(select(Document)).all() == []
            and session.scalars(select(Flag)).all() == [])


# --- photos too big to decode ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (12000, 12000),  # 144 MP: Pillow only warns, and the desk's page grew by 570 MB
        (20000, 20000),  # 400 MP: Pillow raised DecompressionBombError at the kiosk
        (9000, 7000),  # 63 MP: under Pillow's own limits, over ours
        (20000, 100),  # few pixels, but a side no camera makes
    ],
    ids=["12000-square", "20000-square", "63-megapixel", "long-strip"],
)
def test_a_photo_too_big_to_decode_is_refused_with_the_photo_message_and_nothing_is_kept(
    session: Session, width: int, height: int
) -> None:
    appointment = make_appointment(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, card_front=png_bomb(width, height))

    assert refused.value.key == "insurance.error_photo"
    assert nothing_stored(session)


def test_a_good_front_is_not_kept_when_the_back_is_refused(session: Session) -> None:
    appointment = make_appointment(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, card_front=sideways_phone_photo(),
                     card_back=png_bomb(12000, 12000))

    assert refused.value.key == "insurance.error_photo"
    assert nothing_stored(session)


def test_the_size_is_checked_before_any_pixel_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decodes: list[str] = []
    load = Image.Image.load

    def counting_load(self: Image.Image):  # type: ignore[no-untyped-def]
        decodes.append(self.format or "")
        return load(self)

    monkeypatch.setattr(Image.Image, "load", counting_load)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", counting_load)

    with pytest.raises(InsuranceInvalid):
        card_photo(png_bomb(9000, 7000))

    assert decodes == []


@pytest.mark.parametrize(
    "photo",
    [damaged_png(), b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"%PDF-1.7\n" + b"x" * 500,
     image_bytes("BMP"), image_bytes("TIFF")],
    ids=["damaged-pixels", "svg", "pdf", "bmp", "tiff"],
)
def test_a_file_that_is_not_a_usable_photo_is_refused(session: Session, photo: bytes) -> None:
    appointment = make_appointment(session)

    with pytest.raises(InsuranceInvalid) as refused:
        new_coverage(session, appointment, card_front=photo)

    assert refused.value.key == "insurance.error_photo"
    assert nothing_stored(session)


# --- what is kept ----------------------------------------------------------------------------


def test_a_sideways_phone_photo_is_kept_upright_small_as_jpeg_and_without_exif(
    session: Session, engine: Engine
) -> None:
    appointment = make_appointment(session)
    original = sideways_phone_photo(2400, 1800)

    flag = new_coverage(session, appointment, card_front=original)
    session.commit()

    with Session(engine) as fresh:
        doc = fresh.get(Document, (flag.new_value or {})["card_front_document_id"])
        assert doc is not None
        assert doc.content_type == "image/jpeg"
        kept = decoded(doc.content)
    assert kept.format == "JPEG"
    assert kept.size == (1200, 1600)  # upright (portrait) and 1600 px on the long side
    top, bottom = kept.getpixel((600, 100)), kept.getpixel((600, 1500))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 180 and top[2] < 80, "the red half is on top once upright"
    assert bottom[2] > 180 and bottom[0] < 80
    assert "exif" not in kept.info
    assert dict(kept.getexif()) == {}
    assert b"PhoneCo" not in doc.content
    assert len(doc.content) < len(original)


@pytest.mark.parametrize(
    ("mode", "fmt", "size"),
    [("RGBA", "PNG", (640, 400)), ("P", "PNG", (300, 190)), ("L", "WEBP", (500, 320)),
     ("RGB", "JPEG", (48, 30))],
)
def test_every_kind_of_photo_is_kept_as_an_rgb_jpeg_of_the_same_size_when_small(
    mode: str, fmt: str, size: tuple[int, int]
) -> None:
    img = Image.new(mode, size)
    out = BytesIO()
    img.save(out, format=fmt)

    kept = decoded(card_photo(out.getvalue()))

    assert (kept.format, kept.mode, kept.size) == ("JPEG", "RGB", size)


def test_a_transparent_screenshot_of_a_card_is_kept_on_white() -> None:
    img = Image.new("RGBA", (200, 120), (0, 0, 0, 0))
    img.paste((30, 30, 30, 255), (50, 30, 150, 90))
    out = BytesIO()
    img.save(out, format="PNG")

    kept = decoded(card_photo(out.getvalue()))

    corner, middle = kept.getpixel((5, 5)), kept.getpixel((100, 60))
    assert isinstance(corner, tuple) and isinstance(middle, tuple)
    assert min(corner) > 240, "the transparent part is white, not black"
    assert max(middle) < 60


# --- thumbnails for the desk -----------------------------------------------------------------


def test_the_desk_gets_a_small_jpeg_of_a_stored_card_photo(session: Session) -> None:
    appointment = make_appointment(session)
    flag = new_coverage(session, appointment, card_front=sideways_phone_photo(2400, 1800))

    small = document_thumbnail(session, (flag.new_value or {})["card_front_document_id"])

    assert small is not None
    thumb = decoded(small)
    assert thumb.format == "JPEG"
    assert thumb.size == (240, 320)
    assert len(small) < 20_000


def test_a_photo_stored_before_photos_were_checked_gives_no_thumbnail_and_no_error(
    session: Session,
) -> None:
    patient = make_patient(session)
    legacy = make_document(session, patient, content=png_bomb(12000, 12000),
                           content_type="image/png")

    assert document_thumbnail(session, legacy.id) is None
    assert document_thumbnail(session, legacy.id + 1000) is None  # no such document


def test_a_small_legacy_png_still_gets_a_thumbnail(session: Session) -> None:
    patient = make_patient(session)
    legacy = make_document(session, patient, content=image_bytes("PNG", (900, 560)))

    small = document_thumbnail(session, legacy.id)

    assert small is not None
    assert decoded(small).size == (320, 199)


def test_a_thumbnail_is_decoded_once_and_then_served_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    img = Image.new("RGB", (1600, 1000), (17, 99, 143))  # a colour no other test uses
    out = BytesIO()
    img.save(out, format="JPEG")
    opens: list[int] = []
    real_open = Image.open

    def counting_open(*args, **kwargs):  # type: ignore[no-untyped-def]
        opens.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(images.Image, "open", counting_open)

    first = images.thumbnail(out.getvalue())
    second = images.thumbnail(out.getvalue())

    assert first is not None and first == second
    assert len(opens) == 1
    assert images.thumbnail(None) is None
    assert images.thumbnail(b"") is None


# --- nothing but the project's own refusal ---------------------------------------------------

MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"RIFF\x00\x10\x00\x00WEBPVP8 ",
         b"GIF89a", b"II*\x00", b"BM"]
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"]
FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]


def assert_kept_or_refused(data: bytes) -> None:
    """The only outcomes: a stored-form JPEG, or InsuranceInvalid with the photo message."""
    try:
        kept = card_photo(data)
    except InsuranceInvalid as exc:
        assert exc.key == "insurance.error_photo"
        return
    img = decoded(kept)
    assert img.format == "JPEG"
    assert img.mode == "RGB"
    assert max(img.size) <= images.STORED_LONG_SIDE
    assert dict(img.getexif()) == {}


@st.composite
def small_images(draw: st.DrawFn) -> bytes:
    """A small image of any mode, in any format Pillow writes it in, maybe with an EXIF
    orientation, maybe cut short or with some bytes changed."""
    mode = draw(st.sampled_from(MODES))
    size = (draw(st.integers(1, 48)), draw(st.integers(1, 48)))
    raw_len = len(Image.new(mode, size).tobytes())
    raw = draw(st.binary(min_size=raw_len, max_size=raw_len))
    img = Image.frombytes(mode, size, raw)
    fmt = draw(st.sampled_from(FORMATS))
    params: dict[str, object] = {}
    if fmt in ("JPEG", "PNG", "WEBP") and draw(st.booleans()):
        exif = Image.Exif()
        exif[ORIENTATION] = draw(st.integers(0, 9))
        params["exif"] = exif
    out = BytesIO()
    try:
        img.save(out, format=fmt, **params)
    except (OSError, ValueError, KeyError, TypeError):
        assume(False)  # Pillow cannot write this mode in this format
    data = bytearray(out.getvalue())
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


PROPERTY = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(magic=st.sampled_from(MAGIC), tail=st.binary(max_size=1024))
def test_any_bytes_are_kept_as_a_photo_or_refused_with_the_photo_message(
    magic: bytes, tail: bytes
) -> None:
    assert_kept_or_refused(magic + tail)


@PROPERTY
@given(data=small_images())
def test_any_small_image_whole_or_damaged_is_kept_as_a_photo_or_refused(data: bytes) -> None:
    assert_kept_or_refused(data)


# --- signatures ------------------------------------------------------------------------------


def sign_with(session: Session, png: bytes) -> ConsentSignature:
    form = make_consent_form(session)
    appointment = make_appointment(session)
    return sign(session, appointment, form.versions[-1].id, signer_name="Elena Parker",
                relationship=SignerRelationship.SELF, signature_png=png, stroke_count=4,
                language="en", now=NOW, day=NOW.date(), kiosk_id=KIOSK)


@pytest.mark.parametrize(
    "png",
    [png_bomb(20000, 20000), png_bomb(5000, 1000), b"not a png at all",
     image_bytes("JPEG", (640, 200))],
    ids=["bomb", "far-larger-than-the-pad", "not-an-image", "jpeg"],
)
def test_a_signature_that_is_not_a_drawing_from_the_pad_is_refused(
    session: Session, png: bytes
) -> None:
    with pytest.raises(SignatureRefused) as refused:
        sign_with(session, png)

    assert refused.value.key == "consent.error_signature"
    assert session.scalars(select(ConsentSignature)).all() == []


def test_a_signature_from_a_high_density_pad_is_kept_exactly_as_drawn(
    session: Session, engine: Engine
) -> None:
    png = image_bytes("PNG", (1920, 600))  # 640x200 at three device pixels a point

    signature = sign_with(session, png)
    session.commit()

    with Session(engine) as fresh:
        stored = fresh.get(ConsentSignature, signature.id)
        assert stored is not None
        assert stored.signature_png == png


def test_a_stored_photo_is_decoded_at_a_reduced_scale_for_its_thumbnail() -> None:
    """A 1600x1200 photo is decoded at a quarter of its size for a 320 px thumbnail (a square
    request would have decoded it whole: 5.8 MB of pixels per thumbnail)."""
    out = BytesIO()
    Image.new("RGB", (1600, 1200), (40, 90, 160)).save(out, format="JPEG")
    with images._opened(out.getvalue(), formats=images.PHOTO_FORMATS,
                        max_pixels=images.MAX_PIXELS, max_side=images.MAX_SIDE,
                        draft_to=320) as img:
        assert img.size == (400, 300)
    small = images.thumbnail(out.getvalue(), long_side=320)
    assert small is not None and decoded(small).size == (320, 240)


def test_the_desk_reads_a_card_photo_from_the_database_only_for_its_first_thumbnail(
    session: Session, engine: Engine
) -> None:
    appointment = make_appointment(session)
    flag = new_coverage(session, appointment, card_front=sideways_phone_photo(1800, 2400),
                        card_back=sideways_phone_photo(2400, 1800))
    ids = [(flag.new_value or {})[k] for k in ("card_front_document_id",
                                               "card_back_document_id")]
    session.commit()
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "document.content" in statement and "length" not in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        first = insurance.document_thumbnails(session, ids, long_side=320)
        again = insurance.document_thumbnails(session, ids, long_side=320)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [kind for kind, _ in first] == ["card_front", "card_back"]
    assert first == again and all(small for _, small in first)
    assert len(reads) == 2  # one per photo, the first time only


def test_screens_asking_for_the_same_new_thumbnail_at_once_decode_it_once() -> None:
    barrier = threading.Barrier(4)
    key = ("test", uuid.uuid4().hex)  # a photo no earlier test has cached
    loads: list[int] = []
    out = BytesIO()
    Image.new("RGB", (800, 600), (3, 141, 59)).save(out, format="JPEG")

    def load() -> bytes:
        loads.append(1)
        return out.getvalue()

    def screen(_n: int) -> bytes | None:
        barrier.wait(timeout=30)
        return images.stored_thumbnail(key, load, long_side=200)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(screen, range(4)))
    assert len(set(results)) == 1 and results[0] is not None
    assert loads == [1]
