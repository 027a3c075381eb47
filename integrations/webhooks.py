"""Alarms pushed to third parties' webhooks: signed JSON, kept in an outbox until delivered.

Each push is a ``WebhookDelivery`` row written in the unit of work of the alarm change that
causes it (``notify_subscribers``), so it exists exactly when its cause was committed. An RQ
job per delivery POSTs it, retried with back-off; the row records attempts, last status and
error, and ends delivered or failed (an administrator may send a failed one again). A job
never queued (Redis away), lost with Redis, or killed with its worker is found by
``sweep_webhook_deliveries``; a job holds its delivery with a lease while sending, so the sweep
never doubles one in flight. Delivery is at least once: a retry after a timeout that did arrive
reaches the receiver twice, with the same ``X-Delivery``. The body is signed with the
subscription's secret: ``X-Signature: sha256=<hex HMAC of the body>``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import func, or_, select, update

from extensions import db, redis
from handlers.errors import Conflict, Invalid, NotFound
from integrations.sharing import alarms_out
from models import Alarm, Device, WebhookDelivery, WebhookSubscription, after_commit, transaction, utcnow
from models.devices import DEVICE_KINDS
from models.webhooks import DELIVERY_STATUSES

log = logging.getLogger(__name__)
QUEUE = "webhooks"
EVENTS = ("alarm.raised", "alarm.cleared")
# A job holds its delivery this long beyond the HTTP timeout: enough to record the answer.
LEASE_MARGIN_SECONDS = 30


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; RQ retries the job."""


def create_subscription(name: str, url: str, events: list[str] | None = None,
                        kinds: list[str] | None = None, created_by_id: int | None = None) -> tuple[
                            WebhookSubscription, str]:
    """Register a webhook; returns it and its signing secret (shown once). Raises Invalid."""
    errors = {}
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors["url"] = "an http:// or https:// URL with a host"
    events = list(events or EVENTS)
    if not set(events) <= set(EVENTS):
        errors["events"] = f"events are {', '.join(EVENTS)}"
    kinds = list(kinds or [])
    if not set(kinds) <= set(DEVICE_KINDS):
        errors["kinds"] = f"unknown kinds: {', '.join(sorted(set(kinds) - set(DEVICE_KINDS)))}"
    if errors:
        raise Invalid("the webhook cannot be registered: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                      details=errors)
    secret = secrets.token_urlsafe(24)
    with transaction():
        subscription = WebhookSubscription(name=name, url=url, secret=secret, events=events, kinds=kinds,
                                           active=True, created_by_id=created_by_id, failures=0)
        db.session.add(subscription)
    return subscription, secret


def delete_subscription(subscription_id: int) -> None:
    """Remove a webhook (and its deliveries); raises NotFound."""
    with transaction():
        subscription = db.session.get(WebhookSubscription, subscription_id)
        if subscription is None:
            raise NotFound(f"no webhook {subscription_id}")
        db.session.delete(subscription)


def subscriptions_out(rows: list[WebhookSubscription]) -> list[dict]:
    """The subscriptions as the API shows them, with how many deliveries wait and have failed."""
    counts: dict[tuple[int, str], int] = {}
    if rows:
        counts = {(sid, status): n for sid, status, n in db.session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
            .where(WebhookDelivery.subscription_id.in_([s.id for s in rows]),
                   WebhookDelivery.status.in_(("pending", "failed")))
            .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status))}
    return [{"id": s.id, "name": s.name, "url": s.url, "events": s.events, "kinds": s.kinds,
             "active": s.active, "created_at": s.created_at, "last_status": s.last_status,
             "last_error": s.last_error, "last_delivered_at": s.last_delivered_at,
             "failures": s.failures, "pending_deliveries": counts.get((s.id, "pending"), 0),
             "failed_deliveries": counts.get((s.id, "failed"), 0)} for s in rows]


@dataclass(frozen=True)
class Subscriber:
    id: int
    events: tuple[str, ...]
    kinds: tuple[str, ...]

    def wants(self, event: str, kind: str | None) -> bool:
        return event in self.events and (not self.kinds or kind in self.kinds)


