"""Shapes of cases, tasks and events as the API returns them."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from handlers.case_events import events_of_case
from handlers.grids import grid_code
from handlers.tasks import open_tasks_of_case, response_due_at
from models import Case, OrgUnit, Task, User


def _codes(model, ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.code).where(model.id.in_(ids))).all())


def _accounts(ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.account).where(User.id.in_(ids))).all())


def tasks_out(tasks: list[Task], refs: dict[int, str] | None = None) -> list[dict]:
    people = _accounts(t.assignee_id for t in tasks)
    return [{
        "id": t.id, "case_ref": (refs or {}).get(t.case_id), "name": t.name, "bpmn_id": t.bpmn_id,
        "step_kind": t.step_kind,
        "form_key": t.form_key, "role": t.role, "department": t.department,
        "grid": grid_code(t.grid_id), "assignee": people.get(t.assignee_id),
        "due_at": t.due_at, "created_at": t.created_at,
    } for t in tasks]


def open_tasks(case: Case) -> list[Task]:
    """The case's open tasks: as the last unit of work left them, or read from the database."""
    if case.open_task_rows is not None:
        return case.open_task_rows
    return open_tasks_of_case(case.id)


def case_created(case: Case, tasks: list[Task]) -> dict:
    grid = grid_code(case.grid_id)
    return {"ref": case.ref, "status": case.status, "grid": grid, "due_at": case.due_at,
            "tasks": tasks_out(tasks, {case.id: case.ref})}


def case_out(case: Case) -> dict:
    events = events_of_case(case.id)
    people = _accounts(e.actor_id for e in events)
    community = _codes(OrgUnit, [case.community_id]).get(case.community_id)
    return {
        "ref": case.ref, "category": case.category, "severity": case.severity,
        "status": case.status, "source": case.source, "title": case.title,
        "description": case.description, "community": community,
        "grid": grid_code(case.grid_id), "lat": case.lat, "lon": case.lon,
        "address": case.address, "department": case.department, "escalated": case.escalated,
        "rework_count": case.rework_count, "opened_at": case.opened_at, "due_at": case.due_at,
        # What the process's decision tables chose for this case, as the case runs on them.
        "routing": {"handler_role": case.handler_role, "department": case.department},
        "deadlines": {"response_due_at": response_due_at(case.id), "dispose_due_at": case.due_at},
        "closed_at": case.closed_at, "version": case.version,
        "tasks": tasks_out(open_tasks(case), {case.id: case.ref}),
        "events": [{"at": e.at, "kind": e.kind, "actor": people.get(e.actor_id) or e.actor_label,
                    "task_id": e.task_id, "step_kind": e.step_kind, "data": e.data} for e in events],
    }
