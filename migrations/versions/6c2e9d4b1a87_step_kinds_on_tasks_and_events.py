"""tasks and case events say what kind of step they are

Revision ID: 6c2e9d4b1a87
Revises: 1f0a2b3c4d5e
Create Date: 2026-12-01 23:00:00

Reports, the resident's timeline and the case page read a step's kind (accept, dispatch,
dispose, handle, answer, ...) from the process file's ``stepKind`` property, which new task rows
and events copy. Rows written before have none: this is the one place that maps the shipped
processes' step ids to their kinds, for those old rows.
"""
import sqlalchemy as sa
from alembic import op

revision = "6c2e9d4b1a87"
down_revision = "1f0a2b3c4d5e"
branch_labels = None
depends_on = None

# The user tasks of grid_case.bpmn and gov_service.bpmn before step kinds existed: each id
# was its kind.
SHIPPED_STEP_IDS = ("accept", "dispatch", "dispose", "verify", "feedback", "close", "handle",
                    "answer", "escalate")

TASKS = sa.table("tasks", sa.column("id", sa.Integer), sa.column("bpmn_id", sa.String),
                 sa.column("step_kind", sa.String))
EVENTS = sa.table("case_events", sa.column("task_id", sa.Integer), sa.column("step_kind", sa.String))


def fill_step_kinds(bind) -> int:
    """Give the task rows of the shipped steps, and their events, the kind of their step;
    rows that have one keep it. Returns how many task rows were filled."""
    filled = bind.execute(TASKS.update().where(TASKS.c.bpmn_id.in_(SHIPPED_STEP_IDS), TASKS.c.step_kind.is_(None))
                          .values(step_kind=TASKS.c.bpmn_id)).rowcount
    # Every event of a task (created, claimed, completed, cancelled) names its task row.
    of_task = (sa.select(TASKS.c.step_kind).where(TASKS.c.id == EVENTS.c.task_id)
               .scalar_subquery())
    bind.execute(EVENTS.update().where(EVENTS.c.task_id.is_not(None), EVENTS.c.step_kind.is_(None))
                 .values(step_kind=of_task))
    return filled


def upgrade():
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("step_kind", sa.String(16), nullable=True))
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("step_kind", sa.String(16), nullable=True))
    fill_step_kinds(op.get_bind())


def downgrade():
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("step_kind")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("step_kind")
