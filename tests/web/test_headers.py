"""Security headers on every kind of response: pages, JSON, static and photo files, redirects,
errors; HSTS only when cookies are Secure; and no template needs inline script or style."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.builders import image_bytes
from web import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_secure(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.path, name)
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_every_kind_of_response_carries_the_headers(app, client, auth):
    # A view that fails, to see a 500 answered with the headers too.
    app.add_url_rule("/test-only/boom", "boom", lambda: 1 / 0)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    headers = auth("gw01")
    photo = client.post("/api/v1/photos", data={"photo": (io.BytesIO(image_bytes()), "p.png")}, headers=headers)
    answers = {
        "page": client.get("/login"),
        "json": client.get("/api/v1/tasks", headers=headers),
        "json error": client.get("/api/v1/tasks"),
        "static file": client.get("/static/app.css"),
        "photo file": client.get(f"/photos/{photo.json['id']}", headers=headers),
        "redirect": client.get("/inbox"),
        "not found": client.get("/no/such/page"),
        "method not allowed": client.delete("/login"),
        "server error": client.get("/test-only/boom"),
    }
    assert [a.status_code for a in answers.values()] == [200, 200, 401, 200, 200, 302, 404, 405, 500]
    for answer in answers.values():
        assert_secure(answer)
    assert all("Strict-Transport-Security" not in a.headers for a in answers.values())


def test_hsts_only_when_cookies_are_secure(database_urls, backend, tmp_path):
    # No keys given: the app generates its own under DATA_DIR.
    secure = create_app({"DATABASE_URL": database_urls[backend], "TESTING": True, "DATA_DIR": str(tmp_path),
                         "SESSION_COOKIE_SECURE": True})
    answer = secure.test_client().get("/static/app.css")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert_secure(answer)


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_need_no_inline_script_or_style(template):
    """What the policy would block: inline scripts, handlers, javascript: links, style attributes."""
    text = (TEMPLATES / template).read_text()
    scripts = re.findall(r"<script\b([^>]*)>", text)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", text, re.IGNORECASE)
