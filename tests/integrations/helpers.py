"""Builders of device messages, a publisher, waiting for the ingest, running queued jobs."""
from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
from sqlalchemy import func, select

from extensions import db, redis
from models import Alarm, Case, Device, OrgUnit
from web.commands.demo import device_key
from web.commands.services import QUEUES, AppWorker

_ids = itertools.count(1)


def event(type_: str | None = None, key_of: str | None = None, **fields) -> dict:
    """An event payload with a fresh msg_id; ``key_of`` puts that device's demo key in it."""
    payload = {"msg_id": f"t{next(_ids)}-{uuid.uuid4().hex[:6]}", **fields}
    if type_:
        payload["type"] = type_
    if key_of:
        payload["key"] = device_key(key_of)
    return payload


def topic_of(code: str, channel: str = "event") -> str:
    device = db.session.scalar(select(Device).where(Device.code == code))
    community = db.session.get(OrgUnit, device.community_id).code
    return f"community/{community}/{device.kind}/{code}/{channel}"


class Publisher:
    """A device (or gateway) publishing with QoS 1 to the test broker."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None) -> None:
        from tests.integrations.conftest import GATEWAY

        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}")
        # A gateway account by default (it may publish for every device), else the device's own.
        self.client.username_pw_set(username or GATEWAY.username, password or GATEWAY.password)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.pending: list[mqtt.MQTTMessageInfo] = []

    def send(self, topic: str, payload: dict | bytes | str) -> None:
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        self.pending.append(self.client.publish(topic, body, qos=1))

    def flush(self) -> None:
        for info in self.pending:
            info.wait_for_publish(10)
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.client.disconnect()  # first: it wakes the network thread that loop_stop joins
        self.client.loop_stop()


def publish(port: int, messages: list[tuple[str, dict | bytes | str]]) -> None:
    publisher = Publisher(port)
    for topic, payload in messages:
        publisher.send(topic, payload)
    publisher.close()


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "the condition") -> None:
    """Poll until true; each poll sees the database as committed now."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_ingested(service, count: int, timeout: float = 15.0) -> None:
    """Until the ingest has committed and acknowledged ``count`` messages in all."""
    wait_until(lambda: service.counts["acknowledged"] >= count, timeout, f"{count} messages ingested")
    db.session.rollback()


class BurstWorker(AppWorker):
    """The app's worker without RQ's remote-command channel: a burst run here needs no
    commands, and stopping that listener thread costs a second each time."""

    def subscribe(self) -> None:
        pass


def run_jobs() -> None:
    """Run every queued job (alarms, webhooks...) here, until the queues are empty."""
    queues = [redis.queue(name) for name in QUEUES]
    worker = BurstWorker(queues, connection=redis.client, name=f"test-{uuid.uuid4().hex[:8]}")
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
    db.session.rollback()


def alarm_of(code: str, type_: str) -> Alarm | None:
    """The latest alarm of a device and type."""
    return db.session.scalar(select(Alarm).join(Device).where(Device.code == code, Alarm.type == type_)
                             .order_by(Alarm.id.desc()).execution_options(populate_existing=True))


def cases_of(code: str) -> list[Case]:
    return list(db.session.scalars(select(Case).join(Device, Device.id == Case.device_id)
                                   .where(Device.code == code).order_by(Case.id)
                                   .execution_options(populate_existing=True)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
