"""POST /api/v1/devices/<id>/events: the same payloads over HTTP, with X-Device-Key."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from extensions import db
from models import DeadLetter, Device
from tests.integrations.helpers import cases_of, event, run_jobs
from web.commands.demo import device_key


def device_id(code: str) -> int:
    return db.session.scalar(select(Device.id).where(Device.code == code))


def post_event(client, code: str, payload, key: str | None = "own", device: int | None = None):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Device-Key"] = device_key(code) if key == "own" else key
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(f"/api/v1/devices/{device or device_id(code)}/events", data=body, headers=headers)


def test_a_street_light_reports_a_fault_over_http_and_its_case_opens(client, devices):
    message = event("lamp_fault", readings={"voltage_v": 221.5, "current_a": 0.0})
    answer = post_event(client, "street_light-01", message)
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "applied"
    assert [(a["type"], a["status"], a["count"]) for a in body["alarms"]] == [("lamp_fault", "active", 1)]
    again = post_event(client, "street_light-01", message)  # the device retries the same msg_id
    assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
    repeat = post_event(client, "street_light-01", event("lamp_fault"))
    assert repeat.get_json()["alarms"][0]["count"] == 2
    run_jobs()
    assert [c.category for c in cases_of("street_light-01")] == ["streetlight_lamp_fault"]
    cleared = post_event(client, "street_light-01", event("lamp_fault", state="clear"))
    assert cleared.get_json()["alarms"][0]["status"] == "cleared"
    run_jobs()
    assert cases_of("street_light-01")[0].status == "auto_closed"
    heartbeat = post_event(client, "street_light-01", event("heartbeat", readings={"power_w": 80}))
    assert (heartbeat.status_code, heartbeat.get_json()["alarms"]) == (202, [])
    assert db.session.scalar(select(Device.status).where(Device.code == "street_light-01")) == "online"


@pytest.mark.parametrize("payload, key, device, status, reason", [
    (event("lamp_fault"), None, None, 401, "missing_key"),
    (event("lamp_fault"), "demo-key-street_light-02", None, 401, "wrong_key"),
    (event("lamp_fault"), "own", 999999, 404, "unknown_device"),
    (b"{not json", "own", None, 400, "bad_json"),
    (b"", "own", None, 400, "bad_json"),
    (json.dumps(event("lamp_fault", colour="red")), "own", None, 422, "invalid_payload"),
    (event("smoke"), "own", None, 422, "unknown_type"),
    (event("reading", readings={"voltage_v": -3}), "own", None, 422, "bad_reading"),
    (b"{" + b" " * 20000 + b"}", "own", None, 413, "too_large"),
])
def test_a_bad_event_gets_a_clear_4xx_and_is_kept_as_a_dead_letter(client, devices, payload, key, device,
                                                                  status, reason):
    answer = post_event(client, "street_light-01", payload, key=key, device=device)
    assert answer.status_code == status, answer.get_json()
    body = answer.get_json()
    assert body["error"] == reason and body["message"]
    letter = db.session.scalar(select(DeadLetter).order_by(DeadLetter.id.desc()))
    assert (letter.channel, letter.reason) == ("http", reason)


def test_administrators_see_the_dead_letters_and_others_do_not(client, devices, auth):
    post_event(client, "street_light-01", b"{broken")
    post_event(client, "street_light-01", event("lamp_fault"), key="nope-nope-nope-nope")
    answer = client.get("/api/v1/dead-letters?limit=1", headers=auth("admin"))
    assert answer.status_code == 200
    page = answer.get_json()
    assert [i["reason"] for i in page["items"]] == ["wrong_key"] and page["next"]
    rest = client.get(f"/api/v1/dead-letters?cursor={page['next']}", headers=auth("admin")).get_json()
    assert [i["reason"] for i in rest["items"]] == ["bad_json"] and rest["next"] is None
    assert client.get("/api/v1/dead-letters?reason=bad_json", headers=auth("admin")).get_json()["items"][0][
        "payload"] == "{broken"
    assert client.get("/api/v1/dead-letters", headers=auth("dispatcher")).status_code == 403
    assert client.get("/api/v1/dead-letters", headers=auth("gw01")).status_code == 403


def test_each_device_and_each_gateway_address_have_their_own_rate_limits(client, devices):
    devices.config.update(DEVICE_EVENT_RATE_LIMIT="3/minute", DEVICE_EVENT_IP_RATE_LIMIT="100/minute")
    statuses = [post_event(client, "street_light-01", event("heartbeat")).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    devices.config["DEVICE_EVENT_IP_RATE_LIMIT"] = "2/minute"
    gateway = {"REMOTE_ADDR": "10.20.30.40"}  # a gateway posting for many devices
    statuses = []
    for code in ("street_light-02", "fire_hydrant-01", "fire_hydrant-02"):
        headers = {"X-Device-Key": device_key(code)}
        statuses.append(client.post(f"/api/v1/devices/{device_id(code)}/events", json=event("heartbeat"),
                                    headers=headers, environ_base=gateway).status_code)
    assert statuses == [202, 202, 429]
