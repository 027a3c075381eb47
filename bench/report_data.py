"""Realistic case histories for the report benchmark, written as the engine would write them.

Each case walks the grid_case process (accept, dispatch, dispose, verify, feedback for people's
reports, close) with rejections, auto-cleared alarms, reworks, late disposals (escalated at the
deadline) and cases still open at the end. Durations are random but seeded.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

# (category, disposal hours from bpmn/sla.dmn, weight)
CATEGORIES = [
    ("manhole_tilt", 24, 18), ("repair", 48, 22), ("complaint", 72, 10), ("garbage_bin_full", 72, 14),
    ("streetlight_lamp_fault", 24, 10), ("elevator_fault", 4, 6), ("fire_lane_blocked", 4, 6),
    ("group_renting", 24, 4), ("consultation", 48, 6), ("high_altitude_throwing", 8, 4),
]
SOURCES = [("sensor", 35), ("resident", 30), ("grid_worker", 20), ("hotline", 10), ("api", 5)]
SATISFACTION = [("satisfied", 70), ("basically_satisfied", 20), ("not_satisfied", 10)]


def _pick(rng: random.Random, table: list[tuple]) -> tuple:
    return rng.choices(table, weights=[row[-1] for row in table])[0]


class CaseStory:
    """One case's events [(at, kind, data)] up to ``now``, and where it stands then."""

    def __init__(self, rng: random.Random, case_id: int, grid_id: int, community_id: int,
                 opened: datetime, now: datetime):
        self.rng, self.case_id, self.grid_id, self.community_id = rng, case_id, grid_id, community_id
        self.category, self.hours, _ = _pick(rng, CATEGORIES)
        self.source = _pick(rng, SOURCES)[0]
        self.opened, self.now, self.t = opened, now, opened
        self.due = opened + timedelta(hours=self.hours)
        self.events: list[tuple[datetime, str, dict]] = []
        self.closed_at: datetime | None = None
        self.reworks = 0
        self.escalated = False
        self.status = self._walk()

    def actor(self, kind: str) -> str | None:
        return "timer" if kind == "escalated" else ("system" if kind in ("opened", "auto_closed") else None)

    @staticmethod
    def step_kind(kind: str, data: dict) -> str | None:
        """The step kind of a task's event: this story names its steps by their kinds."""
        return data.get("bpmn_id") if kind.startswith("task_") else None

    def _add(self, kind: str, **data) -> None:
        self.events.append((self.t, kind, data))

    def _wait(self, low: float, high: float) -> bool:
        """Move the clock on by U(low, high) minutes; False when that is past ``now``."""
        self.t += timedelta(minutes=self.rng.uniform(low, high))
        return self.t <= self.now

    def _task(self, bpmn_id: str, role: str = "dispatcher") -> None:
        self._add("task_created", bpmn_id=bpmn_id, role=role, grid_id=self.grid_id, department=None)

    def _done(self, bpmn_id: str, **data) -> None:
        self._add("task_completed", bpmn_id=bpmn_id, **data)

    def _end(self, outcome: str) -> str:
        self.closed_at = self.t
        self._add(outcome, outcome=outcome)
        return outcome

    def _walk(self) -> str:
        self._add("opened", category=self.category, severity="normal", source=self.source,
                  grid_id=self.grid_id, community_id=self.community_id)
        self._task("accept")
        if self.source == "sensor" and self.rng.random() < 0.04:
            if not self._wait(2, 30):
                return "pending_accept"
            self._add("message", message="alarm_cleared")
            return self._end("auto_closed")
        if not self._wait(3, 60):
            return "pending_accept"
        if self.rng.random() < 0.05:
            self._done("accept", accepted=False, accept_note="不属实")
            return self._end("rejected")
        self._done("accept", accepted=True, accept_note="")
        self._task("dispatch")
        if not self._wait(5, 120):
            return "pending_dispatch"
        self._done("dispatch", department="municipal", dispatch_note="请处置")
        feedback_reworks = 0
        while True:
            self._task("dispose", "grid_worker")
            finish = self.t + timedelta(minutes=self.rng.expovariate(1 / (0.35 * self.hours * 60)))
            if self.due <= min(finish, self.now):  # the SLA timer fires while disposal is open
                moment, self.t = self.t, max(self.t, self.due)
                self._add("escalated", bpmn_id="sla_timer", rework_count=self.reworks)
                self.escalated, self.t = True, moment
            if finish > self.now:
                return "disposing"
            self.t = finish
            self._done("dispose", dispose_result="resolved", dispose_note="已处置", photos=[])
            self._task("verify")
            if not self._wait(20, 180):
                return "verifying"
            passed = self.rng.random() > 0.08
            self._done("verify", verified=passed, verify_note="核查")
            if not passed:
                self.reworks += 1
                self._add("rework", bpmn_id="count_rework", rework_count=self.reworks)
                continue
            if self.source != "sensor":
                self._task("feedback", "reporter")
                if not self._wait(30, 600):
                    return "feedback"
                satisfaction = _pick(self.rng, SATISFACTION)[0]
                self._done("feedback", satisfaction=satisfaction, feedback_comment="")
                if satisfaction == "not_satisfied" and feedback_reworks < 1:
                    feedback_reworks += 1
                    self.reworks += 1
                    self._add("rework", bpmn_id="feedback_rework", rework_count=self.reworks)
                    continue
            self._task("close")
            if not self._wait(10, 120):
                return "closing"
            self._done("close", close_note="")
            return self._end("closed")


def case_row(story: CaseStory) -> tuple:
    """The cases row, columns as ``bench.report.CASE_COLUMNS``."""
    return (story.case_id, f"{story.opened:%y%m%d}{story.case_id:07d}", "grid_case", story.category, "normal",
            story.status, story.source, f"{story.category} {story.case_id}", "", story.community_id,
            story.grid_id, story.escalated, story.reworks, story.opened, story.due, story.closed_at, 1, "bench",
            "bench", "1", "")
