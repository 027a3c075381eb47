"""A resident request, from the form or over Open311, is one unit of work: when its second half
(the request details, the photos, the Open311 token) fails in the database, no case is left,
so a client that retries opens exactly one case.

The database is made to refuse the details with a real trigger (created by the test, dropped
after it): nothing of our code is replaced."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from extensions import db, redis
from forms.requests import Place
from integrations.open311 import open_deferred_request, sweep_open311_tokens
from models import Case, CaseEvent, Open311Token, Photo, utcnow
from residents.requests import DETAILS_EVENT, ResidentRequest, keep_photos, submit_request
from tests.residents.conftest import csrf_token, request_fields, room
from tests.residents.test_open311 import post
from workflows.runtime import Actor

TRIGGER_SQL = {
    "postgresql": [
        "CREATE FUNCTION refuse_request_details() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'test: request details refused'; END $$",
        "CREATE TRIGGER refuse_request_details BEFORE INSERT ON case_events FOR EACH ROW "
        f"WHEN (NEW.kind = '{DETAILS_EVENT}') EXECUTE FUNCTION refuse_request_details()",
    ],
    "sqlite": [
        f"CREATE TRIGGER refuse_request_details BEFORE INSERT ON case_events WHEN NEW.kind = '{DETAILS_EVENT}' "
        "BEGIN SELECT RAISE(ABORT, 'test: request details refused'); END",
    ],
}
DROP_SQL = {
    "postgresql": ["DROP TRIGGER IF EXISTS refuse_request_details ON case_events",
                   "DROP FUNCTION IF EXISTS refuse_request_details()"],
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_request_details"],
}


def _run_as_owner(app, statements: list[str]) -> None:
    """DDL as the schema's owner (on PostgreSQL the app's own role may not create triggers)."""
    db.session.rollback()
    engine = create_engine(app.config.get("DATABASE_OWNER_URL") or app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


@pytest.fixture
def details_refused(demo, backend):
    """While active, the database refuses every request_details event; ``lift()`` ends it."""

    class Refusal:
        def lift(self) -> None:
            _run_as_owner(demo, DROP_SQL[backend])

    _run_as_owner(demo, TRIGGER_SQL[backend])
    yield Refusal()
    _run_as_owner(demo, DROP_SQL[backend])


def counts() -> tuple[int, int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count(Case.id))), db.session.scalar(select(func.count(CaseEvent.id))),
            db.session.scalar(select(func.count(Photo.id))))


def test_an_open311_post_that_fails_leaves_no_case_and_its_retry_opens_one(client, details_refused):
    failed = post(client)
    assert failed.status_code == 500
    assert counts() == (0, 0, 0)
    details_refused.lift()
    retried = post(client)
    assert retried.status_code == 201, retried.get_data(as_text=True)
    ref = retried.json[0]["service_request_id"]
    assert db.session.scalars(select(Case.ref)).all() == [ref]
    kinds = db.session.scalars(select(CaseEvent.kind)).all()
    assert kinds.count(DETAILS_EVENT) == 1


def test_a_deferred_open311_request_is_opened_with_its_token_or_not_at_all(client, details_refused):
    answer = post(client, service_code="government_service", **{"attribute[item]": "elderly_subsidy",
                                                                 "attribute[applicant]": "赵大爷"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    token = db.session.scalar(select(Open311Token).where(Open311Token.token == answer.json[0]["token"]))
    # Redis is up in the tests: the token waits for a worker; the test is that worker.
    with pytest.raises(Exception, match="request details refused"):
        open_deferred_request(token.id)
    db.session.rollback()
    assert counts()[0] == 0
    assert db.session.scalar(select(Open311Token.state).where(Open311Token.id == token.id)) == "pending"
    details_refused.lift()
    ref = open_deferred_request(token.id)
    assert ref is not None and open_deferred_request(token.id) is None
    row = db.session.get(Open311Token, token.id)
    assert row.state == "opened" and db.session.scalars(select(Case.ref)).all() == [ref]


def test_a_queued_request_whose_job_was_lost_is_opened_by_the_sweep(client, demo):
    answer = post(client, service_code="government_service", **{"attribute[item]": "elderly_subsidy",
                                                                 "attribute[applicant]": "赵大爷"})
    token = answer.json[0]["token"]
    # The job is lost: nothing runs the queue. Within the grace the sweep leaves it to its job.
    redis.queue("default").empty()
    assert sweep_open311_tokens(grace_seconds=60) == 0
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert sweep_open311_tokens(grace_seconds=60) == 1
        assert sweep_open311_tokens(grace_seconds=60) == 0
    db.session.rollback()
    row = db.session.scalar(select(Open311Token).where(Open311Token.token == token))
    assert row.state == "opened" and db.session.scalar(select(func.count(Case.id))) == 1
    assert client.get(f"/open311/v2/tokens/{token}.json").json[0]["service_request_id"] is not None


def test_a_form_submission_that_fails_leaves_no_case_photo_or_file(client, details_refused, png_bytes, app):
    url = "/requests/new/repair"
    data = {"csrf_token": csrf_token(client, url), **request_fields("repair"),
            "photos": [(io.BytesIO(png_bytes()), "leak.png")]}
    answer = client.post(url, data=data, content_type="multipart/form-data")
    assert answer.status_code == 500
    assert counts() == (0, 0, 0)
    assert not list((Path(app.config["DATA_DIR"]) / "photos").rglob("*.jpg"))


def test_a_constraint_on_the_second_half_rolls_back_the_case(demo, png_bytes):
    """No trigger: a photo row whose id is taken breaks the primary key after the case is written."""
    (first,) = keep_photos([png_bytes()], None)
    (clash,) = keep_photos([png_bytes(color=(1, 2, 3))], None)
    clash.id = first.id
    db.session.add(first)
    db.session.commit()
    db.session.expunge(first)
    before = counts()
    req = ResidentRequest(category="repair", form_code="repair", description="水管漏水",
                          place=Place(mode="address", address_id=room().id), channel="web",
                          source="resident", phone="13812341234")
    with pytest.raises(IntegrityError):
        submit_request(req, Actor(label="resident"), [clash])
    assert counts() == before == (0, 0, 1)
