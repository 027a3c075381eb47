"""Fixtures: a real database per backend (SQLite file, PostgreSQL database made for this run),
real Redis under a prefix of this run, the demo community, and API helpers.

TEST_BACKENDS=sqlite (or postgresql) limits the backends; both run by default.
"""
from __future__ import annotations

import os
import secrets
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from extensions import db
from handlers.catalogue import ensure_catalogue, forget_catalogue
from handlers.grids import invalidate_grid_index
from handlers.permissions import ensure_builtin_roles, forget_role_grants
from handlers.tokens import issue_token
from models import User
from models.access import AUDIT_GUARD_SQL
from web import create_app
from web.commands.demo import build_demo_community
from workflows.specs import forget_stored_specs

RUN_ID = uuid.uuid4().hex[:8]
# Explicit keys of this run: nothing falls back to generated keys (or to a known sample key).
TEST_SECRET_KEY = secrets.token_urlsafe(48)
TEST_SM4_KEY = secrets.token_hex(16)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/1"
BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
PG_APP_ROLE = "community_app_test"


def owner_url(url: str) -> str:
    """The schema owner's URL of a test database (the app's role swapped for postgres)."""
    return url.replace(f"{PG_APP_ROLE}@", "postgres@", 1)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """One migrated database per backend for the whole run, dropped at the end."""
    urls = {}
    pg_name = f"cases_test_{RUN_ID}"
    if "sqlite" in BACKENDS:
        urls["sqlite"] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cases.db'}"
    if "postgresql" in BACKENDS:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        # The app connects as its own role, as in production: the upgrade (run as the owner)
        # creates it and lets it only INSERT and SELECT the audit log (handlers.db_roles).
        urls["postgresql"] = f"postgresql+psycopg://{PG_APP_ROLE}@127.0.0.1:5432/{pg_name}"
    for url in urls.values():
        app = create_app({"DATABASE_URL": url, "DATABASE_OWNER_URL": owner_url(url), "REDIS_URL": REDIS_URL,
                          "TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "SM4_KEY": TEST_SM4_KEY})
        with app.app_context():
            upgrade(revision="heads")
            db.engine.dispose()
    yield urls
    if "postgresql" in urls:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(backend, database_urls, tmp_path):
    prefix = f"test-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    app = create_app({
        "DATABASE_URL": database_urls[backend], "DATABASE_OWNER_URL": owner_url(database_urls[backend]),
        "REDIS_URL": REDIS_URL, "QUEUE_PREFIX": prefix,
        "TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "SM4_KEY": TEST_SM4_KEY, "GRID_CACHE_SECONDS": 3600,
        "DATA_DIR": str(tmp_path / "data"),
    })
    forget_stored_specs()
    forget_role_grants()
    forget_catalogue()
    invalidate_grid_index()
    with app.app_context():
        ensure_builtin_roles()
        ensure_catalogue()
        db.session.commit()
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
    _drop_redis_keys(prefix)
    invalidate_grid_index()


def _empty_tables() -> None:
    """As the owner: the app's role may not empty the audit log (that is the point)."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    owner = create_engine(owner_url(str(db.engine.url.render_as_string(hide_password=False))))
    with owner.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # The append-only guard refuses deleting fresh audit rows: lift it while emptying.
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_early_delete"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            for statement in AUDIT_GUARD_SQL["sqlite"]:
                conn.execute(text(statement))
    owner.dispose()


def _drop_redis_keys(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    build_demo_community()
    return app


def user(account: str) -> User:
    return db.session.scalar(db.select(User).where(User.account == account))


@pytest.fixture
def auth(demo):
    """``auth('dispatcher')`` -> headers with that account's bearer token."""

    def headers(account: str) -> dict:
        return {"Authorization": f"Bearer {issue_token(user(account))}"}

    return headers


# Debian's Chromium, driven by Playwright: never a browser download.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def live_server(demo, backend):
    """The demo app served from a thread on a free loopback port, for the browser tests: they run
    once, on SQLite."""
    if backend != "sqlite":
        pytest.skip("the browser path runs once, on SQLite")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
