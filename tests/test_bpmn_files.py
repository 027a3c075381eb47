"""The process files: valid BPMN/DMN, drawable in bpmn.io, covering every category."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from handlers.catalogue_seed import SEED_CATEGORIES as CATEGORIES
from workflows.parsing import ProcessFileParser, lane_role

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
      "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/"}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "scriptTask", "businessRuleTask",
              "exclusiveGateway", "boundaryEvent", "serviceTask", "sendTask", "receiveTask",
              "intermediateCatchEvent", "intermediateThrowEvent", "parallelGateway", "task")


def bpmn_files() -> list[Path]:
    return sorted(BPMN_DIR.glob("*.bpmn"))


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_bpmn_validates_against_the_schema_and_parses(path):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(path))
    parser.add_dmn_files([str(p) for p in BPMN_DIR.glob("*.dmn")])
    for process_id in parser.get_process_ids():
        assert parser.get_spec(process_id).task_specs


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_every_element_is_drawn_so_bpmn_io_can_open_it(path):
    doc = etree.parse(str(path))
    drawn = {el.get("bpmnElement") for el in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {el.get("bpmnElement") for el in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    for tag in FLOW_NODES:
        for node in doc.iterfind(f".//bpmn:{tag}", NS):
            assert node.get("id") in drawn, f"{node.get('id')} has no shape"
    for flow in doc.iterfind(".//bpmn:sequenceFlow", NS):
        assert flow.get("id") in edges, f"{flow.get('id')} has no edge"
    for lane in doc.iterfind(".//bpmn:lane", NS):
        assert lane.get("id") in drawn


def test_grid_case_lanes_declare_the_four_roles():
    doc = etree.parse(str(BPMN_DIR / "grid_case.bpmn"))
    roles = {lane_role(lane) for lane in doc.iterfind(".//bpmn:lane", NS)}
    assert roles == {"reporter", "dispatcher", "handler", "supervisor"}


def _lanes_of_user_tasks(xml: bytes) -> dict[str, str]:
    parser = ProcessFileParser()
    parser.add_bpmn_xml(etree.fromstring(xml), filename="grid_case.bpmn")
    parser.add_dmn_files([str(p) for p in BPMN_DIR.glob("*.dmn")])
    spec = parser.get_spec("grid_case")
    return {name: t.lane for name, t in spec.task_specs.items()
            if "stepKind" in (getattr(t, "extensions", None) or {}).get("properties", {})}


def test_renaming_a_lane_does_not_reroute_its_tasks():
    xml = (BPMN_DIR / "grid_case.bpmn").read_bytes()
    renamed = (xml.replace(b'name="dispatcher">', 'name="受理派遣中心">'.encode())
               .replace(b'name="handler">', 'name="处置人员 staff">'.encode()))
    assert renamed != xml
    before, after = _lanes_of_user_tasks(xml), _lanes_of_user_tasks(renamed)
    assert after == before
    assert (before["accept"], before["dispose"], before["feedback"]) == ("dispatcher", "handler", "reporter")


@pytest.mark.parametrize("name", ["routing.dmn", "sla.dmn"])
def test_decision_tables_cover_every_category_and_are_drawn(name):
    doc = etree.parse(str(BPMN_DIR / name))
    assert doc.find(".//dmndi:DMNShape", NS) is not None
    entries = [e.text for e in doc.iterfind(".//dmn:rule/dmn:inputEntry[1]/dmn:text", NS)]
    assert entries[-1] == "-", "the last rule catches every other category"
    named = " ".join(entries)
    device_and_people = [c for c in CATEGORIES if c not in {"device_offline"}]
    if name == "routing.dmn":
        missing = [c for c in device_and_people if f'"{c}"' not in named]
        assert not missing, f"categories routed only by the fallback rule: {missing}"
