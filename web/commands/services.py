"""Long-running services: the RQ worker and the scheduler (timer sweep, monthly jobs).

Both outlive a Redis or database outage: they log, wait with back-off and carry on; a job that
failed because one of them was away runs again later (jobs are idempotent). A stop is SIGTERM
or Ctrl-C.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
import time

import click
from flask import current_app
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import AbandonedJobError

from extensions import db, is_outage, redis
from handlers.audit import purge_audit_log
from integrations.alarm_work import sweep_alarm_work
from integrations.open311 import sweep_open311_tokens
from integrations.presence import mark_silent_devices_offline, purge_ingest_records
from integrations.webhooks import sweep_webhook_deliveries
from reports.jobs import queue_monthly_reports
from workflows.timers import sweep_timers

# In priority order: alarms (a case per new alarm) first, webhook pushes next, PDF reports
# (long) after everything else.
QUEUES = ("alarms", "timers", "default", "webhooks", "reports")
# A job whose worker died under it (killed, out of memory, machine restarted) runs again at
# most this many times: a job that kills every worker it runs on must not do so forever.
ABANDONED_RUNS = 3
# Job meta flag of the scheduler's interval jobs (sweeps): repeated anyway, never retried.
REPEATS = "repeats"
log = logging.getLogger(__name__)


class OutageRetry:
    """Waits between tries while Redis or the database is away: 1 s, 2 s, 4 s... up to ``cap``;
    a stop request (SIGTERM, Ctrl-C) ends the wait at once."""

    def __init__(self, cap: float) -> None:
        self.cap = max(cap, 1.0)
        self.delay = 1.0
        self.stopping = threading.Event()

    def stop_on_signals(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())

    def wait(self, what: str, reason: object) -> None:
        log.warning("%s: %s; trying again in %.0f s", what, reason, self.delay)
        self.stopping.wait(self.delay)
        self.delay = min(self.delay * 2, self.cap)

    def reset(self) -> None:
        self.delay = 1.0


class AppWorker(SimpleWorker):
    """Runs jobs in this process, inside the app context; each job gets a fresh session."""

    stop_was_requested = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.push_exc_handler(requeue_abandoned_job)

    def request_stop(self, signum, frame):
        self.stop_was_requested = True
        super().request_stop(signum, frame)

    def perform_job(self, job, queue):
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()

    def handle_exception(self, job, *exc_info):
        # Redis or the database went away under the job: schedule it again instead of failing
        # it, for as long as the outage lasts (RQ's own retries, one more each time, so a job's
        # own retry budget is not spent on outages).
        if is_outage(exc_info[1]) and not job.meta.get(REPEATS):
            job.retries_left = (job.retries_left or 0) + 1
            if not job.retry_intervals:
                job.retry_intervals = [max(1, round(current_app.config["OUTAGE_RETRY_SECONDS"]))]
            self.log.warning("job %s met an outage (%s); it runs again later", job.id, exc_info[1])
        return super().handle_exception(job, *exc_info)


def requeue_abandoned_job(job, exc_type, exc_value, traceback) -> None:
    """RQ exception handler: a job found in the started registry with no live worker (RQ calls
    it abandoned and fails it) is queued again instead, up to ABANDONED_RUNS times; jobs are
    idempotent, so running one that had half run is safe."""
    if exc_type is not AbandonedJobError:
        return
    runs = job.meta.get("abandoned", 0) + 1
    if runs > ABANDONED_RUNS:
        log.error("job %s abandoned %d times: left failed", job.id, runs)
        return
    job.meta["abandoned"] = runs
    job.save_meta()
    job.retries_left = (job.retries_left or 0) + 1
    log.warning("job %s lost its worker; queued again (%d of %d)", job.id, runs, ABANDONED_RUNS)


@click.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
def worker_command(burst):
    """Run an RQ worker (with the scheduler of enqueue_at jobs) for this app.

    RQ's worker quits on most Redis errors; this one starts again with back-off until it is
    stopped, so an outage never ends the service."""
    retry = OutageRetry(current_app.config["OUTAGE_RETRY_SECONDS"])
    os.register_at_fork(after_in_child=_end_with_parent)
    while not retry.stopping.is_set():
        started = time.monotonic()
        try:
            # The worker's maintenance also restarts its scheduler of enqueue_at jobs if an
            # outage killed it: as often as we retry, not RQ's default of 10 minutes.
            worker = AppWorker([redis.queue(name) for name in QUEUES], connection=redis.client,
                               maintenance_interval=max(1, round(retry.cap)))
            worker.work(with_scheduler=True, burst=burst)
        except Exception as exc:  # noqa: BLE001 - anything but an outage is a bug: let it out
            if not is_outage(exc):
                raise
            reason = exc
        else:
            if burst or worker.stop_was_requested:
                return
            reason = "the worker stopped on an error (logged above)"
        # RQ installed its own handlers; while we wait, a signal only ends the wait.
        retry.stop_on_signals()
        if time.monotonic() - started > retry.cap:
            retry.reset()
        retry.wait("worker", reason)


def _end_with_parent() -> None:
    """In a process the worker forks (RQ's scheduler of enqueue_at jobs): be told to stop when
    the worker dies. Without it a SIGKILLed worker leaves its scheduler running for good, an
    orphan that outlives `make run` and every restart (Linux; elsewhere nothing changes)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@click.command("scheduler")
def scheduler_command():
    """Run the periodic jobs: the timer sweep, the monthly grid reports, the offline check of
    devices and the sweeps for lost alarm and webhook jobs. Run exactly one."""
    cron = CronScheduler(connection=redis.client)
    # Jobs that come back every few seconds are not run again after an outage (the next round
    # does the same work); those on a daily or monthly cron string are.
    every = {"meta": {REPEATS: True}}
    cron.register(sweep_timers, queue_name=redis.queue("timers").name,
                  interval=current_app.config["TIMER_SWEEP_SECONDS"], **every)
    # RQ 2.12 reads cron strings in UTC; the job itself works out last month in the community's zone.
    cron.register(queue_monthly_reports, queue_name=redis.queue("reports").name,
                  cron=current_app.config["REPORT_MONTHLY_CRON"])
    # Audit entries past their retention go once a day (03:00 UTC).
    cron.register(purge_audit_log, queue_name=redis.queue("default").name, cron="0 3 * * *")
    # Devices silent too long go offline; alarm work whose job was lost is queued again.
    cron.register(mark_silent_devices_offline, queue_name=redis.queue("default").name,
                  interval=current_app.config["DEVICE_SWEEP_SECONDS"], **every)
    cron.register(sweep_alarm_work, queue_name=redis.queue("default").name,
                  interval=current_app.config["DEVICE_SWEEP_SECONDS"], **every)
    # Webhook pushes whose job was never queued or was lost are queued again.
    cron.register(sweep_webhook_deliveries, queue_name=redis.queue("default").name,
                  interval=current_app.config["DEVICE_SWEEP_SECONDS"], **every)
    cron.register(purge_ingest_records, queue_name=redis.queue("default").name, cron="30 3 * * *")
    # Queued Open311 requests whose job was lost get their case all the same.
    cron.register(sweep_open311_tokens, queue_name=redis.queue("default").name,
                  interval=current_app.config["DEVICE_SWEEP_SECONDS"], **every)
    run_cron_steadily(cron, OutageRetry(current_app.config["OUTAGE_RETRY_SECONDS"]))


def run_cron_steadily(cron: CronScheduler, retry: OutageRetry) -> None:
    """RQ's cron loop (``CronScheduler.start``), except that Redis being away makes it wait and
    try again instead of exiting. A job due during the outage is queued once when Redis is back:
    its next time moves on only after it was queued."""
    retry.stop_on_signals()
    registered = False
    while not retry.stopping.is_set():
        try:
            if not registered:
                cron.register_birth()
                registered = True
            if cron.enqueue_jobs():
                cron.save()
            cron.heartbeat()
        except RedisError as exc:
            if not is_outage(exc):
                raise
            registered = False
            retry.wait("scheduler", exc)
            continue
        retry.reset()
        retry.stopping.wait(cron.calculate_sleep_interval())
    try:
        cron.register_death()
    except RedisError as exc:
        log.warning("scheduler: stopped without unregistering (%s)", exc)


@click.group("timers")
def timers_cli():
    """SLA timers."""


@timers_cli.command("sweep")
def sweep_command():
    """Fire every timer that is due now."""
    click.echo(f"{sweep_timers()} case(s) had due timers")
