"""What a deploy refuses (422 with the problems, 403 for others than process admins): nothing changes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models import ProcessFile
from tests.builders import new_case
from tests.processes.edits import routing_to_property
from workflows.specs import shipped_files

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" namespace="n"><description>&secret;</description></definitions>"""


def _grid_case(old: str, new: str) -> bytes:
    xml = shipped_files()["grid_case.bpmn"]
    assert old in xml
    return xml.replace(old, new).encode()


def _routing(old: str, new: str) -> bytes:
    xml = shipped_files()["routing.dmn"]
    assert old in xml
    return xml.replace(old, new, 1).encode()


REFUSED = {
    "malformed": ("routing.dmn", b"<definitions><decision id='routing'>", "not well-formed XML"),
    "not_utf8": ("routing.dmn", "<definitions/>".encode("utf-16"), "not UTF-8"),
    "doctype": ("routing.dmn", XXE, "DOCTYPE"),
    "wrong_root": ("grid_case.bpmn", shipped_files()["sla.dmn"].encode(), "must have <definitions>"),
    "bad_name": ("../config.bpmn", b"<x/>", "file name"),
    "empty": ("sla.dmn", b"", "empty"),
    # The process categories route to would be gone (open cases keep their own spec).
    "process_removed": ("grid_case.bpmn", _grid_case('<bpmn:process id="grid_case"', '<bpmn:process id="grid_case_v2"'),
                        "no file would hold the process 'grid_case'"),
    "broken_row": ("routing.dmn", routing_to_property().replace(b'<text>"property"</text>', b'<text>"property</text>'),
                   "Malformed Output Expression"),
    # Parses, but a case of this category could not start: found before anyone reports one.
    "failing_row": ("routing.dmn", routing_to_property().replace(b'<text>"property"</text>', b'<text>no_such_name</text>'),
                    "a manhole_tilt case of severity"),
    # What `flask processes check` refuses is refused on deploy: a step that says not what it is.
    "lint_step_kind": ("grid_case.bpmn", _grid_case('<spiffworkflow:property name="stepKind" value="dispatch" />', ""),
                       "dispatch: user task declares no step kind"),
    "lint_unique_overlap": ("routing.dmn", routing_to_property().replace(b'hitPolicy="FIRST"', b'hitPolicy="UNIQUE"', 1),
                            "hit policy UNIQUE but rows overlap"),
    "decision_removed": ("routing.dmn", _routing('<decision id="routing"', '<decision id="routing_old"'),
                         'No DMN Diagram available with id "routing"'),
}


@pytest.mark.parametrize("case_name", sorted(REFUSED))
def test_a_bad_deploy_is_refused_with_its_problems_and_changes_nothing(demo, deploy, case_name):
    name, data, problem = REFUSED[case_name]
    new_case("manhole_tilt")  # the shipped files deployed, and an open case
    res = deploy(name, data)
    assert res.status_code == 422, res.get_json()
    problems = res.get_json()["details"]["problems"]
    assert any(problem in p for p in problems), problems
    assert db.session.scalar(select(func.max(ProcessFile.version))) == 1
    assert new_case("manhole_tilt").department == "municipal"


@pytest.mark.parametrize("account", ["dispatcher", "gw01", "dept_property"])
def test_only_process_admins_may_deploy_or_read(demo, client, auth, deploy, account):
    assert deploy("routing.dmn", routing_to_property(), as_=account).status_code == 403
    assert client.get("/api/v1/processes", headers=auth(account)).status_code == 403
    assert client.get("/api/v1/processes/routing.dmn", headers=auth(account)).status_code == 403
    assert new_case("manhole_tilt").department == "municipal"


def test_a_deploy_without_a_name_or_of_an_unknown_file_is_a_clear_4xx(demo, client, auth):
    res = client.post("/api/v1/processes", data=b"<x/>", headers={**auth("admin"), "Content-Type": "application/xml"})
    assert res.status_code == 422 and "name the file" in res.get_json()["message"]
    assert client.get("/api/v1/processes/nope.bpmn", headers=auth("admin")).status_code == 404
    assert client.get("/api/v1/processes/routing.dmn?version=x", headers=auth("admin")).status_code == 400
    assert client.get("/api/v1/processes/routing.dmn?version=9", headers=auth("admin")).status_code == 404
