"""Every route and API endpoint, called by every role: allowed or denied as the table says.

A route missing from the table fails the test, so a new page or endpoint must say who may
use it. Denied means 401/403, or a redirect to sign in first. Sample arguments name
things that do not exist: an allowed caller then gets 404 or a validation error, never 403.
Every write, allowed or not, leaves one audit entry.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from handlers.tokens import issue_token
from models import AuditEntry, Device, User, transaction
from web.commands.demo import DEMO_PASSWORD

ROLES = ["anonymous", "resident", "gw01", "dept_property", "dispatcher", "supervisor", "admin"]
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
STAFF = {"gw01", "dept_property", "dispatcher", "supervisor", "admin"}
BOARD = {"dispatcher", "supervisor", "admin"}
REPORTS = {"supervisor", "admin"}
ADMIN = {"admin"}
PROCESS_ADMINS = {"supervisor", "admin"}  # processes.deploy
CASES_API = SIGNED_IN  # residents report and read their own cases
DEVICES_API = BOARD
NOBODY: set[str] = set()  # keys of devices or Open311 clients, not people

POLICY: dict[str, set[str]] = {
    "auth.login": EVERYONE, "auth.home": EVERYONE, "auth.logout": SIGNED_IN,
    "admin.home": ADMIN, "admin.users": ADMIN, "admin.edit_user": ADMIN, "admin.roles": ADMIN,
    "admin.audit": ADMIN, "admin.categories_page": ADMIN, "admin.change_category_page": ADMIN,
    "admin.departments_page": ADMIN, "admin.change_department_page": ADMIN,
    "inbox.inbox": STAFF, "inbox.task_page": STAFF, "inbox.claim": STAFF, "inbox.unclaim": STAFF,
    "inbox.updates": STAFF,
    "case_pages.show": STAFF, "case_pages.diagram": STAFF, "case_pages.case_diagram": STAFF, "case_pages.board": BOARD,
    "reports.index": REPORTS, "reports.build": REPORTS, "reports.status": REPORTS, "reports.download": REPORTS,
    "requests.pick_type": EVERYONE, "requests.new_request": EVERYONE, "requests.submitted": EVERYONE,
    "requests.track": EVERYONE, "requests.show": EVERYONE, "requests.rate": EVERYONE,
    "requests.photo": EVERYONE, "requests.addresses": EVERYONE,
    "open311.discovery": EVERYONE, "open311.services": EVERYONE, "open311.service_definition": EVERYONE,
    "open311.list_requests": EVERYONE, "open311.show_request": EVERYONE, "open311.show_token": EVERYONE,
    "open311.create_request": NOBODY, "open311.unknown": EVERYONE,
    "photos.show_photo": STAFF,
    "api.openapi_document": EVERYONE, "api.list_categories": CASES_API, "api.list_departments": CASES_API,
    "api.create_category": ADMIN, "api.patch_category": ADMIN, "api.create_department": ADMIN,
    "api.patch_department": ADMIN,
    "api.create_case": CASES_API, "api.show_case": CASES_API, "api.list_tasks": CASES_API,
    "api.claim": CASES_API, "api.unclaim": CASES_API, "api.complete": CASES_API, "api.upload_photo": CASES_API,
    "api.list_grids": STAFF, "api.put_grid": ADMIN, "api.remove_grid": ADMIN, "api.import_grids": ADMIN,
    "api.grids_template": ADMIN, "api.import_grid_sheet": ADMIN,
    "api.list_devices": DEVICES_API, "api.show_device": DEVICES_API, "api.register_device": ADMIN,
    "api.change_device": ADMIN, "api.remove_device": ADMIN, "api.new_key": ADMIN,
    "api.device_template": ADMIN, "api.import_device_sheet": ADMIN, "api.device_event": NOBODY,
    "api.list_alarms": DEVICES_API, "api.show_alarm": DEVICES_API, "api.list_dead_letters": ADMIN,
    "api.list_webhooks": ADMIN, "api.register_webhook": ADMIN, "api.remove_webhook": ADMIN,
    "api.list_webhook_deliveries": ADMIN, "api.retry_webhook_delivery": ADMIN,
    "api.list_users": ADMIN, "api.create_user": ADMIN, "api.show_user": ADMIN, "api.change_user": ADMIN,
    "api.reset_password": ADMIN, "api.users_template": ADMIN, "api.import_users": ADMIN,
    "api.list_roles": ADMIN, "api.create_role": ADMIN, "api.change_role": ADMIN, "api.delete_role": ADMIN,
    "api.show_org_tree": ADMIN, "api.create_org_unit": ADMIN, "api.change_org_unit": ADMIN,
    "api.remove_org_unit": ADMIN,
    "api.list_clients": ADMIN, "api.create_client": ADMIN, "api.revoke_client": ADMIN,
    "api.list_ip_blocks": ADMIN, "api.block_ip": ADMIN, "api.unblock_ip": ADMIN, "api.api_stats": ADMIN,
    "api.search_audit": ADMIN,
    "api.list_processes": PROCESS_ADMINS, "api.show_process_file": PROCESS_ADMINS,
    "api.deploy_process_file": PROCESS_ADMINS, "api.process_file_impact": PROCESS_ADMINS,
    "processes.list_page": PROCESS_ADMINS, "processes.edit_page": PROCESS_ADMINS,
    "processes.file_xml": PROCESS_ADMINS, "processes.deploy_page": PROCESS_ADMINS,
}
SAMPLES = {"ref": "NOPE", "code": "ZZ-99", "account": "nobody", "photo_id": "0" * 32, "variant": "thumb",
           "process_id": "grid_case", "token": "nope", "format": "json"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def sample_url(rule, real: dict) -> str:
    values = dict(real.get(rule.endpoint, {}))
    for arg in rule.arguments - set(values):
        converter = rule._converters[arg].__class__.__name__
        values[arg] = 999999 if converter == "IntegerConverter" else SAMPLES.get(arg, "json" if "Any" in converter else "x")
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(rf"<[^>]*\b{arg}>", str(value), path)
    return path


def routes(app):
    # Signing out ends the session the other calls use: it goes last.
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                   key=lambda r: (r.endpoint == "auth.logout", r.rule))
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def denied(res) -> bool:
    if res.status_code in (401, 403):
        return True
    # Sent to sign in first (the page asked for comes back as ?next=), not merely sent on.
    location = res.headers.get("Location", "")
    return res.status_code in (301, 302, 303) and "/login" in location and "next=" in location


@pytest.fixture
def callers(app, demo):
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests; here the gate is the role
    with transaction():
        db.session.add(User(account="resident", name="居民甲", role="resident", password_hash=None,
                            community_id=db.session.scalar(select(User.community_id).where(User.account == "gw01"))))
    made = {}
    for role in ROLES:
        client = app.test_client()
        headers = {}
        if role != "anonymous":
            account = role
            user = db.session.scalar(select(User).where(User.account == account))
            headers = {"Authorization": f"Bearer {issue_token(user)}"}
            if user.password_hash:
                client.post("/login", data={"account": account, "password": DEMO_PASSWORD})
            else:
                with client.session_transaction() as session:
                    session["_user_id"], session["_fresh"] = str(user.id), True
                    session["sv"] = user.session_version  # as web.auth.login records it
        made[role] = (client, headers)
    return made


def test_every_route_is_in_the_table(app):
    missing = sorted({rule.endpoint for rule, _ in routes(app)} - set(POLICY))
    assert not missing, f"say who may use: {missing}"


def test_every_route_with_every_role(app, callers):
    mismatches, writes = [], {}
    # A device that exists, so that calling without its key is refused rather than not found.
    real = {"api.device_event": {"device_ref": db.session.scalar(select(Device.id).limit(1))}}
    for rule, method in routes(app):
        url = sample_url(rule, real)
        for role in ROLES:
            client, headers = callers[role]
            res = client.open(url, method=method, headers=headers if url.startswith("/api/") else {})
            allowed = not denied(res)
            expected = role in POLICY[rule.endpoint]
            if allowed != expected:
                mismatches.append(f"{method} {url} as {role}: {res.status_code}, expected "
                                  f"{'allowed' if expected else 'denied'}")
            if method in WRITES and rule.endpoint not in {"auth.login", "api.device_event"}:
                writes[f"{method} {rule.endpoint}"] = writes.get(f"{method} {rule.endpoint}", 0) + 1
    assert not mismatches, "\n".join(mismatches)
    db.session.rollback()
    audited = dict(db.session.execute(
        select(AuditEntry.operation, func.count()).group_by(AuditEntry.operation)).all())
    missing = {op: (n, audited.get(op, 0)) for op, n in writes.items() if audited.get(op, 0) < n}
    assert not missing, f"writes without an audit entry (calls, entries): {missing}"


# --- rows: every object of a community in another street is 404 ------------------------------

# Route arguments that name one object, and which object of ``elsewhere`` fills them.
OBJECT_ARGS = {"ref": "ref", "task_id": "task", "photo_id": "photo", "alarm_id": "alarm",
               "device_id": "device", "report_id": "report"}
# Routes that take an object id but are not staff reads, and why.
ROW_EXEMPT = {
    "requests.submitted": "the resident's own confirmation: the tracking number is the proof",
    "requests.show": "resident tracking: tracking number and phone are the proof",
    "requests.rate": "resident tracking: tracking number and phone are the proof",
    "requests.photo": "resident tracking: tracking number and phone are the proof",
    "open311.show_request": "Open311 GeoReport v2 publishes service requests by design",
    "api.device_event": "a device proves itself with its own key",
}
# Everyone of the first community but the administrator, whose reach is every community.
ROW_ROLES = [role for role in ROLES if role != "admin"]
def test_objects_are_real_to_the_administrator(callers, elsewhere):
    client, headers = callers["admin"]
    for url in (f"/api/v1/cases/{elsewhere['ref']}", f"/api/v1/alarms/{elsewhere['alarm']}",
                f"/api/v1/devices/{elsewhere['device']}", f"/photos/{elsewhere['photo']}/thumb",
                f"/reports/{elsewhere['report']}/download", f"/cases/{elsewhere['ref']}"):
        assert client.get(url, headers=headers if url.startswith("/api/") else {}).status_code == 200, url


def test_every_object_route_answers_404_for_another_community(app, callers, elsewhere):
    """Every route that takes an object id, with every role of the demo community: the object
    of the other community is 404 to those the gate lets through (as a missing one would be),
    and the gate's own answer to the others."""
    mismatches, checked = [], 0
    for rule, method in routes(app):
        named = rule.arguments & set(OBJECT_ARGS)
        if not named or rule.endpoint in ROW_EXEMPT:
            continue
        url = sample_url(rule, {rule.endpoint: {arg: elsewhere[OBJECT_ARGS[arg]] for arg in named}})
        for role in ROW_ROLES:
            client, headers = callers[role]
            res = client.open(url, method=method, headers=headers if url.startswith("/api/") else {},
                              json={"data": {"accepted": True}} if method in WRITES else None)
            allowed = role in POLICY[rule.endpoint]
            if (res.status_code != 404) if allowed else not denied(res):
                mismatches.append(f"{method} {url} as {role}: {res.status_code}, expected "
                                  f"{'404' if allowed else 'denied'}")
            checked += 1
    assert checked > 50
    assert not mismatches, "\n".join(mismatches)


def test_lists_and_searches_leave_out_another_community(callers, elsewhere):
    ref, found = elsewhere["ref"], []
    for role in ROW_ROLES:
        client, headers = callers[role]
        for url in ("/api/v1/alarms?limit=500", "/api/v1/devices?limit=500", "/api/v1/tasks?limit=500"):
            res = client.get(url, headers=headers)
            items = res.get_json().get("items", []) if res.status_code == 200 else []
            if any(item.get("id") in (elsewhere["alarm"], elsewhere["device"], elsewhere["task"])
                   and item.get("device", item.get("code")) in (elsewhere["device_code"], None) for item in items):
                found.append(f"{url} as {role}")
        for url in ("/board", f"/board?q={ref}", "/inbox", "/reports"):
            html = client.get(url).get_data(as_text=True)
            if f'/cases/{ref}"' in html or f"/reports/{elsewhere['report']}/" in html:
                found.append(f"{url} as {role}")
        # A device out of scope is as unknown as one that does not exist.
        res = client.get(f"/api/v1/alarms?device={elsewhere['device_code']}", headers=headers)
        if res.status_code not in (400, 401, 403):
            found.append(f"alarms?device= as {role}: {res.status_code}")
    assert not found, "another community's objects listed: " + ", ".join(found)
