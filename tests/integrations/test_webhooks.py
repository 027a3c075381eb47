"""Alarms pushed to subscribed webhooks: a local HTTP receiver, signatures, retries."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from extensions import db
from models import Device, WebhookSubscription
from tests.integrations.helpers import event, run_jobs


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
