"""Deploying a process or decision file, or a task form: checked, then stored as a new version.

A deploy is refused, with the list of problems and nothing changed, when the file is not
well-formed XML, the set does not parse, lint (``workflows.lint``) finds problems, or the new set would leave a
category or an open case without its process, or could not start a case of some category.
Cases in flight are not touched by any deploy: each runs on the spec stored with it.

A task form (``<key>.schema.json``, ``<key>.uischema.json``) is stored in the same table and
read by ``forms.tasks`` from there; deploy a new form before the process that names it (a
process naming a form that is not deployed is refused). A form is checked as forms.tasks reads
it: JSON, a JSON Schema, the project's ``x-`` keys, a UI schema that orders known fields.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from extensions import db
from forms.tasks import deployed_form_files, forget_deployed_forms, form_key_of, form_texts_problems
from handlers.catalogue import active_categories
from handlers.vocabulary import Severity
from models import Case, ProcessFile, ProcessSpec, after_commit, utcnow
from workflows.engine import new_workflow
from workflows.errors import Conflict, Invalid, NotFound
from workflows.lint import lint_files
from workflows.specs import (
    SAFE_XML,
    current_files,
    deploy_shipped_files,
    files_hash,
    forget_deployments,
    parse_files,
)

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,100}\.(bpmn|dmn|schema\.json|uischema\.json)$")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_PROBLEMS = 30


class DeployRefused(Invalid):
    """The file cannot be deployed; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems[:MAX_PROBLEMS]
        super().__init__("the file is not deployed: " + "; ".join(self.problems[:3]),
                         details={"problems": self.problems})


@dataclass(frozen=True)
class Deployed:
    file: ProcessFile
    unchanged: bool  # the same bytes were already the current version


def file_kind(name: str) -> str:
    """What a deployed file is: ``process`` (.bpmn), ``decision`` (.dmn) or ``form``."""
    return "form" if form_key_of(name) else "decision" if name.endswith(".dmn") else "process"


def describe(row: ProcessFile) -> dict:
    return {"name": row.name, "kind": file_kind(row.name), "version": row.version, "sha256": row.sha256,
            "deployed_by": row.deployed_by, "deployed_at": row.deployed_at}


def deployed_files() -> list[ProcessFile]:
    """The current version of every deployed file, processes, tables, then forms (the files of
    bpmn/ and bpmn/forms/ on first use)."""
    if deploy_shipped_files():
        db.session.flush()
    return current_files() + current_forms()


def current_forms() -> list[ProcessFile]:
    """The current version of every deployed form file, by name."""
    latest = (select(ProcessFile.name, db.func.max(ProcessFile.version).label("version"))
              .where(ProcessFile.name.like("%.json")).group_by(ProcessFile.name).subquery())
    rows = db.session.scalars(select(ProcessFile).join(
        latest, (ProcessFile.name == latest.c.name) & (ProcessFile.version == latest.c.version)))
    return sorted((row for row in rows if form_key_of(row.name)), key=lambda row: row.name)


def file_version(name: str, version: int | None = None) -> ProcessFile:
    """A deployed file, its current version unless ``version`` is given. Raises NotFound."""
    deploy_shipped_files()
    query = select(ProcessFile).where(ProcessFile.name == name)
    query = query.where(ProcessFile.version == version) if version else query.order_by(ProcessFile.version.desc())
    row = db.session.scalars(query.limit(1)).first()
    if row is None:
        raise NotFound(f"no deployed file {name!r}" + (f" version {version}" if version else ""))
    return row


