"""Sign-in: lockout, expiry, idle sessions, CSRF, and an audit entry for every attempt."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from extensions import db
from models import AuditEntry, User, transaction, utcnow
from web.commands.demo import DEMO_PASSWORD


def csrf_token(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def login(client, account, password, token=None):
    return client.post("/login", data={"account": account, "password": password,
                                       "csrf_token": token or csrf_token(client)})


def audit(operation="login"):
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.operation == operation)
                                   .order_by(AuditEntry.id)))


def test_sign_in_and_every_attempt_is_audited(client, demo):
    assert login(client, "gw01", "wrong").status_code == 401
    ok = login(client, "gw01", DEMO_PASSWORD)
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/inbox")
    entries = audit()
    assert [(e.operator, e.result, e.detail["reason"]) for e in entries] == [
        ("gw01", "refused", "wrong password"), ("gw01", "ok", "ok")]
    assert entries[0].ip == "127.0.0.1"


def test_lockout_after_the_configured_failed_attempts(client, demo):
    with transaction():
        db.session.scalar(select(User).where(User.account == "gw02")).max_login_attempts = 3
    for _ in range(3):
        res = login(client, "gw02", "nope")
    assert "锁定" in res.get_data(as_text=True)  # "locked", in the default language
    locked = login(client, "gw02", DEMO_PASSWORD)  # the right password does not help now
    assert locked.status_code == 401 and "锁定" in locked.get_data(as_text=True)
    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        assert login(client, "gw02", DEMO_PASSWORD).status_code == 302
    assert [e.detail["reason"] for e in audit()][-2:] == ["locked", "ok"]


def test_expired_account_is_refused(client, demo):
    with transaction():
        db.session.scalar(select(User).where(User.account == "gw03")).valid_until = utcnow() - timedelta(days=1)
    res = login(client, "gw03", DEMO_PASSWORD)
    assert res.status_code == 401 and "过有效期" in res.get_data(as_text=True)


def test_idle_session_ends_after_the_timeout(client, demo):
    assert login(client, "dispatcher", DEMO_PASSWORD).status_code == 302
    assert client.get("/login").status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        res = client.get("/inbox")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_login_without_csrf_token_is_rejected(client, demo):
    res = client.post("/login", data={"account": "gw01", "password": DEMO_PASSWORD})
    assert res.status_code == 400
    assert "/inbox" not in res.headers.get("Location", "")
