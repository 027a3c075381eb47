"""Words and times as the staff pages show them: labels in the page's language, times in the
community's time zone, deadlines as a countdown."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from handlers.catalogue import categories, department_name
from handlers.vocabulary import CaseStatus, Role, Severity, Source, StepKind
from models import utcnow

# The domain's words come from the one vocabulary; the tables below are this area's own.
STATUSES = CaseStatus.lazy_labels()
SEVERITIES = Severity.lazy_labels()
ROLES = Role.lazy_labels()
SOURCES = Source.lazy_labels()
STEPS = StepKind.lazy_labels()
EVENTS = {
    "opened": _l("Case opened"), "task_created": _l("Task created"), "claimed": _l("Claimed"),
    "unclaimed": _l("Handed back"), "task_completed": _l("Task completed"),
    "task_cancelled": _l("Task cancelled"), "rework": _l("Sent back for rework"),
    "escalated": _l("Deadline passed: escalated"), "closed": _l("Closed"), "rejected": _l("Not accepted"),
    "auto_closed": _l("Alarm cleared: closed"), "message": _l("Message received"),
}
RESULTS = {"resolved": _l("Resolved"), "partially_resolved": _l("Partly resolved"),
           "cannot_resolve": _l("Cannot be resolved")}
SATISFACTION = {"satisfied": _l("Satisfied"), "basically_satisfied": _l("Mostly satisfied"),
                "not_satisfied": _l("Not satisfied")}
ESCALATION_ACTIONS = {"urged": _l("Urged"), "extended": _l("Deadline extended"), "reassigned": _l("Reassigned")}


TABLES = {"STATUSES": STATUSES, "SEVERITIES": SEVERITIES, "ROLES": ROLES, "SOURCES": SOURCES,
          "STEPS": STEPS, "EVENTS": EVENTS, "RESULTS": RESULTS, "SATISFACTION": SATISFACTION,
          "ESCALATION_ACTIONS": ESCALATION_ACTIONS}
# The tables above as plain strings, per language: translated once per process, not per use.
_translated_tables: dict[str, dict[str, dict[str, str]]] = {}


def is_chinese() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def label(table: dict, code: str | None) -> str:
    """The label of a code in one of the tables above; an unknown code shows as itself."""
    return str(table[code]) if code in table else (code or "")


def community_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["COMMUNITY_TZ"])


def translated(message: str) -> str:
    """A message known only at run time (a form error), in the page's language when the
    catalog has it; shown as it is otherwise, "%" included."""
    return _(str(message))


class PageWords:
    """Labels, times and deadlines for one page: the language, the clock and the zone are
    read once (a page of 200 tasks asks thousands of times)."""

    def __init__(self) -> None:
        self.zh = is_chinese()
        self.now = utcnow()
        self.zone = community_zone()
        language = "zh" if self.zh else "en"
        if language not in _translated_tables:
            _translated_tables[language] = {name: {code: str(text) for code, text in table.items()}
                                            for name, table in TABLES.items()}
        self.tables = _translated_tables[language]
        self.units = ("天", "小时", "分钟") if self.zh else (" d", " h", " min")
        self.formats = {"left": _("%(span)s left"), "overdue": _("overdue by %(span)s"), "ago": _("%(span)s ago")}

    def span(self, delta: timedelta) -> str:
        """A duration in its largest two units: "2天3小时", "1 h 5 min"."""
        minutes = max(int(delta.total_seconds() // 60), 0)
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        parts = [f"{n}{u}" for n, u in zip((days, hours, mins), self.units, strict=True) if n]
        if not parts:
            return "<1" + self.units[2].strip()
        return ("" if self.zh else " ").join(parts[:2])

    def countdown(self, due: datetime | None) -> tuple[str, bool]:
        """("剩余3小时" | "overdue by 2 h", is it overdue) for a deadline; ("", False) without one."""
        if due is None:
            return "", False
        if due < self.now:
            return self.formats["overdue"] % {"span": self.span(self.now - due)}, True
        return self.formats["left"] % {"span": self.span(due - self.now)}, False

    def age(self, since: datetime | None) -> str:
        return self.formats["ago"] % {"span": self.span(self.now - since)} if since else ""

    def local_time(self, moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """A stored UTC time as the community's wall clock."""
        return moment.astimezone(self.zone).strftime(pattern) if moment else ""

    def category(self, code: str | None) -> str:
        found = categories().get(code or "")
        if found is None:
            return code or ""
        return found.zh if self.zh else found.en

    def department(self, code: str | None) -> str:
        if not code:
            return ""
        return department_name(code, self.zh)

    def helpers(self) -> dict:
        """What the templates of the staff pages call."""
        return {"tr": translated, "label": label, "category_label": self.category,
                "department_label": self.department, "local_time": self.local_time,
                "countdown": self.countdown, "age": self.age, **self.tables}


def page_helpers() -> dict:
    """Context processor of the staff pages' blueprints."""
    return PageWords().helpers()
