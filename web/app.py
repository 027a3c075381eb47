"""The application factory."""
from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import event

from config import load_settings
from extensions import babel, csrf, db, limiter, login_manager, migrate, redis

SQLITE_BUSY_MS = 15000


class IsoJSONProvider(DefaultJSONProvider):
    """Dates as ISO 8601 with their offset, Chinese text as is."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(config_overrides: dict | None = None) -> Flask:
    settings = load_settings(config_overrides)
    app = Flask(__name__)
    app.json_provider_class = IsoJSONProvider
    app.json = IsoJSONProvider(app)
    app.config.update(settings.as_flask_config())
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.DATABASE_URL,
        SQLALCHEMY_ECHO=settings.SQL_ECHO,
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.REDIS_URL)
    redis_wait = settings.REDIS_TIMEOUT_SECONDS
    app.config.update(
        # Flask-Limiter fails closed: with Redis away every limited request would be a 500. Count
        # in this process's memory until Redis answers again (it re-checks with back-off).
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True, RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": redis_wait, "socket_timeout": redis_wait},
        # A pooled connection that a database restart closed is replaced before use, so the
        # first request after the restart does not fail.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        # Rate-limit counters are namespaced like the queues, so test runs do not share them.
        RATELIMIT_KEY_PREFIX=settings.QUEUE_PREFIX,
        # One catalog folder per area (base, inbox, requests, reports...); Flask-Babel merges them.
        BABEL_TRANSLATION_DIRECTORIES=";".join(
            str(p) for p in sorted((Path(app.root_path) / "translations").glob("*")) if p.is_dir()),
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    redis.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter keeps the key prefix of the first app it was bound to; each app (one per
    # process in production, one per test) must count under its own.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    # Likewise its "storage is down, count in memory" flag: each app starts on its own storage.
    limiter._storage_dead = False
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: settings.COMMUNITY_TZ)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _serialise_sqlite_writers(db.engine)

    from web.access import register_access
    from web.admin import admin_bp
    from web.api import api_bp
    from web.audit import register_audit
    from web.auth import auth_bp
    from web.case_pages import case_pages_bp
    from web.commands import register_commands
    from web.errors import register_error_handlers
    from web.headers import register_security_headers
    from web.inbox import inbox_bp
    from web.open311 import open311_bp
    from web.photos import photos_bp
    from web.processes_pages import processes_bp
    from web.reports import reports_bp
    from web.requests import requests_bp

    # The API authenticates with bearer tokens, not cookies: no CSRF there.
    csrf.exempt(api_bp)
    # Open311 clients authenticate with api_key, not cookies.
    csrf.exempt(open311_bp)
    # Blueprints before register_access: the inbox's poll hook must run before the access guard.
    for blueprint in (api_bp, auth_bp, photos_bp, reports_bp, requests_bp, open311_bp, inbox_bp, case_pages_bp,
                      admin_bp, processes_bp):
        app.register_blueprint(blueprint)
    # Each request starts with an empty ``g``. It does anyway in production; where an app
    # context is already pushed (tests, shell) Flask would otherwise carry ``g`` - the signed-in
    # user included - from one request to the next.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    # Second hook: text the database cannot store (NUL...) or absurd JSON nesting is refused (4xx).
    from web.input_guard import register_input_guard
    register_input_guard(app)
    register_access(app)
    register_audit(app)
    register_error_handlers(app)
    register_security_headers(app)
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    register_commands(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SpiffWorkflow logs every state change at INFO: too loud, and slow on the hot path.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    return app


def _fresh_request_globals() -> None:
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


def select_locale() -> str:
    """?lang= (remembered in the session), else Chinese: the default whatever the browser says."""
    from flask import current_app, request, session

    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
    if session.get("lang") in languages:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _serialise_sqlite_writers(engine) -> None:
    """SQLite allows one writer: a unit of work (``models.transaction``) starts with BEGIN
    IMMEDIATE, so a second writer waits its turn and then sees the first one's result
    instead of failing; reads start a plain deferred transaction and never block."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")
