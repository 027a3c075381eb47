"""Open311 GeoReport v2: our request types as services, cases as service requests.

Service codes are our category codes (``repair``, ``high_altitude_throwing``...); their
attributes are the questions of the resident form of that type, so both channels ask the same.
The services are the catalogue's active categories shown to residents. One marked
``open311_batch`` (government_service) is a "batch" service: a POST returns a token at once and
a worker opens the case (the client reads the service_request_id through ``tokens/{token}``);
every other service is "realtime" and returns the service_request_id (the case's tracking number).

Errors are ``Open311Error`` (status + description); the web layer writes them as the
specification says. Reading requests is in ``integrations.open311_reads``.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import replace
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from extensions import db, redis
from forms.requests import Place, RequestForm, RequestType, category_form, pick, request_types
from handlers.catalogue import CategoryEntry, category
from handlers.crypto import encrypt_personal, normalize_phone
from models import Case, Open311Client, Open311Token, OrgUnit, transaction, utcnow
from residents.progress import status_words
from residents.requests import ResidentRequest, submit_request
from workflows import CaseError
from workflows.runtime import Actor

log = logging.getLogger(__name__)
URL = re.compile(r"^https?://[^\s]{3,490}$")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([a-z_]{1,32})\](\[\])?$")


class Open311Error(Exception):
    """An error the client caused: HTTP status and the description the spec's error list carries."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# ---------------------------------------------------------------- services

def form_of(code: str) -> type[RequestForm]:
    form = category_form(code)
    if form is None:
        raise Open311Error(404, f"service_code {code!r} not found")
    return form


def services() -> list[dict]:
    """GET services: one per active category shown to residents."""
    items = []
    for kind in request_types().values():  # one reading of the catalogue for the whole list
        for cat in (category(code) for code in kind.categories):
            items.append(_service(cat, kind))
    return items


def _service(cat: CategoryEntry, kind: RequestType) -> dict:
    return {
        "service_code": cat.code, "service_name": pick(cat.zh, cat.en), "description": kind.hint,
        "metadata": bool(service_attributes(cat.code)),
        "type": "batch" if cat.open311_batch else "realtime",
        "keywords": ", ".join(p for p in re.split(r"[、,，]\s*", kind.hint) if p),
        "group": kind.label,
    }


def _datatype(field) -> str:
    return {"SelectField": "singlevaluelist", "TextAreaField": "text"}.get(field.type, "string")


def service_attributes(code: str) -> list[dict]:
    form = form_of(code)(contact_required=False)
    attributes = []
    for order, name in enumerate(form.ATTRIBUTES, 1):
        field = getattr(form, name)
        datatype = _datatype(field)
        attribute = {
            "variable": True, "code": name, "datatype": datatype,
            "required": bool(field.flags.required), "datatype_description": None,
            "order": order, "description": str(field.label.text),
        }
        if datatype == "singlevaluelist":
            attribute["values"] = [{"key": c.value, "name": str(c.label)}
                                   for c in field.iter_choices() if c.value]
        attributes.append(attribute)
    return attributes


def service_definition(code: str) -> dict:
    """GET services/{code}: the questions a request of this service answers. Raises 404."""
    return {"service_code": code, "attributes": service_attributes(code)}


# ---------------------------------------------------------------- clients and POST

def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_client(name: str, key: str | None = None) -> tuple[Open311Client, str]:
    """Register an API client; returns it and its key (shown once, only its hash is kept).
    Adds to the session; the caller commits."""
    key = key or secrets.token_urlsafe(24)
    client = Open311Client(name=name, key_hash=hash_key(key), active=True, created_at=utcnow())
    db.session.add(client)
    return client, key


def client_for_key(key: str | None) -> Open311Client:
    """The active client holding ``key``. Raises Open311Error 403."""
    if not key or len(key) > 200:
        raise Open311Error(403, "api_key is missing: POST requests need the api_key you were given")
    client = db.session.scalar(select(Open311Client).where(Open311Client.key_hash == hash_key(key)))
    if client is None or not client.active:
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")
    return client


def jurisdiction(code: str | None) -> OrgUnit | None:
    """The org unit a jurisdiction_id names (street or community), None when not given. 404."""
    if not code:
        return None
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise Open311Error(404, f"jurisdiction_id {code!r} not found")
    return unit


def _text(values: MultiDict, name: str, limit: int) -> str:
    value = (values.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} is longer than {limit} characters")
    return value


def _formdata(values: MultiDict, code: str, form_class: type[RequestForm]) -> MultiDict:
    data = MultiDict()
    for key in values:
        match = ATTRIBUTE_KEY.match(key)
        if match:
            data[match.group(1)] = values.get(key)
    lat, lon = values.get("lat"), values.get("long")
    address_id, address_text = _text(values, "address_id", 12), _text(values, "address_string", 200)
    if address_id:
        data.update({"place": "address", "address_id": address_id})
    elif lat or lon:
        if not (lat and lon):
            raise Open311Error(400, "give both lat and long")
        data.update({"place": "map", "lat": lat, "lon": lon})
    elif address_text:
        data.update({"place": "text", "address_text": address_text})
    else:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    if form_class.CATEGORY_FIELD:
        data[form_class.CATEGORY_FIELD] = code
    name = " ".join(p for p in (_text(values, "first_name", 32), _text(values, "last_name", 32)) if p)
    data.update({"description": _text(values, "description", 4000) or category(code).zh,
                 "name": name, "phone": _text(values, "phone", 24)})
    return data


FIELD_NAMES = {"place": "location", "name": "first_name/last_name", "address_id": "address_id"}


