"""The process pages: the list of deployed process and decision files, and an editor that opens
one in the bpmn-js modeler (``.bpmn``) or dmn-js (``.dmn``) and deploys it from the page.

The page deploys with the signed-in session and its CSRF token (``X-CSRFToken`` header), through
the same ``workflows.deployments.deploy_file`` as ``POST /api/v1/processes``: the same checks, the
same 422 problem list, the same audit entry. Only holders of ``processes.deploy`` get here.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from forms.tasks import declared_forms
from handlers.vocabulary import CaseStatus, StepKind
from models import transaction
from web.access import requires
from web.audit import audit_entry
from web.headers import CONTENT_SECURITY_POLICY
from workflows.deployments import DeployRefused, deploy_file, deployed_files, describe, file_version

processes_bp = Blueprint("processes", __name__)


@processes_bp.before_request
@login_required
def _signed_in() -> None:
    """Every process page needs a signed-in user; the function check is ``requires``."""

# dmn-js 17.10.2 does two things style-src 'self' refuses: it builds its bpmn.io logo and the
# logo's notice from HTML strings with ``style`` attributes, and the cell editor (CodeMirror)
# writes its base CSS into one <style> element. The decision table editor page alone allows
# style *attributes* (they cannot run code) and that one element, by the hash of its text
# (checked by tests/processes/test_editor_browser.py; a dmn-js upgrade may change it).
CODEMIRROR_STYLE_HASH = "'sha256-8bpD4ziF/b6m8kTyhNDPcw9xux1Aqbya63O4L1zc+qw='"
DMN_EDITOR_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", f"style-src 'self' {CODEMIRROR_STYLE_HASH}") + "; style-src-attr 'unsafe-inline'"
# The largest file the editor sends; the deployment itself refuses what is too big with a problem.
MAX_EDITED_BYTES = 2 * 1024 * 1024


@processes_bp.get("/processes")
@requires("processes.deploy")
def list_page():
    with transaction():  # the files of bpmn/ are deployed on first use
        items = [describe(row) for row in deployed_files()]
    return render_template("processes/list.html", items=items)


@processes_bp.get("/processes/<name>/edit")
@requires("processes.deploy")
def edit_page(name: str):
    if not name.endswith((".bpmn", ".dmn")):  # a form file is JSON: no diagram editor for it
        abort(404)
    with transaction():
        row = describe(file_version(name[:128]))  # NotFound -> 404
    editor = {
        "name": row["name"],
        "kind": "dmn" if row["name"].endswith(".dmn") else "bpmn",
        "source": url_for("processes.file_xml", name=row["name"]),
        "deploy": url_for("processes.deploy_page", name=row["name"]),
        "stepKinds": [kind.value for kind in StepKind],
        "formKeys": sorted(declared_forms()),
        "caseStatuses": [status.value for status in CaseStatus],
    }
    response = make_response(render_template("processes/edit.html", file=row, editor=editor))
    if editor["kind"] == "dmn":
        response.headers["Content-Security-Policy"] = DMN_EDITOR_POLICY
    return response


@processes_bp.get("/processes/<name>/xml")
@requires("processes.deploy")
def file_xml(name: str):
    with transaction():
        row = file_version(name[:128])
        body, version = row.xml, row.version
    return Response(body, mimetype="application/xml", headers={"X-Process-Version": str(version),
                                                               "Cache-Control": "no-store"})


@processes_bp.post("/processes/<name>")
@requires("processes.deploy")
def deploy_page(name: str):
    """The edited XML as the body; the answer is JSON: the new version (201), the same bytes
    again (200), or 422 with ``problems`` (nothing changed)."""
    data = request.get_data(cache=False)
    if len(data) > MAX_EDITED_BYTES:
        return jsonify({"error": "invalid", "problems": ["the file is larger than 2 MiB"]}), 422
    try:
        with transaction():
            deployed = deploy_file(name[:128], data, current_user.account)
            audit_entry("deploy process file", "ok", target=name[:200],
                        detail={"file": deployed.file.name, "version": deployed.file.version,
                                "sha256": deployed.file.sha256, "unchanged": deployed.unchanged,
                                "from": "editor"})
            answer = {**describe(deployed.file), "unchanged": deployed.unchanged}
    except DeployRefused as refused:
        return jsonify({"error": "invalid", "problems": refused.problems}), 422
    return jsonify(answer), 200 if deployed.unchanged else 201
