"""Tasks: the caller's workable tasks, claim, hand back, complete."""
from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from extensions import db
from handlers.tasks import workable_tasks_query
from models import Case, Grid, Task
from web.api import BadBody, api_bp, parse_body
from web.api.openapi import documented
from web.api.present import case_created, open_tasks, tasks_out
from web.api.schemas import CaseStateOut, CompleteIn, TaskList, TaskOut
from workflows import claim_task, complete_task, unclaim_task


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes"}


@api_bp.get("/tasks")
@documented("Open tasks the caller may work", response=TaskList, errors=(400,), tag="tasks",
            query={"mine": "1: only tasks I claimed", "grid": "a grid code",
                   "overdue": "1: only tasks past their deadline", "limit": "at most 500"})
def list_tasks():
    grid_id = None
    if request.args.get("grid"):
        grid_id = db.session.scalar(select(Grid.id).where(Grid.code == request.args["grid"]))
        if grid_id is None:
            raise BadBody(400, "bad_request", f"unknown grid {request.args['grid']!r}")
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 500)
    except ValueError:
        raise BadBody(400, "bad_request", "limit must be a whole number") from None
    query = workable_tasks_query(g.user, mine=_flag("mine"), grid_id=grid_id, overdue=_flag("overdue"))
    tasks = list(db.session.scalars(query.limit(limit)))
    refs = dict(db.session.execute(
        select(Case.id, Case.ref).where(Case.id.in_({t.case_id for t in tasks} or {-1}))).all())
    return jsonify({"items": tasks_out(tasks, refs)})


def _task_answer(task: Task):
    return jsonify(tasks_out([task], {task.case_id: task.case.ref})[0])


@api_bp.post("/tasks/<int:task_id>/claim")
@documented("Claim a task", response=TaskOut, errors=(403, 404, 409), tag="tasks")
def claim(task_id: int):
    return _task_answer(claim_task(task_id, g.user))


@api_bp.post("/tasks/<int:task_id>/unclaim")
@documented("Hand a claimed task back", response=TaskOut, errors=(403, 404, 409), tag="tasks")
def unclaim(task_id: int):
    return _task_answer(unclaim_task(task_id, g.user))


@api_bp.post("/tasks/<int:task_id>/complete")
@documented("Complete a task with its form data", body=CompleteIn, response=CaseStateOut,
            errors=(400, 403, 404, 409, 422), tag="tasks")
def complete(task_id: int):
    """Runs under the case lock. 409 when the task is not open, is someone else's, or the
    case changed since ``version``; 422 names each invalid field."""
    body = parse_body(CompleteIn)
    case = complete_task(task_id, g.user, body.data, expected_version=body.version)
    answer = case_created(case, open_tasks(case))
    return jsonify({"ref": answer["ref"], "status": answer["status"], "version": case.version,
                    "tasks": answer["tasks"]})
