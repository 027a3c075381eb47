"""The domain's words, each defined once: case and task statuses, roles, step kinds,
severities and sources, with their labels in the page's language.

Every word is a ``StrEnum``, so it compares equal to the string stored in the database and
in the workflow's data; code writes ``CaseStatus.CLOSED`` instead of ``"closed"``. Labels go
through Flask-Babel with a context per vocabulary (a role "Resident" and a source "Resident"
are different words in Chinese); the Chinese lives in ``web/translations/vocabulary``.
"""
from __future__ import annotations

from enum import StrEnum

from flask_babel import force_locale, lazy_pgettext


class Word(StrEnum):
    """A word of the vocabulary: its value is the stored code, ``label`` its name for people."""

    @property
    def label(self) -> str:
        """The word in the current request's language (English outside a request)."""
        return str(_LABELS[type(self)][self])

    def label_in(self, locale: str) -> str:
        """The word in a given language (a PDF report is Chinese whoever asked for it)."""
        with force_locale(locale):
            return self.label

    @classmethod
    def labelled(cls, code: str | None) -> str:
        """The label of a stored code; an unknown code (an older process's word) shows as itself."""
        try:
            return cls(code).label
        except ValueError:
            return code or ""

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        """The stored codes, in declaration order (``x in codes()`` is safe for any value)."""
        return tuple(word.value for word in cls)

    @classmethod
    def lazy_labels(cls) -> dict[str, object]:
        """{code: label} with labels translated when shown (a table built once at import)."""
        return {word.value: _LABELS[cls][word] for word in cls}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(code, label) pairs for a select field, in declaration order."""
        return [(word.value, word.label) for word in cls]


class CaseStatus(Word):
    OPEN = "open"
    PENDING_ACCEPT = "pending_accept"
    PENDING_DISPATCH = "pending_dispatch"
    DISPOSING = "disposing"
    HANDLING = "handling"
    ANSWERING = "answering"
    VERIFYING = "verifying"
    FEEDBACK = "feedback"
    CLOSING = "closing"
    CLOSED = "closed"
    REJECTED = "rejected"
    AUTO_CLOSED = "auto_closed"


class TaskStatus(Word):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Role(Word):
    """Lane roles of the processes and the built-in account roles."""

    DISPATCHER = "dispatcher"
    GRID_WORKER = "grid_worker"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    # The lane of the person who reported the case (the resident's rating step).
    REPORTER = "reporter"
    ADMIN = "admin"
    RESIDENT = "resident"


class StepKind(Word):
    """What a user task means, declared by its ``stepKind`` property in the process file."""

    ACCEPT = "accept"
    DISPATCH = "dispatch"
    DISPOSE = "dispose"
    VERIFY = "verify"
    FEEDBACK = "feedback"
    CLOSE = "close"
    HANDLE = "handle"
    ANSWER = "answer"
    ESCALATE = "escalate"


class Severity(Word):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Source(Word):
    """How a case came in."""

    SENSOR = "sensor"
    RESIDENT = "resident"
    HOTLINE = "hotline"
    GRID_WORKER = "grid_worker"
    API = "api"


# Steps whose completion means the case was handled (the clock of on-time disposal stops),
# and steps whose refusal sends the work back (rework).
# Tuples, not sets: they go into SQL ``IN`` lists, whose text should not change between runs.
HANDLING_STEPS = (StepKind.DISPOSE, StepKind.HANDLE)
CHECKING_STEPS = (StepKind.VERIFY, StepKind.ANSWER)
# Case statuses a case is finished in.
FINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.AUTO_CLOSED)


def _labels(context: str, pairs: dict) -> dict:
    return {word: lazy_pgettext(context, text) for word, text in pairs.items()}


_LABELS: dict[type[Word], dict] = {
    CaseStatus: _labels("case status", {
        CaseStatus.OPEN: "Opened", CaseStatus.PENDING_ACCEPT: "Waiting to be accepted",
        CaseStatus.PENDING_DISPATCH: "Waiting for dispatch", CaseStatus.DISPOSING: "Being handled",
        CaseStatus.HANDLING: "Being handled by the department",
        CaseStatus.ANSWERING: "Answer under review", CaseStatus.VERIFYING: "Being verified",
        CaseStatus.FEEDBACK: "Waiting for feedback", CaseStatus.CLOSING: "Being closed",
        CaseStatus.CLOSED: "Closed", CaseStatus.REJECTED: "Not accepted",
        CaseStatus.AUTO_CLOSED: "Cleared by itself"}),
    TaskStatus: _labels("task status", {
        TaskStatus.OPEN: "Open", TaskStatus.DONE: "Done", TaskStatus.CANCELLED: "Cancelled"}),
    Role: _labels("role", {
        Role.DISPATCHER: "Dispatcher", Role.GRID_WORKER: "Grid worker", Role.DEPARTMENT: "Department",
        Role.SUPERVISOR: "Supervisor", Role.REPORTER: "Reporter", Role.ADMIN: "Administrator",
        Role.RESIDENT: "Resident"}),
    StepKind: _labels("step kind", {
        StepKind.ACCEPT: "Accept", StepKind.DISPATCH: "Dispatch", StepKind.DISPOSE: "Handle",
        StepKind.VERIFY: "Verify", StepKind.FEEDBACK: "Feedback", StepKind.CLOSE: "Close",
        StepKind.HANDLE: "Department handles", StepKind.ANSWER: "Review the answer",
        StepKind.ESCALATE: "Escalation"}),
    Severity: _labels("severity", {
        Severity.LOW: "Low", Severity.NORMAL: "Normal", Severity.HIGH: "High", Severity.URGENT: "Urgent"}),
    Source: _labels("source", {
        Source.SENSOR: "Sensor", Source.RESIDENT: "Resident", Source.HOTLINE: "Hotline",
        Source.GRID_WORKER: "Grid worker", Source.API: "Other system"}),
}

VOCABULARIES: tuple[type[Word], ...] = tuple(_LABELS)
