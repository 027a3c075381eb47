"""The JSON API: contracts of DESIGN.md, and every bad input answered with a clear 4xx."""
from __future__ import annotations

import io

import pytest

from tests.builders import IN_JX01, OUTSIDE, image_bytes


def open_via_api(client, headers, **body):
    payload = {"category": "manhole_tilt", "lat": IN_JX01[0], "lon": IN_JX01[1],
               "description": "井盖倾斜", **body}
    return client.post("/api/v1/cases", json=payload, headers=headers)


def test_open_case_returns_ref_grid_deadline_and_first_task(client, auth):
    res = open_via_api(client, auth("gw01"), source="grid_worker")
    assert res.status_code == 201, res.json
    body = res.json
    assert body["grid"] == "JX-01" and body["status"] == "pending_accept"
    assert body["due_at"].endswith("+00:00")
    (task,) = body["tasks"]
    assert (task["name"], task["role"], task["grid"]) == ("受理立案 accept", "dispatcher", "JX-01")

    shown = client.get(f"/api/v1/cases/{body['ref']}", headers=auth("dispatcher")).json
    assert shown["ref"] == body["ref"] and shown["source"] == "grid_worker"
    assert [e["kind"] for e in shown["events"]] == ["opened", "task_created"]
    assert shown["events"][0]["actor"] == "gw01"
    assert shown["tasks"][0]["id"] == task["id"]


def test_whole_path_over_http(client, auth):
    ref = open_via_api(client, auth("gw01")).json["ref"]
    photo = client.post("/api/v1/photos", data={"photo": (io.BytesIO(image_bytes()), "done.png")},
                        headers=auth("gw01")).json["id"]
    steps = [("dispatcher", {"accepted": True}), ("dispatcher", {"department": "municipal", "note": "派"}),
             ("gw01", {"result": "resolved", "note": "修好", "photos": [photo]}),
             ("dispatcher", {"passed": True, "note": "好"}),
             ("dispatcher", {"satisfaction": "satisfied"}), ("dispatcher", {"note": "结案"})]
    for who, data in steps:
        case = client.get(f"/api/v1/cases/{ref}", headers=auth(who)).json
        (task,) = case["tasks"]
        claimed = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth(who))
        assert claimed.status_code == 200 and claimed.json["assignee"] == who
        done = client.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"data": data, "version": case["version"]}, headers=auth(who))
        assert done.status_code == 200, done.json
    assert done.json["status"] == "closed" and done.json["tasks"] == []


def test_task_list_filters(client, auth):
    open_via_api(client, auth("gw01"))
    open_via_api(client, auth("gw01"), lat=OUTSIDE[0], lon=OUTSIDE[1])
    items = client.get("/api/v1/tasks", headers=auth("dispatcher")).json["items"]
    assert sorted(t["grid"] or "-" for t in items) == ["-", "JX-01"]
    assert client.get("/api/v1/tasks?grid=JX-01", headers=auth("dispatcher")).json["items"][0]["grid"] == "JX-01"
    assert client.get("/api/v1/tasks?mine=1", headers=auth("dispatcher")).json["items"] == []
    assert client.get("/api/v1/tasks?overdue=1", headers=auth("dispatcher")).json["items"] == []
    assert client.get("/api/v1/tasks", headers=auth("dispatcher2")).json["items"] == []
    assert client.get("/api/v1/tasks", headers=auth("gw01")).json["items"] == []
    assert client.get("/api/v1/tasks?grid=NOPE", headers=auth("dispatcher")).status_code == 400


def test_point_outside_every_grid_is_kept_unassigned(client, auth):
    res = open_via_api(client, auth("gw01"), lat=OUTSIDE[0], lon=OUTSIDE[1])
    assert res.status_code == 201 and res.json["grid"] is None
    assert res.json["tasks"][0]["role"] == "dispatcher"


@pytest.mark.parametrize("body, status, needle", [
    ({"category": "unicorn", "lat": 30.275, "lon": 120.105}, 422, "unknown category 'unicorn'"),
    ({"category": "repair"}, 422, "lat and lon, or an address"),
    ({"category": "repair", "lat": 91, "lon": 120}, 422, "lat"),
    ({"category": "repair", "lat": 30.27, "lon": 120.1, "severity": "apocalyptic"}, 422, "severity"),
    ({"category": "repair", "lat": 30.27, "lon": 120.1, "surprise": 1}, 422, "surprise"),
    ({"lat": 30.27, "lon": 120.1}, 422, "category"),
    ({"category": "repair", "lat": "north", "lon": 120.1}, 422, "lat"),
])
def test_bad_case_requests(client, auth, body, status, needle):
    res = client.post("/api/v1/cases", json=body, headers=auth("gw01"))
    assert res.status_code == status, res.json
    assert res.json["error"] and needle in res.json["message"]


