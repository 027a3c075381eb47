"""``flask ingest mqtt``: the MQTT subscriber that turns device messages into alarms.

Two threads. paho's network thread receives and only puts each message on an in-memory
queue (a slow callback would block the network loop and the broker would drop us). The
ingest thread takes batches off it, applies each batch in one transaction, and only then
acknowledges its messages. A message is therefore acknowledged only once committed; one
lost with a killed process is redelivered by the broker from our persistent session, and
the message-id dedup applies a redelivered one once.

MQTT 5 with clean_start off and a session expiry is the persistent session (MQTT 3's
clean_session=False); its receive maximum lets the broker send more than Mosquitto's default
of 20 unacknowledged messages, which would otherwise cap every batch at 20.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import paho.mqtt.client as mqtt
from flask import Flask
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from extensions import db
from handlers.broker_account import service_credentials
from integrations.alarm_work import sweep_alarm_work
from integrations.ingest import Incoming, database_unavailable, ingest_isolated
from integrations.payloads import TOPIC_CHANNELS, TOPIC_ROOT
from models import utcnow

log = logging.getLogger(__name__)
STATS_EVERY = 10.0


@dataclass(frozen=True)
class _Received:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime


class IngestService:
    """The MQTT ingest of one process. ``run()`` blocks until ``stop()``."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.batch_size = config["INGEST_BATCH_SIZE"]
        self.batch_seconds = config["INGEST_BATCH_MS"] / 1000
        self.inbox: queue.Queue[_Received] = queue.Queue()
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self.counts = {"acknowledged": 0, "applied": 0, "duplicate": 0, "rejected": 0, "batches": 0}
        group = config["MQTT_SHARED_GROUP"]
        prefix = f"$share/{group}/" if group else ""
        self.topics = [f"{prefix}{TOPIC_ROOT}/+/+/+/{channel}" for channel in TOPIC_CHANNELS]
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config["MQTT_CLIENT_ID"],
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.username_pw_set(*service_credentials(config))
        # paho reconnects by itself, also when the broker was away at the start: wait, never exit.
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # paho's network thread -------------------------------------------------------------

    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker refused the ingest: %s", reason_code)
            return
        log.info("connected to MQTT (session present: %s)", flags.session_present)
        client.subscribe([(topic, SubscribeOptions(qos=1)) for topic in self.topics])

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.subscribed.clear()
        if not self.stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        # Hand over and return: never wait on the database here.
        self.inbox.put(_Received(message.mid, message.qos, message.topic, message.payload, utcnow()))

    # the ingest thread ------------------------------------------------------------------

    def run(self) -> None:
        """Connect, then apply batches until stopped. Unacknowledged messages at the stop are
        redelivered to the next run by the broker."""
        config = self.app.config
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = config["MQTT_SESSION_EXPIRY"]
        properties.ReceiveMaximum = max(1, min(config["MQTT_RECEIVE_MAXIMUM"], 65535))
        self.client.connect_async(config["MQTT_HOST"], config["MQTT_PORT"], keepalive=30,
                                  clean_start=False, properties=properties)
        self.client.loop_start()
        with self.app.app_context():
            try:
                self._queue_work_left_pending()
                self._work()
            finally:
                db.session.remove()
                self.client.disconnect()
                self.client.loop_stop()

    def stop(self) -> None:
        self.stopping.set()

    def _queue_work_left_pending(self) -> None:
        """Work left by a predecessor killed between a commit and its enqueue."""
        try:
            queued = sweep_alarm_work(grace_seconds=0)
        except Exception as exc:  # noqa: BLE001 - the sweep is a courtesy; the ingest must start regardless
            db.session.rollback()
            log.warning("left work not queued at start (%s); the scheduler's sweep will queue it", exc)
            return
        if queued:
            log.info("queued the follow-up of %d alarm(s) left pending", queued)

    def _work(self) -> None:
        last_stats = time.monotonic()
        while not self.stopping.is_set():
            batch = self._next_batch()
            if batch:
                self._apply(batch)
            if time.monotonic() - last_stats > STATS_EVERY:
                last_stats = time.monotonic()
                log.info("ingest: %s, waiting %d", self.counts, self.inbox.qsize())

    def _next_batch(self) -> list[_Received]:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_seconds
        while len(batch) < self.batch_size:
            try:
                batch.append(self.inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _apply(self, batch: list[_Received]) -> None:
        """Apply, then acknowledge in arrival order. While the database is unreachable the
        batch is retried (not acknowledged), so nothing is lost; whatever else goes wrong is
        confined to the message it went wrong with (see ``ingest_isolated``)."""
        incomings = [Incoming("mqtt", r.payload, r.received_at, topic=r.topic) for r in batch]
        delay = 0.5
        while True:
            try:
                self._count(ingest_isolated(incomings))
                break
            except Exception as exc:  # noqa: BLE001 - the stream goes on whatever one batch does
                db.session.rollback()
                if not database_unavailable(exc):
                    # Not expected: ingest_isolated dead-letters what fails. Keep the batch
                    # (unacknowledged) and try again rather than lose or skip it.
                    log.exception("the batch failed outside the per-message isolation; retrying")
                else:
                    log.warning("database unavailable (%s); retrying the batch in %.1fs",
                                getattr(exc, "orig", exc), delay)
                if self.stopping.wait(delay):
                    return
                delay = min(delay * 2, 30)
        for received in batch:
            if received.qos > 0:
                self.client.ack(received.mid, received.qos)
        self.counts["acknowledged"] += len(batch)
        self.counts["batches"] += 1

    def _count(self, outcomes) -> None:
        for outcome in outcomes:
            self.counts[outcome.status] += 1
