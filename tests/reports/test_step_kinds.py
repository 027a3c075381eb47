"""The reports read what a step means (its step kind), not its id: a government-service case,
whose steps are ``accept``, ``handle`` and ``answer``, counts in dispatch time, on-time disposal
and rework like a grid case does."""
from __future__ import annotations

from tests.builders import work
from tests.reports.known_cases import IN_JX02, Story, at, local
from tests.reports.test_figures import H, expected, figures, report


class GovStory(Story):
    """A government-service request told step by step (its own process's steps)."""

    def __init__(self, when: str):
        super().__init__(when, "government_service", "resident", IN_JX02)

    def _gov(self, when: str, step: str, who: str, **data) -> GovStory:
        with at(when):
            self.case = work(self.case, step, who, **data)
        return self

    def handle(self, when: str) -> GovStory:
        return self._gov(when, "handle", "dept_government", result="resolved", note="已办理")

    def answer(self, when: str, passed: bool = True) -> GovStory:
        # The answer step's own form: the public answer when it is sent, a remark when it goes back.
        return self._gov(when, "answer", "dispatcher", passed=passed, answer="您的申请已办结。",
                         note="请补充办理结果")


def test_a_government_service_case_counts_in_dispatch_time_disposal_and_rework(demo):
    # G1: accepted after 30 min (the routing table chose the department: handed over then),
    # handled on time, the answer sent back once (rework), handled again, answered, rated.
    g1 = (GovStory("2026-08-03 09:00").accept("2026-08-03 09:30").handle("2026-08-03 15:00")
          .answer("2026-08-03 16:00", passed=False).handle("2026-08-04 10:00").answer("2026-08-04 11:00")
          .feedback("2026-08-04 12:00", "satisfied"))
    # G2: accepted after 1 h, handled six days later (past its 120 h deadline), answered, no rework.
    g2 = (GovStory("2026-08-10 09:00").accept("2026-08-10 10:00").handle("2026-08-16 10:00")
          .answer("2026-08-16 11:00").feedback("2026-08-16 12:00", "basically_satisfied"))
    assert local("2026-08-03 15:00") <= g1.case.due_at and local("2026-08-16 10:00") > g2.case.due_at
    assert g1.case.status == g2.case.status == "closed"

    content = report("grid", "JX-02", "month", "2026-08", now="2026-09-05 10:00")
    assert figures(content.totals) == expected(
        opened=2, filed=2, closed=2, closure=(2, 2), on_time_closure=(1, 2),
        on_time_disposal=(1, 2), rework=(1, 2), overdue=1,
        to_dispatch=(1800, 3600), to_close=(27 * H, 147 * H), satisfaction=(2, 2))
    assert content.totals.display("to_dispatch") == "0.8 / 1.0"
    assert [r.ref for r in content.listed] == [g2.case.ref, g1.case.ref]  # overdue first, then reworked
