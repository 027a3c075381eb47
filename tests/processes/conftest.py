"""Deploying process files: API callers, a signed-in page client, and the files to deploy."""
from __future__ import annotations

import hashlib

import pytest

from tests.inbox.conftest import csrf_token

XML = {"Content-Type": "application/xml"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def deploy(client, auth):
    """``deploy('routing.dmn', data, as_='supervisor')`` -> the API's response."""

    def post(name: str, data: bytes, as_: str = "supervisor"):
        return client.post(f"/api/v1/processes?name={name}", data=data, headers={**auth(as_), **XML})

    return post


@pytest.fixture
def sign_in(client, demo):
    def login(account: str, password: str = "demo1234"):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
        res = client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                          "account": account, "password": password})
        assert res.status_code == 302
        return client

    return login
