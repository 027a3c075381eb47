"""Device messages through the real broker into alarms and cases: every kind, dedup, clearing,
measurements, and bad messages kept as dead letters."""
from __future__ import annotations

from sqlalchemy import delete, select

from extensions import db
from models import Alarm, Case, CaseEvent, DeadLetter, Device, IngestedMessage, Measurement, transaction
from tests.builders import accept_and_dispatch
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
from tests.integrations.samples import ALARM_PER_KIND


def test_every_kind_raises_its_alarm_and_opens_one_case_in_the_device_grid(ingest, broker):
    messages = [(topic_of(f"{kind}-01"), event(key_of=f"{kind}-01", **fields))
                for kind, (fields, *_expected) in ALARM_PER_KIND.items()]
    messages.append((topic_of("sound_light_alarm-01", "status"), {"key": "demo-key-sound_light_alarm-01"}))
    publish(broker, messages)
    wait_ingested(ingest, len(messages))
    assert ingest.counts["rejected"] == 0, db.session.scalars(select(DeadLetter.detail)).all()
    run_jobs()
    for kind, (_fields, alarm_type, category, severity) in ALARM_PER_KIND.items():
        alarm = alarm_of(f"{kind}-01", alarm_type)
        assert (alarm.category, alarm.severity, alarm.status, alarm.count) == (category, severity, "active", 1), kind
        cases = cases_of(f"{kind}-01")
        assert [(c.category, c.severity, c.source) for c in cases] == [(category, severity, "sensor")], kind
        device = db.session.get(Device, alarm.device_id)
        assert cases[0].grid_id == device.grid_id and alarm.case_id == cases[0].id
        assert alarm.pending_since is None, kind
    assert db.session.scalar(select(Device.status).where(Device.code == "sound_light_alarm-01")) == "online"


def test_repeats_only_count_and_a_redelivered_message_is_applied_once(ingest, broker):
    topic = topic_of("manhole_cover-01")
    first = event("open", key_of="manhole_cover-01")
    repeats = [event("open", key_of="manhole_cover-01", readings={"tilt_deg": 3}) for _ in range(4)]
    publish(broker, [(topic, first), *[(topic, r) for r in repeats], (topic, first)])
    wait_ingested(ingest, 6)
    run_jobs()
    alarm = alarm_of("manhole_cover-01", "open")
    assert (alarm.count, alarm.status, ingest.counts["duplicate"]) == (5, "active", 1)
    assert alarm.last_seen_at >= alarm.first_seen_at
    assert len(cases_of("manhole_cover-01")) == 1
    assert count(IngestedMessage) == 5


def test_a_graver_repeat_regrades_the_alarm_and_notes_it_on_the_case(ingest, broker):
    topic = topic_of("gas_detector-01")
    publish(broker, [(topic, event("gas", key_of="gas_detector-01", readings={"lel_pct": 12}))])
    wait_ingested(ingest, 1)
    run_jobs()
    publish(broker, [(topic, event("gas", key_of="gas_detector-01", readings={"lel_pct": 40}))])
    wait_ingested(ingest, 2)
    alarm = alarm_of("gas_detector-01", "gas")
    assert (alarm.severity, alarm.count) == ("urgent", 2)
    note = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == alarm.case_id,
                                                     CaseEvent.kind == "alarm_regraded"))
    assert (note.data["from"], note.data["to"]) == ("high", "urgent")


def test_a_clear_closes_an_undispatched_case_and_a_new_alarm_opens_a_new_case(ingest, broker):
    topic = topic_of("smoke_detector-01")
    publish(broker, [(topic, event("smoke", key_of="smoke_detector-01"))])
    wait_ingested(ingest, 1)
    run_jobs()
    publish(broker, [(topic, event("smoke", key_of="smoke_detector-01", state="clear"))])
    wait_ingested(ingest, 2)
    assert alarm_of("smoke_detector-01", "smoke").status == "cleared"
    run_jobs()
    first = cases_of("smoke_detector-01")[0]
    assert (first.status, first.closed_at is not None) == ("auto_closed", True)
    assert alarm_of("smoke_detector-01", "smoke").clear_sent_at is not None
    publish(broker, [(topic, event("smoke", key_of="smoke_detector-01"))])
    wait_ingested(ingest, 3)
    run_jobs()
    assert [c.status for c in cases_of("smoke_detector-01")] == ["auto_closed", "pending_accept"]
    assert count(Alarm, Alarm.status == "active") == 1


def test_a_clear_after_dispatch_is_noted_for_the_verifier(ingest, broker):
    topic = topic_of("elevator-01")
    publish(broker, [(topic, event("fault", key_of="elevator-01", code="door_fault"))])
    wait_ingested(ingest, 1)
    run_jobs()
    accept_and_dispatch(cases_of("elevator-01")[0], "property")
    publish(broker, [(topic, event("fault", key_of="elevator-01", state="clear"))])
    wait_ingested(ingest, 2)
    run_jobs()
    case = cases_of("elevator-01")[0]
    assert case.status == "disposing"
    note = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "note"))
    assert note.data["message"] == "alarm_cleared" and note.actor_label == "device:elevator-01"


