"""The inbox and the task forms over HTTP: login, CSRF, claim, hand back, complete, errors in place."""
from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from extensions import db
from models import Case, Photo, Task
from tests.builders import IN_CY02, accept_and_dispatch, image_bytes, new_case, open_task, work
from tests.inbox.conftest import PAGE, csrf_token
from workflows import fire_due_timers


def page(res) -> str:
    return res.get_data(as_text=True)


@pytest.mark.parametrize("method, url", [
    ("get", "/inbox"), ("get", "/inbox/updates"), ("get", "/tasks/1"), ("post", "/tasks/1"),
    ("post", "/tasks/1/claim"), ("post", "/tasks/1/unclaim"), ("get", "/cases/261124000001"),
    ("get", "/board"), ("get", "/cases/process/grid_case.bpmn"),
])
def test_every_page_needs_a_login(client, demo, method, url):
    res = getattr(client, method)(url, headers=PAGE)
    if method == "post":  # CSRF is checked before anything else: no token, no entry
        assert res.status_code in (302, 400)
    else:
        assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_inbox_lists_claimable_work_overdue_first_in_chinese(sign_in, disposing_case, demo):
    client = sign_in("gw01")
    later = new_case("repair", description="楼道灯不亮")
    work(later, "accept", "dispatcher", accepted=True)
    work(later, "dispatch", "dispatcher", department="property", handler_role="grid_worker", note="请处理")
    # The dispose task of the first case is overdue.
    task = open_task(disposing_case, "dispose")
    task.due_at = task.due_at.replace(year=2020)
    db.session.commit()

    html = page(client.get("/inbox", headers=PAGE))
    assert "我的待办" in html and "待签收" in html and "签收" in html
    assert html.index("井盖倾斜") < html.index("楼道灯不亮"), "the overdue task comes first"
    assert "已超时" in html and "剩余" in html
    assert f'data-task="{task.id}"' in html
    # Another grid's worker sees none of it.
    other = page(sign_in("gw04").get("/inbox", headers=PAGE))
    assert "井盖倾斜" not in other and "您的网格暂无待办任务" in other


def test_claim_and_hand_back_need_the_csrf_token(sign_in, disposing_case):
    client = sign_in("gw01")
    task = open_task(disposing_case, "dispose")
    assert client.post(f"/tasks/{task.id}/claim", headers=PAGE).status_code == 400
    token = csrf_token(client, "/inbox")
    res = client.post(f"/tasks/{task.id}/claim", data={"csrf_token": token})
    assert res.status_code == 303 and res.headers["Location"].endswith(f"/tasks/{task.id}")
    assert open_task(disposing_case, "dispose").assignee_id is not None
    assert "我已签收" in page(client.get("/inbox", headers=PAGE))

    # Someone of another role cannot take it; the page says why.
    colleague = sign_in("dispatcher")
    taken = colleague.post(f"/tasks/{task.id}/claim", data={"csrf_token": csrf_token(colleague, "/inbox")},
                           headers=PAGE)
    assert taken.status_code == 403 and "无权操作" in page(taken)

    client = sign_in("gw01")
    back = client.post(f"/tasks/{task.id}/unclaim", data={"csrf_token": csrf_token(client, "/inbox")})
    assert back.status_code == 303
    assert open_task(disposing_case, "dispose").assignee_id is None
    again = client.post(f"/tasks/{task.id}/unclaim", data={"csrf_token": csrf_token(client, "/inbox")},
                        headers=PAGE)
    assert again.status_code == 409 and "not claimed" in page(again)


