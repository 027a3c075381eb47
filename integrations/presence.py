"""Online and offline from heartbeats: a device silent too long raises ``device_offline``.

The ingest marks devices online as it hears them (and clears the offline alarm); this
periodic job marks the silent ones offline. Only devices heard at least once are watched: a
device registered but never installed is not "offline".
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, update

from extensions import db
from integrations.alarm_store import SignalAt, apply_signals
from integrations.alarm_work import queue_alarm_work
from integrations.directory import device_by_id
from integrations.kinds import offline_signal
from models import DeadLetter, Device, IngestedMessage, transaction, utcnow


def mark_silent_devices_offline(now: datetime | None = None) -> int:
    """Job: devices silent for ``DEVICE_OFFLINE_SECONDS`` go offline and raise their offline
    alarm; returns how many went offline."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["DEVICE_OFFLINE_SECONDS"])
    table = Device.__table__
    with transaction():
        # Conditional on the silence, row by row: a heartbeat committed meanwhile wins.
        rows = db.session.execute(
            update(table).where(table.c.status == "online", table.c.last_seen_at < cutoff)
            .values(status="offline").returning(table.c.id, table.c.last_seen_at)).all()
        items = []
        for device_id, last_seen in rows:
            device = device_by_id(device_id)
            if device is not None:
                seen = last_seen.isoformat() if last_seen else None
                items.append(SignalAt(device, offline_signal(device.kind, seen), now))
        changes = apply_signals(items, now)
    queue_alarm_work(changes.raised)
    return len(rows)


def purge_ingest_records(now: datetime | None = None) -> tuple[int, int]:
    """Job: forget message ids older than ``INGEST_DEDUP_HOURS`` and dead letters older than
    ``DEAD_LETTER_DAYS``; returns how many of each."""
    now = now or utcnow()
    config = current_app.config
    with transaction():
        ids = db.session.execute(delete(IngestedMessage).where(
            IngestedMessage.received_at < now - timedelta(hours=config["INGEST_DEDUP_HOURS"]))).rowcount
        letters = db.session.execute(delete(DeadLetter).where(
            DeadLetter.received_at < now - timedelta(days=config["DEAD_LETTER_DAYS"]))).rowcount
    return ids, letters
