"""Photo intake: decode to prove it is an image, re-encode, thumbnail, store on disk.

Decoding is bounded so a small file cannot cost a web worker seconds or hundreds of MB:
the pixel count is read from the header before any pixel is decoded; JPEG (what phone
cameras write) is decoded at a reduced scale (libjpeg's DCT scaling, Pillow's "draft"), so
12 MP and 50 MP photos both decode as ~3 MP; formats that can only be decoded at full size
(PNG, WebP, GIF, BMP) have a lower limit that fits screenshots; 16-bit images are reduced
before they are converted to 8 bits.
"""
from __future__ import annotations

import io
import math
import secrets
import struct
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from extensions import db
from models import Photo

MAX_BYTES = 10 * 1024 * 1024
# Phone cameras write 12-50 MP (a 50 MP sensor's full-resolution mode is 8160x6120).
MAX_PIXELS = 50_000_000
# PNG, WebP, GIF and BMP decode at full size, ~4 bytes and ~25 ns a pixel (0.2-0.45 s for 12 MP
# measured, too much three times over on the anonymous form). Phone screenshots (<4 MP) and a
# 4K screen (3840x2160) stay under this.
FULL_DECODE_MAX_PIXELS = 8_400_000
STORED_EDGE = 2048
THUMB_EDGE = 320
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
# Decoded at a reduced scale (draft mode).
DRAFT_FORMATS = {"JPEG", "MPO"}
# Modes of more than 8 bits a channel (16-bit grey PNG): reduced first, then scaled to 8 bits.
WIDE_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}

# What Pillow's decoders raise on damaged files: each is the sender's fault, a 4xx, never a 500.
# 20,000 randomly damaged JPEG, PNG, GIF, WebP and BMP files raised nothing else.
DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)

TOO_MANY_PIXELS = "the photo has too many pixels"
NOT_JPEG_TOO_LARGE = "images other than JPEG may have at most 8 megapixels; send a JPEG photo"
UNREADABLE = "the file is not an image that can be read"


class PhotoRejected(ValueError):
    """The upload is not a photo we keep; the message says why, for the user."""


def photo_root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "photos"


def _open(data: bytes) -> Image.Image:
    """The image with only its header read; refuses what would cost too much to decode."""
    if not data:
        raise PhotoRejected("the photo is empty")
    if len(data) > MAX_BYTES:
        raise PhotoRejected(f"the photo is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        # Pillow's own guard (over ~179 MP) fires in open(), before ours can.
        raise PhotoRejected(TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, *DECODER_ERRORS):
        raise PhotoRejected(UNREADABLE) from None
    if image.format not in ACCEPTED_FORMATS:
        raise PhotoRejected(f"{image.format} files are not accepted; send JPEG, PNG or WebP")
    pixels = image.width * image.height
    if pixels > MAX_PIXELS:
        raise PhotoRejected(TOO_MANY_PIXELS)
    if image.format not in DRAFT_FORMATS and pixels > FULL_DECODE_MAX_PIXELS:
        raise PhotoRejected(NOT_JPEG_TOO_LARGE)
    return image


def _fit(width: int, height: int, edge: int) -> tuple[int, int]:
    """The size of a width x height image scaled down (never up) to fit an edge x edge box."""
    scale = min(1.0, edge / max(width, height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def decode_photo(data: bytes, edge: int = STORED_EDGE) -> Image.Image:
    """The upload as an 8-bit RGB image, upright, its longer side between 3/4 ``edge`` and
    ``edge`` (or as is when smaller), decoded no larger than that needs. Raises PhotoRejected
    with a message for the user."""
    image = _open(data)
    # Whole-factor reductions are nearly free (DCT scaling, box averaging); stopping at the one
    # that keeps 3/4 of the target edge saves decoding and resampling 4x the pixels.
    floor = edge * 3 // 4
    try:
        if image.format in DRAFT_FORMATS:
            # The smallest DCT scale (1, 1/2, 1/4, 1/8) that still gives at least ``floor``.
            image.draft("RGB", _fit(image.width, image.height, floor))
        image.load()
        if image.mode in ("P", "PA", "1"):
            # Palette images resize by nearest neighbour: expand them first (at most 8.4 MP).
            image = image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
        factor = max(image.size) // floor
        if factor > 1 and image.mode not in WIDE_MODES:
            image = image.reduce(factor)
        image.thumbnail((edge, edge))
        if image.mode in WIDE_MODES:
            image = _to_8_bits(image)
        image = ImageOps.exif_transpose(image)
        return _flatten(image)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, *DECODER_ERRORS):
        raise PhotoRejected(UNREADABLE) from None


def _to_8_bits(image: Image.Image) -> Image.Image:
    """A reduced 16-bit grey image as 8-bit grey, scaled (0-65535 to 0-255): a plain convert
    would clip, turning everything above 255 white."""
    if image.mode == "F":
        return image.convert("L")
    return image.convert("I").point(lambda v: v / 257).convert("L")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent parts on white (a screenshot's transparency is background)."""
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def store_photo(data: bytes, uploaded_by_id: int | None = None, case_id: int | None = None) -> Photo:
    """Keep a photo: decoded (the file name proves nothing), re-encoded as JPEG without its
    metadata, thumbnailed. Adds the row to the session; the caller commits. Raises PhotoRejected."""
    stored = decode_photo(data, STORED_EDGE)
    photo_id = secrets.token_hex(16)
    rel = Path(photo_id[:2]) / f"{photo_id}.jpg"
    rel_thumb = Path(photo_id[:2]) / f"{photo_id}.thumb.jpg"
    root = photo_root()
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    stored.save(root / rel, "JPEG", quality=85)
    thumb = stored.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))
    thumb.save(root / rel_thumb, "JPEG", quality=80)
    photo = Photo(id=photo_id, case_id=case_id, path=str(rel), thumb_path=str(rel_thumb),
                  width=stored.width, height=stored.height, size=(root / rel).stat().st_size,
                  uploaded_by_id=uploaded_by_id)
    db.session.add(photo)
    return photo


def photo_file(photo: Photo, thumb: bool = False) -> Path:
    return photo_root() / (photo.thumb_path if thumb else photo.path)
