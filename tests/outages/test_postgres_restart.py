"""A PostgreSQL of the test's own stopped and started again under the app and the real
``flask worker``: while it is away a request gets a clear 503 and the worker waits; the first
request after the restart answers (pooled connections are checked before use), and a job that
met the outage runs once the database is back, once.

Requests go through the test client with no app context held, as in production: each request
has its own context and session."""
from __future__ import annotations

import time

import psycopg
from flask_migrate import upgrade

from extensions import db, redis
from handlers.grids import invalidate_grid_index
from handlers.permissions import ensure_builtin_roles, forget_role_grants
from tests.outages.conftest import running_services
from tests.outages.helpers import due_case, escalations, wait_until
from tests.outages.test_redis_away_web import bearer
from web import create_app
from web.commands.demo import build_demo_community
from workflows.specs import forget_stored_specs
from workflows.timers import fire_due_timers


def test_a_postgresql_restart_costs_no_failed_request_and_no_job(private_postgres, private_redis, tmp_path):
    with psycopg.connect(private_postgres.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE DATABASE cases")
    app = create_app({"DATABASE_URL": private_postgres.url("cases"), "REDIS_URL": private_redis.url,
                      "QUEUE_PREFIX": "pg-restart", "TESTING": True, "DATA_DIR": str(tmp_path / "data")})
    forget_stored_specs()
    forget_role_grants()
    invalidate_grid_index()
    with app.app_context():
        upgrade(revision="heads")
        ensure_builtin_roles()
        db.session.commit()
        build_demo_community()
        case = due_case()
        headers = bearer("dispatcher")
    client = app.test_client()
    path = f"/api/v1/cases/{case.ref}"

    def escalated() -> int:
        with app.app_context():
            return escalations(case)

    try:
        with running_services(app, tmp_path) as services:
            services.start("worker")
            services.wait_ready()
            assert client.get(path, headers=headers).status_code == 200

            private_postgres.stop()
            with app.app_context():
                redis.queue("timers").enqueue(fire_due_timers, case.id)  # the worker meets the outage
            time.sleep(4)
            assert services.alive() == {"worker": True}, services.log("worker")[-3000:]
            assert "runs again later" in services.log("worker")
            private_postgres.start()
            # The first request after the restart: its pooled connection died with the server.
            back = client.get(path, headers=headers)
            assert back.status_code == 200, back.get_data()
            with app.app_context():
                wait_until(lambda: escalations(case) == 1, services, 30, "the job that met the outage")
            time.sleep(1.5)  # its earlier tries are not run again
            assert escalated() == 1

            private_postgres.stop()
            away = client.get(path, headers=headers)
            assert away.status_code == 503 and away.get_json()["error"] == "service_unavailable", away.get_data()
            assert away.headers["Retry-After"]
            private_postgres.start()
            assert client.get(path, headers=headers).status_code == 200
            assert services.stop() == {"worker": 0}
    finally:
        with app.app_context():
            db.engine.dispose()
        invalidate_grid_index()
