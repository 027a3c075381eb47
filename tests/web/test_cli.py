"""The shell commands of DESIGN.md's contracts."""
from __future__ import annotations

import json

from handlers.tokens import user_for_token


def test_demo_is_idempotent(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and "6 grids" in first.output
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "exists already" in again.output


def test_users_list_and_token(runner, demo):
    listed = runner.invoke(args=["users", "list", "--role", "grid_worker"])
    lines = listed.output.strip().splitlines()
    assert len(lines) == 6 and lines[0].split("\t") == ["gw01", "grid_worker", "JX-01"]
    by_grid = runner.invoke(args=["users", "list", "--grid", "CY-02"]).output
    assert "gw05\tgrid_worker\tCY-02" in by_grid and "gw01" not in by_grid
    token = runner.invoke(args=["users", "token", "dispatcher"]).output.strip()
    assert user_for_token(token).account == "dispatcher"
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code != 0


def test_open_work_and_show_a_case_from_the_shell(runner, demo):
    opened = runner.invoke(args=["cases", "open", "--category", "manhole_tilt", "--lat", "30.275",
                                 "--lon", "120.105", "--description", "3幢门口井盖倾斜"])
    assert opened.exit_code == 0, opened.output
    case = json.loads(opened.output)
    assert case["grid"] == "JX-01" and case["tasks"][0]["role"] == "dispatcher"
    inbox = runner.invoke(args=["cases", "tasks", "--account", "dispatcher"]).output
    task_id = inbox.split("\t")[0]
    assert case["ref"] in inbox
    done = runner.invoke(args=["cases", "complete", task_id, "--account", "dispatcher",
                               "--data", '{"accepted": true}'])
    assert done.exit_code == 0 and json.loads(done.output)["status"] == "pending_dispatch"
    shown = json.loads(runner.invoke(args=["cases", "show", case["ref"]]).output)
    assert [e["kind"] for e in shown["events"]][-2:] == ["task_completed", "task_created"]


def test_shell_errors_are_clear(runner, demo):
    bad = runner.invoke(args=["cases", "open", "--category", "unicorn", "--lat", "30.27", "--lon", "120.1"])
    assert bad.exit_code != 0 and "unknown category 'unicorn'" in bad.output
    bad_json = runner.invoke(args=["cases", "complete", "1", "--account", "dispatcher", "--data", "{x"])
    assert bad_json.exit_code != 0 and "not JSON" in bad_json.output
    missing = runner.invoke(args=["cases", "complete", "9999", "--account", "dispatcher"])
    assert missing.exit_code != 0 and "does not exist" in missing.output
    assert runner.invoke(args=["cases", "show", "nope"]).exit_code != 0
