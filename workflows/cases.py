"""Opening a case: place it, start its process, write the first tasks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, text

from extensions import db
from handlers.catalogue import UnknownCategory, category, category_for_new_case
from handlers.crypto import sealed
from handlers.grids import place_point
from handlers.search import search_grams
from handlers.vocabulary import CaseStatus, Severity, Source
from models import Case, CaseSearch, Device, Grid, OrgUnit, transaction, utcnow
from workflows.engine import ENGINE_VERSION, SERIALIZER_VERSION, new_workflow
from workflows.errors import Invalid
from workflows.runtime import SYSTEM, Actor, EngineRun, record, sync_case
from workflows.specs import current_spec


@dataclass
class CaseRequest:
    """What is needed to open a case; ``validate`` says what is wrong, field by field."""

    category: str
    description: str = ""
    severity: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    community: str | None = None  # community code, when only an address is given
    source: str = "api"
    title: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    device_id: int | None = None

    def validate(self) -> None:
        errors: dict[str, str] = {}
        try:
            # A retired category opens no case, except from a device that still reports it
            # (retire the device alarm type's mapping for that).
            (category if self.source == Source.SENSOR else category_for_new_case)(self.category)
        except UnknownCategory as exc:
            errors["category"] = exc.message
        if self.severity is not None and self.severity not in Severity.codes():
            errors["severity"] = f"severity must be one of {', '.join(Severity.codes())}"
        if self.source not in Source.codes():
            errors["source"] = f"source must be one of {', '.join(Source.codes())}"
        if (self.lat is None) != (self.lon is None):
            errors["lat"] = "give both lat and lon, or neither"
        elif self.lat is not None:
            if not -90 <= self.lat <= 90:
                errors["lat"] = "lat must be between -90 and 90"
            if not -180 <= self.lon <= 180:
                errors["lon"] = "lon must be between -180 and 180"
        if self.lat is None and not self.address and self.device_id is None:
            errors["location"] = "give lat and lon, or an address"
        if len(self.description or "") > 4000:
            errors["description"] = "description is longer than 4000 characters"
        if self.title and len(self.title) > 200:
            errors["title"] = "title is longer than 200 characters"
        if errors:
            raise Invalid("the case cannot be opened: " + "; ".join(errors.values()), details=errors)


def _placement(req: CaseRequest, device: Device | None) -> tuple[int, int | None]:
    if device is not None and device.grid_id is not None:
        return device.community_id, device.grid_id
    lat = req.lat if req.lat is not None else (device.lat if device else None)
    lon = req.lon if req.lon is not None else (device.lon if device else None)
    if lat is not None and lon is not None:
        placed = place_point(lat, lon)
        if placed is not None:
            return placed.community_id, placed.grid_id
    if device is not None:
        return device.community_id, None
    return _community_by_code(req.community), None


def _community_by_code(code: str | None) -> int:
    query = select(OrgUnit.id).where(OrgUnit.kind == "community")
    if code:
        found = db.session.scalar(query.where(OrgUnit.code == code))
        if found is None:
            raise Invalid(f"unknown community {code!r}", details={"community": "unknown community"})
        return found
    ids = list(db.session.scalars(query.limit(2)))
    if len(ids) != 1:
        raise Invalid("an address alone needs its community: give 'community' or lat and lon",
                      details={"community": "required with an address and no coordinates"})
    return ids[0]


def open_case(req: CaseRequest, actor: Actor = SYSTEM, reporter_id: int | None = None,
              along: Callable[[Case], None] | None = None) -> Case:
    """Open a case: placed in its grid, routed by DMN, first task written. Raises Invalid.

    ``along`` is the caller's own work on the new case (a resident request's details and
    photos): it runs in the same unit of work, so if it fails no case is left behind."""
    req.validate()
    cat = category(req.category)
    severity = req.severity or cat.default_severity
    device = db.session.get(Device, req.device_id) if req.device_id is not None else None
    if req.device_id is not None and device is None:
        raise Invalid(f"unknown device {req.device_id}", details={"device_id": "unknown device"})
    with transaction():
        community_id, grid_id = _placement(req, device)
        loaded = current_spec(cat.process_id)
        opened_at = utcnow()
        workflow = new_workflow(loaded.spec, loaded.subprocess_specs, {
            "category": cat.code, "severity": severity, "source": req.source,
            "has_reporter": req.source != Source.SENSOR, "opened_at": opened_at.isoformat(),
            "grid_id": grid_id,
        })
        run = EngineRun()
        run.run(workflow)
        case = Case(
            process_id=cat.process_id, category=cat.code, severity=severity, status=CaseStatus.OPEN,
            source=req.source, title=(req.title or _title(cat.zh, req))[:200],
            description=req.description or "", community_id=community_id, grid_id=grid_id,
            lat=req.lat if req.lat is not None else (device.lat if device else None),
            lon=req.lon if req.lon is not None else (device.lon if device else None),
            address=req.address, reporter_id=reporter_id, reporter_name=req.reporter_name,
            reporter_phone=sealed(req.reporter_phone), device_id=device.id if device else None,
            opened_at=opened_at, spec_hash=loaded.hash, engine_version=ENGINE_VERSION,
            serializer_version=SERIALIZER_VERSION, state="",
        )
        case.id = next_case_id()
        case.ref = f"{opened_at:%y%m%d}{case.id:06d}"
        db.session.add(case)
        db.session.add(CaseSearch(case=case, grams=search_grams(case.title, case.description)))
        record(case, "opened", actor, data={
            "category": cat.code, "severity": severity, "source": req.source,
            "grid_id": grid_id, "community_id": community_id,
        })
        sync_case(case, workflow, actor, run, [])
        if along is not None:
            along(case)
    return case


def next_case_id() -> int:
    """The id of the next case, known before the insert so the ref is written with it.

    PostgreSQL: the id sequence. SQLite: one more than the largest, safe because a unit of
    work there holds the database's only write lock (BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")).scalar_one()
    return db.session.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")).scalar_one()


def _title(label: str, req: CaseRequest) -> str:
    place = req.address or (req.description or "").strip().splitlines()[0:1]
    place = place if isinstance(place, str) else (place[0] if place else "")
    return f"{label} {place[:60]}".strip()


def case_by_ref(ref: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.ref == ref))


def grid_by_code(code: str) -> Grid | None:
    return db.session.scalar(select(Grid).where(Grid.code == code))
