"""Whatever text a resident or an Open311 client sends in whichever field, NUL included, the
answer is a page or an error list, never a 500; and a refused submission leaves no case.
(Lone surrogates cannot even be sent as form data: tests/web/test_input_guard.py sends them
as escaped bytes.)"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db
from models import Case
from tests.residents.conftest import csrf_token, request_fields
from tests.residents.test_open311 import post

# Any character UTF-8 can carry (NUL often), short and long values, numbers written oddly.
CHARACTERS = st.one_of(st.characters(blacklist_categories=("Cs",)), st.just("\x00"))
VALUES = st.one_of(st.text(CHARACTERS, max_size=40), st.text(CHARACTERS, min_size=900, max_size=5000),
                   st.sampled_from(["-1", "1e309", "NaN", "inf", "0x10", "99999999999999999999", " ", "[]", "{}"]))
OPEN311_FIELDS = ["service_code", "lat", "long", "address_string", "address_id", "description", "first_name",
                  "last_name", "phone", "email", "device_id", "account_id", "media_url", "jurisdiction_id",
                  "attribute[item]", "attribute[visit_time]", "attribute[]", "attribute[item][]"]
FORM_FIELDS = ["description", "place", "address_id", "lat", "lon", "address_text", "name", "phone", "item",
               "visit_time", "website"]
SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def cases() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Case.id)))


@SETTINGS
@given(changes=st.dictionaries(st.sampled_from(OPEN311_FIELDS), VALUES, min_size=1, max_size=4))
def test_open311_post_with_any_text_is_never_a_500(client, demo, changes):
    demo.config["OPEN311_POST_RATE_LIMIT"] = "100000/minute"
    before = cases()
    answer = post(client, **changes)
    assert answer.status_code in (201, 400, 403, 404), (changes, answer.status_code, answer.get_data(as_text=True)[:300])
    assert cases() == before + (1 if answer.status_code == 201 and "service_request_id" in answer.json[0] else 0)


@SETTINGS
@given(changes=st.dictionaries(st.sampled_from(FORM_FIELDS), VALUES, min_size=1, max_size=4))
def test_the_request_form_with_any_text_is_never_a_500(client, demo, changes):
    demo.config["REQUEST_RATE_LIMIT"] = "100000/minute"
    before = cases()
    url = "/requests/new/repair"
    answer = client.post(url, data={"csrf_token": csrf_token(client, url), **request_fields("repair", **changes)})
    assert answer.status_code in (303, 400, 422), (changes, answer.status_code, answer.get_data(as_text=True)[:300])
    assert cases() == before + (1 if answer.status_code == 303 else 0)
