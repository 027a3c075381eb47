"""Lint for the process and decision files: what ``flask processes check`` and every deploy refuse.

A process file must say what each step means, so the code can ask it instead of guessing from
ids: every lane declares its role, every user task its step kind and a declared, valid form,
every case status has its Chinese and English labels, every branch out of an exclusive gateway
is labelled. A decision table must do what its hit policy says (a UNIQUE table with overlapping
rows is refused; first-match tables declare FIRST), and every category must find a row.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from types import SimpleNamespace

from babel.messages.pofile import read_po
from flask_babel import force_locale
from lxml import etree

from forms.tasks import FORMS_DIR, form_key_of, form_problems
from handlers.vocabulary import CaseStatus, Role, Severity, StepKind
from workflows.engine import SCRIPT_ENGINE
from workflows.parsing import LANE_ROLE_PROPERTY, NAMESPACES, ROUTED_ROLE, ProcessFileParser, lane_role

NS = {**NAMESPACES, "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
# Roles a lane may declare: the vocabulary's, and "handler" (whom the routing table chose).
LANE_ROLES = frozenset({*(r.value for r in Role), ROUTED_ROLE})
# Hit policies whose rows may overlap only in the ways checked here.
HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"})
VOCABULARY_PO = (Path(__file__).resolve().parent.parent / "web" / "translations" / "vocabulary"
                 / "zh" / "LC_MESSAGES" / "messages.po")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file, at one element (its id) when there is one."""

    file: str
    element: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.element}" if self.element else self.file
        return f"{where}: {self.message}"


def lint_files(files: Iterable[Path] | Mapping[str, str], *, categories: Iterable[str] | None = None,
               forms_dir: Path | None = FORMS_DIR) -> list[Problem]:
    """The problems of a set of .bpmn and .dmn files (paths, or {file name: XML text}), and of
    the task forms in it (``<key>.schema.json``, ``<key>.uischema.json``).

    A user task's form is looked up among the forms of the set first, then in ``forms_dir``
    (None: only the set; a deploy passes the deployed forms plus the upload that way).
    ``categories`` are the category codes every decision table with a ``category`` input must
    route; by default the catalogue's active ones. An empty list means all is well."""
    texts = dict(files) if isinstance(files, Mapping) else {Path(p).name: Path(p).read_text("utf-8")
                                                            for p in files}
    forms = {name: text for name, text in texts.items() if form_key_of(name)}
    problems: list[Problem] = []
    for key in sorted({form_key_of(name) for name in forms}):
        if f"{key}.schema.json" not in forms:
            problems.append(Problem(f"{key}.uischema.json", None, f"no {key}.schema.json: deploy the schema first"))
        else:
            problems += [Problem(f"{key}.schema.json", None, text) for text in form_problems(key, None, forms)]
    roots: dict[str, etree._Element] = {}
    for name, text in sorted(texts.items()):
        if name in forms:
            continue
        try:
            roots[name] = etree.fromstring(text.encode("utf-8"), SAFE_XML)
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(name, None, f"not well-formed XML: {exc}"))
    codes = sorted(set(categories) if categories is not None else known_categories())
    for name, root in roots.items():
        if name.endswith(".bpmn"):
            problems += _lint_process(name, root, forms_dir, forms)
        elif name.endswith(".dmn"):
            problems += _lint_decisions(name, root, codes)
        else:
            problems.append(Problem(name, None, "neither a .bpmn nor a .dmn file"))
    if not problems:
        problems += _parse_problems(roots)
    return problems


def known_categories() -> list[str]:
    """The category codes of the catalogue (its table in an app context, else its seed)."""
    from flask import has_app_context

    if has_app_context():
        from sqlalchemy.exc import SQLAlchemyError

        from handlers.catalogue import active_categories

        try:
            return [c.code for c in active_categories()]
        except SQLAlchemyError:
            pass  # a database without the catalogue yet (not migrated): check against the seed
    from handlers.catalogue_seed import SEED_CATEGORIES

    return list(SEED_CATEGORIES)


def known_departments() -> set[str]:
    """The department codes a routing row may name (the catalogue's active ones, else its seed)."""
    from flask import has_app_context

    if has_app_context():
        from sqlalchemy.exc import SQLAlchemyError

        from handlers.catalogue import active_departments

        try:
            return {d.code for d in active_departments()}
        except SQLAlchemyError:
            pass
    from handlers.catalogue_seed import DEPARTMENTS

    return {row[0] for row in DEPARTMENTS}


