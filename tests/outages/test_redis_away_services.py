"""The real ``flask worker`` and ``flask scheduler`` against a Redis of the test's own, stopped
for seconds mid-run: neither exits, and once Redis is back what was left during the outage
(a due SLA timer whose job could not be queued, an alarm whose case job could not be queued)
is done exactly once. The private Redis keeps nothing across its restart, so nothing done
afterwards can come from a job queued before."""
from __future__ import annotations

import time

import time_machine
from sqlalchemy import func, select

from extensions import db
from models import Alarm, Case, Device, utcnow
from tests.outages.helpers import AGO, due_case, escalations, wait_until
from web.commands.demo import build_demo_community, device_key


def test_worker_and_scheduler_outlive_a_redis_outage_and_catch_up(outage_app, private_redis, services):
    build_demo_community()
    services.start("worker", "scheduler")
    services.wait_ready()
    before = due_case()  # its job is queued at once, and the sweep sees it too: fired once
    wait_until(lambda: escalations(before) == 1, services, 30, "the timer of a case opened before the outage")

    private_redis.stop()
    client = outage_app.test_client()
    during = due_case()  # its job cannot be queued
    light = db.session.scalar(select(Device).where(Device.code == "street_light-01"))
    with time_machine.travel(utcnow() - AGO, tick=True):  # long outstanding: the sweep takes it at once
        answer = client.post(f"/api/v1/devices/{light.id}/events", headers={"X-Device-Key": device_key(light.code)},
                             json={"msg_id": "outage-2", "type": "lamp_fault", "readings": {"voltage_v": 220.0}})
    assert answer.status_code == 202, answer.get_json()
    time.sleep(3.5)  # both services meet the outage (the sweeps run every second)
    assert services.alive() == {"worker": True, "scheduler": True}, (services.log("worker")[-3000:],
                                                                     services.log("scheduler")[-3000:])
    assert escalations(during) == 0

    private_redis.start()
    wait_until(lambda: escalations(during) == 1, services, 40, "the timer left during the outage")
    fault = select(Alarm.case_id).where(Alarm.device_id == light.id, Alarm.type == "lamp_fault")
    wait_until(lambda: db.session.scalar(fault) is not None, services, 40,
               "the case of the alarm raised during the outage")
    time.sleep(2)  # a few more sweeps: nothing is done twice
    assert (escalations(before), escalations(during)) == (1, 1)
    assert db.session.scalar(select(func.count()).select_from(Case).where(
        Case.device_id == light.id, Case.category == "streetlight_lamp_fault")) == 1
    assert services.stop() == {"worker": 0, "scheduler": 0}  # SIGTERM stops both, cleanly
