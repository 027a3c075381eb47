"""Administration over the API: accounts, roles, organisations, grids, imports."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select, text

from extensions import db
from models import Grid, User

GOOD_PASSWORD = "Grid-Work3r!"


def test_admin_creates_searches_and_resets_accounts(client, auth):
    admin = auth("admin")
    res = client.post("/api/v1/users", headers=admin, json={
        "account": "gw07", "name": "网格员七", "role": "grid_worker", "password": GOOD_PASSWORD,
        "community": "jinxiu", "grids": ["JX-01", "JX-02"], "phone": "13812345678",
        "id_number": "330102199001011234", "valid_until": "2027-12-31T23:59:59+08:00"})
    assert res.status_code == 201, res.json
    assert res.json["grids"] == ["JX-01", "JX-02"] and res.json["phone"] == "13812345678"
    raw = db.session.execute(text("SELECT phone, id_number FROM users WHERE account = 'gw07'")).one()
    assert raw.phone.startswith("sm4:") and "13812345678" not in raw.phone
    assert raw.id_number.startswith("sm4:")
    found = client.get("/api/v1/users?q=网格员七", headers=admin).json["items"]
    assert [u["account"] for u in found] == ["gw07"]
    weak = client.post("/api/v1/users/gw07/password", headers=admin, json={"password": "short"})
    assert weak.status_code == 422 and "at least 10 characters" in weak.json["message"]
    assert client.post("/api/v1/users/gw07/password", headers=admin,
                       json={"password": "An0ther-Pass!"}).status_code == 200
    dup = client.post("/api/v1/users", headers=admin, json={
        "account": "gw07", "name": "x", "role": "grid_worker", "password": GOOD_PASSWORD})
    assert dup.status_code == 409
    bad_role = client.post("/api/v1/users", headers=admin, json={
        "account": "gw08", "name": "x", "role": "wizard", "password": GOOD_PASSWORD})
    assert bad_role.status_code == 422 and "unknown role" in bad_role.json["message"]


def test_only_administrators_manage_accounts(client, auth):
    for account in ("dispatcher", "supervisor", "gw01"):
        assert client.get("/api/v1/users", headers=auth(account)).status_code == 403


def test_custom_role_grants_functions_and_api_groups(client, auth):
    admin = auth("admin")
    res = client.post("/api/v1/roles", headers=admin, json={
        "code": "auditor", "name": "审计员", "description": "reads the audit log",
        "functions": ["audit.view"], "api_groups": ["admin"]})
    assert res.status_code == 201
    client.post("/api/v1/users", headers=admin, json={
        "account": "aud1", "name": "审计员一", "role": "auditor", "password": GOOD_PASSWORD})
    auditor = auth("aud1")
    assert client.get("/api/v1/audit", headers=auditor).status_code == 200
    assert client.get("/api/v1/users", headers=auditor).status_code == 403
    assert client.get("/api/v1/tasks", headers=auditor).status_code == 403  # no "cases" API group
    assert client.delete("/api/v1/roles/auditor", headers=admin).status_code == 409  # held by aud1
    assert client.delete("/api/v1/roles/dispatcher", headers=admin).status_code == 409  # built in
    unknown = client.post("/api/v1/roles", headers=admin, json={
        "code": "x1", "name": "x", "functions": ["fly"], "api_groups": []})
    assert unknown.status_code == 422


def test_org_tree_and_grid_import(client, auth):
    admin = auth("admin")
    assert client.post("/api/v1/org", headers=admin, json={
        "code": "lakeside", "name": "湖畔社区", "kind": "community", "parent": "cuihu"}).status_code == 201
    wrong = client.post("/api/v1/org", headers=admin, json={
        "code": "x2", "name": "x", "kind": "community", "parent": "lakeside"})
    assert wrong.status_code == 422 and "belongs under a street" in wrong.json["message"]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "LS-01", "name": "湖畔第一网格", "community": "lakeside",
                                           "staff": {"grid_admin": "周一"}},
         "geometry": {"type": "Polygon", "coordinates": [[[120.16, 30.27], [120.17, 30.27], [120.17, 30.28],
                                                          [120.16, 30.28], [120.16, 30.27]]]}}]}
    assert client.post("/api/v1/grids/import", headers=admin, json=collection).json == {"imported": 1}
    tree = client.get("/api/v1/org", headers=admin).json["items"]
    street = tree[0]["children"][0]
    assert "LS-01" in [g["code"] for c in street["children"] for g in c["grids"]]
    case = client.post("/api/v1/cases", headers=auth("gw01"),
                       json={"category": "repair", "lat": 30.275, "lon": 120.165, "description": "x"})
    assert case.json["grid"] == "LS-01"
    bowtie = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "LS-02", "name": "坏", "community": "lakeside"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
        {"type": "Feature", "properties": {"name": "无编码"}, "geometry": None}]}
    res = client.post("/api/v1/grids/import", headers=admin, json=bowtie)
    assert res.status_code == 422
    assert [e["feature"] for e in res.json["details"]["features"]] == [0, 1]
    assert db.session.scalar(select(Grid).where(Grid.code == "LS-02")) is None
    assert client.delete("/api/v1/grids/LS-01", headers=admin).status_code == 409  # has a case


def test_users_import_from_excel_with_row_errors(client, auth):
    admin = auth("admin")
    template = client.get("/api/v1/users/template.xlsx", headers=admin)
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.data))
    sheet = book.active
    sheet.append(["gw09", "网格员九", "grid_worker", GOOD_PASSWORD, "cuiyuan", "CY-01", "", "", "", ""])
    sheet.append(["gw10", "网格员十", "grid_worker", "weak", "cuiyuan", "CY-09", "", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    res = client.post("/api/v1/users/import", headers=admin,
                      data={"file": (io.BytesIO(out.getvalue()), "users.xlsx")})
    assert res.status_code == 422
    rows = {r["row"]: r["message"] for r in res.json["details"]["rows"]}
    assert set(rows) == {5}  # rows 1-2 header and labels, 3 the example (fine), 4 gw09 (fine)
    assert "unknown grids: CY-09" in rows[5] or "password" in rows[5]
    assert db.session.scalar(select(User).where(User.account == "gw09")) is None  # all or nothing
    sheet.delete_rows(5)
    out = io.BytesIO()
    book.save(out)
    ok = client.post("/api/v1/users/import", headers=admin, data={"file": (io.BytesIO(out.getvalue()), "u.xlsx")})
    assert ok.json == {"imported": 2}
    junk = client.post("/api/v1/users/import", headers=admin, data={"file": (io.BytesIO(b"not excel"), "u.xlsx")})
    assert junk.status_code == 422 and "not an Excel workbook" in junk.json["message"]


def test_grids_import_from_excel(client, auth):
    admin = auth("admin")
    book = load_workbook(io.BytesIO(client.get("/api/v1/grids/template.xlsx", headers=admin).data))
    sheet = book.active
    sheet.append(["CY-04", "翠苑社区第4网格", "cuiyuan", "not geojson"])
    out = io.BytesIO()
    book.save(out)
    res = client.post("/api/v1/grids/import.xlsx", headers=admin, data={"file": (io.BytesIO(out.getvalue()), "g.xlsx")})
    assert res.status_code == 422 and [r["row"] for r in res.json["details"]["rows"]] == [4]
    sheet.delete_rows(4)
    out = io.BytesIO()
    book.save(out)
    res = client.post("/api/v1/grids/import.xlsx", headers=admin, data={"file": (io.BytesIO(out.getvalue()), "g.xlsx")})
    assert res.json == {"imported": 1}
    grid = db.session.scalar(select(Grid).where(Grid.code == "JX-04"))
    assert grid.staff["grid_admin"] == "王建国" and grid.boundary["type"] == "Polygon"
    case = client.post("/api/v1/cases", headers=auth("gw01"),
                       json={"category": "repair", "lat": 30.285, "lon": 120.105, "description": "x"})
    assert case.json["grid"] == "JX-04"
