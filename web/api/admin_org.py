"""Organisations, grids and bulk imports (7.3.6, 7.3.7, 9.1.1): administrators only."""
from __future__ import annotations

import json
from datetime import datetime

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from extensions import db
from handlers.accounts import create_account
from handlers.errors import CaseError, Invalid, NotFound
from handlers.orgs import (
    delete_grid,
    delete_unit,
    import_feature_collection,
    org_tree,
    save_grid,
    save_unit,
    unit_by_code,
)
from handlers.spreadsheets import read_rows, template_workbook
from models import Grid, transaction
from web.api import BadBody, api_bp, parse_body
from web.api.admin_users import require_function
from web.api.openapi import documented
from web.input_guard import MAX_JSON_DEPTH, json_depth

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
USER_COLUMNS = [("account", "账号"), ("name", "姓名"), ("role", "角色"), ("password", "初始密码"),
                ("community", "社区编码"), ("grids", "网格编码(逗号分隔)"), ("department", "部门"),
                ("phone", "手机号"), ("id_number", "身份证号"), ("valid_until", "有效期至(ISO)")]
USER_EXAMPLE = ["gw07", "网格员07", "grid_worker", "Change-me-2026!", "jinxiu", "JX-01,JX-02", "",
                "13800001234", "", "2027-12-31T23:59:59+08:00"]


GRID_COLUMNS = [("code", "网格编码"), ("name", "网格名称"), ("community", "社区编码"),
                ("boundary", "边界(GeoJSON Polygon)"), ("grid_admin", "网格管理员"), ("police", "社区民警"),
                ("environment", "环境监督员"), ("mediator", "人民调解员"), ("property", "物业负责人")]
GRID_EXAMPLE = ["JX-04", "锦绣社区第4网格", "jinxiu",
                '{"type": "Polygon", "coordinates": [[[120.1, 30.28], [120.11, 30.28], [120.11, 30.29], '
                '[120.1, 30.29], [120.1, 30.28]]]}', "王建国", "李秀英", "张伟", "刘洋", "陈静"]


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(..., pattern=r"^[A-Za-z0-9_\-]{2,64}$")
    name: str = Field(..., min_length=1, max_length=128)
    kind: str
    parent: str | None = Field(None, max_length=64)


class GridIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=128)
    community: str = Field(..., max_length=64)
    geometry: dict
    staff: dict[str, str] | None = None


@api_bp.get("/org")
@documented("The organisation tree with each community's grids", tag="admin", errors=(403,))
def show_org_tree():
    require_function("org.manage")
    return jsonify({"items": org_tree()})


@api_bp.post("/org")
@documented("Add an organisation under its parent", tag="admin", status=201, body=OrgIn, errors=(403, 404, 409, 422))
def create_org_unit():
    require_function("org.manage")
    body = parse_body(OrgIn)
    with transaction():
        unit = save_unit(body.code, body.name, body.kind, body.parent)
    return jsonify({"code": unit.code, "name": unit.name, "kind": unit.kind}), 201


@api_bp.put("/org/<code>")
@documented("Rename or move an organisation", tag="admin", body=OrgIn, errors=(403, 404, 422))
def change_org_unit(code: str):
    require_function("org.manage")
    body = parse_body(OrgIn)
    with transaction():
        unit = save_unit(code, body.name, body.kind, body.parent, existing=unit_by_code(code))
    return jsonify({"code": unit.code, "name": unit.name, "kind": unit.kind})


@api_bp.delete("/org/<code>")
@documented("Delete an organisation that holds nothing", tag="admin", errors=(403, 404, 409))
def remove_org_unit(code: str):
    require_function("org.manage")
    with transaction():
        delete_unit(unit_by_code(code))
    return jsonify({"deleted": code})


@api_bp.put("/grids/<code>")
@documented("Create or change a grid: boundary (GeoJSON), community, responsible people", tag="admin",
            body=GridIn, errors=(403, 404, 422))
def put_grid(code: str):
    require_function("org.manage")
    body = parse_body(GridIn)
    with transaction():
        grid = save_grid(code, body.name, body.community, body.geometry, body.staff)
    return jsonify({"code": grid.code, "name": grid.name, "community": body.community, "staff": grid.staff})


@api_bp.delete("/grids/<code>")
@documented("Delete a grid without cases or devices", tag="admin", errors=(403, 404, 409))
def remove_grid(code: str):
    require_function("org.manage")
    with transaction():
        grid = db.session.scalar(select(Grid).where(Grid.code == code))
        if grid is None:
            raise NotFound(f"no grid {code!r}")
        delete_grid(grid)
    return jsonify({"deleted": code})


