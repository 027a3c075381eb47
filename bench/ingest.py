"""``make bench-ingest``: a storm of device messages through Mosquitto into alarms and cases.

One run, on PostgreSQL (a database made for it and dropped after), with a Mosquitto of its
own on the shipped configuration (broker/mosquitto.conf on a loopback port: persistence, no
queue limit, accounts and ACLs; the load publishes through one gateway account) and its own RQ
queue prefix:

(A) the limit: a bare paho subscriber (QoS 1, auto-ack) receiving the storm;
(B) the storm at full speed through ``flask ingest mqtt`` and RQ workers: 20,000 messages
    from 2,000 devices, 90% repeats; the first message of every device comes first, so the
    2,000 new alarms queue up and the case rate is the pipeline's capacity;
(C) the same number of messages from 2,000 other devices published at 2,000 msg/s with the
    new alarms spread evenly (every tenth message): the publish-to-case latency at that rate.

Latency is from the publish of an alarm's first message to its case's ``opened_at``.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

from bench.common import ROOT, free_port, postgres_database, print_table
from integrations.broker_files import Gateway, write_broker_files

DEVICES, PER_DEVICE = int(os.environ.get("BENCH_DEVICES", "2000")), 10
PACED_RATE = 2000
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Workers may be niced below the ingest (BENCH_WORKER_NICE); on a host shared with other work
# that starves them, so the default is not to.
WORKER_NICE = int(os.environ.get("BENCH_WORKER_NICE", "0"))
# (kind, event fields): a mix of kinds; fire alarms also publish their linkage commands.
MIX = [
    ("manhole_cover", {"type": "open"}), ("garbage_bin", {"type": "reading", "readings": {"fill_pct": 95}}),
    ("door_controller", {"type": "forced"}), ("water_tank", {"type": "reading", "readings": {"level_pct": 8}}),
    ("smoke_detector", {"type": "smoke"}), ("elevator", {"type": "fault", "code": "door_fault"}),
    ("street_light", {"type": "lamp_fault"}),
    ("environment_station", {"type": "reading", "readings": {"pm25_ug_m3": 160, "noise_db": 50}}),
]


# The run's accounts: the ingest's, and one gateway publishing the load (and reading it, for (A)).
SERVICE = ("ingest@service", secrets.token_urlsafe(16))
GATEWAY = Gateway("bench-load@bench", secrets.token_urlsafe(16), ("community/#",), ("community/+/+/+/event",))


@contextlib.contextmanager
def mosquitto():
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        settings = {"DATA_DIR": folder, "MQTT_PORT": port, "MQTT_BROKER_BIND": "127.0.0.1",
                    "MQTT_USERNAME": SERVICE[0], "MQTT_PASSWORD": SERVICE[1]}
        config = write_broker_files(settings, [], [GATEWAY])
        process = subprocess.Popen(["mosquitto", "-c", str(config)], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(10)


def device(n: int) -> tuple[str, str, dict]:
    kind, fields = MIX[n % len(MIX)]
    return f"b{n:05d}", kind, fields


def payload(code: str, fields: dict, seq: int) -> bytes:
    return json.dumps({"msg_id": f"{code}-{seq}", "key": f"bench-key-{code}", **fields}).encode()


def storm(first: int) -> list[tuple[str, bytes, str | None]]:
    """(B): every device's first message, then its repeats round by round."""
    return [(topic_of(first + d), payload(f"b{first + d:05d}", device(first + d)[2], k), f"b{first + d:05d}"
             if k == 0 else None) for k in range(PER_DEVICE) for d in range(DEVICES)]


def spread(first: int) -> list[tuple[str, bytes, str | None]]:
    """(C): every tenth message a new device's first alarm, the rest repeats of raised ones."""
    rng, raised, sent, out = random.Random(7), [], {}, []
    for i in range(DEVICES * PER_DEVICE):
        if i % PER_DEVICE == 0:
            n = first + i // PER_DEVICE
            raised.append(n)
            sent[n] = 0
        else:
            n = rng.choice([r for r in raised[-200:] if sent[r] < PER_DEVICE - 1] or raised)
            sent[n] += 1
        code = f"b{n:05d}"
        out.append((topic_of(n), payload(code, device(n)[2], sent[n]), code if sent[n] == 0 else None))
    return out


