"""The government service process (bpmn/gov_service.bpmn): accept, route to the department by
the routing table, handle, answer, rating; its rework rules and its SLA escalation."""
from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from extensions import db
from models import Case, Task
from residents.progress import answer_of
from tests.builders import accept_and_dispatch, new_case, open_bpmn_ids, open_task, work
from workflows import Invalid, fire_due_timers
from workflows.tasks import complete_feedback_as_reporter


def gov_case() -> Case:
    return new_case("government_service", description="申请高龄津贴", reporter_name="赵大爷",
                    reporter_phone="13812341234")


def test_government_service_path_with_answer_sent_back(demo):
    case = gov_case()
    assert (case.process_id, case.status) == ("gov_service", "pending_accept")
    accept = open_task(case, "accept")
    assert accept.role == "dispatcher" and accept.due_at is not None

    case = work(case, "accept", "dispatcher", accepted=True, note="材料齐全")
    handle = open_task(case, "handle")
    # The routing table chose the department: no dispatch step in this process.
    assert (case.status, handle.role, handle.department) == ("handling", "department", "government")
    assert handle.due_at == case.due_at and case.due_at - case.opened_at == timedelta(hours=120)

    case = work(case, "handle", "dept_government", result="resolved", note="已审核，符合条件")
    assert case.status == "answering" and open_task(case, "answer").role == "dispatcher"
    # The centre finds the answer incomplete: back to the department, counted as rework.
    case = work(case, "answer", "dispatcher", passed=False, note="请补充发放时间")
    assert case.status == "handling" and case.rework_count == 1
    case = work(case, "handle", "dept_government", result="resolved", note="下月起发放")
    case = work(case, "answer", "dispatcher", passed=True, answer="您的高龄津贴已批准，下月起发放。",
                note="已核对发放名单")
    assert case.status == "feedback" and open_task(case, "feedback").role == "reporter"

    case = complete_feedback_as_reporter(case.ref, {"satisfaction": "basically_satisfied", "comment": "还行"})
    assert case.status == "closed" and case.closed_at is not None and open_bpmn_ids(case) == []
    done = db.session.scalars(select(Task.bpmn_id).where(Task.case_id == case.id, Task.status == "done")
                              .order_by(Task.id)).all()
    assert done == ["accept", "handle", "answer", "handle", "answer", "feedback"]


def test_government_service_can_be_refused(demo):
    case = work(gov_case(), "accept", "dispatcher", accepted=False, note="不属于本社区办理范围")
    assert case.status == "rejected" and case.closed_at is not None and open_bpmn_ids(case) == []


def test_government_service_without_a_reporter_closes_after_the_answer(demo):
    case = new_case("government_service", source="sensor")
    work(case, "accept", "dispatcher", accepted=True)
    work(case, "handle", "dept_government", result="resolved", note="办结")
    case = work(case, "answer", "dispatcher", passed=True, answer="办结")
    assert case.status == "closed"


def test_overdue_handling_is_escalated_to_the_supervisor(demo):
    case = work(gov_case(), "accept", "dispatcher", accepted=True)
    assert case.next_timer_at == case.due_at
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert fire_due_timers(case.id) is True
    db.session.rollback()
    case = db.session.get(Case, case.id)
    assert case.escalated and case.status == "handling"
    assert open_bpmn_ids(case) == ["escalate", "handle"]
    assert open_task(case, "escalate").role == "supervisor"


def test_the_resident_reads_the_departments_answer_not_the_centres_remark(demo):
    case = work(gov_case(), "accept", "dispatcher", accepted=True, note="材料齐全")
    case = work(case, "handle", "dept_government", result="resolved", note="已核对户籍，符合条件")
    answer = open_task(case, "answer")
    assert answer.form_key == "answer"
    # The answer step has a form of its own: approving it without an answer is refused.
    try:
        work(case, "answer", "dispatcher", passed=True, note="答复内容准确")
    except Invalid as exc:
        assert "answer" in exc.details
    else:
        raise AssertionError("an answer step without an answer was accepted")
    db.session.rollback()
    case = work(case, "answer", "dispatcher", passed=True, answer="您的高龄津贴已批准，下月起发放。",
                note="答复内容准确")
    assert case.status == "feedback"
    assert answer_of(case) == "您的高龄津贴已批准，下月起发放。"


def test_a_grid_workers_internal_note_is_not_published(demo):
    case = accept_and_dispatch(new_case("manhole_tilt", reporter_name="钱先生", reporter_phone="13812345678"))
    case = work(case, "dispose", "gw01", result="resolved", note="内部：井盖螺栓缺失，已从仓库领用")
    case = work(case, "verify", "dispatcher", passed=True, note="现场复核通过")
    assert case.status == "feedback" and answer_of(case) is None
    # What the form marks public reaches the resident.
    case = accept_and_dispatch(new_case("manhole_tilt", reporter_name="钱先生", reporter_phone="13812345678"))
    case = work(case, "dispose", "gw01", result="resolved", note="内部备注", reply="井盖已扶正加固")
    case = work(case, "verify", "dispatcher", passed=True, note="现场复核通过")
    assert answer_of(case) == "井盖已扶正加固"
