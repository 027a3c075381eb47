"""Two people complete the same task at once: one wins, the other gets a clear conflict."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from extensions import db
from models import CaseEvent, Task
from tests.builders import account, new_case, open_task
from workflows import Conflict, complete_task


def test_two_threads_completing_one_task(demo):
    app = demo
    case = new_case("repair")
    task_id = open_task(case, "accept").id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(name: str):
        with app.app_context():
            user = account("dispatcher")
            barrier.wait()
            try:
                complete_task(task_id, user, {"accepted": True, "note": name})
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(f"conflict: {exc.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=complete, args=(f"t{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[1] == "ok" and outcomes.count("ok") == 1, outcomes
    assert "not open" in sorted(outcomes)[0]
    db.session.rollback()
    completed = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed"))
    dispatch = db.session.scalar(select(func.count()).select_from(Task).where(
        Task.case_id == case.id, Task.bpmn_id == "dispatch"))
    assert (completed, dispatch) == (1, 1)


def test_a_stale_version_is_refused(demo):
    case = new_case("repair")
    seen = case.version
    task = open_task(case, "accept")
    complete_task(task.id, account("dispatcher"), {"accepted": True})
    dispatch = open_task(case, "dispatch")
    try:
        complete_task(dispatch.id, account("dispatcher"),
                      {"department": "property", "note": "x"}, expected_version=seen)
    except Conflict as exc:
        assert "changed" in exc.message
    else:
        raise AssertionError("a stale version was accepted")
