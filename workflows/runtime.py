"""Mirrors a workflow's state into the case row, its task rows and its event history.

Called after every engine run, inside the caller's transaction. It never commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import TaskState

from extensions import db
from handlers.alarms import end_alarms_of_case
from handlers.vocabulary import CaseStatus, Role, TaskStatus
from models import Case, CaseEvent, Task, User, after_commit, utcnow
from workflows.engine import dump_state

# Lanes whose tasks go to the role the routing table chose (grid worker or department).
HANDLER_LANE = "handler"


@dataclass
class Actor:
    """Who caused a transition: a signed-in user, or a named system part."""

    user: User | None = None
    label: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def name(self) -> str:
        return self.user.account if self.user else (self.label or "system")


SYSTEM = Actor(label="system")


@dataclass
class EngineRun:
    """Collects the case events that engine tasks announce while the engine runs."""

    fired: list[tuple[str, str]] = field(default_factory=list)

    def did_complete(self, task) -> None:
        kind = _props(task.task_spec).get("caseEvent")
        if kind:
            self.fired.append((kind, task.task_spec.bpmn_id))

    def run(self, workflow: BpmnWorkflow) -> None:
        workflow.do_engine_steps(did_complete_task=self.did_complete)


def _props(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def record(case: Case, kind: str, actor: Actor, *, task: Task | None = None,
           data: dict | None = None) -> CaseEvent:
    """Add a case event; written with the rest of the unit of work at commit."""
    event = CaseEvent(case=case, at=utcnow(), kind=kind, actor_id=actor.user_id,
                      actor_label=None if actor.user else actor.name, task=task,
                      step_kind=task.step_kind if task is not None else None, data=data or {})
    db.session.add(event)
    return event


def sync_case(case: Case, workflow: BpmnWorkflow, actor: Actor, run: EngineRun,
              open_tasks: list[Task]) -> list[Task]:
    """Bring the case row, its tasks and events in line with the workflow.

    Returns the case's open task rows (also left on ``case.open_task_rows``). Nothing is
    flushed here: the whole unit of work is written once, at commit."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    main = next((t for t in ready.values() if _props(t.task_spec).get("caseStatus")), None)
    # The main line's data is the freshest; an escalation branch carries an older copy.
    data = (main or workflow.last_task or workflow.task_tree).data
    now = utcnow()

    for row in open_tasks:
        if row.status == TaskStatus.OPEN and row.engine_task_id not in ready:
            row.status, row.completed_at = TaskStatus.CANCELLED, now
            record(case, "task_cancelled", actor, task=row, data={"bpmn_id": row.bpmn_id})

    still_open = [row for row in open_tasks if row.status == TaskStatus.OPEN]
    known = {row.engine_task_id for row in still_open}
    _copy_case_facts(case, workflow, data)
    created = [_new_task_row(case, spiff_task)
               for engine_id, spiff_task in ready.items() if engine_id not in known]
    db.session.add_all(created)

    for kind, bpmn_id in run.fired:
        if kind == "escalated":
            case.escalated = True
        record(case, kind, actor, data={"bpmn_id": bpmn_id, "rework_count": case.rework_count})
    for row in created:
        record(case, "task_created", actor, task=row,
               data={"bpmn_id": row.bpmn_id, "role": row.role, "grid_id": row.grid_id,
                     "department": row.department})

    case.status = _status(workflow, main, case.status)
    if workflow.is_completed():
        case.closed_at = now
        case.next_timer_at = None
        record(case, case.status, actor, data={"outcome": case.status})
        if case.device_id is not None:
            # An alarm lives as long as its case: the device's next raise opens a new case.
            end_alarms_of_case(case.id, now)
    else:
        case.next_timer_at = _next_timer(workflow)
        if case.next_timer_at:
            # Enqueued once this unit of work commits; the latest due time of the case wins.
            after_commit(partial(_schedule_timer, case.id, case.next_timer_at), key=("timer", case.id))
    case.state = dump_state(workflow)
    case.open_task_rows = still_open + created
    return case.open_task_rows


def _schedule_timer(case_id: int, due) -> None:
    from workflows.timers import schedule_timer  # timers imports this module

    schedule_timer(case_id, due)


def _copy_case_facts(case: Case, workflow: BpmnWorkflow, data: dict) -> None:
    case.handler_role = data.get("handler_role", case.handler_role)
    case.department = data.get("department", case.department)
    case.rework_count = int(data.get("rework_count", case.rework_count or 0))
    case.due_at = _parse_time(data.get("due_at")) or case.due_at


def _new_task_row(case: Case, spiff_task) -> Task:
    spec = spiff_task.task_spec
    props = _props(spec)
    lane = spec.lane or Role.DISPATCHER
    role = (spiff_task.data.get("handler_role") or Role.GRID_WORKER) if lane == HANDLER_LANE else lane
    department = spiff_task.data.get("department") if lane == HANDLER_LANE else None
    due_var = props.get("dueData")
    return Task(
        case=case, engine_task_id=str(spiff_task.id), bpmn_id=spec.bpmn_id, step_kind=props.get("stepKind"),
        name=spec.bpmn_name or spec.bpmn_id, form_key=props.get("formKey"), status=TaskStatus.OPEN,
        role=role, department=department, community_id=case.community_id, grid_id=case.grid_id,
        due_at=_parse_time(spiff_task.data.get(due_var)) if due_var else None, created_at=utcnow(),
        # Written out so nothing is left to read back after the insert.
        assignee_id=None, completed_at=None, completed_by_id=None,
    )


def _status(workflow: BpmnWorkflow, main, current: str) -> str:
    if workflow.is_completed():
        return workflow.data.get("outcome") or _last_outcome(workflow) or CaseStatus.CLOSED
    return _props(main.task_spec)["caseStatus"] if main else current


def _last_outcome(workflow: BpmnWorkflow) -> str | None:
    last = workflow.last_task
    return last.data.get("outcome") if last else None


def _next_timer(workflow: BpmnWorkflow) -> datetime | None:
    due = [
        _parse_time(event.value) for event in workflow.waiting_events()
        if event.event_type.endswith("TimeDateEventDefinition") and event.value
    ]
    return min(due) if due else None
