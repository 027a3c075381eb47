"""Administration of accounts and roles (7.3.3-7.3.5): administrators only."""
from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from extensions import db
from handlers.accounts import (
    account_of,
    account_view,
    apply_changes,
    create_account,
    search_accounts,
    set_password,
)
from handlers.errors import Conflict, Forbidden, Invalid, NotFound
from handlers.permissions import API_GROUPS, FUNCTIONS, forget_role_grants
from models import Role, User, transaction
from web.access import functions_of
from web.api import api_bp, parse_body
from web.api.openapi import documented

ACCOUNT = r"^[A-Za-z0-9_.\-]{2,64}$"


def require_function(function: str) -> None:
    if function not in functions_of(g.user):
        raise Forbidden("your role does not allow this")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(..., pattern=ACCOUNT)
    name: str = Field(..., min_length=1, max_length=64)
    role: str = Field(..., max_length=32)
    password: str = Field(..., max_length=128)
    department: str | None = Field(None, max_length=32)
    community: str | None = Field(None, max_length=64)
    grids: list[str] = Field(default_factory=list, max_length=500)
    phone: str | None = Field(None, max_length=20, pattern=r"^[0-9+\- ]*$")
    id_number: str | None = Field(None, max_length=18, pattern=r"^[0-9Xx]*$")
    valid_until: datetime | None = None
    session_timeout_minutes: int = Field(30, ge=1, le=1440)
    max_login_attempts: int = Field(5, ge=1, le=20)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=64)
    role: str | None = Field(None, max_length=32)
    department: str | None = Field(None, max_length=32)
    community: str | None = Field(None, max_length=64)
    grids: list[str] | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=20, pattern=r"^[0-9+\- ]*$")
    id_number: str | None = Field(None, max_length=18, pattern=r"^[0-9Xx]*$")
    valid_until: datetime | None = None
    session_timeout_minutes: int | None = Field(None, ge=1, le=1440)
    max_login_attempts: int | None = Field(None, ge=1, le=20)
    active: bool | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(..., max_length=128)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(..., pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str = Field(..., min_length=1, max_length=64)
    description: str = Field("", max_length=2000)
    functions: list[str] = Field(default_factory=list)
    api_groups: list[str] = Field(default_factory=list)


def _aware(value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise Invalid("valid_until needs a time zone, e.g. 2027-01-01T00:00:00+08:00",
                      details={"valid_until": "time zone required"})


@api_bp.get("/users")
@documented("Accounts: search by account or name, filter by role", tag="admin", errors=(403,),
            query={"q": "part of the account or name", "role": "a role code", "limit": "at most 500"})
def list_users():
    require_function("users.manage")
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 500)
    users = search_accounts(request.args.get("q"), request.args.get("role"), limit=limit)
    return jsonify({"items": [account_view(u, full_personal_data=True) for u in users]})


@api_bp.post("/users")
@documented("Create an account", body=UserIn, status=201, tag="admin", errors=(403, 409, 422))
def create_user():
    require_function("users.manage")
    body = parse_body(UserIn)
    _aware(body.valid_until)
    with transaction():
        user = create_account(body.model_dump())
    return jsonify(account_view(user, full_personal_data=True)), 201


@api_bp.get("/users/<account>")
@documented("One account", tag="admin", errors=(403, 404))
def show_user(account: str):
    require_function("users.manage")
    return jsonify(account_view(account_of(account), full_personal_data=True))


@api_bp.patch("/users/<account>")
@documented("Change an account (role, grids, validity, timeout, lockout, active...)", body=UserPatch,
            tag="admin", errors=(403, 404, 422))
def change_user(account: str):
    require_function("users.manage")
    body = parse_body(UserPatch)
    _aware(body.valid_until)
    with transaction():
        user = apply_changes(account_of(account), body.model_dump(exclude_unset=True))
    return jsonify(account_view(user, full_personal_data=True))


@api_bp.post("/users/<account>/password")
@documented("Reset an account's password (policy checked; the account is unlocked)", body=PasswordIn,
            tag="admin", errors=(403, 404, 422))
def reset_password(account: str):
    require_function("users.manage")
    body = parse_body(PasswordIn)
    with transaction():
        set_password(account_of(account), body.password)
    return jsonify({"account": account, "reset": True})


def _role_view(role: Role) -> dict:
    return {"code": role.code, "name": role.name, "description": role.description,
            "builtin": role.builtin, "functions": role.functions, "api_groups": role.api_groups}


def _check_grants(body: RoleIn) -> None:
    unknown = sorted(set(body.functions) - set(FUNCTIONS)) + sorted(set(body.api_groups) - set(API_GROUPS))
    if unknown:
        raise Invalid(f"unknown functions or API groups: {', '.join(unknown)}",
                      details={"functions": f"known: {', '.join(FUNCTIONS)}",
                               "api_groups": f"known: {', '.join(API_GROUPS)}"})


@api_bp.get("/roles")
@documented("Roles with their functions and API groups, and the catalogue of both", tag="admin", errors=(403,))
def list_roles():
    require_function("users.manage")
    roles = db.session.scalars(select(Role).order_by(Role.code))
    return jsonify({"items": [_role_view(r) for r in roles], "functions": FUNCTIONS, "api_groups": API_GROUPS})


@api_bp.post("/roles")
@documented("Create a custom role", tag="admin", status=201, body=RoleIn, errors=(403, 409, 422))
def create_role():
    require_function("users.manage")
    body = parse_body(RoleIn)
    _check_grants(body)
    with transaction():
        if db.session.get(Role, body.code) is not None:
            raise Conflict(f"the role {body.code!r} exists already")
        role = Role(code=body.code, name=body.name, description=body.description, builtin=False,
                    functions=body.functions, api_groups=body.api_groups)
        db.session.add(role)
    forget_role_grants()
    return jsonify(_role_view(role)), 201


@api_bp.put("/roles/<code>")
@documented("Change a role's name, description and grants", tag="admin", body=RoleIn, errors=(403, 404, 422))
def change_role(code: str):
    require_function("users.manage")
    body = parse_body(RoleIn)
    _check_grants(body)
    with transaction():
        role = db.session.get(Role, code)
        if role is None:
            raise NotFound(f"no role {code!r}")
        role.name, role.description = body.name, body.description
        role.functions, role.api_groups = body.functions, body.api_groups
    forget_role_grants()
    return jsonify(_role_view(role))


@api_bp.delete("/roles/<code>")
@documented("Delete a custom role no account holds", tag="admin", errors=(403, 404, 409))
def delete_role(code: str):
    require_function("users.manage")
    with transaction():
        role = db.session.get(Role, code)
        if role is None:
            raise NotFound(f"no role {code!r}")
        if role.builtin:
            raise Conflict("built-in roles cannot be deleted")
        if db.session.scalar(select(User.id).where(User.role == code).limit(1)) is not None:
            raise Conflict("accounts still hold this role")
        db.session.delete(role)
    forget_role_grants()
    return jsonify({"deleted": code})
