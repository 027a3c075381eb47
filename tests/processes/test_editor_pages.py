"""The process pages without a browser: who may open them, the page deploy's CSRF check, its
422 problem list for a broken file, and a good file becoming the next version."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import AuditEntry, ProcessFile
from tests.inbox.conftest import PAGE, csrf_token
from tests.processes.conftest import XML, sha256
from tests.processes.edits import sla_six_hours


def page_deploy(client, name: str, data: bytes, token: str | None):
    headers = {**XML, "Accept": "application/json"} | ({"X-CSRFToken": token} if token else {})
    return client.post(f"/processes/{name}", data=data, headers=headers)


def versions(name: str) -> int:
    return db.session.scalar(select(db.func.count()).select_from(ProcessFile).where(ProcessFile.name == name))


def test_a_supervisor_lists_opens_and_deploys_from_the_page(sign_in):
    client = sign_in("supervisor")
    listed = client.get("/processes", headers=PAGE)
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    for name in ("grid_case.bpmn", "gov_service.bpmn", "routing.dmn", "sla.dmn"):
        assert f'href="/processes/{name}/edit"' in text
    assert "dispose.schema.json" in text and 'href="/processes/dispose.schema.json/edit"' not in text
    assert client.get("/processes/dispose.schema.json/edit", headers=PAGE).status_code == 404
    editor = client.get("/processes/sla.dmn/edit", headers=PAGE)
    assert editor.status_code == 200 and "dmn-modeler.production.min.js" in editor.get_data(as_text=True)
    assert "style-src-attr 'unsafe-inline'" in editor.headers["Content-Security-Policy"]
    bpmn = client.get("/processes/grid_case.bpmn/edit", headers=PAGE)
    assert "bpmn-modeler.production.min.js" in bpmn.get_data(as_text=True)
    assert "unsafe-inline" not in bpmn.headers["Content-Security-Policy"]  # only the dmn page widens
    assert '"stepKinds": ["accept"' in bpmn.get_data(as_text=True)

    data = sla_six_hours()
    res = page_deploy(client, "sla.dmn", data, csrf_token(client, "/processes"))
    assert res.status_code == 201, res.get_json()
    assert (res.get_json()["version"], res.get_json()["sha256"]) == (2, sha256(data))
    assert client.get("/processes/sla.dmn/xml").data == data
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.operation == "deploy process file"))
    assert entry.operator == "supervisor" and entry.detail["from"] == "editor"
    again = page_deploy(client, "sla.dmn", data, csrf_token(client, "/processes"))
    assert again.status_code == 200 and again.get_json()["unchanged"]


def test_the_page_deploy_needs_the_csrf_token(sign_in):
    client = sign_in("admin")
    res = page_deploy(client, "sla.dmn", sla_six_hours(), None)
    assert res.status_code == 400
    assert versions("sla.dmn") <= 1


def test_a_broken_file_is_422_with_its_problems_and_changes_nothing(sign_in):
    client = sign_in("admin")
    token = csrf_token(client, "/processes")
    broken = page_deploy(client, "routing.dmn", b"<definitions><decision", token)
    assert broken.status_code == 422
    assert broken.get_json()["problems"] and "XML" in " ".join(broken.get_json()["problems"])
    unknown_step = client.get("/processes/grid_case.bpmn/xml").data.replace(
        b'name="stepKind" value="dispose"', b'name="stepKind" value="teleport"')
    refused = page_deploy(client, "grid_case.bpmn", unknown_step, token)
    assert refused.status_code == 422 and any("teleport" in p for p in refused.get_json()["problems"])
    assert versions("routing.dmn") == 1 and versions("grid_case.bpmn") == 1
    assert page_deploy(client, "nothing.bpmn", b"x", token).status_code == 422
    assert client.get("/processes/nothing.bpmn/edit", headers=PAGE).status_code == 404


def test_a_grid_worker_and_a_stranger_cannot_use_the_pages(client, sign_in):
    assert client.get("/processes", headers=PAGE).status_code == 302  # to the sign-in page
    worker = sign_in("gw01")
    token = csrf_token(worker, "/inbox")
    for path in ("/processes", "/processes/grid_case.bpmn/edit", "/processes/grid_case.bpmn/xml"):
        assert worker.get(path, headers=PAGE).status_code == 403
    assert page_deploy(worker, "sla.dmn", sla_six_hours(), token).status_code == 403
    assert versions("sla.dmn") <= 1
