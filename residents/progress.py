"""What a resident (or an Open311 client) sees of a request: the status in plain words, the
steps and when each happened, and the answer. Read from the case's event history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from forms.requests import SATISFACTION, choice_label, pick
from forms.tasks import public_keys
from handlers.case_events import events_of_case
from handlers.catalogue import departments
from handlers.vocabulary import CHECKING_STEPS, CaseStatus, StepKind
from models import Case, CaseEvent

# The statuses in a resident's words (the staff's labels are the vocabulary's).
STATUS_WORDS = {
    CaseStatus.OPEN: _l("Received"),
    CaseStatus.PENDING_ACCEPT: _l("Received, waiting to be accepted"),
    CaseStatus.PENDING_DISPATCH: _l("Accepted, being assigned"),
    CaseStatus.DISPOSING: _l("Being handled"),
    CaseStatus.HANDLING: _l("Being handled by the department"),
    CaseStatus.VERIFYING: _l("Handled, being checked"),
    CaseStatus.ANSWERING: _l("Handled, the answer is being prepared"),
    CaseStatus.FEEDBACK: _l("Done: waiting for your rating"),
    CaseStatus.CLOSING: _l("Rated, being closed"),
    CaseStatus.CLOSED: _l("Closed"),
    CaseStatus.REJECTED: _l("Not accepted"),
    CaseStatus.AUTO_CLOSED: _l("Closed"),
}
# Statuses after which the handler's answer has been checked and may be shown.
ANSWERED = {CaseStatus.FEEDBACK, CaseStatus.CLOSING, CaseStatus.CLOSED}
FINAL_KINDS = {CaseStatus.CLOSED: _l("Closed"), CaseStatus.AUTO_CLOSED: _l("Closed")}


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
    found = departments().get(code)
    return pick(found.zh, found.en) if found else code


def case_events(case: Case) -> list[CaseEvent]:
    return events_of_case(case.id)


def _task_words(kind: str | None, data: dict, case: Case) -> str | None:
    """A finished step in a resident's words, by what the step means (its step kind)."""
    if kind == StepKind.ACCEPT:
        return str(_l("Accepted") if data.get("accepted") else _l("Not accepted"))
    if kind == StepKind.DISPATCH:
        return str(_l("Assigned to %(who)s", who=department_label(data.get("department") or case.department)))
    if kind == StepKind.DISPOSE:
        return str(_l("Handled"))
    if kind == StepKind.HANDLE:
        return str(_l("Handled by %(who)s", who=department_label(case.department)))
    if kind == StepKind.VERIFY:
        return str(_l("Checked on site") if data.get("verified") else _l("Checked: not resolved yet"))
    if kind == StepKind.ANSWER:
        return str(_l("Answered") if data.get("verified") else _l("Sent back to the department"))
    if kind == StepKind.FEEDBACK:
        return str(_l("Rated: %(rating)s", rating=choice_label(SATISFACTION, data.get("satisfaction"))))
    if kind == StepKind.ESCALATE:
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
            words = _task_words(event.step_kind, event.data or {}, case)
        elif event.kind == "rework":
            words = str(_l("Sent back to be redone"))
        elif event.kind == "escalated":
            words = str(_l("Overdue: the supervisor was alerted"))
        elif event.kind in FINAL_KINDS:
            words = str(FINAL_KINDS[event.kind])
        if words:
            steps.append(Step(event.at, words))
    return steps


def public_texts(event: CaseEvent) -> list[str]:
    """The texts of a finished step that its form declares public (``x-public``), as
    workflows.tasks recorded them; an event recorded without them is read through its form's
    public fields, so an internal note stays internal whenever it was written."""
    data = event.data or {}
    public = data.get("public")
    if not isinstance(public, dict):
        keys = public_keys(event.task.form_key) if event.task is not None else ()
        public = {key: data.get(key) for key in keys}
    return [v.strip() for v in public.values() if isinstance(v, str) and v.strip()]


def answer_of(case: Case, events: list[CaseEvent] | None = None) -> str | None:
    """The answer to the resident: the reason of a refusal, or, once the result was checked,
    the latest public reply (the department's answer, a grid worker's reply to the resident).
    Never a field the form keeps internal, nor the words of a check that sent the work back."""
    events = events if events is not None else case_events(case)
    for event in reversed(events):
        data = event.data or {}
        if event.kind != "task_completed":
            continue
        if event.step_kind == StepKind.ACCEPT and data.get("accepted") is False:
            # The refusal's reason is written for the resident (the accept form says so).
            return data.get("accept_note") or None
        if case.status not in ANSWERED:
            continue
        if event.step_kind in CHECKING_STEPS and not data.get("verified"):
            continue
        texts = public_texts(event)
        if texts:
            return texts[0]
    return None


def rating_of(events: list[CaseEvent]) -> str | None:
    """The resident's last rating (a satisfaction code), if any."""
    for event in reversed(events):
        if event.kind == "task_completed" and event.step_kind == StepKind.FEEDBACK:
            return (event.data or {}).get("satisfaction")
    return None
