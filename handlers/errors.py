"""Errors a caller can cause; the web layer turns each into its 4xx status."""
from __future__ import annotations


class CaseError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(CaseError):
    status = 404
    code = "not_found"


class Forbidden(CaseError):
    status = 403
    code = "forbidden"


class Conflict(CaseError):
    status = 409
    code = "conflict"


class Invalid(CaseError):
    status = 422
    code = "invalid"
