"""Working a task: who may, claiming it, and completing it under the case lock."""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.task import TaskState
from sqlalchemy import false, or_, select
from sqlalchemy.orm.exc import StaleDataError

from extensions import db
from forms.tasks import UnknownForm, task_form
from handlers.scopes import scope_of_user
from handlers.tasks import open_rating_task_id
from handlers.vocabulary import Role, TaskStatus
from models import Case, Photo, Task, User, transaction, utcnow
from workflows.cases import case_by_ref, grid_by_code
from workflows.errors import Conflict, Forbidden, Invalid, NotFound
from workflows.locking import lock_task
from workflows.runtime import Actor, EngineRun, record, sync_case
from workflows.specs import restore_case_workflow

# The resident who reported a case, proven by tracking number and phone rather than an account.
REPORTER = Actor(label=Role.REPORTER.value)


def eligibility_problem(user: User, task: Task, case: Case | None = None) -> str | None:
    """Why ``user`` may not work ``task``, or None when they may."""
    if task.role == Role.REPORTER:
        case = case or task.case
        if case.reporter_id is not None and case.reporter_id == user.id:
            return None
        if user.role != Role.DISPATCHER:
            return "this feedback belongs to the reporter or a dispatcher"
    elif user.role != task.role:
        return f"this task is for the role {task.role}, you are {user.role}"
    if task.department and user.role == Role.DEPARTMENT and user.department != task.department:
        return f"this task is for the department {task.department}"
    if task.grid_id is None:
        if user.community_id != task.community_id:
            return "this task belongs to another community"
    elif task.grid_id not in user.grid_ids:
        return "this task is in a grid you do not work"
    return None


def _check_workable(user: User, task: Task, case: Case) -> None:
    # A task of a case out of the caller's scope does not exist for them (not 403: the
    # answer must not confirm that it exists).
    if not scope_of_user(user).covers_case(case):
        raise NotFound(f"task {task.id} does not exist")
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task.id} is {task.status}, not open: reload the case")
    problem = eligibility_problem(user, task, case)
    if problem:
        raise Forbidden(problem)
    if task.assignee_id is not None and task.assignee_id != user.id:
        raise Conflict(f"task {task.id} is claimed by {task.assignee.name}")


def claim_task(task_id: int, user: User) -> Task:
    """Take a task for yourself. Raises NotFound, Forbidden, Conflict (held by someone else)."""
    with transaction():
        task, case, _ = lock_task(task_id)
        _check_workable(user, task, case)
        if task.assignee_id != user.id:
            task.assignee_id = user.id
            record(case, "claimed", Actor(user), task=task, data={"bpmn_id": task.bpmn_id})
    return task


def unclaim_task(task_id: int, user: User) -> Task:
    """Hand a claimed task back to the pool of its role and grid."""
    with transaction():
        task, case, _ = lock_task(task_id)
        _check_workable(user, task, case)
        if task.assignee_id is None:
            raise Conflict(f"task {task_id} is not claimed")
        task.assignee_id = None
        record(case, "unclaimed", Actor(user), task=task, data={"bpmn_id": task.bpmn_id})
    return task


def complete_task(task_id: int, user: User, data: dict, expected_version: int | None = None) -> Case:
    """Complete a task with its form data and run the case on to its next wait.

    Raises NotFound, Forbidden, Conflict (not open, someone else's, or the case changed
    since ``expected_version``) and Invalid (the form data, field by field).
    """
    return _complete(task_id, data, Actor(user), lambda task, case: _check_workable(user, task, case),
                     expected_version)


def complete_feedback_as_reporter(case_ref: str, data: dict) -> Case:
    """Rate a case for its reporter who has no account here: the caller has checked who they
    are (tracking number and phone). Completes the case's open feedback task as "reporter".

    Raises NotFound (no such case), Conflict (not waiting for a rating) and Invalid."""
    case = case_by_ref(case_ref)
    if case is None:
        raise NotFound(f"no case {case_ref}")
    task_id = open_rating_task_id(case.id)
    if task_id is None:
        raise Conflict(f"case {case_ref} is not waiting for a rating")
    return _complete(task_id, data, REPORTER, _check_reporter_task)


def _check_reporter_task(task: Task, case: Case) -> None:
    if task.status != TaskStatus.OPEN or task.role != Role.REPORTER:
        raise Conflict(f"case {case.ref} is not waiting for a rating any more: reload it")


