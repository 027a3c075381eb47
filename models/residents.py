"""Residents' side: the address list of each community, Open311 API clients and the tokens
of Open311 requests that are opened later by a worker ("batch" services)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import JSONType, UTCDateTime, utcnow
from models.org import OrgUnit

TOKEN_STATES = ("pending", "opening", "opened", "failed")


class Address(db.Model):
    """A room of the community's address list (building / unit / room), with the point of its
    building so a request from it lands in the right grid."""

    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint("community_id", "building", "unit", "room", name="uq_addresses_room"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    room: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    community: Mapped[OrgUnit] = relationship()

    @property
    def label(self) -> str:
        """锦绣社区 1幢 2单元 301室: the way the address is written on the case."""
        return f"{self.community.name} {self.building} {self.unit} {self.room}"


class Open311Client(db.Model):
    """A system allowed to POST Open311 requests. Only the SHA-256 of its key is kept."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Open311Token(db.Model):
    """An accepted Open311 POST of a "batch" service: a worker opens its case later and the
    client reads the service_request_id through GET tokens/{token}."""

    __tablename__ = "open311_tokens"
    __table_args__ = (Index("ix_open311_tokens_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id"))
    service_code: Mapped[str] = mapped_column(String(48))
    # The validated request; the phone in it is already SM4-encrypted.
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[Open311Client] = relationship()
