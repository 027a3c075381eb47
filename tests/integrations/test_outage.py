"""The ingest waits and reconnects when the broker, PostgreSQL or Redis is gone for a while,
instead of exiting: nothing lost, nothing doubled. Each outage is of a private instance (a
broker on the shipped config, a loopback proxy in front of PostgreSQL, a redis-server) that the
test starts and stops; the machine's shared services are never touched."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

from extensions import db
from integrations.alarm_work import sweep_alarm_work
from integrations.directory import forget_devices
from integrations.mqtt_service import IngestService
from models import Alarm
from tests.integrations.conftest import SERVICE_PASSWORD, SERVICE_USER, free_port, start_broker, wait_for_port
from tests.integrations.helpers import (
    alarm_of,
    cases_of,
    count,
    event,
    publish,
    run_jobs,
    topic_of,
    wait_until,
)
from web import create_app


@contextlib.contextmanager
def running(service: IngestService):
    thread = threading.Thread(target=service.run, name="ingest", daemon=True)
    thread.start()
    try:
        assert service.subscribed.wait(15), "the ingest did not subscribe"
        yield thread
    finally:
        service.stop()
        thread.join(15)


def wait_acknowledged(service: IngestService, total: int, timeout: float = 20) -> None:
    wait_until(lambda: service.counts["acknowledged"] >= total, timeout, f"{total} messages acknowledged")


def test_the_ingest_rides_out_a_broker_restart(devices, tmp_path):
    port = free_port()
    broker = start_broker(tmp_path, port)
    devices.config.update(MQTT_PORT=port)
    service = IngestService(devices)
    try:
        with running(service) as thread:
            publish(port, [(topic_of("fire_door-01"), event("open", key_of="fire_door-01"))])
            wait_acknowledged(service, 1)
            broker.terminate()
            broker.wait(10)
            time.sleep(1.5)  # the ingest finds the broker gone and keeps trying
            assert thread.is_alive()
            broker = start_broker(tmp_path, port)
            assert service.subscribed.wait(30), "the ingest did not come back"
            publish(port, [(topic_of("fire_door-02"), event("open", key_of="fire_door-02"))])
            wait_acknowledged(service, 2)
            assert thread.is_alive()
    finally:
        broker.terminate()
        broker.wait(10)
    assert alarm_of("fire_door-01", "open").count == 1 and alarm_of("fire_door-02", "open").count == 1


class LoopbackProxy:
    """A TCP forwarder on a port of its own to a loopback service; ``cut()`` drops every
    connection and stops listening (the service is "gone"), ``restore()`` listens again."""

    def __init__(self, target_port: int) -> None:
        self.port, self.target_port = free_port(), target_port
        self.connections: list[socket.socket] = []
        self.server: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: it stops listening
        self.server.close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self.connections.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def proxied_app(devices, database_url: str):
    """The test's app again, reaching its database through ``database_url``."""
    config = {name: devices.config[name] for name in (
        "REDIS_URL", "QUEUE_PREFIX", "TESTING", "SECRET_KEY", "GRID_CACHE_SECONDS", "DATA_DIR", "MQTT_HOST",
        "MQTT_PORT", "INGEST_BATCH_MS")}
    app = create_app({**config, "DATABASE_URL": database_url, "MQTT_USERNAME": SERVICE_USER,
                      "MQTT_PASSWORD": SERVICE_PASSWORD, "MQTT_CLIENT_ID": f"ingest-pg-{uuid.uuid4().hex[:8]}"})
    forget_devices()
    return app


def test_the_ingest_waits_for_postgresql_and_applies_what_came_meanwhile_once(devices, backend, broker):
    if backend != "postgresql":
        pytest.skip("a database server that goes away is PostgreSQL's case")
    url = devices.config["DATABASE_URL"]
    proxy = LoopbackProxy(5432)
    app = proxied_app(devices, url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/"))
    service = IngestService(app)
    with running(service) as thread:
        publish(broker, [(topic_of("gas_detector-01"), event("gas", key_of="gas_detector-01"))])
        wait_acknowledged(service, 1)
        proxy.cut()  # PostgreSQL is gone
        sent = [(topic_of("gas_detector-02"), event("gas", key_of="gas_detector-02")),
                (topic_of("gas_detector-01"), event("gas", key_of="gas_detector-01"))]
        publish(broker, sent)
        time.sleep(3)  # the ingest retries, acknowledging nothing
        assert thread.is_alive() and service.counts["acknowledged"] == 1
        proxy.restore()
        wait_acknowledged(service, 3, timeout=40)
        assert thread.is_alive()
    proxy.cut()
    with app.app_context():
        db.engine.dispose()
    forget_devices()
    assert alarm_of("gas_detector-01", "gas").count == 2 and alarm_of("gas_detector-02", "gas").count == 1
    assert count(Alarm) == 2


def test_without_redis_the_ingest_applies_and_the_sweep_opens_the_case_later(devices, broker, ingest, tmp_path):
    server = shutil.which("redis-server")
    port = free_port()
    redis_server = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    wait_for_port(port)
    redis_handle = devices.extensions["redis"]
    own_url = devices.config["REDIS_URL"]
    redis_server.terminate()  # Redis gone: the ingest cannot queue the case's job
    redis_server.wait(10)
    redis_handle._url, redis_handle._client = f"redis://127.0.0.1:{port}/0", None
    try:
        publish(broker, [(topic_of("emergency_button-01"), event("pressed", key_of="emergency_button-01"))])
        wait_acknowledged(ingest, 1)
        alarm = alarm_of("emergency_button-01", "pressed")
        assert alarm is not None and alarm.pending_since is not None and alarm.case_id is None
    finally:
        redis_handle._url, redis_handle._client = own_url, None  # Redis is back
    assert sweep_alarm_work(grace_seconds=0) == 1  # what the scheduler does every minute
    run_jobs()
    assert [c.category for c in cases_of("emergency_button-01")] == ["emergency_call"]
