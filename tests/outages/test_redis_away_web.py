"""Redis stopped under the web app: what only reads answers 200, writes that need no queue at once
are accepted (their queue work is left to the sweeps), the rate limiter counts in memory, and
the few answers that cannot be given without Redis are a clear 503, never a 500."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from extensions import db
from handlers.tokens import issue_token
from models import Alarm, Case, Device, Report, User
from tests.builders import accept_and_dispatch, new_case
from web.commands.demo import DEMO_PASSWORD, device_key

PAGE = {"Accept": "text/html"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def bearer(account: str) -> dict:
    user = db.session.scalar(select(User).where(User.account == account))
    return {"Authorization": f"Bearer {issue_token(user)}"}


def csrf(client, path: str) -> str:
    return CSRF.search(client.get(path, headers=PAGE).get_data(as_text=True)).group(1)


def sign_in(client, account: str) -> None:
    answer = client.post("/login", data={"account": account, "password": DEMO_PASSWORD,
                                         "csrf_token": csrf(client, "/login")})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]


def test_reads_answer_and_writes_degrade_while_redis_is_away(outage_app, private_redis):
    from web.commands.demo import build_demo_community

    build_demo_community()
    case = accept_and_dispatch(new_case("manhole_tilt"))
    dispatcher, admin = bearer("dispatcher"), bearer("admin")
    staff, public = outage_app.test_client(), outage_app.test_client()
    sign_in(staff, "supervisor")
    assert staff.get("/api/v1/cases/" + case.ref, headers=dispatcher).status_code == 200

    private_redis.stop()

    # Reads: the API (rate-limited per caller: now counted in memory), staff and public pages.
    for path in ("/api/v1/tasks", f"/api/v1/cases/{case.ref}", "/api/v1/grids", "/api/v1/devices"):
        answer = staff.get(path, headers=dispatcher)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:200])
    for path in ("/board", "/reports", f"/cases/{case.ref}"):
        assert staff.get(path, headers=PAGE).status_code == 200, path
    for path in ("/requests/new", "/track"):
        assert public.get(path, headers=PAGE).status_code == 200, path
    # A rate-limited form post on a public page still gets its own answer (wrong phone: 404).
    lookup = public.post("/track", headers=PAGE, data={"csrf_token": csrf(public, "/track"),
                                                       "ref": case.ref, "phone": "13800000000"})
    assert lookup.status_code == 404

    # A case write is accepted: its SLA timer is left to the scheduler's sweep.
    opened = staff.post("/api/v1/cases", headers=dispatcher, json={
        "category": "manhole_tilt", "lat": case.lat, "lon": case.lon, "description": "井盖松动"})
    assert opened.status_code == 201, opened.get_json()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.ref == opened.get_json()["ref"])) == 1

    # A device alarm is stored: the job that opens its case is left to the alarm-work sweep.
    light = db.session.scalar(select(Device).where(Device.code == "street_light-01"))
    event = staff.post(f"/api/v1/devices/{light.id}/events", headers={"X-Device-Key": device_key(light.code)},
                       json={"msg_id": "outage-1", "type": "lamp_fault", "readings": {"voltage_v": 220.0}})
    assert event.status_code == 202, event.get_json()
    db.session.rollback()
    alarm = db.session.scalar(select(Alarm).where(Alarm.device_id == light.id))
    assert alarm is not None and alarm.pending_since is not None

    # What lives only in Redis, or cannot start without it: a clear 503, JSON or a page.
    stats = staff.get("/api/v1/api-stats", headers=admin)
    assert stats.status_code == 503 and stats.get_json()["error"] == "service_unavailable", stats.get_data()
    assert stats.headers["Retry-After"]
    report = staff.post("/reports", headers=PAGE, data={
        "scope": "grid:JX-01", "period": "month", "month": "2026-11", "csrf_token": csrf(staff, "/reports")})
    assert report.status_code == 503, report.get_data(as_text=True)[:300]
    assert db.session.scalar(select(Report.status).order_by(Report.id.desc())) == "failed"

    private_redis.start()
    assert staff.get("/api/v1/tasks", headers=dispatcher).status_code == 200
