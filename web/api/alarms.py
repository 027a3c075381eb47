"""Alarms shared with third parties, the dead letters of rejected messages, webhooks."""
from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from extensions import db
from handlers.errors import NotFound
from integrations.sharing import alarms_out, alarms_page, dead_letters_page, page_size
from integrations.webhooks import (
    EVENTS,
    create_subscription,
    delete_subscription,
    deliveries_of,
    retry_delivery,
    subscriptions_out,
)
from models import Alarm, WebhookSubscription
from web.access import caller_scope, requires
from web.api import api_bp, parse_body
from web.api.openapi import documented


class AlarmOut(BaseModel):
    id: int
    device: str
    kind: str
    type: str
    category: str
    severity: str
    status: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    community: str | None
    grid: str | None
    building: str | None
    case_ref: str | None
    detail: dict


class AlarmList(BaseModel):
    items: list[AlarmOut]
    next: str | None


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    channel: str
    topic: str | None
    device: str | None
    reason: str
    detail: str
    payload: str
    remote_addr: str | None


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut]
    next: str | None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=64)
    url: str = Field(..., max_length=500, description="http(s) URL receiving POSTed JSON")
    events: list[str] = Field(default_factory=lambda: list(EVENTS), max_length=len(EVENTS),
                              description=f"of {', '.join(EVENTS)}")
    kinds: list[str] = Field(default_factory=list, max_length=50, description="device kinds; empty: all")


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str
    events: list[str]
    kinds: list[str]
    active: bool
    created_at: datetime
    last_status: int | None
    last_error: str | None
    last_delivered_at: datetime | None
    failures: int
    pending_deliveries: int = Field(..., description="deliveries not yet delivered (being retried or queued)")
    failed_deliveries: int = Field(..., description="deliveries given up after their retries")


class WebhookCreated(WebhookOut):
    secret: str = Field(..., description="signs each body: X-Signature: sha256=<HMAC-SHA256 hex>; shown once")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: str = Field(..., description="the X-Delivery header, the same on every attempt")
    alarm_id: int
    event: str
    occurred_at: datetime
    status: str = Field(..., description="pending, delivered or failed")
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


@api_bp.get("/alarms")
@documented("Alarms, newest first, with filters and paging", response=AlarmList, errors=(400, 403),
            tag="alarms", query={
                "device": "a device code (or id)", "status": "active or cleared", "type": "an alarm type",
                "kind": "a device kind", "severity": "low, normal, high or urgent", "grid": "a grid code",
                "community": "a community code", "since": "ISO 8601: seen or cleared since then",
                "cursor": "the 'next' of the previous page", "limit": "1-500, default 100"})
def list_alarms():
    """Only the alarms of the caller's place (``handlers.scopes``)."""
    page = alarms_page(request.args, page_size(request.args.get("limit")), caller_scope())
    return jsonify({"items": page.items, "next": page.next})


@api_bp.get("/alarms/<int:alarm_id>")
@documented("One alarm", response=AlarmOut, errors=(403, 404), tag="alarms")
def show_alarm(alarm_id: int):
    alarm = db.session.get(Alarm, alarm_id)
    if alarm is None or not caller_scope().covers_place(alarm.community_id, alarm.grid_id):
        raise NotFound(f"no alarm {alarm_id}")
    return jsonify(alarms_out([alarm])[0])


@api_bp.get("/dead-letters")
@requires("devices.manage")
@documented("Rejected device messages and why (administrators)", response=DeadLetterList,
            errors=(400, 403), tag="alarms", query={
                "reason": "e.g. bad_json, unknown_device, wrong_key, invalid_payload", "channel": "mqtt or http",
                "device": "a device code", "cursor": "the 'next' of the previous page", "limit": "1-500"})
def list_dead_letters():
    page = dead_letters_page(request.args, page_size(request.args.get("limit")))
    return jsonify({"items": page.items, "next": page.next})


@api_bp.get("/webhooks")
@requires("api.manage")
@documented("Webhooks alarms are pushed to (administrators)", response=WebhookList, errors=(403,),
            tag="webhooks")
def list_webhooks():
    rows = list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))
    return jsonify({"items": subscriptions_out(rows)})


@api_bp.post("/webhooks")
@requires("api.manage")
@documented("Register a webhook; its signing secret is returned this once", body=WebhookIn,
            response=WebhookCreated, status=201, errors=(400, 403, 422), tag="webhooks")
def register_webhook():
    """Each alarm raised or cleared is POSTed as JSON ``{event, occurred_at, delivery, alarm}``,
    signed (``X-Signature: sha256=<hex>``), and retried with back-off until it gets a 2xx."""
    body = parse_body(WebhookIn)
    subscription, secret = create_subscription(body.name, body.url, body.events, body.kinds, g.user.id)
    return jsonify({**subscriptions_out([subscription])[0], "secret": secret}), 201


@api_bp.delete("/webhooks/<int:subscription_id>")
@requires("api.manage")
@documented("Remove a webhook", status=204, errors=(403, 404), tag="webhooks")
def remove_webhook(subscription_id: int):
    delete_subscription(subscription_id)
    return "", 204


@api_bp.get("/webhooks/<int:subscription_id>/deliveries")
@requires("api.manage")
@documented("A webhook's deliveries, newest first (administrators)", response=DeliveryList,
            errors=(400, 403, 404, 422), tag="webhooks", query={
                "status": "pending, delivered or failed", "limit": "1-500, default 100"})
def list_webhook_deliveries(subscription_id: int):
    """Each push is kept until delivered (at least once, the same ``X-Delivery`` on every
    attempt) or failed after its retries; a failed one can be sent again."""
    rows = deliveries_of(subscription_id, request.args.get("status") or None, page_size(request.args.get("limit")))
    return jsonify({"items": rows})


@api_bp.post("/webhooks/<int:subscription_id>/deliveries/<delivery_id>/retry")
@requires("api.manage")
@documented("Send a failed delivery again, same id, fresh retries", status=202, errors=(403, 404, 409),
            tag="webhooks")
def retry_webhook_delivery(subscription_id: int, delivery_id: str):
    retry_delivery(subscription_id, delivery_id)
    return "", 202
