"""Task data may cite only the photos of its own case: one check for the API and the pages."""
from __future__ import annotations

import io

from extensions import db
from models import Photo
from tests.builders import (
    IN_CY02,
    accept_and_dispatch,
    image_bytes,
    new_case,
    open_task,
    stored_photos,
    work,
)
from tests.inbox.conftest import PAGE, csrf_token
from web.commands.demo import DEMO_PASSWORD


def dispose(client, task_id: int, photos: list[str], headers: dict):
    return client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {
        "result": "resolved", "note": "已扶正井盖", "photos": photos}})


def test_the_api_refuses_photos_of_other_cases_and_attaches_new_ones(client, auth, elsewhere):
    case = accept_and_dispatch(new_case("manhole_tilt", description="3幢门口井盖倾斜"))
    task_id = open_task(case, "dispose").id
    gw01 = auth("gw01")
    neighbour = new_case("complaint", description="同社区另一案件")
    (neighbours_photo,) = stored_photos("gw01", case=neighbour)
    (someone_elses,) = stored_photos("gw02")  # uploaded by a colleague, cited by no case yet
    for foreign in (elsewhere["photo"], neighbours_photo, someone_elses):
        res = dispose(client, task_id, [foreign], gw01)
        assert res.status_code == 422, (foreign, res.get_json())
        assert res.get_json()["details"] == {"photos": "a photo belongs to another case: upload it again for this one"}
        assert foreign in res.get_json()["message"] and case.ref in res.get_json()["message"]
    uploaded = client.post("/api/v1/photos", headers=gw01,
                           data={"photo": (io.BytesIO(image_bytes("JPEG")), "done.jpg")})
    assert uploaded.status_code == 201
    photo_id = uploaded.get_json()["id"]
    assert dispose(client, task_id, [photo_id], gw01).status_code == 200
    db.session.rollback()
    assert db.session.get(Photo, photo_id).case_id == case.id
    # Cited once, the photo is the case's: another case cannot cite it any more.
    other = accept_and_dispatch(new_case("manhole_tilt", description="另一个井盖"))
    assert dispose(client, open_task(other, "dispose").id, [photo_id], gw01).status_code == 422


def test_the_page_refuses_them_with_the_same_message(client, demo, elsewhere):
    case = new_case("manhole_tilt", at=IN_CY02, description="第二社区的井盖")
    work(case, "accept", "dispatcher2", accepted=True)
    work(case, "dispatch", "dispatcher2", department="municipal", note="请处理")
    url = f"/tasks/{open_task(case, 'dispose').id}"
    signed_in = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "account": "gw05",
                                            "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    res = client.post(url, headers=PAGE, data={"csrf_token": csrf_token(client, url), "result": "resolved",
                                               "note": "已处理", "photos": elsewhere["photo"]})
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and "照片不属于本案件，请为本案件重新上传" in html
    # The other community's photo is not shown back on the form.
    assert elsewhere["photo"] not in html
