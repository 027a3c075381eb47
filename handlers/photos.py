"""Photo intake: decode to prove it is an image, re-encode, thumbnail, store on disk."""
from __future__ import annotations

import io
import secrets
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from extensions import db
from models import Photo

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
STORED_EDGE = 2048
THUMB_EDGE = 320
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}


class PhotoRejected(ValueError):
    """The upload is not a photo we keep; the message says why, for the user."""


def photo_root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "photos"


def _decode(data: bytes) -> Image.Image:
    if not data:
        raise PhotoRejected("the photo is empty")
    if len(data) > MAX_BYTES:
        raise PhotoRejected(f"the photo is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        probe = Image.open(io.BytesIO(data))
        if probe.format not in ACCEPTED_FORMATS:
            raise PhotoRejected(f"{probe.format} files are not accepted; send JPEG, PNG or WebP")
        if probe.width * probe.height > MAX_PIXELS:
            raise PhotoRejected("the photo has too many pixels")
        probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoRejected("the file is not an image that can be read") from None
    return ImageOps.exif_transpose(image).convert("RGB")


def store_photo(data: bytes, uploaded_by_id: int | None = None, case_id: int | None = None) -> Photo:
    """Keep a photo: decoded (the file name proves nothing), re-encoded as JPEG without its
    metadata, thumbnailed. Adds the row to the session; the caller commits. Raises PhotoRejected."""
    image = _decode(data)
    photo_id = secrets.token_hex(16)
    rel = Path(photo_id[:2]) / f"{photo_id}.jpg"
    rel_thumb = Path(photo_id[:2]) / f"{photo_id}.thumb.jpg"
    root = photo_root()
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    stored = image.copy()
    stored.thumbnail((STORED_EDGE, STORED_EDGE))
    stored.save(root / rel, "JPEG", quality=85)
    thumb = image.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE))
    thumb.save(root / rel_thumb, "JPEG", quality=80)
    photo = Photo(id=photo_id, case_id=case_id, path=str(rel), thumb_path=str(rel_thumb),
                  width=stored.width, height=stored.height, size=(root / rel).stat().st_size,
                  uploaded_by_id=uploaded_by_id)
    db.session.add(photo)
    return photo


def photo_file(photo: Photo, thumb: bool = False) -> Path:
    return photo_root() / (photo.thumb_path if thumb else photo.path)
