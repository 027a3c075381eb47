"""The tracking page: plain words, when each step happened, the answer, masked contact data;
"my requests" for a signed-in resident; English on request."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from extensions import db
from models import CaseEvent, OrgUnit, Task, User, transaction
from tests.residents.conftest import (
    PHONE,
    csrf_token,
    rate,
    submit,
    submitted_ref,
    work_until_feedback,
)
from workflows import complete_task
from workflows.cases import case_by_ref


def resident(account: str = "zhao") -> User:
    with transaction():
        user = User(account=account, name="赵女士", role="resident", password_hash=generate_password_hash("pw-123456"),
                    community_id=db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "jinxiu")))
        db.session.add(user)
    return user


def sign_in(client, account: str, password: str = "pw-123456"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "account": account, "password": password})


def test_progress_in_plain_words_with_times_and_masked_contact(client, demo):
    ref = submitted_ref(client, submit(client, "repair"))
    caller = demo.test_client()
    token = csrf_token(caller, "/track")
    assert caller.post("/track", data={"csrf_token": token, "ref": ref, "phone": PHONE}).status_code == 303
    page = caller.get(f"/track/{ref}").get_data(as_text=True)
    assert "已提交，等待受理" in page and "138****1234" in page and PHONE not in page and "赵*" in page
    assert "报修项目" in page and "水管、下水" in page and "锦绣社区 1幢 1单元 101室" in page

    work_until_feedback(ref, answer="已更换水管接头")
    page = caller.get(f"/track/{ref}").get_data(as_text=True)
    for words in ("已提交", "已受理", "已派遣至物业服务中心", "已处理", "现场核查通过", "已办结，请您评价"):
        assert words in page, words
    assert "已更换水管接头" in page and page.count("<time") >= 5
    # Times are the community's (UTC+8), not the server's UTC.
    case = case_by_ref(ref)
    opened = db.session.scalar(select(CaseEvent.at).where(CaseEvent.case_id == case.id, CaseEvent.kind == "opened"))
    assert opened.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M") in page


def test_the_answer_is_shown_once_checked(client, demo):
    ref = submitted_ref(client, submit(client, "complaint"))
    work_until_feedback(ref, answer="已与楼上住户沟通", steps=4, verify={"passed": False, "note": "仍有噪音"})
    case = case_by_ref(ref)
    # Verification failed: back to disposal, the unchecked answer is not shown yet.
    assert case.status == "disposing"
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    assert "已与楼上住户沟通" not in page and "核查未通过" in page and "退回重新处理" in page
    work_until_feedback(ref, answer="已调解，噪音已停止")
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    assert "已调解，噪音已停止" in page


def test_a_refused_request_shows_why(client, demo):
    ref = submitted_ref(client, submit(client, "suggestion"))
    work_until_feedback(ref, accept={"accepted": False, "note": "已有同类建议在办理"})
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    assert "未受理" in page and "已有同类建议在办理" in page


def test_signed_in_resident_sees_my_requests_and_rates_as_themselves(client, demo):
    user = resident()
    assert sign_in(client, "zhao").headers["Location"].endswith("/track")
    form = client.get("/requests/new/repair").get_data(as_text=True)
    assert 'value="赵女士"' in form
    ref = submitted_ref(client, submit(client, "repair"))
    assert case_by_ref(ref).reporter_id == user.id
    # Another browser of the same resident: the list, no phone needed.
    other = demo.test_client()
    sign_in(other, "zhao")
    listing = other.get("/track").get_data(as_text=True)
    assert "我的诉求" in listing and ref in listing
    assert other.get(f"/track/{ref}").status_code == 200
    work_until_feedback(ref)
    assert rate(other, ref, "satisfied").status_code == 303
    rating = [e for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_by_ref(ref).id, CaseEvent.kind == "task_completed"))
        if e.data["bpmn_id"] == "feedback"][0]
    assert rating.actor_id == user.id


def test_reporter_rating_goes_through_the_engine_rules(client, demo):
    ref = submitted_ref(client, submit(client, "consultation"))
    work_until_feedback(ref)
    case = case_by_ref(ref)
    task = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.bpmn_id == "feedback",
                                                Task.status == "open"))
    # The dispatcher may still record a rating given by phone; the resident's page then says so.
    complete_task(task.id, db.session.scalar(select(User).where(User.account == "dispatcher")),
                  {"satisfaction": "basically_satisfied"})
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    assert "评价：基本满意" in page and 'name="satisfaction"' not in page


def test_english_on_request(client, demo):
    ref = submitted_ref(client, submit(client, "repair"))
    page = client.get(f"/track/{ref}?lang=en").get_data(as_text=True)
    assert "Received, waiting to be accepted" in page and "Pipes" not in page and "Water pipes, drains" in page
    assert "What do you need?" in client.get("/requests/new").get_data(as_text=True)