def test_dispose_needs_result_note_and_a_real_photo_errors_in_place(sign_in, disposing_case):
    client = sign_in("gw01")
    task = open_task(disposing_case, "dispose")
    url = f"/tasks/{task.id}"
    token = csrf_token(client, url)

    empty = client.post(url, data={"csrf_token": token}, headers=PAGE)
    assert empty.status_code == 422
    html = page(empty)
    assert "请填写处置说明" in html and "请至少上传一张处置照片" in html and "必填" in html

    junk = client.post(url, data={"csrf_token": token, "result": "resolved", "note": "已修复",
                                  "photo_files": (io.BytesIO(b"not an image"), "x.jpg")},
                       content_type="multipart/form-data", headers=PAGE)
    assert junk.status_code == 422 and "x.jpg：文件不是可" in page(junk)
    forged = client.post(url, data={"csrf_token": token, "result": "resolved", "note": "已修复",
                                    "photos": "deadbeef"}, headers=PAGE)
    assert forged.status_code == 422 and "照片不存在，请重新上传" in page(forged)

    # A good photo with a missing note: the photo is kept, the form shows it again.
    half = client.post(url, data={"csrf_token": token, "result": "resolved",
                                  "photo_files": (io.BytesIO(image_bytes("JPEG")), "done.jpg")},
                       content_type="multipart/form-data", headers=PAGE)
    assert half.status_code == 422
    (photo,) = db.session.scalars(select(Photo).where(Photo.case_id == disposing_case.id)).all()
    assert f'name="photos" value="{photo.id}"' in page(half)

    done = client.post(url, data={"csrf_token": token, "result": "resolved", "note": "已扶正井盖",
                                  "photos": photo.id, "version": str(disposing_case.version)})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/cases/{disposing_case.ref}")
    db.session.rollback()
    case = db.session.get(Case, disposing_case.id)
    assert case.status == "verifying"
    shown = page(client.get(done.headers["Location"], headers=PAGE))
    assert "已提交。事件当前状态：核查中。" in shown and f"/photos/{photo.id}/thumb" in shown


def test_verify_as_dispatcher_and_a_stale_version_is_a_conflict(sign_in, disposing_case):
    work(disposing_case, "dispose", "gw01", result="resolved", note="已修复")
    client = sign_in("dispatcher")
    task = open_task(disposing_case, "verify")
    url = f"/tasks/{task.id}"
    token = csrf_token(client, url)
    stale = client.post(url, data={"csrf_token": token, "passed": "true", "note": "ok", "version": "1"},
                        headers=PAGE)
    assert stale.status_code == 409 and "事件已被他人更新" in page(stale)
    res = client.post(url, data={"csrf_token": token, "passed": "false", "note": "仍松动"})
    assert res.status_code == 303
    db.session.rollback()
    case = db.session.get(Case, disposing_case.id)
    assert case.status == "disposing" and case.rework_count == 1
    # The finished task's page now leads to its case.
    assert client.get(url).status_code == 303


def test_dispatch_form_offers_grids_and_moves_an_unplaced_case(sign_in, demo):
    case = new_case("repair", at=(30.300, 120.105), description="小区外围路灯不亮")
    work(case, "accept", "dispatcher", accepted=True)
    client = sign_in("dispatcher")
    task = open_task(case, "dispatch")
    form = page(client.get(f"/tasks/{task.id}", headers=PAGE))
    assert 'value="JX-02"' in form and "市政设施" in form
    token = csrf_token(client, f"/tasks/{task.id}")
    bad = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "department": "nope", "note": ""},
                      headers=PAGE)
    assert bad.status_code == 422 and "请填写派遣意见" in page(bad) and page(bad).count('class="error"') == 2
    ok = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "department": "municipal",
                                                "handler_role": "grid_worker", "grid": "JX-02", "note": "去看看"})
    assert ok.status_code == 303
    db.session.rollback()
    assert open_task(case, "dispose").grid_id == db.session.get(Case, case.id).grid_id is not None


def test_someone_elses_task_is_forbidden_and_unknown_is_not_found(sign_in, disposing_case):
    task = open_task(disposing_case, "dispose")
    # The community's dispatcher sees the case but may not work a grid worker's task.
    res = sign_in("dispatcher").get(f"/tasks/{task.id}", headers=PAGE)
    assert res.status_code == 403 and "无权操作" in page(res)
    # For a grid worker of another community the task does not exist.
    client = sign_in("gw04")
    assert client.get(f"/tasks/{task.id}", headers=PAGE).status_code == 404
    assert client.get("/tasks/999999", headers=PAGE).status_code == 404
    assert client.get("/tasks/abc", headers=PAGE).status_code == 404
    # A program asking for JSON gets JSON.
    assert client.get("/tasks/999999", headers={"Accept": "application/json"}).json["error"] == "not_found"


