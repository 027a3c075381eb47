"""Shared column types and the single place where a unit of work commits."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

from extensions import db

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The one clock of the system; tests move it with time-machine."""
    return datetime.now(UTC)


@contextmanager
def transaction() -> Iterator[None]:
    """Run a unit of work: commit when the block ends, roll back when it raises.

    This is the only place that commits; services open one transaction each. On SQLite a
    read-only transaction left open by earlier reads is ended first, so the unit of work
    starts as a writer (BEGIN IMMEDIATE, waiting its turn instead of failing to upgrade);
    PostgreSQL simply goes on in the transaction it has.
    """
    session = db.session()
    if (session.in_transaction() and session.get_bind().dialect.name == "sqlite"
            and not (session.new or session.dirty or session.deleted)):
        # Nothing to write: ending it keeps the loaded objects (no expiry, no reloads).
        session.commit()
    if not session.in_transaction():
        session.connection(execution_options={"writer": True})
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
