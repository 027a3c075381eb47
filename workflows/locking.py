"""One writer per case: a row lock on PostgreSQL; SQLite serialises writers itself.

SQLite transactions start with BEGIN IMMEDIATE (see ``web.app``'s engine set-up), so a
second writer waits for the first to commit and then sees its result.
"""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from handlers.tasks import open_tasks_of_case
from models import Case, Task
from workflows.errors import NotFound


def lock_case(case_id: int) -> Case:
    case = db.session.scalars(
        select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def lock_task(task_id: int) -> tuple[Task, Case, list[Task]]:
    """The task, its case (locked) and the case's open tasks, read after the lock (another
    writer may have finished the task meanwhile). Raises NotFound.

    The tasks are read by a statement of their own: on PostgreSQL a row lock that waited
    re-reads only the locked row, so tasks joined to it would come from the old snapshot."""
    case_of_task = select(Task.case_id).where(Task.id == task_id).scalar_subquery()
    case = db.session.scalars(
        select(Case).where(Case.id == case_of_task)
        .with_for_update().execution_options(populate_existing=True)
    ).first()
    if case is None:
        raise NotFound(f"task {task_id} does not exist")
    open_rows = open_task_rows(case.id)
    task = next((row for row in open_rows if row.id == task_id), None)
    if task is None:
        task = db.session.scalars(
            select(Task).where(Task.id == task_id).execution_options(populate_existing=True)).one()
    return task, case, open_rows


def open_task_rows(case_id: int) -> list[Task]:
    """The case's open task rows as the database has them now (the case row is locked)."""
    return open_tasks_of_case(case_id, fresh=True)
