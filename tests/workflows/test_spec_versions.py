"""An edit of the process files must not break cases in flight."""
from __future__ import annotations

import shutil

from extensions import db
from models import Case, ProcessSpec
from tests.builders import new_case, work
from workflows import specs


def test_a_case_opened_before_an_edit_finishes_on_its_own_spec(demo, tmp_path, monkeypatch):
    old = new_case("repair")
    work(old, "accept", "dispatcher", accepted=True)
    old_hash = old.spec_hash

    edited = tmp_path / "bpmn"
    shutil.copytree(specs.BPMN_DIR, edited)
    path = edited / "grid_case.bpmn"
    path.write_text(path.read_text().replace("受理立案 accept", "受理立案（新） accept"))
    monkeypatch.setattr(specs, "BPMN_DIR", edited)
    monkeypatch.setattr(specs, "_current", {})
    monkeypatch.setattr(specs, "_by_hash", {})  # as after a restart: only the database knows

    new = new_case("repair")
    assert new.spec_hash != old_hash
    assert db.session.get(ProcessSpec, new.spec_hash) is not None
    case = work(old, "dispatch", "dispatcher", department="property", note="派")
    assert case.status == "disposing" and case.spec_hash == old_hash
    assert db.session.get(Case, new.id).status == "pending_accept"
