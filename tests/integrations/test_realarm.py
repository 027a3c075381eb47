"""An alarm lives as long as its case: closing or auto-closing the case ends it, and the next
raise from the same device opens a new alarm and a new case, linked on the case page
("同一设备再次告警"). The verifier sees whether the device is still in alarm."""
from __future__ import annotations

import re

from sqlalchemy import select

from extensions import db
from models import Alarm, Case, Task, User
from tests.builders import stored_photos
from tests.integrations.helpers import (
    alarm_of,
    cases_of,
    count,
    event,
    publish,
    run_jobs,
    topic_of,
    wait_ingested,
)
from workflows.tasks import complete_task

PAGE = {"Accept-Language": "zh"}
# What each step is given on the way to closing (a sensor case has no resident to call back).
STEP_DATA = {"accept": {"accepted": True, "note": "属实"}, "dispatch": {"department": "property", "note": "处置"},
             "dispose": {"result": "resolved", "note": "已处置"}, "verify": {"passed": True, "note": "复核通过"},
             "feedback": {"satisfaction": "satisfied"}, "close": {"note": "结案"}}


def worker_for(task: Task) -> User:
    """An account that may work the task: its role, its grid, its department."""
    for user in db.session.scalars(select(User).where(User.role == task.role, User.active.is_(True))
                                   .order_by(User.id)):
        if task.grid_id is not None and user.grids and task.grid_id not in {g.id for g in user.grids}:
            continue
        if task.department and user.department not in (None, task.department):
            continue
        return user
    raise AssertionError(f"nobody may work {task.bpmn_id} ({task.role}, grid {task.grid_id})")


def close_through_every_step(case: Case, stop_at: str | None = None) -> Case:
    """accept -> dispatch -> dispose -> verify -> (feedback) -> close, as the people would."""
    for _ in range(10):
        task = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.status == "open",
                                                    Task.bpmn_id.in_(STEP_DATA)).order_by(Task.id))
        if task is None or task.bpmn_id == stop_at:
            return case
        user = worker_for(task)
        data = dict(STEP_DATA[task.bpmn_id])
        if task.bpmn_id == "dispose":
            data["photos"] = stored_photos(user.account, case=case)
        case = complete_task(task.id, user, data)
    return case


def dispatcher_of(ref: str) -> str:
    """The account of a dispatcher whose community holds the case (pages are scoped)."""
    community = db.session.scalar(select(Case.community_id).where(Case.ref == ref))
    return db.session.scalar(select(User.account).where(User.role == "dispatcher", User.community_id == community))


def sign_in(client, account: str) -> None:
    page = client.get("/login", headers=PAGE).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"csrf_token": token, "account": account, "password": "demo1234"})
    assert answer.status_code == 302


def page_text(client, url: str) -> str:
    answer = client.get(url, headers=PAGE)
    assert answer.status_code == 200, url
    return answer.get_data(as_text=True)


def test_a_smoke_alarm_after_its_case_was_closed_opens_a_new_case_linked_to_the_first(
        ingest, broker, client):
    topic = topic_of("smoke_detector-01")
    publish(broker, [(topic, event("smoke", key_of="smoke_detector-01"))])
    wait_ingested(ingest, 1)
    run_jobs()
    first = cases_of("smoke_detector-01")[0]
    first_ref, first_id = first.ref, first.id
    case = close_through_every_step(first, stop_at="verify")
    verify = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.bpmn_id == "verify",
                                                  Task.status == "open"))
    verifier = worker_for(verify)
    sign_in(client, verifier.account)
    assert "设备仍在告警" in page_text(client, f"/tasks/{verify.id}")  # before closing, they see it
    case = close_through_every_step(case)
    assert case.status == "closed"
    ended = alarm_of("smoke_detector-01", "smoke")
    assert (ended.status, ended.case_id, ended.pending_since) == ("ended", first_id, None)

    publish(broker, [(topic, event("smoke", key_of="smoke_detector-01"))])  # the detector alarms again
    wait_ingested(ingest, 2)
    run_jobs()
    cases = cases_of("smoke_detector-01")
    assert [c.status for c in cases] == ["closed", "pending_accept"]
    again = alarm_of("smoke_detector-01", "smoke")
    assert (again.status, again.count, again.case_id) == ("active", 1, cases[1].id)
    assert count(Alarm, Alarm.status == "active") == 1
    later_ref = cases[1].ref
    sign_in(client, dispatcher_of(first_ref))
    later = page_text(client, f"/cases/{later_ref}")
    assert "同一设备再次告警" in later and f"/cases/{first_ref}" in later and "设备仍在告警" in later
    earlier = page_text(client, f"/cases/{first_ref}")
    assert "同一设备再次告警" in earlier and f"/cases/{later_ref}" in earlier and "告警已随本案件" in earlier


def test_a_raise_after_an_auto_closed_case_opens_a_new_case_linked_to_the_first(ingest, broker, client):
    topic = topic_of("gas_detector-01")
    publish(broker, [(topic, event("gas", key_of="gas_detector-01"))])
    wait_ingested(ingest, 1)
    run_jobs()
    publish(broker, [(topic, event("gas", key_of="gas_detector-01", state="clear"))])
    wait_ingested(ingest, 2)
    run_jobs()
    first = cases_of("gas_detector-01")[0]
    assert first.status == "auto_closed"
    publish(broker, [(topic, event("gas", key_of="gas_detector-01"))])
    wait_ingested(ingest, 3)
    run_jobs()
    cases = cases_of("gas_detector-01")
    assert [c.status for c in cases] == ["auto_closed", "pending_accept"]
    first_ref, later_ref = cases[0].ref, cases[1].ref
    sign_in(client, dispatcher_of(first_ref))
    later = page_text(client, f"/cases/{later_ref}")
    assert "同一设备再次告警" in later and f"/cases/{first_ref}" in later
    assert "设备已于" in page_text(client, f"/cases/{first_ref}")  # the first one the device cleared


def test_a_case_closed_before_its_linkage_ran_skips_it_and_settles_the_alarm(ingest, broker):
    publish(broker, [(topic_of("heat_detector-02"), event("heat", key_of="heat_detector-02"))])
    wait_ingested(ingest, 1)
    alarm = alarm_of("heat_detector-02", "heat")
    assert alarm.linkage == "pending"
    run_jobs()
    case = close_through_every_step(cases_of("heat_detector-02")[0])
    assert case.closed_at is not None
    alarm = alarm_of("heat_detector-02", "heat")
    assert alarm.status == "ended" and alarm.pending_since is None and alarm.linkage in ("done", "skipped")