# What a decision table's outputs may name: a route to a department or a role nobody has
# would open cases that no inbox ever shows.
def _unknown_references(outputs: dict, departments: set[str]) -> list[str]:
    found = []
    department, role = outputs.get("department"), outputs.get("handler_role")
    if department is not None and department not in departments:
        found.append(f"department {department!r} is not in the catalogue")
    if role is not None and role not in {r.value for r in Role}:
        found.append(f"handler_role {role!r} is not a role")
    return found


# Processes ----------------------------------------------------------------------------------

def _properties(element) -> dict[str, str]:
    return {p.get("name"): (p.get("value") or "") for p in element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)}


def _lint_process(name: str, root, forms_dir: Path | None, forms: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    for process in root.iterfind("bpmn:process", NS):
        in_lanes: set[str] = set()
        lanes = process.findall(".//bpmn:lane", NS)
        for lane in lanes:
            lane_id = lane.get("id")
            role = lane_role(lane)
            in_lanes |= {ref.text for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
            if role is None:
                problems.append(Problem(name, lane_id, f"lane {lane.get('name')!r} declares no role "
                                        f"(a '{LANE_ROLE_PROPERTY}' property)"))
            elif role not in LANE_ROLES:
                problems.append(Problem(name, lane_id, f"lane role {role!r} is unknown; one of "
                                        f"{', '.join(sorted(LANE_ROLES))}"))
        for task in process.iterfind(".//bpmn:userTask", NS):
            problems += _lint_user_task(name, task, forms_dir, forms,
                                        bool(lanes) and task.get("id") not in in_lanes)
        for element in process.iter():
            status = _properties(element).get("caseStatus") if isinstance(element.tag, str) else None
            if status is not None:
                problems += _status_problems(name, element.get("id"), status)
        problems += _gateway_problems(name, process)
    return problems


def _lint_user_task(name: str, task, forms_dir: Path | None, forms: dict[str, str],
                    outside_lanes: bool) -> list[Problem]:
    task_id, props = task.get("id"), _properties(task)
    problems = []
    kind = props.get("stepKind")
    if not kind:
        problems.append(Problem(name, task_id, "user task declares no step kind (a 'stepKind' property)"))
    elif kind not in {k.value for k in StepKind}:
        problems.append(Problem(name, task_id, f"step kind {kind!r} is unknown; one of "
                                f"{', '.join(k.value for k in StepKind)}"))
    form_key = props.get("formKey")
    if not form_key:
        problems.append(Problem(name, task_id, "user task declares no form (a 'formKey' property)"))
    else:
        problems += [Problem(name, task_id, text) for text in form_problems(form_key, forms_dir, forms)]
    if "dueData" not in props:
        problems.append(Problem(name, task_id, "user task declares no deadline (a 'dueData' property "
                                "naming the data that holds it; empty: no deadline of its own)"))
    elif props["dueData"] and not props["dueData"].isidentifier():
        problems.append(Problem(name, task_id, f"deadline {props['dueData']!r} is not a data name"))
    if outside_lanes:
        problems.append(Problem(name, task_id, "user task is in no lane, so no role works it"))
    return problems


def _status_problems(name: str, element_id: str | None, status: str) -> list[Problem]:
    try:
        word = CaseStatus(status)
    except ValueError:
        return [Problem(name, element_id, f"case status {status!r} is not in the vocabulary "
                        "(handlers/vocabulary.py), so it has no zh/en labels")]
    with force_locale("en"):  # the label's own words, whatever the caller's language
        english = str(word.label)
    if not english or english == status:
        return [Problem(name, element_id, f"case status {status!r} has no English label")]
    if not _chinese_case_statuses().get(english):
        return [Problem(name, element_id, f"case status {status!r} has no Chinese label "
                        f"(msgctxt 'case status', msgid {english!r})")]
    return []


def _chinese_case_statuses() -> dict[str, str]:
    with VOCABULARY_PO.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    return {m.id: m.string for m in catalog if m.context == "case status" and m.id}


def _gateway_problems(name: str, process) -> list[Problem]:
    flows = list(process.iterfind(".//bpmn:sequenceFlow", NS))
    problems = []
    for gateway in process.iterfind(".//bpmn:exclusiveGateway", NS):
        outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            if not (flow.get("name") or "").strip():
                problems.append(Problem(name, flow.get("id"), f"branch out of gateway "
                                        f"{gateway.get('name') or gateway.get('id')!r} has no label"))
    return problems


# Decision tables ----------------------------------------------------------------------------

def _decision_parser(name: str, root) -> ProcessFileParser:
    parser = ProcessFileParser()
    parser.add_dmn_xml(root, filename=name)
    return parser


def _lint_decisions(name: str, root, categories: list[str]) -> list[Problem]:
    try:
        parser = _decision_parser(name, root)
        dmn_parsers = list(parser.dmn_parsers.values())
        for dmn in dmn_parsers:
            dmn.parse()
    except Exception as exc:  # noqa: BLE001 - whatever the DMN parser refuses is a problem to list
        return [Problem(name, None, f"the decision does not parse: {exc}")]
    problems: list[Problem] = []
    for dmn in dmn_parsers:
        for table in dmn.decision.decisionTables:
            problems += _lint_table(name, dmn.decision.id, table, categories)
    return problems


def _matches(table, data: dict) -> list:
    """Every rule of ``table`` that matches ``data``, in row order, whatever its hit policy."""
    from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

    task = SimpleNamespace(data=data, workflow=SimpleNamespace(script_engine=SCRIPT_ENGINE))
    policy, table.hit_policy = table.hit_policy, "COLLECT"
    try:
        return DMNEngine(table).decide(task)
    finally:
        table.hit_policy = policy


def _lint_table(name: str, decision_id: str, table, categories: list[str]) -> list[Problem]:
    policy = table.hit_policy
    if policy not in HIT_POLICIES:
        return [Problem(name, decision_id, f"hit policy {policy!r} is not a DMN hit policy")]
    inputs = {i.expression for i in table.inputs}
    if "category" not in inputs:
        return []
    severities = [s.value for s in Severity] if "severity" in inputs else [None]
    problems: list[Problem] = []
    overlaps: list[str] = []
    unknown: dict[str, str] = {}
    departments = known_departments()
    for category, severity in product(categories, severities):
        data = {"category": category, **({"severity": severity} if severity else {})}
        where = f"category {category!r}" + (f", severity {severity!r}" if severity else "")
        try:
            rules = _matches(table, data)
            outputs = [tuple(sorted(r.output_as_dict(SimpleNamespace(
                data=data, workflow=SimpleNamespace(script_engine=SCRIPT_ENGINE))).items())) for r in rules]
        except Exception as exc:  # noqa: BLE001 - a rule that fails to evaluate is a problem to list
            problems.append(Problem(name, decision_id, f"{where}: a rule fails: {exc}"))
            continue
        for output in outputs:
            for reference in _unknown_references(dict(output), departments):
                unknown.setdefault(reference, where)
        if not rules:
            problems.append(Problem(name, decision_id, f"{where} matches no row: the category has no route"))
        elif len(rules) > 1 and (policy == "UNIQUE" or (policy == "ANY" and len(set(outputs)) > 1)):
            overlaps.append(f"{where} matches rows {', '.join(str(r.row_number) for r in rules)}")
    problems += [Problem(name, decision_id, f"{reference} (e.g. for {where})") for reference, where in unknown.items()]
    if overlaps:
        problems.append(Problem(name, decision_id, f"hit policy {policy} but rows overlap "
                                f"({len(overlaps)} inputs), e.g. {overlaps[0]}; declare FIRST if the "
                                "first matching row is meant to win"))
    return problems


# The whole set ------------------------------------------------------------------------------

def _parse_problems(roots: dict) -> list[Problem]:
    """What SpiffWorkflow itself refuses when it reads the set (only asked once lint is clean)."""
    parser = ProcessFileParser()
    try:
        for name, root in sorted(roots.items()):
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
        for name, root in sorted(roots.items()):
            if name.endswith(".bpmn"):
                parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        for process_id in parser.get_process_ids():
            parser.get_spec(process_id)
    except Exception as exc:  # noqa: BLE001 - the parser's refusal, reported as a problem
        return [Problem(getattr(exc, "file_name", None) or "process files", None, f"does not parse: {exc}")]
    return []
