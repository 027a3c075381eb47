"""Report periods: parsing what users type, local-day bounds in UTC, earlier periods; chart axes."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.charts import Series, bar_chart, nice_ceiling, rate_chart
from reports.periods import PeriodError, parse_period, previous_month, trend_periods

SH = ZoneInfo("Asia/Shanghai")


def test_a_month_is_its_local_days_in_utc():
    october = parse_period("month", "2026-10")
    assert (october.start, october.end, october.last_day) == (date(2026, 10, 1), date(2026, 11, 1), date(2026, 10, 31))
    assert october.bounds(SH) == (datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC))
    assert (october.label, october.tag, october.short_label) == ("2026年10月", "2026-10", "26年10月")


def test_weeks_days_and_custom_periods():
    week = parse_period("week", "2026-W41")
    assert (week.start, week.end) == (date(2026, 10, 5), date(2026, 10, 12))
    assert parse_period("week", "2026-10-08") == week  # any day of the week
    assert week.label == "2026年第41周（10月5日—10月11日）" and week.tag == "2026-W41"
    day = parse_period("day", "2026-10-01")
    assert (day.days, day.label, day.tag) == (1, "2026年10月1日", "2026-10-01")
    custom = parse_period("custom", start="2026-10-01", end="2026-10-15")
    assert (custom.days, custom.tag) == (15, "2026-10-01_2026-10-15")
    assert custom.previous() == parse_period("custom", start="2026-09-16", end="2026-09-30")


def test_earlier_periods_for_the_trend():
    assert [p.tag for p in trend_periods(parse_period("month", "2026-02"))] == [
        "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert [p.tag for p in trend_periods(parse_period("week", "2026-W02"), 3)] == ["2025-W52", "2026-W01", "2026-W02"]
    assert len(trend_periods(parse_period("day", "2026-03-01"))) == 7
    assert previous_month(date(2026, 1, 1)).tag == "2025-12"


@pytest.mark.parametrize(("args", "message"), [
    (("month", "2026-13"), "not a month"),
    (("month", "October"), "not a month"),
    (("month", None), "not a month"),
    (("week", "2026-W54"), "does not exist"),
    (("day", "2026-02-30"), "not a date"),
    (("day", ""), "give the day"),
    (("year", "2026"), "period must be one of"),
    (("custom", None, "2026-10-15", "2026-10-01"), "before the start"),
    (("custom", None, "2025-01-01", "2026-01-02"), "at most 366 days"),
    (("custom", None, "2026-10-01", None), "give the end date"),
    (("month", "1999-12"), "reports start in 2000"),
])
def test_what_cannot_be_reported_says_why(args, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(*args)


def test_a_period_that_has_not_begun_is_refused():
    assert parse_period("month", "2026-11", today=date(2026, 11, 1)).tag == "2026-11"
    with pytest.raises(PeriodError, match="has not begun"):
        parse_period("month", "2026-12", today=date(2026, 11, 30))


def test_chart_axes_and_labels():
    assert nice_ceiling(0) == (1.0, 1.0)
    assert nice_ceiling(9) == (10, 2)
    assert nice_ceiling(4873) == (5000, 1000)
    svg = bar_chart("案件<趋势>", ["9月", "10月"], [Series("案件数", "#000", [3, 9])], "WenQuanYi Micro Hei")
    assert 'font-family="WenQuanYi Micro Hei"' in svg and "案件&lt;趋势&gt;" in svg and ">9<" in svg
    line = rate_chart("质量", ["a", "b", "c"], [Series("结案率", "#000", [0.5, None, 1.0])], "F")
    assert "polyline" not in line  # a gap on each side of the missing value: no line to draw
    assert line.count("<circle") == 2
