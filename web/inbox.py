"""The task inbox (/inbox): what is mine and what I may claim, new tasks without a reload;
claiming, handing back and completing a task with its form (/tasks/<id>)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from extensions import db
from forms.tasks import UnknownForm, load_form
from handlers.alarms import alarm_of_case
from handlers.numbers import whole_number
from handlers.vocabulary import TaskStatus
from models import Case, CaseEvent, Grid, Photo, Task
from web.access import caller_scope, requires
from web.case_labels import ROLES, STATUSES, STEPS, PageWords, label, page_helpers
from web.case_queries import INBOX_LIMIT, inbox_rows, inbox_signature, with_grid_ids
from web.task_forms import MAX_PHOTOS, form_choices, keep_uploads, uploaded_files, web_task_form
from workflows import Conflict, Forbidden, Invalid, claim_task, complete_task, unclaim_task
from workflows.tasks import citable_photo_ids, eligibility_problem

inbox_bp = Blueprint("inbox", __name__)
inbox_bp.context_processor(page_helpers)
# Seconds between two looks for new tasks (the page polls; see static/inbox.js).
POLL_SECONDS = 5


@inbox_bp.before_app_request
def _request_start():
    """Looking for new tasks is not user activity: the idle-session clock must keep running.
    Runs before the access guard (blueprints are registered before it) and remembers when the
    user last really acted, so ``updates`` can put it back after the guard refreshed it.
    (``g`` starts empty for every request: see web.app.)"""
    if request.endpoint == "inbox.updates":
        g.last_activity = session.get("seen")


@inbox_bp.get("/inbox")
@login_required
@requires("tasks.work")
def inbox():
    rows = inbox_rows(with_grid_ids(current_user))
    mine = [r for r in rows if r.task.assignee_id == current_user.id]
    claimable = [r for r in rows if r.task.assignee_id is None]
    count, newest, _fresh = inbox_signature(current_user) if len(rows) >= INBOX_LIMIT else (
        len(rows), max((r.task.id for r in rows), default=0), 0)
    context = {"mine": mine, "claimable": claimable, "count": count, "newest": newest,
               "truncated": len(rows) >= INBOX_LIMIT, "limit": INBOX_LIMIT}
    if request.args.get("fragment") == "1":
        return render_template("inbox/_tasks.html", **context)
    return render_template("inbox/index.html", poll_seconds=POLL_SECONDS, **context)


@inbox_bp.get("/inbox/updates")
@login_required
@requires("tasks.work")
def updates():
    """The inbox's signature for the page's poll: it reloads the list when this changes."""
    since = request.args.get("since", "0")
    count, newest, fresh = inbox_signature(with_grid_ids(current_user),
                                           whole_number(since, 10**11) or 0)
    if "last_activity" in g:
        session["seen"] = g.last_activity
    return jsonify({"count": count, "newest": newest, "fresh": fresh})


@inbox_bp.post("/tasks/<int:task_id>/claim")
@login_required
@requires("tasks.work")
def claim(task_id: int):
    task = claim_task(task_id, current_user)
    flash(_("You took this task: %(step)s.", step=_step(task)))
    return redirect(url_for("inbox.task_page", task_id=task.id), 303)


@inbox_bp.post("/tasks/<int:task_id>/unclaim")
@login_required
@requires("tasks.work")
def unclaim(task_id: int):
    task = unclaim_task(task_id, current_user)
    flash(_("Handed back: %(step)s is open to your colleagues again.", step=_step(task)))
    return redirect(url_for("inbox.inbox"), 303)


@inbox_bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
@requires("tasks.work")
def task_page(task_id: int):
    task = db.session.get(Task, task_id)
    if task is None or not caller_scope().covers_case(task.case):
        abort(404)  # a task out of the caller's scope does not exist for them
    case = task.case
    if task.status != TaskStatus.OPEN:
        flash(_("This task is finished already; here is its case."))
        return redirect(url_for("case_pages.show", ref=case.ref), 303)
    problem = eligibility_problem(with_grid_ids(current_user), task, case)
    if problem:
        raise Forbidden(problem)
    try:
        load_form(task.form_key)
    except UnknownForm as exc:
        # A process deployed without lint names a form nobody declared: say so, do not guess.
        raise Invalid(str(exc)) from None
    if request.method == "POST":
        return _complete(task, case)
    return _task_view(task, case, web_task_form(task.form_key))


def _complete(task: Task, case: Case):
    data = request.form.copy()  # mutable: the photo field is completed below
    problems: list[str] = []
    photo_field = _photo_field(task)
    if photo_field:
        # Photos named by an earlier attempt are checked with the rest of the data, by the one
        # rule of the API and the pages (workflows.tasks.attach_cited_photos): a 422 says why.
        kept = [i for i in dict.fromkeys(data.getlist(photo_field)) if i][:MAX_PHOTOS]
        new, problems = keep_uploads(uploaded_files(request.files.getlist("photo_files")), current_user, case)
        data.setlist(photo_field, kept + new)
    form = web_task_form(task.form_key, data)
    valid = form.validate()
    if problems and photo_field:
        form.errors[photo_field] = list(form.errors.get(photo_field, [])) + problems
    if not valid or problems:
        return _task_view(task, case, form, 422)
    try:
        case = complete_task(task.id, current_user, data, expected_version=_version(data.get("version")))
    except Invalid as exc:
        for name, message in exc.details.items():
            if form.spec.field(name) is None:
                form.form_errors.append(message)
            else:
                form.errors[name] = [*form.errors.get(name, []), message]
        return _task_view(task, case, form, 422)
    except Conflict as exc:
        db.session.rollback()
        flash(_("Someone changed this case meanwhile: %(why)s", why=exc.message))
        fresh = db.session.get(Task, task.id)
        if fresh is None or fresh.status != TaskStatus.OPEN:
            return redirect(url_for("case_pages.show", ref=case.ref), 303)
        return _task_view(fresh, fresh.case, form, 409)
    flash(_("Done. The case is now: %(status)s.", status=label(STATUSES, case.status)))
    return redirect(url_for("case_pages.show", ref=case.ref), 303)


def _photo_field(task: Task) -> str | None:
    """The name of the task form's photo field (uploads on the page go into it), if any."""
    return next((f.name for f in load_form(task.form_key).fields if f.widget == "photos"), None)


