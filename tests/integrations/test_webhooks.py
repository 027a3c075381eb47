"""Alarms pushed to subscribed webhooks: a local HTTP receiver, signatures, retries."""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import delete, select

from extensions import db, redis
from integrations.alarm_work import follow_up_alarm
from integrations.webhooks import QUEUE, deliver_webhook, sweep_webhook_deliveries
from models import Device, WebhookDelivery, WebhookSubscription, transaction, utcnow
from tests.integrations.conftest import free_port
from tests.integrations.helpers import BurstWorker, alarm_of, event, run_jobs


class Receiver:
    """An HTTP server on 127.0.0.1 answering the given statuses in turn, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[int, dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.calls.append((status, dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def start(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield start
    for r in made:
        r.close()


def send(client, code: str, payload: dict) -> None:
    device = db.session.scalar(select(Device.id).where(Device.code == code))
    answer = client.post(f"/api/v1/devices/{device}/events", json=payload, headers={"X-Device-Key": f"demo-key-{code}"})
    assert answer.status_code == 202, answer.get_json()


def test_alarms_are_pushed_signed_and_retried_until_delivered(client, devices, auth, receiver):
    flaky = receiver([500, 503])
    admin = auth("admin")
    made = client.post("/api/v1/webhooks", headers=admin, json={"name": "城市平台", "url": flaky.url})
    assert made.status_code == 201, made.get_json()
    secret = made.get_json()["secret"]
    only_elevators = receiver()
    client.post("/api/v1/webhooks", headers=admin, json={"name": "维保", "url": only_elevators.url,
                                                         "kinds": ["elevator"], "events": ["alarm.raised"]})
    send(client, "gas_detector-01", event("gas", readings={"lel_pct": 30}))
    run_jobs()
    assert [status for status, _, _ in flaky.calls] == [500, 503, 200]
    status, headers, body = flaky.calls[-1]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == f"sha256={expected}" and headers["X-Event"] == "alarm.raised"
    assert len({h["X-Delivery"] for _, h, _ in flaky.calls}) == 1  # the same delivery, retried
    pushed = json.loads(body)
    assert (pushed["event"], pushed["alarm"]["device"], pushed["alarm"]["severity"]) == (
        "alarm.raised", "gas_detector-01", "urgent")
    assert pushed["alarm"]["case_ref"]
    assert only_elevators.calls == []
    send(client, "gas_detector-01", event("gas", state="clear"))
    run_jobs()
    cleared = json.loads(flaky.calls[-1][2])
    assert (cleared["event"], cleared["alarm"]["status"]) == ("alarm.cleared", "cleared")
    subscription = db.session.scalar(select(WebhookSubscription).where(WebhookSubscription.url == flaky.url))
    assert (subscription.last_status, subscription.failures, subscription.last_error) == (200, 0, None)
    listed = client.get("/api/v1/webhooks", headers=admin).get_json()["items"]
    assert {w["name"] for w in listed} == {"城市平台", "维保"} and "secret" not in listed[0]


def test_a_receiver_that_keeps_failing_is_given_up_after_the_retries(client, devices, auth, receiver):
    down = receiver([500] * 10)
    client.post("/api/v1/webhooks", headers=auth("admin"), json={"name": "down", "url": down.url})
    send(client, "emergency_button-01", event("pressed"))
    run_jobs()
    retries = len(devices.config["WEBHOOK_RETRY_SECONDS"])
    assert len(down.calls) == 1 + retries
    subscription = db.session.scalar(select(WebhookSubscription))
    assert (subscription.failures, subscription.last_error) == (1 + retries, "HTTP 500")


def test_webhooks_are_validated_and_only_for_administrators(client, devices, auth):
    admin = auth("admin")
    for body in ({"name": "x", "url": "ftp://example.org/x"}, {"name": "x", "url": "http://127.0.0.1/x",
                                                                 "events": ["alarm.exploded"]},
                 {"name": "x", "url": "http://127.0.0.1/x", "kinds": ["toaster"]}, {"url": "http://127.0.0.1/"}):
        assert client.post("/api/v1/webhooks", headers=admin, json=body).status_code == 422, body
    assert client.post("/api/v1/webhooks", headers=auth("dispatcher"),
                       json={"name": "x", "url": "http://127.0.0.1/x"}).status_code == 403
    assert client.delete("/api/v1/webhooks/999", headers=admin).status_code == 404


# The outbox: every push is a row written with the alarm change, delivered at least once.

def deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.occurred_at)
                                   .execution_options(populate_existing=True)))


def delivery_ids(r: Receiver) -> list[str]:
    return [headers["X-Delivery"] for _, headers, _ in r.calls]


@contextlib.contextmanager
def redis_away(app):
    """The app's Redis handle pointed at a loopback port nothing listens on, then back."""
    handle = app.extensions["redis"]
    own_url = app.config["REDIS_URL"]
    handle._url, handle._client = f"redis://127.0.0.1:{free_port()}/0", None
    try:
        yield
    finally:
        handle._url, handle._client = own_url, None


