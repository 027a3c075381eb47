"""The audit log is insert-only for the app: on PostgreSQL its role may INSERT and SELECT the
table and nothing else; the owner's purge still works; SQLite keeps its triggers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from extensions import db
from handlers.audit import purge_audit_log
from models import AuditEntry, transaction, utcnow
from tests.conftest import PG_APP_ROLE

REFUSED = ["TRUNCATE audit_log", "DELETE FROM audit_log", "UPDATE audit_log SET result = 'ok'",
           "ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard", "ALTER TABLE audit_log DISABLE TRIGGER ALL",
           "DROP TABLE audit_log CASCADE", "ALTER TABLE audit_log OWNER TO " + PG_APP_ROLE,
           "DROP TRIGGER audit_log_guard ON audit_log"]


def _entry(at) -> AuditEntry:
    return AuditEntry(operator="t", operation="test", target="", ip="local", result="ok", detail={}, at=at)


@pytest.mark.parametrize("statement", REFUSED)
def test_the_apps_connection_cannot_wipe_or_unguard_the_audit_log(app, backend, statement):
    if backend != "postgresql":
        pytest.skip("roles are PostgreSQL's; SQLite keeps its triggers (test_api_security)")
    with transaction():
        db.session.add(_entry(utcnow() - timedelta(days=400)))
    assert db.engine.url.username == PG_APP_ROLE
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT current_user")) == PG_APP_ROLE
        with pytest.raises(Exception, match="permission denied|must be owner"):
            conn.execute(text(statement))
        conn.rollback()
        # What it may do: write and read entries.
        conn.execute(text("INSERT INTO audit_log (at, operator, operation, target, ip, result, detail) "
                          "VALUES (now(), 'app', 'test', '', 'local', 'ok', '{}')"))
        assert conn.scalar(text("SELECT count(*) FROM audit_log")) == 2
        conn.commit()


def test_the_app_reads_and_writes_every_other_table(app, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL roles")
    with db.engine.connect() as conn:
        granted = conn.scalar(text(
            "SELECT bool_and(has_table_privilege(current_user, c.oid, 'INSERT,UPDATE,DELETE')) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "AND c.relname <> 'audit_log'"))
        owns = conn.scalar(text("SELECT count(*) FROM pg_class WHERE relowner = "
                                "(SELECT oid FROM pg_roles WHERE rolname = current_user)"))
    assert granted and owns == 0


def test_the_daily_purge_still_deletes_only_entries_past_the_retention(app, backend):
    now = utcnow()
    if backend == "sqlite":
        with transaction():
            db.session.add_all([_entry(now - timedelta(days=400)), _entry(now - timedelta(days=40)), _entry(now)])
    else:
        # Old entries are written by the owner here only to place them in the past quickly.
        owner = create_engine(app.config["DATABASE_OWNER_URL"])
        with owner.begin() as conn:
            for days in (400, 40, 0):
                conn.execute(text("INSERT INTO audit_log (at, operator, operation, target, ip, result, detail) "
                                  "VALUES (now() - make_interval(days => :d), 't', 'test', '', 'local', 'ok', "
                                  "'{}')"), {"d": days})
        owner.dispose()
    assert purge_audit_log() == 1  # 180 days by default: only the 400-day-old entry goes
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 2
