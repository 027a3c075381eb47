"""RQ jobs of reports: build one PDF, and queue last month's report of every grid (monthly cron).

Jobs take ids and plain values. They run in ``flask worker`` on the "reports" queue.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from extensions import db, redis
from models import Grid, Report, transaction, utcnow
from reports.builds import build_report, local_today, request_report
from reports.periods import parse_period, previous_month
from reports.scopes import resolve_scope

log = logging.getLogger(__name__)
QUEUE = "reports"
JOB_TIMEOUT = 900


class ReportQueueUnavailable(RuntimeError):
    """The report could not be queued (Redis is down); the report is marked failed."""


def build_report_job(report_id: int) -> str | None:
    """Build report ``report_id``; returns its file path (relative to DATA_DIR). Progress goes to
    the job's meta ("stage") for the reports page."""
    job = get_current_job()

    def stage(name: str) -> None:
        if job is not None:
            job.meta["stage"] = name
            job.save_meta()

    return build_report(report_id, on_stage=stage).file_path


def enqueue_build(report: Report) -> None:
    """Queue the build of a requested report. Raises ReportQueueUnavailable when Redis is down."""
    try:
        redis.queue(QUEUE).enqueue(
            build_report_job, report.id, job_id=report.job_id, job_timeout=JOB_TIMEOUT,
            result_ttl=7 * 86400, failure_ttl=30 * 86400, description=f"report {report.id}",
        )
    except RedisError as exc:
        with transaction():
            report.status, report.error, report.finished_at = "failed", f"not queued: {exc}", utcnow()
        raise ReportQueueUnavailable("the report queue is not available; try again later") from exc


def queue_monthly_reports(month: str | None = None) -> int:
    """Request and queue the month's report of every grid that has no scheduled one yet
    (last month by default, in the community time zone); returns how many were queued.
    Idempotent: running it twice queues nothing more. Raises PeriodError for a bad ``month``."""
    period = parse_period("month", month) if month else previous_month(local_today())
    done = set(db.session.scalars(select(Report.scope_code).where(
        Report.trigger == "schedule", Report.scope_kind == "grid", Report.period_kind == "month",
        Report.starts_on == period.start, Report.status.in_(("queued", "running", "done")))))
    codes = [c for c in db.session.scalars(select(Grid.code).order_by(Grid.code)) if c not in done]
    queued = 0
    for code in codes:
        report = request_report(resolve_scope("grid", code), period, "schedule")
        try:
            enqueue_build(report)
        except ReportQueueUnavailable:
            log.warning("monthly report of %s not queued: Redis is down", code)
            continue
        queued += 1
    log.info("monthly reports %s: %d queued", period.tag, queued)
    return queued


def job_progress(report: Report) -> dict:
    """Where a report's build stands: the report status, and the RQ job's status and stage."""
    progress = {"status": report.status, "job": None, "stage": None}
    if report.status in ("queued", "running") and report.job_id:
        try:
            job = Job.fetch(report.job_id, connection=redis.client)
            status = job.get_status(refresh=False)
            progress["job"] = getattr(status, "value", status)
            progress["stage"] = job.meta.get("stage")
        except (NoSuchJobError, RedisError):
            progress["job"] = "missing"
    return progress

