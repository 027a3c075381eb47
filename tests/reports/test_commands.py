"""``flask reports build|monthly|list``, the monthly job and its schedule, and failed builds."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from croniter import croniter
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from extensions import db, redis
from models import Report
from reports.builds import build_report, request_report
from reports.jobs import enqueue_build, queue_monthly_reports
from reports.periods import parse_period
from reports.scopes import Scope, resolve_scope
from tests.reports.known_cases import at
from web.commands.services import AppWorker


def test_build_prints_the_pdf_path(runner, demo, data_dir):
    with at("2026-11-05 10:00"):
        result = runner.invoke(args=["reports", "build", "--grid", "JX-01", "--month", "2026-10", "--verbose"])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.is_file() and path.suffix == ".pdf" and path.is_relative_to(data_dir)
    assert "pages" in result.stderr and "render" in result.stderr
    report = db.session.scalar(select(Report))
    assert (report.trigger, report.status, report.scope_kind, report.period_kind) == ("cli", "done", "grid", "month")

    listing = runner.invoke(args=["reports", "list"])
    assert listing.exit_code == 0 and "grid:JX-01" in listing.output and "done" in listing.output


@pytest.mark.parametrize(("args", "message"), [
    (["--grid", "NOPE", "--month", "2026-10"], "no grid 'NOPE'"),
    (["--community", "nowhere", "--month", "2026-10"], "no community 'nowhere'"),
    (["--grid", "JX-01", "--month", "2026-13"], "not a month"),
    (["--grid", "JX-01", "--street", "cuihu", "--month", "2026-10"], "exactly one of --grid"),
    (["--grid", "JX-01"], "exactly one of --month"),
    (["--grid", "JX-01", "--month", "2026-10", "--start", "2026-10-01"], "give --start/--end"),
    (["--street", "cuihu", "--start", "2026-10-01"], "give the end date"),
    (["--grid", "JX-01", "--month", "2026-12"], "has not begun"),
])
def test_build_refuses_what_cannot_be_reported(runner, demo, args, message):
    with at("2026-11-05 10:00"):
        result = runner.invoke(args=["reports", "build", *args])
    assert result.exit_code == 2 and message in result.output
    assert db.session.scalar(select(Report)) is None


def test_the_monthly_job_queues_last_month_for_every_grid_once(runner, demo):
    # The scheduler's cron string is UTC: 01:00 UTC on the 1st is 09:00 on the 1st in Shanghai.
    cron = runner.app.config["REPORT_MONTHLY_CRON"]
    assert croniter(cron, datetime(2026, 10, 15, tzinfo=UTC)).get_next(datetime) == datetime(2026, 11, 1, 1, tzinfo=UTC)
    with at("2026-11-01 09:00"):
        assert queue_monthly_reports() == 6
        assert queue_monthly_reports() == 0  # idempotent
    db.session.rollback()
    rows = list(db.session.scalars(select(Report).order_by(Report.scope_code)))
    assert [(r.scope_code, r.trigger, r.status, str(r.starts_on), str(r.ends_on)) for r in rows][:1] == [
        ("CY-01", "schedule", "queued", "2026-10-01", "2026-10-31")]
    assert len(rows) == 6
    assert sorted(redis.queue("reports").job_ids) == sorted(r.job_id for r in rows)

    with at("2026-11-02 09:00"):
        result = runner.invoke(args=["reports", "monthly", "--month", "2026-09"])
    assert result.exit_code == 0 and "6 report(s) queued" in result.output
    assert runner.invoke(args=["reports", "monthly", "--month", "09/2026"]).exit_code == 2


def test_a_failed_build_is_recorded(demo, data_dir):
    gone = Scope("grid", "GONE", "已撤销的网格", ("西湖区",))
    report = request_report(gone, parse_period("month", "2026-10"), "web")
    with pytest.raises(LookupError, match="no grid 'GONE'"):
        build_report(report.id)
    db.session.rollback()
    report = db.session.get(Report, report.id)
    assert report.status == "failed" and "no grid 'GONE'" in report.error and report.finished_at is not None


def test_the_worker_builds_queued_reports_and_fails_bad_ones(demo, data_dir):
    good = request_report(resolve_scope("community", "cuiyuan"), parse_period("week", "2026-W41"), "web")
    bad = request_report(Scope("grid", "GONE", "已撤销的网格", ()), parse_period("day", "2026-10-01"), "web")
    for report in (good, bad):
        enqueue_build(report)
    (good_id, bad_id, bad_job) = (good.id, bad.id, bad.job_id)  # the worker ends this session
    queue = redis.queue("reports")
    AppWorker([queue], connection=redis.client).work(burst=True)
    assert db.session.get(Report, good_id).status == "done"
    assert db.session.get(Report, bad_id).status == "failed"
    assert FailedJobRegistry(queue=queue).get_job_ids() == [bad_job]
