"""The case page (/cases/<ref>: facts, timeline, photos, map, process diagram) and the case
board of dispatchers and supervisors (/board: filters, search, counts per status)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import partial

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import BooleanField, DateField, Form, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from extensions import db
from handlers.alarms import alarm_of_case
from handlers.case_events import events_of_case
from handlers.catalogue import categories
from handlers.tasks import tasks_of_case
from handlers.vocabulary import CaseStatus, TaskStatus
from models import CaseEvent, Grid, OrgUnit, Photo, User, transaction
from residents.progress import public_texts
from web.access import caller_scope, requires
from web.case_labels import (
    ESCALATION_ACTIONS,
    RESULTS,
    ROLES,
    SATISFACTION,
    STATUSES,
    PageWords,
    community_zone,
    label,
    page_helpers,
)
from web.case_queries import (
    BIG_COUNT_SECONDS,
    BoardFilters,
    board_grids,
    board_page,
    parse_search,
    status_counts,
)
from workflows.cases import case_by_ref
from workflows.deployments import case_diagram as case_diagram_of
from workflows.deployments import deployed_files
from workflows.tasks import eligibility_problem

case_pages_bp = Blueprint("case_pages", __name__)
case_pages_bp.context_processor(page_helpers)
NOTE_KEYS = ("accept_note", "dispatch_note", "dispose_note", "verify_note", "answer_note", "feedback_comment",
             "close_note", "escalation_note")
_PROCESS_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


@case_pages_bp.get("/cases/<ref>")
@login_required
@requires("cases.view")
def show(ref: str):
    case = case_by_ref(ref[:32])
    if case is None or not caller_scope().covers_case(case):
        abort(404)
    events = events_of_case(case.id)
    tasks = tasks_of_case(case.id)
    people = _names({e.actor_id for e in events} | {t.assignee_id for t in tasks})
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    # A photo is the case's once cited (workflows.tasks.attach_cited_photos): a page shows
    # only its own case's, whatever an event names.
    photos = list(db.session.scalars(select(Photo).where(Photo.case_id == case.id).order_by(Photo.uploaded_at)))
    grids = list(db.session.scalars(select(Grid).where(Grid.community_id == case.community_id)))
    return render_template(
        "cases/show.html", case=case, events=events, people=people, photos=photos,
        known_photos={p.id for p in photos}, open_tasks=open_tasks,
        workable={t.id for t in open_tasks if eligibility_problem(current_user, t, case) is None
                  and t.assignee_id in (None, current_user.id)},
        community=db.session.get(OrgUnit, case.community_id),
        grid=next((g for g in grids if g.id == case.grid_id), None),
        map_data=_map_data(case, grids),
        # Element ids, to mark the steps on the diagram (never to tell what a step means).
        current_steps=sorted({t.bpmn_id for t in open_tasks}),
        done_steps=sorted({t.bpmn_id for t in tasks if t.status == TaskStatus.DONE}),
        event_facts=partial(_event_facts, words=PageWords()),
        alarm=alarm_of_case(case.id) if case.device_id is not None else None)


def _names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _map_data(case, grids: list[Grid]) -> dict:
    """The community's grids as GeoJSON (the case's own marked) and the case's point."""
    return {
        "grids": {"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": g.boundary,
            "properties": {"code": g.code, "name": g.name, "own": g.id == case.grid_id},
        } for g in grids]},
        "point": [case.lat, case.lon] if case.lat is not None and case.lon is not None else None,
    }


def _event_facts(event: CaseEvent, words: PageWords) -> list[tuple[str, str]]:
    """What an event's data says, as (label, value) pairs in the page's language."""
    data, facts = event.data or {}, []
    if "accepted" in data:
        facts.append((_l("Accepted and filed"), _l("yes") if data["accepted"] else _l("no")))
    if data.get("department"):
        facts.append((_l("Department"), words.department(data["department"])))
    if data.get("dispose_result"):
        facts.append((_l("Result"), label(RESULTS, data["dispose_result"])))
    if "verified" in data:
        facts.append((_l("Verification"), _l("passed") if data["verified"] else _l("failed")))
    if data.get("satisfaction"):
        facts.append((_l("Satisfaction"), label(SATISFACTION, data["satisfaction"])))
    if data.get("escalation_action"):
        facts.append((_l("Measure"), label(ESCALATION_ACTIONS, data["escalation_action"])))
    if event.kind == "task_created" and data.get("role"):
        facts.append((_l("For"), label(ROLES, data["role"])))
    facts += [(_l("Note"), str(data[k])) for k in NOTE_KEYS if data.get(k)]
    if event.kind == "task_completed":
        # What the step's form declares public: what the resident reads.
        facts += [(_l("Reply to the resident"), text) for text in public_texts(event)]
    return [(str(name), str(value)) for name, value in facts]


