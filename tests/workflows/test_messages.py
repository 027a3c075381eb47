"""告警自动消除: an 'alarm cleared' message closes a sensor case not yet dispatched."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import CaseEvent, Task
from tests.builders import accept_and_dispatch, new_case, open_bpmn_ids, work
from workflows import deliver_message
from workflows.runtime import Actor

DEVICE = Actor(label="device:smoke_detector-01")


def test_clear_before_acceptance_closes_the_case(demo):
    case = new_case("fire_smoke", source="sensor")
    assert deliver_message(case.id, "alarm_cleared", {"reading": "normal"}, DEVICE) is True
    db.session.rollback()
    assert case.status == "auto_closed" and case.closed_at is not None
    assert open_bpmn_ids(case) == []
    cancelled = db.session.scalars(select(Task.bpmn_id).where(Task.case_id == case.id,
                                                               Task.status == "cancelled")).all()
    assert cancelled == ["accept"]


def test_clear_after_acceptance_but_before_dispatch_closes_the_case(demo):
    case = new_case("fire_smoke", source="sensor")
    work(case, "accept", "dispatcher", accepted=True)
    assert deliver_message(case.id, "alarm_cleared", {}, DEVICE) is True
    db.session.rollback()
    assert case.status == "auto_closed"


def test_clear_after_dispatch_is_noted_for_the_verifier(demo):
    case = accept_and_dispatch(new_case("fire_smoke", source="sensor"), "fire")
    assert deliver_message(case.id, "alarm_cleared", {"at": "now"}, DEVICE) is False
    db.session.rollback()
    assert case.status == "disposing"
    note = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                     CaseEvent.kind == "note"))
    assert note.data["message"] == "alarm_cleared" and note.actor_label == DEVICE.label