def test_a_push_written_while_redis_is_away_is_sent_once_by_the_sweep(client, devices, auth, receiver):
    hook = receiver()
    client.post("/api/v1/webhooks", headers=auth("admin"), json={"name": "城市平台", "url": hook.url})
    send(client, "gas_detector-01", event("gas", readings={"lel_pct": 30}))  # the alarm, its job queued
    alarm = alarm_of("gas_detector-01", "gas")
    with redis_away(devices):
        # The worker runs the follow-up as Redis goes away: the case opens, the push cannot be queued.
        assert follow_up_alarm(alarm.id)
        written = [(d.id, d.event, d.status, d.attempts) for d in deliveries()]
        assert [row[1:] for row in written] == [("alarm.raised", "pending", 0)]
    assert hook.calls == []
    run_jobs()  # Redis is back: the follow-up queued before the outage runs again, and adds no push
    assert hook.calls == [] and len(deliveries()) == 1
    assert sweep_webhook_deliveries(grace_seconds=0) == 1  # what the scheduler does every minute
    run_jobs()
    assert delivery_ids(hook) == [written[0][0]]
    assert sweep_webhook_deliveries(grace_seconds=0) == 0  # delivered: nothing left to send
    run_jobs()
    assert len(hook.calls) == 1
    (delivered,) = deliveries()
    assert (delivered.status, delivered.attempts, delivered.last_status) == ("delivered", 1, 200)
    assert json.loads(hook.calls[0][2])["delivery"] == delivered.id


def test_a_lost_job_is_sent_by_the_sweep_and_one_in_flight_is_not_doubled(client, devices, auth, receiver):
    hook = receiver()
    client.post("/api/v1/webhooks", headers=auth("admin"), json={"name": "城市平台", "url": hook.url})
    send(client, "emergency_button-01", event("pressed"))
    run_jobs_of("alarms")
    (pending,) = deliveries()
    assert pending.status == "pending"
    pending_id = pending.id
    redis.queue("webhooks").empty()  # the job is lost (Redis restarted without persistence)
    with transaction():  # a worker took it and was killed mid-send: its lease still runs
        db.session.get(WebhookDelivery, pending_id).claimed_until = utcnow() + timedelta(minutes=1)
    assert sweep_webhook_deliveries(grace_seconds=0) == 0  # in flight: left alone
    with transaction():  # the lease ran out
        db.session.get(WebhookDelivery, pending_id).claimed_until = utcnow() - timedelta(seconds=1)
    assert sweep_webhook_deliveries(grace_seconds=0) == 1
    assert sweep_webhook_deliveries(grace_seconds=60) == 0  # just queued: not queued again within the grace
    run_jobs()
    assert delivery_ids(hook) == [pending_id]
    assert deliveries()[0].status == "delivered"


