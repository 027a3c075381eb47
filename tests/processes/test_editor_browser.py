"""In Debian's Chromium (Playwright): an administrator opens grid_case.bpmn in the modeler, changes
the dispose step's deadline property in the step panel, deploys; opens routing.dmn in dmn-js,
changes a cell, deploys. Both are new versions that keep every spiffworkflow:property. A grid
worker cannot open the pages. No console error, no CSP violation. SQLite only."""
from __future__ import annotations

import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.inbox.test_browser import SHOTS

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1400, "height": 900}
# dmn-js's production bundle warns about Inferno's build itself; a failed load is reported with
# its address by the response listener instead (the browser's own /favicon.ico is not ours; a 422
# is the refusal the test asks for).
NOT_OURS = ("It looks like you're using a minified copy of the development build of Inferno",
            "Failed to load resource")
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"



def signed_in(browser, base: str, account: str):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type} on {page.url}: {msg.text[:200]}")
            if (msg.type == "error" or "Content Security Policy" in msg.text)
            and not msg.text.startswith(NOT_OURS) else None)
    page.on("response", lambda res: problems.append(f"{res.status} {res.url}")
            if res.status >= 400 and res.status != 422 and not res.url.endswith("/favicon.ico") else None)
    page.goto(base + "/login")
    page.fill("input[name=account]", account)
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/inbox")
    return page, problems


def spiff_properties(xml: bytes) -> list[tuple[str, str, str]]:
    """(owner id, name, value) of every spiffworkflow:property in a process file."""
    root = etree.fromstring(xml)
    found = []
    for prop in root.iter(SPIFF + "property"):
        owner = prop.getparent().getparent().getparent()
        found.append((owner.get("id"), prop.get("name"), prop.get("value")))
    return sorted(found)


def current(client, auth, name: str) -> tuple[int, bytes]:
    listed = {i["name"]: i for i in client.get("/api/v1/processes", headers=auth("admin")).get_json()["items"]}
    xml = client.get(f"/api/v1/processes/{name}", headers=auth("admin")).data
    return listed[name]["version"], xml


def deployed_message(page) -> str:
    page.click("#deploy")
    page.wait_for_selector("#deploy-status[data-state]:not([data-state=working])", timeout=20_000)
    return page.inner_text("#deploy-status")


def test_an_admin_edits_a_step_and_a_table_in_the_browser_and_deploys(live_server, browser, client, auth):
    version, before = current(client, auth, "grid_case.bpmn")
    page, problems = signed_in(browser, live_server, "admin")
    page.goto(live_server + "/processes")
    assert "grid_case.bpmn" in page.inner_text("table.processes")
    page.click("table.processes a[href='/processes/grid_case.bpmn/edit']")
    page.wait_for_selector("#editor-canvas.ready .djs-element[data-element-id=dispose]")

    page.click(".djs-element[data-element-id=dispose] .djs-hit")
    page.wait_for_selector("#step-panel:not([hidden])")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "process-editor-desktop.png"))
    assert page.input_value("#step-panel select[name=stepKind]") == "dispose"
    assert page.input_value("#step-panel select[name=formKey]") == "dispose"
    assert page.input_value("#step-panel input[name=dueData]") == "due_at"
    page.fill("#step-panel input[name=dueData]", "accept_due_at")
    # Leaving the field changes the property, as a modeling command: undo takes it back, redo
    # brings it again.
    page.click(".djs-element[data-element-id=dispose] .djs-hit")
    due = page.locator("#step-panel input[name=dueData]")
    page.keyboard.press("Control+Z")
    expect(due).to_have_value("due_at")
    page.keyboard.press("Control+Y")
    expect(due).to_have_value("accept_due_at")
    assert "版本 " + str(version + 1) in deployed_message(page)

    new_version, after = current(client, auth, "grid_case.bpmn")
    assert new_version == version + 1
    changed = [p for p in spiff_properties(after) if p not in spiff_properties(before)]
    assert changed == [("dispose", "dueData", "accept_due_at")]
    assert len(spiff_properties(after)) == len(spiff_properties(before))
    assert b"<spiffworkflow:calledDecisionId>routing</spiffworkflow:calledDecisionId>" in after

    # A lane's role the engine does not know is refused: the problems show on the page.
    page.locator(".djs-element[data-element-id=lane_handler] > .djs-hit-all").dispatch_event("click")  # under the palette
    expect(page.locator("#step-panel .lane-fields input[name=role]")).to_have_value("handler")
    page.fill("#step-panel input[name=role]", "nobody")
    page.press("#step-panel input[name=role]", "Tab")
    deployed_message(page)
    assert page.get_attribute("#deploy-status", "data-state") == "refused"
    assert "lane role 'nobody' is unknown" in page.inner_text("#deploy-problems")
    assert current(client, auth, "grid_case.bpmn")[0] == version + 1

    # The decision table: change the first rule's department from "fire" to "property".
    table_version, _ = current(client, auth, "routing.dmn")
    page.goto(live_server + "/processes/routing.dmn/edit")
    page.wait_for_selector("#editor-canvas.ready .tjs-table")
    cell = page.locator("td[data-element-id=routing_rule_1_out2] .content-editable")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type('"property"')
    page.click("h1")  # leave the cell
    page.screenshot(path=str(SHOTS / "decision-table-editor-desktop.png"))
    assert "版本 " + str(table_version + 1) in deployed_message(page)
    new_table_version, table = current(client, auth, "routing.dmn")
    assert new_table_version == table_version + 1
    assert b'"property"' in etree.tostring(etree.fromstring(table).find(
        ".//{*}outputEntry[@id='routing_rule_1_out2']"))
    assert problems == [], "\n".join(problems)

    worker, _ = signed_in(browser, live_server, "gw01")
    for path in ("/processes", "/processes/grid_case.bpmn/edit"):
        assert worker.goto(live_server + path).status == 403