def topic_of(n: int) -> str:
    code, kind, _ = device(n)
    return f"community/jinxiu/{kind}/{code}/event"


def publish(port: int, messages, rate: float | None = None) -> tuple[float, dict[str, float]]:
    """Publish from a process of its own (the measuring process must not share its GIL); the
    start time and the epoch second each alarm's first message left."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_publish_and_report, args=(child, port, messages, rate,
                                                                (GATEWAY.username, GATEWAY.password)))
    process.start()
    result = parent.recv()
    process.join()
    return result


def _publish_and_report(pipe, port: int, messages, rate: float | None, account: tuple[str, str]) -> None:
    pipe.send(_publish(port, messages, account, rate))


def _publish(port: int, messages, account: tuple[str, str],
             rate: float | None = None) -> tuple[float, dict[str, float]]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.username_pw_set(*account)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    first_sent: dict[str, float] = {}
    infos = []
    start = time.time()
    for i, (topic, body, first_of) in enumerate(messages):
        if rate:
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        if first_of:
            first_sent[first_of] = time.time()
        infos.append(client.publish(topic, body, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    return start, first_sent


def bare_subscriber_rate(port: int, messages) -> float:
    got, done = [0], threading.Event()
    last = [0.0]

    def on_message(_c, _u, _m):
        got[0] += 1
        if got[0] == len(messages):
            last[0] = time.time()
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.username_pw_set(GATEWAY.username, GATEWAY.password)
    client.on_message = on_message
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe("community/+/+/+/event", qos=1)
    subscribed.wait(5)
    start, _ = publish(port, messages)
    done.wait(120)
    client.disconnect()
    client.loop_stop()
    return len(messages) / (last[0] - start)


def prepare(url: str, prefix: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from extensions import db
    from integrations.directory import hash_device_key
    from models import Device, Grid, transaction
    from web import create_app
    from web.commands.demo import build_demo_community

    app = create_app({"DATABASE_URL": url, "QUEUE_PREFIX": prefix})
    with app.app_context():
        upgrade(revision="heads")
        build_demo_community()
        grids = list(db.session.scalars(select(Grid).where(Grid.code.like("JX-%")).order_by(Grid.id)))
        with transaction():
            db.session.execute(insert(Device), [{
                "code": code, "kind": kind, "name": code, "community_id": grids[n % 3].community_id,
                "grid_id": grids[n % 3].id, "building": f"{n % 200 + 1}幢", "status": "unknown",
                "key_hash": hash_device_key(f"bench-key-{code}")}
                for n in range(2 * DEVICES) for code, kind, _ in [device(n)]])
        db.engine.dispose()


def wait_for(conn, sql: str, target: int, timeout: float) -> float:
    """Poll until the count reaches the target; the time it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute(sql).fetchone()[0] >= target:
            return time.time()
        time.sleep(0.02)
    raise RuntimeError(f"timed out: {sql} < {target}")


def measure(conn, port: int, messages, first: int, rate: float | None) -> dict:
    codes = [f"b{n:05d}" for n in range(first, first + DEVICES)]
    start, first_sent = publish(port, messages, rate)
    done_ingest = wait_for(conn, "SELECT count(*) FROM ingested_messages", first * PER_DEVICE + len(messages), 120)
    done_cases = wait_for(conn, f"SELECT count(*) FROM cases c JOIN devices d ON d.id = c.device_id "
                                f"WHERE d.code >= '{codes[0]}' AND d.code <= '{codes[-1]}'", DEVICES, 120)
    rows = conn.execute("SELECT d.code, c.opened_at FROM cases c JOIN devices d ON d.id = c.device_id "
                        "WHERE d.code >= %s AND d.code <= %s", (codes[0], codes[-1])).fetchall()
    assert len(rows) == DEVICES, f"{len(rows)} cases for {DEVICES} alarms"
    opened = sorted(at.timestamp() for _, at in rows)
    latencies = sorted((at.timestamp() - first_sent[code]) * 1000 for code, at in rows)
    return {"ingest": len(messages) / (done_ingest - start),
            "cases": DEVICES / (max(opened[-1], done_cases - 0.02) - opened[0]),
            "median": statistics.median(latencies), "p95": latencies[int(0.95 * (len(latencies) - 1))]}


