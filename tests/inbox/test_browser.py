"""End to end in Debian's Chromium (Playwright, no browser download): a grid worker on a phone
claims and disposes with a photo, sees a new task arrive without a reload; a dispatcher on a
desktop verifies. Screenshots go to var/screenshots/. Runs on the SQLite backend only."""
from __future__ import annotations

from pathlib import Path

import pytest

from extensions import db
from models import Case
from tests.builders import accept_and_dispatch, image_bytes, new_case

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def live_server(live_server, monkeypatch):
    """The shared server (tests/conftest.py), with the inbox polling every second."""
    monkeypatch.setattr("web.inbox.POLL_SECONDS", 1)
    return live_server


def sign_in(browser, base: str, account: str, viewport: dict):
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/login")
    page.fill("input[name=account]", account)
    page.fill("input[name=password]", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/inbox")
    return page, errors


def dispatched_case(description: str) -> Case:
    case = accept_and_dispatch(new_case("manhole_tilt", description=description, address="锦绣路3幢"))
    db.session.commit()
    return case


def test_grid_worker_disposes_with_a_photo_and_the_dispatcher_verifies(live_server, browser, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = dispatched_case("3幢门口井盖倾斜")
    page, errors = sign_in(browser, live_server, "gw01", PHONE)
    assert page.locator("article.task").count() == 1
    assert page.locator("article.task .task-title").inner_text().startswith("井盖倾斜")

    # A new task arrives while the page is open: it appears without a reload.
    dispatched_case("5幢旁井盖缺失")
    page.wait_for_selector("#new-tasks:not([hidden])", timeout=10_000)
    assert "新任务" in page.inner_text("#new-tasks")
    assert page.locator("article.task").count() == 2
    page.screenshot(path=str(SHOTS / "inbox-grid-worker-phone.png"), full_page=True)

    # Claim the first case's task; the form opens.
    page.locator(f"article.task:has(a[href='/cases/{first.ref}']) button.claim").click()
    page.wait_for_selector("#task-form")
    page.select_option("select[name=result]", "resolved")
    page.fill("textarea[name=note]", "已扶正井盖并加固")
    photo = tmp_path / "after.png"
    photo.write_bytes(image_bytes("PNG", (640, 480), (90, 140, 60)))
    page.set_input_files("input[name=photo_files]", str(photo))
    page.screenshot(path=str(SHOTS / "task-dispose-form-phone.png"), full_page=True)
    page.click("#complete")
    page.wait_for_url(f"{live_server}/cases/{first.ref}")
    assert "核查中" in page.inner_text("#case-status")
    assert page.locator(".timeline img").count() == 1
    page.wait_for_selector("#case-map path.leaflet-interactive")
    page.wait_for_selector("#case-diagram.ready .step-current")
    page.screenshot(path=str(SHOTS / "case-after-dispose-phone.png"), full_page=True)
    assert page.locator("article.task").count() == 0  # the case page has no inbox cards
    page.goto(live_server + "/inbox")
    assert page.locator("article.task").count() == 1, "the disposed task has left the inbox"

    # The dispatcher, on a desktop, verifies it.
    desk, desk_errors = sign_in(browser, live_server, "dispatcher", DESKTOP)
    desk.locator(f"article.task:has(a[href='/cases/{first.ref}']) .task-title a").click()
    desk.wait_for_selector("#task-form")
    desk.check("input[name=passed][value=true]")
    desk.fill("textarea[name=note]", "现场复核通过")
    desk.click("#complete")
    desk.wait_for_url(f"{live_server}/cases/{first.ref}")
    assert "待回访" in desk.inner_text("#case-status")
    desk.wait_for_selector("#case-diagram.ready .step-current")
    desk.screenshot(path=str(SHOTS / "case-after-verify-desktop.png"), full_page=True)
    desk.goto(live_server + "/board?q=井盖")
    assert desk.locator("table.board tbody tr").count() == 2
    desk.screenshot(path=str(SHOTS / "board-desktop.png"), full_page=True)
    page.goto(live_server + "/board")  # a grid worker has no board
    assert "无权操作" in page.inner_text("main")

    assert errors == [] and desk_errors == []
    db.session.expire_all()
    assert db.session.get(Case, first.id).status == "feedback"
