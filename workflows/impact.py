"""What a changed decision table would have done to recent cases, before it is deployed.

Each case opened in the window (and in the caller's scope) is run again from its start, as
``open_case`` starts it (category, severity, source, has_reporter, opened_at, grid_id), up to
its first wait: once on the deployed files and once on the deployed files with the proposed
table in place. The table is evaluated by SpiffWorkflow's own DMN engine inside the process
(its business rule task), so whatever the process feeds the table is fed here too. The
table's outputs are then compared case by case.

Cases with the same inputs get the same answer: each distinct input is run once and counted.
A table that reads the opening time (``opened_at``) is run once per case.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from lxml import etree
from SpiffWorkflow.task import TaskState
from sqlalchemy import select

from extensions import db
from handlers.scopes import Scope
from handlers.vocabulary import Source
from models import Case, utcnow
from workflows.deployments import DeployRefused, check_file, deployed_files
from workflows.engine import new_workflow
from workflows.errors import NotFound
from workflows.specs import SAFE_XML, current_deployment, files_hash, parse_files

# Outputs that say who works the case, and those that set its deadlines.
ROUTE_OUTPUTS = ("handler_role", "department")
DEADLINE_OUTPUTS = ("response_minutes", "dispose_hours")
MAX_EXAMPLES = 10
MAX_DAYS = 366


@dataclass
class ChangeGroup:
    """Cases whose answer changed in one way: how many, and the newest few."""

    count: int = 0
    examples: list[dict] = field(default_factory=list)

    def add(self, example: dict) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(example)


@dataclass
class Impact:
    """The answer of ``table_impact``; ``to_dict`` is what the API returns."""

    name: str
    version: int  # the deployed version compared against
    days: int
    since: object
    cases: int = 0  # cases evaluated
    cut: bool = False  # more cases than the limit: the newest ``limit`` were evaluated
    limit: int = 0
    inputs: int = 0  # distinct inputs run
    outputs: list[str] = field(default_factory=list)
    changed: int = 0  # cases with any output changed
    rerouted: ChangeGroup = field(default_factory=ChangeGroup)
    deadline: ChangeGroup = field(default_factory=ChangeGroup)
    other: ChangeGroup = field(default_factory=ChangeGroup)
    failed: ChangeGroup = field(default_factory=ChangeGroup)

    def to_dict(self) -> dict:
        groups = {key: {"count": group.count, "examples": group.examples}
                  for key, group in (("rerouted", self.rerouted), ("deadline", self.deadline),
                                     ("other", self.other), ("failed", self.failed))}
        return {"name": self.name, "version": self.version, "days": self.days,
                "since": self.since.isoformat(), "cases": self.cases, "cut": self.cut, "limit": self.limit,
                "inputs": self.inputs, "outputs": self.outputs, "changed": self.changed, **groups}


def table_outputs(xml: str) -> list[str]:
    """The output names a decision file declares, in order."""
    root = etree.fromstring(xml.encode("utf-8"), SAFE_XML)
    names = [out.get("name") or out.get("label") for out in root.iter() if etree.QName(out).localname == "output"]
    return [name for name in names if name]


def _proposed_set(name: str, new_xml: bytes | str) -> tuple[dict[str, str], dict[str, str], int]:
    """(deployed files, the same with the proposal, deployed version). Raises DeployRefused or NotFound."""
    data = new_xml.encode("utf-8") if isinstance(new_xml, str) else new_xml
    text, problems = check_file(name, data)
    if problems:
        raise DeployRefused(problems)
    if not name.endswith(".dmn"):
        raise DeployRefused(["the impact is shown for decision tables (.dmn) only"])
    rows = {row.name: row for row in deployed_files()}
    if name not in rows:
        raise NotFound(f"no deployed decision table {name!r}: deploy it first")
    old = {row_name: row.xml for row_name, row in rows.items()}
    return old, {**old, name: text}, rows[name].version


def _specs(files: dict[str, str]) -> dict:
    """{process id: (spec, subprocess specs)}: the parsed deployment when it is these files."""
    deployment = current_deployment()
    if deployment.set_hash == files_hash(files):
        return {pid: (loaded.spec, loaded.subprocess_specs) for pid, loaded in deployment.specs.items()}
    try:
        parsed = parse_files(files)
    except Exception as exc:  # noqa: BLE001 - any parser error is a problem to report, not a 500
        raise DeployRefused([f"the files do not parse: {exc}"]) from None
    return {pid: (spec, subs) for pid, (spec, subs, _) in parsed.items()}


def _answer(specs: dict, process_id: str, start: dict, outputs: list[str]) -> dict:
    """The table's outputs for a case starting with ``start``, run up to its first wait."""
    if process_id not in specs:
        raise LookupError(f"no deployed file holds the process {process_id!r}")
    spec, subprocess_specs = specs[process_id]
    workflow = new_workflow(spec, subprocess_specs, dict(start))
    workflow.do_engine_steps()
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    # The main line's data is the freshest (as the case row reads it); an escalation branch is older.
    main = next((t for t in ready if (t.task_spec.extensions or {}).get("properties", {}).get("caseStatus")), None)
    data = (main or workflow.last_task or workflow.task_tree).data
    return {name: data.get(name) for name in outputs}