def start_services(url: str, prefix: str, port: int, logs: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "QUEUE_PREFIX": prefix, "MQTT_HOST": "127.0.0.1",
           "MQTT_PORT": str(port), "MQTT_CLIENT_ID": f"bench-ingest-{prefix}", "FLASK_APP": "wsgi",
           "MQTT_USERNAME": SERVICE[0], "MQTT_PASSWORD": SERVICE[1]}
    flask = [sys.executable, "-m", "flask"]
    processes = [subprocess.Popen([*flask, "ingest", "mqtt"], cwd=ROOT, env=env,
                                  stdout=open(logs / "ingest.log", "wb"), stderr=subprocess.STDOUT)]
    for n in range(WORKERS):
        processes.append(subprocess.Popen([*flask, "worker"], cwd=ROOT, env=env, preexec_fn=lambda: os.nice(WORKER_NICE),
                                          stdout=open(logs / f"worker-{n}.log", "wb"), stderr=subprocess.STDOUT))
    return processes


def drop_queues(prefix: str) -> None:
    """Remove the run's queues, registries and the jobs they name (job keys carry no prefix)."""
    from redis import Redis

    client = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    jobs: set[bytes] = set()
    for key in keys:
        kind = client.type(key)
        if kind == b"list":
            jobs.update(client.lrange(key, 0, -1))
        elif kind == b"zset":
            jobs.update(client.zrange(key, 0, -1))
    names = [key.decode() for key in keys if key.startswith(b"rq:queue:")]
    if names:
        client.srem("rq:queues", *names)
    doomed = keys + [b"rq:job:" + job for job in jobs]
    for start in range(0, len(doomed), 1000):
        client.delete(*doomed[start:start + 1000])


def main() -> None:
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    prefix = f"bench-ingest-{uuid.uuid4().hex[:6]}"
    processes: list[subprocess.Popen] = []
    logs = tempfile.mkdtemp(prefix="bench-ingest-")  # kept: the services' logs, for a look afterwards
    print(f"service logs: {logs}", flush=True)
    with mosquitto() as port, postgres_database("ingest") as url:
        bare = bare_subscriber_rate(port, storm(0))
        prepare(url, prefix)
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        try:
            processes = start_services(url, prefix, port, Path(logs))
            with psycopg.connect(plain, autocommit=True) as conn:
                probe = [(topic_of(0).replace("/event", "/status"), json.dumps({"key": "bench-key-b00000"}).encode(),
                          None)]
                while conn.execute("SELECT status FROM devices WHERE code = 'b00000'").fetchone()[0] != "online":
                    publish(port, probe)
                    time.sleep(0.3)
                burst = measure(conn, port, storm(0), 0, None)
                paced = measure(conn, port, spread(DEVICES), DEVICES, PACED_RATE)
                duplicates = conn.execute("SELECT count(*) - count(DISTINCT device_id) FROM cases "
                                          "WHERE device_id IS NOT NULL").fetchone()[0]
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(30)
            drop_queues(prefix)
    rows = [
        ["bare paho subscriber, QoS 1 (the limit)", f"{bare:,.0f} msg/s", "", ""],
        ["ingest: messages committed", f"{burst['ingest']:,.0f} msg/s", f"{paced['ingest']:,.0f} msg/s",
         ">= 2,000 msg/s"],
        ["new cases opened", f"{burst['cases']:,.0f} /s", f"{paced['cases']:,.0f} /s", ">= 300 /s"],
        ["publish -> case, median", f"{burst['median']:,.0f} ms", f"{paced['median']:,.0f} ms", ""],
        ["publish -> case, p95", f"{burst['p95']:,.0f} ms", f"{paced['p95']:,.0f} ms", "<= 1,000 ms"],
        ["duplicate cases", "", str(duplicates), "0"],
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print_table(f"bench-ingest (one run, PostgreSQL, {WORKERS} RQ workers at nice {WORKER_NICE}; {DEVICES:,} devices "
                f"x {PER_DEVICE} messages, 90% repeats; {os.cpu_count()} CPUs, load average {load} at the end; "
                f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
                ["measure", "(B) storm, full speed", f"(C) paced {PACED_RATE:,} msg/s", "target"], rows)


if __name__ == "__main__":
    main()
