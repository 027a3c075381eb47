"""The organisation tree (district -> street -> community -> area) and grids (7.3.6, 9.1.1)."""
from __future__ import annotations

from shapely.geometry import shape
from shapely.validation import explain_validity
from sqlalchemy import select

from extensions import db
from handlers.errors import Conflict, Invalid, NotFound
from handlers.grids import invalidate_grid_index
from models import Case, Device, Grid, OrgUnit, User
from models.org import ORG_KINDS

PARENT_KIND = {"district": None, "street": "district", "community": "street", "area": "community"}
STAFF_ROLES = ("grid_admin", "police", "environment", "mediator", "property")


def unit_by_code(code: str) -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(f"no organisation {code!r}")
    return unit


def org_tree() -> list[dict]:
    """The whole tree, each unit with its children and (for communities) its grids."""
    units = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)))
    grids = list(db.session.scalars(select(Grid).order_by(Grid.code)))
    nodes = {u.id: {"code": u.code, "name": u.name, "kind": u.kind, "children": [], "grids": []} for u in units}
    for grid in grids:
        nodes[grid.community_id]["grids"].append({"code": grid.code, "name": grid.name})
    roots = []
    for unit in units:
        (nodes[unit.parent_id]["children"] if unit.parent_id in nodes else roots).append(nodes[unit.id])
    return roots


def save_unit(code: str, name: str, kind: str, parent_code: str | None, existing: OrgUnit | None = None) -> OrgUnit:
    if kind not in ORG_KINDS:
        raise Invalid(f"kind must be one of {', '.join(ORG_KINDS)}", details={"kind": "unknown kind"})
    parent = unit_by_code(parent_code) if parent_code else None
    wanted = PARENT_KIND[kind]
    if (parent.kind if parent else None) != wanted:
        raise Invalid(f"a {kind} belongs under a {wanted or 'nothing (it is the top)'}",
                      details={"parent": f"must be a {wanted}" if wanted else "must be empty"})
    unit = existing
    if unit is None:
        if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
            raise Conflict(f"the organisation {code!r} exists already")
        unit = OrgUnit(code=code)
        db.session.add(unit)
    unit.name, unit.kind, unit.parent = name, kind, parent
    return unit


def delete_unit(unit: OrgUnit) -> None:
    in_use = (
        db.session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == unit.id).limit(1))
        or db.session.scalar(select(Grid.id).where(Grid.community_id == unit.id).limit(1))
        or db.session.scalar(select(User.id).where(User.community_id == unit.id).limit(1))
        or db.session.scalar(select(Case.id).where(Case.community_id == unit.id).limit(1))
    )
    if in_use:
        raise Conflict(f"{unit.code} still has children, grids, accounts or cases")
    db.session.delete(unit)


def checked_boundary(geometry: dict) -> dict:
    """A GeoJSON Polygon or MultiPolygon that shapely finds valid; raises Invalid."""
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        raise Invalid("a grid boundary is a GeoJSON Polygon or MultiPolygon", details={"geometry": "Polygon"})
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise Invalid(f"the boundary is not readable GeoJSON: {exc}", details={"geometry": "unreadable"}) from None
    if not polygon.is_valid or polygon.is_empty:
        raise Invalid(f"the boundary is not a valid polygon: {explain_validity(polygon)}",
                      details={"geometry": "invalid polygon"})
    return geometry


def save_grid(code: str, name: str, community_code: str, geometry: dict, staff: dict | None) -> Grid:
    community = unit_by_code(community_code)
    if community.kind != "community":
        raise Invalid(f"{community_code} is a {community.kind}, not a community", details={"community": "not a community"})
    unknown = sorted(set(staff or {}) - set(STAFF_ROLES))
    if unknown:
        raise Invalid(f"unknown responsible roles: {', '.join(unknown)}", details={"staff": ", ".join(STAFF_ROLES)})
    grid = db.session.scalar(select(Grid).where(Grid.code == code))
    if grid is None:
        grid = Grid(code=code)
        db.session.add(grid)
    grid.name, grid.community, grid.boundary = name, community, checked_boundary(geometry)
    grid.staff = dict(staff or grid.staff or {})
    invalidate_grid_index()
    return grid


def delete_grid(grid: Grid) -> None:
    if db.session.scalar(select(Case.id).where(Case.grid_id == grid.id).limit(1)) is not None:
        raise Conflict(f"grid {grid.code} has cases; it cannot be deleted")
    if db.session.scalar(select(Device.id).where(Device.grid_id == grid.id).limit(1)) is not None:
        raise Conflict(f"grid {grid.code} has devices; move them first")
    db.session.delete(grid)
    invalidate_grid_index()


def import_feature_collection(collection: dict) -> tuple[int, list[dict]]:
    """Create or update grids from GeoJSON features (properties: code, name, community,
    staff). Returns (saved, errors by feature index); nothing is saved if any feature is bad."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise Invalid("send a GeoJSON FeatureCollection", details={"type": "FeatureCollection"})
    features = collection.get("features") or []
    errors, saved = [], 0
    for index, feature in enumerate(features):
        props = (feature or {}).get("properties") or {}
        missing = [k for k in ("code", "name", "community") if not str(props.get(k) or "").strip()]
        if missing:
            errors.append({"feature": index, "message": f"missing properties: {', '.join(missing)}"})
            continue
        try:
            with db.session.begin_nested():
                save_grid(str(props["code"]).strip(), str(props["name"]).strip(), str(props["community"]).strip(),
                          feature.get("geometry"), props.get("staff"))
            saved += 1
        except (Invalid, NotFound, Conflict) as exc:
            errors.append({"feature": index, "message": exc.message})
    return saved, errors
