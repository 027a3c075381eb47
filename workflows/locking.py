"""One writer per case: a row lock on PostgreSQL; SQLite serialises writers itself.

SQLite transactions start with BEGIN IMMEDIATE (see ``web.app``'s engine set-up), so a
second writer waits for the first to commit and then sees its result.
"""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import Case, Task
from workflows.errors import NotFound


def lock_case(case_id: int) -> Case:
    case = db.session.scalars(
        select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def lock_task(task_id: int) -> Task:
    """The task and its case, with the case locked; raises NotFound."""
    case_id = db.session.scalar(select(Task.case_id).where(Task.id == task_id))
    if case_id is None:
        raise NotFound(f"task {task_id} does not exist")
    lock_case(case_id)
    # Re-read after the lock: another writer may have finished it meanwhile.
    return db.session.scalars(
        select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    ).one()


def open_task_rows(case_id: int) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.case_id == case_id, Task.status == "open")))