def active_subscribers() -> list[Subscriber]:
    """The active subscriptions, read once for a batch of notifications."""
    return [Subscriber(s.id, tuple(s.events or ()), tuple(s.kinds or ()))
            for s in db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.active))]


def notify_subscribers(alarm_id: int, event: str, kind: str | None = None,
                       subscribers: list[Subscriber] | None = None) -> int:
    """In the caller's unit of work (call it inside ``transaction()``, with the alarm change):
    a delivery of the event for every active subscription that wants it, queued once the unit
    of work commits; how many. ``kind`` (the alarm's device kind) and ``subscribers`` save
    the lookups when known."""
    if kind is None:
        kind = db.session.scalar(select(Device.kind).join(Alarm, Alarm.device_id == Device.id)
                                 .where(Alarm.id == alarm_id))
    if subscribers is None:
        subscribers = active_subscribers()
    wanting = [s for s in subscribers if s.wants(event, kind)]
    if not wanting:
        return 0
    now = utcnow()
    ids = [uuid.uuid4().hex for _ in wanting]
    db.session.add_all([WebhookDelivery(id=delivery_id, subscription_id=s.id, alarm_id=alarm_id, event=event,
                                        occurred_at=now, status="pending", attempts=0, next_attempt_at=now)
                        for delivery_id, s in zip(ids, wanting, strict=True)])
    after_commit(lambda: queue_deliveries(ids))
    return len(wanting)


def queue_deliveries(delivery_ids: list[str]) -> None:
    """Queue a job per delivery; a Redis failure is left to the sweep (logged, never raised)."""
    if not delivery_ids:
        return
    intervals = list(current_app.config["WEBHOOK_RETRY_SECONDS"])
    retry = Retry(max=len(intervals), interval=intervals) if intervals else None
    queue = redis.queue(QUEUE)
    try:
        with redis.client.pipeline() as pipe:
            queue.enqueue_many([Queue.prepare_data(send_delivery, (delivery_id,), retry=retry, result_ttl=600,
                                                   failure_ttl=7 * 86400) for delivery_id in delivery_ids],
                               pipeline=pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning("%d webhook deliveries not queued (%s); the sweep will queue them", len(delivery_ids), exc)


def sweep_webhook_deliveries(grace_seconds: int = 60, limit: int = 500) -> int:
    """Job: queue the pending deliveries due for longer than the grace and held by no job
    (never queued, or their job was lost); returns how many. Each is marked due again from
    now, so the next sweep leaves it to this round's job for another grace."""
    now = utcnow()
    with transaction():
        ids = list(db.session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now - timedelta(seconds=grace_seconds),
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)))
        if ids:
            db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                               .values(next_attempt_at=now).execution_options(synchronize_session=False))
    queue_deliveries(ids)
    return len(ids)


