"""The administration pages: accounts, roles and the audit log, CSRF-protected, admins only."""
from __future__ import annotations

import re

from sqlalchemy import select

from extensions import db
from models import User
from web.commands.demo import DEMO_PASSWORD


def signed_in(client, account):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    client.post("/login", data={"account": account, "password": DEMO_PASSWORD, "csrf_token": token})
    return client


def token_of(client, path):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_admin_creates_an_account_and_resets_its_password(client, demo):
    signed_in(client, "admin")
    page = client.get("/admin/users?q=gw0")
    assert page.status_code == 200 and "gw01" in page.get_data(as_text=True) and "账号管理" in page.get_data(as_text=True)
    res = client.post("/admin/users", data={
        "csrf_token": token_of(client, "/admin/users"), "account": "gw11", "name": "网格员十一",
        "role": "grid_worker", "grids": ["JX-03"], "community": "jinxiu", "password": "Str0ng-Passw0rd",
        "phone": "13900001111", "session_timeout_minutes": "20", "max_login_attempts": "4", "active": "y"})
    assert res.status_code == 302
    user = db.session.scalar(select(User).where(User.account == "gw11"))
    assert [g.code for g in user.grids] == ["JX-03"] and user.phone.startswith("sm4:")
    weak = client.post("/admin/users/gw11", data={"csrf_token": token_of(client, "/admin/users/gw11"),
                                                   "pw-csrf_token": token_of(client, "/admin/users/gw11"),
                                                   "pw-password": "123"})
    assert weak.status_code == 422 and "at least 10 characters" in weak.get_data(as_text=True)
    no_csrf = client.post("/admin/users", data={"account": "gw12", "name": "x", "role": "grid_worker",
                                                "password": "Str0ng-Passw0rd"})
    assert no_csrf.status_code in (400, 422)
    assert db.session.scalar(select(User).where(User.account == "gw12")) is None


def test_pages_are_for_administrators_only(client, demo):
    assert client.get("/admin/users").status_code == 302  # to the login page
    signed_in(client, "dispatcher")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_audit_page_lists_sign_ins(client, demo):
    signed_in(client, "admin")
    html = client.get("/admin/audit?operation=login").get_data(as_text=True)
    assert "login" in html and "admin" in html
