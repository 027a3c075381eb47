"""One check of every request at the edge: text the database cannot store never reaches a view.

PostgreSQL refuses NUL (U+0000) in text and JSON, and a lone UTF-16 surrogate cannot even be
encoded to UTF-8; Werkzeug quietly turns invalid UTF-8 into U+FFFD, so a value would be stored
other than it was sent; and ``json.loads`` recurses, so a body of 10,000 nested brackets raises
RecursionError. This hook runs before CSRF, the rate limiter, the access checks and the views,
and refuses such a request with a clear 4xx in the error shape of where it was sent:

- 400 ``bad_encoding``: the path, query string or a url-encoded form is not valid UTF-8;
- 400 ``bad_header``: a header holds NUL (HTTP itself forbids it);
- 400 ``too_deep``: a JSON body nested deeper than ``MAX_JSON_DEPTH``, found by counting
  brackets outside strings before anything parses it (no recursion, linear time);
- 422 ``unstorable_text``: NUL or a lone surrogate in the path, a query parameter, a form
  field or any key or string of a JSON body; ``details`` names where;
- 404 ``not_found``: an ``<int:...>`` of the path beyond ``MAX_PATH_ID`` (no row has such an
  id, and PostgreSQL would refuse to compare it: "integer out of range").

Open311 answers its specification's error list with 400. A view that takes the raw bytes
itself (device events keep what they refuse as dead letters) opts out with the attribute
``accepts_raw_input = True``.
"""
from __future__ import annotations

import re
from itertools import accumulate
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, current_app, g, request

from models import transaction
from web.errors import error_response

MAX_JSON_DEPTH = 32
# What PostgreSQL cannot store: NUL, and surrogates (in a Python str they are always unpaired:
# a valid pair is decoded into one character).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A JSON string literal, escapes included (unrolled so that long strings do not backtrack).
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
BRACKETS = b"[]{}"
NOT_BRACKETS = bytes(b for b in range(256) if b not in BRACKETS)
# +1 for an opening bracket, -1 for a closing one, indexed by byte value.
BRACKET_STEP = [1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256)]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Every id a route takes as <int:...> is a PostgreSQL integer column.
MAX_PATH_ID = 2**31 - 1


class RefusedInput(Exception):
    """Why the request cannot be used: status, error code, message, where it was found."""

    def __init__(self, status: int, code: str, message: str, where: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.where = status, code, message, where or {}


def describe(text: str) -> str:
    """What is wrong with ``text`` for storing, or '' when nothing is."""
    found = UNSTORABLE.search(text)
    if found is None:
        return ""
    char = found.group()
    return "holds NUL (U+0000)" if char == "\x00" else f"holds an unpaired surrogate (U+{ord(char):04X})"


def _check_text(where: str, text: str) -> None:
    problem = describe(text)
    if problem:
        raise RefusedInput(422, "unstorable_text", "The request holds a character that cannot be stored "
                           "(NUL or an unpaired surrogate): remove it and send it again.", {where[:80]: problem})


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedInput(400, "bad_encoding", "The request is not valid UTF-8: send text as UTF-8.",
                           {where[:80]: "is not valid UTF-8"}) from None


def _check_urlencoded(raw: bytes, what: str) -> None:
    """A query string or url-encoded body, from its raw bytes (Werkzeug's parse would hide
    invalid UTF-8 behind U+FFFD)."""
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        key = _decode(unquote_to_bytes(name.replace(b"+", b" ")), f"{what} name")
        _check_text(f"{what} name", key)
        _check_text(f"{what} {key!r}", _decode(unquote_to_bytes(value.replace(b"+", b" ")), f"{what} {key!r}"))


def json_depth(raw: bytes) -> int:
    """How deep the brackets of a JSON text nest, strings left out; no parsing, no recursion."""
    brackets = JSON_STRING.sub(b"", raw).translate(None, NOT_BRACKETS)
    return max(accumulate(map(BRACKET_STEP.__getitem__, brackets)), default=0)


def _check_json_value(value, where: str = "$") -> None:
    # Depth is bounded before this runs, so the recursion is too.
    if isinstance(value, str):
        _check_text(where, value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_text(f"{where} (a key)", key)
            _check_json_value(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _check_json_value(inner, f"{where}[{index}]")


def _check_json_body() -> None:
    raw = request.get_data(cache=True)
    _decode(raw, "JSON body")
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise RefusedInput(400, "too_deep", "The JSON body is nested too deeply.",
                           {"JSON body": f"nested deeper than {MAX_JSON_DEPTH} levels"})
    # Parsed here once (Flask caches it for the view); malformed JSON is the view's to explain.
    payload = request.get_json(silent=True)
    if payload is not None:
        _check_json_value(payload)


def check_request(environ: dict) -> None:
    """Raise RefusedInput when the request carries what cannot be stored or parsed safely."""
    for name, value in environ.items():
        if name.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            header = name[5:].replace("_", "-").title()
            raise RefusedInput(400, "bad_header", "A header of the request holds NUL (U+0000).",
                               {header: "holds NUL (U+0000)"})
    # WSGI gives the path as the raw bytes, decoded as latin-1.
    path = _decode(environ.get("PATH_INFO", "").encode("latin-1"), "path")
    _check_text("path", path)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_PATH_ID:
            raise RefusedInput(404, "not_found", "There is no such object.", {name: "no object has this id"})
    _check_urlencoded(environ.get("QUERY_STRING", "").encode("latin-1"), "query parameter")
    if request.is_json:
        _check_json_body()
    elif request.mimetype == "application/x-www-form-urlencoded":
        _check_urlencoded(request.get_data(cache=True), "form field")
    elif request.mimetype == "multipart/form-data":
        # Werkzeug has decoded these already (invalid UTF-8 as U+FFFD): NUL is what is left.
        for key, value in request.form.items(multi=True):
            _check_text("form field name", key)
            _check_text(f"form field {key!r}", value)
        for key, upload in request.files.items(multi=True):
            _check_text(f"file name of {key!r}", upload.filename or "")


def _refusal(exc: RefusedInput) -> Response:
    if request.path.startswith("/open311/"):
        from web.open311 import error as open311_error

        where = "; ".join(f"{k} {v}" for k, v in exc.where.items())
        status = 404 if exc.status == 404 else 400  # the specification's codes: no 422
        return open311_error(status, f"{exc.message} ({where})" if where else exc.message)
    return error_response(exc.status, exc.code, exc.message, exc.where)


def _audit_refused_write(exc: RefusedInput) -> None:
    """A refused write is audited like any other, with a target the log can store (the audit
    hook of web.audit would write the raw path)."""
    from web.audit import audit_entry

    target = UNSTORABLE.sub("\ufffd", request.path)
    with transaction():
        audit_entry(f"{request.method} {request.endpoint or 'unknown'}", "refused", target=target,
                    detail={"status": exc.status, "reason": exc.code})


def refuse_unstorable_input() -> Response | None:
    """The before-request hook: None to go on, else the refusal."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "accepts_raw_input", False):
        return None
    try:
        check_request(request.environ)
    except RefusedInput as exc:
        current_app.logger.info("refused input: %s %s", exc.code, exc.where)
        if request.method in WRITE_METHODS and not g.get("audited"):
            _audit_refused_write(exc)
        return _refusal(exc)
    return None


def register_input_guard(app: Flask) -> None:
    """Run the check second among the before-request hooks: after web.app resets ``g`` (so the
    after-request hooks of a refused request see its own, empty ``g``), before CSRF, the rate
    limiter, the access checks and the blueprints' hooks."""
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(min(1, len(hooks)), refuse_unstorable_input)

