"""Messages to a running case, e.g. "alarm_cleared" from the alarm that opened it."""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from models import transaction
from workflows.locking import lock_case, open_task_rows
from workflows.runtime import Actor, EngineRun, record, sync_case
from workflows.specs import restore_case_workflow


def deliver_message(case_id: int, name: str, payload: dict, actor: Actor) -> bool:
    """Deliver a message; True when the case was waiting for it.

    When it was not (an alarm that cleared after dispatch), the message is noted on the
    case for the verifier instead. Raises NotFound.
    """
    with transaction():
        case = lock_case(case_id)
        if case.closed_at is not None:
            record(case, "message_ignored", actor, data={"message": name, **payload})
            return False
        workflow = restore_case_workflow(case)
        waiting = any(
            event.name == name and event.event_type.endswith("MessageEventDefinition")
            for event in workflow.waiting_events()
        )
        if not waiting:
            record(case, "note", actor, data={"message": name, "note": "received after dispatch", **payload})
            return False
        record(case, "message", actor, data={"message": name, **payload})
        workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
        run = EngineRun()
        run.run(workflow)
        sync_case(case, workflow, actor, run, open_task_rows(case.id))
    return True