def test_a_receiver_failing_then_answering_sees_one_delivery_id(client, devices, auth, receiver):
    flaky = receiver([500, 502, 503])
    admin = auth("admin")
    made = client.post("/api/v1/webhooks", headers=admin, json={"name": "城市平台", "url": flaky.url}).get_json()
    send(client, "gas_detector-01", event("gas", readings={"lel_pct": 30}))
    run_jobs()
    assert [status for status, _, _ in flaky.calls] == [500, 502, 503, 200]
    (delivered,) = deliveries()
    assert set(delivery_ids(flaky)) == {delivered.id}  # read before any further job runs
    assert (delivered.status, delivered.attempts, delivered.last_status, delivered.last_error) == (
        "delivered", 4, 200, None)
    listed = client.get(f"/api/v1/webhooks/{made['id']}/deliveries", headers=admin)
    assert listed.status_code == 200
    assert [(d["id"], d["status"], d["attempts"]) for d in listed.get_json()["items"]] == [
        (delivered.id, "delivered", 4)]


def test_administrators_see_failed_deliveries_and_send_one_again(client, devices, auth, receiver):
    down = receiver([500] * 4)  # one attempt and three retries, all refused
    admin = auth("admin")
    made = client.post("/api/v1/webhooks", headers=admin, json={"name": "down", "url": down.url}).get_json()
    send(client, "emergency_button-01", event("pressed"))
    run_jobs()
    (webhook,) = client.get("/api/v1/webhooks", headers=admin).get_json()["items"]
    assert (webhook["pending_deliveries"], webhook["failed_deliveries"]) == (0, 1)
    failed = client.get(f"/api/v1/webhooks/{made['id']}/deliveries?status=failed", headers=admin).get_json()["items"]
    assert [(d["status"], d["attempts"], d["last_status"], d["last_error"]) for d in failed] == [
        ("failed", 4, 500, "HTTP 500")]
    assert sweep_webhook_deliveries(grace_seconds=0) == 0  # given up: the sweep leaves it
    url = f"/api/v1/webhooks/{made['id']}/deliveries/{failed[0]['id']}/retry"
    assert client.post(url, headers=auth("dispatcher")).status_code == 403
    assert client.post(url, headers=admin).status_code == 202
    run_jobs()  # the receiver answers 200 now
    assert delivery_ids(down) == [failed[0]["id"]] * 5
    assert client.post(url, headers=admin).status_code == 409  # delivered: nothing to send again
    for bad in (f"/api/v1/webhooks/{made['id']}/deliveries/{'0' * 32}/retry",
                f"/api/v1/webhooks/{made['id']}/deliveries/nope/retry", "/api/v1/webhooks/999/deliveries/x/retry"):
        assert client.post(bad, headers=admin).status_code == 404, bad
    assert client.get(f"/api/v1/webhooks/{made['id']}/deliveries?status=lost", headers=admin).status_code == 422
    assert client.get("/api/v1/webhooks/999/deliveries", headers=admin).status_code == 404


def test_a_job_queued_before_the_upgrade_is_kept_and_sent(client, devices, auth, receiver):
    hook = receiver([503])
    made = client.post("/api/v1/webhooks", headers=auth("admin"), json={"name": "城市平台", "url": hook.url})
    send(client, "emergency_button-01", event("pressed"))
    run_jobs_of("alarms")
    with transaction():  # as if the outbox did not exist: only the old-style job is left
        db.session.execute(delete(WebhookDelivery))
    redis.queue("webhooks").empty()
    alarm = alarm_of("emergency_button-01", "pressed")
    redis.queue(QUEUE).enqueue(deliver_webhook, made.get_json()["id"], "alarm.raised", alarm.id,
                               utcnow().isoformat(), "a" * 32)
    run_jobs()  # its 503 is kept as a pending delivery ...
    assert delivery_ids(hook) == ["a" * 32] and deliveries()[0].status == "pending"
    assert sweep_webhook_deliveries(grace_seconds=0) == 1  # ... which the sweep sends again
    run_jobs()
    assert delivery_ids(hook) == ["a" * 32] * 2 and deliveries()[0].status == "delivered"


def run_jobs_of(name: str) -> None:
    """Run the jobs of one queue only (the others stay queued)."""
    worker = BurstWorker([redis.queue(name)], connection=redis.client, name=f"test-{uuid.uuid4().hex[:8]}")
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
    db.session.rollback()
