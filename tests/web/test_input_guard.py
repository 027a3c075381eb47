"""Every input is checked once, at the edge: text PostgreSQL cannot store (NUL, lone surrogates,
invalid UTF-8) and absurd JSON nesting get a 400/422 in the error shape of where they were
sent, never a 500. The table holds every place a probe found answering 500 on PostgreSQL
before the check (issue 10, finding 8); Hypothesis then tries bad text anywhere."""
from __future__ import annotations

import io
import json
import string
import xml.etree.ElementTree as ET
from urllib.parse import quote_from_bytes

from flask import request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from extensions import csrf, db
from models import AuditEntry, Case
from tests.residents.conftest import csrf_token, request_fields
from web.commands.demo_residents import DEMO_OPEN311_KEY
from web.input_guard import MAX_JSON_DEPTH, json_depth

NUL = "\x00"
HTML = {"Accept": "text/html"}
OPEN311_POST = {"api_key": DEMO_OPEN311_KEY, "service_code": "repair", "lat": "30.275", "long": "120.105",
                "attribute[item]": "plumbing"}


def sign_in(client, account: str = "admin") -> None:
    token = csrf_token(client, "/login")
    answer = client.post("/login", data={"csrf_token": token, "account": account, "password": "demo1234"})
    assert answer.status_code in (302, 303), answer.status_code


def assert_refused(answer, status: int, shape: str) -> None:
    body = answer.get_data(as_text=True)
    assert answer.status_code == status, (answer.status_code, body[:300])
    if shape == "api":
        assert set(answer.json) >= {"error", "message"} and answer.json["error"] in {
            "unstorable_text", "bad_encoding", "bad_header", "too_deep"}, answer.json
    elif shape == "open311":
        (error,) = answer.json
        assert error["code"] == 400 and "cannot be stored" in error["description"], error
    else:
        assert answer.mimetype == "text/html" and "无法保存的字符" in body, body[:300]


# (what, method, url, how the bad text travels, expected status, error shape). Each answered 500
# on PostgreSQL before the check (a few on SQLite too: the deep JSON everywhere).
PLACES = [
    ("sign-in account", "post", "/login", "login-form", 422, "api"),
    ("tracking page", "get", "/track/%00", "html", 422, "page"),
    ("submitted page", "get", "/requests/done/%00", "html", 422, "page"),
    ("address list", "get", "/requests/addresses/%00.json", None, 422, "api"),
    ("request form description", "post", "/requests/new/repair", "request-form", 422, "page"),
    ("Open311 description", "post", "/open311/v2/requests.json", {"description": "漏水" + NUL}, 400, "open311"),
    ("Open311 attribute", "post", "/open311/v2/requests.json", {"attribute[visit_time]": NUL}, 400, "open311"),
    ("Open311 device_id", "post", "/open311/v2/requests.json", {"device_id": "d" + NUL}, 400, "open311"),
    ("Open311 first_name", "post", "/open311/v2/requests.json", {"first_name": "李" + NUL}, 400, "open311"),
    ("Open311 jurisdiction_id", "post", "/open311/v2/requests.json", {"jurisdiction_id": NUL}, 400, "open311"),
    ("Open311 request", "get", "/open311/v2/requests/%00.json", None, 400, "open311"),
    ("Open311 token", "get", "/open311/v2/tokens/%00.json", None, 400, "open311"),
    ("Open311 list filter", "get", "/open311/v2/requests.json?service_request_id=%00", None, 400, "open311"),
    ("Open311 services", "get", "/open311/v2/services.json?jurisdiction_id=%00", None, 400, "open311"),
    ("API alarms filter", "get", "/api/v1/alarms?device=%00", "admin", 422, "api"),
    ("API devices filter", "get", "/api/v1/devices?grid=%00", "admin", 422, "api"),
    ("API tasks filter", "get", "/api/v1/tasks?grid=%00", "admin", 422, "api"),
    ("API dead letters filter", "get", "/api/v1/dead-letters?device=%00", "admin", 422, "api"),
    ("API case", "get", "/api/v1/cases/%00", "admin", 422, "api"),
    ("API user", "get", "/api/v1/users/%00", "admin", 422, "api"),
    ("API user search", "get", "/api/v1/users?q=%00", "admin", 422, "api"),
    ("API audit search", "get", "/api/v1/audit?operator=%00", "admin", 422, "api"),
    ("API new case, JSON \\u0000", "post", "/api/v1/cases", {"category": "repair", "lat": 30.275, "lon": 120.105,
                                                              "description": "a" + NUL}, 422, "api"),
    ("API new case, deep JSON", "post", "/api/v1/cases", "deep", 400, "api"),
    ("API role", "put", "/api/v1/roles/%00", {"name": "x"}, 422, "api"),
    ("API org unit", "put", "/api/v1/org/%00", {"name": "x"}, 422, "api"),
    ("API grid", "delete", "/api/v1/grids/%00", "admin", 422, "api"),
    ("API bearer token", "get", "/api/v1/tasks", "nul-token", 400, "api"),
    ("case page", "get", "/cases/%00", "page", 422, "page"),
    ("photo", "get", "/photos/%00", "page", 422, "page"),
    ("admin account page", "get", "/admin/users/%00", "page", 422, "page"),
    ("admin account search", "get", "/admin/users?q=%00", "page", 422, "page"),
    ("admin audit search", "get", "/admin/audit?operator=%00", "page", 422, "page"),
]


