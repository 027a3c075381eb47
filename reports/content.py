"""Everything one report shows, gathered from the database for a scope and a period."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.catalogue import category_name
from handlers.vocabulary import FINAL_STATUSES, CaseStatus, Source
from reports.indicators import CaseFacts, Indicators, RankedGrid, bucket_by_period, measure, rank_grids
from reports.periods import Period, trend_periods
from reports.queries import load_case_facts
from reports.scopes import GridInfo, Scope

# A report is written in Chinese, in the vocabulary's words.
REPORT_LOCALE = "zh"
STILL_OPEN = "在办"


@dataclass(frozen=True)
class Breakdown:
    """The indicators of one category, source or grid."""

    key: str
    name: str
    indicators: Indicators


@dataclass(frozen=True)
class ListedCase:
    """A case of the table of overdue and reworked cases."""

    ref: str
    category: str
    source: str
    grid: str
    opened: datetime | None
    due_at: datetime | None
    ended: datetime | None
    outcome: str
    overdue_seconds: float | None  # None: not overdue
    reworks: int  # in the period


@dataclass(frozen=True)
class ReportContent:
    scope: Scope
    period: Period
    tz: ZoneInfo
    generated_at: datetime
    as_of: datetime
    totals: Indicators
    by_category: list[Breakdown]
    by_source: list[Breakdown]
    trend: list[tuple[Period, Indicators]]
    ranking: list[tuple[RankedGrid, GridInfo]]
    listed: list[ListedCase]
    listed_total: int


def _source_name(code: str) -> str:
    try:
        return Source(code).label_in(REPORT_LOCALE)
    except ValueError:  # a source this version does not know: shown as stored
        return code


def _outcome(case: CaseFacts) -> str | None:
    ended = case.ended
    if ended is None:
        return None
    return next(kind for kind in FINAL_STATUSES if getattr(case, kind) == ended)


def listed_cases(facts: list[CaseFacts], start: datetime, end: datetime, as_of: datetime,
                 grid_codes: dict[int, str]) -> list[ListedCase]:
    """The cases counted as overdue in the period, and those reworked in it; longest overdue first."""
    rows = []
    for case in facts:
        reworks = sum(1 for c in case.checks if c.kind == "rework" and start <= c.at < end)
        # What the report knows is what had happened by as_of.
        ended = case.ended if case.ended is not None and case.ended < as_of else None
        overdue = None
        if case.due_at is not None and start <= case.due_at < as_of and (ended is None or ended > case.due_at):
            overdue = ((ended or as_of) - case.due_at).total_seconds()
        if overdue is None and not reworks:
            continue
        rows.append(ListedCase(
            ref=case.ref, category=_category_name(case.category),
            source=_source_name(case.source), grid=grid_codes.get(case.grid_id, ""),
            opened=case.opened, due_at=case.due_at, ended=ended,
            outcome=CaseStatus(_outcome(case)).label_in(REPORT_LOCALE) if ended is not None else STILL_OPEN,
            overdue_seconds=overdue, reworks=reworks,
        ))
    rows.sort(key=lambda r: (-(r.overdue_seconds or -1), -r.reworks, r.ref))
    return rows


def _category_name(code: str) -> str:
    return category_name(code)


def _grouped(facts: list[CaseFacts], attribute: str) -> dict[str, list[CaseFacts]]:
    groups: dict[str, list[CaseFacts]] = defaultdict(list)
    for case in facts:
        groups[getattr(case, attribute)].append(case)
    return groups


def collect_report(scope: Scope, period: Period, now: datetime, tz: ZoneInfo, list_limit: int = 40,
                   kept: dict[date, Indicators] | None = None) -> ReportContent:
    """Read the scope's case events and compute every figure of the report of ``period``.

    ``kept``: final figures of earlier periods (by first day) from earlier reports of this scope;
    the trend takes them as they are, and events are read only from the earliest period
    without kept figures on."""
    periods = trend_periods(period)
    bounds = [p.bounds(tz) for p in periods]
    start, end = bounds[-1]
    as_of = min(end, now)
    kept = {day: figures for day, figures in (kept or {}).items() if day != period.start}
    first_read = next(i for i, p in enumerate(periods) if p.start not in kept)
    facts = load_case_facts(scope.grid_ids, bounds[first_read][0], end)

    buckets = bucket_by_period(facts, bounds[first_read:])
    trend = [(p, kept[p.start]) for p in periods[:first_read]]
    for p, bucket, (s, e) in zip(periods[first_read:], buckets, bounds[first_read:], strict=True):
        trend.append((p, kept.get(p.start) or measure(bucket, s, e, min(e, now))))
    totals = trend[-1][1]
    current = buckets[-1]  # the cases that can count in the reported period
    by_category = [Breakdown(code, _category_name(code), measure(group, start, end, as_of))
                   for code, group in _grouped(current, "category").items()]
    by_category = sorted((b for b in by_category if b.indicators.active),
                         key=lambda b: (-b.indicators.opened, -b.indicators.closed, b.key))
    sources = _grouped(current, "source")
    by_source = [Breakdown(code.value, code.label_in(REPORT_LOCALE), measure(sources.get(code, []), start, end, as_of))
                 for code in Source]

    ranking = []
    if len(scope.grids) > 1:
        per_grid = _grouped(current, "grid_id")
        grids = {g.id: g for g in scope.grids}
        ranked = rank_grids({g.id: measure(per_grid.get(g.id, []), start, end, as_of) for g in scope.grids},
                            {g.id: g.code for g in scope.grids})
        ranking = [(r, grids[r.grid_id]) for r in ranked]
    listed = listed_cases(current, start, end, as_of, {g.id: g.code for g in scope.grids})
    return ReportContent(
        scope=scope, period=period, tz=tz, generated_at=now, as_of=as_of, totals=totals,
        by_category=by_category, by_source=by_source, trend=trend, ranking=ranking,
        listed=listed[:list_limit], listed_total=len(listed),
    )
