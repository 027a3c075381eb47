"""The /reports page: who may use it, building through the queue with progress, downloads, and a
clear 4xx for every bad input."""
from __future__ import annotations

import pytest
import time_machine
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from extensions import db, redis
from models import Grid, Report, User, transaction
from tests.reports.conftest import csrf_token, sign_in
from tests.reports.known_cases import local


@pytest.fixture(autouse=True)
def early_november():
    """Signed sessions must not be older than the clock: the whole test runs on 5 November."""
    with time_machine.travel(local("2026-11-05 10:00"), tick=True):
        yield


def build(client, **form):
    data = {"scope": "grid:JX-01", "period": "month", "month": "2026-10",
            "csrf_token": csrf_token(client, "/reports"), **form}
    return client.post("/reports", data=data)


def reports() -> list[Report]:
    db.session.rollback()
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def test_the_page_is_for_signed_in_supervisors_and_administrators(client, demo):
    assert client.get("/reports").status_code == 302  # to the sign-in page
    sign_in(client, "gw01")
    assert client.get("/reports").status_code == 403
    sign_in(client, "supervisor")
    page = client.get("/reports").get_data(as_text=True)
    assert "网格治理监督报告" in page and 'value="street:cuihu"' in page and 'value="grid:CY-03"' in page
    sign_in(client, "admin")
    assert client.get("/reports").status_code == 200


def test_build_follow_the_job_and_download(client, demo, data_dir):
    sign_in(client, "supervisor")
    answer = build(client)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/reports")
    [report] = reports()
    assert (report.status, report.trigger, report.scope_code, str(report.starts_on), str(report.ends_on)) == (
        "queued", "web", "JX-01", "2026-10-01", "2026-10-31")
    status = client.get(f"/reports/{report.id}/status").get_json()
    assert status["status"] == "queued" and status["job"] == "queued" and status["download"] is None
    assert client.get(f"/reports/{report.id}/download").status_code == 409

    job = redis.queue("reports").fetch_job(report.job_id)
    assert job.func_name == "reports.jobs.build_report_job" and job.args == (report.id,)
    job.perform()
    assert job.meta["stage"] == "saving"
    status = client.get(f"/reports/{report.id}/status").get_json()
    assert status["status"] == "done" and status["pages"] >= 3
    pdf = client.get(status["download"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    listing = client.get("/reports").get_data(as_text=True)
    assert f"/reports/{report.id}/download" in listing and "已完成" in listing


def test_bad_input_gets_a_400_with_the_reason(client, demo):
    sign_in(client, "supervisor")
    cases = [
        ({"month": "2026-13"}, "not a month"),
        ({"month": "2026-12"}, "has not begun"),
        ({"period": "custom", "start": "2026-10-15", "end": "2026-10-01"}, "before the start"),
        ({"period": "custom", "start": "2024-01-01", "end": "2026-10-01"}, "at most 366 days"),
        ({"period": "week", "week": "2026-W99"}, "does not exist"),
        ({"period": "year"}, "不是有效的选择"),  # WTForms' own messages come in Chinese
        ({"scope": "grid:NOPE"}, "不是有效的选择"),
        ({"month": "2026-10" * 5}, "字段长度不能超过 10 个字符"),
    ]
    for form, reason in cases:
        answer = build(client, **form)
        assert answer.status_code == 400, form
        assert reason in answer.get_data(as_text=True), form
    assert client.post("/reports", data={"scope": "grid:JX-01", "period": "month",
                                         "month": "2026-10"}).status_code == 400  # no CSRF token
    assert reports() == []
    assert client.get("/reports/999/status").status_code == 404
    assert client.get("/reports/999/download").status_code == 404


def test_a_supervisor_sees_only_the_scopes_of_their_grids(client, demo, data_dir):
    with transaction():
        narrow = User(account="sup_jx01", name="第1网格督办", role="supervisor", password_hash=db.session.scalar(
            select(User.password_hash).where(User.account == "supervisor")))
        narrow.grids = list(db.session.scalars(select(Grid).where(Grid.code == "JX-01")))
        db.session.add(narrow)
    sign_in(client, "supervisor")
    assert build(client, scope="community:jinxiu").status_code == 303
    [community_report] = reports()

    sign_in(client, "sup_jx01")
    page = client.get("/reports").get_data(as_text=True)
    assert 'value="grid:JX-01"' in page and "grid:JX-02" not in page and "community:jinxiu" not in page
    assert f"/reports/{community_report.id}/status" not in page
    assert build(client, scope="community:jinxiu").status_code == 400
    assert client.get(f"/reports/{community_report.id}/status").status_code == 404
    assert client.get(f"/reports/{community_report.id}/download").status_code == 404


def test_a_report_that_cannot_be_queued_says_so(client, demo, monkeypatch):
    sign_in(client, "supervisor")

    def refuse(*args, **kwargs):
        raise RedisConnectionError("refused")

    monkeypatch.setattr(type(redis.queue("reports")), "enqueue", refuse)
    answer = build(client)
    assert answer.status_code == 503 and "not available" in answer.get_data(as_text=True)
    [report] = reports()
    assert report.status == "failed" and "not queued" in report.error