def test_malformed_json_and_missing_auth(client, auth):
    res = client.post("/api/v1/cases", data="{not json", content_type="application/json",
                      headers=auth("gw01"))
    assert res.status_code == 400 and res.json["error"] == "bad_json"
    assert client.post("/api/v1/cases", json=[1, 2], headers=auth("gw01")).status_code == 400
    assert client.post("/api/v1/cases", json={"category": "repair"}).status_code == 401
    bad = client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged.token"})
    assert bad.status_code == 401 and "not valid" in bad.json["message"]
    assert client.get("/api/v1/nothing-here", headers=auth("gw01")).status_code == 404


def test_completing_a_task_that_is_not_yours_or_not_open(client, auth):
    case = open_via_api(client, auth("gw01")).json
    task_id = case["tasks"][0]["id"]
    wrong_role = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"accepted": True}},
                             headers=auth("gw01"))
    assert wrong_role.status_code == 403 and "role dispatcher" in wrong_role.json["message"]
    # Another community's task does not exist for this caller: 404, the same as a missing one.
    other_community = client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("dispatcher2"))
    assert other_community.status_code == 404
    assert other_community.json["message"] == f"task {task_id} does not exist"
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("dispatcher")).status_code == 200
    invalid = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"accepted": "perhaps"}},
                          headers=auth("dispatcher"))
    assert invalid.status_code == 422 and "accepted" in invalid.json["details"]
    ok = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"accepted": True}},
                     headers=auth("dispatcher"))
    assert ok.status_code == 200
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"accepted": True}},
                        headers=auth("dispatcher"))
    assert again.status_code == 409 and "not open" in again.json["message"]
    assert client.post("/api/v1/tasks/999999/complete", json={"data": {}},
                       headers=auth("dispatcher")).status_code == 404
    assert client.post(f"/api/v1/tasks/{task_id}/complete", data="x", content_type="application/json",
                       headers=auth("dispatcher")).status_code == 400


def test_claimed_task_is_409_for_a_colleague(client, auth, demo):
    from extensions import db
    from models import User
    from tests.builders import account

    with demo.app_context():
        colleague = User(account="dispatcher_b", name="另一受理员", role="dispatcher",
                         community_id=account("dispatcher").community_id,
                         grids=list(account("dispatcher").grids))
        db.session.add(colleague)
        db.session.commit()
    task_id = open_via_api(client, auth("gw01")).json["tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("dispatcher")).status_code == 200
    res = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"accepted": True}},
                      headers=auth("dispatcher_b"))
    assert res.status_code == 409 and "claimed by" in res.json["message"]
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=auth("dispatcher")).status_code == 200
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth("dispatcher_b")).status_code == 200


def test_grids_are_geojson(client, auth):
    body = client.get("/api/v1/grids", headers=auth("gw01")).json
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 6
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert set(feature["properties"]) >= {"id", "name", "community"}


def test_openapi_document_is_generated_from_the_routes(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path, method in [("/api/v1/cases", "post"), ("/api/v1/cases/{ref}", "get"),
                         ("/api/v1/tasks", "get"), ("/api/v1/tasks/{task_id}/complete", "post"),
                         ("/api/v1/grids", "get")]:
        assert method in paths[path], path
    create = paths["/api/v1/cases"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CaseIn")
    assert "category" in doc["components"]["schemas"]["CaseIn"]["properties"]
    assert "409" in paths["/api/v1/tasks/{task_id}/complete"]["post"]["responses"]


@pytest.mark.parametrize("severity", ["normal", "urgent"])
def test_a_case_shows_what_the_decision_tables_chose(client, auth, severity):
    from datetime import datetime, timedelta

    from tests.test_decision_tables import EXPECTED, SEVERITIES

    role, department, response_minutes, dispose_hours = EXPECTED["manhole_tilt"][SEVERITIES.index(severity)]
    ref = open_via_api(client, auth("gw01"), severity=severity).json["ref"]
    shown = client.get(f"/api/v1/cases/{ref}", headers=auth("dispatcher")).json
    assert shown["routing"] == {"handler_role": role, "department": department}
    opened = datetime.fromisoformat(shown["opened_at"])
    deadlines = {k: datetime.fromisoformat(v) for k, v in shown["deadlines"].items()}
    assert deadlines["response_due_at"] - opened == timedelta(minutes=response_minutes)
    assert deadlines["dispose_due_at"] - opened == timedelta(hours=dispose_hours)
