"""The migration that gives task rows and events written before step kinds their kind: old
government-service cases then count in the reports like new ones."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import func, select, update

from extensions import db
from models import CaseEvent, Task, transaction
from tests.reports.test_figures import expected, figures, report
from tests.reports.test_step_kinds import GovStory

MIGRATION = Path(__file__).parents[2] / "migrations/versions/6c2e9d4b1a87_step_kinds_on_tasks_and_events.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("step_kinds_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_written_before_step_kinds_get_the_kind_of_their_step(demo):
    story = (GovStory("2026-08-03 09:00").accept("2026-08-03 09:30").handle("2026-08-03 15:00")
             .answer("2026-08-03 16:00"))
    kinds = dict(db.session.execute(select(Task.id, Task.step_kind).where(Task.case_id == story.case.id)).all())
    assert sorted(kinds.values()) == ["accept", "answer", "feedback", "handle"]
    figures_now = figures(report("grid", "JX-02", "month", "2026-08", now="2026-09-05 10:00").totals)
    assert figures_now["to_dispatch"] == (1800.0,) and figures_now["on_time_disposal"] == (1, 1)

    with transaction():  # as the rows were before the column existed
        db.session.execute(update(Task).values(step_kind=None))
        db.session.execute(update(CaseEvent).values(step_kind=None))
    assert figures(report("grid", "JX-02", "month", "2026-08", now="2026-09-05 10:00").totals)["to_dispatch"] == ()

    with transaction():
        assert load_migration().fill_step_kinds(db.session.connection()) == 4
    db.session.expire_all()
    assert dict(db.session.execute(select(Task.id, Task.step_kind).where(Task.case_id == story.case.id)).all()) == kinds
    untyped = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.task_id.is_not(None), CaseEvent.step_kind.is_(None)))
    assert untyped == 0
    assert figures(report("grid", "JX-02", "month", "2026-08", now="2026-09-05 10:00").totals) == figures_now
    # Still waiting for the rating at its deadline (8 August): overdue.
    assert figures_now == expected(opened=1, filed=1, closure=(0, 1), on_time_disposal=(1, 1), rework=(0, 1), overdue=1,
                                   to_dispatch=(1800,))
