"""Long-running services: the RQ worker and the scheduler (timer sweep, monthly jobs)."""
from __future__ import annotations

import click
from flask import current_app
from rq import SimpleWorker
from rq.cron import CronScheduler

from extensions import db, redis
from workflows.timers import sweep_timers

QUEUES = ("timers", "default")


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
    """Run the periodic jobs: the timer sweep. Run exactly one."""
    cron = CronScheduler(connection=redis.client)
    cron.register(sweep_timers, queue_name=redis.queue("timers").name,
                  interval=current_app.config["TIMER_SWEEP_SECONDS"])
    cron.start()


@click.group("timers")
def timers_cli():
    """SLA timers."""


@timers_cli.command("sweep")
def sweep_command():
    """Fire every timer that is due now."""
    click.echo(f"{sweep_timers()} case(s) had due timers")
