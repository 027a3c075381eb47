"""Process and decision files: list the deployment, read a file, deploy a new version.

Only holders of ``processes.deploy`` (administrators and supervisors by default) may call
these: BPMN scripts and DMN expressions are code the engine runs.
"""
from __future__ import annotations

from flask import Response, g, jsonify, request

from handlers.numbers import whole_number
from models import transaction
from web.access import caller_scope, requires
from web.api import BadBody, api_bp
from web.api.openapi import documented
from web.audit import audit_entry
from workflows.deployments import deploy_file, deployed_files, describe, file_kind, file_version
from workflows.impact import MAX_DAYS, table_impact

NAME_HEADER = "X-File-Name"


@api_bp.get("/processes")
@documented("The deployed process and decision files: version, hash, who deployed them and when",
            tag="processes", errors=(403,))
@requires("processes.deploy")
def list_processes():
    with transaction():  # the files of bpmn/ are deployed on first use
        items = [describe(row) for row in deployed_files()]
    return jsonify({"items": items})


@api_bp.get("/processes/<name>")
@documented("The XML of a deployed file (its current version, or ?version=N)", tag="processes",
            errors=(403, 404), query={"version": "a version number (default: the current one)"})
@requires("processes.deploy")
def show_process_file(name: str):
    raw = request.args.get("version", "")
    version = whole_number(raw, 999_999)
    if raw and not version:
        raise BadBody(400, "bad_version", "version must be a positive whole number")
    with transaction():
        row = file_version(name[:128], version)
        body, headers = row.xml, {"X-Process-Version": str(row.version), "ETag": f'"{row.sha256}"'}
    mimetype = "application/json" if file_kind(row.name) == "form" else "application/xml"
    return Response(body, mimetype=mimetype, headers=headers)


@api_bp.post("/processes")
@documented("Check and deploy a new version of a process (.bpmn) or decision (.dmn) file, or of a task "
            "form (<key>.schema.json, <key>.uischema.json)", tag="processes",
            status=201, errors=(400, 403, 409, 422),
            query={"name": f"the file name, e.g. routing.dmn (or the {NAME_HEADER} header, or the "
                           "multipart file's own name)"})
@requires("processes.deploy")
def deploy_process_file():
    """Send the file as the body (Content-Type application/xml) with its name in ``?name=``, or
    as the multipart field ``file``. The whole set is checked first (XML, parse, lint, every
    category can start a case, no process of open cases disappears); a refusal is 422 with
    ``details.problems`` and changes nothing. The next case of every process uses it within
    seconds; cases in flight finish on their own version. Sending the current bytes again
    deploys nothing (200). A task form is checked as the inbox reads it (JSON, a JSON Schema, the
    ``x-`` keys, a UI schema of known fields); deploy a new form before the process naming it."""
    upload = request.files.get("file")
    name = request.args.get("name") or request.headers.get(NAME_HEADER) or (upload.filename if upload else "")
    data = upload.read() if upload is not None else request.get_data(cache=False)
    if not name:
        raise BadBody(422, "invalid", f"name the file: ?name=routing.dmn, the {NAME_HEADER} header, "
                                      "or a multipart field 'file' with its file name",
                      {"problems": ["the file name is missing"]})
    with transaction():
        deployed = deploy_file(name, data, g.user.account)
        audit_entry("deploy process file", "ok", target=name[:200],
                    detail={"file": deployed.file.name, "version": deployed.file.version,
                            "sha256": deployed.file.sha256, "unchanged": deployed.unchanged})
        answer = {**describe(deployed.file), "unchanged": deployed.unchanged}
    return jsonify(answer), 200 if deployed.unchanged else 201


@api_bp.post("/processes/impact")
@documented("What a changed decision table would have done to the cases of the last days: how many "
            "would have gone to another role or department, or had other deadlines", tag="processes",
            errors=(400, 403, 404, 422),
            query={"name": "the deployed table to compare with, e.g. routing.dmn",
                   "days": f"how many days back (1-{MAX_DAYS}, default 30)"})
@requires("processes.deploy")
def process_file_impact():
    """Send the proposed table as the body (application/xml), as for a deploy; nothing is
    deployed. Every case opened in the window that the caller may see is run again up to its
    first step on the deployed files and on the proposal. The answer: ``cases`` evaluated
    (``cut`` when more than ``limit``), ``changed``, and per kind of change (``rerouted``:
    handler_role/department, ``deadline``: response_minutes/dispose_hours, ``other`` outputs,
    ``failed``: the case could not be run) a ``count`` and up to 10 ``examples`` of
    ``{ref, category, severity, old, new}``. XML that does not parse is 422 with
    ``details.problems``."""
    name = (request.args.get("name") or request.headers.get(NAME_HEADER) or "")[:128]
    raw_days = request.args.get("days", "")
    days = whole_number(raw_days, MAX_DAYS) if raw_days else 30
    if not days:
        raise BadBody(400, "bad_days", f"days must be a whole number from 1 to {MAX_DAYS}")
    if not name:
        raise BadBody(422, "invalid", "name the table: ?name=routing.dmn",
                      {"problems": ["the file name is missing"]})
    with transaction():  # read-only; the files of bpmn/ are deployed on first use
        answer = table_impact(name, request.get_data(cache=False), days, scope=caller_scope()).to_dict()
    return jsonify(answer)
