"""Cases recorded by an older SpiffWorkflow are migrated (state and spec together) and finish."""
from __future__ import annotations

import json

import pytest
from SpiffWorkflow.bpmn.serializer.workflow import VERSION

from extensions import db
from models import Case, ProcessSpec, transaction
from tests.builders import new_case, work
from workflows import specs
from workflows.engine import ENGINE_VERSION, MigrationError, migrate_workflow_dict, spec_to_json

OLD_ENGINE = "SpiffWorkflow 2.0.0"


def _record_as_older(case: Case, version: str) -> None:
    """Mark the case's state and its stored spec as written in serializer format ``version``.

    Formats 1.3 and 1.4 differ from 1.5 only for multi-instance tasks and event-based gateways
    (SpiffWorkflow's migrations 1.3->1.4->1.5 touch nothing else), which these processes do
    not have: the same JSON under "1.3" is what SpiffWorkflow 2.x wrote for them."""
    with transaction():
        row = db.session.get(ProcessSpec, case.spec_hash)
        row.serializer_version, row.engine_version = version, OLD_ENGINE
        stored = db.session.get(Case, case.id)
        stored.serializer_version, stored.engine_version = version, OLD_ENGINE


@pytest.fixture
def restarted(monkeypatch):
    """As after an upgrade: nothing parsed in memory."""
    def restart():
        monkeypatch.setattr(specs, "_by_hash", {})
        monkeypatch.setattr(specs, "_parsed", {})
        specs.forget_deployments()
    return restart


def test_engine_version_comes_from_the_installed_package():
    from importlib.metadata import version

    assert ENGINE_VERSION == f"SpiffWorkflow {version('SpiffWorkflow')}"


def test_a_case_recorded_under_an_older_serializer_format_is_migrated_and_completed(demo, restarted):
    case = new_case("manhole_tilt")
    case = work(case, "accept", "dispatcher", accepted=True)
    _record_as_older(case, "1.3")
    restarted()

    case = work(case, "dispatch", "dispatcher", department="municipal", note="派")
    stored = db.session.get(Case, case.id)
    assert (stored.serializer_version, stored.engine_version) == (VERSION, ENGINE_VERSION)
    case = work(case, "dispose", "gw01", result="resolved", note="已扶正")
    case = work(case, "verify", "dispatcher", passed=True, note="ok")
    case = work(case, "feedback", "dispatcher", satisfaction="satisfied", comment="好")
    case = work(case, "close", "dispatcher", note="结案")
    assert case.status == "closed" and case.closed_at is not None


def test_the_migration_runs_every_step_with_the_spec_beside_the_state(demo):
    case = new_case("manhole_tilt")
    spec_dict = json.loads(spec_to_json(*_parsed(case)))
    whole = {**json.loads(case.state), **spec_dict}
    # SpiffWorkflow's own table runs only 1.3 -> 1.4 from "1.3"; both steps must run.
    assert migrate_workflow_dict(whole, "1.3") == ["1.3", "1.4"]
    assert "VERSION" not in whole and set(whole["spec"]["task_specs"]) == set(spec_dict["spec"]["task_specs"])
    with pytest.raises(MigrationError, match="0.9"):
        migrate_workflow_dict({**json.loads(case.state), **spec_dict}, "0.9")


def _parsed(case):
    loaded = specs.spec_for_case(case.process_id, case.spec_hash)
    return loaded.spec, loaded.subprocess_specs


# --- a genuine 1.2 record --------------------------------------------------------------------
# Serializer format 1.2 (an older SpiffWorkflow) wrote boundary events under a
# "_BoundaryEventParent" task instead of a split and a join, kept a "Root" task above the start,
# had no task typenames, and kept internal/external flags on event definitions: its migration
# (version_1_3.py) says so. The record below is a case of ours written that way. SpiffWorkflow's
# own ``migrate`` would stop at 1.3, and its 1.2 step fails on a gateway without a default flow.