@case_pages_bp.get("/cases/process/<process_id>.bpmn")
@login_required
@requires("cases.view")
def diagram(process_id: str):
    """The deployed BPMN file holding a process now (its current version)."""
    if not _PROCESS_ID.match(process_id):
        abort(404)
    marker = f'<bpmn:process id="{process_id}"'
    with transaction():  # the files of bpmn/ are deployed on first use
        xml = next((row.xml for row in deployed_files() if row.name.endswith(".bpmn") and marker in row.xml), None)
    if xml is None:
        abort(404)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=60"})


@case_pages_bp.get("/cases/<ref>/diagram.bpmn")
@login_required
@requires("cases.view")
def case_diagram(ref: str):
    """The BPMN file of the version the case runs on, for the diagram viewer of its page: a
    case opened before a deploy is drawn as it runs, not as the next case will."""
    case = case_by_ref(ref[:32])
    if case is None or not caller_scope().covers_case(case):
        abort(404)
    with transaction():
        xml, row = case_diagram_of(case)
    headers = {"Cache-Control": "private, max-age=300"}
    if row is not None:
        headers["X-Process-Version"] = f"{row.name} {row.version}"
    return Response(xml, mimetype="application/xml", headers=headers)


# --- the board -------------------------------------------------------------------------------

class BoardFilterForm(Form):
    q = StringField(_l("Search"), [Optional(), Length(max=100)])
    grid = SelectField(_l("Grid"), [Optional()])
    category = SelectField(_l("Category"), [Optional()])
    status = SelectField(_l("Status"), [Optional()])
    overdue = BooleanField(_l("Overdue only"))
    opened_from = DateField(_l("Opened from"), [Optional()])
    opened_to = DateField(_l("to"), [Optional()])
    page = IntegerField(_l("Page"), [Optional(), NumberRange(min=1, max=2000)])

    def validate_opened_to(self, field):
        if field.data and self.opened_from.data and field.data < self.opened_from.data:
            raise ValidationError(_l("The end date is before the start date."))


def _filter_form(grids: list) -> BoardFilterForm:
    form = BoardFilterForm(request.args)
    everything = ("", _l("All"))
    form.grid.choices = [everything] + [(g.code, f"{g.code} {g.name}") for g in grids]
    words = PageWords()
    form.category.choices = [everything] + sorted(((c, words.category(c)) for c in categories()),
                                                  key=lambda pair: pair[1])
    form.status.choices = [everything] + [(code, str(name)) for code, name in STATUSES.items() if code != CaseStatus.OPEN]
    return form


def _local_midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=community_zone())


def _filters(form: BoardFilterForm, grids: list) -> BoardFilters:
    by_code = {g.code: g.id for g in grids}
    return BoardFilters(
        grid_id=by_code.get(form.grid.data) if form.grid.data else None,
        category=form.category.data or None, status=form.status.data or None,
        overdue=bool(form.overdue.data),
        opened_from=_local_midnight(form.opened_from.data) if form.opened_from.data else None,
        opened_before=_local_midnight(form.opened_to.data + timedelta(days=1)) if form.opened_to.data else None,
        search=parse_search(form.q.data or ""),
    )


@case_pages_bp.get("/board")
@login_required
@requires("board.view")
def board():
    grids = board_grids(caller_scope())
    form = _filter_form(grids)
    # Links keep the filters: paging drops the page, the status chips the status.
    args = {k: v for k, v in request.args.items() if k in form._fields and k != "page" and v}
    links = {"args": args, "no_status": {k: v for k, v in args.items() if k != "status"}}
    if not form.validate():
        return render_template("board/index.html", form=form, rows=[], counts={}, counts_kept=0,
                               total=0, page=1, has_more=False, invalid=True, **links), 400
    filters = _filters(form, grids)
    page = form.page.data or 1
    rows, has_more = board_page(caller_scope(), filters, page)
    counts, kept = status_counts(caller_scope(), filters)
    return render_template("board/index.html", form=form, rows=rows, counts=counts,
                           counts_kept=BIG_COUNT_SECONDS if kept else 0,
                           total=sum(counts.values()), page=page, has_more=has_more, invalid=False, **links)
