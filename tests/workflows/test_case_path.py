"""The whole path of a case, with rework, rejection and dissatisfaction."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import CaseEvent, Task
from tests.builders import accept_and_dispatch, new_case, open_bpmn_ids, open_task, stored_photos, work


def kinds(case) -> list[str]:
    return list(db.session.scalars(
        select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def test_case_runs_from_intake_to_closure_with_rework(demo):
    case = new_case("manhole_tilt", source="resident", reporter_name="赵女士")
    assert case.status == "pending_accept"
    case = work(case, "accept", "dispatcher", accepted=True, note="属实")
    assert case.status == "pending_dispatch"
    case = work(case, "dispatch", "dispatcher", department="municipal", note="网格员现场处置")
    assert case.status == "disposing"
    dispose = open_task(case, "dispose")
    assert (dispose.role, dispose.department, dispose.grid_id) == ("grid_worker", "municipal", case.grid_id)
    assert dispose.due_at == case.due_at

    case = work(case, "dispose", "gw01", result="resolved", note="已扶正井盖")
    assert case.status == "verifying"
    case = work(case, "verify", "dispatcher", passed=False, note="井盖仍松动")
    assert case.status == "disposing" and case.rework_count == 1
    photos = stored_photos("gw01", 2)
    case = work(case, "dispose", "gw01", result="resolved", note="已更换井盖", photos=photos)
    case = work(case, "verify", "dispatcher", passed=True, note="现场复核通过")
    assert case.status == "feedback"
    case = work(case, "feedback", "dispatcher", satisfaction="satisfied", comment="很快")
    assert case.status == "closing"
    case = work(case, "close", "dispatcher", note="结案")
    assert case.status == "closed" and case.closed_at is not None
    assert open_bpmn_ids(case) == []
    assert kinds(case).count("rework") == 1
    assert kinds(case)[-1] == "closed"
    done = list(db.session.scalars(select(Task.bpmn_id).where(Task.case_id == case.id,
                                                               Task.status == "done").order_by(Task.id)))
    assert done == ["accept", "dispatch", "dispose", "verify", "dispose", "verify", "feedback", "close"]
    completed = db.session.scalars(select(CaseEvent.data).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed")).all()
    assert any(d.get("photos") == photos for d in completed)


def test_sensor_case_skips_feedback(demo):
    case = new_case("garbage_bin_full", source="sensor")
    accept_and_dispatch(case, "sanitation")
    case = work(case, "dispose", "dept_sanitation", result="resolved", note="已清运")
    case = work(case, "verify", "dispatcher", passed=True, note="ok")
    assert case.status == "closing"


def test_rejected_case_ends_without_dispatch(demo):
    case = new_case("complaint")
    case = work(case, "accept", "dispatcher", accepted=False, note="重复上报")
    assert case.status == "rejected" and case.closed_at is not None
    assert open_bpmn_ids(case) == []


def test_dissatisfied_resident_sends_the_case_back_once(demo):
    case = new_case("repair")
    accept_and_dispatch(case, "property")
    for round_ in range(2):
        case = work(case, "dispose", "dept_property", result="resolved", note=f"第{round_ + 1}次维修")
        case = work(case, "verify", "dispatcher", passed=True, note="ok")
        case = work(case, "feedback", "dispatcher", satisfaction="not_satisfied", comment="没修好")
        if round_ == 0:
            assert case.status == "disposing" and case.rework_count == 1
    # The second dissatisfaction does not loop again: the rule allows one rework.
    assert case.status == "closing"


def test_dispatcher_moves_an_unassigned_case_into_a_grid(demo):
    from tests.builders import OUTSIDE

    case = new_case(at=OUTSIDE)
    work(case, "accept", "dispatcher", accepted=True)
    case = work(case, "dispatch", "dispatcher", department="municipal", note="归入第二网格", grid="JX-02")
    dispose = open_task(case, "dispose")
    assert dispose.grid_id == case.grid_id is not None
