"""Alarms raised by devices, and the records the ingest keeps around them (6.2.x, 8.2.1.2).

One active alarm per device and alarm type is a database rule (a unique partial index), so
no interleaving of ingest processes and jobs can raise the same alarm twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import JSONType, UTCDateTime, utcnow
from models.devices import Device

# active: the device is in alarm; cleared: the device said it is over; ended: its case was
# closed while the device had not cleared it (the next raise is a new alarm and a new case).
ALARM_STATUSES = ("active", "cleared", "ended")
# Linkage of an alarm: none needed, to be run, run, or skipped (its case closed before it ran).
LINKAGE_STATES = ("none", "pending", "done", "skipped")

ACTIVE = text("status = 'active'")
PENDING = text("pending_since IS NOT NULL")
# Integer on SQLite, where only INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Alarm(db.Model):
    """An alarm of one device and type: raised once, repeated, cleared; it opens one case."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("uq_alarms_active_device_type", "device_id", "type", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        Index("ix_alarms_pending", "pending_since", postgresql_where=PENDING, sqlite_where=PENDING),
        Index("ix_alarms_device_id", "device_id", "id"),
        Index("ix_alarms_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    # The device's alarm type (e.g. "smoke", "tilt") and the case category it maps to.
    type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="active")
    count: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the device cleared it, or when its case ended it (status tells which).
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the device was when it raised the alarm (devices move between grids).
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    # The latest readings, fault code, snapshot reference and device time of the alarm.
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    linkage: Mapped[str] = mapped_column(String(8), default="none")
    # When the "alarm_cleared" message reached the case (once, even if a job runs twice).
    clear_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while follow-up work (case, linkage, clear) is outstanding: the sweep's index.
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    device: Mapped[Device] = relationship()


class IngestedMessage(db.Model):
    """A device message already applied: a redelivered one (MQTT DUP, HTTP retry) is skipped."""

    __tablename__ = "ingested_messages"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DeadLetter(db.Model):
    """A rejected message, with the reason, kept for administrators."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(8))  # mqtt | http
    topic: Mapped[str | None] = mapped_column(String(255))
    device_code: Mapped[str | None] = mapped_column(String(64))
    # No foreign key: a dead letter outlives a deleted device and may name none.
    device_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    # The payload as sent (its first bytes): text when it is UTF-8 PostgreSQL can store,
    # else base64 of the raw bytes (a NUL byte, invalid UTF-8); ``payload_encoding`` says which.
    payload: Mapped[str] = mapped_column(Text, default="")
    payload_encoding: Mapped[str] = mapped_column(String(8), default="utf-8", server_default="utf-8")
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class Measurement(db.Model):
    """One reading of one quantity (noise, PM2.5, pH...) at the device's time."""

    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_device_quantity_at", "device_id", "quantity", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    quantity: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceCommand(db.Model):
    """A command published to a device on ``.../cmd`` (linkage: unlock, sound and light)."""

    __tablename__ = "device_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    command: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(12))  # sent | failed
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookSubscription(db.Model):
    """A third party's URL that alarm events are pushed to (signed, retried)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(500))
    # Signs each body (HMAC-SHA256) so the receiver can tell it came from us.
    secret: Mapped[str] = mapped_column(String(128))
    # Which events ("alarm.raised", "alarm.cleared") and device kinds; empty kinds: all.
    events: Mapped[list] = mapped_column(JSONType, default=list)
    kinds: Mapped[list] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)
