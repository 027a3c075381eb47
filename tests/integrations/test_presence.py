"""Online and offline from heartbeats: silence raises device_offline, a heartbeat clears it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from extensions import db
from integrations.presence import mark_silent_devices_offline, purge_ingest_records
from models import Device, IngestedMessage, transaction, utcnow
from tests.integrations.helpers import (
    alarm_of,
    cases_of,
    count,
    event,
    publish,
    run_jobs,
    topic_of,
    wait_ingested,
)


def status_of(code: str) -> str:
    return db.session.scalar(select(Device.status).where(Device.code == code))


def test_a_silent_device_goes_offline_with_an_alarm_and_a_heartbeat_brings_it_back(ingest, broker, devices):
    publish(broker, [(topic_of("fire_hydrant-01", "status"), {"key": "demo-key-fire_hydrant-01"}),
                     (topic_of("garbage_bin-01", "status"), {"key": "demo-key-garbage_bin-01",
                                                               "readings": {"battery_pct": 71}})])
    wait_ingested(ingest, 2)
    assert (status_of("fire_hydrant-01"), status_of("garbage_bin-01"), status_of("elevator-01")) == (
        "online", "online", "unknown")
    silence = devices.config["DEVICE_OFFLINE_SECONDS"]
    with transaction():
        db.session.execute(update(Device).where(Device.code == "fire_hydrant-01")
                           .values(last_seen_at=utcnow() - timedelta(seconds=silence + 5)))
    assert mark_silent_devices_offline() == 1
    assert mark_silent_devices_offline() == 0  # once
    assert (status_of("fire_hydrant-01"), status_of("garbage_bin-01"), status_of("elevator-01")) == (
        "offline", "online", "unknown")
    alarm = alarm_of("fire_hydrant-01", "offline")
    assert (alarm.category, alarm.severity, alarm.status) == ("device_offline", "normal", "active")
    run_jobs()
    assert [c.category for c in cases_of("fire_hydrant-01")] == ["device_offline"]
    publish(broker, [(topic_of("fire_hydrant-01"), event("heartbeat", key_of="fire_hydrant-01"))])
    wait_ingested(ingest, 3)
    assert status_of("fire_hydrant-01") == "online"
    assert alarm_of("fire_hydrant-01", "offline").status == "cleared"
    run_jobs()
    assert cases_of("fire_hydrant-01")[0].status == "auto_closed"


def test_a_last_will_marks_the_device_offline_at_once(ingest, broker):
    status = topic_of("manhole_cover-02", "status")
    publish(broker, [(status, {"key": "demo-key-manhole_cover-02"}),
                     (status, {"key": "demo-key-manhole_cover-02", "state": "offline"})])
    wait_ingested(ingest, 2)
    assert status_of("manhole_cover-02") == "offline"
    alarm = alarm_of("manhole_cover-02", "offline")
    assert (alarm.status, alarm.severity) == ("active", "low")


def test_old_message_ids_are_forgotten(ingest, broker, devices):
    publish(broker, [(topic_of("garbage_bin-01"), event("reading", key_of="garbage_bin-01",
                                                        readings={"fill_pct": 10}))])
    wait_ingested(ingest, 1)
    later = utcnow() + timedelta(hours=devices.config["INGEST_DEDUP_HOURS"] + 1)
    assert purge_ingest_records(later) == (1, 0)
    assert count(IngestedMessage) == 0
