"""A resident on a phone-sized Chromium submits requests with a photo, by address, by their
location and on the map; screenshots go to var/screenshots/ (look at them)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from config import ROOT
from extensions import db
from models import Photo
from tests.residents.conftest import work_until_feedback
from workflows.cases import case_by_ref

SHOTS = Path(ROOT) / "var" / "screenshots"
PHONE_SCREEN = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(live_server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed (bash scripts/system-deps.sh test)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE_SCREEN, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
            geolocation={"latitude": 30.2762, "longitude": 120.1451}, permissions=["geolocation"],
        )
        page = context.new_page()
        page.set_default_timeout(10000)
        yield page, live_server
        context.close()
        browser.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_submit_a_repair_with_a_photo_on_a_phone(phone, png_bytes, tmp_path):
    page, base = phone
    photo = tmp_path / "leak.png"
    photo.write_bytes(png_bytes(size=(640, 480), color=(30, 110, 180)))

    page.goto(f"{base}/requests/new")
    page.screenshot(path=SHOTS / "requests-1-pick.png", full_page=True)
    assert fits_the_screen(page)
    page.get_by_role("link", name=re.compile("报事报修")).click()
    page.wait_for_url(re.compile(r"/requests/new/repair$"))
    page.screenshot(path=SHOTS / "requests-2-form.png", full_page=True)

    page.select_option("#item", "plumbing")
    page.fill("#description", "2幢1单元301室厨房水管漏水，楼下天花板已经渗水")
    page.select_option("#community", "jinxiu")
    # Waits by selector or expect: wait_for_function evals in the page, which the CSP refuses.
    page.wait_for_selector("#building option >> nth=1", state="attached")
    page.select_option("#building", "2幢")
    page.select_option("#unit", "1单元")
    page.select_option("#room", label="301室")
    page.set_input_files("#photos", str(photo))
    page.wait_for_selector("#previews img")
    page.fill("#name", "赵女士")
    page.fill("#phone", "138 1234 1234")
    page.screenshot(path=SHOTS / "requests-3-filled.png", full_page=True)
    assert fits_the_screen(page)

    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/requests/done/\d+$"))
    ref = page.inner_text("#tracking-number").strip()
    page.screenshot(path=SHOTS / "requests-4-number.png", full_page=True)
    page.get_by_role("link", name="查看办理进度").click()
    page.wait_for_url(re.compile(rf"/track/{ref}$"))
    assert "已提交，等待受理" in page.content()
    page.wait_for_selector(".previews img")
    page.screenshot(path=SHOTS / "requests-5-track.png", full_page=True)

    db.session.rollback()
    case = case_by_ref(ref)
    assert (case.category, case.address, case.grid.code) == ("repair", "锦绣社区 2幢 1单元 301室", "JX-01")
    assert len(db.session.scalars(select(Photo).where(Photo.case_id == case.id)).all()) == 1

    # Staff handle it; the resident comes back and rates it.
    work_until_feedback(ref, answer="已更换厨房水管接头，楼下天花板已晾干")
    page.reload()
    page.wait_for_selector("#rating")
    page.screenshot(path=SHOTS / "requests-8-rating.png", full_page=True)
    page.check("input[name=satisfaction][value=satisfied]")
    page.fill("textarea[name=comment]", "师傅很专业")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_selector(".flash")
    assert "感谢您的评价" in page.inner_text(".flash")
    page.screenshot(path=SHOTS / "requests-9-rated.png", full_page=True)
    assert fits_the_screen(page)


def test_use_my_location_and_the_map(phone):
    page, base = phone
    page.goto(f"{base}/requests/new/hazard")
    page.select_option("#kind", "group_renting")
    page.fill("#description", "对面楼里住了十几个人，进出频繁")
    page.check("input[name=place][value=here]")
    from playwright.sync_api import expect

    expect(page.locator("#lat")).not_to_have_value("")
    assert "已定位" in page.inner_text("#place-status")
    page.fill("#phone", "13812341234")
    page.screenshot(path=SHOTS / "requests-6-location.png", full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/requests/done/\d+$"))
    db.session.rollback()
    here = case_by_ref(page.inner_text("#tracking-number").strip())
    assert (here.category, round(here.lat, 4), round(here.lon, 4)) == ("group_renting", 30.2762, 120.1451)
    assert here.grid.code == "CY-02"

    page.goto(f"{base}/requests/new/complaint")
    page.select_option("#subject", "parking")
    page.fill("#description", "消防通道长期有车停放")
    page.check("input[name=place][value=map]")
    box = page.locator("#grid-map").bounding_box()
    # A tap a sixth of the way across lands in the first grid (JX-01).
    page.mouse.click(box["x"] + box["width"] / 6, box["y"] + box["height"] / 2)
    assert page.locator("#marker").get_attribute("visibility") == "visible"
    page.fill("#phone", "13812341234")
    page.screenshot(path=SHOTS / "requests-7-map.png", full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/requests/done/\d+$"))
    db.session.rollback()
    mapped = case_by_ref(page.inner_text("#tracking-number").strip())
    assert mapped.grid.code == "JX-01" and 30.270 < mapped.lat < 30.280
