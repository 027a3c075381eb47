"""The indicators of grid governance, defined once: here in code and, word for word, in the appendix.

Every figure is computed from case events (what happened and when), gathered per case into
``CaseFacts`` by ``reports.queries``. A period is [start, end) in UTC; ``as_of`` is the earlier of
its end and the moment the report is built, so a report of the running month does not count
deadlines that have not come yet.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from handlers.vocabulary import CHECKING_STEPS, StepKind

SATISFIED = ("satisfied", "basically_satisfied")
# Completions that put a case's work to the test: a check of the result (grid cases verify, the
# government service reviews the department's answer) or the resident's rating.
CHECKED_BY = frozenset({*CHECKING_STEPS, StepKind.FEEDBACK})


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    text: str

    @property
    def summary(self) -> str:
        """The definition up to its formula (the part before the first full-width colon)."""
        return self.text.split("：")[0]


# The order is the order of the indicator table. ``text`` is printed in the appendix.
DEFINITIONS: tuple[Definition, ...] = (
    Definition("opened", "案件数", "本期新上报的案件数：“案件上报”（opened）事件时间落在本期内的案件。"),
    Definition("filed", "立案数", "本期受理立案的案件数：“受理立案”任务以“立案＝是”完成、且完成时间在本期内的案件。"),
    Definition("rejected", "不予立案数", "本期“受理立案”任务以“立案＝否”完成的案件数（rejected 事件）。"),
    Definition("auto_closed", "告警自动消除数", "本期因设备告警消除而自动结束的案件数（auto_closed 事件）。"),
    Definition("closed", "结案数", "本期结案的案件数：“结案”（closed）事件时间在本期内的案件。"),
    Definition("closure", "结案率",
               "本期立案的案件中，至本期结束时已结案的比例：本期立案且已结案数 ÷ 立案数。"),
    Definition("on_time_closure", "按期结案率",
               "本期结案的案件中，结案时间不晚于案件处置时限（案件上报时按时限规则确定的截止时间）的比例："
               "按期结案数 ÷ 结案数。"),
    Definition("on_time_disposal", "按时处置率",
               "本期首次完成处置类任务（网格处置，或政务服务的部门办理）的案件中，首次处置完成时间不晚于处置时限的比例："
               "按时处置数 ÷ 首次处置数。"),
    Definition("rework", "返工率",
               "本期经核查（政务服务为答复审核）或回访的案件中，本期发生返工（核查、审核不通过或回访不满意退回处置）的比例："
               "返工案件数 ÷ 核查、审核、回访案件数。"),
    Definition("overdue", "超期数",
               "处置时限落在本期内（且早于报告生成时间）、到时限时仍未结束（结案、不予立案或自动消除）的案件数。"),
    Definition("escalated", "超时督办数", "本期处置超时、由时限定时器升级到督办的案件数（escalated 事件）。"),
    Definition("to_dispatch", "派遣用时（平均 / P90）",
               "本期交办处置的案件，从上报到首次交办（派遣完成；政务服务由路由表分派，受理后即交部门办理）的时长（小时）；"
               "P90 为最近秩法第 90 百分位数："
               "升序排列后第 ⌈0.9×n⌉ 个值。"),
    Definition("to_close", "结案用时（平均 / P90）",
               "本期结案的案件，从上报到结案的时长（小时），平均值与 P90 的算法同派遣用时。"),
    Definition("satisfaction", "满意率",
               "本期完成的回访评价中，评价为“满意”或“基本满意”的比例（一个案件多次回访时每次都计入）："
               "（满意 + 基本满意）÷ 回访评价数。"),
)
DEFINED = {d.key: d for d in DEFINITIONS}


@dataclass(frozen=True, slots=True)
class CheckEvent:
    """A checking step of a case: a verify, answer or feedback completion (named by its step
    kind), a rework or an escalation."""

    at: datetime
    kind: str  # verify | answer | feedback | rework | escalated
    satisfaction: str | None = None


@dataclass(slots=True)
class CaseFacts:
    """When each step of one case first happened, read from its events (None: not yet)."""

    id: int
    ref: str
    category: str
    source: str
    grid_id: int
    due_at: datetime | None
    opened: datetime | None
    filed: datetime | None = None
    rejected: datetime | None = None
    dispatched: datetime | None = None  # first handed over for handling
    disposed: datetime | None = None  # the first completion of a handling step
    closed: datetime | None = None
    auto_closed: datetime | None = None
    checks: list[CheckEvent] = field(default_factory=list)

    @property
    def ended(self) -> datetime | None:
        """When the case ended (closed, rejected or auto-closed), None while it runs."""
        ends = [t for t in (self.closed, self.rejected, self.auto_closed) if t is not None]
        return min(ends) if ends else None

    def span(self) -> tuple[datetime, datetime] | None:
        """The first and the last instant an indicator may look at (None: no instant at all)."""
        times = [t for t in (self.opened, self.filed, self.rejected, self.dispatched, self.disposed,
                             self.closed, self.auto_closed, self.due_at) if t is not None]
        times.extend(c.at for c in self.checks)
        return (min(times), max(times)) if times else None


@dataclass(frozen=True)
class Ratio:
    num: int
    den: int

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None

    @property
    def percent(self) -> str:
        """71.4% (one decimal, halves rounded up), or — when nothing was counted."""
        if not self.den:
            return "—"
        pct = (Decimal(self.num * 100) / Decimal(self.den)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return f"{pct}%"


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return str((Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.1"), ROUND_HALF_UP))


@dataclass(frozen=True)
class Durations:
    """Elapsed times in seconds: how many, their mean and p90, and the values when computed here
    (figures read back from an earlier report keep only the summary)."""

    n: int = 0
    mean: float | None = None
    p90: float | None = None
    seconds: tuple[float, ...] = ()

    @property
    def text(self) -> str:
        """Mean and p90 in hours, e.g. 0.9 / 1.5."""
        return f"{_hours(self.mean)} / {_hours(self.p90)}" if self.n else "—"

    @classmethod
    def of(cls, values: Iterable[float]) -> Durations:
        """The summary of these values; p90 by nearest rank, the ⌈0.9·n⌉-th smallest value."""
        ordered = tuple(sorted(values))
        if not ordered:
            return cls()
        return cls(len(ordered), sum(ordered) / len(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1], ordered)


@dataclass(frozen=True)
class Indicators:
    opened: int
    filed: int
    rejected: int
    auto_closed: int
    closed: int
    closure: Ratio
    on_time_closure: Ratio
    on_time_disposal: Ratio
    rework: Ratio
    overdue: int
    escalated: int
    to_dispatch: Durations
    to_close: Durations
    satisfaction: Ratio

    def display(self, key: str) -> str:
        """The figure of indicator ``key`` as the report prints it."""
        value = getattr(self, key)
        if isinstance(value, Ratio):
            return value.percent
        if isinstance(value, Durations):
            return value.text
        return str(value)

    def fraction(self, key: str) -> str:
        """The counts behind a rate, e.g. 5/7 ('' for counts and durations)."""
        value = getattr(self, key)
        return f"{value.num}/{value.den}" if isinstance(value, Ratio) else ""

    def to_plain(self) -> dict:
        """JSON-ready figures (rates as [num, den], durations as [n, mean, p90]), kept with a
        report so later reports can show this period in their trend without reading it again."""
        plain: dict = {"version": FIGURES_VERSION}
        for key, value in vars(self).items():
            if isinstance(value, Ratio):
                plain[key] = [value.num, value.den]
            elif isinstance(value, Durations):
                plain[key] = [value.n, value.mean, value.p90]
            else:
                plain[key] = value
        return plain

    @classmethod
    def from_plain(cls, plain: dict) -> Indicators | None:
        """Figures kept by ``to_plain``; None when they were computed under other definitions."""
        if not isinstance(plain, dict) or plain.get("version") != FIGURES_VERSION:
            return None
        values = {}
        for key, kind in _FIELD_KINDS.items():
            value = plain[key]
            values[key] = Ratio(*value) if kind is Ratio else Durations(*value) if kind is Durations else value
        return cls(**values)

    @property
    def active(self) -> bool:
        """Whether anything at all happened in the period."""
        return any((self.opened, self.filed, self.rejected, self.auto_closed, self.closed,
                    self.overdue, self.escalated, self.to_dispatch.n, self.rework.den,
                    self.satisfaction.den, self.on_time_disposal.den))


# Raise it whenever a definition above or ``measure`` changes: figures kept with earlier reports
# under another version are computed again instead of being reused.
FIGURES_VERSION = 2
_FIELD_KINDS = {"closure": Ratio, "on_time_closure": Ratio, "on_time_disposal": Ratio, "rework": Ratio,
                "satisfaction": Ratio, "to_dispatch": Durations, "to_close": Durations,
                **dict.fromkeys(("opened", "filed", "rejected", "auto_closed", "closed", "overdue", "escalated"), int)}


def measure(facts: Iterable[CaseFacts], start: datetime, end: datetime, as_of: datetime) -> Indicators:
    """Every indicator over [start, end) for these cases, as the definitions above say."""
    opened = filed = filed_closed = rejected = auto_closed = closed = closed_on_time = 0
    disposed = disposed_on_time = overdue = escalated = checked = reworked = ratings = satisfied = 0
    to_dispatch: list[float] = []
    to_close: list[float] = []
    # The comparisons are written out (no helper): this loop runs over every case of a report.
    for case in facts:
        due = case.due_at
        if case.opened is not None and start <= case.opened < end:
            opened += 1
        if case.rejected is not None and start <= case.rejected < end:
            rejected += 1
        if case.auto_closed is not None and start <= case.auto_closed < end:
            auto_closed += 1
        if case.filed is not None and start <= case.filed < end:
            filed += 1
            filed_closed += case.closed is not None and case.closed < end
        if case.closed is not None and start <= case.closed < end:
            closed += 1
            closed_on_time += due is not None and case.closed <= due
            if case.opened is not None:
                to_close.append((case.closed - case.opened).total_seconds())
        if case.disposed is not None and start <= case.disposed < end:
            disposed += 1
            disposed_on_time += due is not None and case.disposed <= due
        if case.dispatched is not None and start <= case.dispatched < end and case.opened is not None:
            to_dispatch.append((case.dispatched - case.opened).total_seconds())
        if due is not None and start <= due < as_of:
            ended = case.ended
            overdue += ended is None or ended > due
        if case.checks:
            kinds = set()
            for check in case.checks:
                if start <= check.at < end:
                    kinds.add(check.kind)
                    if check.kind == StepKind.FEEDBACK:
                        ratings += 1
                        satisfied += check.satisfaction in SATISFIED
            checked += not kinds.isdisjoint(CHECKED_BY)
            reworked += "rework" in kinds
            escalated += "escalated" in kinds
    return Indicators(
        opened=opened, filed=filed, rejected=rejected, auto_closed=auto_closed, closed=closed,
        closure=Ratio(filed_closed, filed), on_time_closure=Ratio(closed_on_time, closed),
        on_time_disposal=Ratio(disposed_on_time, disposed), rework=Ratio(reworked, checked),
        overdue=overdue, escalated=escalated, to_dispatch=Durations.of(to_dispatch),
        to_close=Durations.of(to_close), satisfaction=Ratio(satisfied, ratings),
    )


def bucket_by_period(facts: list[CaseFacts], bounds: list[tuple[datetime, datetime]]) -> list[list[CaseFacts]]:
    """For each of several consecutive periods, the cases that may count in it: those whose
    span of instants (``CaseFacts.span``) meets it. ``measure`` finds nothing in any other case,
    so a long trend costs about one pass over the cases."""
    starts = [b[0] for b in bounds]
    first, last_end, last = starts[0], bounds[-1][1], len(bounds) - 1
    buckets: list[list[CaseFacts]] = [[] for _ in bounds]
    for case in facts:
        span = case.span()
        if span is None or span[1] < first or span[0] >= last_end:
            continue
        low = 0 if span[0] < first else bisect_right(starts, span[0]) - 1
        high = last if span[1] >= last_end else bisect_right(starts, span[1]) - 1
        for index in range(low, high + 1):
            buckets[index].append(case)
    return buckets


@dataclass(frozen=True)
class RankedGrid:
    rank: int
    grid_id: int
    indicators: Indicators


def rank_grids(per_grid: dict[int, Indicators], codes: dict[int, str]) -> list[RankedGrid]:
    """Grids best first: by on-time closure rate, then closure rate (grids with no closed case
    after those with one), then fewer overdue cases, then grid code."""

    def key(grid_id: int):
        ind = per_grid[grid_id]
        on_time, closure = ind.on_time_closure.value, ind.closure.value
        return (on_time is None, -(on_time or 0.0), closure is None, -(closure or 0.0),
                ind.overdue, codes[grid_id])

    ordered = sorted(per_grid, key=key)
    return [RankedGrid(n, grid_id, per_grid[grid_id]) for n, grid_id in enumerate(ordered, 1)]


RANKING_RULE = ("网格排名依次按：按期结案率（高者在前，本期无结案的网格排在最后）、结案率（高者在前）、"
                "超期数（少者在前）、网格编码排序。")
