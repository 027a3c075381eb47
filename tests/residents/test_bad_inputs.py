"""Every rejection on the resident pages: a clear message, a 4xx, and nothing saved."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from extensions import db
from models import Case, Photo
from tests.residents.conftest import csrf_token, request_fields, submit, submitted_ref, work_until_feedback
from workflows.cases import case_by_ref


def case_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Case.id)))


def test_without_the_csrf_token_nothing_is_saved(client, demo):
    res = client.post("/requests/new/repair", data=request_fields("repair"))
    assert res.status_code == 400 and "表单已过期" in res.get_data(as_text=True)
    assert case_count() == 0


def test_the_honeypot_stops_software(client, demo):
    res = submit(client, "repair", website="http://spam.example")
    assert res.status_code == 400 and "由程序自动填写" in res.get_data(as_text=True)
    assert case_count() == 0


def test_submissions_are_rate_limited_per_address(client, demo):
    demo.config["REQUEST_RATE_LIMIT"] = "2 per minute"
    token = csrf_token(client, "/requests/new/repair")
    for _ in range(2):
        assert submit(client, "repair", token=token).status_code == 303
    blocked = submit(client, "repair", token=token)
    assert blocked.status_code == 429 and "提交次数过多" in blocked.get_data(as_text=True)
    assert case_count() == 2


BAD_FIELDS = [
    ({"description": "长" * 1001}, 422, "请不要超过 1000 个字"),
    ({"description": "   "}, 422, "请描述具体情况"),
    ({"phone": ""}, 422, "请填写手机号码"),
    ({"phone": "call me maybe"}, 422, "这不是有效的电话号码"),
    ({"name": "名" * 33}, 422, "称呼太长了"),
    ({"item": "unicorn"}, 422, "请从选项中选择"),
    ({"item": ""}, 422, "请回答这一项"),
    ({"visit_time": "x" * 61}, 422, "请简短填写"),
    ({"address_id": ""}, 422, "请选择楼幢、单元和房号"),
    ({"address_id": "999999"}, 422, "地址库中没有这个房号"),
    ({"place": "map", "lat": "91", "lon": "120.1"}, 422, "请在地图上点选位置"),
    ({"place": "here", "lat": "north", "lon": ""}, 422, "还没有获取到您的位置"),
    ({"place": "text", "address_text": "somewhere", "address_id": ""}, 422, "请选择楼幢、单元和房号"),
]


def test_bad_fields_are_marked_in_place(client, demo):
    demo.config["REQUEST_RATE_LIMIT"] = "100 per minute"
    token = csrf_token(client, "/requests/new/repair")
    for fields, status, message in BAD_FIELDS:
        res = submit(client, "repair", token=token, **fields)
        page = res.get_data(as_text=True)
        assert res.status_code == status and message in page and "请修改标出的内容" in page, fields
        # What was typed comes back, so nothing has to be typed again.
        if "description" not in fields:
            assert request_fields("repair")["description"] in page
    assert case_count() == 0


def test_a_file_that_is_not_an_image_is_refused(client, demo, png_bytes):
    fake = (io.BytesIO(b"MZ\x90\x00 this is not a picture" * 50), "holiday.jpg")
    res = submit(client, "repair", files=[(io.BytesIO(png_bytes()), "ok.png"), fake])
    assert res.status_code == 422 and "文件不是可以读取的图片" in res.get_data(as_text=True)
    assert case_count() == 0 and db.session.scalar(select(func.count(Photo.id))) == 0


def test_more_than_three_photos_are_refused(client, demo, png_bytes):
    res = submit(client, "repair", files=[(io.BytesIO(png_bytes()), f"{n}.png") for n in range(4)])
    assert res.status_code == 422 and "最多 3 张照片" in res.get_data(as_text=True)
    assert case_count() == 0


def test_a_body_over_the_size_limit_gets_a_page_not_a_crash(client, demo, png_bytes):
    token = csrf_token(client, "/requests/new/repair")
    demo.config["MAX_CONTENT_LENGTH"] = 2000
    res = submit(client, "repair", token=token, files=[(io.BytesIO(png_bytes(size=(400, 400))), "big.png")])
    assert res.status_code == 413 and "照片总大小超过限制" in res.get_data(as_text=True)


def test_unknown_request_type(client, demo):
    res = client.get("/requests/new/unicorn")
    page = res.get_data(as_text=True)
    assert res.status_code == 404 and "没有“unicorn”这种诉求类型" in page and "/requests/new/repair" in page
    token = csrf_token(client, "/requests/new/repair")
    assert client.post("/requests/new/unicorn", data={"csrf_token": token}).status_code == 404


def test_tracking_rejections(client, demo):
    ref = submitted_ref(client, submit(client, "complaint"))
    stranger = demo.test_client()
    assert stranger.get(f"/track/{ref}").status_code == 302
    token = csrf_token(stranger, "/track")
    wrong = stranger.post("/track", data={"csrf_token": token, "ref": ref, "phone": "13900000000"})
    assert wrong.status_code == 404 and "没有与该受理编号和手机号码相符的诉求" in wrong.get_data(as_text=True)
    malformed = stranger.post("/track", data={"csrf_token": token, "ref": "abc", "phone": "x"})
    page = malformed.get_data(as_text=True)
    assert malformed.status_code == 422 and "这不是有效的受理编号" in page and "这不是有效的电话号码" in page
    unknown = stranger.post("/track", data={"csrf_token": token, "ref": "999999999999", "phone": "13812341234"})
    assert unknown.status_code == 404
    # Rating someone else's request, or rating when nothing waits for it.
    assert stranger.post(f"/track/{ref}/rating", data={"csrf_token": token, "satisfaction": "satisfied"}
                         ).status_code == 403
    token = csrf_token(client, "/track")
    early = client.post(f"/track/{ref}/rating", data={"csrf_token": token, "satisfaction": "satisfied"})
    assert early.status_code == 303
    assert "这条诉求目前不需要评价" in client.get(f"/track/{ref}").get_data(as_text=True)
    work_until_feedback(ref)
    bad = client.post(f"/track/{ref}/rating", data={"csrf_token": token, "satisfaction": "ecstatic"})
    assert bad.status_code == 422 and "请选择评价" in bad.get_data(as_text=True)
    assert case_by_ref(ref).status == "feedback"
    assert client.get("/track/999999999999").status_code == 404


def test_tracking_lookups_are_rate_limited(client, demo):
    demo.config["TRACK_RATE_LIMIT"] = "3 per minute"
    token = csrf_token(client, "/track")
    for _ in range(3):
        client.post("/track", data={"csrf_token": token, "ref": "1", "phone": "13900000000"})
    blocked = client.post("/track", data={"csrf_token": token, "ref": "1", "phone": "13900000000"})
    assert blocked.status_code == 429
