"""Linkage: a fire alarm unlocks its building's doors and sounds the monitoring room, on
``.../cmd`` through the real broker, and both are recorded on the case."""
from __future__ import annotations

import json
import queue
import uuid

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from extensions import db
from integrations.alarm_work import follow_up_alarm
from models import CaseEvent, DeviceCommand
from tests.integrations.conftest import GATEWAY
from tests.integrations.helpers import alarm_of, cases_of, event, publish, run_jobs, topic_of, wait_ingested

DOORS = [{"code": f"door-6-{n}", "kind": "door_controller", "name": f"6幢{n}单元门禁", "community": "cuiyuan",
          "grid": "CY-03", "building": "6幢"} for n in (1, 2)]


@pytest.fixture
def commands(broker):
    """Everything published on community/+/+/+/cmd, as (topic, payload)."""
    received: queue.Queue = queue.Queue()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cmd-{uuid.uuid4().hex[:8]}")
    listener.username_pw_set(GATEWAY.username, GATEWAY.password)
    listener.on_message = lambda _c, _u, m: received.put((m.topic, json.loads(m.payload)))
    subscribed = queue.Queue()
    listener.on_subscribe = lambda *args: subscribed.put(True)
    listener.connect("127.0.0.1", broker)
    listener.loop_start()
    listener.subscribe("community/+/+/+/cmd", qos=1)
    subscribed.get(timeout=5)
    yield received
    listener.disconnect()
    listener.loop_stop()


def take(received: queue.Queue, n: int) -> list[tuple[str, dict]]:
    return sorted((received.get(timeout=5) for _ in range(n)), key=lambda item: item[0])


def test_a_fire_alarm_unlocks_its_building_and_sounds_the_monitoring_room(client, ingest, broker, auth, commands):
    for door in DOORS + [{**DOORS[0], "code": "door-7-1", "building": "7幢"}]:
        assert client.post("/api/v1/devices", json=door, headers=auth("admin")).status_code == 201
    # smoke_detector-01 of the demo hangs in 6幢 of cuiyuan; sound_light_alarm-02 is cuiyuan's.
    publish(broker, [(topic_of("smoke_detector-01"), event("smoke", key_of="smoke_detector-01"))])
    wait_ingested(ingest, 1)
    run_jobs()
    sent = take(commands, 3)
    assert [topic for topic, _ in sent] == [
        "community/cuiyuan/door_controller/door-6-1/cmd", "community/cuiyuan/door_controller/door-6-2/cmd",
        "community/cuiyuan/sound_light_alarm/sound_light_alarm-02/cmd"]
    case = cases_of("smoke_detector-01")[0]
    assert [p["command"] for _, p in sent] == ["unlock", "unlock", "sound_light"]
    assert all(p["case_ref"] == case.ref and p["reason"] == "fire_smoke" for _, p in sent)
    assert sent[2][1]["pattern"] == "fire"
    assert commands.empty()
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "linkage")
                                .order_by(CaseEvent.id)).all()
    assert [(e.data["command"], e.data["devices"], e.data["failed"]) for e in events] == [
        ("unlock", ["door-6-1", "door-6-2"], []), ("sound_light", ["sound_light_alarm-02"], [])]
    assert db.session.scalars(select(DeviceCommand.status)).all() == ["sent"] * 3
    assert alarm_of("smoke_detector-01", "smoke").linkage == "done"
    # The follow-up runs again (a lost job found by the sweep): nothing is sent twice.
    follow_up_alarm(alarm_of("smoke_detector-01", "smoke").id)
    assert commands.empty() and len(db.session.scalars(select(DeviceCommand.id)).all()) == 3


def test_fence_intrusion_sounds_the_alarm_and_a_manhole_sets_off_nothing(ingest, broker, commands):
    publish(broker, [(topic_of("perimeter_fence-01"), event("intrusion", key_of="perimeter_fence-01")),
                     (topic_of("manhole_cover-01"), event("open", key_of="manhole_cover-01"))])
    wait_ingested(ingest, 2)
    run_jobs()
    (topic, payload), = take(commands, 1)
    assert topic.endswith("/sound_light_alarm/sound_light_alarm-01/cmd") or topic.endswith("sound_light_alarm-02/cmd")
    assert (payload["command"], payload["pattern"]) == ("sound_light", "intrusion")
    assert commands.empty()
    assert alarm_of("manhole_cover-01", "open").linkage == "none"


def test_when_the_broker_cannot_be_reached_the_linkage_is_recorded_as_failed_and_stays_pending(
        ingest, broker, devices):
    publish(broker, [(topic_of("heat_detector-01"), event("heat", key_of="heat_detector-01"))])
    wait_ingested(ingest, 1)
    devices.config["MQTT_PORT"] = 1  # nothing listens there
    run_jobs()
    alarm = alarm_of("heat_detector-01", "heat")
    assert alarm.case_id is not None and alarm.linkage == "pending" and alarm.pending_since is not None
    failed = db.session.scalars(select(CaseEvent.data).where(CaseEvent.kind == "linkage")).all()
    assert failed and all(e["failed"] == e["devices"] for e in failed)
