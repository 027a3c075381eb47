"""Report periods: a day, an ISO week, a calendar month or custom dates, in the community's time zone.

A period is a run of whole local days; its instants are local midnights turned into UTC, so a
case opened at 00:30 on 1 October in Shanghai (16:30 UTC on 30 September) belongs to October.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("day", "week", "month", "custom")
PERIOD_NAMES = {"day": "日报", "week": "周报", "month": "月报", "custom": "专项报告"}
# How many periods the trend charts show, the reported one included.
TREND_LENGTH = {"day": 7, "week": 8, "month": 6, "custom": 4}
MAX_CUSTOM_DAYS = 366
EARLIEST = date(2000, 1, 1)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A period a user asked for that cannot be reported; the message says why."""


@dataclass(frozen=True)
class Period:
    """Local days ``start`` (included) to ``end`` (excluded)."""

    kind: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's first and first-after instants, in UTC."""
        return _midnight(self.start, tz), _midnight(self.end, tz)

    def previous(self) -> Period:
        """The period of the same kind and length just before this one."""
        if self.kind == "month":
            before = self.start - timedelta(days=1)
            return month_period(before.year, before.month)
        return Period(self.kind, self.start - timedelta(days=self.days), self.start)

    @property
    def label(self) -> str:
        """How the cover names it, e.g. 2026年10月 or 2026年第41周（10月5日—10月11日）."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "day":
            return _long_day(self.start)
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}年第{week}周（{_short_day(self.start)}—{_short_day(self.last_day)}）"
        return f"{_long_day(self.start)}—{_long_day(self.last_day)}"

    @property
    def short_label(self) -> str:
        """A chart axis label."""
        if self.kind == "month":
            return f"{self.start.year % 100:02d}年{self.start.month}月"
        if self.kind == "week":
            return f"第{self.start.isocalendar()[1]}周"
        if self.kind == "day":
            return f"{self.start.month}/{self.start.day}"
        return f"{self.start.month}/{self.start.day}起"

    @property
    def tag(self) -> str:
        """A file-name fragment: 2026-10, 2026-W41, 2026-10-05 or 2026-10-01_2026-10-15."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "day":
            return self.start.isoformat()
        return f"{self.start.isoformat()}_{self.last_day.isoformat()}"


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _long_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _short_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period("month", start, end)


def week_period(day: date) -> Period:
    """The ISO week (Monday to Sunday) holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=7))


def day_period(day: date) -> Period:
    return Period("day", day, day + timedelta(days=1))


def previous_month(today: date) -> Period:
    """The calendar month before the one holding ``today`` (what the monthly job reports)."""
    return month_period(today.year, today.month).previous()


def trend_periods(period: Period, count: int | None = None) -> list[Period]:
    """The reported period and the ones before it, oldest first."""
    periods = [period]
    for _ in range((count or TREND_LENGTH[period.kind]) - 1):
        periods.append(periods[-1].previous())
    return periods[::-1]


def _parse_date(text: str | None, what: str) -> date:
    if not text:
        raise PeriodError(f"give the {what} as YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def _parse_month(text: str | None) -> Period:
    found = _MONTH.match((text or "").strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise PeriodError(f"month {text!r} is not a month (YYYY-MM)")
    return month_period(int(found[1]), int(found[2]))


def _parse_week(text: str | None) -> Period:
    """An ISO week as 2026-W41, or any date inside it."""
    found = _WEEK.match((text or "").strip())
    if not found:
        return week_period(_parse_date(text, "week (YYYY-Www) or a day of it"))
    try:
        return week_period(date.fromisocalendar(int(found[1]), int(found[2]), 1))
    except ValueError:
        raise PeriodError(f"week {text!r} does not exist") from None


def parse_period(kind: str, value: str | None = None, start: str | None = None,
                 end: str | None = None, today: date | None = None) -> Period:
    """The period a user asked for; ``value`` is YYYY-MM-DD (day), YYYY-Www (week) or YYYY-MM
    (month); custom periods take ``start`` and ``end`` (both included).

    Raises PeriodError for an unknown kind, a malformed or impossible date, an end before the
    start, a custom period longer than 366 days, or a period that begins after ``today``.
    """
    if kind == "day":
        period = day_period(_parse_date(value, "day"))
    elif kind == "week":
        period = _parse_week(value)
    elif kind == "month":
        period = _parse_month(value)
    elif kind == "custom":
        first, last = _parse_date(start, "start date"), _parse_date(end, "end date")
        if last < first:
            raise PeriodError("the end date is before the start date")
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(f"a custom period is at most {MAX_CUSTOM_DAYS} days")
        period = Period("custom", first, last + timedelta(days=1))
    else:
        raise PeriodError(f"period must be one of {', '.join(PERIOD_KINDS)}")
    if period.start < EARLIEST:
        raise PeriodError(f"reports start in {EARLIEST.year}")
    if today is not None and period.start > today:
        raise PeriodError(f"the period {period.tag} has not begun")
    return period
