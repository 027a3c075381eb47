"""Fixtures of the report tests: built files go to a temporary DATA_DIR; sign-in to the pages."""
from __future__ import annotations

import re

import pytest

from web.commands.demo import DEMO_PASSWORD


@pytest.fixture
def data_dir(app, tmp_path):
    app.config["DATA_DIR"] = str(tmp_path)
    return tmp_path


def sign_in(client, account: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    answer = client.post("/login", data={"account": account, "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
