"""``flask reports build|monthly|list``: supervisor PDF reports from the shell."""
from __future__ import annotations

import click
from sqlalchemy import select

from extensions import db
from models import Report
from reports.builds import build_report, local_today, reports_root, request_report
from reports.jobs import ReportQueueUnavailable, queue_monthly_reports
from reports.periods import PeriodError, parse_period
from reports.scopes import ScopeNotFound, resolve_scope


@click.group("reports")
def reports_cli():
    """Supervisor PDF reports of grids, communities and streets."""


def _one(options: dict[str, str | None], what: str) -> tuple[str, str]:
    given = [(name, value) for name, value in options.items() if value]
    if len(given) != 1:
        raise click.UsageError(f"give exactly one of {', '.join('--' + n for n in options)} ({what})")
    return given[0]


@reports_cli.command("build")
@click.option("--grid", help="grid code, e.g. JX-01")
@click.option("--community", help="community code (all of its grids)")
@click.option("--street", help="street code (all of its grids)")
@click.option("--month", help="YYYY-MM")
@click.option("--week", help="YYYY-Www, or a date in the week")
@click.option("--day", help="YYYY-MM-DD")
@click.option("--start", help="first day of a custom period, YYYY-MM-DD")
@click.option("--end", help="last day of a custom period (included), YYYY-MM-DD")
@click.option("--verbose", is_flag=True, help="also print pages and timings (to stderr)")
def build_command(grid, community, street, month, week, day, start, end, verbose):
    """Build a report now (without the queue) and print the PDF's path."""
    scope_kind, code = _one({"grid": grid, "community": community, "street": street}, "what to report on")
    if start or end:
        if month or week or day:
            raise click.UsageError("give --start/--end, or one of --month, --week, --day")
        period_kind, value = "custom", None
    else:
        period_kind, value = _one({"month": month, "week": week, "day": day}, "the period")
    try:
        period = parse_period(period_kind, value, start, end, today=local_today())
        scope = resolve_scope(scope_kind, code)
    except (PeriodError, ScopeNotFound) as exc:
        raise click.UsageError(str(exc)) from None
    report = request_report(scope, period, "cli")
    try:
        report = build_report(report.id)
    except Exception as exc:
        raise click.ClickException(f"report {report.id} failed: {exc}") from exc
    click.echo(str(reports_root() / report.file_path))
    if verbose:
        click.echo(f"{report.pages} pages, {report.size_bytes} bytes; query {report.query_ms} ms, "
                   f"render {report.render_ms} ms", err=True)


@reports_cli.command("monthly")
@click.option("--month", help="YYYY-MM (default: last month)")
def monthly_command(month):
    """Queue the month's report of every grid that has none yet (what the scheduler does)."""
    try:
        queued = queue_monthly_reports(month)
    except PeriodError as exc:
        raise click.UsageError(str(exc)) from None
    except ReportQueueUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{queued} report(s) queued")


@reports_cli.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def list_command(limit):
    """The latest reports, one a line: id, status, scope, period, pages, file."""
    rows = db.session.scalars(select(Report).order_by(Report.id.desc()).limit(limit))
    for r in rows:
        click.echo(f"{r.id}\t{r.status}\t{r.scope_kind}:{r.scope_code}\t{r.period_kind}\t"
                   f"{r.starts_on}..{r.ends_on}\t{r.pages or ''}\t{r.file_path or r.error or ''}")
