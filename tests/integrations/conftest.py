"""Fixtures of the ingest tests: a private Mosquitto, the ingest service running in a thread,
and an RQ worker run in burst mode in the test's own process.

The broker runs the shipped configuration (broker/mosquitto.conf, rendered with a free
loopback port and a folder of the test run), with its password file and ACL written the way
``flask ingest broker-files`` writes them: the ingest signs in with the service account, the
tests publish as a gateway account allowed under ``community/#``, or as a device.
"""
from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import threading
import time
import uuid

import pytest

from integrations.broker_files import Gateway, registry_devices, reload_broker, write_broker_files
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


SERVICE_USER, SERVICE_PASSWORD = "ingest@service", secrets.token_urlsafe(16)
# Publishes for every device (and on malformed topics under community/), and watches commands.
GATEWAY = Gateway("test-gateway@load", secrets.token_urlsafe(16), ("community/#",), ("community/+/+/+/cmd",))


def broker_settings(folder, port: int) -> dict:
    """The settings the broker's files are written from (the app's, for this test broker)."""
    return {"DATA_DIR": str(folder), "MQTT_PORT": port, "MQTT_BROKER_BIND": "127.0.0.1",
            "MQTT_USERNAME": SERVICE_USER, "MQTT_PASSWORD": SERVICE_PASSWORD}


def admit_registered_devices(port: int) -> None:
    """Write the test broker's password file from the registry of the current database (every
    device signs in with its code and key) and make the broker read it again."""
    settings = broker_settings(_broker_folders[port], port)
    write_broker_files(settings, registry_devices(), [GATEWAY])
    assert reload_broker(settings)
    time.sleep(0.3)  # Mosquitto reads the files again on SIGHUP, in its own time


_broker_folders: dict[int, object] = {}


def start_broker(folder, port: int) -> subprocess.Popen:
    _broker_folders[port] = folder
    conf = write_broker_files(broker_settings(folder, port), [], [GATEWAY])
    log = open(conf.parent / "mosquitto.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=log, stderr=log)
    (conf.parent / "mosquitto.pid").write_text(str(process.pid))
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        raise
    return process


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> int:
    """Port of a Mosquitto of our own on the shipped configuration, loopback only."""
    folder = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    process = start_broker(folder, port)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def mqtt_app(app, broker):
    """The test app pointed at the private broker, with a client id of its own."""
    app.config.update(MQTT_HOST="127.0.0.1", MQTT_PORT=broker, MQTT_USERNAME=SERVICE_USER,
                      MQTT_PASSWORD=SERVICE_PASSWORD,
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
