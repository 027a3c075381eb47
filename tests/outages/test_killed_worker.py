"""A worker killed in the middle of a job (as the OOM killer or a machine restart would): RQ
finds the job abandoned when the next worker cleans its registries, and instead of leaving it
failed, the job is queued again and runs to the end."""
from __future__ import annotations

import signal
import time

from rq.job import JobStatus
from rq.registry import StartedJobRegistry

from extensions import redis
from tests.outages.conftest import running_services
from web import create_app
from web.commands.services import requeue_abandoned_job


def test_a_job_whose_worker_was_killed_runs_again(private_redis, tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "REDIS_URL": private_redis.url,
                      "QUEUE_PREFIX": "killed", "TESTING": True, "DATA_DIR": str(tmp_path / "data")})
    with app.app_context(), running_services(app, tmp_path) as services:
        queue = redis.queue("default")
        services.start("worker")
        services.wait_ready()
        job = queue.enqueue(time.sleep, 2, job_timeout=30)  # any job the worker is in the middle of
        deadline = time.monotonic() + 20
        while job.get_status() != JobStatus.STARTED:
            assert time.monotonic() < deadline, services.log("worker")[-2000:]
            time.sleep(0.05)
        services.processes["worker"].send_signal(signal.SIGKILL)
        services.processes["worker"].wait(10)

        # What the next worker's registry cleaning does once the dead worker's lease ran out
        # (a minute or more after the kill): the same call, with the clock that far ahead.
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600,
                                                exception_handlers=[requeue_abandoned_job])
        assert job.get_status() == JobStatus.QUEUED and job.get_meta()["abandoned"] == 1
        services.start("worker")
        deadline = time.monotonic() + 30
        while job.get_status() != JobStatus.FINISHED:
            assert time.monotonic() < deadline, services.log("worker")[-2000:]
            time.sleep(0.1)
