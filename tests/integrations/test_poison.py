"""Intake never stops: whatever bytes arrive, over MQTT or HTTP, the ingest stores an alarm
change, a measurement or a dead letter that the database can hold, acknowledges it and goes
on; a valid alarm sent after the poison becomes a case within seconds."""
from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from extensions import db
from models import Alarm, DeadLetter, Device
from tests.integrations.helpers import (
    Publisher,
    alarm_of,
    cases_of,
    count,
    event,
    publish,
    run_jobs,
    topic_of,
    wait_ingested,
)
from web.commands.demo import device_key

GHOST = "community/jinxiu/smoke_detector/ghost-01/event"  # no such device


def poison(smoke_topic: str) -> list[tuple[str, bytes | str | dict, str]]:
    """(topic, payload, what became of it: a dead letter's reason, or 'applied')."""
    key = device_key("smoke_detector-02")
    return [
        (GHOST, b"\x00\x00{\"type\":\"smoke\"}\x00", "unknown_device"),  # the message that stopped intake
        (smoke_topic, b"\x00\x00{\"type\":\"smoke\"}\x00", "bad_json"),
        (smoke_topic, b"\xff\xfe\xfd not UTF-8 \xc3\x28", "bad_json"),
        (smoke_topic, b"{\"msg_id\":\"big\",\"type\":\"smoke\",\"pad\":\"" + b"a" * 1_000_000 + b"\"}", "too_large"),
        (smoke_topic, b"[" * 10_000 + b"]" * 10_000, "too_large"),
        (smoke_topic, b"[" * 7_000 + b"]" * 7_000, "bad_json"),  # deep, under the size limit
        (smoke_topic, {"msg_id": 5, "type": ["smoke"], "state": {}, "readings": "x", "ts": True, "key": 7},
         "invalid_payload"),
        (smoke_topic, {**event("smoke"), "key": key, "readings": {"obscuration\u0000": 1}}, "bad_reading"),
        (smoke_topic, {**event("smoke"), "key": key, "ts": "0001-01-01T00:00:00+01:00"}, "invalid_payload"),
        (smoke_topic, '{"msg_id":"s1","type":"smoke","message":"\\ud800","key":"x"}', "bad_json"),
        (smoke_topic, {**event("smoke"), "msg_id": "a\u0000b", "key": key}, "invalid_payload"),
        (smoke_topic, {**event("smoke"), "key": "wrong\u0000key"}, "wrong_key"),
        (smoke_topic, {**event("smoke")}, "missing_key"),
        ("community/jinxiu/smoke_detector/bad code!/event", event("smoke"), "bad_topic"),
        ("community/jinxiu/gas_detector/smoke_detector-02/event", event("smoke", key_of="smoke_detector-02"),
         "topic_mismatch"),
        # A real alarm whose free text carries NUL: applied, the text escaped.
        (smoke_topic, {**event("smoke"), "key": key, "message": "烟雾\u0000浓", "code": "\u0000"}, "applied"),
    ]


def test_poison_messages_over_mqtt_never_stop_intake_and_a_valid_alarm_then_opens_its_case(ingest, broker):
    smoke = topic_of("smoke_detector-02")
    messages = poison(smoke)
    publish(broker, [(topic, payload) for topic, payload, _ in messages])
    valid = event("smoke", key_of="smoke_detector-01")
    started = time.monotonic()
    publish(broker, [(topic_of("smoke_detector-01"), valid)])
    wait_ingested(ingest, len(messages) + 1, timeout=20)
    run_jobs()
    assert [c.category for c in cases_of("smoke_detector-01")] == ["fire_smoke"]
    assert time.monotonic() - started < 10
    letters = db.session.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()
    assert [letter.reason for letter in letters] == [reason for *_, reason in messages if reason != "applied"]
    nul = letters[0]
    assert (nul.payload_encoding, base64.b64decode(nul.payload)) == ("base64", messages[0][1])
    assert nul.device_code == "ghost-01" and letters[2].payload_encoding == "base64"
    assert len(letters[3].payload) <= 4000  # the first bytes of a 1 MB payload are kept
    escaped = alarm_of("smoke_detector-02", "smoke")
    assert escaped.detail["message"] == "烟雾\\u0000浓" and escaped.status == "active"
    assert ingest.counts["rejected"] == len(letters)


