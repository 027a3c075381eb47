"""Cases: open one, read one (the categories: web.api.catalogue)."""
from __future__ import annotations

from flask import g, jsonify

from web.access import caller_scope
from web.api import api_bp, parse_body
from web.api.openapi import documented
from web.api.present import case_created, case_out, open_tasks
from web.api.schemas import CaseCreated, CaseIn, CaseOut
from workflows import NotFound, open_case
from workflows.cases import CaseRequest, case_by_ref
from workflows.runtime import Actor


@api_bp.post("/cases")
@documented("Open a case", body=CaseIn, response=CaseCreated, status=201, errors=(400, 422))
def create_case():
    """Places the case in the grid holding the point (or the community's unassigned queue),
    routes it by the DMN tables and returns its first tasks."""
    body = parse_body(CaseIn)
    reporter = body.reporter
    user = g.user
    source = body.source
    if user.role == "resident":
        source = "resident"
    case = open_case(CaseRequest(
        category=body.category, severity=body.severity, lat=body.lat, lon=body.lon,
        address=body.address, community=body.community, description=body.description,
        title=body.title, source=source,
        reporter_name=(reporter.name if reporter else None) or (user.name if user.role == "resident" else None),
        reporter_phone=reporter.phone if reporter else None,
    ), Actor(user), reporter_id=user.id if user.role == "resident" else None)
    return jsonify(case_created(case, open_tasks(case))), 201


@api_bp.get("/cases/<ref>")
@documented("A case with its history and open tasks", response=CaseOut, errors=(403, 404))
def show_case(ref: str):
    """A case of the caller's place (a resident: one they reported); any other is 404, as if
    it did not exist (refs are sequential)."""
    case = case_by_ref(ref)
    if case is None or not caller_scope().covers_case(case):
        raise NotFound(f"no case {ref}")
    return jsonify(case_out(case))
