"""Staff pages name a step by what it means (its step kind, in the vocabulary's words), and the
case page shows which reply the resident reads."""
from __future__ import annotations

from tests.builders import new_case, work

ANSWER = "您的高龄津贴已批准，下月起发放。"


def test_a_government_service_case_page_names_its_steps_by_kind(sign_in, demo):
    case = new_case("government_service", description="申请高龄津贴", reporter_name="赵大爷",
                    reporter_phone="13812341234")
    work(case, "accept", "dispatcher", accepted=True, note="材料齐全")
    work(case, "handle", "dept_government", result="resolved", note="已核对户籍")
    client = sign_in("dispatcher")
    page = client.get("/inbox").get_data(as_text=True)
    assert "答复审核" in page  # the open answer step, by its kind's label

    case = work(case, "answer", "dispatcher", passed=True, answer=ANSWER, note="答复内容准确")
    page = client.get(f"/cases/{case.ref}").get_data(as_text=True)
    assert "部门办理" in page and "答复审核" in page and "受理立案" in page
    assert "给居民的回复" in page and ANSWER in page  # the public reply, marked as such
    assert "答复内容准确" in page  # the remark stays visible to the staff


def test_the_inbox_labels_a_grid_step_by_kind(sign_in, disposing_case):
    page = sign_in("gw01").get("/inbox").get_data(as_text=True)
    assert '<span class="step">处置</span>' in page
