"""Devices: the registry (CRUD, Excel template and import) and events sent over HTTP."""
from __future__ import annotations

from datetime import datetime

from flask import Response, current_app, g, jsonify, request
from pydantic import BaseModel

from extensions import db, limiter
from handlers.errors import Invalid, NotFound
from integrations.device_sheet import read_devices, template_workbook
from integrations.ingest import Incoming, ingest_isolated
from integrations.payloads import EventIn, storable_text
from integrations.registry import (
    DeviceFields,
    DeviceIn,
    create_device,
    delete_device,
    import_devices,
    rotate_key,
    update_device,
)
from integrations.sharing import devices_out, devices_page, page_size
from models import Device, utcnow
from web.access import caller_scope, requires
from web.api import api_bp, parse_body
from web.api.openapi import documented
from web.errors import error_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A rejected device message: the reason code and its HTTP status.
REJECTION_STATUS = {"unknown_device": 404, "missing_key": 401, "wrong_key": 401, "bad_json": 400,
                    "too_large": 413, "invalid_payload": 422, "unknown_type": 422, "bad_reading": 422,
                    "unknown_kind": 422, "processing_failed": 422}


class DeviceOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    community: str | None
    grid: str | None
    building: str | None
    lat: float | None
    lon: float | None
    status: str
    last_seen_at: datetime | None


class DeviceList(BaseModel):
    items: list[DeviceOut]
    next: str | None


class DeviceWithKey(DeviceOut):
    key: str


class KeyOut(BaseModel):
    key: str


class ImportRowError(BaseModel):
    row: int
    column: str
    message: str


class ImportOut(BaseModel):
    created: list[str]
    updated: list[str]
    keys: dict[str, str]


class EventAlarm(BaseModel):
    id: int | None
    type: str
    status: str
    severity: str
    count: int


class EventAccepted(BaseModel):
    status: str
    alarms: list[EventAlarm]


def manages_devices(view):
    """A change to the registry: a user's token whose role has ``devices.manage`` (API keys
    read devices; they do not change them)."""
    return requires("devices.manage")(view)


def _one(device_id: int) -> Device:
    """The device, if the caller's place holds it (else 404, as if it did not exist)."""
    device = db.session.get(Device, device_id)
    if device is None or not caller_scope().covers_place(device.community_id, device.grid_id):
        raise NotFound(f"no device {device_id}")
    return device


@api_bp.get("/devices")
@documented("Devices, with filters and paging", response=DeviceList, errors=(400, 403), tag="devices",
            query={"kind": "a device kind", "grid": "a grid code", "community": "a community code",
                   "status": "unknown, online or offline", "cursor": "the 'next' of the previous page",
                   "limit": "1-500, default 100"})
def list_devices():
    """Only the devices of the caller's place (``handlers.scopes``)."""
    page = devices_page(request.args, page_size(request.args.get("limit")), caller_scope())
    return jsonify({"items": page.items, "next": page.next})


@api_bp.get("/devices/<int:device_id>")
@documented("One device", response=DeviceOut, errors=(403, 404), tag="devices")
def show_device(device_id: int):
    return jsonify(devices_out([_one(device_id)])[0])


@api_bp.post("/devices")
@manages_devices
@documented("Register a device; its key is returned this once", body=DeviceIn, response=DeviceWithKey,
            status=201, errors=(400, 403, 409, 422), tag="devices")
def register_device():
    device, key = create_device(parse_body(DeviceIn))
    return jsonify({**devices_out([device])[0], "key": key}), 201


@api_bp.patch("/devices/<int:device_id>")
@manages_devices
@documented("Change a device", body=DeviceFields, response=DeviceOut, errors=(400, 403, 404, 422),
            tag="devices")
def change_device(device_id: int):
    return jsonify(devices_out([update_device(device_id, parse_body(DeviceFields))])[0])


@api_bp.delete("/devices/<int:device_id>")
@manages_devices
@documented("Remove a device (409 while cases refer to it)", status=204, errors=(403, 404, 409),
            tag="devices")
def remove_device(device_id: int):
    delete_device(device_id)
    return "", 204


@api_bp.post("/devices/<int:device_id>/key")
@manages_devices
@documented("Issue a new key for a device (the old one stops working)", response=KeyOut,
            errors=(403, 404), tag="devices")
def new_key(device_id: int):
    return jsonify({"key": rotate_key(device_id)})


@api_bp.get("/devices/template.xlsx")
@manages_devices
@documented("The Excel template for importing devices", errors=(403,), tag="devices")
def device_template():
    return Response(template_workbook(), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=devices-template.xlsx"})


@api_bp.post("/devices/import")
@manages_devices
@documented("Import devices from a filled template (multipart 'file', or the .xlsx as the body)",
            response=ImportOut, errors=(400, 403, 422), tag="devices")
def import_device_sheet():
    """All or nothing: when any row is wrong nothing is written and the 422 lists every wrong
    cell (``details.rows``: row, column, message). Devices are matched by code: a known code is
    updated, a new one created and its generated key returned once in ``keys``."""
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise Invalid("send the .xlsx as multipart field 'file' or as the request body")
    rows, errors = read_devices(data)
    if not errors:
        created, updated, keys, errors = import_devices(rows)
    if errors:
        listed = [{"row": e.row, "column": e.column, "message": e.message} for e in errors]
        return error_response(422, "invalid", f"{len(listed)} problem(s) in the file; nothing was imported",
                              {"rows": listed})
    return jsonify({"created": created, "updated": updated, "keys": keys})


def _device_rate() -> str:
    return current_app.config["DEVICE_EVENT_RATE_LIMIT"]


def _address_rate() -> str:
    return current_app.config["DEVICE_EVENT_IP_RATE_LIMIT"]


def _device_key() -> str:
    return f"device:{(request.view_args or {}).get('device_ref')}"


@api_bp.post("/devices/<device_ref>/events")
@limiter.limit(_device_rate, key_func=_device_key)
@limiter.limit(_address_rate, key_func=lambda: f"ip:{request.remote_addr}")
@documented("Send a device event over HTTP (the MQTT event payload; key in X-Device-Key)", body=EventIn,
            response=EventAccepted, status=202, errors=(400, 401, 404, 413, 422, 429), tag="devices", public=True)
def device_event(device_ref: str):
    """For devices without MQTT (street lights, NB-IoT platforms), named by code (or id).
    202 when applied, 200 when the msg_id was applied before (a retry). A rejected event is
    kept as a dead letter and answered with its reason: 401 missing or wrong key, 404 unknown
    device, 400 not JSON, 413 too large, 422 not a valid event of the device's kind (or one
    we failed to process: kept for the administrators). Each device may send
    ``DEVICE_EVENT_RATE_LIMIT`` events, each address ``DEVICE_EVENT_IP_RATE_LIMIT`` (429 beyond)."""
    g.principal_name = f"device:{storable_text(device_ref)[:64]}"
    incoming = Incoming("http", request.get_data(), utcnow(), device_code=device_ref,
                        key=request.headers.get("X-Device-Key"), remote_addr=request.remote_addr)
    outcome = ingest_isolated([incoming])[0]
    if outcome.status == "rejected":
        return error_response(REJECTION_STATUS.get(outcome.reason, 400), outcome.reason, outcome.detail)
    return jsonify({"status": outcome.status, "alarms": outcome.alarms}), 202 if outcome.status == "applied" else 200


# Whatever bytes a device sends are its message: the ingest keeps what it cannot apply as a
# dead letter (escaped or base64), so the request-level input check (web.input_guard) lets
# this view have them as they are.
device_event.accepts_raw_input = True
