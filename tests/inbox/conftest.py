"""Signing in to the staff pages with the CSRF token a browser would send."""
from __future__ import annotations

import re

import pytest

from tests.builders import accept_and_dispatch, new_case

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE = {"Accept": "text/html"}


def csrf_token(client, url: str) -> str:
    page = client.get(url, headers=PAGE)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


@pytest.fixture
def sign_in(client, demo):
    """``sign_in('gw01')``: a session on the test client, as the login form makes it."""

    def login(account: str, password: str = "demo1234"):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        res = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                          "account": account, "password": password})
        assert res.status_code == 302, res.get_data(as_text=True)[:500]
        return client

    return login


@pytest.fixture
def disposing_case(demo):
    """A manhole case in JX-01, accepted and dispatched: its dispose task waits for gw01."""
    case = new_case("manhole_tilt", description="3幢门口井盖倾斜，有人绊倒", address="锦绣路3幢门口")
    return accept_and_dispatch(case)
