"""Reading task rows: the queries several places share (the inbox, the API, the shell, the
workflow layer), written once."""
from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from extensions import db
from handlers.vocabulary import Role, StepKind, TaskStatus
from models import Task, User, utcnow


def workable_tasks_query(user: User, *, mine: bool = False, grid_id: int | None = None,
                         overdue: bool = False) -> Select:
    """Open tasks the user may work: their role, their grids (or their community's
    unassigned queue), not held by someone else; soonest deadline first."""
    # Dispatchers also take the ratings of residents who reported by phone.
    roles = [user.role] + ([Role.REPORTER] if user.role == Role.DISPATCHER else [])
    where = [Task.status == TaskStatus.OPEN, Task.role.in_(roles),
             or_(Task.assignee_id.is_(None), Task.assignee_id == user.id)]
    place = [Task.grid_id.in_(user.grid_ids or [-1])]
    if user.community_id is not None:
        place.append(and_(Task.grid_id.is_(None), Task.community_id == user.community_id))
    where.append(or_(*place))
    if user.role == Role.DEPARTMENT:
        where.append(or_(Task.department.is_(None), Task.department == user.department))
    if mine:
        where.append(Task.assignee_id == user.id)
    if grid_id is not None:
        where.append(Task.grid_id == grid_id)
    if overdue:
        where.append(Task.due_at < utcnow())
    return select(Task).where(*where).order_by(Task.due_at.is_(None), Task.due_at, Task.id)


def open_tasks_of_case(case_id: int, *, fresh: bool = False) -> list[Task]:
    """The case's open task rows, oldest first; ``fresh`` reloads rows the session holds
    (after the case row was locked, so another unit of work's changes are seen)."""
    query = select(Task).where(Task.case_id == case_id, Task.status == TaskStatus.OPEN).order_by(Task.id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def open_rating_task_id(case_id: int) -> int | None:
    """The id of the case's open task waiting for its reporter's rating, if any."""
    return db.session.scalar(select(Task.id).where(
        Task.case_id == case_id, Task.role == Role.REPORTER, Task.status == TaskStatus.OPEN)
        .order_by(Task.id).limit(1))


def tasks_of_case(case_id: int) -> list[Task]:
    """Every task row of a case, open and finished, in the order they were created."""
    return list(db.session.scalars(select(Task).where(Task.case_id == case_id).order_by(Task.id)))


def response_due_at(case_id: int):
    """When the case had to be accepted: the deadline of its first acceptance step, set from
    the SLA table's response limit (None for a process without one)."""
    return db.session.scalar(select(Task.due_at).where(Task.case_id == case_id, Task.step_kind == StepKind.ACCEPT)
                             .order_by(Task.id).limit(1))
