"""Audit log retention (10.2.2): entries older than the configured days are purged."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from extensions import db
from models import AuditEntry, transaction


def purge_audit_log(retention_days: int | None = None) -> int:
    """Delete entries older than the retention; returns how many. The database itself refuses
    to delete entries younger than its floor (models.access.AUDIT_MIN_RETENTION_DAYS)."""
    days = retention_days or current_app.config["AUDIT_RETENTION_DAYS"]
    cutoff = datetime.now(UTC) - timedelta(days=days)
    with transaction():
        result = db.session.execute(AuditEntry.__table__.delete().where(AuditEntry.at < cutoff))
    return result.rowcount
