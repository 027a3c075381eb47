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
CASES_API = SIGNED_IN  # residents report and read their own cases
DEVICES_API = BOARD
NOBODY: set[str] = set()  # keys of devices or Open311 clients, not people

POLICY: dict[str, set[str]] = {
    "auth.login": EVERYONE, "auth.home": EVERYONE, "auth.logout": SIGNED_IN,
    "admin.home": ADMIN, "admin.users": ADMIN, "admin.edit_user": ADMIN, "admin.roles": ADMIN,
    "admin.audit": ADMIN,
    "inbox.inbox": STAFF, "inbox.task_page": STAFF, "inbox.claim": STAFF, "inbox.unclaim": STAFF,
    "inbox.updates": STAFF,
    "case_pages.show": STAFF, "case_pages.diagram": STAFF, "case_pages.board": BOARD,
    "reports.index": REPORTS, "reports.build": REPORTS, "reports.status": REPORTS, "reports.download": REPORTS,
    "requests.pick_type": EVERYONE, "requests.new_request": EVERYONE, "requests.submitted": EVERYONE,
    "requests.track": EVERYONE, "requests.show": EVERYONE, "requests.rate": EVERYONE,
    "requests.photo": EVERYONE, "requests.addresses": EVERYONE,
    "open311.discovery": EVERYONE, "open311.services": EVERYONE, "open311.service_definition": EVERYONE,
    "open311.list_requests": EVERYONE, "open311.show_request": EVERYONE, "open311.show_token": EVERYONE,
    "open311.create_request": NOBODY, "open311.unknown": EVERYONE,
    "photos.show_photo": STAFF,
    "api.openapi_document": EVERYONE, "api.list_categories": CASES_API,
    "api.create_case": CASES_API, "api.show_case": CASES_API, "api.list_tasks": CASES_API,
    "api.claim": CASES_API, "api.unclaim": CASES_API, "api.complete": CASES_API, "api.upload_photo": CASES_API,
    "api.list_grids": STAFF, "api.put_grid": ADMIN, "api.remove_grid": ADMIN, "api.import_grids": ADMIN,
    "api.grids_template": ADMIN, "api.import_grid_sheet": ADMIN,
    "api.list_devices": DEVICES_API, "api.show_device": DEVICES_API, "api.register_device": ADMIN,
    "api.change_device": ADMIN, "api.remove_device": ADMIN, "api.new_key": ADMIN,
    "api.device_template": ADMIN, "api.import_device_sheet": ADMIN, "api.device_event": NOBODY,
    "api.list_alarms": DEVICES_API, "api.show_alarm": DEVICES_API, "api.list_dead_letters": ADMIN,
    "api.list_webhooks": ADMIN, "api.register_webhook": ADMIN, "api.remove_webhook": ADMIN,
    "api.list_users": ADMIN, "api.create_user": ADMIN, "api.show_user": ADMIN, "api.change_user": ADMIN,
    "api.reset_password": ADMIN, "api.users_template": ADMIN, "api.import_users": ADMIN,
    "api.list_roles": ADMIN, "api.create_role": ADMIN, "api.change_role": ADMIN, "api.delete_role": ADMIN,
    "api.show_org_tree": ADMIN, "api.create_org_unit": ADMIN, "api.change_org_unit": ADMIN,
    "api.remove_org_unit": ADMIN,
    "api.list_clients": ADMIN, "api.create_client": ADMIN, "api.revoke_client": ADMIN,
    "api.list_ip_blocks": ADMIN, "api.block_ip": ADMIN, "api.unblock_ip": ADMIN, "api.api_stats": ADMIN,
    "api.search_audit": ADMIN,
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
    real = {"api.device_event": {"device_id": db.session.scalar(select(Device.id).limit(1))}}
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
