"""Helpers of the residents' tests: CSRF-aware form posts, walking a case through its staff
tasks, a live server for third-party clients and the browser."""
from __future__ import annotations

import io
import re
import threading

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from extensions import db
from models import Address, Case, OrgUnit, Task, User
from tests.builders import account, stored_photos
from workflows import complete_task
from workflows.cases import case_by_ref

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REF = re.compile(r'id="tracking-number">(\d+)<')
PHONE = "13812341234"


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


def room(community: str = "jinxiu", building: str = "1幢", unit: str = "1单元", number: str = "101室") -> Address:
    return db.session.scalar(select(Address).join(OrgUnit, OrgUnit.id == Address.community_id).where(
        OrgUnit.code == community, Address.building == building, Address.unit == unit, Address.room == number))


def request_fields(type_code: str, **extra) -> dict:
    """A valid submission of each request type, from room 1幢1单元101室 of 锦绣社区 (grid JX-01)."""
    own = {
        "repair": {"item": "plumbing", "visit_time": "周六上午"},
        "hazard": {"kind": "high_altitude_throwing", "seen_at": "今早8点"},
        "complaint": {"subject": "noise"},
        "suggestion": {"topic": "activities"},
        "consultation": {"topic": "policy", "reply_by": "online"},
        "government_service": {"item": "elderly_subsidy", "applicant": "赵大爷"},
        "vulnerable_care": {"person": "elderly_alone", "need": "visit"},
    }[type_code]
    fields = {"description": "楼上每天晚上有噪音，请处理", "place": "address", "address_id": str(room().id),
              "name": "赵女士", "phone": PHONE, **own}
    fields.update(extra)
    return fields


def submit(client, type_code: str, files=None, token: str | None = None, **extra):
    """POST the form of a request type as a browser would (CSRF token from the form page)."""
    url = f"/requests/new/{type_code}"
    data = {"csrf_token": token or csrf_token(client, url), **request_fields(type_code, **extra)}
    if files:
        data["photos"] = files
    return client.post(url, data=data, content_type="multipart/form-data")


def submitted_ref(client, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return REF.search(page).group(1)


def _worker_for(task: Task) -> User:
    if task.role == "dispatcher":
        return account("dispatcher" if task.community_id == _community_id("jinxiu") else "dispatcher2")
    if task.role == "department":
        return account(f"dept_{task.department}")
    if task.role == "grid_worker":
        return db.session.scalar(select(User).where(User.role == "grid_worker", User.grids.any(id=task.grid_id)))
    return account(task.role)


def _community_id(code: str) -> int:
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


STEP_DATA = {
    "accept": {"accepted": True, "note": "属实"},
    "dispose": {"result": "resolved", "note": "已处理完毕"},
    "verify": {"passed": True, "note": "现场核查通过"},
    "answer": {"passed": True},
    "close": {"note": "结案"},
}


def open_tasks(case: Case) -> list[Task]:
    db.session.rollback()
    return list(db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")
                                   .order_by(Task.id)))


def work_until_feedback(ref: str, answer: str = "已处理完毕", steps: int = 12, **overrides) -> Case:
    """Complete the staff tasks of the case (at most ``steps``) until it waits for the reporter's
    rating; ``overrides`` give one task's data once, by BPMN id (e.g. verify={"passed": False})."""
    case = case_by_ref(ref)
    for _ in range(steps):
        tasks = [t for t in open_tasks(case) if t.role != "reporter"]
        if not tasks:
            break
        task = tasks[0]
        data = dict(STEP_DATA.get(task.form_key or "", {}))
        if task.form_key == "dispatch":
            data = {"department": case.department or "community_office", "note": "请处理"}
        if task.form_key == "dispose":
            # The note stays internal; the reply is the field the resident reads.
            data.update(note=answer, reply=answer)
        if task.form_key == "answer":
            data["answer"] = answer
        worker = _worker_for(task)
        if task.form_key == "dispose":
            data["photos"] = stored_photos(worker.account, case=case)
        data.update(overrides.pop(task.bpmn_id, {}))
        case = complete_task(task.id, worker, data)
    return case


def rate(client, ref: str, satisfaction: str, comment: str = ""):
    token = csrf_token(client, f"/track/{ref}")
    return client.post(f"/track/{ref}/rating",
                       data={"csrf_token": token, "satisfaction": satisfaction, "comment": comment})


def close_if_asked(case: Case) -> Case:
    """A grid case ends with the dispatcher's close task; a government service closes itself."""
    for task in open_tasks(case):
        if task.bpmn_id == "close":
            case = complete_task(task.id, _worker_for(task), {"note": "结案"})
    return case


@pytest.fixture(autouse=True)
def browser_on_one_backend(request):
    """The browser tests run on SQLite only. (``g`` starts empty for every request: web.app.)"""
    if request.node.get_closest_marker("browser") and request.getfixturevalue("backend") != "sqlite":
        pytest.skip("the browser test runs on one backend (SQLite)")


@pytest.fixture
def png_bytes():
    """``png_bytes(color=...)`` -> a small real PNG image."""

    def make(color=(200, 60, 40), size=(64, 48)) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, color).save(out, "PNG")
        return out.getvalue()

    return make


@pytest.fixture
def live_server(demo):
    """The app served on 127.0.0.1 (a free port) from a thread, for real HTTP clients."""
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
