"""What the resident pages show: the grid map, the address list, a request's progress."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select

from extensions import db
from forms.requests import QUESTION_SETS, attribute_label, pick
from handlers.catalogue import categories
from handlers.crypto import decrypt_personal, mask_name, mask_phone
from handlers.tasks import open_rating_task_id
from models import Case, Grid, OrgUnit, Photo
from residents.progress import (
    Step,
    answer_of,
    case_events,
    rating_of,
    status_words,
    timeline,
)
from residents.requests import addresses_of, request_details

MAP_WIDTH = 1000
# Pixels: the least height of the map on a screen, so a finger can pick a place.
MAP_TAP_HEIGHT = 240


def communities() -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "community").order_by(OrgUnit.code)))


def address_tree(community: OrgUnit) -> dict:
    """{"buildings": [{"name", "units": [{"name", "rooms": [{"id", "name"}]}]}]} for the selects."""
    buildings: dict[str, dict[str, list]] = {}
    for row in addresses_of(community.id):
        buildings.setdefault(row.building, {}).setdefault(row.unit, []).append({"id": row.id, "name": row.room})
    return {"community": community.code, "buildings": [
        {"name": name, "units": [{"name": unit, "rooms": rooms} for unit, rooms in units.items()]}
        for name, units in sorted(buildings.items(), key=lambda kv: _natural(kv[0]))]}


def _natural(text: str) -> tuple:
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else math.inf, text)


def grid_map() -> dict:
    """The grids drawn in a 1000-unit-wide SVG, and how to turn a tap back into lat/lon."""
    grids = list(db.session.scalars(select(Grid).order_by(Grid.code)))
    rings = [(g, _outer_ring(g.boundary)) for g in grids]
    points = [p for _, ring in rings for p in ring]
    if not points:
        return {"polygons": [], "width": MAP_WIDTH, "height": 0}
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    pad_x, pad_y = (east - west) * 0.04 or 0.001, (north - south) * 0.08 or 0.001
    west, east, south, north = west - pad_x, east + pad_x, south - pad_y, north + pad_y
    # A degree of longitude is shorter than one of latitude by cos(latitude).
    x_scale = MAP_WIDTH / (east - west)
    y_scale = x_scale / math.cos(math.radians((north + south) / 2))
    height = round((north - south) * y_scale)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - west) * x_scale, 1), round((north - lat) * y_scale, 1)

    polygons = []
    for grid, ring in rings:
        pts = [xy(lon, lat) for lon, lat in ring]
        cx = sum(p[0] for p in pts) / len(pts)
        cy = sum(p[1] for p in pts) / len(pts)
        polygons.append({"code": grid.code, "name": grid.name, "community_id": grid.community_id,
                         "points": " ".join(f"{x},{y}" for x, y in pts), "cx": round(cx), "cy": round(cy)})
    # A long, thin area would be a sliver on a phone: draw it tall enough to tap, and let it scroll.
    aspect = MAP_WIDTH / max(height, 1)
    css_width = f"{round(MAP_TAP_HEIGHT * aspect)}px" if aspect > 1.8 else "100%"
    return {"polygons": polygons, "width": MAP_WIDTH, "height": height, "css_width": css_width,
            "west": west, "north": north, "x_scale": x_scale, "y_scale": y_scale}


def _outer_ring(geometry: dict) -> list[tuple[float, float]]:
    coords = geometry.get("coordinates") or []
    if geometry.get("type") == "MultiPolygon":
        coords = coords[0] if coords else []
    return [(float(lon), float(lat)) for lon, lat, *_ in (coords[0] if coords else [])]


@dataclass
class RequestView:
    case: Case
    type_label: str
    category_label: str
    status: str
    steps: list[Step]
    answer: str | None
    rating: str | None
    attributes: list[tuple[str, str]]
    photos: list[Photo]
    reporter_name: str
    reporter_phone: str
    awaiting_rating: bool


def _type_label(questions, cat) -> str:
    """The pick page's name of the request: its question set's (hazards), else its category's."""
    if questions is not None and questions.TITLE[0]:
        return pick(*questions.TITLE)
    return pick(cat.zh, cat.en) if cat else ""


def request_view(case: Case) -> RequestView:
    """Everything the tracking page shows of one request; personal data masked."""
    events = case_events(case)
    details = request_details(case)
    questions = QUESTION_SETS.get(details.get("type") or "")
    attributes = []
    if questions is not None:
        form = questions(contact_required=False)
        for name, value in (details.get("attributes") or {}).items():
            if hasattr(form, name):
                attributes.append((str(getattr(form, name).label.text),
                                   attribute_label(questions.code, name, value)))
    try:
        phone = mask_phone(decrypt_personal(case.reporter_phone)) if case.reporter_phone else ""
    except ValueError:
        phone = "***"
    cat = categories().get(case.category)
    awaiting = open_rating_task_id(case.id) is not None
    return RequestView(
        case=case, type_label=_type_label(questions, cat) if details else "",
        category_label=pick(cat.zh, cat.en) if cat else case.category,
        status=status_words(case.status), steps=timeline(case, events), answer=answer_of(case, events),
        rating=rating_of(events), attributes=attributes,
        photos=list(db.session.scalars(select(Photo).where(Photo.case_id == case.id).order_by(Photo.uploaded_at))),
        reporter_name=mask_name(case.reporter_name), reporter_phone=phone, awaiting_rating=awaiting,
    )


def my_cases(user_id: int, limit: int = 50) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.reporter_id == user_id)
                                   .order_by(Case.opened_at.desc()).limit(limit)))


def cases_by_refs(refs: list[str]) -> list[Case]:
    if not refs:
        return []
    return list(db.session.scalars(select(Case).where(Case.ref.in_(refs)).order_by(Case.opened_at.desc())))
