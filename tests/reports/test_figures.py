"""Every figure of the report, checked exactly against cases whose history is known.

The cases are in ``known_cases.py``; each expected number below is worked out by hand from it.
Times are Asia/Shanghai; C10 (00:30 on 1 October, still September in UTC) belongs to October
and C8 (00:30 on 1 November, still October in UTC) does not.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from reports.content import collect_report
from reports.indicators import Indicators
from reports.periods import parse_period
from reports.scopes import resolve_scope
from tests.reports.known_cases import build_known_cases, local

SH = ZoneInfo("Asia/Shanghai")
H = 3600


def figures(ind: Indicators) -> dict:
    """The indicators as plain numbers: counts, (numerator, denominator), durations in seconds."""
    out = {}
    for key in ("opened", "filed", "rejected", "auto_closed", "closed", "overdue", "escalated"):
        out[key] = getattr(ind, key)
    for key in ("closure", "on_time_closure", "on_time_disposal", "rework", "satisfaction"):
        ratio = getattr(ind, key)
        out[key] = (ratio.num, ratio.den)
    out["to_dispatch"] = ind.to_dispatch.seconds
    out["to_close"] = ind.to_close.seconds
    return out


def expected(opened=0, filed=0, rejected=0, auto_closed=0, closed=0, closure=(0, 0), on_time_closure=(0, 0),
             on_time_disposal=(0, 0), rework=(0, 0), overdue=0, escalated=0, to_dispatch=(), to_close=(),
             satisfaction=(0, 0)) -> dict:
    return dict(opened=opened, filed=filed, rejected=rejected, auto_closed=auto_closed, closed=closed,
                closure=closure, on_time_closure=on_time_closure, on_time_disposal=on_time_disposal,
                rework=rework, overdue=overdue, escalated=escalated,
                to_dispatch=tuple(float(s) for s in to_dispatch), to_close=tuple(float(s) for s in to_close),
                satisfaction=satisfaction)


JX01_OCTOBER = expected(
    opened=9, filed=7, rejected=1, auto_closed=1, closed=6, closure=(5, 7), on_time_closure=(4, 6),
    on_time_disposal=(4, 5), rework=(2, 6), overdue=3, escalated=2,
    to_dispatch=(1800, 2400, 3600, 3600, 3600, 5400),
    to_close=(8 * H, 9.5 * H, 34 * H, 54 * H, 97 * H, 99 * H), satisfaction=(4, 5))

JX01_BY_CATEGORY = {
    "manhole_tilt": expected(
        opened=5, filed=3, rejected=1, auto_closed=1, closed=2, closure=(2, 3), on_time_closure=(2, 2),
        on_time_disposal=(2, 2), rework=(0, 2), overdue=1, escalated=1, to_dispatch=(2400, 3600, 5400),
        to_close=(8 * H, 9.5 * H)),
    "repair": expected(
        opened=3, filed=3, closed=2, closure=(2, 3), on_time_closure=(1, 2), on_time_disposal=(1, 2),
        rework=(1, 2), overdue=1, escalated=1, to_dispatch=(1800, 3600), to_close=(34 * H, 99 * H),
        satisfaction=(2, 3)),
    "complaint": expected(
        opened=1, filed=1, closed=2, closure=(1, 1), on_time_closure=(1, 2), on_time_disposal=(1, 1),
        rework=(1, 2), overdue=1, to_dispatch=(3600,), to_close=(54 * H, 97 * H), satisfaction=(2, 2)),
}

JX01_BY_SOURCE = {
    "sensor": expected(
        opened=4, filed=3, auto_closed=1, closed=2, closure=(2, 3), on_time_closure=(2, 2),
        on_time_disposal=(2, 2), rework=(0, 2), overdue=1, escalated=1, to_dispatch=(2400, 3600, 5400),
        to_close=(8 * H, 9.5 * H)),
    "resident": expected(
        opened=3, filed=3, closed=3, closure=(2, 3), on_time_closure=(2, 3), on_time_disposal=(2, 2),
        rework=(1, 3), overdue=1, to_dispatch=(3600, 3600), to_close=(34 * H, 54 * H, 97 * H),
        satisfaction=(3, 3)),
    "hotline": expected(
        opened=1, filed=1, closed=1, closure=(1, 1), on_time_closure=(0, 1), on_time_disposal=(0, 1),
        rework=(1, 1), overdue=1, escalated=1, to_dispatch=(1800,), to_close=(99 * H,), satisfaction=(1, 2)),
    "grid_worker": expected(opened=1, rejected=1),
    "api": expected(),
}

JX02_OCTOBER = expected(
    opened=2, filed=2, closed=1, closure=(1, 2), on_time_closure=(1, 1), on_time_disposal=(1, 1),
    rework=(1, 1), overdue=1, to_dispatch=(1800, 3600), to_close=(33 * H,), satisfaction=(0, 2))

JINXIU_OCTOBER = expected(
    opened=11, filed=9, rejected=1, auto_closed=1, closed=7, closure=(6, 9), on_time_closure=(5, 7),
    on_time_disposal=(5, 6), rework=(3, 7), overdue=4, escalated=2,
    to_dispatch=(1800, 1800, 2400, 3600, 3600, 3600, 3600, 5400),
    to_close=(8 * H, 9.5 * H, 33 * H, 34 * H, 54 * H, 97 * H, 99 * H), satisfaction=(4, 7))

NO_CASES = expected()
JX01_SEPTEMBER = expected(opened=1, filed=1, closure=(0, 1), on_time_disposal=(1, 1), to_dispatch=(3600,))


def report(kind: str, code: str, period_kind: str, value: str, now: str = "2026-11-05 10:00"):
    return collect_report(resolve_scope(kind, code), parse_period(period_kind, value), local(now), SH)


@pytest.fixture
def known(demo):
    return build_known_cases()


def test_every_figure_of_a_grid_month(known):
    content = report("grid", "JX-01", "month", "2026-10")
    assert content.as_of == local("2026-11-01 00:00")
    assert figures(content.totals) == JX01_OCTOBER
    assert [b.key for b in content.by_category] == ["manhole_tilt", "repair", "complaint"]
    assert {b.key: figures(b.indicators) for b in content.by_category} == JX01_BY_CATEGORY
    assert [b.key for b in content.by_source] == ["sensor", "resident", "hotline", "grid_worker", "api"]
    assert {b.key: figures(b.indicators) for b in content.by_source} == JX01_BY_SOURCE
    assert content.ranking == []  # one grid: nothing to rank

    # Trend: May to October; only September and October have anything.
    assert [p.tag for p, _ in content.trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert [figures(ind) for _, ind in content.trend] == [NO_CASES] * 4 + [JX01_SEPTEMBER, JX01_OCTOBER]

    # The figures as printed.
    t = content.totals
    printed = {d: t.display(d) for d in ("opened", "filed", "rejected", "auto_closed", "closed", "closure",
                                          "on_time_closure", "on_time_disposal", "rework", "overdue",
                                          "escalated", "to_dispatch", "to_close", "satisfaction")}
    assert printed == {
        "opened": "9", "filed": "7", "rejected": "1", "auto_closed": "1", "closed": "6", "closure": "71.4%",
        "on_time_closure": "66.7%", "on_time_disposal": "80.0%", "rework": "33.3%", "overdue": "3",
        "escalated": "2", "to_dispatch": "0.9 / 1.5", "to_close": "50.3 / 99.0", "satisfaction": "80.0%",
    }
    assert t.fraction("closure") == "5/7" and t.fraction("opened") == ""


def test_the_table_of_overdue_and_reworked_cases(known):
    content = report("grid", "JX-01", "month", "2026-10")
    rows = [(r.ref, r.overdue_seconds, r.reworks, r.outcome, r.ended) for r in content.listed]
    assert rows == [
        (known["C6"].ref, 130 * H, 0, "在办", None),  # due 10-26 14:00, open at the end of October
        (known["C4"].ref, 51 * H, 1, "已结案", local("2026-10-16 12:00")),
        (known["C9"].ref, 25 * H, 0, "已结案", local("2026-10-02 11:00")),
        (known["C3"].ref, None, 1, "已结案", local("2026-10-10 14:00")),  # reworked, on time
    ]
    assert content.listed_total == 4
    assert {r.category for r in content.listed} == {"井盖倾斜", "报事报修", "投诉"}
    limited = collect_report(resolve_scope("grid", "JX-01"), parse_period("month", "2026-10"),
                             local("2026-11-05 10:00"), SH, list_limit=2)
    assert [r.ref for r in limited.listed] == [known["C6"].ref, known["C4"].ref] and limited.listed_total == 4


def test_a_community_adds_up_its_grids_and_ranks_them(known):
    content = report("community", "jinxiu", "month", "2026-10")
    assert [g.code for g in content.scope.grids] == ["JX-01", "JX-02", "JX-03"]
    assert figures(content.totals) == JINXIU_OCTOBER  # the case outside every grid (C14) is not in it
    ranked = [(r.rank, g.code, figures(r.indicators)) for r, g in content.ranking]
    assert ranked == [(1, "JX-02", JX02_OCTOBER), (2, "JX-01", JX01_OCTOBER), (3, "JX-03", NO_CASES)]
    assert content.totals.display("to_close") == "47.8 / 99.0"  # 1,204,200 s / 7 = 47.79 h

    street = report("street", "cuihu", "month", "2026-10")
    assert figures(street.totals) == JINXIU_OCTOBER  # the other community has no cases
    assert [g.code for _, g in street.ranking] == ["JX-02", "JX-01", "CY-01", "CY-02", "CY-03", "JX-03"]


def test_week_and_day_periods_in_local_time(known):
    week = report("grid", "JX-01", "week", "2026-W41")  # Monday 5 to Sunday 11 October
    assert figures(week.totals) == expected(
        opened=2, filed=2, closed=2, closure=(2, 2), on_time_closure=(2, 2), on_time_disposal=(2, 2),
        rework=(1, 2), to_dispatch=(3600, 3600), to_close=(34 * H, 54 * H), satisfaction=(2, 2))
    assert len(week.trend) == 8 and week.trend[-2][0].tag == "2026-W40"

    first_of_october = report("grid", "JX-01", "day", "2026-10-01")  # C10 opened at 00:30 local
    assert figures(first_of_october.totals) == expected(
        opened=1, filed=1, closed=1, closure=(1, 1), on_time_closure=(1, 1), on_time_disposal=(1, 1),
        rework=(0, 1), overdue=1, to_dispatch=(5400,), to_close=(9.5 * H,))  # C9 was due at 10:00


def test_a_running_period_counts_deadlines_only_up_to_now(known):
    # C7 (filed 31 October 23:45, dispatched 00:10 on 1 November) is due 2 November 23:30.
    before = report("grid", "JX-01", "month", "2026-11", now="2026-11-02 12:00")
    assert before.as_of == local("2026-11-02 12:00")
    assert figures(before.totals) == expected(opened=1, to_dispatch=(2400,))  # C8 opened; C7 dispatched
    after = report("grid", "JX-01", "month", "2026-11", now="2026-11-03 00:00")
    assert after.totals.overdue == 1
    assert [r.ref for r in after.listed] == [known["C7"].ref]
    assert after.listed[0].overdue_seconds == 0.5 * H


def test_an_empty_grid_prints_dashes_not_errors(demo):
    period = parse_period("custom", start="2026-10-01", end="2026-10-15")
    content = collect_report(resolve_scope("grid", "CY-03"), period, local("2026-11-05 10:00"), SH)
    assert figures(content.totals) == NO_CASES
    assert content.totals.display("closure") == "—" and content.totals.display("to_close") == "—"
    assert [p.tag for p, _ in content.trend][-2:] == ["2026-09-16_2026-09-30", "2026-10-01_2026-10-15"]
