"""Every error a caller can cause gets a 4xx: JSON ``{"error", "message"}`` for the API and
for scripts, an HTML page for a browser that navigates to a page."""
from __future__ import annotations

import logging

from flask import Flask, has_request_context, jsonify, make_response, render_template, request
from flask_babel import gettext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from extensions import is_outage, outage_of
from workflows.errors import CaseError

log = logging.getLogger(__name__)
MACHINE_PATHS = ("/api/", "/open311/")
# Seconds a client is told to wait when Redis or the database is away.
OUTAGE_RETRY_AFTER = 30
OUTAGE_MESSAGES = {
    "redis": "the queue service is unavailable for a moment; please try again shortly",
    "database": "the database is unavailable for a moment; please try again shortly",
}


def wants_page() -> bool:
    """A browser navigating to a page names text/html in Accept; the API, fetch() and
    other programs do not (they send JSON or */*)."""
    if not has_request_context() or request.path.startswith(MACHINE_PATHS):
        return False
    return any(mimetype == "text/html" for mimetype, _quality in request.accept_mimetypes)


def error_response(status: int, code: str, message: str, details: dict | None = None):
    if wants_page():
        # gettext without variables: a message holding "%" is shown as it is.
        return render_template("errors/page.html", status=status, code=code, message=gettext(message),
                               details=details or {}), status
    body = {"error": code, "message": message}
    if details:
        body["details"] = details
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CaseError)
    def _case_error(exc: CaseError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    @app.errorhandler(DBAPIError)
    def _outage(exc: Exception):
        # Only what needs Redis or the database at this very moment ends here: reads, caches,
        # statistics and after-commit queueing already go on without Redis (README).
        if not is_outage(exc):
            return _unexpected(exc)
        service = outage_of(exc)
        log.warning("%s unavailable during %s: %s", service, request.path if has_request_context() else "-", exc)
        response = make_response(error_response(503, "service_unavailable", OUTAGE_MESSAGES[service]))
        response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal_error", "something went wrong on our side; it is logged")