@api_bp.post("/grids/import")
@documented("Import grids from a GeoJSON FeatureCollection (all or nothing)", tag="admin",
            errors=(400, 403, 422))
def import_grids():
    require_function("org.manage")
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadBody(400, "bad_json", "send the GeoJSON FeatureCollection as JSON")
    with transaction():
        saved, errors = import_feature_collection(payload)
        if errors:
            raise Invalid(f"{len(errors)} feature(s) are wrong; nothing was imported", details={"features": errors})
    return jsonify({"imported": saved})


@api_bp.get("/users/template.xlsx")
@documented("The Excel template for importing accounts", tag="admin", errors=(403,))
def users_template():
    require_function("users.manage")
    return Response(template_workbook("users", USER_COLUMNS, USER_EXAMPLE), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=users-template.xlsx"})


@api_bp.post("/users/import")
@documented("Import accounts from Excel (multipart field 'file'); errors by row, all or nothing",
            tag="admin", errors=(400, 403, 422))
def import_users():
    require_function("users.manage")
    upload = request.files.get("file")
    if upload is None:
        raise BadBody(400, "bad_request", "send the workbook as multipart field 'file'")
    rows = read_rows(upload.read(), [c for c, _ in USER_COLUMNS])
    return jsonify({"imported": _import_all(rows, lambda row: create_account(_account_row(row)), "account")})


def _import_all(rows: list[tuple[int, dict]], save_row, key: str) -> int:
    """Save every row or none: each row in a savepoint, so all wrong rows are reported at once."""
    errors, saved = [], 0
    with transaction():
        for number, row in rows:
            try:
                with db.session.begin_nested():
                    save_row(row)
                    db.session.flush()
                saved += 1
            except CaseError as exc:
                errors.append({"row": number, key: row.get(key), "message": exc.message})
        if errors:
            raise Invalid(f"{len(errors)} row(s) are wrong; nothing was imported", details={"rows": errors})
    return saved


def _account_row(row: dict) -> dict:
    for field in ("account", "name", "role", "password"):
        if not row.get(field):
            raise Invalid(f"{field} is empty")
    valid_until = None
    if row.get("valid_until"):
        try:
            valid_until = datetime.fromisoformat(row["valid_until"])
        except ValueError:
            raise Invalid(f"valid_until {row['valid_until']!r} is not an ISO date/time") from None
        if valid_until.tzinfo is None:
            raise Invalid("valid_until needs a time zone, e.g. +08:00")
    return {
        "account": row["account"], "name": row["name"], "role": row["role"], "password": row["password"],
        "community": row.get("community") or None, "department": row.get("department") or None,
        "grids": [g.strip() for g in (row.get("grids") or "").split(",") if g.strip()],
        "phone": row.get("phone") or None, "id_number": row.get("id_number") or None,
        "valid_until": valid_until,
    }


@api_bp.get("/grids/template.xlsx")
@documented("The Excel template for importing grids", tag="admin", errors=(403,))
def grids_template():
    require_function("org.manage")
    return Response(template_workbook("grids", GRID_COLUMNS, GRID_EXAMPLE), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=grids-template.xlsx"})


@api_bp.post("/grids/import.xlsx")
@documented("Import grids from Excel (multipart field 'file'; boundary as GeoJSON text); errors by row, "
            "all or nothing", tag="admin", errors=(400, 403, 422))
def import_grid_sheet():
    require_function("org.manage")
    upload = request.files.get("file")
    if upload is None:
        raise BadBody(400, "bad_request", "send the workbook as multipart field 'file'")
    rows = read_rows(upload.read(), [c for c, _ in GRID_COLUMNS])

    def save_row(row: dict) -> None:
        save_grid(row["code"], row["name"], row["community"], _geometry(row["boundary"]),
                  {k: row[k] for k, _ in GRID_COLUMNS[4:] if row.get(k)})

    return jsonify({"imported": _import_all(rows, save_row, "code")})


def _geometry(text: str) -> dict:
    # A cell is not a request body: the input guard has not bounded its nesting (RecursionError).
    if json_depth(text.encode()) > MAX_JSON_DEPTH:
        raise Invalid("the boundary is nested too deeply to be GeoJSON")
    try:
        geometry = json.loads(text)
    except ValueError:
        raise Invalid("the boundary is not GeoJSON text") from None
    return geometry
