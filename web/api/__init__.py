"""The JSON API under /api/v1: bearer tokens, JSON errors, OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError

from handlers.tokens import user_for_token
from web.api.openapi import build_document, documented
from web.errors import error_response

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


@api_bp.before_request
def _authenticate():
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "openapi", {}).get("public"):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "unauthorized", "send 'Authorization: Bearer <token>' (flask users token <account>)")
    user = user_for_token(token.strip())
    if user is None:
        return error_response(401, "unauthorized", "the bearer token is not valid")
    g.user = user
    return None


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

from web.api import cases, grids, tasks  # noqa: E402,F401  (routes register on import)
