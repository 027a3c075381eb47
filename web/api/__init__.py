"""The JSON API under /api/v1: bearer tokens, JSON errors, OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError

from extensions import limiter
from handlers.tokens import client_for_key, user_for_token
from web.access import (
    api_group_of,
    api_groups_of,
    api_principal,
    api_rate,
    count_api_call,
    functions_of,
    missing_function,
)
from web.api.openapi import build_document, documented
from web.errors import error_response

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Groups whose calls other systems (API keys, not people) may make: read and share data.
CLIENT_GROUPS = {"grids", "devices"}
# Every caller has a rate: an API client its own, users' tokens API_RATE_LIMIT (Redis counters).
limiter.limit(api_rate, key_func=api_principal)(api_bp)


@api_bp.before_request
def _authenticate():
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "openapi", {}).get("public"):
        return None
    api_key = request.headers.get("X-Api-Key")
    if api_key:
        return _authenticate_client(api_key, view)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "unauthorized",
                              "send 'Authorization: Bearer <token>' (flask users token <account>) or X-Api-Key")
    user = user_for_token(token.strip())
    if user is None:
        return error_response(401, "unauthorized", "the bearer token is not valid")
    g.user, g.principal_name = user, user.account
    group = api_group_of(view)
    if group and group not in api_groups_of(user):
        return error_response(403, "forbidden", f"your role may not call the {group} API")
    if missing_function(view, functions_of(user)):
        return error_response(403, "forbidden", "your role does not allow this")
    return None


def _authenticate_client(api_key: str, view):
    """Another system with an API key: it may call only its API groups (7.3.8)."""
    client = client_for_key(api_key)
    if client is None:
        return error_response(401, "unauthorized", "the API key is not valid")
    g.api_client, g.principal_name = client, f"client:{client.name}"
    group = api_group_of(view)
    if group not in set(client.api_groups or []):
        return error_response(403, "forbidden", f"this API key may not call the {group} API")
    if (not getattr(view, "openapi", {}).get("clients", group in CLIENT_GROUPS)
            or missing_function(view, set())):
        return error_response(403, "forbidden", "this call needs a user's token")
    return None


@api_bp.after_request
def _count_call(response):
    count_api_call(response)
    return response


def parse_body(model: type[BaseModel]):
    """The JSON body as ``model``; a 400 for malformed JSON, a 422 naming each bad field."""
    payload = request.get_json(silent=True)
    if payload is None:
        raw = request.get_data(cache=True)
        problem = "the body is not valid JSON" if raw else "a JSON body is required"
        raise BadBody(400, "bad_json", problem + " (Content-Type: application/json)")
    if not isinstance(payload, dict):
        raise BadBody(400, "bad_json", "the JSON body must be an object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = {".".join(str(p) for p in err["loc"]) or "body": err["msg"] for err in exc.errors()}
        raise BadBody(422, "invalid", "the request is not valid: " + "; ".join(
            f"{k}: {v}" for k, v in details.items()), details) from None


class BadBody(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@api_bp.errorhandler(BadBody)
def _bad_body(exc: BadBody):
    return error_response(exc.status, exc.code, exc.message, exc.details)


@api_bp.get("/openapi.json")
@documented("This OpenAPI 3 document", tag="meta", public=True)
def openapi_document():
    return jsonify(build_document(current_app))

# Routes register on import.
from web.api import (  # noqa: E402,F401
    admin_org,
    admin_security,
    admin_users,
    alarms,
    cases,
    catalogue,
    devices,
    grids,
    processes,
    tasks,
)
