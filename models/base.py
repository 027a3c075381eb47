"""Shared column types and the single place where a unit of work commits."""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
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


# session.info key of the work waiting for the current database transaction to commit.
ON_COMMIT = "on_commit"
log = logging.getLogger(__name__)


def after_commit(callback: Callable[[], None], key: Hashable | None = None) -> None:
    """Run ``callback`` once the database transaction now open commits; never when it rolls
    back. The one on-commit hook of the system: hand-offs to queues (timer jobs) and memos of
    what is stored (process specs) go through it, so they happen only for committed work.
    A later callback with the same ``key`` replaces the earlier one (one timer job per case).
    Callbacks must not raise: a failed hand-off is left to its sweep (it is logged here)."""
    pending = db.session.info.setdefault(ON_COMMIT, {})
    slot = key if key is not None else object()
    pending.pop(slot, None)
    pending[slot] = callback


def _run_after_commit(session) -> None:
    for callback in session.info.pop(ON_COMMIT, {}).values():
        try:
            callback()
        except Exception:  # noqa: BLE001 - the unit of work is committed; its sweep catches up
            log.exception("work after commit failed; its sweep will catch up")


@contextmanager
def transaction() -> Iterator[None]:
    """Run a unit of work: commit when the block ends, roll back when it raises; then run
    the work registered with ``after_commit`` (dropped on rollback).

    This is the only place that commits; services open one transaction each. On SQLite a
    read-only transaction left open by earlier reads is ended first, so the unit of work
    starts as a writer (BEGIN IMMEDIATE, waiting its turn instead of failing to upgrade);
    PostgreSQL simply goes on in the transaction it has.
    """
    session = db.session()
    if not session.in_transaction():
        # Whatever is left was registered in a transaction that was rolled back since.
        session.info.pop(ON_COMMIT, None)
    elif session.get_bind().dialect.name == "sqlite" and not (session.new or session.dirty or session.deleted):
        # Nothing to write: ending it keeps the loaded objects (no expiry, no reloads).
        session.commit()
        _run_after_commit(session)
    if not session.in_transaction():
        session.connection(execution_options={"writer": True})
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        session.info.pop(ON_COMMIT, None)
        raise
    _run_after_commit(session)
