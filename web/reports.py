"""/reports: supervisors pick a grid, community or street and a period, build a PDF (RQ job),
follow its progress and download it and earlier ones."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from extensions import db
from handlers.scopes import grids_of_unit
from models import Report
from reports.builds import download_name, local_today, report_file, request_report, visible_reports
from reports.jobs import ReportQueueUnavailable, enqueue_build, job_progress
from reports.periods import PeriodError, parse_period, previous_month
from reports.scopes import ScopeNotFound, may_report_on, reportable_scopes, resolve_scope
from web.access import caller_scope, requires
from web.errors import error_response

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")
DATE = [Optional(), Length(max=10)]


class ReportForm(FlaskForm):
    scope = SelectField(_l("Grid, community or street"), validators=[DataRequired()])
    period = SelectField(_l("Period"), choices=[
        ("month", _l("Monthly")), ("week", _l("Weekly")), ("day", _l("Daily")), ("custom", _l("Custom dates")),
    ], validators=[DataRequired()])
    month = StringField(_l("Month"), DATE)
    week = StringField(_l("Week"), DATE)
    day = StringField(_l("Day"), DATE)
    start = StringField(_l("From"), DATE)
    end = StringField(_l("To (included)"), DATE)


def _form() -> ReportForm:
    form = ReportForm()
    kind_names = {"street": _("Street"), "community": _("Community"), "grid": _("Grid")}
    form.scope.choices = [(f"{kind}:{code}", f"{kind_names[kind]} · {name} ({code})")
                          for kind, code, name in reportable_scopes(current_user)]
    return form


def _page(form: ReportForm, status: int = 200):
    return render_template("reports/index.html", form=form, reports=visible_reports(current_user),
                           today=local_today()), status


def _visible(report_id: int) -> Report:
    """A report whose grids are all in the caller's scope (``handlers.scopes``), else 404."""
    report = db.session.get(Report, report_id)
    if report is None or not caller_scope().covers_grids(grids_of_unit(report.scope_kind, report.scope_code)):
        abort(404)
    return report


@reports_bp.get("")
@login_required
@requires("reports.view")
def index():
    form = _form()
    today = local_today()
    # Start from what is asked for most: last month's report.
    form.month.data = previous_month(today).tag
    form.week.data = f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"
    form.day.data = form.start.data = form.end.data = today.isoformat()
    return _page(form)


@reports_bp.post("")
@login_required
@requires("reports.view")
def build():
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 400)
    kind = form.period.data
    value = {"month": form.month.data, "week": form.week.data, "day": form.day.data}.get(kind)
    try:
        period = parse_period(kind, value, form.start.data, form.end.data, today=local_today())
    except PeriodError as exc:
        form.period.errors.append(str(exc))
        return _page(form, 400)
    scope_kind, _sep, code = form.scope.data.partition(":")
    try:
        scope = resolve_scope(scope_kind, code)
    except ScopeNotFound as exc:
        form.scope.errors.append(str(exc))
        return _page(form, 400)
    if not may_report_on(current_user, scope):
        abort(403)
    report = request_report(scope, period, "web", current_user)
    try:
        enqueue_build(report)
    except ReportQueueUnavailable as exc:
        flash(str(exc))
        return _page(form, 503)
    flash(_("The report of %(scope)s, %(period)s is being built.", scope=scope.name, period=period.label))
    return redirect(url_for("reports.index"), 303)


@reports_bp.get("/<int:report_id>/status")
@login_required
@requires("reports.view")
def status(report_id: int):
    report = _visible(report_id)
    return jsonify({
        "id": report.id, **job_progress(report), "pages": report.pages, "error": report.error,
        "download": url_for("reports.download", report_id=report.id) if report.status == "done" else None,
    })


@reports_bp.get("/<int:report_id>/download")
@login_required
@requires("reports.view")
def download(report_id: int):
    report = _visible(report_id)
    if report.status != "done":
        return error_response(409, "not_built", f"the report is {report.status}, not built yet")
    path = report_file(report)
    if path is None:
        return error_response(404, "file_missing", "the report's file is no longer kept; build it again")
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=download_name(report), max_age=0)