def _send(client, auth, method: str, url: str, how):
    call = getattr(client, method)
    if how == "login-form":
        return call(url, data={"csrf_token": csrf_token(client, url), "account": "ad" + NUL, "password": "x"})
    if how == "request-form":
        fields = request_fields("repair", description="漏水" + NUL)
        return call(url, data={"csrf_token": csrf_token(client, url), **fields}, headers=HTML)
    if isinstance(how, dict) and url.startswith("/open311/"):
        return call(url, data={**OPEN311_POST, **how})
    if isinstance(how, dict):
        return call(url, json=how, headers=auth("admin"))
    if how == "deep":
        return call(url, data="[" * 10000 + "]" * 10000, content_type="application/json", headers=auth("admin"))
    if how == "admin":
        return call(url, headers=auth("admin"))
    if how == "nul-token":
        return call(url, headers={"Authorization": "Bearer a" + NUL})
    if how == "page":
        sign_in(client)
    return call(url, headers=HTML if how in ("html", "page") else {})


def test_each_place_that_answered_500_refuses_clearly(demo, auth):
    """One demo community for the whole table; each row from a browser of its own."""
    wrong = []
    for what, method, url, how, status, shape in PLACES:
        try:
            assert_refused(_send(demo.test_client(), auth, method, url, how), status, shape)
        except AssertionError as exc:
            wrong.append(f"{what}: {exc}")
    assert not wrong, "\n".join(wrong)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_open311_refuses_in_its_own_xml_error_list(client, demo):
    answer = client.post("/open311/v2/requests.xml", data={**OPEN311_POST, "description": NUL})
    root = ET.fromstring(answer.data)
    assert answer.status_code == 400 and root.tag == "errors"
    assert root.find("error/code").text == "400" and "description" in root.find("error/description").text


def test_invalid_utf8_and_lone_surrogates(client, auth):
    headers = auth("admin")
    for url in ("/api/v1/alarms?status=%FF", "/api/v1/users?q=%ED%A0%80"):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 400 and answer.json["error"] == "bad_encoding", url
    # A server passes the path's bytes as they came (Werkzeug's test client would decode them).
    path = client.get("/x", headers=headers, environ_overrides={"PATH_INFO": raw_path(b"/api/v1/cases/\xc3(")})
    assert path.status_code == 400 and path.json["details"] == {"path": "is not valid UTF-8"}
    form = client.post("/open311/v2/requests.json", data=b"api_key=x&description=%FF",
                       content_type="application/x-www-form-urlencoded")
    assert form.status_code == 400 and "UTF-8" in form.json[0]["description"]
    raw = client.post("/api/v1/cases", data=b'{"category": "repair", "description": "\xff"}',
                      content_type="application/json", headers=headers)
    assert raw.status_code == 400 and raw.json["error"] == "bad_encoding"
    surrogate = client.post("/api/v1/cases", data='{"category": "repair", "description": "a\\udc00b"}',
                            content_type="application/json", headers=headers)
    assert surrogate.status_code == 422 and surrogate.json["details"] == {"$.description": "holds an unpaired "
                                                                                           "surrogate (U+DC00)"}


def test_an_id_beyond_the_database_integer_is_not_found(client, auth):
    """PostgreSQL would refuse to compare it ("integer out of range": a 500 schemathesis found)."""
    for url in ("/api/v1/alarms/2147483648", "/api/v1/tasks/99999999999999999999/claim"):
        answer = client.get(url, headers=auth("admin")) if "alarms" in url else client.post(url, headers=auth("admin"))
        assert answer.status_code == 404 and answer.json["error"] == "not_found", url
    assert client.get("/api/v1/alarms/2147483647", headers=auth("admin")).status_code == 404


def test_deep_json_in_a_spreadsheet_cell_is_refused(client, auth):
    """A grid boundary is GeoJSON text in a cell: no request body, so bounded where it is parsed."""
    template = client.get("/api/v1/grids/template.xlsx", headers=auth("admin"))
    book = load_workbook(io.BytesIO(template.data))
    sheet = book.worksheets[0]
    sheet.append(["JX-09", "深", "jinxiu", "[" * 50000 + "]" * 50000])
    upload = io.BytesIO()
    book.save(upload)
    answer = client.post("/api/v1/grids/import.xlsx", data={"file": (io.BytesIO(upload.getvalue()), "grids.xlsx")},
                         headers=auth("admin"), content_type="multipart/form-data")
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert "nested too deeply" in json.dumps(answer.json["details"])


