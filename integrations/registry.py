"""The device registry (7.3.7, 8.2.1.2): register, change, retire devices and issue their keys.

A device's key is shown once, when it is issued; only its SHA-256 is stored, and its
Mosquitto hash for the broker's password file (the device signs in to the broker with its code
and key). A device is placed in a community (by code) and a grid: the one named, else the grid
holding its point. After a change the local broker's password file is written again.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func, select

from extensions import db
from handlers.errors import Conflict, Invalid, NotFound
from handlers.grids import place_point
from integrations.broker_files import mosquitto_hash, refresh_local_broker
from integrations.directory import forget_devices, hash_device_key
from models import Alarm, Case, Device, Grid, OrgUnit, transaction
from models.alarms import DeviceCommand, IngestedMessage, Measurement
from models.devices import DEVICE_KINDS

CODE = r"^[A-Za-z0-9_.\-]{1,64}$"


class DeviceFields(BaseModel):
    """What may be set on a device; every field optional (a change)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: str | None = Field(None, description="one of the device kinds, see docs/devices.md")
    name: str | None = Field(None, min_length=1, max_length=128)
    community: str | None = Field(None, max_length=64, description="community code")
    grid: str | None = Field(None, max_length=64, description="grid code; default: the grid holding lat/lon")
    building: str | None = Field(None, max_length=32, description="building, for door-unlock linkage")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        if value is not None and value not in DEVICE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(DEVICE_KINDS)}")
        return value


class DeviceIn(DeviceFields):
    """A new device: code, kind, name and community are required."""

    code: str = Field(..., pattern=CODE, description="the device's own id, as in its MQTT topic")
    kind: str
    name: str = Field(..., min_length=1, max_length=128)
    community: str = Field(..., max_length=64)
    key: str | None = Field(None, min_length=16, max_length=128,
                            description="the device key; default: one is generated and returned once")


@dataclass
class Placement:
    community_id: int
    grid_id: int | None


def new_device_key() -> str:
    return secrets.token_urlsafe(24)


def key_hashes(key: str) -> dict[str, str]:
    """What a device row keeps of its key: the SHA-256 the ingest checks, the broker's hash."""
    return {"key_hash": hash_device_key(key), "broker_hash": mosquitto_hash(key)}


def _registry_changed() -> None:
    forget_devices()
    refresh_local_broker(current_app.config)


def place_device(community: str, grid: str | None, lat: float | None, lon: float | None) -> Placement:
    """The community and grid of a device; raises Invalid naming the field."""
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither", details={"lat": "lat and lon go together"})
    community_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == community,
                                                              OrgUnit.kind == "community"))
    if community_id is None:
        raise Invalid(f"unknown community {community!r}", details={"community": "unknown community"})
    if grid:
        found = db.session.execute(select(Grid.id, Grid.community_id).where(Grid.code == grid)).first()
        if found is None:
            raise Invalid(f"unknown grid {grid!r}", details={"grid": "unknown grid"})
        if found.community_id != community_id:
            raise Invalid(f"grid {grid} is not in community {community}", details={"grid": "not in the community"})
        return Placement(community_id, found.id)
    if lat is not None:
        placed = place_point(lat, lon)
        if placed is not None and placed.community_id == community_id:
            return Placement(community_id, placed.grid_id)
    return Placement(community_id, None)


def _device(device_id: int) -> Device:
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}")
    return device


def create_device(data: DeviceIn) -> tuple[Device, str]:
    """Register a device; returns it and its key (shown this once). Raises Invalid, Conflict."""
    with transaction():
        if db.session.scalar(select(Device.id).where(Device.code == data.code)) is not None:
            raise Conflict(f"a device {data.code} exists already", details={"code": "taken"})
        placement = place_device(data.community, data.grid, data.lat, data.lon)
        key = data.key or new_device_key()
        device = Device(code=data.code, kind=data.kind, name=data.name, community_id=placement.community_id,
                        grid_id=placement.grid_id, building=data.building, lat=data.lat, lon=data.lon,
                        status="unknown", **key_hashes(key))
        db.session.add(device)
    _registry_changed()
    return device, key


def update_device(device_id: int, change: DeviceFields) -> Device:
    """Change a device's fields; raises NotFound, Invalid."""
    given = change.model_dump(exclude_unset=True)
    with transaction():
        device = _device(device_id)
        for name in ("kind", "name", "building", "lat", "lon"):
            if name in given:
                if name in ("kind", "name") and given[name] is None:
                    raise Invalid(f"{name} cannot be empty", details={name: "required"})
                setattr(device, name, given[name])
        if {"community", "grid", "lat", "lon"} & set(given):
            community = given.get("community") or db.session.get(OrgUnit, device.community_id).code
            grid = given.get("grid") if "grid" in given else None
            placement = place_device(community, grid, device.lat, device.lon)
            device.community_id, device.grid_id = placement.community_id, placement.grid_id
    forget_devices()
    return device


def rotate_key(device_id: int) -> str:
    """Issue a new key for the device (the old one stops working); raises NotFound."""
    key = new_device_key()
    with transaction():
        device = _device(device_id)
        device.key_hash, device.broker_hash = key_hashes(key).values()
    _registry_changed()
    return key


def delete_device(device_id: int) -> None:
    """Remove a device with its alarms and readings; raises NotFound, and Conflict while
    cases refer to it (they are the record: keep the device)."""
    with transaction():
        device = _device(device_id)
        cases = db.session.scalar(select(func.count()).select_from(Case).where(Case.device_id == device_id))
        if cases:
            raise Conflict(f"device {device.code} has {cases} case(s): it stays for the record")
        for model in (DeviceCommand, Measurement, IngestedMessage, Alarm):
            db.session.execute(delete(model).where(model.device_id == device_id))
        db.session.delete(device)
    _registry_changed()


@dataclass
class RowError:
    row: int
    column: str
    message: str


def import_devices(rows: list[tuple[int, DeviceIn]]) -> tuple[list[str], list[str], dict[str, str], list[RowError]]:
    """Create or update devices by code, all or nothing: (created, updated, keys of the new
    devices, row errors). Nothing is written when any row is wrong."""
    errors: list[RowError] = []
    created, updated, keys = [], [], {}
    with transaction():
        existing = {d.code: d for d in db.session.scalars(
            select(Device).where(Device.code.in_([data.code for _, data in rows] or [""])))}
        for row, data in rows:
            try:
                placement = place_device(data.community, data.grid, data.lat, data.lon)
            except Invalid as exc:
                errors.extend(RowError(row, column, f"{message}: {exc.message}")
                              for column, message in exc.details.items())
                continue
            device = existing.get(data.code)
            if device is None:
                key = data.key or new_device_key()
                device = Device(code=data.code, status="unknown", **key_hashes(key))
                db.session.add(device)
                created.append(data.code)
                keys[data.code] = key
            else:
                updated.append(data.code)
                if data.key:
                    device.key_hash, device.broker_hash = key_hashes(data.key).values()
            device.kind, device.name, device.building = data.kind, data.name, data.building
            device.lat, device.lon = data.lat, data.lon
            device.community_id, device.grid_id = placement.community_id, placement.grid_id
        if errors:
            db.session.rollback()
            return [], [], {}, errors
    _registry_changed()
    return created, updated, keys, []
