"""Lint of the process files (workflows/lint.py, ``flask processes check``): each problem it must
refuse, shown on a small broken file, and the shipped files pass."""
from __future__ import annotations

from pathlib import Path

import pytest

from web.commands.process_check import check_command
from workflows.lint import lint_files

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
CATEGORIES = ["repair", "complaint"]

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="small_defs"
  targetNamespace="https://smart-community.example/bpmn">
  <bpmn:process id="small" isExecutable="true">
    <bpmn:laneSet id="small_lanes">
      <bpmn:lane id="lane_centre" name="受理中心">
        <bpmn:extensionElements><spiffworkflow:properties>LANE_ROLE</spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>route</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>accept</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>gw</bpmn:flowNodeRef><bpmn:flowNodeRef>end_yes</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_no</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="route"><bpmn:extensionElements><spiffworkflow:calledDecisionId>small_routing</spiffworkflow:calledDecisionId></bpmn:extensionElements><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:userTask id="accept" name="受理"><bpmn:extensionElements><spiffworkflow:properties>TASK_PROPS</spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" name="受理?"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="route" />
    <bpmn:sequenceFlow id="f1" sourceRef="route" targetRef="accept" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="gw" />
    <bpmn:sequenceFlow id="f_yes" YES_NAME sourceRef="gw" targetRef="end_yes"><bpmn:conditionExpression>accepted</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" name="不予受理" sourceRef="gw" targetRef="end_no"><bpmn:conditionExpression>not accepted</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""
GOOD_LANE = '<spiffworkflow:property name="role" value="dispatcher" />'
GOOD_TASK = ('<spiffworkflow:property name="stepKind" value="accept" />'
             '<spiffworkflow:property name="formKey" value="accept" />'
             '<spiffworkflow:property name="caseStatus" value="pending_accept" />'
             '<spiffworkflow:property name="dueData" value="accept_due_at" />')

TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="small_routing_defs" name="routing"
  namespace="https://smart-community.example/dmn">
  <decision id="small_routing" name="routing">
    <decisionTable id="small_routing_table" hitPolicy="HIT_POLICY">
      <input id="in_category" label="category"><inputExpression id="e1" typeRef="string"><text>category</text></inputExpression></input>
      <input id="in_severity" label="severity"><inputExpression id="e2" typeRef="string"><text>severity</text></inputExpression></input>
      <output id="out_department" label="department" name="department" typeRef="string" />
      <rule id="r1"><inputEntry id="r1c"><text>"repair"</text></inputEntry><inputEntry id="r1s"><text>"urgent"</text></inputEntry><outputEntry id="r1o"><text>"property"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2c"><text>"repair"</text></inputEntry><inputEntry id="r2s"><text>-</text></inputEntry><outputEntry id="r2o"><text>"community_office"</text></outputEntry></rule>
      LAST_ROW
    </decisionTable>
  </decision>
</definitions>
"""
CATCH_ALL = ('<rule id="r3"><inputEntry id="r3c"><text>-</text></inputEntry><inputEntry id="r3s"><text>-</text>'
             '</inputEntry><outputEntry id="r3o"><text>"community_office"</text></outputEntry></rule>')


def files(lane: str = GOOD_LANE, task: str = GOOD_TASK, yes_name: str = 'name="受理"',
          hit_policy: str = "FIRST", last_row: str = CATCH_ALL) -> dict[str, str]:
    process = (PROCESS.replace("LANE_ROLE", lane).replace("TASK_PROPS", task).replace("YES_NAME", yes_name))
    table = TABLE.replace("HIT_POLICY", hit_policy).replace("LAST_ROW", last_row)
    return {"small.bpmn": process, "small_routing.dmn": table}


def problems(**changes) -> list[str]:
    return [str(p) for p in lint_files(files(**changes), categories=CATEGORIES)]


def test_the_small_files_pass():
    assert problems() == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"lane": ""}, "lane '受理中心' declares no role"),
    ({"lane": '<spiffworkflow:property name="role" value="janitor" />'}, "lane role 'janitor' is unknown"),
    ({"task": GOOD_TASK.replace('name="stepKind" value="accept"', 'name="other" value="x"')},
     "accept: user task declares no step kind"),
    ({"task": GOOD_TASK.replace('value="accept" />', 'value="approve_twice" />', 1)},
     "step kind 'approve_twice' is unknown"),
    ({"task": GOOD_TASK.replace('name="formKey" value="accept"', 'name="formKey" value="no_such_form"')},
     "form 'no_such_form' is not declared"),
    ({"task": GOOD_TASK.replace('value="pending_accept"', 'value="pending_magic"')},
     "case status 'pending_magic' is not in the vocabulary"),
    ({"task": GOOD_TASK.replace('name="dueData"', 'name="dueDate"')}, "accept: user task declares no deadline"),
    ({"task": GOOD_TASK.replace('value="accept_due_at"', 'value="in two days"')},
     "deadline 'in two days' is not a data name"),
    ({"yes_name": ""}, "f_yes: branch out of gateway '受理?' has no label"),
    ({"hit_policy": "UNIQUE"}, "hit policy UNIQUE but rows overlap"),
    ({"last_row": ""}, "category 'complaint', severity 'low' matches no row: the category has no route"),
    ({"last_row": CATCH_ALL.replace('"community_office"', '"nowhere"')},
     "department 'nowhere' is not in the catalogue (e.g. for category 'complaint'"),
])
def test_each_problem_is_caught_on_a_small_broken_file(changes, expected):
    found = problems(**changes)
    assert any(expected in p for p in found), found


def test_an_invalid_form_is_refused(tmp_path):
    (tmp_path / "accept.schema.json").write_text('{"type": "object", "properties": {"a": {"type": "sometimes"}}}')
    found = [str(p) for p in lint_files(files(), categories=CATEGORIES, forms_dir=tmp_path)]
    assert any("form 'accept': not a valid JSON Schema" in p for p in found), found


def test_a_file_that_is_not_xml_is_refused():
    broken = {**files(), "small.bpmn": "<bpmn:definitions"}
    found = [str(p) for p in lint_files(broken, categories=CATEGORIES)]
    assert found and found[0].startswith("small.bpmn: not well-formed XML")


def test_the_shipped_files_pass_lint_with_the_catalogues_categories(app):
    with app.app_context():
        assert lint_files(sorted(BPMN_DIR.glob("*.bpmn")) + sorted(BPMN_DIR.glob("*.dmn"))) == []


def test_flask_processes_check_passes_on_the_shipped_files_and_fails_on_a_broken_one(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(check_command, [])
    assert ok.exit_code == 0, ok.output
    assert "no problems" in ok.output
    broken = tmp_path / "routing.dmn"
    broken.write_text((BPMN_DIR / "routing.dmn").read_text("utf-8").replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"'))
    refused = runner.invoke(check_command, [str(broken)])
    assert refused.exit_code == 1
    assert "routing.dmn: routing: hit policy UNIQUE but rows overlap" in refused.output
