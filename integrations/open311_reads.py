"""Open311 GeoReport v2 reading: GET requests (filters, the 90-day window) and one request.

Reading is public, as the specification has it, but without a registered ``api_key`` the
description of sensitive requests and the unit and room of an address are left out. Dates are
W3C date-times with the community's offset.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from extensions import db
from forms.requests import pick
from handlers.catalogue import categories
from integrations.open311 import Open311Error, form_of, jurisdiction
from models import Address, Case, CaseEvent, OrgUnit, utcnow
from residents.progress import department_label, is_closed, status_words
from workflows.cases import case_by_ref

WINDOW = timedelta(days=90)
MAX_RESULTS = 1000

def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["COMMUNITY_TZ"])


def local_time(value: datetime | None) -> str | None:
    """W3C date-time with the community's offset, e.g. 2026-11-24T16:30:00+08:00."""
    return value.astimezone(_tz()).isoformat(timespec="seconds") if value else None


def parse_time(name: str, raw: str | None) -> datetime | None:
    if not raw:
        return None
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-01-01T00:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=_tz())


@dataclass(frozen=True)
class RequestQuery:
    refs: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    community_ids: tuple[int, ...] | None = None


def _community_ids(unit: OrgUnit | None) -> tuple[int, ...] | None:
    if unit is None:
        return None
    ids, frontier = [], [unit]
    while frontier:
        current = frontier.pop()
        if current.kind == "community":
            ids.append(current.id)
        frontier.extend(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == current.id)))
    return tuple(ids)


def parse_query(args: MultiDict) -> RequestQuery:
    """The filters of GET requests; the window defaults to the last 90 days and may not be
    longer. Raises Open311Error 400 / 404."""
    communities = _community_ids(jurisdiction(args.get("jurisdiction_id")))
    refs = tuple(r.strip() for r in (args.get("service_request_id") or "").split(",") if r.strip())
    if refs:
        if len(refs) > 100:
            raise Open311Error(400, "at most 100 service_request_id values at once")
        return RequestQuery(refs=refs, community_ids=communities)
    codes = tuple(c.strip() for c in (args.get("service_code") or "").split(",") if c.strip())
    for code in codes:
        form_of(code)
    statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open, closed or both (comma separated)")
    start, end = parse_time("start_date", args.get("start_date")), parse_time("end_date", args.get("end_date"))
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    if start is None:
        end = end or utcnow()
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    return RequestQuery(codes=codes, start=start, end=end, statuses=statuses, community_ids=communities)


def _service_codes() -> list[str]:
    """Categories whose cases are service requests: shown to residents, retired ones included
    (their old requests stay readable)."""
    return [c.code for c in categories().values() if c.public]


def find_requests(query: RequestQuery, full: bool = False) -> list[dict]:
    """GET requests: newest first, at most 1000."""
    stmt = select(Case).where(Case.category.in_(_service_codes()))
    if query.refs:
        stmt = stmt.where(Case.ref.in_(query.refs))
    else:
        stmt = stmt.where(Case.opened_at >= query.start, Case.opened_at <= query.end)
        if query.codes:
            stmt = stmt.where(Case.category.in_(query.codes))
        if query.statuses == ("open",):
            stmt = stmt.where(Case.closed_at.is_(None))
        elif query.statuses == ("closed",):
            stmt = stmt.where(Case.closed_at.is_not(None))
    if query.community_ids is not None:
        stmt = stmt.where(Case.community_id.in_(query.community_ids))
    cases = list(db.session.scalars(stmt.order_by(Case.opened_at.desc(), Case.id.desc()).limit(MAX_RESULTS)))
    return present(cases, full)


def request_by_id(ref: str, full: bool = False) -> dict:
    """GET requests/{id}. Raises 404."""
    case = case_by_ref(ref) if len(ref) <= 32 else None
    if case is None or case.category not in _service_codes():
        raise Open311Error(404, f"service_request_id {ref!r} not found")
    return present([case], full)[0]


def present(cases: list[Case], full: bool) -> list[dict]:
    """Cases as Open311 service requests (fields in the specification's order)."""
    ids = [c.id for c in cases]
    if not ids:
        return []
    updated = dict(db.session.execute(select(CaseEvent.case_id, func.max(CaseEvent.at))
                                      .where(CaseEvent.case_id.in_(ids)).group_by(CaseEvent.case_id)).all())
    details = dict(db.session.execute(select(CaseEvent.case_id, CaseEvent.data).where(
        CaseEvent.case_id.in_(ids), CaseEvent.kind == "request_details")).all())
    address_ids = {d.get("address_id") for d in details.values() if d and d.get("address_id")}
    buildings = {} if full or not address_ids else {
        row.id: f"{name} {row.building}" for row, name in db.session.execute(
            select(Address, OrgUnit.name).join(OrgUnit, OrgUnit.id == Address.community_id)
            .where(Address.id.in_(address_ids))).all()}
    return [_service_request(case, updated.get(case.id), details.get(case.id) or {}, buildings, full)
            for case in cases]


def _service_request(case: Case, updated: datetime | None, details: dict, buildings: dict, full: bool) -> dict:
    cat = categories()[case.category]
    show_description = full or not cat.private_details
    address_id = details.get("address_id")
    # Without a key, an address of the list is given down to its building, never the room.
    address = case.address if full or not address_id else buildings.get(address_id)
    return {
        "service_request_id": case.ref, "status": "closed" if is_closed(case) else "open",
        "status_notes": status_words(case.status), "service_name": pick(cat.zh, cat.en),
        "service_code": case.category, "description": case.description if show_description else None,
        "agency_responsible": department_label(case.department) or None, "service_notice": None,
        "requested_datetime": local_time(case.opened_at), "updated_datetime": local_time(updated or case.opened_at),
        "expected_datetime": local_time(case.due_at), "address": address,
        "address_id": address_id if full else None, "zipcode": None,
        "lat": case.lat, "long": case.lon, "media_url": None,
    }
