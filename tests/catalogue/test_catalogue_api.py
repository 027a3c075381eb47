"""Categories and departments are data: an administrator adds one through the API and it is
offered at once by the resident form, Open311, the board and dispatch; a case of it opens and
routes; retiring takes it off every list while old cases keep its name."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, select, text

from extensions import db
from handlers.tokens import issue_token
from models import AuditEntry, Case, Task, User, utcnow
from tests.builders import IN_JX01
from tests.residents.conftest import csrf_token, room, submitted_ref
from workflows.cases import case_by_ref

PET = {"code": "pet_nuisance", "name_zh": "宠物扰民", "name_en": "Pet nuisance", "family": "people",
       "default_severity": "normal", "process": "grid_case", "public": True}
DOG_OFFICE = {"code": "dog_office", "name_zh": "犬类管理办公室", "name_en": "Dog control office"}


@pytest.fixture
def admin(auth):
    return auth("admin")


def post(client, headers, path: str, body: dict):
    return client.post(f"/api/v1/{path}", json=body, headers=headers)


def submit_general(client, type_code: str):
    """The resident form of a category with the general questions only, as a browser sends it."""
    url = f"/requests/new/{type_code}"
    return client.post(url, data={
        "csrf_token": csrf_token(client, url), "description": "邻居家的狗每天夜里叫", "place": "address",
        "address_id": str(room().id), "name": "赵女士", "phone": "13812341234"}, content_type="multipart/form-data")


def sign_in(client, who: str):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    res = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "account": who,
                                      "password": "demo1234"})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    return client


def test_a_category_and_a_department_added_through_the_api_are_used_at_once(client, demo, admin, auth):
    created = post(client, admin, "categories", PET)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["code"] == "pet_nuisance" and created.json["active"] is True
    assert post(client, admin, "departments", DOG_OFFICE).status_code == 201
    listed = client.get("/api/v1/categories", headers=auth("dispatcher")).json["items"]
    assert "pet_nuisance" in {c["code"] for c in listed}
    assert "dog_office" in {d["code"] for d in client.get("/api/v1/departments", headers=admin).json["items"]}

    # The resident form offers it, and takes it.
    pick = client.get("/requests/new").get_data(as_text=True)
    assert "宠物扰民" in pick and "/requests/new/pet_nuisance" in pick
    ref = submitted_ref(client, submit_general(client, "pet_nuisance"))
    # Open311 lists it as a service.
    services = client.get("/open311/v2/services.json").json
    assert "pet_nuisance" in {s["service_code"] for s in services}

    # The case opened with that category and was routed (the routing table's default row).
    case = case_by_ref(ref)
    assert case.category == "pet_nuisance" and case.status != "rejected"
    assert case.department, "routing chose no department"
    tasks = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).all()
    assert [t.form_key for t in tasks] == ["accept"]

    # A dispatcher dispatches it to the new department (was "Not a valid choice").
    dispatcher = auth("dispatcher")
    done = client.post(f"/api/v1/tasks/{tasks[0].id}/complete", headers=dispatcher,
                       json={"data": {"accepted": True, "note": "属实"}})
    assert done.status_code == 200, done.get_data(as_text=True)
    dispatch = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.status == "open"))
    assert dispatch.form_key == "dispatch"
    done = client.post(f"/api/v1/tasks/{dispatch.id}/complete", headers=dispatcher,
                       json={"data": {"department": "dog_office", "note": "请上门劝导"}})
    assert done.status_code == 200, done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).department == "dog_office"

    # The board's category filter has it, and the case page names both.
    sign_in(client, "dispatcher")
    assert 'value="pet_nuisance"' in client.get("/board").get_data(as_text=True)
    page = client.get(f"/cases/{ref}").get_data(as_text=True)
    assert "宠物扰民" in page and "犬类管理办公室" in page

    # Both writes are in the audit log (the audit hook of every committed write).
    operations = set(db.session.scalars(select(AuditEntry.operation)))
    assert {"POST api.create_category", "POST api.create_department"} <= operations


def test_retired_entries_leave_every_list_but_old_cases_keep_their_names(client, demo, admin, auth):
    assert post(client, admin, "categories", PET).status_code == 201
    assert post(client, admin, "departments", DOG_OFFICE).status_code == 201
    ref = submitted_ref(client, submit_general(client, "pet_nuisance"))

    renamed = client.patch("/api/v1/categories/pet_nuisance", json={"name_zh": "宠物噪音扰民"}, headers=admin)
    assert renamed.status_code == 200 and renamed.json["name_zh"] == "宠物噪音扰民"
    assert "宠物噪音扰民" in client.get("/requests/new").get_data(as_text=True)

    assert client.patch("/api/v1/categories/pet_nuisance", json={"active": False}, headers=admin).status_code == 200
    assert client.patch("/api/v1/departments/dog_office", json={"active": False}, headers=admin).status_code == 200
    assert "pet_nuisance" not in client.get("/requests/new").get_data(as_text=True)
    assert client.get("/requests/new/pet_nuisance").status_code == 404
    assert "pet_nuisance" not in {s["service_code"] for s in client.get("/open311/v2/services.json").json}
    assert "pet_nuisance" not in {c["code"] for c in client.get("/api/v1/categories", headers=admin).json["items"]}
    assert "pet_nuisance" in {c["code"] for c in client.get("/api/v1/categories?retired=1",
                                                               headers=admin).json["items"]}
    refused = client.post("/api/v1/cases", headers=auth("dispatcher"), json={
        "category": "pet_nuisance", "lat": IN_JX01[0], "lon": IN_JX01[1], "description": "狗叫"})
    assert refused.status_code == 422 and "retired" in refused.json["message"]

    # A retired department is no longer a dispatch choice.
    case = new_case_at_dispatch(client, auth)
    dispatch = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.status == "open"))
    refused = client.post(f"/api/v1/tasks/{dispatch.id}/complete", headers=auth("dispatcher"),
                          json={"data": {"department": "dog_office", "note": "请处理"}})
    assert refused.status_code == 422

    # The old case still shows the category's name.
    sign_in(client, "dispatcher")
    assert "宠物噪音扰民" in client.get(f"/cases/{ref}").get_data(as_text=True)


def new_case_at_dispatch(client, auth) -> Case:
    opened = client.post("/api/v1/cases", headers=auth("dispatcher"), json={
        "category": "repair", "lat": IN_JX01[0], "lon": IN_JX01[1], "description": "水管漏水"})
    assert opened.status_code == 201, opened.get_data(as_text=True)
    case = case_by_ref(opened.json["ref"])
    accept = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.status == "open"))
    done = client.post(f"/api/v1/tasks/{accept.id}/complete", headers=auth("dispatcher"),
                       json={"data": {"accepted": True, "note": "属实"}})
    assert done.status_code == 200, done.get_data(as_text=True)
    return case


@pytest.mark.parametrize("body, field", [
    (PET, "code"),                                            # the same code twice
    ({**PET, "code": "pet_other", "process": "no_such_process"}, "process"),
    ({**PET, "code": "pet_other", "default_severity": "apocalyptic"}, "default_severity"),
    ({**PET, "code": "pet_other", "family": "animal"}, "family"),
    ({**PET, "code": "Pet Other!"}, "code"),
    ({**PET, "code": "pet_other", "name_zh": ""}, "name_zh"),
    ({**PET, "code": "pet_other", "form": "no_such_form"}, "form"),
    ({**PET, "code": "pet_other", "linkage": ["explode"]}, "linkage"),
    ({**PET, "code": "pet_other", "alarm_types": ["smoke_detector"]}, "alarm_types"),
    ({**PET, "code": "pet_other", "colour": "red"}, "colour"),
])
def test_a_bad_category_is_refused_with_422_naming_the_field(client, demo, admin, body, field):
    if field == "code" and body is PET:
        assert post(client, admin, "categories", PET).status_code == 201
    res = post(client, admin, "categories", body)
    assert res.status_code == 422, res.get_data(as_text=True)
    assert field in res.json["message"], res.json


def test_bad_departments_and_changes_are_refused(client, demo, admin):
    assert post(client, admin, "departments", DOG_OFFICE).status_code == 201
    assert post(client, admin, "departments", DOG_OFFICE).status_code == 422
    assert post(client, admin, "departments", {**DOG_OFFICE, "code": "x" * 40}).status_code == 422
    assert post(client, admin, "departments", {"code": "cats", "name_zh": " ", "name_en": "Cats"}).status_code == 422
    assert client.patch("/api/v1/departments/dog_office", json={"active": None}, headers=admin).status_code == 422
    assert client.patch("/api/v1/departments/nobody", json={"name_zh": "无"}, headers=admin).status_code == 404
    assert client.patch("/api/v1/categories/nothing", json={"name_zh": "无"}, headers=admin).status_code == 404
    assert client.patch("/api/v1/categories/repair", json={"public": None}, headers=admin).status_code == 422
    assert client.patch("/api/v1/categories/repair", json={"process": "nope"}, headers=admin).status_code == 422


@pytest.mark.parametrize("who", ["dispatcher", "supervisor", "gw01", "dept_property"])
def test_only_administrators_change_the_catalogue(client, demo, auth, who):
    headers = auth(who)
    assert post(client, headers, "categories", PET).status_code == 403
    assert post(client, headers, "departments", DOG_OFFICE).status_code == 403
    assert client.patch("/api/v1/categories/repair", json={"name_zh": "修"}, headers=headers).status_code == 403
    assert client.patch("/api/v1/departments/fire", json={"active": False}, headers=headers).status_code == 403


def test_a_resident_may_not_change_the_catalogue(client, demo):
    resident = User(account="resident_cat", name="居民", role="resident")
    db.session.add(resident)
    db.session.commit()
    headers = {"Authorization": f"Bearer {issue_token(resident)}"}
    assert post(client, headers, "categories", PET).status_code == 403


def test_another_process_sees_a_new_category_within_the_cache_time(app, client, demo):
    """A category written by another process (no call to forget the cache here) shows on the
    resident form once this process's copy is older than CATALOGUE_CACHE_SECONDS."""
    app.config["CATALOGUE_CACHE_SECONDS"] = 0.5
    assert "宠物扰民" not in client.get("/requests/new").get_data(as_text=True)
    url = db.engine.url.render_as_string(hide_password=False)
    other = create_engine(url)
    with other.begin() as conn:
        conn.execute(text(
            "INSERT INTO categories (code, name_zh, name_en, family, default_severity, process_id, clause,"
            " public, photo_required, open311_batch, private_details, linkage, position, active, updated_at)"
            " VALUES ('pet_nuisance', '宠物扰民', 'Pet nuisance', 'people', 'normal', 'grid_case', '',"
            " :yes, :no, :no, :no, '[]', 50, :yes, :now)"), {"yes": True, "no": False, "now": utcnow()})
    other.dispose()
    time.sleep(0.6)
    assert "宠物扰民" in client.get("/requests/new").get_data(as_text=True)


