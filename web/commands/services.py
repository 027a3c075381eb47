"""Long-running services: the RQ worker and the scheduler (timer sweep, monthly jobs)."""
from __future__ import annotations

import click
from flask import current_app
from rq import SimpleWorker
from rq.cron import CronScheduler

from extensions import db, redis
from handlers.audit import purge_audit_log
from integrations.alarm_work import sweep_alarm_work
from integrations.presence import mark_silent_devices_offline, purge_ingest_records
from reports.jobs import queue_monthly_reports
from workflows.timers import sweep_timers

# In priority order: alarms (a case per new alarm) first, webhook pushes next, PDF reports
# (long) after everything else.
QUEUES = ("alarms", "timers", "default", "webhooks", "reports")


class AppWorker(SimpleWorker):
    """Runs jobs in this process, inside the app context; each job gets a fresh session."""

    def perform_job(self, job, queue):
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()


@click.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
def worker_command(burst):
    """Run an RQ worker (with the scheduler of enqueue_at jobs) for this app."""
    queues = [redis.queue(name) for name in QUEUES]
    AppWorker(queues, connection=redis.client).work(with_scheduler=True, burst=burst)


@click.command("scheduler")
def scheduler_command():
    """Run the periodic jobs: the timer sweep, the monthly grid reports, the offline check of
    devices and the sweep for lost alarm jobs. Run exactly one."""
    cron = CronScheduler(connection=redis.client)
    cron.register(sweep_timers, queue_name=redis.queue("timers").name,
                  interval=current_app.config["TIMER_SWEEP_SECONDS"])
    # RQ 2.12 reads cron strings in UTC; the job itself works out last month in the community's zone.
    cron.register(queue_monthly_reports, queue_name=redis.queue("reports").name,
                  cron=current_app.config["REPORT_MONTHLY_CRON"])
    # Audit entries past their retention go once a day (03:00 UTC).
    cron.register(purge_audit_log, queue_name=redis.queue("default").name, cron="0 3 * * *")
    # Devices silent too long go offline; alarm work whose job was lost is queued again.
    cron.register(mark_silent_devices_offline, queue_name=redis.queue("default").name,
                  interval=current_app.config["DEVICE_SWEEP_SECONDS"])
    cron.register(sweep_alarm_work, queue_name=redis.queue("default").name,
                  interval=current_app.config["DEVICE_SWEEP_SECONDS"])
    cron.register(purge_ingest_records, queue_name=redis.queue("default").name, cron="30 3 * * *")
    cron.start()


@click.group("timers")
def timers_cli():
    """SLA timers."""


@timers_cli.command("sweep")
def sweep_command():
    """Fire every timer that is due now."""
    click.echo(f"{sweep_timers()} case(s) had due timers")
