"""Open311 GeoReport v2: read by the real third-party client ``georeport`` over HTTP, and every
POST, token and error case over plain HTTP, in JSON and in XML."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from georeport import GeoReport
from sqlalchemy import select, update

from extensions import db, redis
from handlers.crypto import decrypt_personal
from integrations.open311 import open_deferred_request
from models import Case, Open311Client, Open311Token, transaction, utcnow
from residents.requests import request_details
from tests.residents.conftest import room, submit, submitted_ref
from web.commands.demo_residents import DEMO_OPEN311_KEY
from web.commands.services import AppWorker
from workflows.cases import case_by_ref

BASE = "/open311/v2"


def post(client, fmt: str = "json", **fields):
    body = {"api_key": DEMO_OPEN311_KEY, "service_code": "repair", "lat": "30.275", "long": "120.105",
            "description": "路灯下水道井盖松动", "attribute[item]": "public_facility", "first_name": "李",
            "last_name": "雷", "phone": "+86 139 1234 5678", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in body.items() if v is not None})


def assert_error(res, status: int, needle: str, fmt: str = "json") -> None:
    assert res.status_code == status, res.get_data(as_text=True)
    if fmt == "json":
        (error,) = res.json
        assert error["code"] == status and needle in error["description"], error
    else:
        root = ET.fromstring(res.data)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
        assert needle in root.find("error/description").text


def test_georeport_client_reads_services_definitions_and_requests(client, live_server):
    ref = submitted_ref(client, submit(client, "repair"))
    created = post(client).json[0]["service_request_id"]
    for fmt in ("json", "xml"):
        reader = GeoReport(f"{live_server}{BASE}", output_format=fmt)
        services = reader.get_service_list()
        codes = [s["service_code"] for s in services]
        assert codes[0] == "repair" and len(codes) == 9
        assert {"high_altitude_throwing", "group_renting", "government_service", "vulnerable_care"} <= set(codes)
        repair = next(s for s in services if s["service_code"] == "repair")
        assert repair["service_name"] == "报事报修" and repair["type"] == "realtime"
        assert str(repair["metadata"]).lower() == "true"
        gov = next(s for s in services if s["service_code"] == "government_service")
        assert gov["type"] == "batch"

        definition = reader.get_service_definition("repair")
        attributes = definition["attributes"]
        attributes = attributes["attribute"] if fmt == "xml" else attributes
        item = next(a for a in attributes if a["code"] == "item")
        assert item["datatype"] == "singlevaluelist" and str(item["required"]).lower() == "true"
        values = item["values"]["value"] if fmt == "xml" else item["values"]
        assert {"key": "plumbing", "name": "水管、下水"} in values

        requests_ = reader.get_service_requests()
        requests_ = requests_ if isinstance(requests_, list) else [requests_]
        assert {r["service_request_id"] for r in requests_} == {ref, created}
        one = reader.get_service_request(ref)
        assert one["service_code"] == "repair" and one["status"] == "open"
        assert one["requested_datetime"].endswith("+08:00") and one["expected_datetime"].endswith("+08:00")
        # The public sees the building, never the room; the phone never.
        assert one["address"] == "锦绣社区 1幢" and "13812341234" not in str(one)
        filtered = reader.get_service_requests(service_code="repair,complaint", status="open")
        assert {r["service_request_id"] for r in filtered} == {ref, created}
        assert reader.get_service_requests(service_request_id=created)["service_request_id"] == created \
            if fmt == "xml" else reader.get_service_requests(service_request_id=created)[0]["lat"] == 30.275


def test_post_opens_a_case_at_once(client, demo):
    res = post(client)
    assert res.status_code == 201, res.json
    (created,) = res.json
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    case = case_by_ref(created["service_request_id"])
    assert (case.category, case.source, case.grid.code, case.reporter_name) == ("repair", "api", "JX-01", "李 雷")
    assert decrypt_personal(case.reporter_phone) == "13912345678"
    details = request_details(case)
    assert details["channel"] == "open311" and details["attributes"] == {"item": "public_facility"}
    assert details["open311_client"] == "demo-311-app"

    by_room = post(client, "xml", lat=None, long=None, address_id=str(room(building="3幢").id),
                   **{"attribute[item]": "plumbing"})
    root = ET.fromstring(by_room.data)
    assert by_room.status_code == 201 and root.tag == "service_requests"
    case = case_by_ref(root.find("request/service_request_id").text)
    assert case.address == "锦绣社区 3幢 1单元 101室" and case.grid.code == "JX-02"

    by_words = post(client, lat=None, long=None, address_string="锦绣社区东门", jurisdiction_id="jinxiu")
    case = case_by_ref(by_words.json[0]["service_request_id"])
    assert case.address == "锦绣社区东门" and case.community.code == "jinxiu" and case.grid_id is None
    hazard = post(client, service_code="high_altitude_throwing", **{"attribute[item]": None,
                                                                     "attribute[seen_at]": "昨晚"})
    assert case_by_ref(hazard.json[0]["service_request_id"]).category == "high_altitude_throwing"


def test_a_batch_service_answers_with_a_token_and_a_worker_opens_it(client, demo):
    res = post(client, service_code="government_service", **{"attribute[item]": "residence_certificate",
                                                              "attribute[applicant]": "李雷"})
    assert res.status_code == 201, res.json
    (accepted,) = res.json
    assert "service_request_id" not in accepted and accepted["token"]
    token = accepted["token"]
    pending = client.get(f"{BASE}/tokens/{token}.json")
    assert pending.status_code == 200 and pending.json == [{"service_request_id": None, "token": token}]

    AppWorker([redis.queue("default")], connection=redis.client).work(burst=True)
    db.session.rollback()
    ready = client.get(f"{BASE}/tokens/{token}.xml")
    root = ET.fromstring(ready.data)
    ref = root.find("request/service_request_id").text
    assert root.find("request/token").text == token
    case = case_by_ref(ref)
    assert case.process_id == "gov_service" and case.status == "pending_accept"
    # Running it again (a retried job) opens nothing more.
    row = db.session.scalar(select(Open311Token).where(Open311Token.token == token))
    assert open_deferred_request(row.id) is None
    assert db.session.scalar(select(db.func.count(Case.id)).where(Case.category == "government_service")) == 1
    # Public reading leaves the description of a sensitive service out; a client with its key sees it.
    public = client.get(f"{BASE}/requests/{ref}.json").json[0]
    assert public["description"] is None and public["service_code"] == "government_service"
    full = client.get(f"{BASE}/requests/{ref}.json?api_key={DEMO_OPEN311_KEY}").json[0]
    assert full["description"] == "路灯下水道井盖松动"


@pytest.mark.parametrize("fields, status, needle", [
    ({"api_key": None}, 403, "api_key is missing"),
    ({"api_key": "stolen"}, 403, "Invalid api_key"),
    ({"service_code": None}, 400, "service_code was not provided"),
    ({"service_code": "unicorn"}, 404, "service_code 'unicorn' not found"),
    ({"jurisdiction_id": "atlantis"}, 404, "jurisdiction_id 'atlantis' not found"),
    ({"lat": None, "long": None}, 400, "a location is required"),
    ({"long": None}, 400, "give both lat and long"),
    ({"lat": "north"}, 400, "location"),
    ({"attribute[item]": None}, 400, "attribute[item]"),
    ({"attribute[item]": "teleporter"}, 400, "attribute[item]"),
    ({"description": "x" * 4001}, 400, "description"),
    ({"phone": "not a phone"}, 400, "phone"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"lat": None, "long": None, "address_id": "999999"}, 400, "unknown address"),
    ({"lat": None, "long": None, "address_string": "某处"}, 400, "community"),
])
def test_post_errors(client, demo, fields, status, needle):
    for fmt in ("json", "xml"):
        assert_error(post(client, fmt, **fields), status, needle, fmt)
    assert db.session.scalar(select(db.func.count(Case.id))) == 0


READ_ERRORS = [
    ("/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400, "90 days"),
    ("/requests.json?start_date=yesterday", 400, "start_date"),
    ("/requests.json?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", 400, "before"),
    ("/requests.json?status=pending", 400, "status"),
    ("/requests.json?service_code=unicorn", 404, "service_code"),
    ("/requests.json?jurisdiction_id=atlantis", 404, "jurisdiction_id"),
    ("/requests.json?api_key=stolen", 403, "api_key"),
    ("/requests/999999999999.json", 404, "service_request_id"),
    ("/requests/999999999999.xml", 404, "service_request_id"),
    ("/services/unicorn.json", 404, "service_code"),
    ("/services/unicorn.xml", 404, "service_code"),
    ("/services.json?jurisdiction_id=atlantis", 404, "jurisdiction_id"),
    ("/tokens/no-such-token.json", 404, "token"),
    ("/tokens/no-such-token.xml", 404, "token"),
    ("/services.csv", 404, "json or .xml"),
    ("/nothing/here.xml", 404, "no Open311 resource"),
]


def test_read_errors(client, demo):
    for path, status, needle in READ_ERRORS:
        fmt = "xml" if path.split("?")[0].endswith(".xml") else "json"
        assert_error(client.get(BASE + path), status, needle, fmt)


def test_the_90_day_window_and_filters(client, demo):
    old_ref = submitted_ref(client, submit(client, "complaint"))
    new_ref = submitted_ref(client, submit(client, "repair"))
    with transaction():
        db.session.execute(update(Case).where(Case.ref == old_ref).values(opened_at=utcnow() - timedelta(days=100)))
    listed = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json}
    assert listed == {new_ref}
    start = (utcnow() - timedelta(days=101)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = client.get(f"{BASE}/requests.json?start_date={start}").json
    assert [r["service_request_id"] for r in window] == [old_ref]
    both = client.get(f"{BASE}/requests.json?service_request_id={old_ref},{new_ref}").json
    assert {r["service_request_id"] for r in both} == {old_ref, new_ref}
    assert client.get(f"{BASE}/requests.json?status=closed").json == []
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?service_code=repair").json] == [new_ref]
    assert client.get(f"{BASE}/requests.json?jurisdiction_id=cuiyuan").json == []
    assert len(client.get(f"{BASE}/requests.json?jurisdiction_id=cuihu").json) == 1


def test_discovery_and_xml_shapes(client, demo):
    discovery = ET.fromstring(client.get(f"{BASE}/discovery.xml").data)
    assert discovery.find("endpoints/endpoint/specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in discovery.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert client.get(f"{BASE}/discovery.json").json["endpoints"][0]["url"].endswith("/open311/v2")
    services = ET.fromstring(client.get(f"{BASE}/services.xml").data)
    assert services.tag == "services" and len(services.findall("service")) == 9
    res = client.get(f"{BASE}/services.xml")
    assert res.mimetype == "text/xml"


def test_post_is_rate_limited(client, demo):
    demo.config["OPEN311_POST_RATE_LIMIT"] = "2 per minute"
    assert post(client).status_code == 201 and post(client).status_code == 201
    assert_error(post(client, "xml"), 429, "", "xml")


def test_a_client_is_registered_from_the_shell_and_its_key_works(client, runner, demo):
    result = runner.invoke(args=["open311", "add-client", "city-hotline-app"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().rsplit(" ", 1)[-1]
    assert post(client, api_key=key).status_code == 201
    stored = db.session.scalar(select(Open311Client.key_hash).where(Open311Client.name == "city-hotline-app"))
    assert stored != key and len(stored) == 64
