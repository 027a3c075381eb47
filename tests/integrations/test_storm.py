"""The shipped broker keeps every message: with the ingest killed, 5,000 distinct alarms are
published; the broker (broker/mosquitto.conf, a private instance) is even restarted while they
wait; the ingest comes back and every alarm becomes exactly one alarm row and one case.

Mosquitto's default configuration keeps at most 1,000 messages for an absent subscriber and
none across a restart without persistence: on it this test loses most of the storm."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from extensions import db
from integrations.directory import hash_device_key
from models import Alarm, Case, Device, Grid, IngestedMessage, transaction
from tests.integrations.conftest import SERVICE_PASSWORD, SERVICE_USER, free_port, start_broker
from tests.integrations.helpers import Publisher, count, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEVICES = 2500
TYPES = ("open", "fault")  # two alarm types a manhole cover raises: 5,000 distinct alarms
WORKERS = 2


def service(kind: str, env: dict, log_dir: Path, n: int) -> subprocess.Popen:
    args = {"ingest": ["ingest", "mqtt"], "worker": ["worker"]}[kind]
    log = open(log_dir / f"{kind}-{n}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_5000_alarms_published_while_the_ingest_is_down_all_become_cases_once(devices, backend, tmp_path):
    if backend != "postgresql":
        pytest.skip("a storm with several processes is measured on PostgreSQL")
    grid = db.session.scalar(select(Grid).where(Grid.code == "JX-01"))
    codes = [f"st-{i:04d}" for i in range(DEVICES)]
    with transaction():
        db.session.execute(insert(Device), [{
            "code": code, "kind": "manhole_cover", "name": f"井盖{code}", "community_id": grid.community_id,
            "grid_id": grid.id, "status": "unknown", "key_hash": hash_device_key(f"key-{code}-00000000")}
            for code in codes])
    port = free_port()
    broker = start_broker(tmp_path / "broker", port)
    config = devices.config
    env = {**os.environ, "DATABASE_URL": config["DATABASE_URL"], "REDIS_URL": config["REDIS_URL"],
           "QUEUE_PREFIX": config["QUEUE_PREFIX"], "SECRET_KEY": config["SECRET_KEY"],
           "DATA_DIR": str(tmp_path / "data"), "MQTT_HOST": "127.0.0.1", "MQTT_PORT": str(port),
           "MQTT_USERNAME": SERVICE_USER, "MQTT_PASSWORD": SERVICE_PASSWORD, "MQTT_SESSION_EXPIRY": "600",
           "MQTT_CLIENT_ID": f"ingest-storm-{uuid.uuid4().hex[:8]}", "PYTHONUNBUFFERED": "1"}
    processes: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        ingest = service("ingest", env, tmp_path, 1)
        processes.append(ingest)
        # The ingest's persistent session exists once a heartbeat got through: then kill it.
        probe = Publisher(port)
        for _ in range(150):
            probe.send(f"community/jinxiu/manhole_cover/{codes[0]}/status", json.dumps({"key": f"key-{codes[0]}-00000000"}))
            probe.flush()
            db.session.rollback()
            if db.session.scalar(select(Device.status).where(Device.code == codes[0])) == "online":
                break
            time.sleep(0.2)
        probe.close()
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(10)

        storm = Publisher(port)
        for n in range(DEVICES * len(TYPES)):
            code, alarm_type = codes[n % DEVICES], TYPES[n // DEVICES]
            storm.send(f"community/jinxiu/manhole_cover/{code}/event", json.dumps(
                {"msg_id": f"s{n}", "type": alarm_type, "key": f"key-{code}-00000000"}))
        storm.close()  # every PUBACK is in: the broker holds the storm for the absent ingest
        sent = DEVICES * len(TYPES)
        broker.terminate()  # and a broker restart on the way: persistence keeps it
        broker.wait(10)
        broker = start_broker(tmp_path / "broker", port)

        processes += [service("ingest", env, tmp_path, 2)]
        processes += [service("worker", env, tmp_path, n) for n in range(WORKERS)]
        wait_until(lambda: count(IngestedMessage) >= sent, 60, "the storm ingested")
        wait_until(lambda: count(Alarm, Alarm.case_id.is_not(None), Alarm.pending_since.is_(None)) >= sent,
                   180, "a case for every alarm")
    finally:
        stop(processes)
        broker.terminate()
        broker.wait(10)
    elapsed = time.monotonic() - started
    ours = select(Device.id).where(Device.code.like("st-%"))
    alarms = db.session.execute(select(Alarm.device_id, Alarm.type, Alarm.count, Alarm.case_id)
                                .where(Alarm.device_id.in_(ours))).all()
    distinct = {(a.device_id, a.type) for a in alarms}
    cases = db.session.scalar(select(func.count()).select_from(Case).where(Case.device_id.in_(ours)))
    lost = sent - len(distinct)
    duplicated = (len(alarms) - len(distinct)) + (cases - len({a.case_id for a in alarms}))
    print(f"\nstorm on the shipped broker config (ingest killed, broker restarted): sent {sent}, "
          f"alarms {len(alarms)}, cases {cases}, lost {lost}, duplicated {duplicated}, {elapsed:.1f} s")
    assert (lost, duplicated, len(alarms), cases) == (0, 0, sent, sent)
    assert all(a.count == 1 and a.case_id is not None for a in alarms)
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert "session present: True" in (tmp_path / "ingest-2.log").read_text()
    assert "Traceback" not in logs, logs[-3000:]
