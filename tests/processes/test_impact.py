"""A supervisor sees what a changed table would have done to the cases of the last 30 days."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from extensions import db
from handlers.scopes import scope_of_user
from models import Case, transaction
from tests.builders import IN_CY02, account, new_case
from tests.processes.conftest import XML
from tests.processes.edits import routing_to_property
from workflows.impact import table_impact
from workflows.specs import shipped_files

SHIPPED_SLA = shipped_files()["sla.dmn"]
# sla.dmn with high severity disposed of in 6 hours (shipped: 8); the rows above it
# (fire, emergency calls, fire facilities, elevators, doors) keep theirs.
HIGH_IN_SIX = '<outputEntry id="sla_rule_7_out2"><text>6</text></outputEntry>'
SLA_HIGH_SIX_HOURS = SHIPPED_SLA.replace(
    '<outputEntry id="sla_rule_7_out2"><text>8</text></outputEntry>', HIGH_IN_SIX).encode()


def _impact(client, auth, name: str, data: bytes, as_: str = "supervisor", **query):
    return client.post("/api/v1/processes/impact", query_string={"name": name, **query}, data=data,
                       headers={**auth(as_), **XML})


def _open_cases() -> dict[str, Case]:
    """Three manhole_tilt cases (one high, one in the other community), and three of other categories."""
    return {"tilt": new_case("manhole_tilt"), "tilt_high": new_case("manhole_tilt", severity="high"),
            "tilt_cy": new_case("manhole_tilt", at=IN_CY02), "bin": new_case("garbage_bin_full"),
            "bin_high": new_case("garbage_bin_full", severity="high"), "lift": new_case("elevator_fault")}


def _age(case: Case, days: int) -> None:
    with transaction():
        db.session.execute(update(Case).where(Case.id == case.id).values(
            opened_at=case.opened_at - timedelta(days=days)))


def test_a_routing_change_counts_and_shows_the_cases_that_would_go_elsewhere(demo, client, auth):
    cases = _open_cases()
    old = new_case("manhole_tilt")
    _age(old, 31)  # opened before the window: not counted
    res = _impact(client, auth, "routing.dmn", routing_to_property())
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert (body["name"], body["version"], body["days"], body["cases"], body["cut"]) == ("routing.dmn", 1, 30, 6, False)
    assert body["outputs"] == ["handler_role", "department"]
    assert body["changed"] == body["rerouted"]["count"] == 3
    assert body["deadline"] == body["other"] == body["failed"] == {"count": 0, "examples": []}
    examples = {e["ref"]: e for e in body["rerouted"]["examples"]}
    assert set(examples) == {cases[k].ref for k in ("tilt", "tilt_high", "tilt_cy")}
    assert examples[cases["tilt"].ref] == {
        "ref": cases["tilt"].ref, "category": "manhole_tilt", "severity": "normal",
        "old": {"handler_role": "grid_worker", "department": "municipal"},
        "new": {"handler_role": "department", "department": "property"}}
    assert examples[cases["tilt_high"].ref]["old"] == {"handler_role": "department", "department": "municipal"}
    # The newest first.
    assert [e["ref"] for e in body["rerouted"]["examples"]] == [cases[k].ref for k in ("tilt_cy", "tilt_high", "tilt")]

    wider = _impact(client, auth, "routing.dmn", routing_to_property(), days="40").get_json()
    assert (wider["cases"], wider["rerouted"]["count"]) == (7, 4)


def test_a_deadline_change_for_one_severity_counts_only_that_severity(demo, client, auth):
    cases = _open_cases()
    body = _impact(client, auth, "sla.dmn", SLA_HIGH_SIX_HOURS, as_="admin").get_json()
    assert body["outputs"] == ["response_minutes", "dispose_hours"]
    assert (body["cases"], body["changed"], body["rerouted"]["count"]) == (6, 2, 0)
    assert body["deadline"]["count"] == 2
    assert body["deadline"]["examples"] == [
        {"ref": cases[key].ref, "category": category, "severity": "high",
         "old": {"response_minutes": 30, "dispose_hours": 8}, "new": {"response_minutes": 30, "dispose_hours": 6}}
        for key, category in (("bin_high", "garbage_bin_full"), ("tilt_high", "manhole_tilt"))]

    # A row that fails on real cases is shown, not a 500: the cases it fails on are listed.
    failing = SHIPPED_SLA.replace('<outputEntry id="sla_rule_7_out2"><text>8</text>',
                                  '<outputEntry id="sla_rule_7_out2"><text>no_such_name</text>').encode()
    body = _impact(client, auth, "sla.dmn", failing, as_="admin").get_json()
    assert (body["failed"]["count"], body["changed"]) == (2, 0)
    assert {e["ref"] for e in body["failed"]["examples"]} == {cases["bin_high"].ref, cases["tilt_high"].ref}
    assert all("no_such_name" in e["error"] for e in body["failed"]["examples"])


def test_an_unchanged_table_changes_nothing(demo, client, auth):
    _open_cases()
    body = _impact(client, auth, "routing.dmn", shipped_files()["routing.dmn"].encode()).get_json()
    assert (body["cases"], body["changed"], body["rerouted"]["count"], body["deadline"]["count"]) == (6, 0, 0, 0)


def test_broken_xml_is_422_with_the_problems_and_a_grid_worker_is_403(demo, client, auth):
    broken = _impact(client, auth, "routing.dmn", b"<definitions><decision>")
    assert broken.status_code == 422
    assert any("XML" in problem for problem in broken.get_json()["details"]["problems"])
    renamed = SHIPPED_SLA.replace('<decision id="sla"', '<decision id="sla_renamed"').encode()
    res = _impact(client, auth, "sla.dmn", renamed)
    assert res.status_code == 422 and "sla_renamed" in res.get_json()["details"]["problems"][0]
    assert _impact(client, auth, "grid_case.bpmn", shipped_files()["grid_case.bpmn"].encode()).status_code == 422
    assert _impact(client, auth, "nothere.dmn", SLA_HIGH_SIX_HOURS).status_code == 404
    assert _impact(client, auth, "sla.dmn", SLA_HIGH_SIX_HOURS, days="0").status_code == 400
    assert _impact(client, auth, "sla.dmn", SLA_HIGH_SIX_HOURS, as_="gw01").status_code == 403


def test_a_dispatcher_counts_only_the_cases_of_their_community(demo, app):
    cases = _open_cases()
    impact = table_impact("routing.dmn", routing_to_property(), scope=scope_of_user(account("dispatcher")))
    assert (impact.cases, impact.rerouted.count) == (5, 2)
    assert {e["ref"] for e in impact.rerouted.examples} == {cases["tilt"].ref, cases["tilt_high"].ref}


def test_the_cli_prints_the_counts_and_examples(demo, runner, tmp_path):
    cases = _open_cases()
    path = tmp_path / "sla.dmn"
    path.write_bytes(SLA_HIGH_SIX_HOURS)
    result = runner.invoke(args=["processes", "impact", str(path)])
    assert result.exit_code == 0, result.output
    assert "sla.dmn v1 -> proposed: 6 cases of the last 30 days, 2 changed" in result.output
    assert "other deadlines: 2" in result.output
    assert f"{cases['tilt_high'].ref}\tmanhole_tilt\thigh\t" in result.output
