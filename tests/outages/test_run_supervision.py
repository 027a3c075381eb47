"""``make run`` (scripts/run.sh) on a database, Redis, web port and MQTT port of the test's own:
a service that dies (here the worker, killed as the OOM killer would) is started again with a
log line, and SIGTERM (what Ctrl-C becomes) stops every process it started. Every service runs
under the same supervisor function, so one stands for all."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request

from tests.outages.conftest import ROOT, free_port


def descendants(root: int) -> dict[int, str]:
    """pid -> command line of every process below ``root``."""
    rows = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    children: dict[int, list[tuple[int, str]]] = {}
    for line in rows.splitlines():
        pid, ppid, args = line.strip().split(None, 2) + [""] * (3 - len(line.strip().split(None, 2)))
        children.setdefault(int(ppid), []).append((int(pid), args))
    found, todo = {}, [root]
    while todo:
        for pid, args in children.get(todo.pop(), []):
            found[pid] = args
            todo.append(pid)
    return found


def pids_of(root: int, fragment: str) -> set[int]:
    return {pid for pid, args in descendants(root).items() if fragment in args and "bash" not in args}


def main_pid(root: int, fragment: str) -> int | None:
    """The process run.sh's supervisor started (not those it forked itself: RQ's scheduler,
    gunicorn's workers), read from one listing: its parent is the supervising bash."""
    tree = descendants(root)
    mains = [pid for pid, args in tree.items()
             if fragment in args and "bash" not in args and "bash" in tree.get(_parent(pid), "")]
    assert len(mains) <= 1, mains
    return mains[0] if mains else None


def wait_for(condition, timeout: float, what: str, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{log()[-4000:]}")


def test_make_run_restarts_a_service_that_dies_and_stops_everything_on_sigterm(private_redis, tmp_path):
    web_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DATA_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}", REDIS_URL=private_redis.url,
               DATA_DIR=str(tmp_path / "data"), QUEUE_PREFIX=f"run-{web_port}", BIND=f"127.0.0.1:{web_port}",
               WEB_WORKERS="1", MQTT_PORT=str(free_port()))
    out = open(tmp_path / "run.log", "wb")  # noqa: SIM115 - closed below
    run = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                           start_new_session=True)

    def log() -> str:
        return (tmp_path / "run.log").read_text(errors="replace")

    def web_answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/requests/new", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    try:
        wait_for(lambda: web_answers() and pids_of(run.pid, "flask worker") and pids_of(run.pid, "flask scheduler"),
                 90, "the web, the worker and the scheduler", log)
        worker = main_pid(run.pid, "flask worker")
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: "run.sh: worker exited with status 137; starting it again in 1s" in log(), 20,
                 "the supervisor to see the worker die", log)
        wait_for(lambda: main_pid(run.pid, "flask worker") not in (None, worker), 20, "the worker started again", log)
        started = set(descendants(run.pid))

        run.send_signal(signal.SIGTERM)
        assert run.wait(30) == 0
        time.sleep(0.5)
        assert [pid for pid in started if _running(pid)] == [], log()[-2000:]
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(10)
        out.close()


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except FileNotFoundError:  # gone since ps listed it
        return 0


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
