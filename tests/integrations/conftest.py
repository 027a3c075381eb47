"""Fixtures of the ingest tests: a private Mosquitto, the ingest service running in a thread,
and an RQ worker run in burst mode in the test's own process.

The broker is ours, on its own loopback port, with persistence on and no queue limit
(Mosquitto's default of 1,000 queued messages per client loses messages: see FACTS.md).
"""
from __future__ import annotations

import contextlib
import getpass
import socket
import subprocess
import threading
import time
import uuid

import pytest

from integrations.directory import forget_devices
from integrations.mqtt_service import IngestService
from web.commands.demo import build_demo_community


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> int:
    """Port of a Mosquitto of our own: loopback only, persistent sessions kept, no queue limit."""
    folder = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text("\n".join([
        f"listener {port} 127.0.0.1", "allow_anonymous true", f"user {getpass.getuser()}",
        "persistence true", f"persistence_location {folder}/", "autosave_interval 1",
        "max_queued_messages 0", "max_inflight_messages 0", f"log_dest file {folder}/mosquitto.log", ""]))
    process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def mqtt_app(app, broker):
    """The test app pointed at the private broker, with a client id of its own."""
    app.config.update(MQTT_HOST="127.0.0.1", MQTT_PORT=broker,
                      MQTT_CLIENT_ID=f"ingest-test-{uuid.uuid4().hex[:8]}", INGEST_BATCH_MS=5,
                      WEBHOOK_RETRY_SECONDS=(0, 0, 0))
    forget_devices()
    yield app
    forget_devices()


@pytest.fixture
def devices(mqtt_app):
    """The demo community with its devices (two of each kind, keys ``demo-key-<code>``)."""
    build_demo_community()
    return mqtt_app


@pytest.fixture
def ingest(devices):
    """The MQTT ingest running in a thread, subscribed; stopped after the test."""
    service = IngestService(devices)
    thread = threading.Thread(target=service.run, name="ingest", daemon=True)
    thread.start()
    assert service.subscribed.wait(10), "the ingest did not subscribe"
    yield service
    service.stop()
    thread.join(10)
