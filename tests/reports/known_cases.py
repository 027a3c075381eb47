"""A known set of cases, run through the real engine with time-machine placing every step in time.

All times are local (Asia/Shanghai). Deadlines come from bpmn/sla.dmn: manhole_tilt 24 h,
repair 48 h, complaint 72 h from the moment the case is opened. The figures these cases must
give for October 2026 are worked out by hand in ``test_figures.py``.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from models import Case
from tests.builders import IN_JX01, OUTSIDE, new_case, work
from workflows import deliver_message, fire_due_timers
from workflows.runtime import Actor

SH = ZoneInfo("Asia/Shanghai")
IN_JX02 = (30.275, 120.115)
WORKER = {IN_JX01: "gw01", IN_JX02: "gw02"}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@contextmanager
def at(text: str) -> Iterator[None]:
    with time_machine.travel(local(text), tick=False):
        yield


class Story:
    """One case told step by step: ``Story('2026-10-02 09:00', 'manhole_tilt', 'sensor')``."""

    def __init__(self, when: str, category: str, source: str, where=IN_JX01):
        self.worker = WORKER.get(where)
        with at(when):
            self.case: Case = new_case(category, at=where, source=source)

    def _do(self, when: str, bpmn_id: str, who: str, **data) -> Story:
        with at(when):
            self.case = work(self.case, bpmn_id, who, **data)
        return self

    def accept(self, when: str, accepted: bool = True) -> Story:
        return self._do(when, "accept", "dispatcher", accepted=accepted,
                        note="" if accepted else "不属实")

    def dispatch(self, when: str) -> Story:
        return self._do(when, "dispatch", "dispatcher", department="municipal",
                        handler_role="grid_worker", note="请处置")

    def dispose(self, when: str) -> Story:
        return self._do(when, "dispose", self.worker, result="resolved", note="已处置")

    def verify(self, when: str, passed: bool = True) -> Story:
        return self._do(when, "verify", "dispatcher", passed=passed, note="核查")

    def feedback(self, when: str, satisfaction: str) -> Story:
        return self._do(when, "feedback", "dispatcher", satisfaction=satisfaction)

    def close(self, when: str) -> Story:
        return self._do(when, "close", "dispatcher", note="结案")

    def fire_timers(self, when: str) -> Story:
        with at(when):
            assert fire_due_timers(self.case.id)
        return self

    def alarm_cleared(self, when: str) -> Story:
        with at(when):
            assert deliver_message(self.case.id, "alarm_cleared", {}, Actor(label="device:test"))
        return self


def build_known_cases() -> dict[str, Case]:
    """Thirteen cases in JX-01, two in JX-02 and one outside every grid; returns them by name."""
    s: dict[str, Story] = {}
    # C1: sensor, on time everywhere. Dispatch 40 min, closed after 8 h.
    s["C1"] = (Story("2026-10-02 09:00", "manhole_tilt", "sensor").accept("2026-10-02 09:20")
               .dispatch("2026-10-02 09:40").dispose("2026-10-02 15:00").verify("2026-10-02 16:00")
               .close("2026-10-02 17:00"))
    # C2: resident repair, satisfied. Dispatch 1 h, closed after 34 h (due 10-07 10:00).
    s["C2"] = (Story("2026-10-05 10:00", "repair", "resident").accept("2026-10-05 10:30")
               .dispatch("2026-10-05 11:00").dispose("2026-10-06 10:00").verify("2026-10-06 12:00")
               .feedback("2026-10-06 18:00", "satisfied").close("2026-10-06 20:00"))
    # C3: complaint with one rework after a failed check; basically satisfied; closed on time.
    s["C3"] = (Story("2026-10-08 08:00", "complaint", "resident").accept("2026-10-08 08:30")
               .dispatch("2026-10-08 09:00").dispose("2026-10-09 08:00")
               .verify("2026-10-09 10:00", passed=False).dispose("2026-10-10 08:00")
               .verify("2026-10-10 09:00").feedback("2026-10-10 12:00", "basically_satisfied")
               .close("2026-10-10 14:00"))
    # C4: hotline repair, escalated at its deadline (10-14 09:00), disposed late, the resident
    # is not satisfied (rework), then satisfied; closed late after 99 h. Dispatch 30 min.
    s["C4"] = (Story("2026-10-12 09:00", "repair", "hotline").accept("2026-10-12 09:10")
               .dispatch("2026-10-12 09:30").fire_timers("2026-10-14 09:05")
               .dispose("2026-10-15 09:00").verify("2026-10-15 10:00")
               .feedback("2026-10-15 12:00", "not_satisfied").dispose("2026-10-16 09:00")
               .verify("2026-10-16 10:00").feedback("2026-10-16 11:00", "satisfied")
               .close("2026-10-16 12:00"))
    # C5: grid worker's report, not accepted.
    s["C5"] = Story("2026-10-20 10:00", "manhole_tilt", "grid_worker").accept("2026-10-20 10:30", False)
    # C6: sensor, dispatched after 1 h, never disposed; escalated at 10-26 14:00; still open.
    s["C6"] = (Story("2026-10-25 14:00", "manhole_tilt", "sensor").accept("2026-10-25 14:30")
               .dispatch("2026-10-25 15:00").fire_timers("2026-10-26 14:05"))
    # C7: opened and filed on the last evening of October, dispatched in November.
    s["C7"] = (Story("2026-10-31 23:30", "repair", "resident").accept("2026-10-31 23:45")
               .dispatch("2026-11-01 00:10"))
    # C8: opened half an hour into November local time (still 31 October in UTC).
    s["C8"] = Story("2026-11-01 00:30", "repair", "resident")
    # C9: September complaint, due 10-01 10:00, checked and closed in October, late (97 h).
    s["C9"] = (Story("2026-09-28 10:00", "complaint", "resident").accept("2026-09-28 10:30")
               .dispatch("2026-09-28 11:00").dispose("2026-09-30 10:00").verify("2026-10-02 09:00")
               .feedback("2026-10-02 10:00", "satisfied").close("2026-10-02 11:00"))
    # C10: opened half an hour into October local time (30 September in UTC); 1.5 h to dispatch.
    s["C10"] = (Story("2026-10-01 00:30", "manhole_tilt", "sensor").accept("2026-10-01 01:00")
                .dispatch("2026-10-01 02:00").dispose("2026-10-01 08:00").verify("2026-10-01 09:00")
                .close("2026-10-01 10:00"))
    # C13: sensor alarm that cleared itself before anyone accepted it.
    s["C13"] = Story("2026-10-18 08:00", "manhole_tilt", "sensor").alarm_cleared("2026-10-18 08:20")
    # JX-02 (for the community report and the ranking).
    s["C11"] = (Story("2026-10-10 10:00", "repair", "resident", IN_JX02).accept("2026-10-10 10:10")
                .dispatch("2026-10-10 10:30").dispose("2026-10-11 10:00").verify("2026-10-11 11:00")
                .feedback("2026-10-11 14:00", "not_satisfied").dispose("2026-10-11 16:00")
                .verify("2026-10-11 17:00").feedback("2026-10-11 18:00", "not_satisfied")
                .close("2026-10-11 19:00"))
    s["C12"] = (Story("2026-10-15 10:00", "manhole_tilt", "sensor", IN_JX02).accept("2026-10-15 10:30")
                .dispatch("2026-10-15 11:00"))
    # Outside every grid: in no grid's report.
    s["C14"] = Story("2026-10-15 12:00", "repair", "resident", OUTSIDE)
    return {name: story.case for name, story in s.items()}