def send_delivery(delivery_id: str) -> int:
    """Job: POST the delivery to its subscription's URL once; the HTTP status (0 when another
    job holds it or it is settled). Raises DeliveryFailed (RQ retries) when the receiver did
    not answer 2xx and attempts are left."""
    if not _claim(delivery_id):
        return 0
    prepared = _request(delivery_id)
    if isinstance(prepared, str):
        _record(delivery_id, 0, prepared, final=True)
        return 0
    status, error = 0, None
    try:
        with urllib.request.urlopen(prepared, timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"]) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    if _record(delivery_id, status, error) == "pending":
        raise DeliveryFailed(f"delivery {delivery_id} to {prepared.full_url}: {error}")
    return status


def deliver_webhook(subscription_id: int, event: str, alarm_id: int, occurred_at: str, delivery_id: str) -> int:
    """Job queued before deliveries were kept in the database (an upgrade with jobs waiting):
    written as a delivery with the same id, then sent as any other."""
    with transaction():
        if (db.session.get(WebhookDelivery, delivery_id) is None
                and db.session.get(WebhookSubscription, subscription_id) is not None
                and db.session.get(Alarm, alarm_id) is not None):
            db.session.add(WebhookDelivery(id=delivery_id, subscription_id=subscription_id, alarm_id=alarm_id,
                                           event=event, occurred_at=datetime.fromisoformat(occurred_at),
                                           status="pending", attempts=0, next_attempt_at=utcnow()))
    return send_delivery(delivery_id)


def _claim(delivery_id: str) -> bool:
    """Take the lease of a pending delivery no other job holds (one statement: of two jobs,
    one wins)."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + LEASE_MARGIN_SECONDS)
    with transaction():
        claimed = db.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
            .values(claimed_until=now + lease).execution_options(synchronize_session=False)).rowcount
    return claimed == 1


def _request(delivery_id: str) -> urllib.request.Request | str:
    """The signed HTTP request of the delivery, or why it cannot be sent. Reads in a
    transaction ended before the network call."""
    try:
        delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
        if delivery is None:
            return "its webhook was removed"
        subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
        if not subscription.active:
            return "the webhook is inactive"
        alarm = db.session.get(Alarm, delivery.alarm_id)
        body = json.dumps({"event": delivery.event, "occurred_at": delivery.occurred_at.isoformat(),
                           "delivery": delivery.id, "alarm": alarms_out([alarm])[0]},
                          ensure_ascii=False, default=_iso).encode()
        signature = hmac.new(subscription.secret.encode(), body, hashlib.sha256).hexdigest()
        return urllib.request.Request(subscription.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "community-cases-webhook/1",
            "X-Event": delivery.event, "X-Delivery": delivery.id, "X-Signature": f"sha256={signature}"})
    finally:
        db.session.rollback()


def _record(delivery_id: str, status: int, error: str | None, final: bool = False) -> str:
    """Note an attempt on the delivery and its subscription; the delivery's status after it:
    delivered, pending (due again after the next back-off interval) or failed (retries spent)."""
    intervals = list(current_app.config["WEBHOOK_RETRY_SECONDS"])
    now = utcnow()
    with transaction():
        delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
        if delivery is None:  # its webhook was removed meanwhile
            return "failed"
        delivery.attempts += 1
        delivery.last_status, delivery.last_error, delivery.claimed_until = status or None, error, None
        if error is None:
            delivery.status, delivery.delivered_at = "delivered", now
        elif final or delivery.attempts > len(intervals):
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=intervals[delivery.attempts - 1])
        subscription = db.session.get(WebhookSubscription, delivery.subscription_id, populate_existing=True)
        subscription.last_status, subscription.last_error = status or None, error
        if error:
            subscription.failures += 1
        else:
            subscription.failures = 0
            subscription.last_delivered_at = now
        return delivery.status


def deliveries_of(subscription_id: int, status: str | None = None, limit: int = 100) -> list[dict]:
    """The webhook's deliveries, newest first, of one status if given. Raises NotFound, Invalid."""
    if db.session.get(WebhookSubscription, subscription_id) is None:
        raise NotFound(f"no webhook {subscription_id}")
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        if status not in DELIVERY_STATUSES:
            raise Invalid(f"status is one of {', '.join(DELIVERY_STATUSES)}", details={"status": status})
        query = query.where(WebhookDelivery.status == status)
    rows = db.session.scalars(query.order_by(WebhookDelivery.occurred_at.desc(), WebhookDelivery.id).limit(limit))
    return [{"id": d.id, "alarm_id": d.alarm_id, "event": d.event, "occurred_at": d.occurred_at,
             "status": d.status, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
             "last_status": d.last_status, "last_error": d.last_error, "delivered_at": d.delivered_at}
            for d in rows]


def retry_delivery(subscription_id: int, delivery_id: str) -> None:
    """Send a failed delivery again, with the same id and a fresh round of retries. Raises
    NotFound, or Conflict when it is not failed."""
    if not re.fullmatch(r"[0-9a-f]{32}", delivery_id):
        raise NotFound(f"no delivery {delivery_id!r}")
    with transaction():
        delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.subscription_id != subscription_id:
            raise NotFound(f"no delivery {delivery_id} of webhook {subscription_id}")
        if delivery.status != "failed":
            raise Conflict(f"delivery {delivery_id} is {delivery.status}; only a failed one is sent again")
        delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
        after_commit(lambda: queue_deliveries([delivery_id]))


def _iso(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
