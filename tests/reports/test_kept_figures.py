"""Final figures kept with a report are reused by later reports' trends, not read again."""
from __future__ import annotations

from datetime import date

from models import transaction
from reports.builds import build_report, kept_figures, request_report
from reports.content import collect_report
from reports.indicators import FIGURES_VERSION
from reports.periods import parse_period, trend_periods
from reports.scopes import resolve_scope
from tests.reports.known_cases import SH, at, build_known_cases, local
from tests.reports.test_figures import JX01_OCTOBER, figures


def built(month: str):
    report = request_report(resolve_scope("grid", "JX-01"), parse_period("month", month), "cli")
    with at("2026-11-05 10:00"):
        return build_report(report.id)


def test_a_later_report_takes_the_kept_figures_of_earlier_periods(demo, data_dir):
    build_known_cases()
    september = built("2026-09")
    assert september.figures["version"] == FIGURES_VERSION
    assert (september.figures["opened"], september.figures["closure"]) == (1, [0, 1])
    assert built("2026-11").figures is None  # November had not ended: nothing final to keep

    with transaction():  # mark the kept figures so their reuse shows
        september.figures = {**september.figures, "opened": 99}
    scope, october = resolve_scope("grid", "JX-01"), parse_period("month", "2026-10")
    request = request_report(scope, october, "cli")
    kept = kept_figures(request, trend_periods(october)[:-1])
    assert list(kept) == [date(2026, 9, 1)]
    content = collect_report(scope, october, local("2026-11-05 10:00"), SH, kept=kept)
    assert content.trend[-2][1].opened == 99 and content.trend[-2][1].to_dispatch.text == "1.0 / 1.0"
    assert figures(content.totals) == JX01_OCTOBER  # the reported month itself is read from the events

    with transaction():
        september.figures = {**september.figures, "version": FIGURES_VERSION - 1}
    assert kept_figures(request, trend_periods(october)[:-1]) == {}  # other definitions: read again
