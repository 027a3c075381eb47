"""A new user task with its form, added through the API and used by the next case, no restart:
deploy the form (schema + UI schema), then a process whose new step names it; a form that is
not a JSON Schema, a UI schema before its schema, and a process naming an undeployed form are
refused with 422."""
from __future__ import annotations

import io
import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from extensions import db
from forms.form_checks import form_texts_problems
from forms.tasks import load_form
from models import ProcessFile, transaction, utcnow
from tests.builders import IN_JX01, image_bytes
from tests.processes.conftest import sha256
from workflows.specs import shipped_files

INSPECT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "task-form:inspect",
    "type": "object",
    "title": "Inspect",
    "properties": {
        "reading": {"type": "integer", "minimum": 0, "maximum": 100, "title": "Tilt after repair (degrees)",
                    "x-task-data": "inspect_reading"},
        "note": {"type": "string", "maxLength": 500, "pattern": "\\S", "title": "Inspection note",
                 "x-task-data": "inspect_note", "x-messages": {"required": "an inspection note is required"}},
    },
    "required": ["reading", "note"],
}
INSPECT_UI = {"ui:order": ["reading", "note"], "note": {"ui:widget": "textarea"}}
INSPECT_TASK = (
    '<bpmn:userTask id="inspect" name="复查 inspect"><bpmn:extensionElements><spiffworkflow:properties>'
    '<spiffworkflow:property name="stepKind" value="dispose" />'
    '<spiffworkflow:property name="formKey" value="inspect" />'
    '<spiffworkflow:property name="dueData" value="due_at" />'
    '</spiffworkflow:properties></bpmn:extensionElements>'
    '<bpmn:incoming>flow_dispose_verify</bpmn:incoming><bpmn:outgoing>flow_inspect_verify</bpmn:outgoing>'
    '</bpmn:userTask>\n    ')


def as_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def grid_case_with_inspection() -> bytes:
    """grid_case.bpmn with a handler's inspection step between dispose and verify."""
    xml = shipped_files()["grid_case.bpmn"]
    replacements = [
        ("<bpmn:flowNodeRef>dispose</bpmn:flowNodeRef>",
         "<bpmn:flowNodeRef>dispose</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>inspect</bpmn:flowNodeRef>"),
        ('<bpmn:userTask id="verify"', INSPECT_TASK + '<bpmn:userTask id="verify"'),
        ('<bpmn:incoming>flow_dispose_verify</bpmn:incoming><bpmn:outgoing>flow_verify_gw_verified',
         '<bpmn:incoming>flow_inspect_verify</bpmn:incoming><bpmn:outgoing>flow_verify_gw_verified'),
        ('<bpmn:sequenceFlow id="flow_dispose_verify" sourceRef="dispose" targetRef="verify" />',
         '<bpmn:sequenceFlow id="flow_dispose_verify" sourceRef="dispose" targetRef="inspect" />\n    '
         '<bpmn:sequenceFlow id="flow_inspect_verify" sourceRef="inspect" targetRef="verify" />'),
        ('<bpmndi:BPMNShape id="verify_di"',
         '<bpmndi:BPMNShape id="inspect_di" bpmnElement="inspect"><dc:Bounds x="1190" y="445" width="110" '
         'height="80" /></bpmndi:BPMNShape>\n      <bpmndi:BPMNShape id="verify_di"'),
        ('<bpmndi:BPMNEdge id="flow_verify_gw_verified_di"',
         '<bpmndi:BPMNEdge id="flow_inspect_verify_di" bpmnElement="flow_inspect_verify"><di:waypoint x="1245" '
         'y="445" /><di:waypoint x="1245" y="355" /></bpmndi:BPMNEdge>\n      '
         '<bpmndi:BPMNEdge id="flow_verify_gw_verified_di"'),
    ]
    for old, new in replacements:
        assert xml.count(old) == 1, old
        xml = xml.replace(old, new)
    return xml.encode()


