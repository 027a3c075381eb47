"""Which grid a point lies in: shapely polygons behind an STRtree, cached per process."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import current_app
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep

from extensions import db
from models import Grid


@dataclass(frozen=True)
class Placement:
    community_id: int
    grid_id: int | None  # None: outside every grid, the community's unassigned queue


class _GridIndex:
    def __init__(self, rows: list[Grid]) -> None:
        self.ids = [(g.id, g.community_id) for g in rows]
        self.codes = {g.id: g.code for g in rows}
        self.shapes = [shape(g.boundary) for g in rows]
        self.prepared = [prep(s) for s in self.shapes]
        self.tree = STRtree(self.shapes) if self.shapes else None
        self.loaded_at = time.monotonic()

    def place(self, lat: float, lon: float) -> Placement | None:
        if self.tree is None:
            return None
        point = Point(lon, lat)
        for i in sorted(self.tree.query(point)):
            if self.prepared[i].covers(point):
                return Placement(self.ids[i][1], self.ids[i][0])
        # Outside every grid: the nearest grid's community keeps it, unassigned.
        nearest = int(self.tree.nearest(point))
        return Placement(self.ids[nearest][1], None)


_lock = threading.Lock()
_index: _GridIndex | None = None


def _current_index() -> _GridIndex:
    global _index
    ttl = current_app.config["GRID_CACHE_SECONDS"]
    index = _index
    if index is None or time.monotonic() - index.loaded_at > ttl:
        with _lock:
            index = _GridIndex(list(db.session.scalars(db.select(Grid).order_by(Grid.id))))
            _index = index
    return index


def invalidate_grid_index() -> None:
    """Forget the cached polygons; call after grids are created, moved or deleted."""
    global _index
    _index = None


def grid_code(grid_id: int | None) -> str | None:
    """The code of a grid, from the cached index (reloaded once for a grid it does not know)."""
    if grid_id is None:
        return None
    code = _current_index().codes.get(grid_id)
    if code is None:
        invalidate_grid_index()
        code = _current_index().codes.get(grid_id)
    return code


def place_point(lat: float, lon: float) -> Placement | None:
    """The grid (and community) holding the point; None when no grid exists at all."""
    return _current_index().place(lat, lon)