def test_new_tasks_show_up_through_the_poll_without_counting_as_activity(sign_in, demo):
    client = sign_in("gw05")
    first = client.get("/inbox/updates").json
    assert first == {"count": 0, "newest": 0, "fresh": 0}
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 600
    case = new_case("garbage_bin_full", at=IN_CY02, source="sensor")
    work(case, "accept", "dispatcher2", accepted=True)
    work(case, "dispatch", "dispatcher2", department="sanitation", handler_role="grid_worker", note="清运")
    later = client.get("/inbox/updates?since=0").json
    assert later["count"] == 1 and later["fresh"] == 1 and later["newest"] > 0
    assert client.get(f"/inbox/updates?since={later['newest']}").json["fresh"] == 0
    with client.session_transaction() as session:
        assert session["seen"] < time.time() - 500, "polling must not keep an idle session alive"
    fragment = page(client.get("/inbox?fragment=1"))
    assert "<html" not in fragment and f'data-newest="{later["newest"]}"' in fragment


def test_english_on_request_and_times_in_shanghai(sign_in, disposing_case):
    client = sign_in("gw01")
    html = page(client.get("/inbox?lang=en", headers=PAGE))
    assert "My tasks" in html and "Open to claim" in html and "Manhole cover tilted" in html
    task = db.session.scalar(select(Task).where(Task.case_id == disposing_case.id, Task.status == "open"))
    shanghai = task.due_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert shanghai.strftime("%Y-%m-%d %H:%M") in html


def test_not_accepting_a_case_needs_a_reason(sign_in, demo):
    case = new_case("complaint", description="楼上漏水")
    client = sign_in("dispatcher")
    url = f"/tasks/{open_task(case, 'accept').id}"
    token = csrf_token(client, url)
    silent = client.post(url, data={"csrf_token": token, "accepted": "false"}, headers=PAGE)
    assert silent.status_code == 422 and "请说明不予受理的原因" in page(silent)
    neither = client.post(url, data={"csrf_token": token, "accepted": "perhaps"}, headers=PAGE)
    assert neither.status_code == 422
    # NUL is refused at the edge (web/input_guard.py), before the form sees it.
    refused = client.post(url, data={"csrf_token": token, "accepted": "false", "note": "重复\x00上报"})
    assert refused.status_code == 422
    done = client.post(url, data={"csrf_token": token, "accepted": "false", "note": "重复上报"})
    assert done.status_code == 303
    db.session.rollback()
    assert db.session.get(Case, case.id).status == "rejected"
    assert "重复上报" in page(client.get(f"/cases/{case.ref}", headers=PAGE))


def test_supervisor_escalation_and_department_work_through_the_pages(sign_in, demo):
    case = accept_and_dispatch(new_case("garbage_bin_full", source="sensor", description="垃圾桶满溢"),
                               "sanitation")
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert fire_due_timers(case.id) is True
    boss = sign_in("supervisor")
    assert "超时督办" in page(boss.get("/inbox", headers=PAGE))
    url = f"/tasks/{open_task(case, 'escalate').id}"
    done = boss.post(url, data={"csrf_token": csrf_token(boss, url), "action": "urged", "note": "今天完成"})
    assert done.status_code == 303

    handler = sign_in("dept_sanitation")
    inbox = page(handler.get("/inbox", headers=PAGE))
    assert "垃圾桶满溢" in inbox and "已超时" in inbox
    assert "垃圾桶满溢" not in page(sign_in("dept_property").get("/inbox", headers=PAGE))
    shown = page(handler.get(f"/cases/{case.ref}", headers=PAGE))
    assert "已督办" in shown and "已督促" in shown and "今天完成" in shown