def test_a_reading_back_in_range_clears_and_one_inside_the_hysteresis_does_not(ingest, broker):
    topic = topic_of("water_quality-01")
    send = [{"turbidity_ntu": 2.0}, {"turbidity_ntu": 0.9}, {"turbidity_ntu": 0.5}]
    publish(broker, [(topic, event("reading", key_of="water_quality-01", readings=send[0]))])
    wait_ingested(ingest, 1)
    run_jobs()
    publish(broker, [(topic, event("reading", key_of="water_quality-01", readings=send[1]))])
    wait_ingested(ingest, 2)
    assert alarm_of("water_quality-01", "turbidity").status == "active"
    publish(broker, [(topic, event("reading", key_of="water_quality-01", readings=send[2]))])
    wait_ingested(ingest, 3)
    assert alarm_of("water_quality-01", "turbidity").status == "cleared"
    run_jobs()
    assert cases_of("water_quality-01")[0].status == "auto_closed"
    values = db.session.scalars(select(Measurement.value).where(Measurement.quantity == "turbidity_ntu")
                                .order_by(Measurement.id)).all()
    assert values == [2.0, 0.9, 0.5]


def test_an_alarm_cleared_before_its_case_was_opened_still_gets_its_case_closed(ingest, broker):
    topic = topic_of("door_controller-01")
    publish(broker, [(topic, event("held_open", key_of="door_controller-01")),
                     (topic, event("held_open", key_of="door_controller-01", state="clear"))])
    wait_ingested(ingest, 2)
    alarm = alarm_of("door_controller-01", "held_open")
    assert (alarm.status, alarm.case_id, alarm.pending_since is not None) == ("cleared", None, True)
    run_jobs()
    assert [c.status for c in cases_of("door_controller-01")] == ["auto_closed"]
    assert alarm_of("door_controller-01", "held_open").pending_since is None


def test_environment_readings_are_kept_as_measurements(ingest, broker):
    readings = {"noise_db": 48.5, "pm25_ug_m3": 35, "temperature_c": 21.5, "humidity_pct": 60,
                "pressure_hpa": 1012, "wind_speed_mps": 3.2}
    publish(broker, [(topic_of("environment_station-01"),
                      event("reading", key_of="environment_station-01", readings=readings,
                            ts="2026-11-24T08:00:00+08:00"))])
    wait_ingested(ingest, 1)
    stored = dict(db.session.execute(select(Measurement.quantity, Measurement.value)).all())
    assert stored == readings
    assert count(Alarm) == 0


def test_bad_messages_become_dead_letters_and_the_ingest_goes_on(ingest, broker):
    smoke = topic_of("smoke_detector-01")
    bad = [
        (smoke, b"{not json"),
        (smoke, event("smoke")),  # no key
        (smoke, event("smoke", key="demo-key-someone-else")),
        (smoke, event("flood", key_of="smoke_detector-01")),
        (smoke, event("smoke", key_of="smoke_detector-01", readings={"lel_pct": 1})),
        ("community/jinxiu/smoke_detector/no-such-device/event", event("smoke")),
        (smoke.replace("smoke_detector", "gas_detector"), event("gas", key_of="smoke_detector-01")),
        ("community/jinxiu/smoke_detector/a b/event", event("smoke")),
    ]
    publish(broker, bad + [(smoke, event("smoke", key_of="smoke_detector-01"))])
    wait_ingested(ingest, len(bad) + 1)
    reasons = db.session.scalars(select(DeadLetter.reason).order_by(DeadLetter.id)).all()
    assert sorted(reasons) == sorted(["bad_json", "missing_key", "wrong_key", "unknown_type", "bad_reading",
                                      "unknown_device", "topic_mismatch", "bad_topic"])
    letter = db.session.scalar(select(DeadLetter).where(DeadLetter.reason == "bad_json"))
    assert (letter.channel, letter.device_code, letter.payload) == ("mqtt", "smoke_detector-01", "{not json")
    assert alarm_of("smoke_detector-01", "smoke").count == 1
    assert count(Case) == 0  # no job has run: cases come from the worker


def test_a_message_that_fails_on_our_side_is_set_aside_and_the_rest_of_its_batch_applied(ingest, broker):
    publish(broker, [(topic_of("garbage_bin-02"), event("heartbeat", key_of="garbage_bin-02"))])
    wait_ingested(ingest, 1)
    gone = topic_of("garbage_bin-02")
    with transaction():  # removed behind the ingest's back: its directory still knows the device
        db.session.execute(delete(Measurement))
        db.session.execute(delete(IngestedMessage))
        db.session.execute(delete(Device).where(Device.code == "garbage_bin-02"))
    publish(broker, [(gone, event("reading", key_of="garbage_bin-02", readings={"fill_pct": 99})),
                     (topic_of("garbage_bin-01"), event("reading", key_of="garbage_bin-01", readings={"fill_pct": 99}))])
    wait_ingested(ingest, 3)
    letter = db.session.scalar(select(DeadLetter))  # read again, the registry knows it no more
    assert (letter.reason, letter.device_code) == ("unknown_device", "garbage_bin-02")
    assert alarm_of("garbage_bin-01", "full").status == "active"


def test_a_device_re_registered_under_its_code_is_heard_at_once(ingest, broker, devices):
    publish(broker, [(topic_of("garbage_bin-02"), event("heartbeat", key_of="garbage_bin-02"))])
    wait_ingested(ingest, 1)
    with transaction():  # replaced behind the ingest's back: same code, a new id
        device = db.session.scalar(select(Device).where(Device.code == "garbage_bin-02"))
        fields = {c: getattr(device, c) for c in ("code", "kind", "name", "community_id", "grid_id", "key_hash")}
        db.session.execute(delete(Measurement))
        db.session.execute(delete(IngestedMessage))
        db.session.delete(device)
        db.session.flush()
        db.session.add(Device(**fields, status="unknown"))
    publish(broker, [(topic_of("garbage_bin-02"), event("reading", key_of="garbage_bin-02", readings={"fill_pct": 99}))])
    wait_ingested(ingest, 2)
    assert alarm_of("garbage_bin-02", "full").status == "active" and count(DeadLetter) == 0
