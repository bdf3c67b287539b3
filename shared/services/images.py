"""Images a patient hands in at the kiosk: checked before they are decoded, kept small.

A photo is opened lazily: its header gives the format and size, and an image too big to
decode safely (a "decompression bomb": a few hundred KB of PNG that decodes to gigabytes)
is refused before a single pixel is read. A card photo is kept as a JPEG of at most
STORED_LONG_SIDE pixels, upright, with no EXIF (no camera, no place, no time); the desk
sees thumbnails of it.

Every failure is UnusableImage, which the services turn into their own refusal with the
kiosk's message; nothing else escapes.
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# Pixels decoded at most (a 48 MP phone photo is a JPEG, decoded at half size below).
MAX_PIXELS = 40_000_000
MAX_SIDE = 10_000
STORED_LONG_SIDE = 1600
STORED_QUALITY = 85
THUMBNAIL_LONG_SIDE = 320
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
# What Pillow may call a file opened as one of those: MPO is a phone's JPEG with extra frames.
_ALSO_JPEG = ("MPO",)

# Everything Pillow may raise on a damaged, hostile or unsupported file.
_PILLOW_ERRORS = (
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    UnidentifiedImageError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    ZeroDivisionError,
)


class UnusableImage(Exception):
    """Not an image we can use: unreadable, of another kind, or too big to decode."""


def _check_size(size: tuple[int, int], max_pixels: int, max_side: int) -> None:
    width, height = size
    if width < 1 or height < 1 or max(width, height) > max_side or width * height > max_pixels:
        raise UnusableImage(f"{width}x{height} pixels is too large")


@contextmanager
def _opened(
    data: bytes, *, formats: tuple[str, ...], max_pixels: int, max_side: int,
    draft_to: int | None = None,
) -> Iterator[Image.Image]:
    """The image, opened but not decoded, refused unless it is one of `formats` and small
    enough to decode. Pillow's own bomb warning is an error here."""
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise UnusableImage("missing or over the size limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=list(formats)) as img:
                if img.format not in formats and not (
                        "JPEG" in formats and img.format in _ALSO_JPEG):
                    raise UnusableImage(f"format {img.format}")
                if draft_to and img.format in ("JPEG", "MPO") and max(img.size) > draft_to:
                    # A JPEG decodes at 1/2, 1/4 or 1/8 scale for the price of that size.
                    # Asked for the target's own shape: Pillow picks a scale only when both
                    # sides still reach the request, so a square request would decode a
                    # 1600x1200 photo whole for a 640 px thumbnail.
                    scale = draft_to / max(img.size)
                    img.draft("RGB", (math.ceil(img.width * scale),
                                      math.ceil(img.height * scale)))
                _check_size(img.size, max_pixels, max_side)
                yield img
    except UnusableImage:
        raise
    except _PILLOW_ERRORS as exc:
        raise UnusableImage(f"{type(exc).__name__}: {exc}") from exc


def _flattened(img: Image.Image) -> Image.Image:
    """RGB, upright (the camera's EXIF orientation applied), transparency on white."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def _jpeg(img: Image.Image, long_side: int, quality: int) -> bytes:
    img = _flattened(img)
    img.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", img.size)  # a fresh image: no EXIF, XMP or ICC is carried over
    clean.paste(img)
    out = BytesIO()
    clean.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def photo_jpeg(data: bytes) -> bytes:
    """A card photo as stored: JPEG, upright, at most STORED_LONG_SIDE px, no metadata.
    UnusableImage when `data` is not a photo (JPEG, PNG, WEBP) we can safely decode."""
    with _opened(data, formats=PHOTO_FORMATS, max_pixels=MAX_PIXELS, max_side=MAX_SIDE,
                 draft_to=STORED_LONG_SIDE) as img:
        img.load()  # only now are pixels decoded; a failure here is UnusableImage too
        return _jpeg(img, STORED_LONG_SIDE, STORED_QUALITY)


def check_png(data: bytes, *, max_pixels: int, max_side: int) -> None:
    """A PNG (a drawn signature) kept as it is: only its header is read and its pixels
    are not decoded. UnusableImage when it is not a PNG or is larger than allowed."""
    with _opened(data, formats=("PNG",), max_pixels=max_pixels, max_side=max_side):
        pass


# --- thumbnails for the desk -------------------------------------------------------------------

_THUMBNAILS: OrderedDict[tuple[object, ...], bytes | None] = OrderedDict()
_THUMBNAILS_KEPT = 512  # a 320 px card thumbnail is about 20-25 KB
_THUMBNAILS_LOCK = threading.Lock()
# One computation per thumbnail at a time: four screens opening the same page of cards at
# once decode each photo once, and the other three wait for it.
_COMPUTING: dict[tuple[object, ...], threading.Lock] = {}


def _cached(key: tuple[object, ...], compute: Callable[[], bytes | None]) -> bytes | None:
    with _THUMBNAILS_LOCK:
        if key in _THUMBNAILS:
            _THUMBNAILS.move_to_end(key)
            return _THUMBNAILS[key]
        computing = _COMPUTING.setdefault(key, threading.Lock())
    with computing:
        with _THUMBNAILS_LOCK:
            if key in _THUMBNAILS:
                return _THUMBNAILS[key]
        small = compute()
        with _THUMBNAILS_LOCK:
            _THUMBNAILS[key] = small
            while len(_THUMBNAILS) > _THUMBNAILS_KEPT:
                _THUMBNAILS.popitem(last=False)
            _COMPUTING.pop(key, None)
    return small


def _small(data: bytes | None, long_side: int) -> bytes | None:
    if not data:
        return None
    try:
        with _opened(data, formats=PHOTO_FORMATS, max_pixels=MAX_PIXELS, max_side=MAX_SIDE,
                     draft_to=long_side) as img:
            img.load()
            return _jpeg(img, long_side, 80)
    except UnusableImage:
        return None


def thumbnail(data: bytes | None, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes | None:
    """A small JPEG (at most `long_side` px) of a stored photo or signature, for the desk to
    show instead of the full image; None when there is nothing to show or it cannot be
    decoded safely (an oversized photo stored before photos were checked).

    Computed once per content and size and then served from a small in-process cache, so a
    page that shows many photos decodes each of them once. Make it the size it is shown at:
    a larger one is shrunk again by Streamlit on every run."""
    if not data:
        return None
    return _cached((hashlib.sha256(data).digest(), long_side), lambda: _small(data, long_side))


def stored_thumbnail(ident: tuple[object, ...], load: Callable[[], bytes | None],
                     long_side: int = THUMBNAIL_LONG_SIDE) -> bytes | None:
    """`thumbnail` of a file that never changes once stored (a document, by its id): the
    file itself is read (`load`) only when its thumbnail is not cached yet, so a page of
    card photos re-read every few seconds reads kilobytes, not the photos."""
    return _cached((*ident, long_side), lambda: _small(load(), long_side))
