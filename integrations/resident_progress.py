"""What a resident (or an Open311 client) sees of a request: the status in plain words, the
steps and when each happened, and the answer. Read from the case's event history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from extensions import db
from forms.requests import SATISFACTION, choice_label, pick
from handlers.departments import DEPARTMENTS
from models import Case, CaseEvent

STATUS_WORDS = {
    "open": _l("Received"),
    "pending_accept": _l("Received, waiting to be accepted"),
    "pending_dispatch": _l("Accepted, being assigned"),
    "disposing": _l("Being handled"),
    "handling": _l("Being handled by the department"),
    "verifying": _l("Handled, being checked"),
    "answering": _l("Handled, the answer is being prepared"),
    "feedback": _l("Done: waiting for your rating"),
    "closing": _l("Rated, being closed"),
    "closed": _l("Closed"),
    "rejected": _l("Not accepted"),
    "auto_closed": _l("Closed"),
}
# Statuses after which the handler's answer has been checked and may be shown.
ANSWERED = {"feedback", "closing", "closed"}
FINAL_KINDS = {"closed": _l("Closed"), "auto_closed": _l("Closed")}


@dataclass(frozen=True)
class Step:
    at: datetime
    words: str


def status_words(status: str) -> str:
    return str(STATUS_WORDS.get(status, status))


def is_closed(case: Case) -> bool:
    return case.closed_at is not None


def department_label(code: str | None) -> str:
    if not code:
        return ""
    return pick(DEPARTMENTS.get(code, code), code.replace("_", " "))


def case_events(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)))


def _task_words(data: dict, case: Case) -> str | None:
    bpmn_id = data.get("bpmn_id")
    if bpmn_id == "accept":
        return str(_l("Accepted") if data.get("accepted") else _l("Not accepted"))
    if bpmn_id == "dispatch":
        return str(_l("Assigned to %(who)s", who=department_label(data.get("department") or case.department)))
    if bpmn_id == "dispose":
        return str(_l("Handled"))
    if bpmn_id == "handle":
        return str(_l("Handled by %(who)s", who=department_label(case.department)))
    if bpmn_id == "verify":
        return str(_l("Checked on site") if data.get("verified") else _l("Checked: not resolved yet"))
    if bpmn_id == "answer":
        return str(_l("Answered") if data.get("verified") else _l("Sent back to the department"))
    if bpmn_id == "feedback":
        return str(_l("Rated: %(rating)s", rating=choice_label(SATISFACTION, data.get("satisfaction"))))
    if bpmn_id == "escalate":
        return str(_l("Urged by the supervisor"))
    return None


def timeline(case: Case, events: list[CaseEvent] | None = None) -> list[Step]:
    """The steps a resident cares about, oldest first."""
    steps: list[Step] = []
    for event in events if events is not None else case_events(case):
        words: str | None = None
        if event.kind == "opened":
            words = str(_l("Received"))
        elif event.kind == "task_completed":
            words = _task_words(event.data or {}, case)
        elif event.kind == "rework":
            words = str(_l("Sent back to be redone"))
        elif event.kind == "escalated":
            words = str(_l("Overdue: the supervisor was alerted"))
        elif event.kind in FINAL_KINDS:
            words = str(FINAL_KINDS[event.kind])
        if words:
            steps.append(Step(event.at, words))
    return steps


def answer_of(case: Case, events: list[CaseEvent] | None = None) -> str | None:
    """The answer to the resident: the reason of a refusal, the department's checked answer
    (government services) or the handler's note once the result was checked."""
    events = events if events is not None else case_events(case)
    for event in reversed(events):
        data = event.data or {}
        if event.kind != "task_completed":
            continue
        bpmn_id = data.get("bpmn_id")
        if bpmn_id == "accept" and data.get("accepted") is False:
            return data.get("accept_note") or None
        if case.status not in ANSWERED:
            continue
        if "public" in data:
            # The step's form declares which of its fields the resident reads (``x-public``).
            text = next((v for v in data["public"].values() if isinstance(v, str) and v.strip()), None)
            if text:
                return text
            continue
        # Events recorded before the forms declared their public fields.
        if bpmn_id == "answer" and data.get("verified"):
            return data.get("verify_note") or None
        if bpmn_id == "dispose" and case.process_id != "gov_service":
            return data.get("dispose_note") or None
    return None


def rating_of(events: list[CaseEvent]) -> str | None:
    """The resident's last rating (a satisfaction code), if any."""
    for event in reversed(events):
        if event.kind == "task_completed" and (event.data or {}).get("bpmn_id") == "feedback":
            return event.data.get("satisfaction")
    return None
