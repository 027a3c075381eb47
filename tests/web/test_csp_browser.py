"""In Debian's Chromium under the Content-Security-Policy: the main pages of every role work
and report no policy violation; a grid named with HTML shows as text in the case page's map
tooltip. SQLite only (the browser path runs once)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Grid, transaction
from tests.builders import new_case

pytestmark = pytest.mark.browser
XSS_NAME = "<img src=x onerror=window.__xss=1>"
# Collects what the page's policy refused, whatever the console says.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || ''));
});
"""



class Watched:
    """A page whose console errors, script errors and policy violations are collected."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.context.add_init_script(WATCH_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if "Content Security Policy" in m.text
                     or "Content-Security-Policy" in m.text else None)
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))

    def visit(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        self.check(path)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations")
        assert not violations and not self.problems, (where, violations, self.problems)

    def sign_in(self, account: str) -> None:
        self.visit("/login")
        self.page.fill("input[name=account]", account)
        self.page.fill("input[name=password]", "demo1234")
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        self.check(f"signed in as {account}")


def test_main_pages_run_under_the_policy_without_violations(live_server, browser):
    case = new_case(description="3幢门口井盖倾斜", address="锦绣路3幢")
    db.session.commit()

    visitor = Watched(browser, live_server)
    for path in ("/requests/new", "/track", "/no/such/page"):
        visitor.visit(path)
    visitor.visit("/requests/new/repair")
    # The map's width is set by the static script now (it was a style attribute).
    assert visitor.page.evaluate("document.getElementById('grid-map').style.width") != ""
    visitor.page.check("input[name=place][value=map]")
    assert visitor.page.is_visible("#grid-map")
    visitor.check("request form, map chosen")

    worker = Watched(browser, live_server)
    worker.sign_in("gw01")
    worker.visit("/inbox")
    worker.visit(f"/cases/{case.ref}")
    # Leaflet and the bpmn-js diagram both run under the policy.
    worker.page.wait_for_selector("#case-diagram.ready")
    assert worker.page.locator("#case-map path.leaflet-interactive").count() >= 1
    worker.check("case page")

    dispatcher = Watched(browser, live_server)
    dispatcher.sign_in("dispatcher")
    dispatcher.visit("/board")

    supervisor = Watched(browser, live_server)
    supervisor.sign_in("supervisor")
    supervisor.visit("/reports")
    # The period fields follow the chosen period (reports.js, formerly an inline script).
    supervisor.page.select_option("#period", "week")
    assert supervisor.page.is_visible("[data-period=week]") and not supervisor.page.is_visible("[data-period=month]")
    supervisor.check("reports page")

    admin = Watched(browser, live_server)
    admin.sign_in("admin")
    for path in ("/admin/users", "/admin/users/gw01", "/admin/roles", "/admin/audit"):
        admin.visit(path)


def test_a_grid_named_with_html_shows_as_text_in_the_map_tooltip(live_server, browser):
    with transaction():
        db.session.scalar(select(Grid).where(Grid.code == "JX-01")).name = XSS_NAME
    case = new_case(description="楼道堆物", address="锦绣路5幢")
    db.session.commit()
    worker = Watched(browser, live_server)
    worker.sign_in("gw01")
    worker.visit(f"/cases/{case.ref}")
    own = worker.page.locator('#case-map path.leaflet-interactive[stroke="#0b6bcb"]')
    box = own.bounding_box()
    tooltip = worker.page.locator(".leaflet-tooltip")
    # Somewhere inside the grid and off the case's marker.
    for fx, fy in ((0.3, 0.5), (0.7, 0.5), (0.5, 0.3), (0.5, 0.7), (0.35, 0.35), (0.65, 0.65)):
        worker.page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        if tooltip.count() and tooltip.first.is_visible():
            break
    assert tooltip.first.is_visible(), "no tooltip over the grid"
    assert tooltip.first.inner_text() == f"JX-01 {XSS_NAME}"
    assert tooltip.first.locator("img").count() == 0
    assert worker.page.evaluate("window.__xss") is None
    worker.check("tooltip")