def test_a_category_may_require_a_photo(client, demo, admin):
    assert post(client, admin, "categories", {**PET, "photo_required": True}).status_code == 201
    assert "（必填）" in client.get("/requests/new/pet_nuisance").get_data(as_text=True)
    refused = submit_general(client, "pet_nuisance")
    assert refused.status_code == 422
    assert db.session.scalar(select(Case.id).where(Case.category == "pet_nuisance")) is None


def test_the_admin_page_lists_adds_renames_and_retires(client, demo):
    sign_in(client, "admin")
    page = client.get("/admin/categories")
    assert page.status_code == 200 and "报事报修" in page.get_data(as_text=True)
    assert "新增事件类别" in page.get_data(as_text=True), "the page is Chinese by default"
    assert "<script>" not in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/categories")
    added = client.post("/admin/categories", data={
        "csrf_token": token, "code": "pet_nuisance", "name_zh": "宠物扰民", "name_en": "Pet nuisance",
        "family": "people", "default_severity": "normal", "process_id": "grid_case", "questions": "", "public": "y"})
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    again = client.post("/admin/categories", data={
        "csrf_token": token, "code": "pet_nuisance", "name_zh": "宠物扰民", "name_en": "Pet nuisance",
        "family": "people", "default_severity": "normal", "process_id": "grid_case", "questions": ""})
    assert again.status_code == 422 and "already exists" in again.get_data(as_text=True)
    retired = client.post("/admin/categories/pet_nuisance", data={
        "csrf_token": token, "name_zh": "宠物扰民", "name_en": "Pet nuisance", "action": "retire"})
    assert retired.status_code == 303
    assert "pet_nuisance" not in client.get("/requests/new").get_data(as_text=True)

    token = csrf_token(client, "/admin/departments")
    assert client.post("/admin/departments", data={"csrf_token": token, **DOG_OFFICE}).status_code == 302
    renamed = client.post("/admin/departments/dog_office", data={
        "csrf_token": token, "name_zh": "犬类管理站", "name_en": "Dog control", "action": "save"})
    assert renamed.status_code == 303
    assert "犬类管理站" in client.get("/admin/departments").get_data(as_text=True)
    sign_in(client, "dispatcher")
    assert client.get("/admin/categories").status_code == 403