def test_poison_events_over_http_get_a_clear_4xx_and_the_next_valid_event_is_applied(client, devices):
    key = {"X-Device-Key": device_key("street_light-01")}
    url = "/api/v1/devices/street_light-01/events"
    attempts = [
        (url, b"\x00{\"type\":\"lamp_fault\"}\x00", key, 400),
        (url, b"\xff\xfe not UTF-8", key, 400),
        (url, b"{\"pad\":\"" + b"a" * 1_000_000 + b"\"}", key, 413),
        (url, b"{\"a\":" * 10_000 + b"1" + b"}" * 10_000, key, 413),
        (url, b"[" * 7_000 + b"]" * 7_000, key, 400),
        (url, json.dumps({"msg_id": [], "type": 3, "state": None, "readings": [1], "ts": {}}), key, 422),
        (url, json.dumps({**event("lamp_fault"), "readings": {"voltage_v\u0000": 1}}), key, 422),
        (url, json.dumps({**event("lamp_fault"), "ts": "0001-01-01T00:00:00+01:00"}), key, 422),
        (url, json.dumps(event("lamp_fault")), {"X-Device-Key": "k\u00ff\u00fe"}, 401),
        ("/api/v1/devices/%00ghost/events", json.dumps(event("lamp_fault")), key, 404),
        ("/api/v1/devices/" + "x" * 5000 + "/events", json.dumps(event("lamp_fault")), key, 404),
        ("/api/v1/devices/99999999999999999999/events", json.dumps(event("lamp_fault")), key, 404),
    ]
    for path, body, headers, status in attempts:
        answer = client.post(path, data=body, headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == status, (path[:60], body[:60], answer.get_data()[:300])
        assert answer.get_json()["error"]
    assert count(DeadLetter) == len(attempts)
    assert db.session.scalar(select(DeadLetter.payload_encoding).order_by(DeadLetter.id)) == "base64"
    # A real event with NUL in its text is applied, the text escaped; then the next one.
    noted = client.post(url, json={**event("lamp_fault"), "message": "灯\u0000灭"}, headers=key)
    assert noted.status_code == 202, noted.get_json()
    run_jobs()
    assert [c.category for c in cases_of("street_light-01")] == ["streetlight_lamp_fault"]
    alarm = db.session.scalar(select(Alarm).join(Device).where(Device.code == "street_light-01"))
    assert alarm.detail["message"] == "灯\\u0000灭"


# Text as devices get it wrong: NUL, lone surrogates, quotes, backslashes among the rest.
nasty_text = st.lists(st.sampled_from(["\x00", "\ud800", "\udfff", "火", "a", "\\", '"']) | st.text(max_size=4),
                      max_size=6).map("".join)
# Any JSON value.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | nasty_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
FIELDS = ("msg_id", "type", "state", "ts", "readings", "message", "key", "code", "snapshot")


@st.composite
def device_payloads(draw) -> bytes:
    """Raw bytes, or an event object whose every field may be of any type or any text; the
    key and type are often right, so the message gets as far as the alarm tables."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=300) | st.binary(max_size=50).map(lambda b: b + b"\x00" + b))
    fields = draw(st.dictionaries(st.sampled_from(FIELDS), json_values | nasty_text, max_size=6))
    if draw(st.booleans()):
        fields.update(key=device_key("smoke_detector-02"), type=draw(st.sampled_from(["smoke", "reading"])),
                      msg_id=draw(st.from_regex(r"\A[a-z0-9]{1,12}\Z")))
    text = json.dumps(fields, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(payloads=st.lists(device_payloads(), min_size=1, max_size=5),
       channel=st.sampled_from(["event", "status"]))
def test_whatever_is_published_the_ingest_acknowledges_it_and_keeps_running(ingest, broker, payloads, channel):
    topic = topic_of("smoke_detector-02", channel)
    publisher = Publisher(broker)
    before = ingest.counts["acknowledged"]
    for payload in payloads:
        publisher.send(topic, payload)
    publisher.close()
    wait_ingested(ingest, before + len(payloads), timeout=15)  # all of them: the ingest goes on


def test_an_alarm_from_a_device_whose_clock_runs_ahead_still_counts(ingest, broker):
    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    publish(broker, [(topic_of("smoke_detector-01"), event("smoke", key_of="smoke_detector-01", ts=ahead))])
    wait_ingested(ingest, 1)
    run_jobs()
    alarm = alarm_of("smoke_detector-01", "smoke")
    assert alarm.status == "active" and alarm.detail["device_clock_ahead"].startswith(ahead[:16])
    assert alarm.first_seen_at <= datetime.now(UTC) and len(cases_of("smoke_detector-01")) == 1
