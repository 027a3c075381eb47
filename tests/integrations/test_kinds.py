"""Payload schemas, alarm types and grading per device kind (no database, no broker)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers.catalogue import ANY_KIND
from handlers.catalogue_seed import ALARM_TYPES
from handlers.catalogue_seed import CATEGORIES as SEED_CATEGORY_ROWS
from integrations.kinds import KINDS, OFFLINE, interpret
from integrations.payloads import Rejected, parse_event, parse_status, parse_topic
from models.devices import DEVICE_KINDS
from tests.integrations.samples import ALARM_PER_KIND

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
# The shipped catalogue's alarm type -> category (the table's seed; at run time the table decides).
SEED_ALARM_CATEGORIES = {(kind, alarm): category for kind, alarm, category in ALARM_TYPES}


def event(**fields):
    return parse_event(json.dumps({"msg_id": "m1", **fields}).encode(), NOW)


def test_every_device_kind_has_a_schema_and_is_documented_for_device_makers():
    assert set(KINDS) == set(DEVICE_KINDS)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "devices.md").read_text()
    for spec in KINDS.values():
        assert f"{spec.kind}" in docs, spec.kind
        for alarm in spec.alarms:
            assert f"`{alarm.code}`" in docs and SEED_ALARM_CATEGORIES[spec.kind, alarm.code] in docs, \
                (spec.kind, alarm.code)
        for quantity in spec.quantities:
            assert f"`{quantity.name}`" in docs, (spec.kind, quantity.name)


@pytest.mark.parametrize("kind", sorted(ALARM_PER_KIND))
def test_each_kind_raises_its_alarm_with_its_grade(kind):
    fields, alarm, category, severity = ALARM_PER_KIND[kind]
    raised = [s for s in interpret(kind, event(**fields)) if s.raised]
    assert [(s.alarm, SEED_ALARM_CATEGORIES[kind, s.alarm], s.severity) for s in raised][:1] == [
        (alarm, category, severity)]


def test_every_alarm_type_of_every_kind_opens_a_category_of_the_shipped_catalogue():
    categories = {row[0] for row in SEED_CATEGORY_ROWS}
    for spec in KINDS.values():
        for alarm in spec.alarms:
            assert SEED_ALARM_CATEGORIES.get((spec.kind, alarm.code)) in categories, (spec.kind, alarm.code)
    assert SEED_ALARM_CATEGORIES[ANY_KIND, OFFLINE] == "device_offline"


@pytest.mark.parametrize("readings, expected", [
    ({"lel_pct": 5}, (False, "high")),      # normal: clears any gas alarm
    ({"lel_pct": 12}, (True, "high")),      # low alarm
    ({"lel_pct": 25}, (True, "urgent")),    # high alarm
    ({"lel_pct": 9}, None),                 # inside the hysteresis band: no change
    ({"lel_pct": 7.5}, (False, "high")),    # back in range by the hysteresis: clears
])
def test_gas_is_graded_by_concentration_with_hysteresis(readings, expected):
    signals = interpret("gas_detector", event(type="reading", readings=readings))
    assert [(s.raised, s.severity) for s in signals][:1] == ([expected] if expected else [])


def test_water_quality_checks_each_quantity_against_gb5749():
    signals = interpret("water_quality", event(type="reading", readings={
        "turbidity_ntu": 0.3, "chlorine_mg_l": 0.01, "ph": 9.8, "conductivity_us_cm": 400, "colour_pcu": 20}))
    verdicts = {s.alarm: (s.raised, s.severity) for s in signals}
    assert verdicts == {"turbidity": (False, "high"), "residual_chlorine": (True, "urgent"),
                        "ph": (True, "urgent"), "conductivity": (False, "normal"), "colour": (True, "normal")}


def test_elevator_fault_codes_are_graded_and_unknown_codes_keep_the_default():
    assert interpret("elevator", event(type="fault", code="door_fault"))[0].severity == "normal"
    assert interpret("elevator", event(type="fault", code="E-4711"))[0].severity == "high"


def test_an_explicit_clear_and_a_heartbeat():
    assert [(s.alarm, s.raised) for s in interpret("smoke_detector", event(type="smoke", state="clear"))] == [
        ("smoke", False)]
    assert interpret("smoke_detector", event(type="heartbeat", readings={"battery_pct": 80})) == []


@pytest.mark.parametrize("kind, fields, reason", [
    ("smoke_detector", {"type": "flood"}, "unknown_type"),
    ("smoke_detector", {"type": "smoke", "readings": {"lel_pct": 3}}, "bad_reading"),
    ("gas_detector", {"type": "reading", "readings": {"lel_pct": 140}}, "bad_reading"),
    ("throwing_camera", {"type": "throwing"}, "invalid_payload"),
    ("garbage_bin", {"type": "reading", "state": "clear"}, "invalid_payload"),
    ("sound_light_alarm", {"type": "fault"}, "unknown_type"),
])
def test_what_a_kind_cannot_send_is_rejected_with_a_reason(kind, fields, reason):
    with pytest.raises(Rejected) as rejected:
        interpret(kind, event(**fields))
    assert rejected.value.reason == reason


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", "bad_json"),
    (b"[1, 2]", "invalid_payload"),
    (b'{"type": "smoke"}', "invalid_payload"),
    (b'{"msg_id": "a", "type": "smoke", "ts": "2026-11-24T08:00:00"}', "invalid_payload"),
    (b'{"msg_id": "a", "type": "smoke", "readings": {"x": "high"}}', "invalid_payload"),
    (b'{"msg_id": "a", "type": "smoke", "readings": {"x": NaN}}', "invalid_payload"),
    (b'{"msg_id": "a", "type": "smoke", "colour": "red"}', "invalid_payload"),
    (b"x" * 20000, "too_large"),
])
def test_malformed_payloads_are_rejected_with_a_reason(payload, reason):
    with pytest.raises(Rejected) as rejected:
        parse_event(payload, NOW)
    assert rejected.value.reason == reason


def test_a_device_time_far_in_our_future_is_set_aside_not_the_message():
    message = parse_event(b'{"msg_id": "a", "type": "smoke", "ts": "2030-01-01T00:00:00Z"}', NOW)
    assert message.ts is None and message._clock_ahead == datetime(2030, 1, 1, tzinfo=UTC)


def test_device_time_in_iso_or_epoch_seconds_or_milliseconds():
    stamp = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    for ts in ("2026-11-24T08:00:00+08:00", "2026-11-24T00:00:00Z", stamp.timestamp(), stamp.timestamp() * 1000):
        assert parse_event(json.dumps({"msg_id": "a", "type": "smoke", "ts": ts}).encode(),
                           NOW).ts == stamp


def test_topics_and_status_payloads():
    assert parse_topic("community/jinxiu/smoke_detector/sd-1/status").channel == "status"
    for bad in ("community/jinxiu/smoke_detector/sd-1/cmd", "other/jinxiu/x/y/event", "community/a/b/event",
                "community/jin xiu/smoke_detector/sd-1/event"):
        with pytest.raises(Rejected):
            parse_topic(bad)
    assert parse_status(b"", NOW).state == "online"
    assert parse_status(b'{"state": "offline"}', NOW).state == "offline"