def _complete(task_id: int, data: dict, actor: Actor, check, expected_version: int | None = None) -> Case:
    try:
        with transaction():
            task, case, open_rows = lock_task(task_id)
            check(task, case)
            if expected_version is not None and expected_version != case.version:
                raise Conflict(f"case {case.ref} changed (version {case.version}, you had "
                               f"{expected_version}): reload it")
            try:
                form = task_form(task.form_key, data)
            except UnknownForm as exc:
                # The process names a form nobody declared: lint refuses such a file.
                raise Invalid(f"task {task_id} has no usable form: {exc}") from None
            if not form.validate():
                errors = {name: "; ".join(msgs) for name, msgs in form.errors.items()}
                if form.form_errors:
                    errors["data"] = "; ".join(form.form_errors)
                raise Invalid("the task data is not valid: " + "; ".join(
                    f"{k}: {v}" for k, v in errors.items()), details=errors)
            values = form.task_data()
            public = form.public_data()
            attach_cited_photos(case, values, actor.user_id)
            _apply_grid_choice(case, values)
            workflow = restore_case_workflow(case)
            spiff_task = workflow.get_task_from_id(UUID(task.engine_task_id))
            if spiff_task.state != TaskState.READY:
                raise Conflict(f"task {task_id} is no longer ready: reload the case")
            spiff_task.data.update(values)
            spiff_task.run()
            run = EngineRun()
            run.run(workflow)
            task.status, task.completed_at, task.completed_by_id = TaskStatus.DONE, utcnow(), actor.user_id
            task.assignee_id = task.assignee_id or actor.user_id
            # What the resident may read of this step travels with the event, as the form
            # declared it (``x-public``): the tracking page shows nothing else.
            record(case, "task_completed", actor, task=task,
                   data={"bpmn_id": task.bpmn_id, **values, "public": public})
            sync_case(case, workflow, actor, run, open_rows)
    except StaleDataError:
        raise Conflict("the case was changed by someone else at the same time: reload it") from None
    return case


def _apply_grid_choice(case: Case, values: dict) -> None:
    """A dispatcher may move a case (e.g. from the unassigned queue) to a grid."""
    code = values.pop("grid_code", None)
    if not code:
        return
    grid = grid_by_code(code)
    if grid is None or grid.community_id != case.community_id:
        raise Invalid(f"unknown grid {code!r} in this community", details={"grid": "unknown grid"})
    case.grid_id = grid.id
    values["grid_id"] = grid.id


# Task data cites photos under these keys (the dispose form's "photos"; "*_photos" for others).
PHOTO_KEY_SUFFIX = "photos"
PHOTO_NOT_OF_CASE = "a photo belongs to another case: upload it again for this one"


def citable_photo_ids(ids: list[str], case: Case, user_id: int | None) -> set[str]:
    """Those of ``ids`` a task of ``case`` may cite: the case's own photos, and photos the
    user uploaded that no case cites yet."""
    wanted = [i for i in ids if isinstance(i, str) and i]
    if not wanted:
        return set()
    own = Photo.case_id.is_(None) & (Photo.uploaded_by_id == user_id) if user_id is not None else false()
    return set(db.session.scalars(select(Photo.id).where(
        Photo.id.in_(wanted), or_(Photo.case_id == case.id, own))))


def attach_cited_photos(case: Case, values: dict, user_id: int | None) -> None:
    """Check the photo ids the task data cites, the one check of the API and the pages, and
    attach the newly uploaded ones to the case. Raises Invalid (422) naming the field when
    a photo is another case's, or someone else's not yet cited."""
    for key, ids in values.items():
        if not key.endswith(PHOTO_KEY_SUFFIX) or not isinstance(ids, list) or not ids:
            continue
        allowed = citable_photo_ids(ids, case, user_id)
        foreign = [i for i in ids if i not in allowed]
        if foreign:
            raise Invalid(f"photo {str(foreign[0])[:32]} cannot be cited by case {case.ref}: it belongs to "
                          "another case or was uploaded by someone else; upload it for this case",
                          details={key: PHOTO_NOT_OF_CASE})
        for photo in db.session.scalars(select(Photo).where(Photo.id.in_(ids), Photo.case_id.is_(None))):
            photo.case_id = case.id
