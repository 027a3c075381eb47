"""Alarms pushed to third parties' webhooks: signed JSON, retried by RQ with back-off.

A delivery is a job per subscription and event, so one slow receiver holds up no other. The
body is signed with the subscription's secret: ``X-Signature: sha256=<hex HMAC of the body>``.
Receivers may see an event twice (a retry after a timeout that did arrive): ``X-Delivery``
is the same on every attempt.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import select

from extensions import db, redis
from handlers.errors import Invalid, NotFound
from integrations.sharing import alarms_out
from models import Alarm, Device, WebhookSubscription, transaction, utcnow
from models.devices import DEVICE_KINDS

log = logging.getLogger(__name__)
QUEUE = "webhooks"
EVENTS = ("alarm.raised", "alarm.cleared")


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
    """Remove a webhook; raises NotFound."""
    with transaction():
        subscription = db.session.get(WebhookSubscription, subscription_id)
        if subscription is None:
            raise NotFound(f"no webhook {subscription_id}")
        db.session.delete(subscription)


def subscriptions_out(rows: list[WebhookSubscription]) -> list[dict]:
    return [{"id": s.id, "name": s.name, "url": s.url, "events": s.events, "kinds": s.kinds,
             "active": s.active, "created_at": s.created_at, "last_status": s.last_status,
             "last_error": s.last_error, "last_delivered_at": s.last_delivered_at,
             "failures": s.failures} for s in rows]


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
    """Queue a delivery of the event to every active subscription that wants it; how many.
    ``kind`` (the alarm's device kind) and ``subscribers`` save the lookups when known."""
    if kind is None:
        kind = db.session.scalar(select(Device.kind).join(Alarm, Alarm.device_id == Device.id)
                                 .where(Alarm.id == alarm_id))
    if subscribers is None:
        subscribers = active_subscribers()
        db.session.rollback()
    wanting = [s for s in subscribers if s.wants(event, kind)]
    if not wanting:
        return 0
    intervals = list(current_app.config["WEBHOOK_RETRY_SECONDS"])
    occurred_at = utcnow().isoformat()
    try:
        for subscriber in wanting:
            redis.queue(QUEUE).enqueue(
                deliver_webhook, subscriber.id, event, alarm_id, occurred_at, uuid.uuid4().hex,
                retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
                result_ttl=600, failure_ttl=7 * 86400)
    except RedisError as exc:
        log.warning("webhook deliveries of alarm %s not queued: %s", alarm_id, exc)
    return len(wanting)


def deliver_webhook(subscription_id: int, event: str, alarm_id: int, occurred_at: str,
                    delivery_id: str) -> int:
    """Job: POST the event to the subscription's URL; the HTTP status. Raises DeliveryFailed
    (RQ retries) when the receiver does not answer 2xx."""
    subscription = db.session.get(WebhookSubscription, subscription_id)
    alarm = db.session.get(Alarm, alarm_id)
    if subscription is None or not subscription.active or alarm is None:
        db.session.rollback()
        return 0
    body = json.dumps({"event": event, "occurred_at": occurred_at, "delivery": delivery_id,
                       "alarm": alarms_out([alarm])[0]}, ensure_ascii=False, default=_iso).encode()
    signature = hmac.new(subscription.secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(subscription.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "community-cases-webhook/1",
        "X-Event": event, "X-Delivery": delivery_id, "X-Signature": f"sha256={signature}"})
    url = subscription.url
    db.session.rollback()
    status, error = 0, None
    try:
        with urllib.request.urlopen(request, timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"]) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    _record(subscription_id, status, error)
    if error:
        raise DeliveryFailed(f"{event} of alarm {alarm_id} to {url}: {error}")
    return status


def _record(subscription_id: int, status: int, error: str | None) -> None:
    with transaction():
        subscription = db.session.get(WebhookSubscription, subscription_id)
        if subscription is None:
            return
        subscription.last_status = status or None
        subscription.last_error = error
        if error:
            subscription.failures += 1
        else:
            subscription.failures = 0
            subscription.last_delivered_at = utcnow()


def _iso(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
