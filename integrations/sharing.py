"""Devices and alarms as they are shared with third parties (every 6.2.x: data-sharing interface).

Pages are keyed by id: ``next`` is the cursor of the following page, or None at the end, so
a client polling while alarms arrive neither skips nor repeats one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from extensions import db
from handlers.errors import CaseError
from handlers.numbers import whole_number
from handlers.scopes import Scope
from handlers.vocabulary import Severity
from models import Alarm, Case, Device, Grid, OrgUnit
from models.alarms import ALARM_STATUSES, DeadLetter
from models.devices import DEVICE_KINDS

PAGE_DEFAULT, PAGE_MAX = 100, 500
DEVICE_STATUSES = ("unknown", "online", "offline")


class BadQuery(CaseError):
    """A filter or cursor the caller got wrong: 400 with the reason."""


@dataclass
class Page:
    items: list[dict]
    next: str | None


def page_size(value: str | None) -> int:
    if value in (None, ""):
        return PAGE_DEFAULT
    size = whole_number(value, PAGE_MAX)
    if not size:
        raise BadQuery(f"limit must be a whole number from 1 to {PAGE_MAX}")
    return size


def _cursor(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    after = whole_number(value)
    if after is None:
        raise BadQuery("cursor must be the 'next' value of the previous page")
    return after


def _one_of(name: str, value: str | None, allowed) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise BadQuery(f"{name} must be one of {', '.join(allowed)}")
    return value


def _id_of(model, code: str | None, name: str) -> int | None:
    if code in (None, ""):
        return None
    found = db.session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise BadQuery(f"unknown {name} {code!r}")
    return found


def _time(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadQuery(f"{name} must be ISO 8601 with an offset, e.g. 2026-11-24T08:00:00+08:00") from None
    if parsed.tzinfo is None:
        raise BadQuery(f"{name} needs its UTC offset")
    return parsed


def _page(query, id_column, cursor: str | None, limit: int, shape, newest_first: bool) -> Page:
    after = _cursor(cursor)
    if after is not None:
        query = query.where(id_column < after if newest_first else id_column > after)
    query = query.order_by(id_column.desc() if newest_first else id_column).limit(limit + 1)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(shape(rows), str(rows[-1].id) if more else None)


def devices_page(args: dict, limit: int, scope: Scope) -> Page:
    """Devices of ``scope`` filtered by kind, grid, community, status (codes); raises BadQuery."""
    query = select(Device).where(scope.where(Device.community_id, Device.grid_id))
    kind = _one_of("kind", args.get("kind"), DEVICE_KINDS)
    status = _one_of("status", args.get("status"), DEVICE_STATUSES)
    grid_id = _id_of(Grid, args.get("grid"), "grid")
    community_id = _id_of(OrgUnit, args.get("community"), "community")
    for column, value in ((Device.kind, kind), (Device.status, status), (Device.grid_id, grid_id),
                          (Device.community_id, community_id)):
        if value is not None:
            query = query.where(column == value)
    return _page(query, Device.id, args.get("cursor"), limit, devices_out, newest_first=False)


def alarms_page(args: dict, limit: int, scope: Scope) -> Page:
    """Alarms of ``scope``, newest first, filtered by device (code or id), status, type, kind,
    severity, grid, community and ``since`` (changed since); raises BadQuery."""
    query = select(Alarm).where(scope.where(Alarm.community_id, Alarm.grid_id))
    device = args.get("device")
    if device:
        match = Device.code == device
        if (device_id := whole_number(device)) is not None:
            match = or_(match, Device.id == device_id)
        # A device out of scope is unknown here, as it is to /devices/<id>.
        ids = list(db.session.scalars(select(Device.id).where(
            match, scope.where(Device.community_id, Device.grid_id))))
        if not ids:
            raise BadQuery(f"unknown device {device!r}")
        query = query.where(Alarm.device_id.in_(ids))
    status = _one_of("status", args.get("status"), ALARM_STATUSES)
    severity = _one_of("severity", args.get("severity"), Severity.codes())
    kind = _one_of("kind", args.get("kind"), DEVICE_KINDS)
    grid_id = _id_of(Grid, args.get("grid"), "grid")
    community_id = _id_of(OrgUnit, args.get("community"), "community")
    for column, value in ((Alarm.status, status), (Alarm.severity, severity), (Alarm.grid_id, grid_id),
                          (Alarm.community_id, community_id), (Alarm.type, args.get("type") or None)):
        if value is not None:
            query = query.where(column == value)
    if kind:
        query = query.where(Alarm.device_id.in_(select(Device.id).where(Device.kind == kind)))
    since = _time(args.get("since"), "since")
    if since is not None:
        query = query.where(or_(Alarm.last_seen_at >= since, Alarm.cleared_at >= since))
    return _page(query, Alarm.id, args.get("cursor"), limit, alarms_out, newest_first=True)


def dead_letters_page(args: dict, limit: int) -> Page:
    """Rejected messages, newest first, by reason, channel or device code; raises BadQuery."""
    query = select(DeadLetter)
    for column, name in ((DeadLetter.reason, "reason"), (DeadLetter.channel, "channel"),
                         (DeadLetter.device_code, "device")):
        if args.get(name):
            query = query.where(column == args[name])
    return _page(query, DeadLetter.id, args.get("cursor"), limit, dead_letters_out, newest_first=True)


def _codes(model, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.code).where(model.id.in_(ids))).all())


def devices_out(devices: list[Device]) -> list[dict]:
    grids = _codes(Grid, (d.grid_id for d in devices))
    communities = _codes(OrgUnit, (d.community_id for d in devices))
    return [{
        "id": d.id, "code": d.code, "name": d.name, "kind": d.kind,
        "community": communities.get(d.community_id), "grid": grids.get(d.grid_id),
        "building": d.building, "lat": d.lat, "lon": d.lon, "status": d.status,
        "last_seen_at": d.last_seen_at,
    } for d in devices]


def alarms_out(alarms: list[Alarm]) -> list[dict]:
    devices = {d.id: d for d in db.session.scalars(
        select(Device).where(Device.id.in_({a.device_id for a in alarms} or {-1})))}
    grids = _codes(Grid, (a.grid_id for a in alarms))
    communities = _codes(OrgUnit, (a.community_id for a in alarms))
    refs = dict(db.session.execute(select(Case.id, Case.ref).where(
        Case.id.in_({a.case_id for a in alarms if a.case_id} or {-1}))).all())
    return [{
        "id": a.id, "device": devices[a.device_id].code, "kind": devices[a.device_id].kind,
        "type": a.type, "category": a.category, "severity": a.severity, "status": a.status,
        "count": a.count, "first_seen_at": a.first_seen_at, "last_seen_at": a.last_seen_at,
        "cleared_at": a.cleared_at, "community": communities.get(a.community_id),
        "grid": grids.get(a.grid_id), "building": devices[a.device_id].building,
        "case_ref": refs.get(a.case_id), "detail": a.detail,
    } for a in alarms]


def dead_letters_out(letters: list[DeadLetter]) -> list[dict]:
    return [{
        "id": d.id, "received_at": d.received_at, "channel": d.channel, "topic": d.topic,
        "device": d.device_code, "reason": d.reason, "detail": d.detail, "payload": d.payload,
        "remote_addr": d.remote_addr,
    } for d in letters]
