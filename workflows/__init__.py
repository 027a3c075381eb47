"""The BPMN runtime: open cases, work their tasks, fire timers, deliver messages."""
from workflows.cases import open_case
from workflows.errors import CaseError, Conflict, Forbidden, Invalid, NotFound
from workflows.messages import deliver_message
from workflows.tasks import claim_task, complete_task, unclaim_task
from workflows.timers import fire_due_timers, sweep_timers

__all__ = [
    "CaseError", "Conflict", "Forbidden", "Invalid", "NotFound", "claim_task", "complete_task",
    "deliver_message", "fire_due_timers", "open_case", "sweep_timers", "unclaim_task",
]
