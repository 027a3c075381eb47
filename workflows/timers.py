"""SLA timers: an RQ job at each due time, and a sweep for jobs that were lost.

SpiffWorkflow fires nothing by itself: a job reloads the case, refreshes its timers and runs
the engine. Jobs are scheduled only after the transaction that set the due time commits
(``models.after_commit``, called by ``workflows.runtime.sync_case``).
"""
from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import select

from extensions import db, redis
from models import Case, transaction, utcnow
from workflows.locking import lock_case, open_task_rows
from workflows.runtime import Actor, EngineRun, sync_case
from workflows.specs import restore_case_workflow

log = logging.getLogger(__name__)
TIMER = Actor(label="timer")


def schedule_timer(case_id: int, due: datetime) -> None:
    """Enqueue ``fire_due_timers`` at ``due``; a Redis failure is left to the sweep."""
    try:
        redis.queue("timers").enqueue_at(
            due, fire_due_timers, case_id,
            job_id=f"timer-{case_id}-{int(due.timestamp())}", result_ttl=3600,
        )
    except RedisError as exc:
        log.warning("timer of case %s not scheduled (%s); the sweep will fire it", case_id, exc)


def fire_due_timers(case_id: int) -> bool:
    """Fire the case's timers that are due; True when anything fired. Idempotent."""
    with transaction():
        case = lock_case(case_id)
        if case.next_timer_at is None or case.next_timer_at > utcnow():
            return False
        workflow = restore_case_workflow(case)
        run = EngineRun()
        # A fired boundary timer becomes READY on refresh and runs on the next engine pass.
        for _ in range(2):
            workflow.refresh_timers()
            run.run(workflow)
        sync_case(case, workflow, TIMER, run, open_task_rows(case.id))
    return bool(run.fired)


def sweep_timers(limit: int = 500) -> int:
    """Fire every timer that is due, whether or not its job survived; returns how many cases."""
    due_ids = list(db.session.scalars(
        select(Case.id).where(Case.next_timer_at <= utcnow()).order_by(Case.next_timer_at).limit(limit)
    ))
    db.session.rollback()
    for case_id in due_ids:
        fire_due_timers(case_id)
    return len(due_ids)
