"""Fixtures of the outage tests: a Redis of the test's own on a free loopback port that the test
stops and starts again, the app bound to it, and the real ``flask worker`` / ``flask scheduler``
run as subprocesses against it and the test database.

The shared Redis (6379) and PostgreSQL (5432) are never stopped: only these private ones.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import pytest
from redis import Redis

from config import Settings
from extensions import db
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """redis-server on 127.0.0.1:<port> without persistence: a restart loses every queued job,
    the hardest case for catching up."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--maxmemory-policy", "noeviction"],
            stdout=log, stderr=log)
        client = Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb + pg_ctl, as the postgres OS user when the
    tests run as root), trust auth, on 127.0.0.1:<port>; stopped and removed afterwards."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="pg-outage-"))
        self.data = self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_postgres():
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def settings_of(app, **changes) -> dict:
    """Every setting of ``app`` (so a second app or a subprocess sees the same database, keys
    and queue prefix), with ``changes``."""
    return {f.name: app.config[f.name] for f in fields(Settings) if f.name in app.config} | changes


@pytest.fixture
def outage_app(app, private_redis):
    """The test app's database and settings, with Redis the private one; its context pushed."""
    bound = create_app(settings_of(app, REDIS_URL=private_redis.url))
    with bound.app_context():
        yield bound
        db.session.remove()
        db.engine.dispose()


def service_env(app, **changes) -> dict:
    """The environment of a CLI process run on ``app``'s settings (config.py reads it)."""
    env = {k: v for k, v in os.environ.items() if k not in {f.name for f in fields(Settings)}}
    for name, value in settings_of(app, **changes).items():
        if value is None or name in ("TESTING", "LANGUAGES") or isinstance(value, (tuple, list, dict)):
            continue
        env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    env["FLASK_APP"] = "wsgi"
    # Env names that differ from the setting's own name (config.py).
    env["DEFAULT_LOCALE"] = str(app.config["BABEL_DEFAULT_LOCALE"])
    return env


class Services:
    """The real ``flask worker`` and ``flask scheduler``, logging to files of the test."""

    def __init__(self, env: dict, folder: Path) -> None:
        self.env, self.folder = env, folder
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, *names: str) -> None:
        for name in names:
            log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            self.processes[name] = subprocess.Popen([FLASK, name], cwd=ROOT, env=self.env,
                                                    stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until each service has said it is at work (both log it once connected)."""
        ready = {"worker": "*** Listening on", "scheduler": "registering birth"}
        deadline = time.monotonic() + timeout
        while not all(ready[name] in self.log(name) for name in self.processes):
            assert all(self.alive().values()), {name: self.log(name)[-2000:] for name in self.processes}
            assert time.monotonic() < deadline, {name: self.log(name)[-2000:] for name in self.processes}
            time.sleep(0.1)

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.processes.items()}

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, timeout: float = 15) -> dict[str, int | None]:
        """SIGTERM (what Ctrl-C and ``make run`` send); their exit codes."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait(5)
        return codes


@contextlib.contextmanager
def running_services(app, folder: Path):
    """Start with ``.start("worker", "scheduler")``; stopped on leaving."""
    running = Services(service_env(app, TIMER_SWEEP_SECONDS=1, DEVICE_SWEEP_SECONDS=1, OUTAGE_RETRY_SECONDS=2),
                       folder)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def services(outage_app, tmp_path):
    with running_services(outage_app, tmp_path) as running:
        yield running