def open_case(client, auth) -> str:
    res = client.post("/api/v1/cases", headers=auth("gw01"), json={
        "category": "manhole_tilt", "lat": IN_JX01[0], "lon": IN_JX01[1], "description": "井盖倾斜"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()["ref"]


def complete(client, auth, ref: str, who: str, data: dict):
    case = client.get(f"/api/v1/cases/{ref}", headers=auth(who)).get_json()
    (task,) = case["tasks"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth(who)).status_code == 200
    return task, client.post(f"/api/v1/tasks/{task['id']}/complete", headers=auth(who),
                             json={"data": data, "version": case["version"]})


def test_a_new_step_with_its_form_is_deployed_and_worked_by_the_next_case(client, auth, deploy):
    bpmn = grid_case_with_inspection()
    refused = deploy("grid_case.bpmn", bpmn)  # the form is not deployed yet: order matters
    assert refused.status_code == 422
    assert any("'inspect'" in p for p in refused.get_json()["details"]["problems"])

    schema, ui = as_json(INSPECT_SCHEMA), as_json(INSPECT_UI)
    res = deploy("inspect.schema.json", schema)
    assert res.status_code == 201, res.get_json()
    assert (res.get_json()["name"], res.get_json()["version"], res.get_json()["kind"]) == (
        "inspect.schema.json", 1, "form")
    assert deploy("inspect.uischema.json", ui).status_code == 201
    assert deploy("grid_case.bpmn", bpmn).status_code == 201

    listed = {i["name"]: i for i in client.get("/api/v1/processes", headers=auth("admin")).get_json()["items"]}
    assert listed["inspect.schema.json"]["sha256"] == sha256(schema)
    assert listed["verify.schema.json"]["deployed_by"] == "bpmn/"  # the shipped forms are deployed too
    served = client.get("/api/v1/processes/inspect.uischema.json", headers=auth("supervisor"))
    assert served.status_code == 200 and json.loads(served.data) == INSPECT_UI
    assert served.mimetype == "application/json"

    ref = open_case(client, auth)
    photo = client.post("/api/v1/photos", data={"photo": (io.BytesIO(image_bytes()), "done.png")},
                        headers=auth("gw01")).get_json()["id"]
    for who, data in [("dispatcher", {"accepted": True}), ("dispatcher", {"department": "municipal", "note": "派"}),
                      ("gw01", {"result": "resolved", "note": "已扶正", "photos": [photo]})]:
        assert complete(client, auth, ref, who, data)[1].status_code == 200
    inbox = client.get("/api/v1/tasks", headers=auth("gw01")).get_json()["items"]
    (step,) = [t for t in inbox if t["case_ref"] == ref]
    assert (step["bpmn_id"], step["form_key"], step["role"]) == ("inspect", "inspect", "grid_worker")
    documented = client.get("/api/v1/openapi.json").get_json()["x-task-forms"]
    assert documented["inspect"] == INSPECT_SCHEMA

    _, bad = complete(client, auth, ref, "gw01", {"reading": 150, "note": "复查"})
    assert bad.status_code == 422 and "reading" in json.dumps(bad.get_json())
    _, missing = complete(client, auth, ref, "gw01", {"reading": 3})
    assert missing.status_code == 422 and "an inspection note is required" in json.dumps(missing.get_json())
    _, good = complete(client, auth, ref, "gw01", {"reading": 3, "note": "复查合格"})
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["status"] == "verifying"
    assert [t["bpmn_id"] for t in good.get_json()["tasks"]] == ["verify"]


def test_forms_that_are_not_forms_are_refused_and_nothing_is_deployed(client, auth, deploy):
    not_a_schema = {"type": "object", "properties": {"reading": {"type": 12}}}
    cases = [
        ("inspect.schema.json", as_json(not_a_schema), "not a valid JSON Schema"),
        ("inspect.schema.json", b"{not json", "not readable JSON"),
        ("inspect.schema.json", as_json({"type": "object", "properties": {
            "reading": {"type": "string", "x-choices": "planets"}}}), "unknown list 'planets'"),
        ("inspect.uischema.json", as_json(INSPECT_UI), "deploy the form's schema first"),
        ("inspect.schema.json", as_json({**INSPECT_SCHEMA, "properties": {
            "reading": {"$ref": "http://127.0.0.1:9/schema.json"}}}), "refers outside the form"),
        ("inspect.schema.json", as_json({**INSPECT_SCHEMA, "$schema": "http://127.0.0.1:9/meta"}),
         "is not a JSON Schema draft"),
        ("inspect.json", as_json(INSPECT_SCHEMA), "the file name must end in"),
    ]
    for name, data, expected in cases:
        res = deploy(name, data)
        assert res.status_code == 422, (name, res.get_json())
        assert any(expected in p for p in res.get_json()["details"]["problems"]), res.get_json()
    assert deploy("inspect.schema.json", as_json(INSPECT_SCHEMA)).status_code == 201
    wrong_order = deploy("inspect.uischema.json", as_json({"ui:order": ["reading", "nothing"]}))
    assert wrong_order.status_code == 422
    assert "orders an unknown field 'nothing'" in json.dumps(wrong_order.get_json())
    names = {i["name"] for i in client.get("/api/v1/processes", headers=auth("admin")).get_json()["items"]}
    assert "inspect.schema.json" in names and "inspect.uischema.json" not in names


def test_the_cli_deploys_a_form(demo, runner, tmp_path):
    path = tmp_path / "inspect.schema.json"
    path.write_bytes(as_json(INSPECT_SCHEMA))
    result = runner.invoke(args=["processes", "deploy", str(path)])
    assert result.exit_code == 0, result.output
    assert "inspect.schema.json deployed as version 1" in result.output
    listed = runner.invoke(args=["processes", "list"]).output
    assert "inspect.schema.json\tv1\t" in listed and "accept.schema.json\tv1\t" in listed


def test_a_form_deployed_by_another_process_is_read_within_the_reload_interval(app, deploy):
    assert deploy("inspect.schema.json", as_json(INSPECT_SCHEMA)).status_code == 201
    assert load_form("inspect").field("reading").title == "Tilt after repair (degrees)"
    changed = {**INSPECT_SCHEMA, "properties": {**INSPECT_SCHEMA["properties"], "reading": {
        **INSPECT_SCHEMA["properties"]["reading"], "title": "Tilt (degrees)"}}}
    with transaction():  # as another process's deploy writes it: nothing of this process is told
        db.session.add(ProcessFile(name="inspect.schema.json", version=2, sha256=sha256(as_json(changed)),
                                   xml=as_json(changed).decode(), deployed_by="elsewhere", deployed_at=utcnow()))
    app.config["PROCESS_RELOAD_SECONDS"] = 0.2
    time.sleep(0.3)
    assert load_form("inspect").field("reading").title == "Tilt (degrees)"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
KEYWORDS = st.sampled_from(["type", "enum", "title", "x-task-data", "x-public", "x-photos", "x-choices",
                            "x-messages", "maxLength", "pattern", "$ref", "items", "default"])
PROPERTY = st.dictionaries(KEYWORDS, JSON | st.sampled_from(["string", "#/nowhere", "departments"]), max_size=4)


@settings(max_examples=120, deadline=None)
@given(properties=st.dictionaries(st.sampled_from(["a", "b", "note"]), PROPERTY | JSON, max_size=3),
       required=JSON, ui=st.dictionaries(st.sampled_from(["ui:order", "a", "b", "note"]), JSON, max_size=3))
def test_any_form_is_refused_with_problems_or_loads_and_draws(tmp_path_factory, properties, required, ui):
    schema = {"type": "object", "properties": properties, "required": required}
    problems = form_texts_problems("any", json.dumps(schema), json.dumps(ui))
    if problems:
        return
    directory = tmp_path_factory.mktemp("forms")
    (directory / "any.schema.json").write_text(json.dumps(schema))
    (directory / "any.uischema.json").write_text(json.dumps(ui))
    for spec in load_form("any", directory).fields:  # what the inbox page reads of each field
        assert isinstance(spec.widget, str) and spec.data_key.isidentifier()
        spec.enum_options, spec.public, spec.message("required"), spec.title, spec.help