def parse_post(values: MultiDict) -> ResidentRequest:
    """Check the fields of a POST requests. Raises Open311Error 400 / 404."""
    unit = jurisdiction(values.get("jurisdiction_id"))
    code = (values.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    form_class = form_of(code)
    form = form_class(_formdata(values, code, form_class), contact_required=False,
                      description_max=4000, text_address=True)
    if not form.validate():
        problems = []
        for name, messages in form.errors.items():
            label = f"attribute[{name}]" if name in form.ATTRIBUTES else FIELD_NAMES.get(name, name)
            problems.append(f"{label}: {'; '.join(str(m) for m in messages)}")
        raise Open311Error(400, "; ".join(problems))
    media_url = _text(values, "media_url", 500)
    if media_url and not URL.match(media_url):
        raise Open311Error(400, "media_url must be an http(s) URL")
    if not media_url and category(code).photo_required:
        raise Open311Error(400, "media_url is required: this service needs a photo")
    place = form.chosen_place
    if place.mode == "text":
        community = unit.code if unit is not None and unit.kind == "community" else None
        place = replace(place, community=community)
    extra = {k: v for k in ("device_id", "account_id") if (v := _text(values, k, 64))}
    if media_url:
        extra["media_url"] = media_url
    return ResidentRequest(
        category=code, form_code=form.code, description=form.description.data, place=place,
        channel="open311", source="api", attributes=form.attributes(),
        reporter_name=form.name.data or None, phone=normalize_phone(form.phone.data), extra=extra,
    )


def create_request(client: Open311Client, req: ResidentRequest) -> dict:
    """POST requests: open the case now (realtime) or queue it behind a token (batch)."""
    req.extra["open311_client"] = client.name
    if category(req.category).open311_batch:
        return _queue_request(client, req)
    try:
        case = submit_request(req, Actor(label=f"open311:{client.name}"[:64]))
    except CaseError as exc:
        raise Open311Error(400, exc.message) from None
    return {"service_request_id": case.ref, "service_notice": status_words(case.status), "account_id": None}


def _payload(req: ResidentRequest) -> dict:
    place = req.place
    return {
        "category": req.category, "form_code": req.form_code, "description": req.description,
        "place": {"mode": place.mode, "address_id": place.address_id, "lat": place.lat, "lon": place.lon,
                  "text": place.text, "community": place.community},
        "attributes": req.attributes, "reporter_name": req.reporter_name,
        "phone": encrypt_personal(req.phone) if req.phone else None, "extra": req.extra,
    }


def _queue_request(client: Open311Client, req: ResidentRequest) -> dict:
    with transaction():
        row = Open311Token(token=secrets.token_urlsafe(18), client_id=client.id, service_code=req.category,
                           payload=_payload(req), state="pending", created_at=utcnow())
        db.session.add(row)
    try:
        redis.queue("default").enqueue(open_deferred_request, row.id, job_id=f"{redis.queue_prefix}-open311-token-{row.id}",
                                       result_ttl=3600)
    except RedisError as exc:
        # No queue: open it now; the client still gets its token, already resolved.
        log.warning("Open311 token %s not queued (%s); opening it now", row.id, exc)
        open_deferred_request(row.id)
    return {"token": row.token, "service_notice": str(status_words("open")), "account_id": None}


class TokenTaken(Exception):
    """Another worker opened this token's case first."""


def open_deferred_request(token_id: int) -> str | None:
    """RQ job: open the case of a queued request; idempotent. Returns the case ref.

    The token is claimed in the unit of work that opens the case: either both are written
    or neither (the token stays pending for a retry). Of two workers racing, the second
    finds the token taken and its case is rolled back."""
    row = db.session.get(Open311Token, token_id)
    if row is None or row.state != "pending":
        return None
    data = row.payload
    req = ResidentRequest(
        category=data["category"], form_code=data["form_code"], description=data["description"],
        place=Place(**data["place"]), channel="open311", source="api", attributes=data["attributes"],
        reporter_name=data["reporter_name"], phone=data["phone"], extra=data["extra"],
    )

    def claim(case: Case) -> None:
        db.session.flush()
        claimed = db.session.execute(update(Open311Token).where(
            Open311Token.id == token_id, Open311Token.state == "pending").values(
            state="opened", case_id=case.id, opened_at=utcnow())).rowcount
        if not claimed:
            raise TokenTaken(token_id)

    try:
        case = submit_request(req, Actor(label=f"open311:{row.client.name}"[:64]), along=claim)
    except TokenTaken:
        return None
    except CaseError as exc:
        with transaction():
            db.session.execute(update(Open311Token).where(
                Open311Token.id == token_id, Open311Token.state == "pending").values(
                state="failed", error=exc.message[:500]))
        return None
    return case.ref


def sweep_open311_tokens(grace_seconds: int = 60, limit: int = 200) -> int:
    """Job: open the cases of queued requests still pending after the grace (their job was
    lost, or Redis was away when they were queued); returns how many were opened."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    ids = list(db.session.scalars(select(Open311Token.id).where(
        Open311Token.state == "pending", Open311Token.created_at <= cutoff)
        .order_by(Open311Token.created_at).limit(limit)))
    db.session.rollback()
    return sum(1 for token_id in ids if open_deferred_request(token_id) is not None)


def token_status(token: str) -> dict:
    """GET tokens/{token}: the service_request_id once the case exists. Raises 404."""
    row = db.session.scalar(select(Open311Token).where(Open311Token.token == token)) if len(token) <= 40 else None
    if row is None:
        raise Open311Error(404, f"token {token!r} not found")
    if row.state == "failed":
        raise Open311Error(400, f"the request of token {token!r} could not be opened: {row.error}")
    ref = db.session.scalar(select(Case.ref).where(Case.id == row.case_id)) if row.case_id else None
    return {"service_request_id": ref, "token": row.token}
