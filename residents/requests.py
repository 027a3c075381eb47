"""Resident requests from every channel (web form, hotline, Open311) become cases.

The request is placed (an address of the list gives its building's point), its photos are
checked and kept, the case is opened by the engine, and the request's own answers (type,
attributes, photos, channel) are written as a ``request_details`` case event. The phone is
SM4-encrypted before it leaves this module.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from extensions import db
from forms.requests import Place
from handlers.catalogue import category_for_new_case as category_of
from handlers.crypto import encrypt_personal, is_encrypted
from handlers.photos import PhotoRejected, photo_file, store_photo
from models import Address, Case, CaseEvent, Photo
from workflows import Invalid, open_case
from workflows.cases import CaseRequest
from workflows.runtime import Actor, record

MAX_PHOTOS = 3
DETAILS_EVENT = "request_details"


@dataclass
class ResidentRequest:
    """A checked request, whatever the channel it came by."""

    category: str
    form_code: str
    description: str
    place: Place
    channel: str  # "web", "hotline", "open311"
    source: str  # a case source: resident, hotline, grid_worker, api
    attributes: dict[str, str] = field(default_factory=dict)
    reporter_name: str | None = None
    # Plain digits, or already encrypted (a deferred Open311 request).
    phone: str | None = None
    reporter_id: int | None = None
    extra: dict = field(default_factory=dict)


def address_by_id(address_id: int) -> Address | None:
    return db.session.scalar(
        select(Address).options(joinedload(Address.community)).where(Address.id == address_id))


def addresses_of(community_id: int) -> list[Address]:
    """The address list of a community, by building, unit and room."""
    return list(db.session.scalars(select(Address).where(Address.community_id == community_id)
                                    .order_by(Address.building, Address.unit, Address.room)))


def _case_request(req: ResidentRequest) -> CaseRequest:
    place = req.place
    lat, lon, address, community = place.lat, place.lon, place.text, place.community
    if place.address_id is not None:
        found = address_by_id(place.address_id)
        if found is None:
            raise Invalid("unknown address: choose the building, unit and room again",
                          details={"address_id": "unknown address"})
        lat, lon, address, community = found.lat, found.lon, found.label, found.community.code
    phone = req.phone or None
    if phone and not is_encrypted(phone):
        phone = encrypt_personal(phone)
    return CaseRequest(
        category=req.category, description=req.description.strip(), lat=lat, lon=lon,
        address=address, community=community, source=req.source,
        reporter_name=(req.reporter_name or "").strip() or None, reporter_phone=phone,
    )


def keep_photos(uploads: list[bytes], uploaded_by_id: int | None) -> list[Photo]:
    """Decode, re-encode and write the photos' files. Their rows are not in the session yet:
    ``submit_request`` writes them with the case, in its unit of work. All or none: one bad
    photo rejects the lot. Raises PhotoRejected (its message is for the user)."""
    if len(uploads) > MAX_PHOTOS:
        raise PhotoRejected(f"at most {MAX_PHOTOS} photos")
    kept: list[Photo] = []
    try:
        for data in uploads:
            photo = store_photo(data, uploaded_by_id=uploaded_by_id)
            # Out of the session until the case is written (on SQLite a pending row would keep
            # the case's unit of work from starting as the writer).
            if photo in db.session:
                db.session.expunge(photo)
            kept.append(photo)
    except PhotoRejected:
        discard_photos(kept)
        raise
    return kept


def discard_photos(photos: list[Photo]) -> None:
    """Remove the files of photos whose rows were never written."""
    for photo in photos:
        for thumb in (False, True):
            photo_file(photo, thumb=thumb).unlink(missing_ok=True)


def submit_request(req: ResidentRequest, actor: Actor, photos: list[Photo] | None = None,
                   along: Callable[[Case], None] | None = None) -> Case:
    """Open the case of a resident request with its details and its ``photos`` (from
    ``keep_photos``); ``along`` (the channel's own bookkeeping) runs on the new case too.
    One unit of work: if any of it fails, no case, no row and no photo file is left (a
    retrying client would otherwise open the case twice). Raises Invalid (place, category,
    lengths)."""
    photos = photos or []

    def details(case: Case) -> None:
        # The case row first: the photos' foreign key points at it.
        db.session.flush()
        for photo in photos:
            photo.case_id = case.id
            db.session.add(photo)
        record(case, DETAILS_EVENT, actor, data={
            "type": req.form_code, "channel": req.channel, "attributes": req.attributes,
            "place": req.place.mode, "address_id": req.place.address_id,
            "photos": [photo.id for photo in photos], **req.extra,
        })
        if along is not None:
            along(case)

    try:
        category_of(req.category)
        return open_case(_case_request(req), actor, reporter_id=req.reporter_id, along=details)
    except BaseException:
        discard_photos(photos)
        raise


def request_details(case: Case) -> dict:
    """What the resident answered when submitting (empty for a case not made from a request)."""
    data = db.session.scalar(select(CaseEvent.data).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == DETAILS_EVENT).order_by(CaseEvent.id).limit(1))
    return data or {}
