"""The device directory of an ingest process: who a message comes from, and its key.

Every message names its device; reading the row each time would cost more than the rest of
the ingest. The directory is loaded once, trusted for ``DEVICE_CACHE_SECONDS``, and a code it
does not know (a device registered a moment ago) is looked up once, then remembered as
unknown for a while so a flood from an unregistered device cannot flood the database.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from extensions import db
from models import Device, OrgUnit

# Seconds a code found unknown stays unknown: a flood from an unregistered device costs one
# indexed lookup a second, and a device registered a moment later is heard within a second
# (its messages until then are dead letters, not alarms).
UNKNOWN_TTL = 1.0


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    code: str
    kind: str
    community_id: int
    community: str  # the community's code, as in the topic
    grid_id: int | None
    building: str | None
    key_hash: str | None


def hash_device_key(key: str) -> str:
    """What is stored of a device key: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(device: DeviceInfo, key: str | None) -> bool:
    if not key or not device.key_hash:
        return False
    return hmac.compare_digest(device.key_hash, hash_device_key(key))


def _query():
    return select(Device.id, Device.code, Device.kind, Device.community_id, OrgUnit.code,
                  Device.grid_id, Device.building, Device.key_hash).join(
        OrgUnit, OrgUnit.id == Device.community_id)


class _Directory:
    def __init__(self) -> None:
        self.by_code: dict[str, DeviceInfo] = {}
        self.by_id: dict[int, DeviceInfo] = {}
        self.unknown: dict[str, float] = {}
        self.loaded_at = float("-inf")

    def load_all(self) -> None:
        rows = [DeviceInfo(*row) for row in db.session.execute(_query())]
        self.by_code = {d.code: d for d in rows}
        self.by_id = {d.id: d for d in rows}
        self.unknown = {}
        self.loaded_at = time.monotonic()

    def load_one(self, **where) -> DeviceInfo | None:
        query = _query()
        for column, value in where.items():
            query = query.where(getattr(Device, column) == value)
        row = db.session.execute(query).first()
        if row is None:
            return None
        device = DeviceInfo(*row)
        self.by_code[device.code] = device
        self.by_id[device.id] = device
        return device


_lock = threading.Lock()
_directories: dict[str, _Directory] = {}


def _directory() -> _Directory:
    # One per database: tests run both backends in one process.
    url = str(db.engine.url)
    with _lock:
        directory = _directories.setdefault(url, _Directory())
        if time.monotonic() - directory.loaded_at > current_app.config["DEVICE_CACHE_SECONDS"]:
            directory.load_all()
    return directory


def device_by_code(code: str) -> DeviceInfo | None:
    """The device with this code, or None (remembered for a few seconds)."""
    directory = _directory()
    device = directory.by_code.get(code)
    if device is not None:
        return device
    if time.monotonic() - directory.unknown.get(code, float("-inf")) < UNKNOWN_TTL:
        return None
    with _lock:
        device = directory.load_one(code=code)
        if device is None:
            directory.unknown[code] = time.monotonic()
    return device


def device_by_id(device_id: int) -> DeviceInfo | None:
    directory = _directory()
    device = directory.by_id.get(device_id)
    if device is None:
        with _lock:
            device = directory.load_one(id=device_id)
    return device


def refreshed(device: DeviceInfo) -> DeviceInfo | None:
    """The device read again (its key or kind may have changed since it was cached)."""
    directory = _directory()
    with _lock:
        found = directory.load_one(id=device.id)
        if found is None:
            directory.by_code.pop(device.code, None)
            directory.by_id.pop(device.id, None)
    return found


def forget_devices() -> None:
    """Drop every cached directory (after devices are written in this process, and in tests)."""
    with _lock:
        _directories.clear()