def check_file(name: str, data: bytes) -> tuple[str, list[str]]:
    """The file's text and what is wrong with it alone (name, size, encoding, XML, root)."""
    if not FILE_NAME.match(name or ""):
        return "", ["the file name must end in .bpmn, .dmn, .schema.json or .uischema.json and use "
                    "letters, digits, '_' or '-'"]
    limit = current_app.config["PROCESS_FILE_MAX_BYTES"]
    if not data:
        return "", ["the file is empty"]
    if len(data) > limit:
        return "", [f"the file is larger than {limit} bytes"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", [f"the file is not UTF-8 text (byte {exc.start})"]
    if form_key_of(name):
        return text.lstrip("\ufeff"), []  # checked as a form by _form_problems
    try:
        root = etree.fromstring(data, SAFE_XML)
    except etree.XMLSyntaxError as exc:
        return text, [f"not well-formed XML: {exc}"]
    if root.getroottree().docinfo.doctype:
        return text, ["a DOCTYPE is not accepted in a process file"]
    local = etree.QName(root).localname
    namespace = etree.QName(root).namespace or ""
    if name.endswith(".bpmn") and (local, namespace) != ("definitions", BPMN_NS):
        return text, [f"a .bpmn file must have <definitions> of {BPMN_NS} as its root"]
    if name.endswith(".dmn") and (local != "definitions" or "DMN" not in namespace.upper()):
        return text, ["a .dmn file must have DMN <definitions> as its root"]
    return text.lstrip("\ufeff"), []


def check_set(files: dict[str, str], forms: dict[str, str] | None = None) -> list[str]:
    """What is wrong with a whole set of files {name: xml} as the next deployment; user tasks
    name forms of ``forms`` {file name: text} (default: the deployed forms), never of the disk."""
    files = {name: text for name, text in files.items() if not form_key_of(name)}
    try:
        parsed = parse_files(files)
    except Exception as exc:  # noqa: BLE001 - any parser error is a problem to report, not a 500
        return [f"the files do not parse: {exc}"]
    forms = (deployed_form_files() or {}) if forms is None else forms
    problems = _lint({**files, **forms})
    wanted = {c.process_id for c in active_categories()}
    open_ids = set(db.session.scalars(select(Case.process_id).where(Case.closed_at.is_(None)).distinct()))
    for process_id in sorted((wanted | open_ids) - set(parsed)):
        who = "categories route to it" if process_id in wanted else "open cases run it"
        problems.append(f"no file would hold the process {process_id!r} ({who})")
    problems += _start_every_category(parsed)
    return problems


def _lint(files: dict[str, str]) -> list[str]:
    """``flask processes check`` over the set: lanes, step kinds, forms, labels, hit policies, routes."""
    return [str(problem) for problem in lint_files(files, forms_dir=None)]


def _form_problems(name: str, text: str, current: dict[str, ProcessFile]) -> list[str]:
    """What is wrong with a form file as the next version, with the other file of its form
    as deployed: a UI schema needs its schema deployed first."""
    key = form_key_of(name)
    schema_name, ui_name = f"{key}.schema.json", f"{key}.uischema.json"
    texts = {n: row.xml for n, row in current.items() if n in (schema_name, ui_name)} | {name: text}
    if schema_name not in texts:
        return [f"no {schema_name} is deployed: deploy the form's schema first"]
    return form_texts_problems(key, texts[schema_name], texts.get(ui_name))


def _start_every_category(parsed: dict) -> list[str]:
    """Start a case of every category and severity on the new set, up to its first wait:
    a table that routes nothing or an expression that fails is found before anyone reports."""
    problems = []
    for cat in active_categories():
        if cat.process_id not in parsed:
            continue
        spec, subprocess_specs, _ = parsed[cat.process_id]
        for severity in Severity.codes():
            workflow = new_workflow(spec, subprocess_specs, {
                "category": cat.code, "severity": severity, "source": "api", "has_reporter": True,
                "opened_at": utcnow().isoformat(), "grid_id": None})
            try:
                workflow.do_engine_steps()
            except Exception as exc:  # noqa: BLE001 - reported as a problem of the deploy
                problems.append(f"a {cat.code} case of severity {severity} cannot start: {exc}")
                break
    return problems


def deploy_file(name: str, data: bytes, deployed_by: str) -> Deployed:
    """Check ``data`` as the next version of ``name`` and store it (in the caller's unit of
    work). The same bytes as the current version deploy nothing. Raises DeployRefused (422)
    or Conflict (someone deployed the same file at the same moment)."""
    text, problems = check_file(name, data)
    if problems:
        raise DeployRefused(problems)
    current = {row.name: row for row in deployed_files()}
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if name in current and current[name].sha256 == sha256:
        return Deployed(current[name], unchanged=True)
    if form_key_of(name):
        problems = _form_problems(name, text, current)
    else:
        files = {row_name: row.xml for row_name, row in current.items() if not form_key_of(row_name)}
        files[name] = text
        problems = check_set(files, {n: row.xml for n, row in current.items() if form_key_of(n)})
    if problems:
        raise DeployRefused(problems)
    row = ProcessFile(name=name, version=(current[name].version + 1) if name in current else 1,
                      sha256=sha256, xml=text, deployed_by=deployed_by[:64], deployed_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(f"{name} was deployed by someone else just now: look at the list and try again") from None
    # This process sees the deploy at once; the others at their next marker check.
    after_commit(forget_deployments, key="forget_deployments")
    after_commit(forget_deployed_forms, key="forget_deployed_forms")
    return Deployed(row, unchanged=False)


def case_diagram(case: Case) -> tuple[str, ProcessFile | None]:
    """The BPMN XML of the version a case runs on, and its file row. Cases opened before
    deployments were recorded fall back to the deployed file holding their process."""
    spec_row = db.session.get(ProcessSpec, case.spec_hash)
    if spec_row is not None and spec_row.process_id == case.process_id and spec_row.source_file:
        version = (spec_row.files or {}).get(spec_row.source_file)
        if version:
            row = file_version(spec_row.source_file, int(version))
            return row.xml, row
    marker = f'id="{case.process_id}"'
    for row in deployed_files():
        if row.name.endswith(".bpmn") and marker in row.xml:
            return row.xml, row
    raise NotFound(f"no diagram of the process {case.process_id}")


__all__ = ["DeployRefused", "Deployed", "case_diagram", "check_file", "check_set", "deploy_file",
           "current_forms", "deployed_files", "describe", "file_kind", "file_version", "files_hash"]
