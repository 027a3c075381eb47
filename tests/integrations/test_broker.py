"""The shipped broker's accounts and ACLs: a device signs in with its code and key, publishes
only under its own topics and reads only its own cmd topic, and checks the signature of the
commands it gets; nobody signs in without an account."""
from __future__ import annotations

import hashlib
import hmac
import json
import queue
import time
import uuid

import paho.mqtt.client as mqtt
from sqlalchemy import select

from extensions import db
from handlers.linkage import command_signature
from models import Alarm, DeadLetter, Device
from tests.integrations.conftest import (
    SERVICE_PASSWORD,
    SERVICE_USER,
    admit_registered_devices,
    free_port,
    start_broker,
)
from tests.integrations.helpers import (
    Publisher,
    alarm_of,
    count,
    event,
    publish,
    run_jobs,
    topic_of,
    wait_until,
)

DOOR = {"code": "door-9-1", "kind": "door_controller", "name": "9幢门禁", "community": "cuiyuan",
        "grid": "CY-03", "building": "6幢"}


def sign_in(port: int, username: str | None, password: str | None) -> tuple[mqtt.Client, mqtt.ReasonCode]:
    """A client connected (or refused): the broker's answer to the CONNECT."""
    answers: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acl-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
    client.connect("127.0.0.1", port)
    client.loop_start()
    reason = answers.get(timeout=5)
    return client, reason


def subscribe(client: mqtt.Client, topic: str) -> mqtt.ReasonCode:
    granted: queue.Queue = queue.Queue()
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: granted.put(codes[0])
    client.subscribe(topic, qos=1)
    return granted.get(timeout=5)


def close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def test_devices_sign_in_with_code_and_key_and_keep_to_their_own_topics(ingest, broker, client, auth):
    made = client.post("/api/v1/devices", json=DOOR, headers=auth("admin"))
    assert made.status_code == 201
    key = made.get_json()["key"]
    assert db.session.scalar(select(Device.broker_hash).where(Device.code == "door-9-1")).startswith("$7$101$")
    admit_registered_devices(broker)

    for username, password in ((None, None), ("door-9-1", "not-the-key"), ("nobody", key)):
        refused, reason = sign_in(broker, username, password)
        assert reason.is_failure, (username, reason)
        close(refused)
    door, reason = sign_in(broker, "door-9-1", key)
    assert not reason.is_failure
    heard: queue.Queue = queue.Queue()
    door.on_message = lambda _c, _u, message: heard.put(message.topic)
    for topic in (topic_of("door-9-1", "cmd"), topic_of("door_controller-01", "cmd"), "community/#"):
        subscribe(door, topic)  # Mosquitto grants them all; its ACL decides what is delivered
    service, reason = sign_in(broker, SERVICE_USER, SERVICE_PASSWORD)
    assert not reason.is_failure
    for topic in (topic_of("door_controller-01", "cmd"), topic_of("door-9-1", "cmd")):
        service.publish(topic, "{}", qos=1).wait_for_publish(5)
    assert heard.get(timeout=5) == topic_of("door-9-1", "cmd")
    time.sleep(0.5)
    close(door)
    close(service)
    # Its own command (once per matching subscription), and nothing else.
    assert {heard.get_nowait() for _ in range(heard.qsize())} <= {topic_of("door-9-1", "cmd")}

    # Another device's topic is refused by the broker (PUBACK 0x87, which a MQTT 3.1.1 client
    # takes as the end of its connection): nothing of it reaches the ingest.
    intruder, _reason = sign_in(broker, "door-9-1", key)
    intruder.publish(topic_of("smoke_detector-01"), json.dumps(event("smoke", key_of="smoke_detector-01")), qos=1)
    time.sleep(0.5)
    close(intruder)
    publish_as = Publisher(broker, "door-9-1", key)
    publish_as.send(topic_of("door-9-1"), {**event("forced"), "key": key})
    publish_as.close()
    wait_until(lambda: alarm_of("door-9-1", "forced") is not None, 10, "the door's own alarm")
    assert alarm_of("smoke_detector-01", "smoke") is None and count(DeadLetter) == 0

    # A new key: the old one no longer signs in.
    new_key = client.post(f"/api/v1/devices/{made.get_json()['id']}/key", headers=auth("admin")).get_json()["key"]
    admit_registered_devices(broker)
    stale, reason = sign_in(broker, "door-9-1", key)
    assert reason.is_failure
    close(stale)
    fresh, reason = sign_in(broker, "door-9-1", new_key)
    assert not reason.is_failure
    close(fresh)


def test_a_door_gets_its_unlock_on_its_own_topic_signed_with_its_own_key(ingest, broker, client, auth):
    made = client.post("/api/v1/devices", json={**DOOR, "code": "door-6-9"}, headers=auth("admin")).get_json()
    admit_registered_devices(broker)
    door, reason = sign_in(broker, "door-6-9", made["key"])
    assert not reason.is_failure
    received: queue.Queue = queue.Queue()
    door.on_message = lambda _c, _u, message: received.put(json.loads(message.payload))
    assert not subscribe(door, topic_of("door-6-9", "cmd")).is_failure
    # smoke_detector-01 of the demo hangs in 6幢 of cuiyuan: a fire there unlocks the door.
    publish(broker, [(topic_of("smoke_detector-01"), event("smoke", key_of="smoke_detector-01"))])
    wait_until(lambda: db.session.scalar(select(Alarm.id)) is not None, 10, "the fire alarm")
    run_jobs()
    command = received.get(timeout=10)
    close(door)
    assert command["command"] == "unlock"
    # What the door does before it opens: HMAC-SHA256 of the command without "sig", compact
    # JSON with sorted keys, keyed with the SHA-256 (hex) of its own key.
    secret = hashlib.sha256(made["key"].encode()).hexdigest().encode()
    body = json.dumps({k: v for k, v in command.items() if k != "sig"}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()
    assert hmac.compare_digest(command["sig"], hmac.new(secret, body, hashlib.sha256).hexdigest())
    forged = {**command, "building": "7幢"}
    assert command_signature(forged, hashlib.sha256(made["key"].encode()).hexdigest()) != command["sig"]


def test_a_device_registered_or_rekeyed_signs_in_at_once_to_the_broker_of_this_machine(
        client, devices, auth, tmp_path):
    port = free_port()
    broker = start_broker(tmp_path, port)  # as scripts/broker.sh runs it: files under DATA_DIR/broker
    devices.config.update(DATA_DIR=str(tmp_path), MQTT_PORT=port)
    try:
        made = client.post("/api/v1/devices", json={**DOOR, "code": "door-new"}, headers=auth("admin")).get_json()
        time.sleep(0.3)  # the registry rewrote the password file and sent SIGHUP; Mosquitto reloads
        door, reason = sign_in(port, "door-new", made["key"])
        assert not reason.is_failure
        close(door)
        new_key = client.post(f"/api/v1/devices/{made['id']}/key", headers=auth("admin")).get_json()["key"]
        time.sleep(0.3)
        for key, refused in ((made["key"], True), (new_key, False)):
            door, reason = sign_in(port, "door-new", key)
            assert reason.is_failure == refused
            close(door)
    finally:
        broker.terminate()
        broker.wait(10)
