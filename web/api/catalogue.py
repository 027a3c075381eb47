"""The catalogue through the API: categories and departments, listed by anyone of the cases
API, added and changed by holders of catalogue.manage (administrators). A change is used at
once by this process and within CATALOGUE_CACHE_SECONDS by every other: no restart."""
from __future__ import annotations

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from handlers.catalogue import (
    add_category,
    add_department,
    categories,
    category_out,
    change_category,
    change_department,
    department_out,
    departments,
)
from models import transaction
from web.access import requires
from web.api import api_bp, parse_body
from web.api.openapi import documented
from web.process_names import known_processes

NAME_ZH = Field(..., min_length=1, max_length=64)
NAME_EN = Field(..., min_length=1, max_length=128)


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(..., max_length=64, description="lower-case letters, digits and _")
    name_zh: str = NAME_ZH
    name_en: str = NAME_EN
    family: str = Field(..., description="device (an alarm) or people (a report or request)")
    default_severity: str = Field(..., description="low, normal, high or urgent")
    process: str = Field(..., max_length=64, description="a deployed process id: grid_case, gov_service")
    national_code: str | None = Field(None, max_length=32, description="城市管理部件/事件 classification code")
    clause: str = Field("", max_length=32)
    public: bool = Field(False, description="offered to residents (request form, Open311 services)")
    photo_required: bool = False
    open311_batch: bool = Field(False, description="Open311 answers a POST with a token; a worker opens the case")
    private_details: bool = Field(False, description="the description stays out of public Open311 reads")
    form: str | None = Field(None, max_length=32, description="the resident form's question set, if not the general one")
    linkage: list[str] = Field(default_factory=list, max_length=4)
    linkage_pattern: str | None = Field(None, max_length=16)
    position: int = Field(1000, ge=0, le=100000)
    alarm_types: list[str] = Field(default_factory=list, max_length=100,
                                   description="device alarm types that open this category: kind.type")


class CategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(None, min_length=1, max_length=64)
    name_en: str | None = Field(None, min_length=1, max_length=128)
    default_severity: str | None = None
    process: str | None = Field(None, max_length=64)
    national_code: str | None = Field(None, max_length=32)
    clause: str | None = Field(None, max_length=32)
    public: bool | None = None
    photo_required: bool | None = None
    open311_batch: bool | None = None
    private_details: bool | None = None
    form: str | None = Field(None, max_length=32)
    linkage: list[str] | None = Field(None, max_length=4)
    linkage_pattern: str | None = Field(None, max_length=16)
    position: int | None = Field(None, ge=0, le=100000)
    active: bool | None = Field(None, description="false retires the category: offered nowhere, old cases keep it")
    alarm_types: list[str] | None = Field(None, max_length=100)


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(..., max_length=32, description="lower-case letters, digits and _")
    name_zh: str = NAME_ZH
    name_en: str = NAME_EN
    position: int = Field(1000, ge=0, le=100000)


class DepartmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(None, min_length=1, max_length=64)
    name_en: str | None = Field(None, min_length=1, max_length=128)
    position: int | None = Field(None, ge=0, le=100000)
    active: bool | None = Field(None, description="false retires the department: no new dispatch to it")


class CategoryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    zh: str
    en: str
    family: str
    default_severity: str
    process: str
    national_code: str | None
    clause: str
    public: bool
    photo_required: bool
    open311_batch: bool
    private_details: bool
    form: str | None
    linkage: list[str]
    linkage_pattern: str | None
    position: int
    active: bool


class CategoryList(BaseModel):
    items: list[CategoryOut]


class DepartmentOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    position: int
    active: bool


class DepartmentList(BaseModel):
    items: list[DepartmentOut]


def _changes(body: BaseModel) -> dict:
    """The fields the caller sent (a PATCH changes only those)."""
    return body.model_dump(exclude_unset=True)


def _with_retired() -> bool:
    return request.args.get("retired") in ("1", "true", "yes")


@api_bp.get("/categories")
@documented("The categories a case can have (?retired=1: retired ones too)", response=CategoryList,
            query={"retired": "1 to include retired categories"})
def list_categories():
    return jsonify({"items": [category_out(c) for c in categories().values() if c.active or _with_retired()]})


@api_bp.post("/categories")
@requires("catalogue.manage")
@documented("Add a category (administrators); used at once by forms, Open311, board, routing, reports",
            body=CategoryIn, response=CategoryOut, status=201, errors=(400, 403, 422), tag="admin")
def create_category():
    body = parse_body(CategoryIn)
    with transaction():
        row = add_category(_changes(body) | {"code": body.code}, known_processes({body.process}))
    return jsonify(category_out(row)), 201


@api_bp.patch("/categories/<code>")
@requires("catalogue.manage")
@documented("Rename, change or retire a category (administrators)", body=CategoryPatch, response=CategoryOut,
            errors=(400, 403, 404, 422), tag="admin")
def patch_category(code: str):
    body = parse_body(CategoryPatch)
    changes = _changes(body)
    with transaction():
        row = change_category(code, changes, known_processes({changes.get("process") or ""}))
    return jsonify(category_out(row))


@api_bp.get("/departments")
@documented("The departments a case can be dispatched to (?retired=1: retired ones too)", response=DepartmentList,
            query={"retired": "1 to include retired departments"})
def list_departments():
    return jsonify({"items": [department_out(d) for d in departments().values() if d.active or _with_retired()]})


@api_bp.post("/departments")
@requires("catalogue.manage")
@documented("Add a department (administrators); a valid dispatch choice at once", body=DepartmentIn,
            response=DepartmentOut,
            status=201, errors=(400, 403, 422), tag="admin")
def create_department():
    body = parse_body(DepartmentIn)
    with transaction():
        row = add_department(_changes(body) | {"code": body.code})
    return jsonify(department_out(row)), 201


@api_bp.patch("/departments/<code>")
@requires("catalogue.manage")
@documented("Rename or retire a department (administrators)", body=DepartmentPatch, response=DepartmentOut,
            errors=(400, 403, 404, 422), tag="admin")
def patch_department(code: str):
    body = parse_body(DepartmentPatch)
    with transaction():
        row = change_department(code, _changes(body))
    return jsonify(department_out(row))
