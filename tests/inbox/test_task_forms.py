"""Task forms declared as JSON Schema next to the processes (bpmn/forms/): the inbox draws them
and says which fields the resident sees; the API checks the very same schema."""
from __future__ import annotations

from tests.builders import new_case, open_task, work
from tests.inbox.conftest import PAGE, csrf_token


def page(res) -> str:
    return res.get_data(as_text=True)


def gov_case_waiting_for_the_answer():
    case = new_case("government_service", description="申请高龄津贴", reporter_name="赵大爷",
                    reporter_phone="13812341234")
    work(case, "accept", "dispatcher", accepted=True, note="材料齐全")
    return work(case, "handle", "dept_government", result="resolved", note="已核对户籍，符合条件")


def test_the_answer_step_has_its_own_form_with_a_public_answer(sign_in, demo):
    case = gov_case_waiting_for_the_answer()
    client = sign_in("dispatcher")
    url = f"/tasks/{open_task(case, 'answer').id}"
    form = page(client.get(url, headers=PAGE))
    assert 'name="answer"' in form and "给居民的答复" in form and "居民可见" in form
    assert "是否向居民发出此答复" in form
    # The reviewer reads what the department wrote (the texts the last steps' forms hold).
    assert "已核对户籍，符合条件" in form and "材料齐全" in form
    # Approving without an answer: the answer field says what is missing, in Chinese.
    token = csrf_token(client, url)
    silent = client.post(url, data={"csrf_token": token, "passed": "true", "note": "答复内容准确"}, headers=PAGE)
    assert silent.status_code == 422 and "请填写给居民的答复" in page(silent)
    done = client.post(url, data={"csrf_token": token, "passed": "true", "answer": "您的高龄津贴已批准。",
                                  "note": "答复内容准确"})
    assert done.status_code == 303


def test_the_disposal_form_marks_the_note_internal_and_the_reply_public(sign_in, disposing_case):
    client = sign_in("gw01")
    form = page(client.get(f"/tasks/{open_task(disposing_case, 'dispose').id}", headers=PAGE))
    assert "内部意见：仅工作人员可见，居民看不到。" in form
    assert 'name="reply"' in form and "给居民的回复" in form and form.count("居民可见") == 1


def test_the_api_checks_the_same_schema_and_names_the_fields(client, auth, demo):
    case = gov_case_waiting_for_the_answer()
    task = open_task(case, "answer")
    headers = auth("dispatcher")
    bad = client.post(f"/api/v1/tasks/{task.id}/complete",
                      json={"data": {"passed": "perhaps", "answer": 12}}, headers=headers)
    assert bad.status_code == 422
    body = bad.json
    assert body["error"] == "invalid" and set(body["details"]) == {"passed", "answer"}
    ok = client.post(f"/api/v1/tasks/{task.id}/complete",
                     json={"data": {"passed": False, "note": "请补充发放时间"}}, headers=headers)
    assert ok.status_code == 200, ok.json


def test_the_openapi_document_carries_the_task_forms(client, auth):
    document = client.get("/api/v1/openapi.json", headers=auth("dispatcher")).json
    forms = document["x-task-forms"]
    assert {"accept", "dispatch", "dispose", "verify", "answer", "feedback", "close", "escalate"} <= set(forms)
    assert forms["answer"]["properties"]["answer"]["x-public"] is True
    assert "x-public" not in forms["dispose"]["properties"]["note"]


def test_a_task_form_posted_without_the_csrf_token_is_refused(sign_in, disposing_case):
    client = sign_in("gw01")
    task = open_task(disposing_case, "dispose")
    res = client.post(f"/tasks/{task.id}", data={"result": "resolved", "note": "已修复"}, headers=PAGE)
    assert res.status_code == 400
    assert open_task(disposing_case, "dispose").id == task.id
