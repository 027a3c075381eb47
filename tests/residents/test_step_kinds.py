"""What the resident reads is decided by what each step means (its step kind) and by what its
form declares public, never by step ids: the department's answer of a government service, not
the centre's remark; a grid worker's internal note stays internal."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale

from extensions import db
from models import CaseEvent, utcnow
from residents.progress import answer_of, rating_of, timeline
from tests.builders import new_case, work
from tests.residents.conftest import PHONE, csrf_token, submit, submitted_ref, work_until_feedback
from workflows.cases import case_by_ref

ANSWER = "您的高龄津贴已批准，下月起发放。"
REMARK = "答复内容准确"
INTERNAL = "已核对户籍，符合条件（内部）"


def tracking_page(app, ref: str) -> str:
    caller = app.test_client()
    token = csrf_token(caller, "/track")
    assert caller.post("/track", data={"csrf_token": token, "ref": ref, "phone": PHONE}).status_code == 303
    return caller.get(f"/track/{ref}").get_data(as_text=True)


def test_the_tracking_page_of_a_government_service_shows_the_departments_answer(client, demo):
    ref = submitted_ref(client, submit(client, "government_service"))
    case = case_by_ref(ref)
    assert case.process_id == "gov_service"
    work(case, "accept", "dispatcher", accepted=True, note="材料齐全")
    work(case, "handle", "dept_government", result="resolved", note=INTERNAL)
    work(case, "answer", "dispatcher", passed=False, note="请补充发放时间")
    work(case, "handle", "dept_government", result="resolved", note=INTERNAL)
    case = work(case, "answer", "dispatcher", passed=True, answer=ANSWER, note=REMARK)
    assert case.status == "feedback"

    page = tracking_page(demo, ref)
    assert ANSWER in page
    assert REMARK not in page and INTERNAL not in page and "请补充发放时间" not in page
    # The steps in the resident's words, read by kind: handled by the department, answered.
    assert "已办理" in page and "已答复" in page and "退回部门重新办理" in page


def test_a_grid_workers_internal_note_stays_off_the_tracking_page(client, demo):
    ref = submitted_ref(client, submit(client, "repair"))
    note = "内部：业主不在家，钥匙在物业前台"
    case = work_until_feedback(ref, dispose={"note": note, "reply": ""})
    assert case.status == "feedback"
    page = tracking_page(demo, ref)
    assert note not in page
    assert "已处理" in page  # the step itself is on the timeline

    # What the dispose form marks public is what reaches the resident.
    ref = submitted_ref(client, submit(client, "repair"))
    work_until_feedback(ref, dispose={"note": note, "reply": "已更换厨房水管接头"})
    page = tracking_page(demo, ref)
    assert "已更换厨房水管接头" in page and note not in page


def test_the_timeline_reads_step_kinds_whatever_the_step_ids(demo):
    """A process whose steps have other ids (a deployed version, another community's process)
    reads the same to the resident: the consumers ask the step kind, not the id."""
    case = new_case("government_service", reporter_name="赵大爷", reporter_phone=PHONE)
    case.status = "feedback"
    at = utcnow()

    def done(minutes: int, kind: str, **data) -> CaseEvent:
        return CaseEvent(case=case, at=at + timedelta(minutes=minutes), kind="task_completed",
                         step_kind=kind, data={"bpmn_id": f"step_{minutes}", **data})

    events = [
        done(1, "accept", accepted=True, accept_note="材料齐全"),
        done(2, "handle", dispose_result="resolved", dispose_note=INTERNAL),
        done(3, "answer", verified=False, answer_note="请补充", public={}),
        done(4, "handle", dispose_result="resolved", dispose_note=INTERNAL),
        done(5, "answer", verified=True, answer_text=ANSWER, answer_note=REMARK, public={"answer_text": ANSWER}),
        done(6, "feedback", satisfaction="satisfied"),
    ]
    with demo.test_request_context(), force_locale("zh"):
        words = [step.words for step in timeline(case, events)]
    assert words[0] == "已受理" and words[2] == "退回部门重新办理" and words[4] == "已答复"
    assert words[1].endswith("已办理") and words[5].startswith("评价：")
    assert answer_of(case, events) == ANSWER
    assert rating_of(events) == "satisfied"
    db.session.rollback()  # the events were only read, never written
