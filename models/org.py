"""The organisation tree (district -> street -> community -> residential area) and grids."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import JSONType

ORG_KINDS = ("district", "street", "community", "area")


class OrgUnit(db.Model):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])


class Grid(db.Model):
    """A grid (网格): a polygon of a community with its named responsible people (9.1.3)."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # GeoJSON geometry (Polygon or MultiPolygon), lon/lat (WGS84).
    boundary: Mapped[dict] = mapped_column(JSONType)
    # Named responsible people: grid_admin, police, environment, mediator, property.
    staff: Mapped[dict] = mapped_column(JSONType, default=dict)

    community: Mapped[OrgUnit] = relationship()