def _recent_cases(since, scope: Scope, limit: int) -> list:
    query = (select(Case.ref, Case.process_id, Case.category, Case.severity, Case.source, Case.grid_id,
                    Case.opened_at)
             .where(Case.opened_at >= since, scope.cases_where())
             .order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit + 1))
    return list(db.session.execute(query))


def table_impact(name: str, new_xml: bytes | str, days: int = 30, *, scope: Scope) -> Impact:
    """Compare the deployed ``name`` with ``new_xml`` over the cases opened in the last ``days``
    days that ``scope`` may see. Raises DeployRefused (the proposal does not parse: 422 with
    the problems) or NotFound (no such deployed table)."""
    days = max(1, min(int(days), MAX_DAYS))
    old_files, new_files, version = _proposed_set(name, new_xml)
    old_specs, new_specs = _specs(old_files), _specs(new_files)
    outputs = list(dict.fromkeys(table_outputs(old_files[name]) + table_outputs(new_files[name])))
    per_case = "opened_at" in old_files[name] or "opened_at" in new_files[name]
    limit = current_app.config["PROCESS_IMPACT_MAX_CASES"]
    since = utcnow() - timedelta(days=days)
    rows = _recent_cases(since, scope, limit)
    impact = Impact(name=name, version=version, days=days, since=since, cut=len(rows) > limit,
                    limit=limit, outputs=outputs)
    rows = rows[:limit]
    answers: dict[tuple, tuple[dict, dict] | str] = {}
    for row in rows:
        key = (row.process_id, row.category, row.severity, row.source, row.grid_id,
               row.opened_at if per_case else None)
        if key not in answers:
            start = {"category": row.category, "severity": row.severity, "source": row.source,
                     "has_reporter": row.source != Source.SENSOR, "opened_at": row.opened_at.isoformat(),
                     "grid_id": row.grid_id}
            try:
                answers[key] = (_answer(old_specs, row.process_id, start, outputs),
                                _answer(new_specs, row.process_id, start, outputs))
            except Exception as exc:  # noqa: BLE001 - a table that fails on a real case is a finding
                answers[key] = str(exc)[:300] or type(exc).__name__
        _count(impact, row, answers[key])
    impact.cases, impact.inputs = len(rows), len(answers)
    return impact


def _count(impact: Impact, row, answer: tuple[dict, dict] | str) -> None:
    case = {"ref": row.ref, "category": row.category, "severity": row.severity}
    if isinstance(answer, str):
        impact.failed.add({**case, "error": answer})
        return
    old, new = answer
    changed = [key for key in impact.outputs if old.get(key) != new.get(key)]
    if not changed:
        return
    impact.changed += 1
    for group, keys in ((impact.rerouted, ROUTE_OUTPUTS), (impact.deadline, DEADLINE_OUTPUTS),
                        (impact.other, tuple(k for k in impact.outputs if k not in ROUTE_OUTPUTS + DEADLINE_OUTPUTS))):
        if any(key in changed for key in keys):
            group.add({**case, "old": {k: old.get(k) for k in keys if k in impact.outputs},
                       "new": {k: new.get(k) for k in keys if k in impact.outputs}})


__all__ = ["Impact", "table_impact", "table_outputs"]
