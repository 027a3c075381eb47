"""Requested reports and their builds: the report row, the PDF on disk, the timings."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select

from extensions import db, redis
from handlers.vocabulary import Role
from models import Report, User, transaction, utcnow
from reports.content import collect_report
from reports.indicators import Indicators
from reports.periods import Period, trend_periods
from reports.render import render_html, render_pdf
from reports.scopes import Scope, reportable_scopes, resolve_scope


class ReportNotFound(LookupError):
    """No report with that id."""


def community_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["COMMUNITY_TZ"])


def local_today() -> date:
    return utcnow().astimezone(community_tz()).date()


def reports_root() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "reports"


def period_of(report: Report) -> Period:
    return Period(report.period_kind, report.starts_on, report.ends_on + timedelta(days=1))


def report_file(report: Report) -> Path | None:
    """The PDF of a built report, or None when it is not (or no longer) on disk."""
    if report.status != "done" or not report.file_path:
        return None
    path = reports_root() / report.file_path
    return path if path.is_file() else None


def download_name(report: Report) -> str:
    return f"{report.scope_name}-{period_of(report).tag}-网格治理监督报告.pdf"


def request_report(scope: Scope, period: Period, trigger: str, user: User | None = None) -> Report:
    """Record a report to build (status queued); its job id is ``<queue prefix>-report-<id>``."""
    with transaction():
        report = Report(
            scope_kind=scope.kind, scope_code=scope.code, scope_name=scope.name,
            period_kind=period.kind, starts_on=period.start, ends_on=period.last_day,
            status="queued", trigger=trigger, requested_by_id=user.id if user else None,
            requested_at=utcnow(),
        )
        db.session.add(report)
        db.session.flush()
        # Named after the queue prefix too: apps sharing a Redis must not share job ids.
        report.job_id = f"{redis.queue_prefix}-report-{report.id}"
    return report


def kept_figures(report: Report, periods: list[Period]) -> dict[date, Indicators]:
    """Final figures of these periods kept by earlier reports of the same scope, by first day."""
    rows = db.session.execute(
        select(Report.starts_on, Report.ends_on, Report.figures)
        .where(Report.scope_kind == report.scope_kind, Report.scope_code == report.scope_code,
               Report.period_kind == report.period_kind, Report.status == "done",
               Report.figures.is_not(None), Report.starts_on.in_([p.start for p in periods]))
        .order_by(Report.finished_at)
    ).all()
    wanted = {p.start: p.last_day for p in periods}
    kept = {}
    for starts_on, ends_on, figures in rows:  # the latest build of a period wins
        indicators = Indicators.from_plain(figures)
        if indicators is not None and wanted.get(starts_on) == ends_on:
            kept[starts_on] = indicators
    return kept


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def build_report(report_id: int, now: datetime | None = None,
                 on_stage: Callable[[str], None] | None = None) -> Report:
    """Build the PDF of a requested report and record the outcome on its row.

    Idempotent: a report already built (file on disk) is returned as it is. ``on_stage`` hears
    "querying", "rendering" and "saving". Raises ReportNotFound; any failure of the build marks
    the report failed (with the error) and is raised again.
    """
    report = db.session.get(Report, report_id)
    if report is None:
        raise ReportNotFound(f"no report {report_id}")
    if report_file(report) is not None:
        return report
    stage = on_stage or (lambda _name: None)
    with transaction():
        report.status, report.started_at, report.error = "running", utcnow(), None
    try:
        stage("querying")
        config = current_app.config
        period = period_of(report)
        started = time.perf_counter()
        kept = kept_figures(report, trend_periods(period)[:-1])
        content = collect_report(resolve_scope(report.scope_kind, report.scope_code), period,
                                 now or utcnow(), community_tz(), config["REPORT_CASE_LIST_LIMIT"], kept)
        # Built after the period ended, its figures are final: kept for later reports' trends.
        figures = content.totals.to_plain() if content.as_of == period.bounds(community_tz())[1] else None
        query_ms = round((time.perf_counter() - started) * 1000)
        db.session.rollback()  # nothing written: end the read transaction before the long render
        stage("rendering")
        started = time.perf_counter()
        pdf, pages = render_pdf(render_html(content, config["REPORT_FONT"]))
        render_ms = round((time.perf_counter() - started) * 1000)
        stage("saving")
        relative = (f"{period.start:%Y}/{report.scope_kind}-{_safe(report.scope_code)}-"
                    f"{period.tag}-{report.id}.pdf")
        _write_atomically(reports_root() / relative, pdf)
        with transaction():
            report.status, report.file_path, report.pages, report.size_bytes = "done", relative, pages, len(pdf)
            report.query_ms, report.render_ms, report.finished_at = query_ms, render_ms, utcnow()
            report.figures = figures
    except Exception as exc:
        with transaction():
            report = db.session.get(Report, report_id)
            report.status, report.error, report.finished_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], utcnow()
        raise
    return report


def visible_reports(user: User, limit: int = 100) -> list[Report]:
    """The latest reports of the scopes ``user`` may report on, newest first."""
    query = select(Report).order_by(Report.requested_at.desc(), Report.id.desc()).limit(limit)
    if user.role != Role.ADMIN:
        by_kind: dict[str, list[str]] = {}
        for kind, code, _name in reportable_scopes(user):
            by_kind.setdefault(kind, []).append(code)
        if not by_kind:
            return []
        query = query.where(or_(*(and_(Report.scope_kind == kind, Report.scope_code.in_(codes))
                                  for kind, codes in by_kind.items())))
    return list(db.session.scalars(query))


def may_see(user: User, report: Report) -> bool:
    """Whether ``user`` may see this report (see ``reportable_scopes``)."""
    if user.role == Role.ADMIN:
        return True
    return (report.scope_kind, report.scope_code) in {(k, c) for k, c, _ in reportable_scopes(user)}
