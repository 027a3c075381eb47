"""Roles, API clients, the IP block list and the audit log (7.3.3-7.3.8, 10.2.2)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import JSONType, UTCDateTime, utcnow


class Role(db.Model):
    """A role: the functions it may use and the API groups its users' tokens may call."""

    __tablename__ = "roles"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    functions: Mapped[list] = mapped_column(JSONType, default=list)
    api_groups: Mapped[list] = mapped_column(JSONType, default=list)


class ApiClient(db.Model):
    """Another system calling the API with a key (stored as its SHA-256 only)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_groups: Mapped[list] = mapped_column(JSONType, default=list)
    # A Flask-Limiter rate, e.g. "120/minute".
    rate_limit: Mapped[str] = mapped_column(String(32), default="120/minute")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IpBlock(db.Model):
    """An address or network (CIDR) refused by the API."""

    __tablename__ = "ip_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInFailures(db.Model):
    """Failed sign-ins of one account from one address, and the lockout they earned.

    Kept per account AND address: someone guessing from elsewhere locks only themselves out,
    never the worker at their own terminal; each new lockout of the pair lasts twice as long.
    """

    __tablename__ = "sign_in_failures"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditEntry(db.Model):
    """One operation: a write or a login, allowed or not. Rows are never updated; the
    database refuses it (a trigger), and deletes only rows past the retention floor."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_operator", "operator"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The account, API client or system part that acted.
    operator: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)


# The database itself keeps the audit log append-only. Deletes are allowed only for rows
# past the retention floor (AUDIT_MIN_RETENTION_DAYS), so a purge cannot erase recent history.
AUDIT_MIN_RETENTION_DAYS = 30
AUDIT_GUARD_SQL = {
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'the audit log is append-only'; END IF;
  IF OLD.at > now() - interval '{AUDIT_MIN_RETENTION_DAYS} days' THEN
    RAISE EXCEPTION 'audit entries younger than {AUDIT_MIN_RETENTION_DAYS} days are kept';
  END IF;
  RETURN OLD;
END $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS audit_log_guard ON audit_log",
        "CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_log_no_update",
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "DROP TRIGGER IF EXISTS audit_log_no_early_delete",
        f"CREATE TRIGGER audit_log_no_early_delete BEFORE DELETE ON audit_log "
        f"WHEN OLD.at > datetime('now', '-{AUDIT_MIN_RETENTION_DAYS} days') "
        f"BEGIN SELECT RAISE(ABORT, 'audit entries younger than {AUDIT_MIN_RETENTION_DAYS} days are kept'); END",
    ],
}