def test_ordinary_text_passes_untouched(client, auth):
    """Chinese, emoji (a surrogate pair in JSON escapes), brackets in strings: all stored."""
    headers = auth("admin")
    text = "3幢门口井盖倾斜 😀 [{\"]}"
    body = json.dumps({"category": "manhole_tilt", "lat": 30.275, "lon": 120.105, "description": text})
    assert "\\ud83d\\ude00" in body
    created = client.post("/api/v1/cases", data=body, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    shown = client.get(f"/api/v1/cases/{created.json['ref']}", headers=headers)
    assert shown.json["description"] == text
    assert client.get("/api/v1/users?q=赵", headers=headers).status_code == 200


def test_json_depth_is_counted_outside_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}], "c": "\\"]]]"}') == 3
    assert json_depth(b"[" * 5000) == 5000
    assert json_depth(b'"only a string"') == 0


def test_nesting_up_to_the_limit_reaches_the_view(client, auth):
    headers = auth("admin")
    for depth, refused in ((MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True)):
        body = '{"category": "repair", "reporter": ' + '{"name": ' * (depth - 1) + "1" + "}" * depth
        answer = client.post("/api/v1/cases", data=body, content_type="application/json", headers=headers)
        assert (answer.json["error"] == "too_deep") is refused, answer.json
        assert answer.status_code in (400, 422)


def test_a_view_that_takes_raw_bytes_opts_out(demo):
    @demo.post("/raw-bytes-echo")
    def raw_bytes_echo():
        return str(request.get_data().count(b"\x00"))

    raw_bytes_echo.accepts_raw_input = True
    csrf.exempt(raw_bytes_echo)
    answer = demo.test_client().post("/raw-bytes-echo?x=%00", data=b'{"a": "\\u0000\x00"}',
                                     content_type="application/json")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "1"


def test_a_refused_write_is_audited_with_a_storable_target(client, demo):
    answer = client.post("/track/1%002/rating", data={"satisfaction": "ok"})
    assert answer.status_code == 422
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.result == "refused")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.target == "/track/1\ufffd2/rating" and entry.detail["reason"] == "unstorable_text"


# ------------------------------------------------------------------ Hypothesis

BAD = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])
TEXT = st.text(alphabet=string.ascii_letters + "幢号漏水 -_.", max_size=8)
BAD_TEXT = st.tuples(TEXT, BAD, TEXT).map("".join)
INVALID_UTF8 = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\x80abc"])


def _raw(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def _escaped(value: str | bytes) -> str:
    return quote_from_bytes(_raw(value), safe="")


def raw_path(path: bytes) -> str:
    """PATH_INFO as a WSGI server gives it: the raw bytes, decoded as latin-1."""
    return path.decode("latin-1")


QUERY_TARGETS = ["/api/v1/alarms?status=", "/api/v1/devices?kind=", "/api/v1/tasks?grid=", "/api/v1/users?q=",
                 "/open311/v2/requests.json?status=", "/open311/v2/services.json?jurisdiction_id=",
                 "/track?ref=", "/login?next="]
PATH_TARGETS = ["/track/{}", "/api/v1/cases/{}", "/open311/v2/requests/{}.json", "/requests/done/{}",
                "/api/v1/users/{}", "/photos/{}"]
FORM_TARGETS = [("/login", "account"), ("/track", "ref"), ("/requests/new/repair", "description"),
                ("/open311/v2/requests.json", "description"), ("/open311/v2/requests.json", "attribute[item]")]
JSON_TARGETS = [("post", "/api/v1/cases", "description"), ("post", "/api/v1/cases", "category"),
                ("patch", "/api/v1/users/gw01", "name"), ("post", "/api/v1/tasks/1/complete", "note")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(["query", "path", "form", "json", "json-key"]), pick=st.integers(0, 100),
       bad=st.one_of(BAD_TEXT, INVALID_UTF8))
def test_bad_text_anywhere_is_a_4xx(client, auth, where, pick, bad):
    headers = auth("admin")
    if where == "query":
        answer = client.get(QUERY_TARGETS[pick % len(QUERY_TARGETS)] + _escaped(bad), headers=headers)
    elif where == "path":
        path = PATH_TARGETS[pick % len(PATH_TARGETS)].encode().replace(b"{}", _raw(bad))
        answer = client.get("/x", headers=headers, environ_overrides={"PATH_INFO": raw_path(path)})
    elif where == "form":
        url, name = FORM_TARGETS[pick % len(FORM_TARGETS)]
        body = f"api_key={DEMO_OPEN311_KEY}&{_escaped(name)}={_escaped(bad)}".encode()
        answer = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    else:
        method, url, name = JSON_TARGETS[pick % len(JSON_TARGETS)]
        if isinstance(bad, bytes):
            body = b'{"' + name.encode() + b'": "' + bad + b'"}'
        else:
            body = json.dumps({bad: "x"} if where == "json-key" else {name: bad}).encode()
        answer = getattr(client, method)(url, data=body, content_type="application/json", headers=headers)
    assert answer.status_code in (400, 422), (where, bad, answer.status_code, answer.get_data(as_text=True)[:200])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(1, 3000), opener=st.sampled_from(["[", '{"a":']))
def test_nesting_never_gives_a_500(client, auth, depth, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    answer = client.post("/api/v1/cases", data=body, content_type="application/json", headers=auth("admin"))
    assert answer.status_code in (400, 422)
    assert (answer.json["error"] == "too_deep") is (depth > MAX_JSON_DEPTH)
