"""Grids as GeoJSON, for maps and third parties."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from extensions import db
from models import Grid, OrgUnit
from web.api import api_bp
from web.api.openapi import documented
from web.api.schemas import GridCollection


@api_bp.get("/grids")
@documented("The grids as a GeoJSON FeatureCollection", response=GridCollection, tag="grids")
def list_grids():
    rows = db.session.execute(
        select(Grid, OrgUnit.code, OrgUnit.name).join(OrgUnit, Grid.community_id == OrgUnit.id)
        .order_by(Grid.code)).all()
    return jsonify({"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": grid.code, "geometry": grid.boundary,
        "properties": {"id": grid.code, "name": grid.name, "community": code,
                       "community_name": name, "staff": grid.staff or {}},
    } for grid, code, name in rows]})
