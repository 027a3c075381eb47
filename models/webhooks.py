"""The outbox of webhook pushes: one row per event and subscription, written with the alarm change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookDelivery(db.Model):
    """One event to push to one subscription. Written in the unit of work that changes the
    alarm, so a push exists exactly when its cause was committed; RQ jobs and the sweep only
    carry it out. The id is the ``X-Delivery`` header: the same on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sweep's question: pending and due.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_id_status", "subscription_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending (until a 2xx or the retries are spent) | delivered | failed
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt is due; the sweep queues a pending delivery well past it (its job was lost).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A job sending it holds it until then: the sweep and other jobs leave it alone meanwhile;
    # a worker killed mid-send lets it go when the lease ends.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
