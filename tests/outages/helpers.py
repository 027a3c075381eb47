"""Builders shared by the outage tests."""
from __future__ import annotations

import time
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from extensions import db
from models import Case, CaseEvent, utcnow
from tests.builders import accept_and_dispatch, new_case

# Cases are opened this long ago, so their SLA timer is already due when the test runs.
AGO = timedelta(days=40)


def due_case() -> Case:
    """A dispatched case whose disposal deadline has passed (opened AGO, in the test process)."""
    with time_machine.travel(utcnow() - AGO, tick=True):
        case = accept_and_dispatch(new_case("manhole_tilt"))
    assert case.next_timer_at is not None and case.next_timer_at < utcnow()
    return case


def escalations(case: Case) -> int:
    """How many times the case's SLA timer escalated it, as committed now."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "escalated"))


def wait_until(condition, services, timeout: float, what: str) -> None:
    """Poll ``condition`` (on a fresh view of the database); every service must stay alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if condition():
            return
        assert all(services.alive().values()), (services.alive(), services.log("worker")[-3000:],
                                                services.log("scheduler")[-3000:])
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{services.log('worker')[-3000:]}\n"
                         f"{services.log('scheduler')[-3000:]}")
