"""The device registry: sensors and gateways that raise alarms (6.2.x)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import UTCDateTime, utcnow
from models.org import Grid, OrgUnit

DEVICE_KINDS = (
    "manhole_cover", "street_light", "elevator", "water_tank", "water_quality",
    "smoke_detector", "heat_detector", "gas_detector", "fire_door", "fire_hydrant",
    "fire_lane", "ebike_camera", "throwing_camera", "perimeter_fence",
    "environment_station", "emergency_button", "garbage_bin", "door_controller",
    "sound_light_alarm",
)


class Device(db.Model):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The device's own id, as in its MQTT topic.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    key_hash: Mapped[str | None] = mapped_column(String(256))
    # The key again in Mosquitto's password-file form (PBKDF2-SHA512, "$7$..."), computed when
    # the key is issued: the broker's password file is written from it (integrations.broker_files).
    broker_hash: Mapped[str | None] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[OrgUnit] = relationship()
    grid: Mapped[Grid | None] = relationship()
