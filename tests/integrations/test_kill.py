"""SIGKILL the ingest and the RQ worker in the middle of a burst, with the real broker on the
shipped configuration (broker/mosquitto.conf, accounts and ACLs included): after
the restart nothing is lost and nothing is doubled. Every distinct alarm published has exactly
one alarm row, counting exactly its messages, and exactly one case."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import func, insert, select

from extensions import db
from integrations.alarm_work import sweep_alarm_work
from integrations.directory import hash_device_key
from models import Alarm, Case, Device, Grid, IngestedMessage, transaction
from tests.integrations.helpers import Publisher, count, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEVICES, MESSAGES = 150, 3000
TYPES = ("tilt", "open", "fault")


def storm() -> list[tuple[str, str, dict]]:
    """(device code, alarm type, payload): each device raises one or two alarm types, repeated."""
    messages = []
    for n in range(MESSAGES):
        device = n % DEVICES
        alarm_type = TYPES[(n // DEVICES) % (1 + device % 2)]
        code = f"mh-{device:03d}"
        messages.append((code, alarm_type, {"msg_id": f"m{n}", "type": alarm_type, "key": f"key-{code}-0000000"}))
    return messages


def children_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def start(kind: str, env: dict, log_dir: Path, n: int) -> subprocess.Popen:
    args = {"ingest": ["ingest", "mqtt"], "worker": ["worker"]}[kind]
    log = open(log_dir / f"{kind}-{n}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def test_killing_ingest_and_worker_mid_burst_loses_nothing_and_doubles_nothing(devices, broker, tmp_path):
    grid = db.session.scalar(select(Grid).where(Grid.code == "JX-01"))
    with transaction():
        db.session.execute(insert(Device), [{
            "code": f"mh-{i:03d}", "kind": "manhole_cover", "name": f"井盖{i}", "community_id": grid.community_id,
            "grid_id": grid.id, "status": "unknown", "key_hash": hash_device_key(f"key-mh-{i:03d}-0000000")}
            for i in range(DEVICES)])
    config = devices.config
    env = {**os.environ, "DATABASE_URL": config["DATABASE_URL"], "REDIS_URL": config["REDIS_URL"],
           "QUEUE_PREFIX": config["QUEUE_PREFIX"], "SECRET_KEY": config["SECRET_KEY"],
           "MQTT_HOST": "127.0.0.1", "MQTT_PORT": str(broker), "MQTT_SESSION_EXPIRY": "600",
           "MQTT_USERNAME": config["MQTT_USERNAME"], "MQTT_PASSWORD": config["MQTT_PASSWORD"],
           "MQTT_CLIENT_ID": f"ingest-kill-{uuid.uuid4().hex[:8]}", "INGEST_BATCH_SIZE": "50",
           "PYTHONUNBUFFERED": "1"}
    processes: list[subprocess.Popen] = []
    messages = storm()
    published = threading.Event()

    def publish_all():
        publisher = Publisher(broker)
        for code, _type, payload in messages:
            publisher.send(f"community/jinxiu/manhole_cover/{code}/event", json.dumps(payload))
        publisher.close()
        published.set()

    try:
        ingest = start("ingest", env, tmp_path, 1)
        worker = start("worker", env, tmp_path, 1)
        processes += [ingest, worker]
        # The persistent session must exist before the burst: heartbeat until one gets through.
        probe = Publisher(broker)
        for _ in range(150):
            probe.send("community/jinxiu/manhole_cover/mh-000/status", json.dumps({"key": "key-mh-000-0000000"}))
            probe.flush()
            db.session.rollback()
            if db.session.scalar(select(Device.status).where(Device.code == "mh-000")) == "online":
                break
            time.sleep(0.2)
        probe.close()
        threading.Thread(target=publish_all, daemon=True).start()
        wait_until(lambda: count(IngestedMessage) >= MESSAGES // 3, 30, "a third of the burst")
        ingest.send_signal(signal.SIGKILL)
        wait_until(lambda: count(Case) >= 20, 30, "cases being opened")
        # RQ's scheduler of enqueue_at jobs is a process the worker forked: it must end with it.
        forked = children_of(worker.pid)
        assert forked, "the worker runs its scheduler in a process of its own"
        worker.send_signal(signal.SIGKILL)
        ingest.wait(10)
        worker.wait(10)
        wait_until(lambda: not any(alive(pid) for pid in forked), 15, "the killed worker's scheduler to stop")
        processes += [start("ingest", env, tmp_path, 2), start("worker", env, tmp_path, 2)]
        assert published.wait(60), "the publisher did not finish"
        wait_until(lambda: count(IngestedMessage) == MESSAGES, 60, "every message ingested")
        # As the scheduler does every minute: queue the follow-up the killed worker lost.
        sweep_alarm_work(grace_seconds=0)
        wait_until(lambda: count(Alarm, Alarm.pending_since.is_not(None)) == 0, 60, "every alarm settled")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
    expected = Counter((code, alarm_type) for code, alarm_type, _ in messages)
    codes = dict(db.session.execute(select(Device.id, Device.code)).all())
    alarms = db.session.scalars(select(Alarm)).all()
    cases = db.session.scalars(select(Case).where(Case.device_id.in_(
        select(Device.id).where(Device.code.like("mh-%"))))).all()
    found = {(codes[a.device_id], a.type) for a in alarms}
    print(f"\nstorm with kills (ingest and worker SIGKILLed mid-burst, shipped broker config): "
          f"sent {len(messages)} messages of {len(expected)} distinct alarms, alarms {len(alarms)}, "
          f"cases {len(cases)}, lost {len(set(expected) - found)}, "
          f"duplicated {len(alarms) - len(found) + len(cases) - len({a.case_id for a in alarms})}, "
          f"repeats counted {sum(a.count for a in alarms)}")
    assert sorted((codes[a.device_id], a.type) for a in alarms) == sorted(expected)  # none lost, none doubled
    assert {(codes[a.device_id], a.type): a.count for a in alarms} == dict(expected)
    assert all(a.status == "active" and a.case_id is not None for a in alarms)
    assert len(cases) == len(expected)
    assert sorted(c.id for c in cases) == sorted(a.case_id for a in alarms)
    per_alarm = db.session.execute(select(Alarm.case_id, func.count()).group_by(Alarm.case_id)).all()
    assert all(n == 1 for _, n in per_alarm)
    assert "session present: True" in (tmp_path / "ingest-2.log").read_text()  # the broker kept our session
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert "Traceback" not in logs.replace("Traceback (most recent call last):\n  File \"<", ""), logs[-3000:]
