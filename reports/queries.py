"""Reading case events for reports: one row per case with the first instant of each step and
its checking steps, in one query (one pass over the events), whatever the number of periods,
categories or grids the report shows; the indicators are then computed in ``reports.indicators``.
The case columns ``opened_at`` and ``closed_at`` only narrow the cases to read (an index-friendly
bound); every instant a figure uses comes from the events.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, and_, case, cast, func, or_, select, type_coerce
from sqlalchemy.sql import Select

from extensions import db
from handlers.vocabulary import CHECKING_STEPS, FINAL_STATUSES, HANDLING_STEPS, CaseStatus, StepKind
from models import Case, CaseEvent
from models.base import UTCDateTime
from reports.indicators import CaseFacts, CheckEvent

# A case's closing event is written a moment after its closed_at column: read a little wider.
_SLACK = timedelta(days=1)

_cases = Case.__table__
_events = CaseEvent.__table__
# What a step means, as its process file declares it: a report never looks at step ids, so a
# process whose steps are named otherwise (government service: handle, answer) counts the same.
_step = _events.c.step_kind
_completed = _events.c.kind == "task_completed"
# A case is handed over for handling when its first handling task appears: when the dispatcher
# dispatches it, or (government service, routed by its table) once it is accepted.
_handed_over = and_(_events.c.kind == "task_created", _step.in_(HANDLING_STEPS))


# PostgreSQL hands back aware datetimes already; converting each to UTC (UTCDateTime) costs a
# third of the read for a large grid, and comparisons do not need it. SQLite needs it.
_AWARE = DateTime(timezone=True)


def _instant(expr, dialect: str):
    return type_coerce(expr, _AWARE if dialect == "postgresql" else UTCDateTime)


def _first(condition, dialect: str):
    """The earliest event instant that meets ``condition``, per case."""
    return _instant(func.min(case((condition, _events.c.at))), dialect)


def _scoped_cases(grid_ids: list[int], window_start: datetime, window_end: datetime):
    """The ids of the cases of these grids that may have an event in the window."""
    return select(_cases.c.id).where(
        _cases.c.grid_id.in_(grid_ids),
        _cases.c.opened_at < window_end,
        or_(_cases.c.closed_at.is_(None), _cases.c.closed_at >= window_start - _SLACK),
    )


def _instant_text(dialect: str):
    """An event's instant as UTC text, YYYY-MM-DD HH:MM:SS.ffffff (SQLite stores it so already)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", _events.c.at), "YYYY-MM-DD HH24:MI:SS.US", type_=String)
    return cast(_events.c.at, String)


def _checks(window_start: datetime, window_end: datetime, dialect: str):
    """The case's checking (verify, answer) and feedback completions, reworks and escalations in
    the window, as 'kind|instant|satisfaction' joined by ';' (aggregated in the same pass as the
    steps); a completion is named by its step kind."""
    label = case((_completed, _step), else_=_events.c.kind)
    satisfaction = func.coalesce(_events.c.data["satisfaction"].as_string(), "")
    text = label + "|" + _instant_text(dialect) + "|" + satisfaction
    aggregate = func.string_agg(text, ";") if dialect == "postgresql" else func.group_concat(text, ";")
    return aggregate.filter(and_(
        _events.c.at >= window_start, _events.c.at < window_end,
        or_(_events.c.kind.in_(_CHECK_KINDS), and_(_completed, _step.in_(_CHECK_TASKS))),
    ))


# A finished case's last event is named by its final status (workflows.runtime.sync_case).
_STEP_EVENTS = ("opened", *FINAL_STATUSES)
_STEP_TASKS = (StepKind.ACCEPT, *HANDLING_STEPS)
_CHECK_KINDS = ("rework", "escalated")
_CHECK_TASKS = (*CHECKING_STEPS, StepKind.FEEDBACK)


def facts_query(grid_ids: list[int], window_start: datetime, window_end: datetime,
                dialect: str = "sqlite") -> Select:
    """One row per case: id, ref, category, source, grid, deadline; the first instant of opened,
    filed, rejected, handed over for handling, first handled, closed, auto-closed; then its
    checks (``_checks``)."""
    accepted = _events.c.data["accepted"].as_boolean()
    return (
        select(
            _cases.c.id, _cases.c.ref, _cases.c.category, _cases.c.source, _cases.c.grid_id,
            _instant(_cases.c.due_at, dialect),
            _first(_events.c.kind == "opened", dialect),
            _first(and_(_completed, _step == StepKind.ACCEPT, accepted.is_(True)), dialect),
            _first(_events.c.kind == CaseStatus.REJECTED, dialect),
            _first(_handed_over, dialect),
            _first(and_(_completed, _step.in_(HANDLING_STEPS)), dialect),
            _first(_events.c.kind == CaseStatus.CLOSED, dialect),
            _first(_events.c.kind == CaseStatus.AUTO_CLOSED, dialect),
            _checks(window_start, window_end, dialect),
        )
        .select_from(_cases.join(_events, _events.c.case_id == _cases.c.id))
        .where(
            _cases.c.id.in_(_scoped_cases(grid_ids, window_start, window_end)),
            or_(_events.c.kind.in_(_STEP_EVENTS + _CHECK_KINDS), _handed_over,
                and_(_completed, _step.in_(_STEP_TASKS + _CHECK_TASKS))),
        )
        .group_by(_cases.c.id, _cases.c.ref, _cases.c.category, _cases.c.source, _cases.c.grid_id,
                  _cases.c.due_at)
    )


def _parse_checks(text: str | None) -> list[CheckEvent]:
    if not text:
        return []
    checks = []
    for item in text.split(";"):
        kind, instant, satisfaction = item.split("|")
        checks.append(CheckEvent(datetime.fromisoformat(instant + "+00:00"), kind, satisfaction or None))
    return checks


def load_case_facts(grid_ids: list[int], window_start: datetime, window_end: datetime) -> list[CaseFacts]:
    """The facts of every case of these grids that may count in [window_start, window_end)."""
    if not grid_ids:
        return []
    dialect = db.session.get_bind().dialect.name
    # fetchall: iterating rows one by one costs more than the query itself on a big grid.
    rows = db.session.execute(facts_query(grid_ids, window_start, window_end, dialect)).all()
    return [CaseFacts(case_id, ref or str(case_id), category, source, grid_id, due_at, *steps,
                      checks=_parse_checks(checks))
            for case_id, ref, category, source, grid_id, due_at, *steps, checks in rows]
