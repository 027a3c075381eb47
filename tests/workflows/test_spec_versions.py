"""A deploy of the process files must not break cases in flight."""
from __future__ import annotations

from extensions import db
from models import Case, ProcessSpec, transaction
from tests.builders import new_case, work
from tests.processes.edits import grid_case_renamed_dispatch
from workflows import specs
from workflows.deployments import deploy_file


def test_a_case_opened_before_a_deploy_finishes_on_its_own_spec_after_a_restart(demo, monkeypatch):
    old = new_case("repair")
    work(old, "accept", "dispatcher", accepted=True)
    old_hash = old.spec_hash
    with transaction():
        deploy_file("grid_case.bpmn", grid_case_renamed_dispatch(), "tester")
    # As after a restart: nothing parsed in memory, only the database knows the old spec.
    monkeypatch.setattr(specs, "_by_hash", {})
    monkeypatch.setattr(specs, "_parsed", {})
    specs.forget_deployments()

    new = new_case("repair")
    assert new.spec_hash != old_hash
    stored = db.session.get(ProcessSpec, new.spec_hash)
    assert stored.files["grid_case.bpmn"] == 2 and stored.source_file == "grid_case.bpmn"
    case = work(old, "dispatch", "dispatcher", department="property", note="派")
    assert case.status == "disposing" and case.spec_hash == old_hash
    assert db.session.get(Case, new.id).status == "pending_accept"


def test_each_process_of_one_file_set_has_its_own_stored_spec(demo, monkeypatch):
    """Two processes deployed together used to share one hash, and only the first was stored:
    the other came back as the wrong process after a restart."""
    grid = new_case("repair")
    gov = new_case("government_service")
    assert gov.spec_hash != grid.spec_hash
    monkeypatch.setattr(specs, "_by_hash", {})
    monkeypatch.setattr(specs, "_parsed", {})
    assert specs.spec_for_case(gov.process_id, gov.spec_hash).spec.name == "gov_service"
    assert specs.spec_for_case(grid.process_id, grid.spec_hash).spec.name == "grid_case"

