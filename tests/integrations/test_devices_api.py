"""The device registry (CRUD, Excel template and import) and sharing devices and alarms."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from extensions import db
from integrations.directory import hash_device_key
from models import Device
from tests.integrations.helpers import event, run_jobs

NEW = {"code": "door-6-1", "kind": "door_controller", "name": "6幢1单元门禁", "community": "cuiyuan",
       "building": "6幢", "lat": 30.275, "lon": 120.145}


def test_register_change_rekey_and_remove_a_device(client, devices, auth):
    admin = auth("admin")
    made = client.post("/api/v1/devices", json=NEW, headers=admin)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["grid"], body["status"], len(body["key"]) >= 16) == ("CY-02", "unknown", True)
    stored = db.session.scalar(select(Device.key_hash).where(Device.code == "door-6-1"))
    assert stored == hash_device_key(body["key"])
    assert client.post("/api/v1/devices", json=NEW, headers=admin).status_code == 409
    bad = client.post("/api/v1/devices", json={**NEW, "code": "x 1", "kind": "toaster", "lat": 100},
                      headers=admin)
    assert bad.status_code == 422 and {"code", "kind", "lat"} <= set(bad.get_json()["details"])
    assert client.post("/api/v1/devices", json={**NEW, "code": "d2", "grid": "JX-01"},
                       headers=admin).get_json()["error"] == "invalid"
    changed = client.patch(f"/api/v1/devices/{body['id']}", json={"grid": "CY-03", "name": "新门禁"}, headers=admin)
    assert (changed.status_code, changed.get_json()["grid"], changed.get_json()["name"]) == (200, "CY-03", "新门禁")
    key = client.post(f"/api/v1/devices/{body['id']}/key", headers=admin).get_json()["key"]
    assert key != body["key"]
    # The dispatcher of its community reads it; for the other community's it does not exist.
    assert client.get(f"/api/v1/devices/{body['id']}", headers=auth("dispatcher2")).get_json()["code"] == "door-6-1"
    assert client.get(f"/api/v1/devices/{body['id']}", headers=auth("dispatcher")).status_code == 404
    assert client.post("/api/v1/devices", json={**NEW, "code": "d3"}, headers=auth("dispatcher")).status_code == 403
    assert client.delete(f"/api/v1/devices/{body['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/devices/{body['id']}", headers=admin).status_code == 404


def test_a_device_with_cases_stays_for_the_record(client, devices, auth):
    smoke = db.session.scalar(select(Device.id).where(Device.code == "smoke_detector-01"))
    client.post(f"/api/v1/devices/{smoke}/events", json=event("smoke"),
                headers={"X-Device-Key": "demo-key-smoke_detector-01"})
    run_jobs()
    answer = client.delete(f"/api/v1/devices/{smoke}", headers=auth("admin"))
    assert answer.status_code == 409 and "case" in answer.get_json()["message"]


def test_excel_template_and_import_with_row_by_row_errors(client, devices, auth):
    admin = auth("admin")
    template = client.get("/api/v1/devices/template.xlsx", headers=admin)
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(template.data))
    sheet = book["devices"]
    assert [c.value for c in sheet[1]][:2] == ["设备编号 code", "设备类型 kind"]
    sheet.append(["gb-9", "garbage_bin", "9号垃圾桶", "jinxiu", None, None, 30.275, 120.105, None])
    sheet.append(["gb-10", "toaster", "", "jinxiu", "JX-09", None, 30.275, 120.105, "short"])
    sheet.append(["sd-9", "smoke_detector", "9幢烟感", "nowhere", None, "9幢", None, None, None])
    sheet.append(["smoke_detector-01", "smoke_detector", "改名的烟感", "cuiyuan", "CY-03", "6幢", None, None, None])
    wrong = io.BytesIO()
    book.save(wrong)
    answer = client.post("/api/v1/devices/import", headers=admin,
                         data={"file": (io.BytesIO(wrong.getvalue()), "devices.xlsx")})
    assert answer.status_code == 422
    problems = {(p["row"], p["column"]) for p in answer.get_json()["details"]["rows"]}
    assert problems == {(3, "kind"), (3, "name"), (3, "key")}
    assert db.session.scalar(select(Device).where(Device.code == "gb-9")) is None
    sheet.delete_rows(3)
    fixed = io.BytesIO()
    book.save(fixed)
    answer = client.post("/api/v1/devices/import", headers=admin, data=fixed.getvalue())
    assert answer.status_code == 422
    assert [(p["row"], p["column"]) for p in answer.get_json()["details"]["rows"]] == [(3, "community")]
    sheet.delete_rows(3)
    good = io.BytesIO()
    book.save(good)
    answer = client.post("/api/v1/devices/import", headers=admin, data={"file": (io.BytesIO(good.getvalue()), "d.xlsx")})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["created"], body["updated"], list(body["keys"])) == (["gb-9"], ["smoke_detector-01"], ["gb-9"])
    gb = db.session.scalar(select(Device).where(Device.code == "gb-9"))
    assert (gb.grid.code, gb.key_hash) == ("JX-01", hash_device_key(body["keys"]["gb-9"]))
    assert client.post("/api/v1/devices/import", headers=admin, data=b"not a workbook").status_code == 422


def test_devices_and_alarms_are_shared_with_filters_and_paging(client, devices, auth):
    headers = auth("supervisor")  # the street's: devices of both communities
    page = client.get("/api/v1/devices?kind=smoke_detector&limit=1", headers=headers).get_json()
    assert [d["code"] for d in page["items"]] == ["smoke_detector-01"] and page["next"]
    rest = client.get(f"/api/v1/devices?kind=smoke_detector&cursor={page['next']}", headers=headers).get_json()
    assert [d["code"] for d in rest["items"]] == ["smoke_detector-02"] and rest["next"] is None
    assert {d["grid"] for d in client.get("/api/v1/devices?grid=JX-01&limit=500", headers=headers)
            .get_json()["items"]} == {"JX-01"}
    for bad in ("kind=toaster", "grid=XX", "status=asleep", "limit=0", "limit=x", "cursor=abc"):
        answer = client.get(f"/api/v1/devices?{bad}", headers=headers)
        assert answer.status_code == 400 and answer.get_json()["error"] == "bad_request", bad
    for code in ("gas_detector-01", "gas_detector-02", "manhole_cover-01"):
        device = db.session.scalar(select(Device.id).where(Device.code == code))
        payload = event("gas" if "gas" in code else "tilt", readings={"lel_pct": 15} if "gas" in code else {})
        client.post(f"/api/v1/devices/{device}/events", json=payload, headers={"X-Device-Key": f"demo-key-{code}"})
    run_jobs()
    alarms = client.get("/api/v1/alarms?status=active&limit=2", headers=headers).get_json()
    assert [a["device"] for a in alarms["items"]] == ["manhole_cover-01", "gas_detector-02"]
    assert all(a["case_ref"] for a in alarms["items"])
    older = client.get(f"/api/v1/alarms?status=active&cursor={alarms['next']}", headers=headers).get_json()
    assert [a["device"] for a in older["items"]] == ["gas_detector-01"] and older["next"] is None
    one = client.get("/api/v1/alarms?device=gas_detector-01", headers=headers).get_json()["items"][0]
    assert (one["type"], one["severity"], one["count"], one["kind"]) == ("gas", "high", 1, "gas_detector")
    assert client.get(f"/api/v1/alarms/{one['id']}", headers=headers).get_json()["case_ref"] == one["case_ref"]
    assert client.get("/api/v1/alarms?kind=manhole_cover", headers=headers).get_json()["items"][0]["type"] == "tilt"
    assert client.get("/api/v1/alarms?since=2000-01-01T00:00:00Z&severity=high", headers=headers).status_code == 200
    assert client.get("/api/v1/alarms?since=yesterday", headers=headers).status_code == 400
    assert client.get("/api/v1/alarms?device=nope", headers=headers).status_code == 400
    assert client.get("/api/v1/alarms", headers=auth("gw01")).status_code == 403


def test_a_third_party_with_an_api_key_reads_but_does_not_write(client, devices, auth):
    made = client.post("/api/v1/api-clients", headers=auth("admin"),
                       json={"name": "city-platform", "api_groups": ["devices"], "rate_limit": "100/minute"})
    key = {"X-Api-Key": made.get_json()["key"]}
    assert client.get("/api/v1/devices", headers=key).status_code == 200
    assert client.get("/api/v1/alarms", headers=key).status_code == 200
    assert client.post("/api/v1/devices", json=NEW, headers=key).status_code == 403
    assert client.get("/api/v1/dead-letters", headers=key).status_code == 403


def test_every_device_and_alarm_call_is_in_the_openapi_document(client, devices):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [("/api/v1/devices", "get"), ("/api/v1/devices", "post"),
                         ("/api/v1/devices/{device_id}", "patch"), ("/api/v1/devices/{device_id}", "delete"),
                         ("/api/v1/devices/{device_ref}/events", "post"), ("/api/v1/devices/{device_id}/key", "post"),
                         ("/api/v1/devices/template.xlsx", "get"), ("/api/v1/devices/import", "post"),
                         ("/api/v1/alarms", "get"), ("/api/v1/alarms/{alarm_id}", "get"),
                         ("/api/v1/dead-letters", "get"), ("/api/v1/webhooks", "post"),
                         ("/api/v1/webhooks/{subscription_id}", "delete")]:
        assert method in paths.get(path, {}), (path, method)
    assert "security" not in paths["/api/v1/devices/{device_ref}/events"]["post"]