def _version(raw: str | None) -> int | None:
    return whole_number(raw, 10**9)


def _step(task: Task) -> str:
    return label(STEPS, task.step_kind) or task.name


def _task_view(task: Task, case: Case, form, status: int = 200):
    words = PageWords()
    photo_ids = [i for f in form.spec.fields if f.widget == "photos" for i in (form.value(f.name) or [])]
    shown = citable_photo_ids(photo_ids, case, current_user.id)
    photos = list(db.session.scalars(select(Photo).where(Photo.id.in_(shown)))) if shown else []
    grids = list(db.session.scalars(select(Grid).where(Grid.community_id == case.community_id)
                                    .order_by(Grid.code))) if any(f.choices == "grids" for f in form.spec.fields) else []
    events = list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed").order_by(CaseEvent.id.desc()).limit(3)))
    return render_template(
        "inbox/task.html", task=task, case=case, form=form, photos=photos, grids=grids, notes=_notes(events),
        held_by_other=task.assignee_id not in (None, current_user.id),
        choices=form_choices(words, ROLES, grids),
        alarm=alarm_of_case(case.id) if case.device_id is not None else None), status


def _notes(events: list[CaseEvent]) -> list[tuple[CaseEvent, str]]:
    """The texts the last steps wrote (their forms' text areas), for the colleague who acts next."""
    notes = []
    for event in events:
        try:
            fields = load_form(event.task.form_key).fields if event.task is not None else ()
        except UnknownForm:
            fields = ()
        for key in [f.data_key for f in fields if f.widget == "textarea"]:
            text = (event.data or {}).get(key)
            if isinstance(text, str) and text.strip():
                notes.append((event, text))
    return notes
