"""Each request type end to end: submitted on the form, a case, worked by staff, rated."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from extensions import db
from handlers.crypto import decrypt_personal, is_encrypted
from models import CaseEvent, Photo
from residents.requests import request_details
from tests.residents.conftest import (
    PHONE,
    close_if_asked,
    csrf_token,
    open_tasks,
    rate,
    room,
    submit,
    submitted_ref,
    work_until_feedback,
)
from workflows.cases import case_by_ref

# (type, the category the case gets, who handles it, the process)
TYPES = [
    ("repair", "repair", "department", "grid_case"),
    ("hazard", "high_altitude_throwing", "grid_worker", "grid_case"),
    ("complaint", "complaint", "grid_worker", "grid_case"),
    ("suggestion", "suggestion", "grid_worker", "grid_case"),
    ("consultation", "consultation", "grid_worker", "grid_case"),
    ("government_service", "government_service", "department", "gov_service"),
    ("vulnerable_care", "vulnerable_care", "grid_worker", "grid_case"),
]


@pytest.mark.parametrize("type_code, category, handler_role, process", TYPES)
def test_request_type_from_form_to_rating(client, demo, type_code, category, handler_role, process):
    ref = submitted_ref(client, submit(client, type_code))
    case = case_by_ref(ref)
    assert (case.category, case.process_id, case.source) == (category, process, "resident")
    assert case.status == "pending_accept" and case.grid.code == "JX-01"
    assert case.address == "锦绣社区 1幢 1单元 101室" and case.reporter_name == "赵女士"
    assert is_encrypted(case.reporter_phone) and decrypt_personal(case.reporter_phone) == PHONE
    details = request_details(case)
    assert details["type"] == type_code and details["channel"] == "web" and details["address_id"] == room().id

    case = work_until_feedback(ref, answer="已安排专人处理并回复")
    assert case.status == "feedback" and case.handler_role == handler_role
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    assert "已办结，请您评价" in page and "已安排专人处理并回复" in page and 'name="satisfaction"' in page

    rated = rate(client, ref, "satisfied", "很及时")
    assert rated.status_code == 303
    case = close_if_asked(case_by_ref(ref))
    assert case.status == "closed" and case.closed_at is not None
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    assert "已结案" in page and "评价：满意" in page and 'name="satisfaction"' not in page
    completed = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed")).all()
    (rating,) = [e for e in completed if e.data["bpmn_id"] == "feedback"]
    assert rating.data["satisfaction"] == "satisfied" and rating.actor_label == "reporter"


@pytest.mark.parametrize("process_type", ["repair", "government_service"])
def test_not_satisfied_sends_the_case_back_once(client, demo, process_type):
    ref = submitted_ref(client, submit(client, process_type))
    work_until_feedback(ref)
    assert rate(client, ref, "not_satisfied", "没有解决").status_code == 303
    case = case_by_ref(ref)
    assert case.rework_count == 1 and case.status in ("disposing", "handling")
    assert "退回重新处理" in client.get(f"/track/{ref}").get_data(as_text=True)

    work_until_feedback(ref)
    assert rate(client, ref, "not_satisfied", "还是不行").status_code == 303
    case = close_if_asked(case_by_ref(ref))
    # The rule in the BPMN allows one rework: the second "not satisfied" closes it.
    assert case.status == "closed" and case.rework_count == 1
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds.count("rework") == 1


def test_hazard_kinds_and_points(client, demo):
    for kind, at in (("group_renting", ("map", 30.275, 120.145)), ("hazard_report", ("here", 30.276, 120.125))):
        mode, lat, lon = at
        ref = submitted_ref(client, submit(client, "hazard", kind=kind, place=mode, lat=str(lat), lon=str(lon),
                                           address_id=""))
        case = case_by_ref(ref)
        assert case.category == kind and (case.lat, case.lon) == (lat, lon)
        assert case.grid.code == ("CY-02" if kind == "group_renting" else "JX-03")
        assert request_details(case)["place"] == mode


def test_photos_are_kept_on_disk_and_shown_to_the_reporter(client, demo, png_bytes):
    files = [(io.BytesIO(png_bytes()), "a.png"), (io.BytesIO(png_bytes(color=(0, 90, 200))), "b.jpg")]
    ref = submitted_ref(client, submit(client, "repair", files=files))
    case = case_by_ref(ref)
    photos = db.session.scalars(select(Photo).where(Photo.case_id == case.id)).all()
    assert len(photos) == 2 and sorted(request_details(case)["photos"]) == sorted(p.id for p in photos)
    page = client.get(f"/track/{ref}").get_data(as_text=True)
    thumb = client.get(f"/track/{ref}/photos/{photos[0].id}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg" and photos[0].id in page
    # Another browser, without the number and phone, sees neither the request nor the photo.
    other = demo.test_client()
    assert other.get(f"/track/{ref}/photos/{photos[0].id}").status_code == 404
    assert other.get(f"/track/{ref}").status_code == 302


def test_hotline_staff_enter_a_request_for_a_caller(client, demo):
    token = csrf_token(client, "/login")
    client.post("/login", data={"csrf_token": token, "account": "dispatcher", "password": "demo1234"})
    form = client.get("/requests/new/complaint").get_data(as_text=True)
    assert "来电人姓名" in form
    missing_name = submit(client, "complaint", name="")
    assert missing_name.status_code == 422 and "请填写来电人姓名" in missing_name.get_data(as_text=True)
    ref = submitted_ref(client, submit(client, "complaint", name="钱先生", phone="0571-8888 6666"))
    case = case_by_ref(ref)
    assert (case.source, case.reporter_id, case.reporter_name) == ("hotline", None, "钱先生")
    assert decrypt_personal(case.reporter_phone) == "057188886666"
    assert request_details(case)["channel"] == "hotline"
    opened = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "opened"))
    assert opened.actor.account == "dispatcher"
    # The caller follows it with the number and their phone.
    caller = demo.test_client()
    token = csrf_token(caller, "/track")
    found = caller.post("/track", data={"csrf_token": token, "ref": ref, "phone": "0571 88886666"})
    assert found.status_code == 303, found.get_data(as_text=True)[-1500:]
    assert found.headers["Location"].endswith(f"/track/{ref}")
    assert open_tasks(case)[0].bpmn_id == "accept"
