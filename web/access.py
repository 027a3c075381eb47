"""Who may reach what: IP block list, session policy, function permissions, API groups,
the caller's row scope, per-principal rate limits and API call statistics (7.2.7, 7.3.3-7.3.8)."""
from __future__ import annotations

import hashlib
import ipaddress
import time
from datetime import UTC, datetime

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user
from sqlalchemy import select

from extensions import db, redis
from handlers.permissions import role_grants
from handlers.scopes import EVERYTHING, Scope, scope_of_user
from models import ApiClient, IpBlock, utcnow
from web.errors import error_response

# The OpenAPI tag of an API view names its group; "meta" (the document itself) is open.
GROUP_OF_TAG = {"cases": "cases", "tasks": "cases", "photos": "cases", "grids": "grids",
                "devices": "devices", "alarms": "devices", "admin": "admin",
                "processes": "processes"}
_blocked_cache: tuple[float, list] = (0.0, [])
BLOCK_CACHE_SECONDS = 5


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _blocked_networks() -> list:
    global _blocked_cache
    loaded_at, networks = _blocked_cache
    if time.monotonic() - loaded_at > BLOCK_CACHE_SECONDS:
        networks = [ipaddress.ip_network(n, strict=False) for n in db.session.scalars(select(IpBlock.network))]
        _blocked_cache = (time.monotonic(), networks)
    return networks


def forget_blocked_networks() -> None:
    global _blocked_cache
    _blocked_cache = (0.0, [])


def ip_is_blocked(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _blocked_networks())


def requires(function: str):
    """Mark a view, a page or an API call, as needing a function permission of the caller's
    role. Checked centrally (``missing_function``): pages here, API calls in ``web.api``;
    an API key has no functions, so such calls need a person's token."""

    def wrap(view):
        view.required_function = function
        return view

    return wrap


def missing_function(view, functions: set[str]) -> str | None:
    """The function ``view`` needs that ``functions`` lacks, or None: the one function check."""
    needed = getattr(view, "required_function", None)
    return needed if needed and needed not in functions else None


def caller_scope() -> Scope:
    """The rows the caller of this request may see (``handlers.scopes``), read once per
    request: an API client's, the bearer token's user's, else the signed-in user's."""
    if "scope" not in g:
        if g.get("api_client") is not None:
            g.scope = EVERYTHING
        elif g.get("user") is not None:
            g.scope = scope_of_user(g.user)
        elif current_user.is_authenticated:
            g.scope = scope_of_user(current_user)
        else:
            g.scope = Scope()
    return g.scope


def functions_of(user) -> set[str]:
    if "functions" not in g:
        g.functions, g.api_groups = role_grants(user.role) if user else (set(), set())
    return g.functions


def api_groups_of(user) -> set[str]:
    functions_of(user)
    return g.api_groups


def api_group_of(view) -> str | None:
    return GROUP_OF_TAG.get(getattr(view, "openapi", {}).get("tag", ""), "admin")


def _session_expired(user) -> str | None:
    """Why a signed-in session ends now. (Sessions ended by logout, a password reset or
    disabling carry an old session version and never get here: web.auth.load_user.)"""
    now = utcnow()
    if not user.active or (user.valid_until is not None and user.valid_until < now):
        return gettext("Your account has expired.")
    seen = session.get("seen")
    if seen is not None and time.time() - seen > user.session_timeout_minutes * 60:
        return gettext("Your session ended after a time without activity. Please sign in again.")
    return None


def register_access(app: Flask) -> None:
    @app.before_request
    def _guard():
        if request.path.startswith(("/api/", "/open311/")) and ip_is_blocked(client_ip()):
            return error_response(403, "ip_blocked", "requests from this address are blocked")
        if current_user.is_authenticated:
            problem = _session_expired(current_user)
            if problem:
                logout_user()
                session.pop("seen", None)
                flash(problem)
                return redirect(url_for("auth.login", next=request.path))
            session["seen"] = int(time.time())
        view = current_app.view_functions.get(request.endpoint or "")
        # API calls are checked for their token's principal (web.api), not for a cookie.
        if (current_user.is_authenticated and request.blueprint != "api"
                and hasattr(view, "required_function") and missing_function(view, functions_of(current_user))):
            abort(403, "your role does not allow this")
        return None


def api_principal() -> str:
    """Rate-limit key: the API client or the user of the token, else the address."""
    key = request.headers.get("X-Api-Key")
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]
    return "ip:" + client_ip()


_client_rates: dict[str, tuple[float, str]] = {}


def api_rate() -> str:
    """The rate of the calling principal: an API client's own, else the users' default."""
    key = request.headers.get("X-Api-Key")
    default = current_app.config["API_RATE_LIMIT"]
    if not key:
        return default
    digest = hashlib.sha256(key.encode()).hexdigest()
    cached = _client_rates.get(digest)
    if cached and time.monotonic() - cached[0] < 30:
        return cached[1]
    rate = db.session.scalar(select(ApiClient.rate_limit).where(ApiClient.key_hash == digest)) or default
    _client_rates[digest] = (time.monotonic(), rate)
    return rate


def stats_key(day: str) -> str:
    return f"{redis.queue_prefix}:apistats:{day}"


def count_api_call(response) -> None:
    """Count the call by principal, endpoint and status for today (errors included, 7.2.7 e)."""
    principal = getattr(g, "principal_name", None) or api_principal()
    day = datetime.now(UTC).strftime("%Y%m%d")
    field = f"{principal}|{request.endpoint or request.path}|{response.status_code}"
    try:
        pipe = redis.client.pipeline(transaction=False)
        pipe.hincrby(stats_key(day), field, 1)
        pipe.expire(stats_key(day), 90 * 86400)
        pipe.execute()
    except Exception:  # noqa: BLE001 - statistics never fail a call
        current_app.logger.warning("API call statistics unavailable")
