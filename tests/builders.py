"""Builders of test data: cases at known places, and walking a case through its tasks."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import Case, Task, User
from workflows import complete_task, open_case
from workflows.cases import CaseRequest

# Inside grid JX-01 (lon 120.100-120.110) and inside CY-02 (lon 120.140-120.150).
IN_JX01 = (30.275, 120.105)
IN_CY02 = (30.275, 120.145)
OUTSIDE = (30.300, 120.105)  # north of every grid


def account(name: str) -> User:
    return db.session.scalar(select(User).where(User.account == name))


def new_case(category: str = "manhole_tilt", at=IN_JX01, source: str = "resident", **kw) -> Case:
    lat, lon = at
    return open_case(CaseRequest(category=category, lat=lat, lon=lon, source=source,
                                 description=kw.pop("description", "test case"), **kw))


def open_task(case: Case, bpmn_id: str) -> Task:
    db.session.rollback()
    task = db.session.scalar(select(Task).where(
        Task.case_id == case.id, Task.bpmn_id == bpmn_id, Task.status == "open"))
    assert task is not None, f"no open {bpmn_id} task on {case.ref}: {open_bpmn_ids(case)}"
    return task


def open_bpmn_ids(case: Case) -> list[str]:
    return sorted(db.session.scalars(select(Task.bpmn_id).where(
        Task.case_id == case.id, Task.status == "open")))


def work(case: Case, bpmn_id: str, who: str, **data) -> Case:
    return complete_task(open_task(case, bpmn_id).id, account(who), data)


def accept_and_dispatch(case: Case, department: str = "municipal") -> Case:
    work(case, "accept", "dispatcher", accepted=True)
    return work(case, "dispatch", "dispatcher", department=department, note="请尽快处理")
