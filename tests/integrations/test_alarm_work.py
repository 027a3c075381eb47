"""The follow-up jobs are idempotent by database rules: one active alarm per device and type,
one case per alarm, a lost job found by the sweep."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from integrations.alarm_work import _facts, _open_case, follow_up_alarm, sweep_alarm_work
from models import Alarm, Device, transaction, utcnow
from tests.integrations.helpers import alarm_of, cases_of, event, publish, run_jobs, topic_of, wait_ingested


def test_the_database_admits_one_active_alarm_per_device_and_type(devices):
    device = db.session.scalar(select(Device).where(Device.code == "fire_door-01"))
    row = {"device_id": device.id, "type": "open", "category": "fire_door_open", "severity": "normal",
           "count": 1, "first_seen_at": utcnow(), "last_seen_at": utcnow(), "community_id": device.community_id,
           "detail": {}, "linkage": "none"}
    with transaction():
        db.session.execute(insert(Alarm), [{**row, "status": "cleared"}, {**row, "status": "cleared"},
                                           {**row, "status": "active"}])
    with pytest.raises(IntegrityError), transaction():
        db.session.execute(insert(Alarm), [{**row, "status": "active"}])


def test_a_job_that_lost_the_race_opens_no_second_case(ingest, broker):
    publish(broker, [(topic_of("fire_lane-01"), event("blocked", key_of="fire_lane-01"))])
    wait_ingested(ingest, 1)
    alarm_id = alarm_of("fire_lane-01", "blocked").id
    read_before = _facts([alarm_id])[alarm_id]  # two jobs read the alarm: no case yet
    assert read_before.case_id is None
    assert _open_case(read_before)[0] is not None
    assert _open_case(read_before) == (None, True)  # the second one's case is rolled back
    db.session.rollback()
    assert len(cases_of("fire_lane-01")) == 1
    assert follow_up_alarm(alarm_id) == cases_of("fire_lane-01")[0].ref  # and again: nothing new
    assert len(cases_of("fire_lane-01")) == 1


def test_the_sweep_queues_the_follow_up_of_an_alarm_whose_job_was_lost(ingest, broker, devices):
    publish(broker, [(topic_of("ebike_camera-01"), event("ebike", key_of="ebike_camera-01", snapshot="s/1.jpg"))])
    wait_ingested(ingest, 1)
    devices.extensions["redis"].client.delete(f"rq:queue:{devices.config['QUEUE_PREFIX']}-alarms")  # job lost
    run_jobs()
    assert cases_of("ebike_camera-01") == []
    assert sweep_alarm_work(grace_seconds=60) == 0  # too fresh: its job may still be on its way
    with transaction():
        db.session.execute(update(Alarm).values(pending_since=utcnow() - timedelta(minutes=5)))
    assert sweep_alarm_work(grace_seconds=60) == 1
    run_jobs()
    assert [c.category for c in cases_of("ebike_camera-01")] == ["ebike_in_building"]
    assert alarm_of("ebike_camera-01", "ebike").pending_since is None
