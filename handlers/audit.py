"""Audit log retention (10.2.2): entries older than the configured days are purged."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import text

from extensions import db
from models import AuditEntry, transaction


def purge_audit_log(retention_days: int | None = None) -> int:
    """Delete entries older than the retention; returns how many. The database itself refuses
    to delete entries younger than its floor (models.access.AUDIT_MIN_RETENTION_DAYS).

    On PostgreSQL the app's role may not delete from the audit log at all: it calls
    ``audit_log_purge``, a function of the owner that deletes only entries older than the
    retention set at the last upgrade (handlers.db_roles)."""
    days = retention_days or current_app.config["AUDIT_RETENTION_DAYS"]
    with transaction():
        if db.session.get_bind().dialect.name == "postgresql":
            return int(db.session.scalar(text("SELECT audit_log_purge(:days)"), {"days": days}))
        cutoff = datetime.now(UTC) - timedelta(days=days)
        result = db.session.execute(AuditEntry.__table__.delete().where(AuditEntry.at < cutoff))
    return result.rowcount