def _downgrade_spec_to_1_2(spec: dict) -> None:
    specs_ = spec["task_specs"]
    for join_name in [n for n, s in specs_.items() if s["typename"] == "BoundaryEventJoin"]:
        join = specs_.pop(join_name)
        split_name = join["split_task"]
        parent_name = split_name.replace("BoundaryEventSplit", "BoundaryEventParent")
        split = specs_.pop(split_name)
        split.update(name=parent_name, typename="_BoundaryEventParent", main_child_task_spec=split["outputs"][0])
        specs_[parent_name] = split
        for before in split["inputs"]:
            specs_[before]["outputs"] = [parent_name if o == split_name else o for o in specs_[before]["outputs"]]
            for condition in specs_[before].get("cond_task_specs", []):
                if condition["task_spec"] == split_name:
                    condition["task_spec"] = parent_name
            if specs_[before].get("default_task_spec") == split_name:
                specs_[before]["default_task_spec"] = parent_name
        for child in split["outputs"]:
            specs_[child]["inputs"] = [parent_name if i == split_name else i for i in specs_[child]["inputs"]]
            specs_[child]["outputs"] = [o for o in specs_[child]["outputs"] if o != join_name]
    for task_spec in specs_.values():
        if "event_definition" in task_spec:
            task_spec["event_definition"].update(internal=False, external=False)
    specs_["Root"] = {"name": "Root", "description": "", "manual": False, "lookahead": 2, "inputs": [],
                      "outputs": [], "typename": "Simple"}


def _downgrade_state_to_1_2(state: dict) -> None:
    tasks = state["tasks"]
    for task_id in [i for i, t in tasks.items() if t["task_spec"].endswith("BoundaryEventJoin")]:
        joined = tasks.pop(task_id)
        tasks[joined["parent"]]["children"].remove(task_id)
    for task in tasks.values():
        task.pop("typename", None)
        task["task_spec"] = task["task_spec"].replace("BoundaryEventSplit", "BoundaryEventParent")
    start = tasks[state["root"]]
    root = {"id": "00000000-0000-4000-8000-000000000001", "parent": None, "children": [start["id"]],
            "last_state_change": start["last_state_change"], "state": 64, "task_spec": "Root",
            "triggered": False, "internal_data": {}, "data": {}}
    start["parent"] = root["id"]
    tasks[root["id"]] = root
    state["root"] = root["id"]
    state.pop("typename", None)


def test_a_case_written_in_format_1_2_is_migrated_through_every_step_and_completed(demo, restarted):
    case = new_case("manhole_tilt")
    case = work(case, "accept", "dispatcher", accepted=True)
    case = work(case, "dispatch", "dispatcher", department="municipal", note="派")  # dispose waits, its timer set
    with transaction():
        row = db.session.get(ProcessSpec, case.spec_hash)
        spec = json.loads(row.spec)
        _downgrade_spec_to_1_2(spec["spec"])
        stored = db.session.get(Case, case.id)
        state = json.loads(stored.state)
        _downgrade_state_to_1_2(state)
        assert "dispose.BoundaryEventParent" in spec["spec"]["task_specs"]
        row.spec, row.serializer_version, row.engine_version = json.dumps(spec), "1.2", OLD_ENGINE
        stored.state, stored.serializer_version, stored.engine_version = json.dumps(state), "1.2", OLD_ENGINE
    restarted()

    case = work(case, "dispose", "gw01", result="resolved", note="已扶正")
    stored = db.session.get(Case, case.id)
    assert (stored.serializer_version, stored.engine_version) == (VERSION, ENGINE_VERSION)
    assert "BoundaryEventParent" not in stored.state
    case = work(case, "verify", "dispatcher", passed=True, note="ok")
    case = work(case, "feedback", "dispatcher", satisfaction="satisfied", comment="好")
    case = work(case, "close", "dispatcher", note="结案")
    assert case.status == "closed" and case.closed_at is not None
