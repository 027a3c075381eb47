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
