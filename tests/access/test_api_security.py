"""API management: client keys and groups, rate limits, IP block list, call statistics."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from extensions import db
from models import ApiClient


def new_client(client, auth, **body):
    res = client.post("/api/v1/api-clients", headers=auth("admin"),
                      json={"name": "partner", "api_groups": ["grids"], "rate_limit": "5/minute", **body})
    assert res.status_code == 201, res.json
    return res.json


def test_client_key_is_hashed_and_limited_to_its_groups(client, auth):
    made = new_client(client, auth)
    stored = db.session.scalar(select(ApiClient.key_hash).where(ApiClient.name == "partner"))
    assert made["key"] not in stored and len(stored) == 64
    key = {"X-Api-Key": made["key"]}
    assert client.get("/api/v1/grids", headers=key).status_code == 200
    res = client.get("/api/v1/tasks", headers=key)
    assert res.status_code == 403 and "cases API" in res.json["message"]
    assert client.get("/api/v1/grids", headers={"X-Api-Key": "guess"}).status_code == 401
    client.delete(f"/api/v1/api-clients/{made['id']}", headers=auth("admin"))
    assert client.get("/api/v1/grids", headers=key).status_code == 401


def test_each_client_has_its_own_rate_limit(client, auth):
    key = {"X-Api-Key": new_client(client, auth, rate_limit="3/minute")["key"]}
    statuses = [client.get("/api/v1/grids", headers=key).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    other = {"X-Api-Key": new_client(client, auth, name="other")["key"]}
    assert client.get("/api/v1/grids", headers=other).status_code == 200
    limited = client.get("/api/v1/grids", headers=key)
    assert limited.json["error"] == "too_many_requests"


def test_blocked_addresses_are_refused(client, auth):
    admin = auth("admin")
    res = client.post("/api/v1/ip-blocks", headers=admin, json={"network": "10.9.0.0/16", "reason": "abuse"})
    assert res.status_code == 201
    assert client.get("/api/v1/grids", headers=admin, environ_base={"REMOTE_ADDR": "10.9.3.4"}).status_code == 403
    assert client.get("/api/v1/grids", headers=admin).status_code == 200  # 127.0.0.1 is not blocked
    assert client.post("/api/v1/ip-blocks", headers=admin, json={"network": "not-an-ip"}).status_code == 422
    client.delete(f"/api/v1/ip-blocks/{res.json['id']}", headers=admin)
    assert client.get("/api/v1/grids", headers=admin, environ_base={"REMOTE_ADDR": "10.9.3.4"}).status_code == 200


def test_calls_and_errors_are_counted(client, auth):
    headers = auth("gw01")
    client.get("/api/v1/grids", headers=headers)
    client.get("/api/v1/cases/nope", headers=headers)
    stats = client.get("/api/v1/api-stats", headers=auth("admin")).json
    mine = [r for r in stats["items"] if r["caller"] == "gw01"]
    assert {(r["endpoint"], r["status"]) for r in mine} == {("api.list_grids", 200), ("api.show_case", 404)}
    assert stats["errors"] >= 1
    assert client.get("/api/v1/api-stats?date=yesterday", headers=auth("admin")).status_code == 400


@pytest.mark.parametrize("method, path", [("get", "/api/v1/audit"), ("get", "/api/v1/api-stats"),
                                          ("get", "/api/v1/ip-blocks"), ("get", "/api/v1/roles")])
def test_management_is_for_administrators(client, auth, method, path):
    assert getattr(client, method)(path, headers=auth("dispatcher")).status_code == 403
    assert getattr(client, method)(path, headers=auth("admin")).status_code == 200


def test_audit_log_holds_writes_and_refuses_changes(client, auth):
    client.post("/api/v1/cases", headers=auth("gw01"),
                json={"category": "repair", "lat": 30.275, "lon": 120.105, "description": "门坏了"})
    client.post("/api/v1/tasks/999/claim", headers=auth("dispatcher"))
    entries = client.get("/api/v1/audit", headers=auth("admin")).json["items"]
    by_op = {e["operation"]: e for e in entries}
    assert by_op["POST api.create_case"]["operator"] == "gw01" and by_op["POST api.create_case"]["result"] == "ok"
    assert by_op["POST api.claim"]["result"] == "refused" and by_op["POST api.claim"]["detail"]["status"] == 404
    assert client.get("/api/v1/audit?operator=gw01", headers=auth("admin")).json["items"][0]["operator"] == "gw01"
    # SQLite: the triggers; PostgreSQL: the app's role may not even try (test_audit_role.py).
    with pytest.raises(Exception, match="append-only|permission denied"):
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET result = 'ok'"))
    with pytest.raises(Exception, match="kept|permission denied"):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
