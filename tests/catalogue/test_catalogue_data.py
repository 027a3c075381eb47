"""The catalogue's other columns at work: a device alarm type remapped to a new category opens
cases of it, the report breaks a new category down under its name, and any name an
administrator types is shown as typed (escaped) everywhere."""
from __future__ import annotations

import itertools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from extensions import db
from models import Device
from reports.content import collect_report
from reports.periods import parse_period
from reports.scopes import resolve_scope
from tests.builders import IN_JX01
from tests.catalogue.test_catalogue_api import post
from tests.integrations.helpers import cases_of, event, run_jobs
from web.commands.demo import device_key

_codes = itertools.count()


def test_an_alarm_type_remapped_to_a_new_category_opens_cases_of_it(client, demo, auth):
    created = post(client, auth("admin"), "categories", {
        "code": "streetlight_dark", "name_zh": "路灯不亮", "name_en": "Street light dark", "family": "device",
        "default_severity": "high", "process": "grid_case", "alarm_types": ["street_light.lamp_fault"]})
    assert created.status_code == 201, created.get_data(as_text=True)
    device = db.session.scalar(select(Device).where(Device.code == "street_light-01"))
    answer = client.post(f"/api/v1/devices/{device.id}/events", data=json.dumps(event("lamp_fault")),
                         headers={"Content-Type": "application/json", "X-Device-Key": device_key(device.code)})
    assert answer.status_code == 202, answer.get_json()
    run_jobs()
    assert [(c.category, c.severity) for c in cases_of("street_light-01")] == [("streetlight_dark", "normal")]


NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=64).filter(str.strip)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name_zh=NAME, name_en=NAME)
def test_any_name_is_kept_and_shown_as_typed(client, demo, auth, name_zh, name_en):
    code = f"named_{next(_codes)}"
    created = post(client, auth("admin"), "categories", {
        "code": code, "name_zh": name_zh, "name_en": name_en, "family": "people", "default_severity": "low",
        "process": "grid_case", "public": True})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert (created.json["name_zh"], created.json["name_en"]) == (name_zh.strip(), name_en.strip())
    services = {s["service_code"]: s for s in client.get("/open311/v2/services.json").json}
    assert services[code]["service_name"] == name_zh.strip()
    page = client.get("/requests/new").get_data(as_text=True)
    assert f"/requests/new/{code}" in page
    assert "<script" not in page.replace('<script src=', '')


def test_the_report_breaks_a_new_category_down_under_its_name(client, demo, auth):
    created = post(client, auth("admin"), "categories", {
        "code": "pet_nuisance", "name_zh": "宠物扰民", "name_en": "Pet nuisance", "family": "people",
        "default_severity": "normal", "process": "grid_case"})
    assert created.status_code == 201
    opened = client.post("/api/v1/cases", headers=auth("dispatcher"), json={
        "category": "pet_nuisance", "lat": IN_JX01[0], "lon": IN_JX01[1], "description": "狗叫"})
    assert opened.status_code == 201, opened.get_data(as_text=True)
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime.now(zone)
    content = collect_report(resolve_scope("grid", "JX-01"), parse_period("month", now.strftime("%Y-%m")),
                             now, zone)
    assert ("pet_nuisance", "宠物扰民") in {(b.key, b.name) for b in content.by_category}
