"""SLA escalation: the timer job at the due time, and the sweep for lost jobs.

Time is moved with time-machine; nothing sleeps.
"""
from __future__ import annotations

from datetime import timedelta

import time_machine
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from extensions import db, redis
from models import Case, CaseEvent
from tests.builders import accept_and_dispatch, new_case, open_bpmn_ids, open_task, work
from workflows import fire_due_timers, sweep_timers
from workflows.timers import schedule_timer


def test_dispose_timer_is_scheduled_as_an_rq_job_at_the_due_time(demo):
    case = accept_and_dispatch(new_case("manhole_tilt"))
    assert case.next_timer_at == case.due_at
    registry = ScheduledJobRegistry(queue=redis.queue("timers"))
    job_ids = registry.get_job_ids()
    assert len(job_ids) == 1
    job = redis.queue("timers").fetch_job(job_ids[0])
    assert job.func_name == "workflows.timers.fire_due_timers" and job.args == (case.id,)
    assert registry.get_scheduled_time(job) == case.due_at.replace(microsecond=0)


def test_timer_escalates_to_the_supervisor_without_interrupting_disposal(demo):
    case = accept_and_dispatch(new_case("manhole_tilt"))
    assert fire_due_timers(case.id) is False  # not due yet: a stale or early job does nothing
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert fire_due_timers(case.id) is True
    db.session.rollback()
    case = db.session.get(Case, case.id)
    assert case.escalated and case.status == "disposing"
    assert open_bpmn_ids(case) == ["dispose", "escalate"]
    escalate = open_task(case, "escalate")
    assert escalate.role == "supervisor" and escalate.grid_id == case.grid_id
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.kind == "escalated"))
    assert event.actor_label == "timer"
    # The supervisor acts; the grid worker still finishes the disposal.
    work(case, "escalate", "supervisor", action="urged", note="请今天内完成")
    case = work(case, "dispose", "gw01", result="resolved", note="完成")
    assert open_bpmn_ids(case) == ["verify"]


def test_the_job_runs_from_the_queue(demo):
    case = accept_and_dispatch(new_case("manhole_tilt"))
    registry = ScheduledJobRegistry(queue=redis.queue("timers"))
    job = redis.queue("timers").fetch_job(registry.get_job_ids()[0])
    with time_machine.travel(case.due_at + timedelta(seconds=5), tick=False):
        job.perform()
    db.session.rollback()
    assert db.session.get(Case, case.id).escalated


def test_sweep_fires_a_timer_whose_job_was_lost(demo):
    case = accept_and_dispatch(new_case("manhole_tilt"))
    other = accept_and_dispatch(new_case("repair"), "property")  # due later: 48 h
    redis.client.delete(*redis.client.keys(f"*{redis.queue_prefix}*"))  # the jobs are gone
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert sweep_timers() == 1
        assert sweep_timers() == 0  # fired once; nothing left due
    db.session.rollback()
    assert db.session.get(Case, case.id).escalated
    assert not db.session.get(Case, other.id).escalated


def test_rework_after_the_deadline_escalates_again_at_once(demo):
    case = accept_and_dispatch(new_case("manhole_tilt"))
    with time_machine.travel(case.due_at + timedelta(hours=1), tick=False):
        fire_due_timers(case.id)
        work(case, "escalate", "supervisor", action="urged", note="督办")
        work(case, "dispose", "gw01", result="resolved", note="完成")
        case = work(case, "verify", "dispatcher", passed=False, note="未完成")
        # The deadline has passed: the re-armed timer fires in the same engine run.
        assert open_bpmn_ids(case) == ["dispose", "escalate"]
        assert case.next_timer_at is None
    escalations = db.session.scalars(select(CaseEvent.kind).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "escalated")).all()
    assert len(escalations) == 2


def test_redis_down_leaves_the_timer_to_the_sweep(demo, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def refuse(*a, **kw):
        raise RedisConnectionError("refused")

    monkeypatch.setattr(type(redis.queue("timers")), "enqueue_at", refuse)
    case = accept_and_dispatch(new_case("manhole_tilt"))  # the case still commits
    schedule_timer(case.id, case.due_at)  # logs, does not raise
    monkeypatch.undo()
    assert ScheduledJobRegistry(queue=redis.queue("timers")).get_job_ids() == []  # no job at all
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert sweep_timers() == 1
    db.session.rollback()
    assert db.session.get(Case, case.id).escalated
