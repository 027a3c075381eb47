"""``flask processes list|deploy`` from the shell, audited with the file's hash."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import AuditEntry
from tests.builders import new_case
from tests.processes.conftest import sha256
from tests.processes.edits import sla_six_hours


def test_cli_deploys_a_deadline_change_for_the_next_case_and_lists_it(demo, runner, tmp_path):
    before = new_case("manhole_tilt")
    assert (before.due_at - before.opened_at).total_seconds() == 24 * 3600
    path = tmp_path / "sla.dmn"
    path.write_bytes(sla_six_hours())

    result = runner.invoke(args=["processes", "deploy", str(path)])
    assert result.exit_code == 0, result.output
    assert f"sla.dmn deployed as version 2 (sha256 {sha256(path.read_bytes())})" in result.output
    after = new_case("manhole_tilt")
    assert (after.due_at - after.opened_at).total_seconds() == 6 * 3600

    listed = runner.invoke(args=["processes", "list"]).output.splitlines()
    sla = next(line.split("\t") for line in listed if line.startswith("sla.dmn\t"))
    assert sla[1:3] == ["v2", sha256(path.read_bytes())] and sla[3].startswith("cli:")
    assert any(line.startswith("grid_case.bpmn\tv1\t") for line in listed)

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.operation == "cli processes deploy"))
    assert entry.detail["sha256"] == sha256(path.read_bytes()) and entry.detail["version"] == 2
    assert entry.target == "sla.dmn" and entry.operator.startswith("cli:")

    again = runner.invoke(args=["processes", "deploy", str(path)])
    assert again.exit_code == 0 and "unchanged, still version 2" in again.output


def test_cli_refuses_a_broken_file_and_lists_the_problems(demo, runner, tmp_path):
    path = tmp_path / "routing.dmn"
    path.write_text("<definitions><decision id='routing'>", "utf-8")
    result = runner.invoke(args=["processes", "deploy", str(path)])
    assert result.exit_code == 1
    assert "not well-formed XML" in result.output and "routing.dmn is not deployed" in result.output
    assert "routing.dmn\tv1\t" in runner.invoke(args=["processes", "list"]).output
